# Korn-Graubard (beta) intervals of domain proportions, from R survey: svyby(svyciprop,
# method = "beta") on apiclus1 with and without calibration, post-stratification and raking,
# by linearisation and with JK1 replicate weights. R keeps every row in the subsets of a
# calibrated survey.design2, so n in (t_{n-1}/t_df)^2 is all rows there.
# Run: Rscript ciprop_beta_domains.R   (writes ciprop_beta_domains.json beside this script)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
cl1 <- read.csv(file.path(here, "..", "data", "apiclus1.csv"))
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sw <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
cases <- list()
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
for (engine in c("taylor", "jk1")) {
  base <- if (engine == "taylor") dclus1 else as.svrepdesign(dclus1, type = "JK1")
  w <- list(none = base,
            cal = calibrate(base, ~sch.wide + api99, c(6194, 5122, 3914069)),
            ps = postStratify(base, ~stype, pop_types),
            rake = rake(base, list(~stype, ~sch.wide), list(pop_types, pop_sw)))
  for (rec in names(w)) {
    for (level in c(0.95, 0.9)) {
      m <- svyby(~I(awards == "Yes"), ~stype, w[[rec]], svyciprop, method = "beta", level = level, vartype = c("se", "ci"))
      cases[[length(cases) + 1]] <- list(id = paste(engine, rec, level, sep = "_"), names = rownames(m),
                                         estimate = unname(coef(m)), se = unname(SE(m)),
                                         ci_low = unname(m$ci_l), ci_high = unname(m$ci_u))
    }
  }
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "ciprop_beta_domains.json"))
