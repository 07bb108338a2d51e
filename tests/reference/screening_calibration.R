# Reference for tests/migsurvey/test_migsurvey_screening_calibration_r.py: the foreign-born
# share by region of an office's screening sample (16 EAs in strata region x prevalence class,
# 8 migrant and 5 other households per EA, every household answering), weights raked to the
# census counts of region x sex and age group with one weight per household.
# The design is the one the pipeline declares (screening_calibration_persons.csv, written by
# the pipeline): EAs as PSUs within their strata (with replacement, fpc 0); an EA taken with
# certainty is a stratum per screening class whose PSUs are its households, drawn without
# replacement at the fraction design_fpc (pi2).
#   linearised: calibrate(..., aggregate.stage = 2) and svyby(svymean)
#   JKn: delete one PSU within its stratum, rscales (1 - f_h)(n_h - 1)/n_h, every replicate
#        recalibrated with one weight per household (aggregate.index)
# Run from tests/reference: Rscript screening_calibration.R
suppressMessages({library(survey); library(jsonlite)})
options(digits = 15)
ps <- read.csv("screening_calibration_persons.csv",
               colClasses = c(hh_key = "character", design_psu = "character",
                              design_stratum = "character", region = "character"))
tg <- read.csv("screening_calibration_targets.csv", colClasses = c(level = "character"))
ps$rs <- factor(paste(ps$region, ps$sex, sep = "_"))
ps$ag <- factor(ps$age_group)
ps$one <- 1
mm <- model.matrix(~rs + ag, ps)
rs_t <- setNames(tg$count[tg$margin == "rs"], tg$level[tg$margin == "rs"])
ag_t <- setNames(tg$count[tg$margin == "ag"], tg$level[tg$margin == "ag"])
rs_t <- rs_t[levels(ps$rs)]; ag_t <- ag_t[levels(ps$ag)]
pop <- c(sum(rs_t), rs_t[-1], ag_t[-1]); names(pop) <- colnames(mm)

d <- svydesign(ids = ~design_psu + hh_key, strata = ~design_stratum, fpc = ~design_fpc + one,
               weights = ~household_weight, data = ps)
cal <- calibrate(d, ~rs + ag, population = pop, calfun = "raking", aggregate.stage = 2,
                 epsilon = 1e-12, maxit = 100)
tay <- svyby(~foreign_born, ~region, cal, svymean)
tay_t <- svymean(~foreign_born, cal)

psu <- paste(ps$design_stratum, ps$design_psu)
st <- ps$design_stratum
ups <- unique(data.frame(psu = psu, st = st, f = ps$design_fpc))
nh <- table(ups$st)
stopifnot(all(nh >= 2))
rep <- matrix(1, nrow(ps), nrow(ups)); rsc <- numeric(nrow(ups))
for (j in seq_len(nrow(ups))) {
  h <- ups$st[j]; n <- nh[[h]]
  rep[st == h, j] <- n / (n - 1); rep[psu == ups$psu[j], j] <- 0
  rsc[j] <- (1 - ups$f[j]) * (n - 1) / n
}
r <- svrepdesign(data = ps, repweights = rep * ps$household_weight, weights = ~household_weight,
                 type = "other", scale = 1, rscales = rsc, combined.weights = TRUE)
rcal <- calibrate(r, ~rs + ag, population = pop, calfun = "raking", aggregate.index = ~hh_key,
                  compress = FALSE, epsilon = 1e-12, maxit = 100)
jk <- svyby(~foreign_born, ~region, rcal, svymean)
jk_t <- svymean(~foreign_born, rcal)
stopifnot(max(abs(weights(cal) - ps$weight)) < 1e-8 * max(ps$weight))

out <- list(
  call = "calibrate(svydesign(ids=~design_psu+hh_key, strata=~design_stratum, fpc=~design_fpc+one, weights=~household_weight), ~rs+ag, pop, calfun='raking', aggregate.stage=2); JKn by hand, calibrate(svrepdesign, ..., aggregate.index=~hh_key); svyby(~foreign_born, ~region, ., svymean)",
  weights = unname(weights(cal)),
  region = tay$region, share = unname(coef(tay)),
  se_taylor = unname(SE(tay)), se_jkn = unname(SE(jk)),
  share_total = unname(coef(tay_t)), se_total_taylor = as.numeric(SE(tay_t)),
  se_total_jkn = as.numeric(SE(jk_t)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "screening_calibration.json")
