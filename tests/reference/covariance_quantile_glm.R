# Covariance matrices of quantiles, population variances and GLM coefficients, and contrasts of
# GLM coefficients (R survey: vcov(svyquantile), withReplicates, vcov(svyvar), svyby(svyvar,
# covmat=TRUE) on replicates, vcov(svyglm), svycontrast on svyglm).
# R's vcov of a svyquantile result is diagonal with NA off the diagonal (linearised and
# replicate designs alike); the full replicate covariance of several quantiles comes from
# withReplicates with R's own quantile rules (svyquantile(return.replicates=TRUE) and
# svyby(svyquantile, covmat=TRUE) fail in survey 4.1).
# Run: Rscript covariance_quantile_glm.R -> covariance_quantile_glm.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add_cov <- function(id, est, v) {
  v <- as.matrix(v)
  cases[[length(cases) + 1]] <<- list(id = id, names = names(est), estimate = unname(as.numeric(est)),
                                      cov = unname(ifelse(is.na(v), NaN, v)))
}
add_con <- function(id, x) {
  est <- if (is.list(x) && !is.null(x$nlcon)) x$nlcon else x
  cases[[length(cases) + 1]] <<- list(id = id, names = names(est), estimate = unname(as.numeric(est)),
                                      se = unname(sqrt(diag(as.matrix(attr(est, "var"))))))
}
cl1 <- dat("apiclus1")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
probs <- c(0.25, 0.5)

# -- quantiles -------------------------------------------------------------------------------
q <- svyquantile(~api00 + api99, dclus1, probs)
add_cov("quantile_woodruff", coef(q), vcov(q))
q <- svyquantile(~api00 + api99, dclus1, probs, qrule = "hf7", interval.type = "xlogit")
add_cov("quantile_woodruff_hf7_xlogit", coef(q), vcov(q))
q <- suppressWarnings(svyquantile(~api00 + api99, rclus1, probs, interval.type = "quantile"))
add_cov("quantile_rep_svyquantile", coef(q), vcov(q))
q <- svyquantile(~api00 + api99, rclus1, probs)  # Woodruff interval on a replicate design
add_cov("quantile_rep_woodruff", coef(q), vcov(q))
rep_q <- function(rule) {
  f <- get(paste0("qrule_", rule), envir = asNamespace("survey"))
  function(w, data) c(f(data$api00, w, 0.25), f(data$api00, w, 0.5), f(data$api99, w, 0.25), f(data$api99, w, 0.5))
}
for (rule in c("math", "hf7")) {
  wr <- withReplicates(rclus1, rep_q(rule))
  names(wr) <- c("api00:0.25", "api00:0.5", "api99:0.25", "api99:0.5")
  add_cov(paste0("quantile_rep_full_", rule), coef(wr), vcov(wr))
}
# domains: each domain's quantile with weights zero outside it
types <- sort(unique(cl1$stype))
wr <- withReplicates(rclus1, function(w, data) {
  unlist(lapply(types, function(s) {
    ws <- w * (data$stype == s)
    sapply(probs, function(p) survey:::qrule_math(data$api00, ws, p))
  }))
})
est <- coef(wr); names(est) <- paste0(rep(types, each = 2), ":api00:", probs)
add_cov("quantile_rep_by_full", est, vcov(wr))
b <- suppressWarnings(svyby(~api00, ~stype, rclus1, svyquantile, quantiles = probs, interval.type = "quantile"))
cases[[length(cases) + 1]] <- list(id = "quantile_rep_by_svyby", names = names(coef(b)),
                                   estimate = unname(coef(b)), se = unname(SE(b)))

# -- population variances (svyvar): the covariance of the variances, cells (1, 4) of R's vcov --
st <- dat("apistrat")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
v <- svyvar(~api00 + enroll, dstrat)
add_cov("var_strat2", diag(as.matrix(v)), vcov(v)[c(1, 4), c(1, 4)])
v <- svyvar(~api00 + api99, rclus1)
add_cov("var_jk1_2", diag(as.matrix(v)), vcov(v)[c(1, 4), c(1, 4)])
b <- svyby(~api00, ~stype, rclus1, svyvar, covmat = TRUE)
add_cov("var_jk1_by", coef(b), vcov(b))

# -- GLMs --------------------------------------------------------------------------------------
g <- svyglm(api00 ~ ell + meals, dclus1)
add_cov("glm_taylor", coef(g), vcov(g))
add_con("glm_taylor_diff", svycontrast(g, c(ell = 1, meals = -1)))
add_con("glm_taylor_two", svycontrast(g, list(a = c(0, 1, -1), b = c(1, 10, 20))))
add_con("glm_taylor_ratio", svycontrast(g, quote(ell / meals)))
gb <- svyglm(I(sch.wide == "Yes") ~ ell + stype, dstrat, family = quasibinomial())
add_cov("glm_binomial_strat", coef(gb), vcov(gb))
add_con("glm_binomial_strat_or", svycontrast(gb, quote(exp(stypeH - stypeM))))
gr <- svyglm(api00 ~ ell + meals, rclus1, return.replicates = TRUE)
add_cov("glm_rep", coef(gr), vcov(gr))
add_con("glm_rep_ratio", svycontrast(gr, quote(ell / meals)))
# a linear contrast of replicate-design coefficients: R's svycontrast.svrepglm fails on it in
# survey 4.1 (crossprod of non-conformable matrices); L V L' with R's vcov is what it returns
L <- rbind(c(0, 1, -1))
v <- L %*% vcov(gr) %*% t(L)
cases[[length(cases) + 1]] <- list(id = "glm_rep_diff", names = "contrast", estimate = as.numeric(L %*% coef(gr)),
                                   se = sqrt(as.numeric(v)))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), file.path(here, "covariance_quantile_glm.json"))
cat("wrote", length(cases), "cases\n")
