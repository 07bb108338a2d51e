# Selection and joint inclusion probabilities in R `sampling`, timed on the same inputs as
# benchmarks/bench_sampling.py (sizes drawn in R with the same shape; timings only).
# Usage: Rscript benchmarks/peer_sampling.R  -> one JSON line per task
suppressMessages(library(sampling))
set.seed(2024)
tm <- function(label, expr) {
  t <- tryCatch(system.time(expr)[["elapsed"]], error = function(e) {
    cat(sprintf('{"task": "%s", "R error": "%s"}\n', label, gsub('"', "'", conditionMessage(e))))
    NA
  })
  if (!is.na(t)) cat(sprintf('{"task": "%s", "R sampling": %.4f}\n', label, t))
}
x6 <- sample(20:399, 1e6, replace = TRUE)
pik6 <- inclusionprobabilities(x6, 5000)
tm("pps_systematic n=5000 of 1e6", UPsystematic(pik6))
x5 <- x6[1:1e5]
pik5 <- inclusionprobabilities(x5, 1000)
tm("brewer n=1000 of 1e5", UPbrewer(pik5))
tm("sampford n=1000 of 1e5", UPsampford(pik5))
tm("conditional_poisson n=1000 of 1e5", UPmaxentropy(pik5))
p500 <- inclusionprobabilities(rgamma(500, 2) + 0.1, 50)
tm("sampford pi2 N=500 n=50", UPsampfordpi2(p500[p500 < 1]))
p2000 <- inclusionprobabilities(rgamma(2000, 2) + 0.1, 50)
tm("sampford pi2 N=2000 n=50", UPsampfordpi2(p2000[p2000 < 1]))
