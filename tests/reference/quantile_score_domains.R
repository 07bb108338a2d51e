# Francisco-Fuller score intervals of domain quantiles, from R survey's svyquantile
# (interval.type = "score"), on a small stratified cluster sample (../data/score_domains.csv)
# whose score statistic changes sign more than once in some domains: the end is the root
# R's uniroot finds.
# Run: Rscript quantile_score_domains.R   (writes quantile_score_domains.json beside this script)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
df <- read.csv(file.path(here, "..", "data", "score_domains.csv"), colClasses = c(psu = "character", sex = "character"))
d <- svydesign(ids = ~psu, strata = ~st, weights = ~w, data = df)
cases <- list()
for (rule in c("math", "school", "hf7")) {
  for (region in c("a", "b", "c")) {
    for (p in c(0.25, 0.5, 0.75)) {
      # R stops where the statistic has no sign change on the bracket (recorded as null)
      q <- tryCatch(svyquantile(~y, subset(d, reg == region), p, qrule = rule, interval.type = "score"),
                    error = function(e) NULL)
      id <- paste(rule, region, p, sep = "_")
      if (is.null(q)) {
        cases[[length(cases) + 1]] <- list(id = id, estimate = NULL)
      } else {
        ci <- confint(q)
        cases[[length(cases) + 1]] <- list(id = id, estimate = unname(coef(q)), ci_low = unname(ci[, 1]),
                                           ci_high = unname(ci[, 2]), se = unname(SE(q)))
      }
    }
  }
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "quantile_score_domains.json"))
