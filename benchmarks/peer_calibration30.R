# Linear calibration to 30 totals (the 2 levels of m1 and 28 numeric auxiliaries) on the shared
# 10^6-row workload, in R survey: the peer of bench_calibration30.py.
# Usage: Rscript benchmarks/peer_calibration30.R bench-data  -> one JSON line
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
data <- if (length(args)) args[1] else "bench-data"
df <- read.csv(file.path(data, "synth.csv"))
set.seed(1)
n <- nrow(df)
for (j in 0:27) df[[sprintf("x%d", j)]] <- rgamma(n, 2 + j %% 5, scale = 1 + j %% 3)
m1 <- read.csv(file.path(data, "margin_m1.csv"))
scale <- sum(m1$Freq) / sum(df$w)
xs <- sprintf("x%d", 0:27)
pop <- c(m1$Freq, sapply(seq_along(xs), function(j) sum(df[[xs[j]]] * df$w) * scale * (1 + 0.01 * sin(j - 1))))
df$m1 <- factor(df$m1, levels = m1$m1)
f <- as.formula(paste("~ 0 + m1 +", paste(xs, collapse = " + ")))
t0 <- proc.time()[["elapsed"]]
d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)
t1 <- proc.time()[["elapsed"]]
cal <- calibrate(d, f, population = pop, calfun = "linear")
t2 <- proc.time()[["elapsed"]]
cat(sprintf('{"pkg": "R survey", "task": "linear calibration, 30 totals", "design_seconds": %.3f, "calibration_seconds": %.3f, "totals": %d, "sum_w": %.6f}\n',
            t1 - t0, t2 - t1, length(pop), sum(weights(cal))))
