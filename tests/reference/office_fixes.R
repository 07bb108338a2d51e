# R survey 4.1 references on an office-like file (office_fixes.csv: text strata, EA ids with
# leading zeros restarting in each stratum, HH ids, missing incomes, a small refugee domain).
# Run: Rscript office_fixes.R  -> office_fixes.json beside this script.
# Cases:
#  * nlcontrast: svycontrast(svyby(..., covmat=TRUE), quote(a/b)) (delta method) and after
#    return.replicates=TRUE (replicate form), on Taylor, JKn and calibrated JKn designs and
#    on a replicate-design svyglm;
#  * likelihood intervals of domain proportions whose profile runs into R's bounded inverse
#    logit link (|eta| > 30);
#  * svyvar(na.rm=TRUE) overall and in domains on Taylor, calibrated and JKn designs;
#  * svyquantile at a domain's largest value on a post-stratified design;
#  * likelihood and beta intervals on a calibrated design with four rows removed (the package
#    gives the same with those rows at weight zero);
#  * quasibinomial svyglm on domains of a calibrated design.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
df <- read.csv(file.path(here, "office_fixes.csv"),
               colClasses = c(REGION = "character", EA = "character", HH = "character"))
cases <- list()
add <- function(id, ...) cases[[id]] <<- list(...)
tot <- c(`(Intercept)` = 5000, SEXM = 2800, `AGEGRP30-59` = 2800, `AGEGRP60+` = 900, HHSIZE = 20500)
doms <- c("citizen", "migrant", "refugee")

d <- svydesign(ids = ~EA, strata = ~REGION, weights = ~W, fpc = ~N_EA, nest = TRUE, data = df)
rd <- as.svrepdesign(d, type = "JKn")
rdcal <- calibrate(rd, ~SEX + AGEGRP + HHSIZE, tot)
dcal <- calibrate(d, ~SEX + AGEGRP + HHSIZE, tot)

# 1. nonlinear contrasts of domain means
con <- function(x) {
  if (is.list(x) && !is.null(x$nlcon)) x <- x$nlcon  # the form with replicates
  list(estimate = unname(as.numeric(x)), se = unname(sqrt(diag(as.matrix(attr(x, "var"))))))
}
for (nm in c("taylor", "jkn", "jkncal")) {
  # R's svyby(covmat=TRUE) on a linearisation design fails with na.rm=TRUE: the Taylor case
  # drops the rows without income first (same domain means and variances)
  des <- switch(nm, taylor = subset(d, !is.na(INCOME)), jkn = rd, jkncal = rdcal)
  b <- svyby(~INCOME, ~STATUS, des, svymean, na.rm = TRUE, covmat = TRUE)
  add(paste0("nlcon_", nm), delta = con(svycontrast(b, quote(citizen / refugee))))
  if (nm != "taylor") {
    b2 <- svyby(~INCOME, ~STATUS, des, svymean, na.rm = TRUE, covmat = TRUE, return.replicates = TRUE)
    cases[[paste0("nlcon_", nm)]]$replicates <- con(svycontrast(b2, quote(citizen / refugee)))
  }
}
g <- svyglm(SENDS01 ~ HHSIZE, rd, family = quasibinomial)
g2 <- svyglm(SENDS01 ~ HHSIZE, rd, family = quasibinomial, return.replicates = TRUE)
add("nlcon_glm_jkn", delta = con(svycontrast(g, quote(exp(HHSIZE)))),
    replicates = con(svycontrast(g2, quote(exp(HHSIZE)))))

# 2. likelihood intervals of domain proportions
b <- svyby(~SENDS01, ~STATUS, d, svyciprop, method = "likelihood", vartype = c("se", "ci"))
add("likelihood_by", domain = as.character(b$STATUS), estimate = unname(coef(b)), se = unname(SE(b)),
    ci_low = unname(b$ci_l), ci_high = unname(b$ci_u))

# 3. svyvar with missing values
for (nm in c("taylor", "cal", "jkn")) {
  des <- switch(nm, taylor = d, cal = dcal, jkn = rd)
  x <- svyvar(~INCOME, des, na.rm = TRUE)
  add(paste0("var_", nm), estimate = unname(as.numeric(x)), se = unname(as.numeric(SE(x))))
  est <- se <- numeric(0)
  for (s in doms) {
    x <- svyvar(~INCOME, subset(des, STATUS == s), na.rm = TRUE)
    est <- c(est, as.numeric(x)); se <- c(se, as.numeric(SE(x)))
  }
  add(paste0("var_", nm, "_by"), domain = doms, estimate = est, se = se)
}
x <- svyvar(~INCOME + HHSIZE, d, na.rm = TRUE)
add("var_taylor_two", estimate = unname(diag(as.matrix(x))), se = unname(sqrt(diag(as.matrix(attr(x, "var"))))[c(1, 4)]))

# 4. quantiles at a domain's largest value (p = 0.99), post-stratified design
ps <- postStratify(d, ~AGEGRP, data.frame(AGEGRP = c("15-29", "30-59", "60+"), Freq = c(1300, 2800, 900)))
for (it in c("mean", "beta", "xlogit", "asin")) {
  q <- svyquantile(~INCOME, subset(ps, STATUS == "refugee"), c(0.5, 0.99), interval.type = it, na.rm = TRUE)$INCOME
  add(paste0("quantile_edge_", it), estimate = unname(q[, 1]), ci_low = unname(q[, 2]),
      ci_high = unname(q[, 3]), se = unname(q[, 4]))
}

# 5. a calibrated design without rows 1, 11, 31, 32 (R cannot calibrate zero weights)
r <- df[-c(1, 11, 31, 32), ]
dr <- calibrate(svydesign(ids = ~EA, strata = ~REGION, weights = ~W, fpc = ~N_EA, nest = TRUE, data = r),
                ~SEX + AGEGRP + HHSIZE, tot)
for (m in c("likelihood", "beta")) {
  p <- svyciprop(~SENDS01, dr, method = m)
  add(paste0("removed_rows_", m), estimate = as.numeric(p), ci_low = unname(attr(p, "ci")[1]),
      ci_high = unname(attr(p, "ci")[2]))
  b <- svyby(~SENDS01, ~STATUS, dr, svyciprop, method = m, vartype = "ci")
  add(paste0("removed_rows_", m, "_by"), domain = as.character(b$STATUS), estimate = unname(coef(b)),
      ci_low = unname(b$ci_l), ci_high = unname(b$ci_u))
}

# 6. quasibinomial GLM on domains of a calibrated design
for (s in c("citizen", "migrant")) {
  g <- svyglm(SENDS01 ~ HHSIZE + SEX, subset(dcal, STATUS == s), family = quasibinomial)
  add(paste0("glm_cal_", s), terms = names(coef(g)), estimate = unname(coef(g)), se = unname(SE(g)))
}

writeLines(toJSON(cases, digits = NA, auto_unbox = TRUE, na = "null"), file.path(here, "office_fixes.json"))
