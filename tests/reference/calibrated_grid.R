# Reference for domain means and totals of a two-stage design with fpc at both stages whose
# weights are calibrated (linear) to two categorical margins, by several sets of domains:
#   SEX + AGEGRP           the calibration cells themselves (each domain in one cell)
#   SEX + AGEGRP + STATUS  finer than the cells
#   STATUS                 across the cells
#   SEX                    one margin (several cells per domain)
# R's svyby() takes a subset of the calibrated design per domain (every row kept).
# The data are written beside this script. Run from tests/reference: Rscript calibrated_grid.R
suppressMessages({library(survey); library(jsonlite)})
options(digits = 15)
set.seed(20261201)
n_ea <- 48
ea <- data.frame(EA = sprintf("%04d", 1:n_ea * 3), REGION = rep(c("01", "02", "03", "04"), each = 12))
hh <- ea[rep(1:n_ea, times = sample(3:5, n_ea, replace = TRUE)), ]
hh$HH <- sprintf("%s-%02d", hh$EA, ave(seq_len(nrow(hh)), hh$EA, FUN = seq_along))
ps <- hh[rep(seq_len(nrow(hh)), sample(1:6, nrow(hh), replace = TRUE)), ]
rownames(ps) <- NULL
ps$N_EA <- 60
ps$N_HH <- 40
ps$SEX <- sample(c("F", "M"), nrow(ps), replace = TRUE)
ps$AGEGRP <- sample(c("15-29", "30-59", "60+"), nrow(ps), replace = TRUE, prob = c(0.4, 0.4, 0.2))
ps$STATUS <- sample(c("citizen", "migrant", "refugee"), nrow(ps), replace = TRUE, prob = c(0.6, 0.3, 0.1))
ps$WGT <- round(runif(nrow(ps), 30, 90), 2)
ps$INCOME <- round(rgamma(nrow(ps), 2, 0.002) + 300 * (ps$STATUS == "citizen") + 200 * (ps$AGEGRP == "30-59"), 2)
write.csv(ps[, c("REGION", "EA", "HH", "N_EA", "N_HH", "SEX", "AGEGRP", "STATUS", "WGT", "INCOME")],
          "calibrated_grid.csv", row.names = FALSE)

d <- svydesign(ids = ~EA + HH, strata = ~REGION, fpc = ~N_EA + N_HH, weights = ~WGT, data = ps)
pop_sex <- c(F = 52000, M = 49000)
pop_age <- c("15-29" = 41000, "30-59" = 42000, "60+" = 18000)
cal <- calibrate(d, ~SEX + AGEGRP, c(sum(pop_sex), pop_sex[["M"]], pop_age[["30-59"]], pop_age[["60+"]]))
cases <- list()
for (by in list(c("SEX", "AGEGRP"), c("SEX", "AGEGRP", "STATUS"), "STATUS", "SEX")) {
  f <- as.formula(paste("~", paste(by, collapse = "+")))
  for (stat in c("mean", "total")) {
    fun <- if (stat == "mean") svymean else svytotal
    r <- svyby(~INCOME, f, cal, fun)
    cases[[length(cases) + 1]] <- list(id = paste(stat, paste(by, collapse = "+"), sep = "_"), by = by,
                                       keys = lapply(by, function(b) as.character(r[[b]])),
                                       estimate = unname(coef(r)), se = unname(SE(r)))
  }
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")),
                       pop_sex = as.list(pop_sex), pop_age = as.list(pop_age), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), "calibrated_grid.json")
