# Multi-stage PPS without replacement with Overton's or Hartley-Rao's approximation, or a matrix of
# joint inclusion probabilities, at the first stage. R survey 4.1 refuses these designs
# ("Multistage PPS sampling not supported"), so the reference is composed from two things R does
# compute (Sarndal, Swensson & Wretman 1992, result 4.3.1: V = sum_ij Dcheck_ij t_i/pi_i t_j/pi_j
# + sum_i V_i/pi_i):
#   * the first-stage term: R's single-stage design (same pps= argument) on one row per PSU
#     holding the PSU's estimated totals t_i = sum_j y_ij / pi_j|i (ratios via svyratio);
#   * the later-stage term sum_i V_i/pi_i: R's two-stage Brewer design minus R's single-stage
#     Brewer design on the same PSU rows (the later-stage terms do not depend on the first-stage
#     approximation).
# Stratified cases: overton and HR() (R indexes a single HR(psum) value by stratum number).
# Run: Rscript pps_multistage_ht.R (reads ../data/apiclus2.csv and ../data/apiclus2_pps.csv).
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
c2 <- dat("apiclus2")
pp <- dat("apiclus2_pps")
stopifnot(all(pp$snum == c2$snum))
c2$pi1 <- pp$pi1; c2$pi2 <- pp$pi2; c2$st <- pp$st
c2$enroll[is.na(c2$enroll)] <- 0  # keep the cases free of missing values
c2$one <- 1
domains <- sort(unique(c2$stype))
for (s in domains) {
  c2[[paste0("y_", s)]] <- c2$api00 * (c2$stype == s)
  c2[[paste0("n_", s)]] <- 1 * (c2$stype == s)
}
vars <- c("api00", "enroll", "one", paste0("y_", domains), paste0("n_", domains))
# one row per PSU (order of first appearance), its totals expanded by 1/pi_j|i
first <- !duplicated(c2$dnum)
psu <- c2[first, c("dnum", "pi1", "st")]
psu$stn <- as.numeric(psu$st == "odd")  # overton2Dcheck needs numeric strata (ave() on characters fails)
for (v in vars) psu[[v]] <- as.vector(rowsum(c2[[v]] / c2$pi2, c2$dnum, reorder = FALSE))
n <- nrow(psu)
# a joint inclusion probability matrix for the PSUs (symmetric, pi_ij <= min(pi_i, pi_j))
jp <- outer(psu$pi1, psu$pi1) * (1 - outer(1 - psu$pi1, 1 - psu$pi1) / n)
diag(jp) <- psu$pi1

two_stage <- function(strata) {
  if (strata) svydesign(id = ~dnum + snum, strata = ~st, fpc = ~pi1 + pi2, probs = ~pi1 + pi2, data = c2, pps = "brewer")
  else svydesign(id = ~dnum + snum, fpc = ~pi1 + pi2, probs = ~pi1 + pi2, data = c2, pps = "brewer")
}
one_stage <- function(pps, strata, variance = "HT") {
  if (strata) svydesign(id = ~dnum, strata = ~stn, fpc = ~pi1, data = psu, pps = pps, variance = variance)
  else svydesign(id = ~dnum, fpc = ~pi1, data = psu, pps = pps, variance = variance)
}
ratio_var <- function(num, den, d) as.vector(svyratio(make.formula(num), make.formula(den), d)$var)
ratio_est <- function(num, den, d) as.vector(svyratio(make.formula(num), make.formula(den), d)$ratio)

cases <- list()
add <- function(id, names, est, var) {
  cases[[length(cases) + 1]] <<- list(id = id, names = names, estimate = unname(est), se = unname(sqrt(var)))
}
designs <- list(overton = "overton", hr = HR(), hr_psum = HR(0.05), ppsmat = ppsmat(jp))
for (strata in c(FALSE, TRUE)) {
  tag <- if (strata) "_strat" else ""
  b2 <- two_stage(strata)
  b1 <- one_stage("brewer", strata)
  later_total <- diag(vcov(svytotal(~api00 + enroll, b2))) - diag(vcov(svytotal(~api00 + enroll, b1)))
  later_mean <- diag(vcov(svymean(~api00, b2))) - ratio_var("api00", "one", b1)
  by2 <- svyby(~api00, ~stype, b2, svymean)
  later_by <- SE(by2)^2 - sapply(domains, function(s) ratio_var(paste0("y_", s), paste0("n_", s), b1))
  for (name in names(designs)) {
    if (strata && name %in% c("ppsmat", "hr_psum")) next  # R indexes HR(psum) by stratum number: one value only unstratified
    d1 <- one_stage(designs[[name]], strata)
    t1 <- svytotal(~api00 + enroll, d1)
    add(paste0(name, tag, "_total"), names(coef(t1)), coef(t1), diag(vcov(t1)) + later_total)
    add(paste0(name, tag, "_mean"), "api00", ratio_est("api00", "one", d1), ratio_var("api00", "one", d1) + later_mean)
    add(paste0(name, tag, "_by_mean"), domains,
        sapply(domains, function(s) ratio_est(paste0("y_", s), paste0("n_", s), d1)),
        sapply(domains, function(s) ratio_var(paste0("y_", s), paste0("n_", s), d1)) + later_by)
  }
}
# Yates-Grundy form with the matrix
d1 <- one_stage(ppsmat(jp), FALSE, variance = "YG")
t1 <- svytotal(~api00 + enroll, d1)
b2 <- two_stage(FALSE); b1 <- one_stage("brewer", FALSE)
later_total <- diag(vcov(svytotal(~api00 + enroll, b2))) - diag(vcov(svytotal(~api00 + enroll, b1)))
add("ppsmat_yg_total", names(coef(t1)), coef(t1), diag(vcov(t1)) + later_total)
write.csv(data.frame(jp), file.path(here, "pps_multistage_jointprob.csv"), row.names = FALSE)
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "pps_multistage_ht.json"))
cat("wrote", length(cases), "cases\n")
