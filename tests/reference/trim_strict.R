# Strict trimming: R survey's trimWeights(strict = TRUE) on weights written as formulas, so the
# test builds the same data without reading a file. Output: trim_strict.json (weights after
# trimming, one case per cap pair). Run: Rscript trim_strict.R (survey 4.1).
suppressMessages(library(survey))
i <- 1:300
sets <- list(
  even = 20 + 0.6 * ((i * 37) %% 101),               # 20 .. 80, roughly uniform
  skewed = 5 + ((i * i) %% 97)^2 / 50                # 5 .. 189, long right tail
)
cases <- list(
  list(set = "even", lower = 30, upper = 55),          # more cut above than added below
  list(set = "even", lower = 45, upper = 100),         # more added below than cut above
  list(set = "even", lower = -Inf, upper = 60),
  list(set = "skewed", lower = 10, upper = 120),
  list(set = "skewed", lower = -Inf, upper = 80)
)
out <- lapply(cases, function(k) {
  d <- svydesign(ids = ~1, weights = ~w, data = data.frame(w = sets[[k$set]]))
  t <- trimWeights(d, lower = k$lower, upper = k$upper, strict = TRUE)
  list(set = k$set, lower = if (is.finite(k$lower)) k$lower else 0, upper = k$upper,
       input = sets[[k$set]], weights = unname(weights(t)))
})
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), "trim_strict.json")
