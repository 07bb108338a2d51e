# Two-phase designs (R survey `twophase`, method "full" and "approx"). Run: Rscript twophase.R
# Writes twophase.json beside this script, and the screening data sets in ../data.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail")
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
data_dir <- file.path(here, "..", "data")
cases <- list()
add <- function(id, x) {
  if (inherits(x, "svyby")) {
    est <- coef(x); se <- SE(x); v <- se^2
  } else if (inherits(x, "svyratio")) {
    est <- c(ratio = as.vector(x$ratio)); v <- as.vector(x$var); se <- sqrt(v)
  } else {
    est <- coef(x); v <- diag(as.matrix(vcov(x))); se <- SE(x)
  }
  cases[[length(cases) + 1]] <<- list(id = id, names = names(est), estimate = unname(as.numeric(est)),
                                      se = unname(as.numeric(se)), var = unname(as.numeric(v)))
}

# Domains of a calibrated full-method design: R's `[.twophase2` zeroes the rows outside the
# domain in the phase-2 Delta-check matrix, so the calibration residuals outside the domain lose
# their pairs with each other. The reference is R's own variance function on the whole design
# with the domain's scores (every pair kept), as for every other design kind.
domain_cases <- function(id, dc, yname, dname, stat) {
  v <- dc$phase1$sample$variables
  pw <- 1 / dc$prob
  lev <- sort(unique(v[[dname]]))
  est <- numeric(0); vv <- numeric(0)
  for (l in lev) {
    ind <- as.numeric(v[[dname]] == l)
    y <- v[[yname]]
    if (stat == "mean") {
      m <- sum(pw * ind * y) / sum(pw * ind)
      x <- ind * (y - m) * pw / sum(pw * ind)
    } else {
      m <- sum(pw * ind * y); x <- ind * y * pw
    }
    est <- c(est, m); vv <- c(vv, as.numeric(survey:::twophase2var(matrix(x), dc)))
  }
  cases[[length(cases) + 1]] <<- list(id = id, names = as.character(lev), estimate = est, se = sqrt(vv), var = vv,
                                      note = "twophase2var on the whole design with the domain scores")
}
add_by <- function(id, dc, yname, dname, stat, method) {
  if (method == "full") return(domain_cases(id, dc, yname, dname, stat))
  add(id, svyby(as.formula(paste0("~", yname)), as.formula(paste0("~", dname)), dc,
                if (stat == "mean") svymean else svytotal))
}

# --- screening data: an office's migrant-targeted design -----------------------------------------
# phase 1: EAs by stratified SRS within regions, every household listed and screened
# (screen1) or households sampled within EAs (screen2); phase 2: every migrant household and a
# quarter of the others within each EA.
set.seed(20261201)
regions <- c("01", "02", "03")
N_ea <- c(40, 55, 30); n_ea <- c(4, 4, 4)
rows <- list()
for (h in seq_along(regions)) {
  eas <- sort(sample(N_ea[h], n_ea[h]))
  for (e in eas) {
    M <- sample(16:28, 1)
    ea <- sprintf("%s%03d", regions[h], e)
    mig <- rbinom(M, 1, 0.2)
    mig[1:2] <- 1
    rows[[length(rows) + 1]] <- data.frame(region = regions[h], ea = ea, N_ea = N_ea[h], M_ea = M,
      hh = sprintf("%s%02d", ea, 1:M), migrant = ifelse(mig == 1, "yes", "no"),
      size_screen = rpois(M, 3) + 1, stringsAsFactors = FALSE)
  }
}
pop <- do.call(rbind, rows)
pop$income <- round(rgamma(nrow(pop), 3, 1 / 400) + 300 * (pop$migrant == "yes"), 2)
pop$hhsize <- pmax(1, pop$size_screen + rbinom(nrow(pop), 2, 0.3) - 1)
pop$remit <- ifelse(runif(nrow(pop)) < ifelse(pop$migrant == "yes", 0.6, 0.1), "yes", "no")
pop$head_sex <- ifelse(runif(nrow(pop)) < 0.35, "F", "M")
pick <- function(d, key, rate) {
  keep <- logical(nrow(d))
  for (k in unique(key)) {
    idx <- which(key == k)
    m <- max(2, round(rate * length(idx)))
    if (length(idx) <= 2) m <- length(idx)
    keep[idx[sort(sample(length(idx), m))]] <- TRUE
  }
  keep
}
# screen1: phase 1 is the cluster sample of EAs (all listed households)
s1 <- pop
s1$st2 <- paste(s1$ea, s1$migrant, sep = "_")
s1$in2 <- s1$migrant == "yes" | pick(s1, s1$st2, 0.25)
s1$in2[s1$migrant == "yes"] <- TRUE
ph2only <- c("income", "hhsize", "remit", "head_sex")
s1[!s1$in2, ph2only] <- NA
write.csv(s1, file.path(data_dir, "twophase_screen1.csv"), row.names = FALSE, na = "")
# screen2: phase 1 is two-stage (12 households by SRS within each EA, then screened)
s2 <- pop
keep <- logical(nrow(s2))
for (e in unique(s2$ea)) { idx <- which(s2$ea == e); keep[idx[sort(sample(length(idx), 12))]] <- TRUE }
s2 <- s2[keep, ]
s2$st2 <- paste(s2$ea, s2$migrant, sep = "_")
s2$in2 <- s2$migrant == "yes" | pick(s2, s2$st2, 0.3)
s2[!s2$in2, ph2only] <- NA
write.csv(s2, file.path(data_dir, "twophase_screen2.csv"), row.names = FALSE, na = "")

