"""Iteratively reweighted least squares for the design-based GLM (pure numpy).

Reproduces the iteration of R's ``glm.fit`` (McCullagh & Nelder 1989, §2.5): starting values
from the family's ``initialize`` (or ``start``), weighted least squares on the working response
``z = η + (y − μ)/μ'(η)`` with working weights ``w μ'(η)² / V(μ)``, stopping when
``|D − D_old| / (|D| + 0.1) < ε``. As in R, the returned working weights are those of the
last weighted least-squares step, so that ``(Xᵀ W X)⁻¹`` and the score equations
``Xᵀ W (y − μ)/μ'(η)`` are exactly the quantities R's ``svyglm`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveycore.errors import SurveyError

_EPS = np.finfo(float).eps
FAMILIES = ["gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"]


@dataclass(frozen=True)
class Family:
    """Error distribution with its canonical link."""

    name: str

    @property
    def kind(self) -> str:
        return {"gaussian": "gaussian", "binomial": "binomial", "quasibinomial": "binomial",
                "poisson": "poisson", "quasipoisson": "poisson"}[self.name]

    def initial_mu(self, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return y.copy()
        if self.kind == "binomial":
            yy = np.where(w == 0, 0.0, y)
            return (w * yy + 0.5) / (w + 1)
        return y + 0.1

    def link(self, mu: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return mu
        if self.kind == "binomial":
            return np.log(mu / (1 - mu))
        return np.log(mu)

    def linkinv(self, eta: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return eta
        if self.kind == "binomial":
            tmp = np.where(eta < -30, _EPS, np.where(eta > 30, 1 / _EPS, np.exp(np.clip(eta, -30, 30))))
            return tmp / (1 + tmp)
        return np.maximum(np.exp(eta), _EPS)

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return np.ones_like(eta)
        if self.kind == "binomial":
            e = np.exp(np.clip(eta, -30, 30))
            return np.where((eta > 30) | (eta < -30), _EPS, e / (1 + e) ** 2)
        return np.maximum(np.exp(eta), _EPS)

    def variance(self, mu: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return np.ones_like(mu)
        if self.kind == "binomial":
            return mu * (1 - mu)
        return mu

    def deviance_residuals(self, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return w * (y - mu) ** 2
        if self.kind == "binomial":
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.where(y > 0, y * np.log(y / mu), 0.0)
                b = np.where(1 - y > 0, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
            return 2 * w * (a + b)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(y > 0, w * (y * np.log(y / mu) - (y - mu)), mu * w)
        return 2 * r

    def check_response(self, y: np.ndarray, w: np.ndarray) -> None:
        active = w > 0
        if self.kind == "binomial" and ((y[active] < 0) | (y[active] > 1)).any():
            raise SurveyError(
                f"family={self.name!r} needs a response in [0, 1]",
                argument="formula",
                expected="a 0/1 (or proportion) response, e.g. I(x == 'Yes')",
                found=f"values from {y[active].min():g} to {y[active].max():g}",
            )
        if self.kind == "poisson" and (y[active] < 0).any():
            raise SurveyError(
                f"family={self.name!r} needs a non-negative response",
                argument="formula",
                expected="counts >= 0",
                found=f"{int((y[active] < 0).sum())} negative values",
            )


@dataclass(frozen=True)
class IrlsFit:
    """Result of :func:`irls`.

    Attributes
    ----------
    coef : ndarray (p,)
    mu, eta : ndarray (n,)
        Fitted values at ``coef``.
    working_weights : ndarray (n,)
        Weights of the last least-squares step (zero for rows with zero prior weight).
    deviance : float
    iterations : int
    converged : bool
    """

    coef: np.ndarray
    mu: np.ndarray
    eta: np.ndarray
    working_weights: np.ndarray
    deviance: float
    iterations: int
    converged: bool

    def bread(self, X: np.ndarray) -> np.ndarray:
        """``(Xᵀ W X)⁻¹`` with the last working weights (R's ``summary.glm`` ``cov.unscaled``)."""
        xtwx = X.T @ (X * self.working_weights[:, None])
        return np.linalg.inv(xtwx)

    def estfun(self, X: np.ndarray, y: np.ndarray, family: Family) -> np.ndarray:
        """Score contributions ``x_i w_i (y_i − μ_i)/μ'(η_i)`` (R: working residual × weight)."""
        resid = (y - self.mu) / family.mu_eta(self.eta)
        return X * (resid * self.working_weights)[:, None]


def fitted_boundary(fit: IrlsFit, family: Family, prior: np.ndarray) -> bool:
    """Whether fitted probabilities are numerically 0 or 1 (binomial) or rates numerically 0
    (Poisson) in rows with positive weight: R's ``glm.fit`` test ``mu < 10 ε`` or
    ``mu > 1 − 10 ε``, the sign of complete or quasi-complete separation
    (Albert & Anderson 1984)."""
    mu = fit.mu[prior > 0]
    eps = 10 * _EPS
    if family.kind == "binomial":
        return bool(((mu > 1 - eps) | (mu < eps)).any())
    if family.kind == "poisson":
        return bool((mu < eps).any())
    return False


def irls(
    X: np.ndarray,
    y: np.ndarray,
    prior: np.ndarray,
    family: Family,
    *,
    start: np.ndarray | None = None,
    epsilon: float = 1e-8,
    max_iter: int = 25,
) -> IrlsFit:
    """Fit a GLM by IRLS exactly as R's ``glm.fit`` iterates (no offset)."""
    good_prior = prior > 0
    if start is None:
        mu = family.initial_mu(y, prior)
        eta = family.link(mu)
    else:
        eta = X @ start
    mu = family.linkinv(eta)
    devold = float(family.deviance_residuals(y, mu, prior).sum())
    coef = np.zeros(X.shape[1]) if start is None else np.asarray(start, dtype=float)
    converged = False
    wt = np.zeros(len(y))
    iterations = 0
    for it in range(1, max_iter + 1):
        iterations = it
        mu_eta = family.mu_eta(eta)
        good = good_prior & (mu_eta != 0)
        # rows outside `good` get weight zero (no copies of the model matrix)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(good, eta + (y - mu) / mu_eta, 0.0)
            sw = np.where(good, np.sqrt(prior * mu_eta**2 / family.variance(mu)), 0.0)
        coef, _, rank, _ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        if rank < X.shape[1]:
            raise SurveyError(
                "the model matrix is rank deficient",
                argument="formula",
                expected="linearly independent terms",
                found=f"rank {rank} for {X.shape[1]} terms",
                hint="drop aliased terms or levels with no observations",
            )
        wt = sw**2
        eta = X @ coef
        mu = family.linkinv(eta)
        dev = float(family.deviance_residuals(y, mu, prior).sum())
        if not np.isfinite(dev):
            raise SurveyError(
                "the model fit diverged",
                argument="formula",
                expected="a model with finite deviance",
                found="non-finite deviance",
                hint="check for complete separation or extreme values",
            )
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        devold = dev
    return IrlsFit(coef, mu, eta, wt, dev, iterations, converged)
