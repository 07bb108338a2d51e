# Lonely PSUs at the second stage (R survey). Run: Rscript lonely_stage2.R -> lonely_stage2.json
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
c2 <- read.csv(file.path(here, "..", "data", "apiclus2.csv"))
# keep one sampled school in the first three districts that have several
multi <- names(which(table(c2$dnum) > 1))[1:3]
drop <- unlist(lapply(multi, function(d) which(c2$dnum == d)[-1]))
c2 <- c2[-drop, ]
out <- list(dropped_rows = drop)
for (opt in c("adjust", "average", "remove", "certainty")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = c2)
  m <- svymean(~api00 + api99, d)
  out[[opt]] <- list(estimate = unname(coef(m)), se = unname(SE(m)))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "lonely_stage2.json"))