s1 <- read.csv(file.path(data_dir, "twophase_screen1.csv"), colClasses = c(region = "character", ea = "character", hh = "character"))
s2 <- read.csv(file.path(data_dir, "twophase_screen2.csv"), colClasses = c(region = "character", ea = "character", hh = "character"))
designs <- list(
  screen1 = function(method) twophase(id = list(~ea, ~hh), strata = list(~region, ~st2), fpc = list(~N_ea, NULL),
                                      subset = ~in2, data = s1, method = method),
  screen2 = function(method) twophase(id = list(~ea + hh, ~hh), strata = list(~region, ~st2),
                                      fpc = list(~N_ea + M_ea, NULL), subset = ~in2, data = s2, method = method))
for (nm in names(designs)) {
  dat <- if (nm == "screen1") s1 else s2
  for (method in c("full", "approx")) {
    d <- designs[[nm]](method)
    p <- paste(nm, method, sep = "_")
    add(paste0(p, "_mean"), svymean(~income + hhsize, d))
    add(paste0(p, "_total"), svytotal(~income + hhsize, d))
    add(paste0(p, "_mean_factor"), svymean(~factor(remit), d))
    add(paste0(p, "_ratio"), svyratio(~income, ~hhsize, d))
    add(paste0(p, "_by_mean"), svyby(~income, ~head_sex, d, svymean))
    add(paste0(p, "_by_total"), svyby(~income, ~head_sex, d, svytotal))
    add(paste0(p, "_by_region_mean"), svyby(~income, ~region, d, svymean))
    dc <- calibrate(d, phase = 2, formula = ~region + size_screen)  # phase-1 sample totals
    add(paste0(p, "_cal_mean"), svymean(~income + hhsize, dc))
    add(paste0(p, "_cal_total"), svytotal(~income + size_screen, dc))
    add_by(paste0(p, "_cal_by_mean"), dc, "income", "head_sex", "mean", method)
    add_by(paste0(p, "_cal_by_total"), dc, "income", "head_sex", "total", method)
  }
}

# --- R's own examples: two-stage sampling as two-phase (mu284), case-cohort (nwtco) ------------
mu284 <- read.csv(file.path(data_dir, "mu284.csv"))
ii <- with(mu284, c(1:15, rep(1:5, n2[1:5] - 3)))
mu <- mu284[ii, ]
mu$id <- 1:nrow(mu)
mu$sub <- rep(c(TRUE, FALSE), c(15, 34 - 15))
for (method in c("full", "approx")) {
  d <- twophase(id = list(~id1, ~id), strata = list(NULL, ~id1), fpc = list(~n1, NULL), data = mu,
                subset = ~sub, method = method)
  add(paste0("mu284_", method, "_total"), svytotal(~y1, d))
  add(paste0("mu284_", method, "_mean"), svymean(~y1, d))
}
nwtco <- read.csv(file.path(data_dir, "nwtco.csv"))
nwtco$sub <- with(nwtco, in.subcohort | rel == 1)
for (method in c("full", "approx")) {
  d <- twophase(id = list(~seqno, ~seqno), strata = list(NULL, ~rel), subset = ~sub, data = nwtco,
                method = method)
  p <- paste0("nwtco_", method)
  add(paste0(p, "_mean"), svymean(~edrel + age, d))
  add(paste0(p, "_total"), svytotal(~edrel, d))
  add(paste0(p, "_by_mean"), svyby(~edrel, ~stage, d, svymean))
  dc <- calibrate(d, phase = 2, formula = ~factor(stage) + age)
  add(paste0(p, "_cal_mean"), svymean(~edrel + age, dc))
  add_by(paste0(p, "_cal_by_mean"), dc, "edrel", "stage", "mean", method)
}
writeLines(toJSON(list(generator = paste("R", getRversion(), "survey", packageVersion("survey")), cases = cases),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "twophase.json"))
cat("wrote", length(cases), "cases\n")
