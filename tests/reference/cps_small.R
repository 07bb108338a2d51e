# Conditional Poisson (maximum entropy) designs with n = 1 or n = N - 1, where the working
# probabilities have closed forms: R sampling's UPmaxentropypi2 (working probabilities stopped
# at sum|change| <= 1e-6, so its n = N - 1 figures carry errors of about 1e-6).
# Output: cps_small.json. Run: Rscript cps_small.R (sampling 2.9).
suppressMessages(library(sampling))
cases <- list(c(0.2, 0.8), c(0.1, 0.3, 0.6), c(0.05, 0.15, 0.3, 0.5),
              c(0.5, 0.7, 0.8), c(0.6, 0.7, 0.8, 0.9))
out <- lapply(cases, function(p) list(pik = p, pi2 = unname(UPmaxentropypi2(p))))
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), "cps_small.json")
