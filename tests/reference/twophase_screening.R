# Reference for tests/migsurvey/test_migsurvey_twophase.py: the screening survey of
# tests/migsurvey/screening_data.py as R survey's two-phase design.
# Phase 1: EAs by SRS within region (fpc = sampling fraction pi1), every household listed
# (take-all second stage); phase 2: households by SRS within EA x screening class.
# The phase-1 frame has the persons of the selected households and one row per other
# listed household. Run from the repository root:
#   Rscript tests/reference/twophase_screening.R
suppressMessages({library(survey); library(jsonlite)})
lst <- read.csv("tests/reference/twophase_screening_listing.csv",
                colClasses = c(ea = "character", hh = "character"))
pp <- read.csv("tests/reference/twophase_screening_persons.csv",
               colClasses = c(hh = "character", line = "character"))
lst$selected <- lst$selected %in% c("True", "TRUE", TRUE)
sel <- merge(pp, lst[lst$selected, ], by = "hh")
other <- lst[!lst$selected, ]
other$line <- NA; other$sex <- NA; other$born_abroad <- NA; other$income <- NA
ph1 <- rbind(sel[, names(other)], other)
ph1$st2 <- paste(ph1$ea, ph1$screen, sep = "/")
ph1$one <- 1
# phase-2 population sizes: listed households of the EA x class (rows are persons)
ph1$M2 <- ave(ph1$hh, ph1$st2, FUN = function(h) length(unique(h)))
ph1$M2 <- as.numeric(ph1$M2)
d <- twophase(id = list(~ea + hh, ~hh), strata = list(~region, ~st2),
              probs = list(~pi1 + one, NULL), fpc = list(~pi1 + one, ~M2),
              subset = ~selected, data = ph1, method = "full")
tot <- svytotal(~born_abroad, d)
mn <- svymean(~income, d)
by_sex <- svyby(~born_abroad, ~sex, d, svytotal)
ratio_sex <- svyby(~born_abroad, ~sex, d, svymean)
out <- list(
  total_born_abroad = list(estimate = unname(coef(tot)), se = unname(SE(tot))),
  mean_income = list(estimate = unname(coef(mn)), se = unname(SE(mn))),
  total_by_sex = list(sex = as.character(by_sex$sex), estimate = unname(coef(by_sex)),
                      se = unname(SE(by_sex))),
  mean_by_sex = list(sex = as.character(ratio_sex$sex), estimate = unname(coef(ratio_sex)),
                     se = unname(SE(ratio_sex))),
  phase1_rows = nrow(ph1), phase2_rows = sum(ph1$selected),
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/twophase_screening.json")
