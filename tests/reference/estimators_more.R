# svyvar, deff="replace", Rao-Scott saddlepoint p-values, withReplicates (R survey 4.1).
# Run: Rscript estimators_more.R -> estimators_more.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, est, se, extra = list()) {
  cases[[length(cases) + 1]] <<- c(list(id = id, names = names(est), estimate = unname(as.numeric(est)),
                                        se = unname(as.numeric(se))), extra)
}
st <- dat("apistrat")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
cl1 <- dat("apiclus1")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
# svyvar
v <- svyvar(~api00, dclus1); add("var_clus1", coef(v), SE(v))
v <- svyvar(~api00 + enroll, dstrat); add("var_strat2", diag(as.matrix(v)), sqrt(diag(vcov(v))[c(1, 4)]))
b <- svyby(~api00, ~stype, dclus1, svyvar); add("var_by_clus1", coef(b), SE(b))
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
v <- svyvar(~api00, rclus1); add("var_jk1", as.numeric(v), sqrt(as.numeric(attr(v, "var"))))
b <- svyby(~api00, ~stype, rclus1, svyvar); add("var_by_jk1", coef(b), SE(b))
# deff = "replace"
m <- svymean(~api00 + enroll, dclus1, deff = "replace"); add("deffr_mean", coef(m), SE(m), list(deff = unname(deff(m))))
m <- svytotal(~enroll, dstrat, deff = "replace"); add("deffr_total", coef(m), SE(m), list(deff = unname(deff(m))))
m <- svymean(~api00, dstrat, deff = TRUE); add("deff_mean_strat", coef(m), SE(m), list(deff = unname(deff(m))))
b <- svyby(~api00, ~stype, dclus1, svymean, deff = "replace")
add("deffr_by_mean", coef(b), SE(b), list(deff = unname(b$DEff.api00)))
# Rao-Scott saddlepoint. R's saddle() finds its root to 1e-8; the reference is the same function
# with the root found to 1e-14 (and R's default value beside it).
chi <- function(design, f) svychisq(f, design, statistic = "saddlepoint")
add_chi <- function(id, design, f) {
  r <- chi(design, f)
  cases[[length(cases) + 1]] <<- list(id = id, statistic = unname(r$statistic), p_default = unname(r$p.value))
}
add_chi("saddle_strat", dstrat, ~stype + sch.wide)
add_chi("saddle_clus1", dclus1, ~awards + stype)
add_chi("saddle_jk1", rclus1, ~awards + stype)
s2 <- deparse(survey:::saddle)
s2 <- eval(parse(text = gsub("tol = 1e-08", "tol = 1e-14", s2)))
environment(s2) <- asNamespace("survey")
assignInNamespace("saddle", s2, "survey")
for (i in seq_along(cases)) if (grepl("^saddle", cases[[i]]$id)) {
  d <- switch(cases[[i]]$id, saddle_strat = dstrat, saddle_clus1 = dclus1, saddle_jk1 = rclus1)
  f <- switch(cases[[i]]$id, saddle_strat = ~stype + sch.wide, ~awards + stype)
  cases[[i]]$p_value <- unname(chi(d, f)$p.value)
}
# withReplicates
wr <- withReplicates(rclus1, function(w, data) sum(w * data$api00) / sum(w))
add("with_reps_mean", c(theta = coef(wr)), SE(wr))
wr <- withReplicates(rclus1, function(w, data) c(r = sum(w * data$api00) / sum(w * data$api99),
                                                 d = sum(w * data$api00) / sum(w) - sum(w * data$api99) / sum(w)))
add("with_reps_two", coef(wr), SE(wr))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "estimators_more.json"))
cat("wrote", length(cases), "cases\n")
