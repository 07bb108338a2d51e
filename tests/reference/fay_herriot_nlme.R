# Fay-Herriot ML fits by nlme::lme with known sampling variances, for
# tests/estimation/test_small_area_reference.py.
#   y_i = x_i'beta + u_i + e_i, u_i ~ N(0, A), e_i ~ N(0, psi_i) with psi_i known:
#   lme(y ~ x, random = ~ 1 | area, weights = varFixed(~ psi), control = lmeControl(sigma = 1))
# The residual scale is fixed at 1 so the residual variance of area i is psi_i.
# Run from the repository root: Rscript tests/reference/fay_herriot_nlme.R
library(nlme)
library(jsonlite)

fit_ml <- function(d, formula) {
  ctl <- lmeControl(sigma = 1, tolerance = 1e-14, msTol = 1e-14, msMaxIter = 500,
                    maxIter = 500, niterEM = 0, opt = "nlminb", returnObject = TRUE)
  f <- lme(formula, random = ~ 1 | area, weights = varFixed(~ psi), data = d,
           method = "ML", control = ctl)
  list(sigma2_u = as.numeric(getVarCov(f)[1, 1]),
       beta = unname(fixef(f)),
       beta_names = names(fixef(f)),
       eblup = unname(fitted(f, level = 1)),
       loglik = as.numeric(logLik(f)),
       area = as.character(d$area))
}

milk <- read.csv("tests/reference/fay_herriot_milk.csv")
milk$area <- factor(sprintf("%02d", milk$SmallArea))
milk$psi <- milk$SD^2
milk$MajorArea <- factor(milk$MajorArea)
r_milk <- fit_ml(milk, yi ~ MajorArea)

# a second case: 30 areas with two continuous covariates and unequal variances
set.seed(20261201)
m <- 30
d <- data.frame(area = factor(sprintf("A%03d", 1:m)),
                x1 = round(runif(m, 0, 10), 3), x2 = round(rnorm(m), 3),
                psi = round(runif(m, 0.2, 3), 4))
d$y <- round(2 + 0.5 * d$x1 - 1.2 * d$x2 + rnorm(m, 0, 1) + rnorm(m, 0, sqrt(d$psi)), 4)
r_sim <- fit_ml(d, y ~ x1 + x2)

out <- list(
  milk = r_milk,
  simulated = c(r_sim, list(data = list(area = as.character(d$area), x1 = d$x1, x2 = d$x2,
                                        psi = d$psi, y = d$y))),
  versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme")))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/fay_herriot_nlme.json")
