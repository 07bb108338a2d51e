# Reference values for tests/estimation/test_small_area_reference.py: R package sae 1.3
# (Molina & Marhuenda 2015), the example of its help pages ?eblupFH / ?mseFH on data(milk):
#   mseFH(yi ~ as.factor(MajorArea), SD^2, method = ...)
# run with sae's default PRECISION (1e-4) and with PRECISION = 1e-12 (converged).
# CRAN is not reachable where the reference was produced, so sae's own R sources (CRAN release
# 1.3, 2020-03-01: R/eblupFH.R, R/mseFH.R, data/milk.rda) are sourced from a source tree:
#   Rscript fay_herriot_sae_milk.R <path to the sae 1.3 source tree> fay_herriot_sae_milk.json
# With sae installed, library(sae) replaces the two source() calls.
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]
out <- if (length(args) > 1) args[2] else "fay_herriot_sae_milk.json"
source(file.path(src, "R", "eblupFH.R"))
source(file.path(src, "R", "mseFH.R"))
load(file.path(src, "data", "milk.rda"))
attach(milk)
one <- function(method, precision) {
  r <- mseFH(yi ~ as.factor(MajorArea), SD^2, method = method, PRECISION = precision)
  f <- r$est$fit
  list(sigma2_u = f$refvar, beta = unname(f$estcoef[, "beta"]),
       beta_se = unname(f$estcoef[, "std.error"]), eblup = as.vector(r$est$eblup),
       mse = as.vector(r$mse), loglik = f$goodness[["loglike"]],
       iterations = f$iterations, precision = precision)
}
res <- list(
  source = paste("R package sae 1.3 (CRAN 2020-03-01), mseFH(yi ~ as.factor(MajorArea), SD^2,",
                 "method = ...) on data(milk), the example of the package's help pages;",
                 "computed by tests/reference/fay_herriot_sae_milk.R"),
  REML = one("REML", 1e-4), ML = one("ML", 1e-4),
  REML_converged = one("REML", 1e-12), ML_converged = one("ML", 1e-12))
detach(milk)
writeLines(jsonlite::toJSON(res, digits = I(17), auto_unbox = TRUE, pretty = TRUE), out)
