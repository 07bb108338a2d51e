# Likelihood intervals of domain proportions (svyciprop, method = "likelihood") and
# Korn-Graubard intervals of domain quantiles (svyquantile, interval.type = "beta") from R
# survey, on apiclus1 by stype: uncalibrated, calibrated, post-stratified and raked (Taylor).
# R keeps every row in the subsets of a calibrated survey.design2: the GLM behind the
# likelihood interval then has all rows (prior weights over their mean on all rows, the
# profile's F quantile on n - 1 of all rows), and the beta interval's t_{n-1} uses all rows.
# Run: Rscript domain_intervals_calibrated.R   (writes domain_intervals_calibrated.json)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
cl1 <- read.csv(file.path(here, "..", "data", "apiclus1.csv"))
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sw <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
w <- list(none = dclus1,
          cal = calibrate(dclus1, ~sch.wide + api99, c(6194, 5122, 3914069)),
          ps = postStratify(dclus1, ~stype, pop_types),
          rake = rake(dclus1, list(~stype, ~sch.wide), list(pop_types, pop_sw)))
cases <- list()
for (rec in names(w)) {
  for (level in c(0.95, 0.9)) {
    m <- svyby(~I(awards == "Yes"), ~stype, w[[rec]], svyciprop, method = "likelihood",
               level = level, vartype = "ci")
    cases[[length(cases) + 1]] <- list(id = paste("likelihood", rec, level, sep = "_"),
                                       names = rownames(m), estimate = unname(coef(m)),
                                       ci_low = unname(m$ci_l), ci_high = unname(m$ci_u))
  }
  for (p in c(0.3, 0.7)) {
    lims <- t(sapply(c("E", "H", "M"), function(s) {
      q <- svyquantile(~api00, subset(w[[rec]], stype == s), p, interval.type = "beta")
      c(coef(q), confint(q))
    }))
    cases[[length(cases) + 1]] <- list(id = paste("quantile", rec, p, sep = "_"),
                                       names = rownames(lims), estimate = unname(lims[, 1]),
                                       ci_low = unname(lims[, 2]), ci_high = unname(lims[, 3]))
  }
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "domain_intervals_calibrated.json"))
