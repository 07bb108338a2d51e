# Covariances across domains and contrasts (R survey svyby(covmat=TRUE), vcov, svycontrast).
# Run: Rscript contrasts.R  -> contrasts.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add_cov <- function(id, x) {
  v <- as.matrix(vcov(x))
  cases[[length(cases) + 1]] <<- list(id = id, names = names(coef(x)), estimate = unname(coef(x)),
                                      cov = unname(v))
}
add_con <- function(id, x) {
  est <- if (is.list(x) && !is.null(x$nlcon)) x$nlcon else if (is.list(x) && !is.null(x$contrast)) x$contrast else x
  cases[[length(cases) + 1]] <<- list(id = id, names = names(est), estimate = unname(as.numeric(est)),
                                      se = unname(sqrt(diag(as.matrix(attr(est, "var"))))))
}
cl1 <- dat("apiclus1")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
b <- svyby(~api00, ~stype, dclus1, svymean, covmat = TRUE)
add_cov("clus1_by_mean", b)
add_con("clus1_by_mean_diff", svycontrast(b, c(E = 1, M = -1)))
add_con("clus1_by_mean_two", svycontrast(b, list(avg = c(E = 0.5, H = 0.25, M = 0.25), diff = c(H = 1, M = -1))))
add_con("clus1_by_mean_ratio", svycontrast(b, quote(E / M)))
add_con("clus1_by_mean_log", svycontrast(b, quote(log(H) - log(E) + exp(M / 1000))))
bt <- svyby(~api00 + api99, ~stype, dclus1, svytotal, covmat = TRUE)
add_cov("clus1_by_total2", bt)
m <- svymean(~api00 + enroll, dclus1)
add_cov("clus1_mean2", m)
add_con("clus1_mean2_diff", svycontrast(m, c(api00 = 1, enroll = -1)))
r <- svyby(~api00, ~stype, dclus1, svyratio, denominator = ~api99, covmat = TRUE)
add_cov("clus1_by_ratio", r)
p <- svyby(~awards, ~stype, dclus1, svymean, covmat = TRUE)
add_cov("clus1_by_prop", p)
# calibrated design: R's svyby(covmat=TRUE) stops on calibrated designs (their domain
# influence functions are non-zero outside the domain); the reference is R's variance function
# (svyrecvar, which residualises on the calibration) applied to the domain scores as columns.
dcal <- calibrate(dclus1, ~stype + api99, c(6194, 755, 1018, 3914069))
domain_cov <- function(id, design, y, by, stat) {
  v <- model.frame(design); w <- weights(design)
  lev <- sort(unique(v[[by]])); est <- numeric(0); X <- NULL
  for (l in lev) {
    ind <- as.numeric(v[[by]] == l)
    if (stat == "mean") {
      m <- sum(w * ind * v[[y]]) / sum(w * ind); x <- ind * (v[[y]] - m) * w / sum(w * ind)
    } else {
      m <- sum(w * ind * v[[y]]); x <- ind * v[[y]] * w
    }
    est <- c(est, m); X <- cbind(X, x)
  }
  V <- svyrecvar(X, design$cluster, design$strata, design$fpc, postStrata = design$postStrata)
  cases[[length(cases) + 1]] <<- list(id = id, names = as.character(lev), estimate = est, cov = unname(V),
                                      note = "svyrecvar of the domain scores on the whole calibrated design")
}
domain_cov("cal_by_mean", dcal, "api00", "stype", "mean")
domain_cov("cal_by_total", dcal, "enroll", "sch.wide", "total")
# replicate designs
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
rb <- svyby(~api00, ~stype, rclus1, svymean, covmat = TRUE, return.replicates = TRUE)
add_cov("jk1_by_mean", rb)
rb0 <- svyby(~api00, ~stype, rclus1, svymean, covmat = TRUE)
add_con("jk1_by_mean_diff", svycontrast(rb0, c(E = 1, M = -1)))
add_con("jk1_by_mean_ratio", svycontrast(rb, quote(E / M)))
st <- dat("apistrat")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
rstrat <- as.svrepdesign(dstrat, type = "JKn")
add_cov("jkn_by_total", svyby(~enroll, ~awards, rstrat, svytotal, covmat = TRUE))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"), file.path(here, "contrasts.json"))
cat("wrote", length(cases), "cases\n")
