# Reference values from R survey for replicate designs, proportions, Rao-Scott tests and GLMs.
# Usage (from this folder): Rscript replicates_cases.R replicates_reference.json ../data
source("reflib.R")
out <- commandArgs(TRUE)[1]; datadir <- commandArgs(TRUE)[2]
rd <- function(f) read.csv(file.path(datadir, f), stringsAsFactors = FALSE)
apiclus1 <- rd("apiclus1.csv"); apistrat <- rd("apistrat.csv"); nhanes <- rd("nhanes.csv")
# compressed factor matrix (PSUs in first-appearance order) of a replicate design
fac <- function(r) {
  w <- r$repweights
  list(factors = unname(as.matrix(w$weights)), scale = r$scale, rscales = r$rscales,
       degf = degf(r))
}
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
C1 <- list(ids = "dnum", weights = "pw", fpc = "fpc")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
S <- list(ids = NULL, strata = "stype", weights = "pw", fpc = "fpc")
dnh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
NH <- list(ids = "SDMVPSU", strata = "SDMVSTRA", weights = "WTMEC2YR", nest = TRUE)
# synthetic: 8 strata of 2 PSUs and one of 4 PSUs (10 half-sample pairs: Paley order 12)
set.seed(7)
syn <- data.frame(h = rep(c(paste0("s", 1:8), "big"), c(rep(6, 8), 12)))
syn$psu <- c(rep(1:2, each = 3, times = 8), rep(1:4, each = 3))
syn$y <- round(rnorm(nrow(syn), 50, 10), 3); syn$w <- round(runif(nrow(syn), 5, 15), 3)
write.csv(syn, file.path(datadir, "brr_synthetic.csv"), row.names = FALSE)
dsyn <- svydesign(id = ~psu, strata = ~h, weights = ~w, nest = TRUE, data = syn)
SY <- list(ids = "psu", strata = "h", weights = "w", nest = TRUE)

rclus1 <- as.svrepdesign(dclus1, type = "JK1")
rstrat <- as.svrepdesign(dstrat, type = "JKn")
rnh <- as.svrepdesign(dnh, type = "JKn")
rsyn <- as.svrepdesign(dsyn, type = "BRR")
syn2 <- data.frame(h = rep(sprintf("t%02d", 1:15), each = 4), psu = rep(1:2, each = 2, times = 15))
syn2$h[syn2$h == "t15"] <- "t14"; syn2$psu[57:60] <- c(3, 3, 4, 4)
syn2$y <- round(rnorm(nrow(syn2), 20, 5), 3); syn2$w <- round(runif(nrow(syn2), 1, 4), 3)
write.csv(syn2, file.path(datadir, "brr_synthetic16.csv"), row.names = FALSE)
dsyn2 <- svydesign(id = ~psu, strata = ~h, weights = ~w, nest = TRUE, data = syn2)
rsyn2 <- as.svrepdesign(dsyn2, type = "BRR")
add("factors_syn16_brr", "brr_synthetic16", SY, "as.svrepdesign(d, type='BRR')", list(), fac(rsyn2))
add("syn16_brr_mean", "brr_synthetic16", SY, "svymean(~y, rsyn2)", vals(svymean(~y, rsyn2)))
rsynf <- as.svrepdesign(dsyn, type = "Fay", fay.rho = 0.5)
add("factors_clus1_jk1", "apiclus1", C1, "as.svrepdesign(d, type='JK1')", list(), fac(rclus1))
add("factors_strat_jkn", "apistrat", S, "as.svrepdesign(d, type='JKn')", list(), fac(rstrat))
add("factors_nhanes_jkn", "nhanes", NH, "as.svrepdesign(d, type='JKn')", list(), fac(rnh))
add("factors_syn_brr", "brr_synthetic", SY, "as.svrepdesign(d, type='BRR')", list(), fac(rsyn))
add("factors_syn_fay", "brr_synthetic", SY, "as.svrepdesign(d, type='Fay', fay.rho=0.5)", list(), fac(rsynf))

add("nhanes_jkn_mean", "nhanes", NH, "svymean(~HI_CHOL, as.svrepdesign(d,'JKn'), na.rm=TRUE)",
    vals(svymean(~HI_CHOL, rnh, na.rm = TRUE)))
add("syn_fay_total", "brr_synthetic", SY, "svytotal(~y, as.svrepdesign(d,'Fay',fay.rho=0.5))",
    vals(svytotal(~y, rsynf)))
