# Writes twophase_intercept.json beside this script: phase 2 calibrated to phase-1 totals of a
# numeric variable with R's formula intercept (~size_screen) and without it (~size_screen - 1),
# on the screening data sets of twophase.R (../data/twophase_screen1.csv).
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
data_dir <- file.path(here, "..", "data")
s1 <- read.csv(file.path(data_dir, "twophase_screen1.csv"), colClasses = c(region = "character", ea = "character", hh = "character"))
cases <- list()
add <- function(id, est) {
  cases[[length(cases) + 1]] <<- list(id = id, estimate = unname(coef(est)), var = unname(diag(as.matrix(vcov(est)))))
}
for (method in c("full", "approx")) {
  d <- twophase(id = list(~ea, ~hh), strata = list(~region, ~st2), fpc = list(~N_ea, NULL),
                subset = ~in2, data = s1, method = method)
  add(paste0(method, "_intercept_mean"), svymean(~income + hhsize, calibrate(d, phase = 2, formula = ~size_screen)))
  add(paste0(method, "_intercept_total"), svytotal(~income, calibrate(d, phase = 2, formula = ~size_screen)))
  add(paste0(method, "_no_intercept_mean"), svymean(~income + hhsize, calibrate(d, phase = 2, formula = ~size_screen - 1)))
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "twophase_intercept.json"))
