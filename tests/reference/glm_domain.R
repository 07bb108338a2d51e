# Quasibinomial svyglm on a domain (subset of the design) and a glm that does not converge.
# Run: Rscript glm_domain.R   (writes glm_domain.json beside this script)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
options(digits = 15)
cases <- list()
add <- function(id, call, fit) {
  s <- summary(fit)$coefficients
  cases[[id]] <<- list(call = call, names = rownames(s), estimate = unname(s[, 1]),
                       se = unname(s[, 2]), statistic = unname(s[, 3]), p_value = unname(s[, 4]),
                       df_resid = fit$df.residual)
}
st <- dat("apistrat")
dst <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
f <- svyglm(I(awards == "Yes") ~ ell + meals, design = subset(dst, sch.wide == "Yes"),
            family = quasibinomial())
add("strat_subset_quasibinomial", "subset(dst, sch.wide == 'Yes')", f)
f <- svyglm(I(awards == "Yes") ~ ell + meals, design = subset(dst, stype != "E"),
            family = quasibinomial())
add("strat_subset_quasibinomial_HM", "subset(dst, stype != 'E')", f)
c1 <- dat("apiclus1")
dc1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = c1)
f <- svyglm(I(sch.wide == "Yes") ~ ell + meals, design = subset(dc1, stype == "E"),
            family = quasibinomial())
add("clus1_subset_quasibinomial", "subset(dc1, stype == 'E')", f)
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")),
                       cases = cases), digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "glm_domain.json"))
