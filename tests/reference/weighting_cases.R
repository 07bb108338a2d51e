# Reference cases for the weighting package: integrated household-person calibration
# (calibrate(..., aggregate.stage=1)) on eusilc, and calibration/trimming/post-stratification
# re-done on replicate designs. Run from tests/reference: Rscript weighting_cases.R
source("reflib.R")
eusilc <- read.csv("../data/eusilc.csv")
eusilc$hhinv <- 1 / ave(rep(1, nrow(eusilc)), eusilc$db030, FUN = length)
w <- eusilc$rb050
N <- sum(w) * 1.01
sex_tab <- tapply(w, eusilc$rb090, sum); sex_tab <- sex_tab / sum(sex_tab) * c(1.02, 0.98)
sex_tab <- sex_tab / sum(sex_tab) * N
reg_tab <- tapply(w, eusilc$db040, sum)
reg_tab <- reg_tab * (1 + 0.03 * sin(seq_along(reg_tab))); reg_tab <- reg_tab / sum(reg_tab) * N
n_hh <- sum(w * eusilc$hhinv) * 0.985
age_tot <- sum(w * eusilc$age) * 1.01
pop <- c(`(Intercept)` = N, rb090male = unname(sex_tab["male"]),
         setNames(unname(reg_tab[-1]), paste0("db040", names(reg_tab)[-1])),
         hhinv = n_hh, age = age_tot)
targets <- list(rb090 = as.list(sex_tab), db040 = as.list(reg_tab), households = n_hh, age = age_tot)
ds <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = eusilc)
E <- list(ids = "db030", strata = "db040", weights = "rb050")
f <- ~rb090 + db040 + hhinv + age
for (cf in c("linear", "raking", "logit")) {
  b <- if (cf == "logit") c(0.5, 2) else c(-Inf, Inf)
  cal <- calibrate(ds, f, pop, calfun = cf, bounds = b, aggregate.stage = 1, epsilon = 1e-12, maxit = 100)
  g <- weights(cal) / weights(ds)
  first <- !duplicated(eusilc$db030)
  add(paste0("weighting_eusilc_integrated_", cf), "eusilc", E,
      paste0("calibrate(d, ~rb090+db040+hhinv+age, pop, calfun='", cf, "', bounds=c(", b[1], ",", b[2],
             "), aggregate.stage=1, epsilon=1e-12); svymean(~eqIncome) & svytotal(~eqIncome)"),
      rbind(vals(svymean(~eqIncome, cal)), transform(vals(svytotal(~eqIncome, cal)), name = "total_eqIncome")),
      note = list(targets = targets, bounds = b, household_ids = eusilc$db030[first][1:200],
                  household_g = unname(g[first])[1:200], g_range = range(g),
                  g_sum_hh = sum(g[first]), g_sumsq_hh = sum(g[first]^2),
                  weights_sum = sum(weights(cal))))
}
# integrated calibration on a JK1 replicate design (households of Burgenland), every replicate
# re-calibrated with one weight per household (aggregate.index)
bg <- subset(eusilc, db040 == "Burgenland")
dbg <- svydesign(ids = ~db030, weights = ~rb050, data = bg)
rbg <- as.svrepdesign(dbg, type = "JK1")
wb <- bg$rb050
pop_bg <- c(`(Intercept)` = sum(wb) * 1.02, rb090male = sum(wb[bg$rb090 == "male"]) * 0.99,
            hhinv = sum(wb * bg$hhinv) * 1.01, age = sum(wb * bg$age) * 1.02)
for (cf in c("linear", "logit")) {
  b <- if (cf == "logit") c(0.3, 3) else c(-Inf, Inf)
  cb <- calibrate(rbg, ~rb090 + hhinv + age, pop_bg, calfun = cf, bounds = b, aggregate.index = ~db030,
                  epsilon = 1e-12, maxit = 100)
  add(paste0("weighting_eusilc_burgenland_jk1_integrated_", cf), "eusilc", list(ids = "db030", weights = "rb050", subset = "db040 == 'Burgenland'"),
      paste0("calibrate(as.svrepdesign(d, type='JK1'), ~rb090+hhinv+age, pop, calfun='", cf, "', aggregate.index=~db030); svymean(~eqIncome)"),
      vals(svymean(~eqIncome, cb)),
      note = list(population = as.list(pop_bg), bounds = b, scale = rbg$scale))
}
# replicate designs: every replicate re-calibrated / re-post-stratified / trimmed
data(api)
apiclus1 <- read.csv("../data/apiclus1.csv"); apistrat <- read.csv("../data/apistrat.csv")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
C1 <- list(ids = "dnum", weights = "pw", fpc = "fpc")
S <- list(ids = NULL, strata = "stype", weights = "pw", fpc = "fpc")
pop_tot <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
rj1 <- as.svrepdesign(dclus1, type = "JK1")
lg <- calibrate(rj1, ~stype + api99, pop_tot, calfun = "logit", bounds = c(0.4, 3), epsilon = 1e-12, maxit = 100)
add("weighting_clus1_jk1_calibrate_logit", "apiclus1", C1,
    "calibrate(as.svrepdesign(d,type='JK1'), ~stype+api99, pop, calfun='logit', bounds=c(0.4,3), epsilon=1e-12); svymean(~api00)",
    vals(svymean(~api00, lg)), note = list(scale = rj1$scale))
