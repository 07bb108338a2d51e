# Extra reference values for the migsurvey `sampling` package, from R `sampling`.
# Run: Rscript sampling_extra.R   (writes sampling_extra.json beside this script)
library(sampling)
library(jsonlite)
cases <- list()
add <- function(id, call, value, note = list()) {
  cases[[length(cases) + 1]] <<- list(id = id, call = call, value = value, note = note)
}
mu <- read.csv("../data/MU284.csv")
# inclusion probabilities with zeros and several rounds of certainty units
x <- c(0, 3, 50, 7, 1, 120, 9, 2, 0, 40, 11, 5, 8, 60, 4)
add("incl_zeros_certainty", "inclusionprobabilities(x, 6)", inclusionprobabilities(x, 6), list(x = x, n = 6))
add("incl_mu284_rmt85_n25", "inclusionprobabilities(MU284$RMT85, 25)", inclusionprobabilities(mu$RMT85, 25))
# joint probabilities on 12 MU284 municipalities (region 1), n = 4, with one certainty unit
sub <- c(mu$P75[mu$REG == 1][1:11], 2000)  # last unit taken with certainty
pk <- inclusionprobabilities(sub, 4)
add("mu12_pik", "inclusionprobabilities(c(P75[REG==1][1:11], 2000), 4)", pk, list(size = sub, n = 4))
# UPsampfordpi2 stops on a certainty unit, so it gets the 11 others (n = 3)
add("mu12_sampford_pi2", "UPsampfordpi2(pk[pk < 1])", unname(UPsampfordpi2(pk[pk < 1])))
add("mu12_tille_pi2", "UPtillepi2(pk)", unname(UPtillepi2(pk)))
add("mu12_systematic_pi2", "UPsystematicpi2(pk)", unname(UPsystematicpi2(pk)))
add("mu12_maxentropy_pi2", "UPmaxentropypi2(pk)  # working probabilities stopped at 1e-6", unname(UPmaxentropypi2(pk)))
# working probabilities of conditional Poisson (R stops at sum|change| <= 1e-6)
add("mu12_maxentropy_piktilde", "UPMEpiktildefrompik(pk[pk < 1])", UPMEpiktildefrompik(pk[pk < 1]))
# conditional Poisson with odds spread over many orders of magnitude (a naive recursion fails here)
set.seed(1); w <- exp(rnorm(200, 0, 2))
add("cps_wide_odds_pik", "UPMEpikfromq(UPMEqfromw(w, 100))", UPMEpikfromq(UPMEqfromw(w, 100)), list(w = w, n = 100))
writeLines(toJSON(list(generator = paste("R", getRversion(), "sampling", packageVersion("sampling")),
                       cases = cases), digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "sampling_extra.json")
