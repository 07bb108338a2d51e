# svyby(..., na.rm = TRUE) when a domain has no observed value (R survey 4.1).
# The data are written by formula (no random numbers), so the Python test builds the same rows.
# Run: Rscript na_rm_empty_domain.R -> na_rm_empty_domain.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
i <- 0:47
df <- data.frame(strate = c("01", "02", "03")[i %/% 16 + 1], grappe = sprintf("%03d", i %/% 4),
                 poids = 1 + (i * 7) %% 5 + 0.25 * (i %% 3), revenu = 10 + ((i * 11) %% 17) / 4,
                 sexe = c("F", "M")[i %% 2 + 1])
df$revenu_f <- ifelse(df$sexe == "F", df$revenu, NA)  # a question not asked of men
d <- svydesign(ids = ~grappe, strata = ~strate, weights = ~poids, data = df)
cases <- list()
add <- function(id, x) {
  cases[[length(cases) + 1]] <<- list(id = id, estimate = unname(coef(x)), se = unname(SE(x)))
}
add("by_mean", svyby(~revenu_f, ~sexe, d, svymean, na.rm = TRUE))
add("by_total", svyby(~revenu_f, ~sexe, d, svytotal, na.rm = TRUE))
add("subset_mean_F", svymean(~revenu_f, subset(d, sexe == "F"), na.rm = TRUE))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "na_rm_empty_domain.json"))
cat("wrote", length(cases), "cases\n")
