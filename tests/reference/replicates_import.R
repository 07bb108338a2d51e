# Agencies' calibrated replicate weights (JKn, SDR, BRR) re-imported (R survey svrepdesign).
# Run: Rscript replicates_import.R -> replicates_import.json and the weight files in ../data.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
dat <- function(n) read.csv(file.path(here, "..", "data", paste0(n, ".csv")))
cases <- list()
add <- function(id, x) {
  cases[[length(cases) + 1]] <<- list(id = id, names = names(coef(x)), estimate = unname(coef(x)),
                                      se = unname(SE(x)))
}
st <- dat("apistrat")
st <- do.call(rbind, lapply(split(st, st$stype), head, 20))  # 20 schools per stratum
st$pw <- st$fpc / 20
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = st)
pop <- c(6194, 755, 1018, 3914069)  # intercept, stype H, stype M, api99
export <- function(name, des) {
  W <- weights(des, "analysis"); colnames(W) <- paste0("rw", seq_len(ncol(W)))
  out <- data.frame(snum = st$snum, cal_w = weights(des, "sampling"), W)
  write.csv(format(out, digits = 17), file.path(here, "..", "data", paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
}
estimates <- function(prefix, des) {
  add(paste0(prefix, "_mean"), svymean(~api00 + enroll, des))
  add(paste0(prefix, "_total"), svytotal(~enroll, des))
  add(paste0(prefix, "_by_mean"), svyby(~api00, ~awards, des, svymean))
}
# JKn calibrated replicate by replicate
rj <- as.svrepdesign(dstrat, type = "JKn")
rjc <- calibrate(rj, ~stype + api99, pop)
export("apistrat_jkn_cal", rjc)
imp <- svrepdesign(data = st, repweights = weights(rjc, "analysis"), weights = weights(rjc, "sampling"),
                   type = "JKn", scale = rj$scale, rscales = rj$rscales, combined.weights = TRUE)
estimates("jkn_cal", imp)
cases[[length(cases) + 1]] <- list(id = "jkn_design", scale = rj$scale, rscales = rj$rscales)
# SDR: successive differences within strata (rows in data order), Hadamard rows 2 .. P+1
H <- hadamard(nrow(st))
H <- 2 * (H > 0) - 1
R <- ncol(H)
ord <- order(st$stype, seq_len(nrow(st)))
row_of <- integer(nrow(st)); row_of[ord] <- seq_len(nrow(st)) + 1
succ <- integer(nrow(st))
for (s in unique(st$stype)) { i <- ord[st$stype[ord] == s]; succ[i] <- c(i[-1], i[1]) }
f <- 1 + 2^-1.5 * (H[row_of, ] - H[row_of[succ], ])
rs <- svrepdesign(data = st, repweights = f * st$pw, weights = st$pw, type = "successive-difference",
                  combined.weights = TRUE)
rsc <- calibrate(rs, ~stype + api99, pop, compress = FALSE)
export("apistrat_sdr_cal", rsc)
imp <- svrepdesign(data = st, repweights = weights(rsc, "analysis"), weights = weights(rsc, "sampling"),
                   type = "successive-difference", combined.weights = TRUE)
estimates("sdr_cal", imp)
# BRR (two PSUs per stratum, as R's scd data) calibrated
scd <- dat("scd")
scd$strata <- c(1, 1, 2, 2, 3, 3); scd$psu <- c(1, 2, 1, 2, 1, 2)
db <- svydesign(id = ~psu, strata = ~strata, data = scd, nest = TRUE, weights = ~rep(1, 6))
rb <- as.svrepdesign(db, type = "BRR")
rbc <- calibrate(rb, ~arrests, c(6, sum(scd$arrests) * 1.1), compress = FALSE)
Wb <- weights(rbc, "analysis"); colnames(Wb) <- paste0("rw", seq_len(ncol(Wb)))
write.csv(format(data.frame(cal_w = weights(rbc, "sampling"), Wb), digits = 17),
          file.path(here, "..", "data", "scd_brr_cal.csv"), row.names = FALSE, quote = FALSE)
imp <- svrepdesign(data = scd, repweights = Wb, weights = weights(rbc, "sampling"), type = "BRR", combined.weights = TRUE)
add("brr_cal_mean", svymean(~alive + arrests, imp))
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "replicates_import.json"))
cat("wrote", length(cases), "cases\n")