add("syn_brr_ratio_by", "brr_synthetic", SY, "svyby(~y, ~h, rsyn, svymean)",
    vals(svyby(~y, ~h, rsyn, svymean)))
add("clus1_jk1_by", "apiclus1", C1, "svyby(~api00, ~stype, rclus1, svymean)",
    vals(svyby(~api00, ~stype, rclus1, svymean)))
add("clus1_jk1_total_factor", "apiclus1", C1, "svytotal(~stype, rclus1)", vals(svytotal(~stype, rclus1)))
add("clus1_jk1_subset_mean", "apiclus1", C1, "svymean(~api00, subset(rclus1, stype=='E'))",
    vals(svymean(~api00, subset(rclus1, stype == "E"))))
add("strat_jkn_ratio", "apistrat", S, "svyratio(~api00, ~api99, rstrat)", vals(svyratio(~api00, ~api99, rstrat)))
add("strat_jkn_mse_mean", "apistrat", S, "svymean(~api00, as.svrepdesign(d,'JKn',mse=TRUE))",
    vals(svymean(~api00, as.svrepdesign(dstrat, type = "JKn", mse = TRUE))))
q <- svyquantile(~api00, rclus1, c(0.25, 0.5))
add("clus1_jk1_quantile", "apiclus1", C1, "svyquantile(~api00, rclus1, c(0.25,0.5))",
    data.frame(name = c("0.25", "0.5"), estimate = unname(coef(q)), se = unname(SE(q))))
# proportions, chi-squared tests and GLMs on replicate designs
for (m in c("logit", "likelihood", "beta", "mean", "xlogit")) {
  p <- svyciprop(~I(awards == "Yes"), rclus1, method = m)
  add(paste0("clus1_jk1_ciprop_", m), "apiclus1", C1, paste0("svyciprop(~I(awards=='Yes'), rclus1, method='", m, "')"),
      data.frame(name = "awards==Yes", estimate = as.vector(p), ci_low = attr(p, "ci")[1], ci_high = attr(p, "ci")[2]),
      list(degf = degf(rclus1)))
}
for (m in c("logit", "beta", "mean")) {
  b <- svyby(~I(sch.wide == "Yes"), ~stype, rclus1, svyciprop, method = m, vartype = "ci")
  add(paste0("clus1_jk1_ciprop_", m, "_by"), "apiclus1", C1, paste0("svyby(~I(sch.wide=='Yes'), ~stype, rclus1, svyciprop, method='", m, "', vartype='ci')"),
      data.frame(name = as.character(b$stype), estimate = unname(coef(b)), ci_low = unname(b$ci_l), ci_high = unname(b$ci_u)),
      list(degf = sapply(c("E", "H", "M"), function(s) degf(subset(rclus1, stype == s)))))
}
p <- svyciprop(~I(awards == "Yes"), dclus1, method = "likelihood", level = 0.9)
add("clus1_ciprop_likelihood_90", "apiclus1", C1, "svyciprop(~I(awards=='Yes'), d, method='likelihood', level=0.9)",
    data.frame(name = "awards==Yes", estimate = as.vector(p), ci_low = attr(p, "ci")[1], ci_high = attr(p, "ci")[2]))
for (m in c("logit", "likelihood", "beta", "mean", "xlogit", "asin")) {
  p <- svyciprop(~I(sch.wide == "Yes"), dstrat, method = m)
  add(paste0("strat_ciprop_", m), "apistrat", S, paste0("svyciprop(~I(sch.wide=='Yes'), d, method='", m, "')"),
      data.frame(name = "sch.wide==Yes", estimate = as.vector(p), ci_low = unname(attr(p, "ci")[1]), ci_high = unname(attr(p, "ci")[2])))
}
b <- svyby(~I(sch.wide == "Yes"), ~stype, dclus1, svyciprop, method = "likelihood", vartype = "ci")
add("clus1_ciprop_likelihood_by", "apiclus1", C1, "svyby(~I(sch.wide=='Yes'), ~stype, d, svyciprop, method='likelihood', vartype='ci')",
    data.frame(name = as.character(b$stype), estimate = unname(coef(b)), ci_low = unname(b$ci_l), ci_high = unname(b$ci_u)))
b <- svyby(~I(sch.wide == "Yes"), ~stype, dclus1, svyciprop, method = "beta", vartype = "ci")
add("clus1_ciprop_beta_by", "apiclus1", C1, "svyby(~I(sch.wide=='Yes'), ~stype, d, svyciprop, method='beta', vartype='ci')",
    data.frame(name = as.character(b$stype), estimate = unname(coef(b)), ci_low = unname(b$ci_l), ci_high = unname(b$ci_u)))
