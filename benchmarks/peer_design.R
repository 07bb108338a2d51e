# R survey on the shared tasks with the design declaration timed.
# Usage: Rscript benchmarks/peer_design.R DATADIR TASK [REPEATS]   (tasks as in bench_shared_tasks.py)
# Reads the data (not timed), then REPEATS times: svydesign(), then the task; prints the fastest
# run as one JSON line with its design and task seconds.
suppressPackageStartupMessages(library(survey))
a <- commandArgs(TRUE); data <- a[1]; task <- a[2]; repeats <- if (length(a) > 2) as.integer(a[3]) else 2L
df <- read.csv(file.path(data, "synth.csv"))
for (k in c("m1", "m2", "m3", "m4")) df[[k]] <- factor(df[[k]])
pops <- lapply(c("m1", "m2", "m3", "m4"), function(k) read.csv(file.path(data, sprintf("margin_%s.csv", k))))
best <- NULL
for (i in seq_len(repeats)) {
  t0 <- Sys.time()
  d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)
  t1 <- Sys.time()
  if (task == "a") { m <- svymean(~y, d); value <- SE(m)[[1]] }
  if (task == "b") { b <- svyby(~y, ~dom, d, svymean); value <- nrow(b) }
  if (task == "c") {
    w <- weights(rake(d, list(~m1, ~m2, ~m3, ~m4), pops, control = list(maxit = 100, epsilon = 1e-6)))
    value <- sum(w)
  }
  if (task == "d") {
    set.seed(1)
    m <- svymean(~y, as.svrepdesign(d, type = "bootstrap", replicates = 100)); value <- SE(m)[[1]]
  }
  t2 <- Sys.time()
  run <- c(design = as.numeric(difftime(t1, t0, units = "secs")), task = as.numeric(difftime(t2, t1, units = "secs")))
  if (is.null(best) || sum(run) < sum(best)) best <- run
}
cat(sprintf('{"pkg": "R survey", "task": "%s", "design_seconds": %.6f, "task_seconds": %.6f, "seconds": %.6f, "value": %.12g}\n',
            task, best[["design"]], best[["task"]], sum(best), value))
