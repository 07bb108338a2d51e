# Quantile rules and interval types (R survey 4.1 svyquantile qrule / interval.type).
# Run: Rscript quantiles.R -> quantiles.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add_q <- function(id, q) {
  out <- NULL
  for (v in names(q)) {
    m <- q[[v]]
    out <- rbind(out, data.frame(name = paste0(v, "@", rownames(m)), estimate = m[, 1], ci_low = m[, 2],
                                 ci_high = m[, 3], se = m[, 4]))
  }
  cases[[length(cases) + 1]] <<- list(id = id, name = out$name, estimate = out$estimate, ci_low = out$ci_low,
                                      ci_high = out$ci_high, se = out$se)
}
st <- dat("apistrat")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
cl1 <- dat("apiclus1")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
rules <- c("math", "school", "shahvaish", paste0("hf", 1:9))
probs <- c(0.1, 0.25, 0.5, 0.9)
for (r in rules) {
  add_q(paste0("strat_", r), svyquantile(~api00 + enroll, dstrat, probs, qrule = r))
  add_q(paste0("clus1_", r), svyquantile(~api00, dclus1, probs, qrule = r))
}
for (it in c("mean", "beta", "xlogit", "asin")) {
  for (r in c("math", "hf7")) {
    add_q(paste0("strat_", it, "_", r), svyquantile(~api00 + enroll, dstrat, probs, qrule = r, interval.type = it))
  }
}
# domains: svyquantile on each subset (confint() of an svyby is symmetric, not the Woodruff interval)
add_dom <- function(id, design, by, ...) {
  out <- NULL
  for (l in sort(unique(design$variables[[by]]))) {
    q <- svyquantile(~api00, subset(design, design$variables[[by]] == l), ...)$api00
    out <- rbind(out, data.frame(name = l, estimate = q[, 1], ci_low = q[, 2], ci_high = q[, 3], se = q[, 4]))
  }
  cases[[length(cases) + 1]] <<- list(id = id, name = out$name, estimate = out$estimate, ci_low = out$ci_low,
                                      ci_high = out$ci_high, se = out$se)
}
add_dom("by_hf7_xlogit", dclus1, "stype", 0.5, qrule = "hf7", interval.type = "xlogit")
add_dom("by_school_beta", dstrat, "awards", 0.25, qrule = "school", interval.type = "beta")
# Francisco-Fuller score intervals
add_q("strat_score_math", svyquantile(~api00 + enroll, dstrat, c(0.25, 0.5, 0.9), interval.type = "score"))
add_q("clus1_score_hf7", svyquantile(~api00, dclus1, c(0.1, 0.5, 0.75), interval.type = "score", qrule = "hf7"))
add_dom("by_score_math", dclus1, "stype", 0.5, interval.type = "score")
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
add_q("jk1_hf7_mean", svyquantile(~api00, rclus1, probs, qrule = "hf7"))
set.seed(20261201)
rboot <- as.svrepdesign(dclus1, type = "bootstrap", replicates = 20)
write.csv(format(as.data.frame(weights(rboot, "analysis")), digits = 17), file.path(here, "..", "data", "apiclus1_boot20.csv"),
          row.names = FALSE, quote = FALSE)
add_q("boot_quantile_hf1", svyquantile(~api00, rboot, probs, qrule = "hf1", interval.type = "quantile"))
add_q("boot_quantile_hf8", svyquantile(~api00, rboot, probs, qrule = "hf8", interval.type = "quantile"))
cases[[length(cases) + 1]] <- list(id = "boot_design", scale = rboot$scale, rscales = rboot$rscales, mse = rboot$mse)
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "quantiles.json"))
cat("wrote", length(cases), "cases\n")
