# Reference for certainty EAs coded as self-representing strata (Kish 1965, §10).
# An EA with pi1 == 1 is a stratum of its own, one per screening class (the strata of the
# household selection), whose PSUs are its households; other EAs are the PSUs of their
# stratum. The coding is made here, independently of the package, on the persons written by
# tests/migsurvey/certainty_data.py (self_representing_persons.csv).
# Run from tests/reference: Rscript self_representing.R
suppressMessages({library(survey); library(jsonlite)})
options(digits = 15)
p <- read.csv("self_representing_persons.csv", colClasses = c(ea_id = "character", household_id = "character"))
sure <- p$pi1 == 1
p$psu <- ifelse(sure, paste(p$ea_id, p$household_id, sep = "/"), p$ea_id)
p$str <- ifelse(sure, paste(p$stratum, "certainty", p$ea_id, p$screen), p$stratum)
d <- svydesign(ids = ~psu, strata = ~str, weights = ~weight, data = p)
du <- subset(d, usual_resident == 1)
regions <- sort(unique(p$region))
by_region <- function(des, fun) {
  r <- svyby(~foreign_born, ~region, des, fun)
  list(estimate = unname(coef(r)[regions]), se = unname(SE(r)[match(regions, r$region)]))
}
mean_t <- by_region(du, svymean); total_t <- by_region(du, svytotal)
degf_t <- sapply(regions, function(g) degf(subset(du, region == g)))
rd <- as.svrepdesign(d, type = "JKn")
ru <- subset(rd, usual_resident == 1)
mean_j <- by_region(ru, svymean); total_j <- by_region(ru, svytotal)
out <- list(regions = regions,
            taylor = list(mean = mean_t, total = total_t, degf = unname(degf_t)),
            jkn = list(mean = mean_j, total = total_j),
            r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "self_representing.json")
