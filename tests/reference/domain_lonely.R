# survey.adjust.domain.lonely: strata where a domain has a single PSU (R survey 4.1).
# Run: Rscript domain_lonely.R -> domain_lonely.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, x) {
  cases[[length(cases) + 1]] <<- list(id = id, names = names(coef(x)), estimate = unname(coef(x)), se = unname(SE(x)))
}
st <- dat("apistrat")
# domain: schools of one county group; in the high-school stratum only one school belongs to it
st$grp <- ifelse(st$cnum %% 7 == 0, "A", "B")
st$grp[st$stype == "H" & st$grp == "A"][-1] <- "B"
st$cl <- ave(st$snum, st$stype, FUN = function(v) (seq_along(v) - 1) %/% 2)  # clusters of two schools
write.csv(st[, c("snum", "grp", "cl")], file.path(here, "..", "data", "apistrat_domain_lonely.csv"), row.names = FALSE)
d <- svydesign(id = ~cl, strata = ~stype, weights = ~pw, data = st, nest = TRUE)
for (lonely in c("adjust", "average")) {
  for (adj in c(FALSE, TRUE)) {
    options(survey.lonely.psu = lonely, survey.adjust.domain.lonely = adj)
    p <- paste0(lonely, "_", if (adj) "domain" else "plain")
    add(paste0(p, "_by_mean"), svyby(~api00, ~grp, d, svymean))
    add(paste0(p, "_by_total"), svyby(~enroll, ~grp, d, svytotal))
    add(paste0(p, "_subset_mean"), svymean(~api00, subset(d, grp == "A")))
  }
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "domain_lonely.json"))
cat("wrote", length(cases), "cases\n")
