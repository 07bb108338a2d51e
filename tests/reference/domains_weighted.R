# Domain estimates after weighting, from R survey: svyby of svymean, svytotal, svyratio,
# svyquantile and svyciprop on calibrated, post-stratified and raked designs, by linearisation
# and with JK1/JKn replicate weights; Hartley-Rao PPS variances (HR() and HR(psum)).
# Run: Rscript domains_weighted.R   (writes domains_weighted.json beside this script)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail")
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, call, est, se, extra = list()) {
  cases[[length(cases) + 1]] <<- c(list(id = id, call = call, names = names(est),
                                        estimate = unname(as.numeric(est)), se = unname(as.numeric(se))), extra)
}
ci_of <- function(b) {
  ci <- confint(b)
  list(ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
}
by_all <- function(tag, d, by, quantile = TRUE, ciprop = TRUE) {
  bys <- deparse(by)
  m <- svyby(~api00, by, d, svymean)
  add(paste0(tag, "_mean"), paste0("svyby(~api00, ", bys, ", d, svymean)"), setNames(coef(m), rownames(m)), SE(m), ci_of(m))
  m <- svyby(~enroll, by, d, svytotal)
  add(paste0(tag, "_total"), paste0("svyby(~enroll, ", bys, ", d, svytotal)"), setNames(coef(m), rownames(m)), SE(m))
  m <- svyby(~api00, by, d, svyratio, denominator = ~api99)
  add(paste0(tag, "_ratio"), paste0("svyby(~api00, ", bys, ", d, svyratio, denominator=~api99)"),
      setNames(coef(m), rownames(m)), SE(m))
  if (quantile) {
    m <- svyby(~api00, by, d, svyquantile, quantiles = 0.5, ci = TRUE, keep.var = TRUE)
    add(paste0(tag, "_median"), paste0("svyby(~api00, ", bys, ", d, svyquantile, quantiles=0.5, ci=TRUE)"),
        setNames(m$api00, rownames(m)), m$se.api00)
  }
  if (ciprop) {
    m <- svyby(~I(sch.wide == "Yes"), by, d, svyciprop, method = "logit", vartype = c("se", "ci"))
    add(paste0(tag, "_ciprop"), paste0("svyby(~I(sch.wide=='Yes'), ", bys, ", d, svyciprop, method='logit')"),
        setNames(coef(m), rownames(m)), SE(m), list(ci_low = unname(m$ci_l), ci_high = unname(m$ci_u)))
  }
}
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sw <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
weighting <- function(d, logit = TRUE) {
  w <- list(cal = calibrate(d, ~sch.wide + api99, c(6194, 5122, 3914069)))
  # bounded logit calibration of the JK1 replicates is left out: some replicates need more than
  # an undamped Newton step gives (see weighting.calibration)
  if (logit) w$callogit <- calibrate(d, ~stype + api99, c(6194, 755, 1018, 3914069), calfun = "logit", bounds = c(0.7, 1.7))
  w$ps <- postStratify(d, ~stype, pop_types)
  w$rake <- rake(d, list(~stype, ~sch.wide), list(pop_types, pop_sw))
  w
}
cl1 <- dat("apiclus1")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = cl1)
for (engine in c("taylor", "jk1")) {
  base <- if (engine == "taylor") dclus1 else as.svrepdesign(dclus1, type = "JK1")
  w <- weighting(base, logit = engine == "taylor")
  for (rec in names(w)) {
    by_all(paste("clus1", engine, rec, "stype", sep = "_"), w[[rec]], ~stype, ciprop = rec != "ps")
    by_all(paste("clus1", engine, rec, "awards", sep = "_"), w[[rec]], ~awards)
  }
}
st <- dat("apistrat")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
for (engine in c("taylor", "jkn")) {
  base <- if (engine == "taylor") dstrat else as.svrepdesign(dstrat, type = "JKn")
  w <- list(
    cal = calibrate(base, ~sch.wide + api99, c(6194, 5122, 3914069)),
    rake = rake(base, list(~sch.wide, ~awards), list(pop_sw, data.frame(awards = c("No", "Yes"), Freq = c(2700, 3494))),
                control = list(maxit = 100, epsilon = 1e-9))
  )
  for (rec in names(w)) by_all(paste("strat", engine, rec, "awards", sep = "_"), w[[rec]], ~awards)
}
# Hartley-Rao: R's default estimates sum(pi^2)/n by the mean sample pi; HR(psum) takes the population value
el <- dat("election_pps")
m <- svytotal(~Bush + Kerry, svydesign(id = ~1, fpc = ~p, data = el, pps = HR()))
add("election_hr_default", "svydesign(id=~1, fpc=~p, pps=HR()); svytotal(~Bush+Kerry)", coef(m), SE(m))
m <- svytotal(~Bush + Kerry, svydesign(id = ~1, fpc = ~p, data = el, pps = HR(0.05)))
add("election_hr_psum", "svydesign(id=~1, fpc=~p, pps=HR(0.05)); svytotal(~Bush+Kerry)", coef(m), SE(m))
m <- svyby(~Bush, ~I(p > 0.1), svydesign(id = ~1, fpc = ~p, data = el, pps = HR()), svytotal)
add("election_hr_default_by", "svyby(~Bush, ~I(p > 0.1), pps=HR(), svytotal)", setNames(coef(m), rownames(m)), SE(m))
small <- data.frame(p = c(0.15, 0.35, 0.6, 0.8), y = c(1, 2, 4, 3))  # no pair with p_i + p_j = 1 (R zeroes those)
m <- svytotal(~y, svydesign(id = ~1, fpc = ~p, data = small, pps = HR(0.45)))
add("small_hr_psum", "svydesign(id=~1, fpc=~p, pps=HR(0.45)); svytotal(~y)", coef(m), SE(m))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "domains_weighted.json"))
cat("wrote", length(cases), "cases\n")
