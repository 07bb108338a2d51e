# lonely_psu = "average" in domains of designs without calibration (R survey 4.1, with
# survey.adjust.domain.lonely = FALSE): R's subset drops the rows outside the domain, so the
# average is taken over the strata present in the domain (nstrat/nokstrat of those strata);
# a domain lying only in single-PSU strata has no variance estimate (NaN).
# Run: Rscript lonely_average_domains.R -> lonely_average_domains.json beside this script.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
st <- read.csv(file.path(here, "..", "data", "apistrat.csv"))
options(survey.lonely.psu = "average", survey.adjust.domain.lonely = FALSE)
# nine strata: school type by county group; the high-school strata hold a single cluster each
st$str <- paste0(st$stype, st$cnum %% 3)
st$cl <- ave(st$snum, st$str, FUN = function(v) (seq_along(v) - 1) %/% 3)
st$cl[st$stype == "H"] <- 0
st$grp <- ifelse(st$cnum %% 2 == 0, "even", "odd")
# two stages: clusters of schools with population sizes; some clusters hold a single school
st$fpc1 <- ave(st$cl, st$str, FUN = function(v) 3 * length(unique(v)))
st$fpc2 <- ave(st$snum, st$str, st$cl, FUN = function(v) 4 * length(v))
write.csv(st[, c("snum", "str", "cl", "grp", "fpc1", "fpc2", "pw", "api00", "enroll", "stype")],
          file.path(here, "..", "data", "apistrat_lonely_average.csv"), row.names = FALSE)
cases <- list()
add <- function(id, x) {
  cases[[length(cases) + 1]] <<- list(id = id, names = names(coef(x)), estimate = unname(coef(x)),
                                      se = unname(SE(x)))
}
d1 <- svydesign(id = ~cl, strata = ~str, weights = ~pw, data = st, nest = TRUE)
add("one_stage_whole_mean", svymean(~api00, d1))
add("one_stage_by_stype_mean", svyby(~api00, ~stype, d1, svymean))
add("one_stage_by_grp_mean", svyby(~api00, ~grp, d1, svymean))
add("one_stage_by_grp_total", svyby(~enroll, ~grp, d1, svytotal))
add("one_stage_subset_even_mean", svymean(~api00, subset(d1, grp == "even")))
add("one_stage_by_stype_grp_mean", svyby(~api00, ~stype + grp, d1, svymean))
d2 <- svydesign(id = ~cl + snum, strata = ~str, fpc = ~fpc1 + fpc2, data = st, nest = TRUE)
add("two_stage_whole_mean", svymean(~api00, d2))
add("two_stage_by_grp_mean", svyby(~api00, ~grp, d2, svymean))
add("two_stage_by_stype_total", svyby(~enroll, ~stype, d2, svytotal))
# with survey.adjust.domain.lonely: strata where a domain holds a single cluster too
options(survey.adjust.domain.lonely = TRUE)
for (lonely in c("average", "adjust")) {
  options(survey.lonely.psu = lonely)
  add(paste0("two_stage_domain_lonely_", lonely, "_by_grp_mean"), svyby(~api00, ~grp, d2, svymean))
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "lonely_average_domains.json"))
cat("wrote", length(cases), "cases\n")
