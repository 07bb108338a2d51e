# Extra reference values for the estimation core (R survey). Run: Rscript estimation_extra.R
# Writes estimation_extra.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, call, est, se, extra = list()) {
  cases[[length(cases) + 1]] <<- c(list(id = id, call = call, estimate = unname(as.numeric(est)), se = unname(as.numeric(se)), names = names(est)), extra)
}
el <- dat("election_pps")
d <- svydesign(id = ~1, fpc = ~p, data = el, pps = "overton")
m <- svytotal(~Bush + Kerry, d); add("pps_overton_total", "overton", coef(m), SE(m))
jp <- as.matrix(read.csv(file.path(here, "election_jointprob.csv")))
d <- svydesign(id = ~1, fpc = ~p, data = el, pps = ppsmat(jp), variance = "YG")
m <- svytotal(~Bush + Kerry, d); add("pps_yg_total", "YG", coef(m), SE(m))
# two-stage with fpc as fractions and probabilities per stage
c2 <- dat("apiclus2")
c2$f1 <- 40 / c2$fpc1; c2$f2 <- pmin(1, c2$fpc2^-1 * ave(c2$snum, c2$dnum, FUN = length))
c2$p1 <- 40 / 757; c2$p2 <- c2$f2
d <- svydesign(id = ~dnum + snum, fpc = ~f1 + f2, probs = ~p1 + p2, data = c2)
m <- svymean(~api00 + api99, d); add("clus2_fractions_mean", "fractions", coef(m), SE(m))
# stratified two-stage (strata at stage one, clusters nested)
st <- dat("apistrat"); st$cl <- st$cds
m <- svyby(~api00, ~awards, svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st), svytotal, deff = TRUE)
add("strat_by_total_deff", "by total deff", setNames(m$api00, m$awards), m$se, list(deff = unname(m$DEff.api00)))
dsr <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
m <- svyratio(~api00, ~api99, dsr, deff = TRUE); add("strat_ratio_deff", "ratio deff", c(ratio = coef(m)), SE(m), list(deff = unname(as.numeric(deff(m)))))
q <- svyby(~api00, ~stype, dsr, svyquantile, quantiles = 0.5, ci = TRUE, keep.var = TRUE)
add("strat_by_median", "by quantile", setNames(q$api00, q$stype), q$se.api00)
cl1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = dat("apiclus1"))
m <- svymean(~api00, cl1); ci <- confint(m, df = 5)
add("clus1_mean_t5", "confint df=5", coef(m), SE(m), list(ci_low = ci[1], ci_high = ci[2]))
writeLines(toJSON(cases, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "estimation_extra.json"))
