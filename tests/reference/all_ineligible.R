# All-ineligible region and EA: households of a selected EA that are all vacant (AAPOR 4.1)
# stay in the design with zero totals (R survey keeps the PSU as rows of score 0).
# Data: all_ineligible_households.csv, one row per selected household: EA_CODE, HH_NO, REGION,
# stratum, base_weight, fb (foreign-born usual residents), np (usual residents); vacant
# households have fb = np = 0. Ultimate-cluster design: EAs as PSUs within strata.
library(survey)
library(jsonlite)
here <- function(f) file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))), f)
h <- read.csv(here("all_ineligible_households.csv"), colClasses = c(EA_CODE = "character"))
d <- svydesign(ids = ~EA_CODE, strata = ~stratum, weights = ~base_weight, data = h)
tot <- svytotal(~fb, d)
rat <- svyratio(~fb, ~np, d)
bt <- svyby(~fb, ~REGION, d, svytotal)
br <- svyby(~fb, ~REGION, d, svyratio, denominator = ~np)
out <- list(
  total = list(estimate = as.numeric(coef(tot)), se = as.numeric(SE(tot))),
  share = list(estimate = 100 * unname(coef(rat)), se = 100 * unname(SE(rat))),
  region_total = list(region = bt$REGION, estimate = unname(coef(bt)), se = unname(SE(bt))),
  region_share = list(region = br$REGION, estimate = 100 * unname(coef(br)),
                      se = 100 * unname(SE(br))),
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
write_json(out, here("all_ineligible.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
