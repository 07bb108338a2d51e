# Reference for one weighting chain from households to persons:
#   eligibility (classes: stratum) -> nonresponse (classes: cls) -> expand to persons
#   -> post-stratification of persons by sex.
# Every estimate of the chain is a smooth function of Horvitz-Thompson totals of the
# household sample; svycontrast() gives its delta-method (linearised) variance, which the
# package's Taylor engine must reproduce. The data are written beside this script.
# Run from tests/reference: Rscript household_chain.R
suppressMessages({library(survey); library(jsonlite)})
options(digits = 15)
set.seed(20251201)
n_ea <- 24
ea <- data.frame(ea = sprintf("EA%03d", 1:n_ea), stratum = rep(c("north", "centre", "south"), each = 8))
hh <- ea[rep(1:n_ea, each = 12), ]
hh$hid <- sprintf("%06d", seq_len(nrow(hh)) * 7)           # text ids with leading zeros
hh$cls <- sample(c("c1", "c2", "c3"), nrow(hh), replace = TRUE, prob = c(0.4, 0.35, 0.25))
hh$d <- round(runif(nrow(hh), 15, 45), 3) * ifelse(hh$stratum == "south", 2, 1)
hh$disp <- sample(c(1.1, 2.1, 3.1, 4.1), nrow(hh), replace = TRUE, prob = c(0.7, 0.15, 0.08, 0.07))
hh$size <- sample(1:5, nrow(hh), replace = TRUE)
rownames(hh) <- NULL
resp_h <- hh[hh$disp == 1.1, ]
ps <- resp_h[rep(seq_len(nrow(resp_h)), resp_h$size), c("hid", "ea", "stratum")]
ps$line <- ave(seq_len(nrow(ps)), ps$hid, FUN = seq_along)
ps$sex <- sample(c("F", "M"), nrow(ps), replace = TRUE)
ps$age <- sample(c("young", "old"), nrow(ps), replace = TRUE, prob = c(0.6, 0.4))
ps$y <- round(rgamma(nrow(ps), 2, 0.1) + 8 * (ps$age == "old") + 15 * (ps$sex == "F") * (ps$age == "old"), 2)
rownames(ps) <- NULL
write.csv(hh[, c("hid", "ea", "stratum", "cls", "d", "disp")], "household_chain_households.csv", row.names = FALSE)
write.csv(ps[, c("hid", "ea", "stratum", "line", "sex", "age", "y")], "household_chain_persons.csv", row.names = FALSE)
pop <- c(F = 5200, M = 4900)

# household-level totals: T_k, K_k (eligibility), E_ck, R_ck (nonresponse),
# Y_gck / N_gck (respondents' members of sex g: y and count), and the same for age == "old"
K <- unique(hh$stratum); C <- unique(hh$cls); G <- c("F", "M")
agg <- function(v) tapply(v, factor(ps$hid, levels = hh$hid), sum, default = 0)
vars <- list()
for (k in K) {
  vars[[paste0("T_", k)]] <- as.numeric(hh$stratum == k)
  vars[[paste0("K_", k)]] <- as.numeric(hh$stratum == k & hh$disp != 3.1)
  for (c in C) {
    m <- hh$stratum == k & hh$cls == c
    vars[[paste0("E_", c, "_", k)]] <- as.numeric(m & hh$disp %in% c(1.1, 2.1))
    vars[[paste0("R_", c, "_", k)]] <- as.numeric(m & hh$disp == 1.1)
    for (g in G) {
      for (dom in c("all", "old")) {
        sel <- ps$sex == g & (dom == "all" | ps$age == "old")
        vars[[paste0("Y_", dom, "_", g, "_", c, "_", k)]] <- as.numeric(m) * agg(ps$y * sel)
        vars[[paste0("N_", dom, "_", g, "_", c, "_", k)]] <- as.numeric(m) * agg(as.numeric(sel))
      }
    }
  }
}
X <- as.data.frame(vars)
hd <- cbind(hh, X)
des <- svydesign(ids = ~ea, strata = ~stratum, weights = ~d, data = hd)
tot <- svytotal(as.formula(paste("~", paste(names(X), collapse = "+"))), des)

# expressions: A_k = T_k/K_k; f_c = sum_k A_k E_ck / sum_k A_k R_ck;
# hat(V)_{dom,g} = sum_c f_c sum_k A_k V_{dom,g,c,k};  post-stratified: pop_g * Yhat/Nhat
A <- function(k) sprintf("(T_%s/K_%s)", k, k)
f <- function(c) sprintf("((%s)/(%s))", paste(sapply(K, function(k) sprintf("%s*E_%s_%s", A(k), c, k)), collapse = "+"),
                         paste(sapply(K, function(k) sprintf("%s*R_%s_%s", A(k), c, k)), collapse = "+"))
hat <- function(v, dom, g) paste0("(", paste(sapply(C, function(c) sprintf("%s*(%s)", f(c),
  paste(sapply(K, function(k) sprintf("%s*%s_%s_%s_%s_%s", A(k), v, dom, g, c, k)), collapse = "+"))), collapse = "+"), ")")
ps_tot <- function(v, dom, g) sprintf("(%g*%s/%s)", pop[[g]], hat(v, dom, g), hat("N", "all", g))
e <- list(
  total_y = paste(sapply(G, function(g) ps_tot("Y", "all", g)), collapse = "+"),
  mean_y = sprintf("(%s)/%g", paste(sapply(G, function(g) ps_tot("Y", "all", g)), collapse = "+"), sum(pop)),
  mean_y_F = sprintf("%s/%s", hat("Y", "all", "F"), hat("N", "all", "F")),
  mean_y_M = sprintf("%s/%s", hat("Y", "all", "M"), hat("N", "all", "M")),
  total_y_old = paste(sapply(G, function(g) ps_tot("Y", "old", g)), collapse = "+"),
  total_n_old = paste(sapply(G, function(g) ps_tot("N", "old", g)), collapse = "+")
)
e$mean_y_old <- sprintf("(%s)/(%s)", e$total_y_old, e$total_n_old)
res <- svycontrast(tot, lapply(e, function(s) parse(text = s)[[1]]))
out <- data.frame(name = names(e), estimate = unname(coef(res)), se = unname(SE(res)))
# the final person weights, from the formulas above, for a check of the point estimates
w_final <- numeric(nrow(ps))
Akv <- sapply(K, function(k) sum(hh$d[hh$stratum == k]) / sum(hh$d[hh$stratum == k & hh$disp != 3.1]))
hw <- hh$d * Akv[hh$stratum] * (hh$disp != 3.1)
fc <- sapply(C, function(c) sum(hw[hh$cls == c & hh$disp %in% c(1.1, 2.1)]) / sum(hw[hh$cls == c & hh$disp == 1.1]))
hw <- hw * ifelse(hh$disp == 1.1, fc[hh$cls], ifelse(hh$disp == 2.1, 0, 1))
pw <- hw[match(ps$hid, hh$hid)]
pw <- pw * (pop[ps$sex] / tapply(pw, ps$sex, sum)[ps$sex])
write_json(list(call = "svycontrast(svytotal(household totals), chain expressions)",
                pop = as.list(pop), values = out, weights = unname(pw)),
           "household_chain.json", digits = NA, pretty = TRUE)
