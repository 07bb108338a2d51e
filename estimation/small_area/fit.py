"""Fitting the Fay–Herriot area-level model: the area variance σ²_u by REML or ML, β by GLS.

Model (Fay & Herriot 1979; Rao & Molina 2015, ch. 6)::

    y_i = θ_i + e_i,    θ_i = x_i'β + u_i,    u_i ~ N(0, A),    e_i ~ N(0, ψ_i),

with ``A = σ²_u`` unknown and the sampling variances ``ψ_i`` known. With ``V = diag(A + ψ_i)``,
``β̂(A) = (X'V⁻¹X)⁻¹X'V⁻¹y`` and the GLS residuals ``r = y − Xβ̂(A)``:

* log-likelihood  ``ℓ(A) = −½ [m log 2π + Σ log(A+ψ_i) + Σ r_i²/(A+ψ_i)]``, score
  ``s(A) = −½ Σ v_i + ½ Σ v_i² r_i²`` and Fisher information ``I(A) = ½ Σ v_i²``
  (``v_i = 1/(A+ψ_i)``);
* restricted log-likelihood ``ℓ_R(A) = −½ [(m−p) log 2π + Σ log(A+ψ_i) + log|X'V⁻¹X| + y'Py]``
  with ``P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹`` (so ``Py = V⁻¹r``), score
  ``s_R(A) = −½ tr P + ½ y'P²y`` and information ``I_R(A) = ½ tr P²``
  (Harville 1977; Rao & Molina 2015, §6.1.2).

Fisher scoring ``A ← max(0, A + s(A)/I(A))`` starts at the median of ``ψ`` (as R ``sae``).
Boundary: the variance is constrained to ``A ≥ 0``. When the score at ``A = 0`` is not positive
the (restricted) likelihood is maximised on the boundary and ``Â = 0`` is reported as such; the
EBLUP is then the synthetic regression estimator for every area. Columns that do not converge
by scoring are finished by a bounded one-dimensional maximisation (Brent) of the same
likelihood.

Every function works on ``R`` response vectors at once (``y`` of shape ``(m, R)``), which is how
the parametric bootstrap fits all its replicates in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize

Method = Literal["REML", "ML"]


@dataclass(frozen=True)
class VarianceFit:
    """Estimated area variances (one per response column) and how they were reached."""

    A: np.ndarray            # (R,) estimated σ²_u, ≥ 0
    converged: np.ndarray    # (R,) bool
    iterations: np.ndarray   # (R,) Fisher-scoring iterations used
    boundary: np.ndarray     # (R,) bool: the maximum is at A = 0


def gls(y: np.ndarray, X: np.ndarray, psi: np.ndarray, A: np.ndarray):
    """GLS coefficients for each column of ``y`` at its own ``A``.

    Returns ``beta (R, p)``, residuals ``r (m, R)``, ``v = 1/(A+ψ) (m, R)`` and the inverse
    information matrices ``Q = (X'V⁻¹X)⁻¹ (R, p, p)``.
    """
    v = 1.0 / (A[None, :] + psi[:, None])
    M = np.einsum("ir,ip,iq->rpq", v, X, X)
    Q = np.linalg.inv(M)
    rhs = np.einsum("ir,ip,ir->rp", v, X, y)
    beta = np.einsum("rpq,rq->rp", Q, rhs)
    r = y - X @ beta.T
    return beta, r, v, Q


def loglik(y: np.ndarray, X: np.ndarray, psi: np.ndarray, A: np.ndarray, method: Method
           ) -> np.ndarray:
    """(Restricted) log-likelihood at ``A`` for every column of ``y`` (formulas above)."""
    _, r, v, Q = gls(y, X, psi, A)
    m, p = X.shape
    quad = np.sum(v * r * r, axis=0)
    logdet_v = -np.sum(np.log(v), axis=0)
    if method == "ML":
        return -0.5 * (m * np.log(2 * np.pi) + logdet_v + quad)
    logdet_m = -np.linalg.slogdet(Q)[1]
    return -0.5 * ((m - p) * np.log(2 * np.pi) + logdet_v + logdet_m + quad)


def score_information(y, X, psi, A, method: Method):
    """Score and Fisher information of ``A`` for each column (formulas in the module text)."""
    _, r, v, Q = gls(y, X, psi, A)
    v2 = v * v
    half_yppy = 0.5 * np.sum(v2 * r * r, axis=0)
    if method == "ML":
        return -0.5 * np.sum(v, axis=0) + half_yppy, 0.5 * np.sum(v2, axis=0)
    K2 = np.einsum("ir,ip,iq->rpq", v2, X, X)
    K3 = np.einsum("ir,ip,iq->rpq", v2 * v, X, X)
    QK2 = Q @ K2
    tr_p = np.sum(v, axis=0) - np.einsum("rpp->r", QK2)
    tr_pp = (np.sum(v2, axis=0) - 2 * np.einsum("rpq,rqp->r", Q, K3)
             + np.einsum("rpq,rqp->r", QK2, QK2))
    return -0.5 * tr_p + half_yppy, 0.5 * tr_pp


def fit_variance(y: np.ndarray, X: np.ndarray, psi: np.ndarray, method: Method, *,
                 tol: float = 1e-10, max_iter: int = 100) -> VarianceFit:
    """Estimate ``A = σ²_u`` by Fisher scoring with projection on ``A ≥ 0``.

    Parameters
    ----------
    y : ndarray (m,) or (m, R)
        Direct estimates of the sampled areas (one column per response).
    X : ndarray (m, p)
        Auxiliaries of the sampled areas (with the intercept).
    psi : ndarray (m,)
        Known sampling variances, > 0.
    method : {"REML", "ML"}
    tol : float
        Convergence when ``|ΔA| ≤ tol · max(A, median ψ)``.
    """
    y = y.reshape(len(y), -1)
    R = y.shape[1]
    scale = float(np.median(psi))
    A = np.full(R, scale)
    iters = np.zeros(R, dtype=np.int64)
    active = np.ones(R, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        s, info = score_information(y[:, idx], X, psi, A[idx], method)
        new = np.maximum(A[idx] + s / info, 0.0)
        done = np.abs(new - A[idx]) <= tol * np.maximum(new, scale)
        A[idx] = new
        iters[idx] += 1
        active[idx[done]] = False
    converged = ~active
    for j in np.flatnonzero(active):
        A[j] = _brent(y[:, j:j + 1], X, psi, method, scale)
        converged[j] = True
    s0, _ = score_information(y, X, psi, np.zeros(R), method)
    boundary = (A == 0.0) | ((s0 <= 0) & (A <= tol * scale))
    A = np.where(boundary, 0.0, A)
    return VarianceFit(A=A, converged=converged, iterations=iters, boundary=boundary)


def _brent(y, X, psi, method, scale) -> float:
    """Bounded maximisation of the (restricted) likelihood over ``[0, upper]``."""
    upper = max(float(np.var(y)) * 10.0, scale * 100.0)

    def neg(a):
        return -float(loglik(y, X, psi, np.array([a]), method)[0])

    res = optimize.minimize_scalar(neg, bounds=(0.0, upper), method="bounded",
                                   options={"xatol": 1e-12 * scale})
    return float(res.x) if neg(res.x) < neg(0.0) else 0.0


def eblup(y_s: np.ndarray, X_s: np.ndarray, X_all: np.ndarray, sampled: np.ndarray,
          psi_s: np.ndarray, A: np.ndarray):
    """EBLUPs ``θ̂_i = γ_i y_i + (1−γ_i) x_i'β̂`` (sampled) and ``x_i'β̂`` (not sampled).

    Shapes: ``y_s (m, R)``, ``A (R,)``; returns ``theta (M, R)``, ``beta (R, p)``,
    ``gamma (m, R)``, ``Q (R, p, p)`` and the residuals ``r (m, R)``.
    """
    beta, r, _, Q = gls(y_s, X_s, psi_s, A)
    gamma = A[None, :] / (A[None, :] + psi_s[:, None])
    theta = X_all @ beta.T
    theta[sampled] = theta[sampled] + gamma * r
    return theta, beta, gamma, Q, r