ln <- calibrate(rj1, ~stype + api99, pop_tot)
add("weighting_clus1_jk1_calibrate_linear", "apiclus1", C1,
    "calibrate(as.svrepdesign(d,type='JK1'), ~stype+api99, pop); svymean(~api00) & svytotal(~enroll)",
    rbind(vals(svymean(~api00, ln)), vals(svytotal(~enroll, ln))), note = list(scale = rj1$scale))
rjn <- as.svrepdesign(dstrat, type = "JKn")
ps <- postStratify(rjn, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
add("weighting_strat_jkn_poststratify", "apistrat", S,
    "postStratify(as.svrepdesign(d,type='JKn'), ~stype, pop); svymean(~api00+enroll)",
    vals(svymean(~api00 + enroll, ps)), note = list(rscales = unname(rjn$rscales), scale = rjn$scale))
# more distances and bounds on the full-sample design
sh <- calibrate(dclus1, ~stype + api99, pop_tot, calfun = cal.sinh, bounds = c(0.5, 2), epsilon = 1e-12, maxit = 500)
add("weighting_clus1_calibrate_sinh", "apiclus1", C1,
    "calibrate(d, ~stype+api99, pop, calfun=cal.sinh, bounds=c(0.5,2), epsilon=1e-12); svymean(~api00)",
    vals(svymean(~api00, sh)), note = list(weights_first5 = unname(weights(sh)[1:5]), g_range = range(weights(sh) / weights(dclus1))))
rb <- calibrate(dclus1, ~stype + api99, pop_tot, calfun = "raking", bounds = c(0.6, 1.6), epsilon = 1e-12, maxit = 500)
add("weighting_clus1_calibrate_raking_bounded", "apiclus1", C1,
    "calibrate(d, ~stype+api99, pop, calfun='raking', bounds=c(0.6,1.6), epsilon=1e-12); svymean(~api00)",
    vals(svymean(~api00, rb)), note = list(weights_first5 = unname(weights(rb)[1:5]), g_range = range(weights(rb) / weights(dclus1))))
ts <- trimWeights(dstrat, upper = 35, lower = 25, strict = TRUE)
add("weighting_strat_trim_strict", "apistrat", S,
    "trimWeights(d, upper=35, lower=25, strict=TRUE); svymean(~api00)",
    vals(svymean(~api00, ts)), note = list(weights_sum = sum(weights(ts)), weights_range = range(weights(ts)), weights_first5 = unname(weights(ts)[1:5])))
# response propensity: weighted logistic regression (R glm, quasibinomial, prior weights pw)
apistrat$disp <- ifelse(((apistrat$snum * 7919) %% 100) < (apistrat$api00 - 300) / 6, 1, 2)
fit <- glm(I(disp == 1) ~ api00 + stype, family = quasibinomial, weights = pw, data = apistrat)
phat <- fitted(fit)
add("weighting_strat_propensity", "apistrat", S,
    "disp <- ifelse((snum*7919 %% 100) < (api00-300)/6, 1, 2); glm(I(disp==1) ~ api00 + stype, quasibinomial, weights=pw); pw/phat for respondents",
    data.frame(name = "respondents", estimate = sum(disp_w <- ifelse(apistrat$disp == 1, apistrat$pw / phat, 0)), se = NA),
    note = list(coef = unname(coef(fit)), phat_first10 = unname(phat[1:10]), n_respondents = sum(apistrat$disp == 1),
                adjusted_first10 = unname(disp_w[1:10])))
# (trimWeights on replicate designs is not used: survey 4.1's svyrep method adds the
# redistributed amount with a recycling error, so it is not a reference.)
write_cases("weighting_cases.json")
