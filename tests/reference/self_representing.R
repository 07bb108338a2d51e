# Reference for certainty EAs coded as self-representing strata (Kish 1965, §10).
# An EA with pi1 == 1 is a stratum of its own, one per screening class (the strata of the
# household selection), whose PSUs are its households; other EAs are the PSUs of their
# stratum. The households of a certainty EA were drawn without replacement within their
# class (fpc: the fraction pi2 there, 0 = with replacement elsewhere); "taylor_wr" is the same
# coding without that correction. The coding is made here, independently of the package, on
# the persons written by tests/migsurvey/certainty_data.py (self_representing_persons.csv).
# Run from tests/reference: Rscript self_representing.R
suppressMessages({library(survey); library(jsonlite)})
options(digits = 15)
p <- read.csv("self_representing_persons.csv", colClasses = c(ea_id = "character", household_id = "character"))
sure <- p$pi1 == 1
p$psu <- ifelse(sure, paste(p$ea_id, p$household_id, sep = "/"), p$ea_id)
p$str <- ifelse(sure, paste(p$stratum, "certainty", p$ea_id, p$screen), p$stratum)
p$f2 <- ifelse(sure, p$pi2, 0)
d <- svydesign(ids = ~psu, strata = ~str, weights = ~weight, fpc = ~f2, data = p)
du <- subset(d, usual_resident == 1)
dwr <- subset(svydesign(ids = ~psu, strata = ~str, weights = ~weight, data = p), usual_resident == 1)
regions <- sort(unique(p$region))
by_region <- function(des, fun) {
  r <- svyby(~foreign_born, ~region, des, fun)
  list(estimate = unname(coef(r)[regions]), se = unname(SE(r)[match(regions, r$region)]))
}
mean_t <- by_region(du, svymean); total_t <- by_region(du, svytotal)
degf_t <- sapply(regions, function(g) degf(subset(du, region == g)))
mean_wr <- by_region(dwr, svymean); total_wr <- by_region(dwr, svytotal)
# R's JKn does not take a fraction of 0 (with replacement) beside positive fractions: the
# replicates of the with-replacement coding, each scaled by 1 - f of the stratum it deletes
# from (Wolter 2007, §4.2)
rwr <- as.svrepdesign(svydesign(ids = ~psu, strata = ~str, weights = ~weight, data = p), type = "JKn",
                      compress = FALSE)
reps <- weights(rwr, "analysis")
f_rep <- apply(reps, 2, function(w) p$f2[which(w == 0)[1]])
rd <- svrepdesign(data = p, repweights = reps, weights = ~weight, type = "JKn", scale = 1,
                  rscales = rwr$rscales * (1 - f_rep), combined.weights = TRUE)
ru <- subset(rd, usual_resident == 1)
mean_j <- by_region(ru, svymean); total_j <- by_region(ru, svytotal)
out <- list(regions = regions,
            taylor = list(mean = mean_t, total = total_t, degf = unname(degf_t)),
            taylor_wr = list(mean = mean_wr, total = total_wr),
            jkn = list(mean = mean_j, total = total_j),
            r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "self_representing.json")