ch <- function(x) data.frame(name = names(x$statistic), statistic = unname(x$statistic),
                             ndf = if (length(x$parameter) == 2) unname(x$parameter[1]) else unname(x$parameter[1]),
                             ddf = if (length(x$parameter) == 2) unname(x$parameter[2]) else NA, p_value = x$p.value)
add("strat_chisq_F_3x2", "apistrat", S, "svychisq(~stype+awards, d)", ch(svychisq(~stype + awards, dstrat)))
add("strat_chisq_Chisq_3x2", "apistrat", S, "svychisq(~stype+awards, d, statistic='Chisq')", ch(svychisq(~stype + awards, dstrat, statistic = "Chisq")))
add("clus1_chisq_F_3x2", "apiclus1", C1, "svychisq(~stype+sch.wide, d)", ch(svychisq(~stype + sch.wide, dclus1)))
add("strat_chisq_Wald_3x2", "apistrat", S, "svychisq(~stype+awards, d, statistic='Wald')", ch(svychisq(~stype + awards, dstrat, statistic = "Wald")))
add("strat_chisq_adjWald_3x2", "apistrat", S, "svychisq(~stype+awards, d, statistic='adjWald')", ch(svychisq(~stype + awards, dstrat, statistic = "adjWald")))
add("clus1_jk1_chisq_Chisq", "apiclus1", C1, "svychisq(~stype+sch.wide, rclus1, statistic='Chisq')", ch(svychisq(~stype + sch.wide, rclus1, statistic = "Chisq")))
add("clus1_jk1_chisq_F", "apiclus1", C1, "svychisq(~stype+sch.wide, rclus1)", ch(svychisq(~stype + sch.wide, rclus1)))
g <- function(m) {
  s <- summary(m)$coefficients; ci <- confint(m)
  data.frame(name = rownames(s), estimate = s[, 1], se = s[, 2], statistic = s[, 3], p_value = s[, 4],
             ci_low = ci[, 1], ci_high = ci[, 2], df_resid = m$df.residual)
}
add("clus1_glm_gaussian", "apiclus1", C1, "svyglm(api00 ~ ell + meals, d)", g(svyglm(api00 ~ ell + meals, dclus1)))
add("strat_glm_poisson", "apistrat", S, "svyglm(enroll ~ stype + meals, d, family=quasipoisson())",
    g(svyglm(enroll ~ stype + meals, dstrat, family = quasipoisson())))
add("strat_glm_logit_full", "apistrat", S, "svyglm(I(awards=='Yes') ~ ell + meals, d, family=quasibinomial())",
    g(svyglm(I(awards == "Yes") ~ ell + meals, dstrat, family = quasibinomial())))
add("strat_glm_gaussian_full", "apistrat", S, "svyglm(api00 ~ ell + meals + mobility, d)",
    g(svyglm(api00 ~ ell + meals + mobility, dstrat)))
add("clus1_jk1_glm_gaussian", "apiclus1", C1, "svyglm(api00 ~ ell + meals, rclus1)", g(svyglm(api00 ~ ell + meals, rclus1)))
# models, tests and proportions on a raked design (R's default rake control)
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sw <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rk <- rake(dclus1, list(~stype, ~sch.wide), list(pop_types, pop_sw))
add("clus1_rake_glm", "apiclus1", C1, "svyglm(api00 ~ ell + meals, rake(d, list(~stype,~sch.wide), pops))", g(svyglm(api00 ~ ell + meals, rk)))
add("clus1_rake_chisq_F", "apiclus1", C1, "svychisq(~stype+awards, rake(d, ...))", ch(svychisq(~stype + awards, rk)))
p <- svyciprop(~I(awards == "Yes"), rk, method = "likelihood")
add("clus1_rake_ciprop_likelihood", "apiclus1", C1, "svyciprop(~I(awards=='Yes'), rake(d, ...), method='likelihood')",
    data.frame(name = "awards==Yes", estimate = as.vector(p), ci_low = unname(attr(p, "ci")[1]), ci_high = unname(attr(p, "ci")[2])))
