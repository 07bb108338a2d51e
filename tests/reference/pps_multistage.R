# Multi-stage PPS without replacement with Brewer's approximation (R survey: svydesign(pps="brewer")
# with several stages; fpc holds each stage's inclusion probabilities). Run: Rscript pps_multistage.R
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, x) {
  cases[[length(cases) + 1]] <<- list(id = id, names = names(coef(x)), estimate = unname(coef(x)),
                                      se = unname(SE(x)))
}
c2 <- dat("apiclus2")
# stage 1: districts with probability proportional to a size (made from enrollment), stage 2:
# schools by SRS within districts (fraction = sampled / fpc2)
size <- ave(c2$api99, c2$dnum, FUN = sum)
c2$pi1 <- pmin(0.95, 40 * size / 1.6e6)
c2$pi2 <- ave(c2$snum, c2$dnum, FUN = length) / c2$fpc2
d <- svydesign(id = ~dnum + snum, fpc = ~pi1 + pi2, probs = ~pi1 + pi2, data = c2, pps = "brewer")
add("brewer2_mean", svymean(~api00 + api99, d))
add("brewer2_total", svytotal(~api00, d))
add("brewer2_by_mean", svyby(~api00, ~stype, d, svymean))
add("brewer2_ratio", svyratio(~api00, ~api99, d))
# stratified first stage
c2$st <- ifelse(c2$dnum %% 2 == 0, "even", "odd")
d <- svydesign(id = ~dnum + snum, strata = ~st, fpc = ~pi1 + pi2, probs = ~pi1 + pi2, data = c2, pps = "brewer")
add("brewer2_strat_total", svytotal(~api00 + enroll, d, na.rm = TRUE))
write.csv(c2[, c("dnum", "snum", "st", "pi1", "pi2")], file.path(here, "..", "data", "apiclus2_pps.csv"), row.names = FALSE)
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "pps_multistage.json"))
cat("wrote", length(cases), "cases\n")