rkr <- rake(rclus1, list(~stype, ~sch.wide), list(pop_types, pop_sw))
add("clus1_jk1_rake_glm", "apiclus1", C1, "svyglm(api00 ~ ell + meals, rake(as.svrepdesign(d,'JK1'), ...))", g(svyglm(api00 ~ ell + meals, rkr)))
# JKn with a single-PSU stratum under each lonely.psu rule
lon <- apiclus1; lon$str <- ifelse(lon$dnum == 413, "single", as.character(lon$stype))
for (opt in c("adjust", "average", "remove", "certainty")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~dnum, strata = ~str, weights = ~pw, data = lon, nest = TRUE)
  rl <- as.svrepdesign(dl, type = "JKn")
  add(paste0("lonely_jkn_", opt), "apiclus1", list(ids = "dnum", strata = "str", weights = "pw", nest = TRUE, lonely_psu = opt),
      paste0("options(survey.lonely.psu='", opt, "'); svymean(~api00+enroll, as.svrepdesign(d, 'JKn'))"),
      vals(svymean(~api00 + enroll, rl)), list(scale = rl$scale, n_replicates = ncol(rl$repweights$weights)))
}
options(survey.lonely.psu = "fail")
# Successive difference replication (Fay & Train 1995), circular within strata, rows of
# R's hadamard(P) in order of appearance; variance by svrepdesign(type="successive-difference")
sdr <- function(strata) {
  P <- length(strata)
  ord <- order(match(strata, unique(strata)), seq_len(P))
  H <- 2 * survey:::hadamard(P) - 1
  k <- integer(P); k[ord] <- seq_len(P) - 1
  row <- 2 + k %% (nrow(H) - 1)
  succ <- integer(P)
  for (s in unique(strata)) { m <- ord[strata[ord] == s]; succ[m] <- c(m[-1], m[1]) }
  1 + 2^-1.5 * (H[row, , drop = FALSE] - H[row[succ], , drop = FALSE])
}
f_sdr <- sdr(apistrat$stype)
rsdr <- svrepdesign(data = apistrat, weights = ~pw, repweights = f_sdr * apistrat$pw, type = "successive-difference", combined.weights = TRUE)
add("strat_sdr", "apistrat", list(ids = NULL, strata = "stype", weights = "pw"), "svrepdesign(type='successive-difference'); svymean(~api00), svytotal(~enroll)",
    rbind(vals(svymean(~api00, rsdr)), vals(svytotal(~enroll, rsdr))), list(factors = unname(f_sdr), scale = rsdr$scale))
# two-stage design: JK1 keeps the first-stage fpc and drops the second stage's (R warns)
apiclus2 <- rd("apiclus2.csv")
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
rclus2 <- suppressWarnings(as.svrepdesign(dclus2, type = "JK1"))
add("clus2_jk1_mean", "apiclus2", list(ids = c("dnum", "snum"), fpc = c("fpc1", "fpc2"), weights = NULL),
    "as.svrepdesign(d, type='JK1'); svymean(~api00)", vals(svymean(~api00, rclus2)), list(scale = rclus2$scale))
# Hadamard matrices R chooses for n half-sample pairs (orders, and matrices for some n)
ords <- sapply(1:80, function(n) nrow(survey:::hadamard(n)))
add("hadamard_orders", "none", list(), "sapply(1:80, function(n) nrow(survey:::hadamard(n)))", list(),
    list(n = 1:80, order = ords,
         matrices = lapply(c(3, 7, 9, 12, 15, 19, 40, 45, 60), function(n) list(n = n, h = unname(survey:::hadamard(n))))))
add("clus1_jk1_glm_logit", "apiclus1", C1, "svyglm(I(sch.wide=='Yes') ~ ell + meals, rclus1, family=quasibinomial())",
    g(svyglm(I(sch.wide == "Yes") ~ ell + meals, rclus1, family = quasibinomial())))
add("clus1_jk1_glm_subset", "apiclus1", C1, "svyglm(api00 ~ ell, subset(rclus1, stype=='E'))",
    g(svyglm(api00 ~ ell, subset(rclus1, stype == "E"))))
add("strat_bootstrap_given_glm", "apistrat_bootstrap50", list(weights = "pw", repweights = "rw1..rw50", type = "bootstrap"),
    "svyglm(api00 ~ enroll, svrepdesign(weights=~pw, repweights='rw[0-9]+', type='bootstrap', data=bootdf))",
    g(svyglm(api00 ~ enroll, svrepdesign(data = rd("apistrat_bootstrap50.csv"), weights = ~pw, repweights = "rw[0-9]+", type = "bootstrap", combined.weights = TRUE))))
write_cases(out)
