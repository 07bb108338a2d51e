"""Mean squared error of Fay–Herriot EBLUPs: analytic (Prasad–Rao / Datta–Lahiri) and bootstrap.

Analytic, second-order unbiased (Prasad & Rao 1990; Datta & Lahiri 2000; Rao & Molina 2015,
§6.2.1), with ``B_i = ψ_i/(A+ψ_i)`` and ``Q = (X'V⁻¹X)⁻¹``::

    g1_i = A ψ_i/(A+ψ_i)          g2_i = B_i² x_i'Q x_i          g3_i = B_i² V̄(Â)/(A+ψ_i)
    V̄(Â) = 2 / Σ_j (A+ψ_j)⁻²     (asymptotic variance of the REML and ML estimators)

    REML:  mse_i = g1_i + g2_i + 2 g3_i                               (Prasad–Rao form)
    ML:    mse_i = g1_i + g2_i + 2 g3_i − b_ML(Â) B_i²                (Datta–Lahiri)
           b_ML(A) = −tr[Q X'V⁻²X] / Σ_j (A+ψ_j)⁻²                  (bias of the ML estimator)

For an area without sample (``ψ_i → ∞``): ``B_i = 1``, ``g1_i = A``, ``g2_i = x_i'Q x_i``,
``g3_i = 0`` and, for ML, ``− b_ML``. These are the formulas of R ``sae::mseFH``.

Parametric bootstrap (González-Manteiga et al. 2008; ``sae::pbmseFH``): draw
``θ*_i = x_i'β̂ + u*_i`` for every area and ``y*_i = θ*_i + e*_i`` for the sampled ones
(``u* ~ N(0, Â)``, ``e* ~ N(0, ψ_i)``), refit the model, and average ``(θ̂*_i − θ*_i)²`` over
the replicates. All replicates are fitted together (vectorised Fisher scoring).

That plain bootstrap estimates the MSE at ``Â`` and so inherits the bias of ``g1(Â)``
(``E g1(Â) ≈ g1(A) − g3(A)``): it is low by about ``g3``, an error of order ``1/m``. The
default is therefore the bias-corrected bootstrap of Butar & Lahiri (2003) (Rao & Molina 2015,
§6.2.4), from the same replicates::

    mse_i = 2 [g1_i(Â) + g2_i(Â)] − E*[g1_i(Â*) + g2_i(Â*)] + E*[(θ̂_i(y; Â*) − θ̂_i(y; Â))²]

where ``θ̂_i(y; Â*)`` is the EBLUP of the observed data with the replicate's variance ``Â*``
(the last term estimates ``g3``, the first two remove the bias of the plug-in ``g1 + g2``).
It is second-order unbiased, like Prasad–Rao. It is used only where it raises the plain
bootstrap MSE: near the boundary ``Â*`` is truncated at 0 in many replicates, so
``E*[g1(Â*)] > g1(Â)`` and the correction would lower the MSE exactly in the samples whose
intervals are already too short (in the design-based simulation of ``docs/small-area.md``,
coverage fell from 92 % to 89 % with the correction applied both ways). Where it is not
positive the plain bootstrap value is kept and the areas are counted in ``uncorrected``. For a
back-transformed estimator (arcsine proportions) the plain bootstrap MSE on the proportion
scale is multiplied by the ratio of the corrected to the plain bootstrap MSE on the model
scale, which the delta method leaves unchanged to first order; the bootstrap error quantiles
are scaled by its square root.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from estimation.small_area.fit import Method, eblup, fit_variance


def analytic_mse(X_all: np.ndarray, sampled: np.ndarray, psi_s: np.ndarray, A: float,
                 Q: np.ndarray, method: Method) -> dict[str, np.ndarray]:
    """``g1, g2, g3`` and the MSE for every area (formulas in the module text)."""
    M = X_all.shape[0]
    v = 1.0 / (A + psi_s)
    sum_v2 = float(np.sum(v * v))
    var_a = 2.0 / sum_v2
    B = np.ones(M)
    B[sampled] = psi_s * v
    g1 = np.full(M, A)
    g1[sampled] = A * psi_s * v
    g2 = B * B * np.einsum("ip,pq,iq->i", X_all, Q, X_all)
    g3 = np.zeros(M)
    g3[sampled] = B[sampled] ** 2 * var_a * v
    mse = g1 + g2 + 2 * g3
    out = {"g1": g1, "g2": g2, "g3": g3}
    if method == "ML":
        X_s = X_all[sampled]
        K2 = (X_s * (v * v)[:, None]).T @ X_s
        bias = -float(np.trace(Q @ K2)) / sum_v2
        mse = mse - bias * B * B
        out["bias_ml"] = np.full(M, bias)
    out["mse"] = mse
    return out


def plugin_g12(X_all: np.ndarray, sampled: np.ndarray, psi_s: np.ndarray, A: np.ndarray,
               Q: np.ndarray) -> np.ndarray:
    """``g1_i(A) + g2_i(A)`` for every area and every column of ``A`` (R,), with ``Q (R,p,p)``
    the matching ``(X'V⁻¹X)⁻¹``; returns (M, R)."""
    M = X_all.shape[0]
    R = A.shape[0]
    B = np.ones((M, R))
    B[sampled] = psi_s[:, None] / (A[None, :] + psi_s[:, None])
    g1 = np.broadcast_to(A[None, :], (M, R)).copy()
    g1[sampled] = A[None, :] * B[sampled]
    g2 = B * B * np.einsum("ip,rpq,iq->ir", X_all, Q, X_all)
    return g1 + g2


def bootstrap_mse(X_all: np.ndarray, sampled: np.ndarray, psi_s: np.ndarray, A: float,
                  beta: np.ndarray, method: Method, *, replicates: int,
                  rng: np.random.Generator,
                  back: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
                  truth: Callable[[np.ndarray], np.ndarray] | None = None,
                  level: float = 0.95, chunk: int = 1000, y_s: np.ndarray | None = None,
                  theta: np.ndarray | None = None, Q: np.ndarray | None = None,
                  ) -> dict[str, np.ndarray]:
    """Parametric-bootstrap MSE of the EBLUP (or of a back-transformed EBLUP), bias-corrected
    (Butar & Lahiri 2003) when the observed data are given.

    Parameters
    ----------
    y_s, theta, Q : ndarray, optional
        The observed direct estimates on the model scale (m,), their EBLUPs (M,) and
        ``(X'V⁻¹X)⁻¹`` at ``Â`` (p, p). Given together, the MSE is the bias-corrected bootstrap
        (module text); without them, the plain bootstrap.
    back : callable, optional
        ``back(theta (M,R), A (R,), gamma_full (M,R)) → estimate (M,R)``, the back-transformation
        applied to each replicate's EBLUP (identity when None).
    truth : callable, optional
        Maps the replicate's true values on the model scale to the target scale.

    Returns
    -------
    dict with ``mse (M,)``, ``mse_plain (M,)`` (the bootstrap without correction),
    ``errors_q`` (the ``(1−level)/2`` and ``(1+level)/2`` quantiles of ``θ̂* − θ*`` per area,
    shape ``(2, M)``, scaled as the MSE), ``boundary_share`` (share of replicates whose Â* was
    0) and ``uncorrected`` (areas where the correction was not positive).
    """
    M = X_all.shape[0]
    X_s = X_all[sampled]
    mean = X_all @ beta
    correct = y_s is not None and theta is not None and Q is not None
    sq = np.zeros(M)
    sq_model = np.zeros(M)   # plain bootstrap on the model scale
    g12_star = np.zeros(M)   # Σ_r g1(Â*_r) + g2(Â*_r)
    shift = np.zeros(M)      # Σ_r (θ̂(y; Â*_r) − θ̂(y; Â))²
    errs = []
    n_boundary = 0
    done = 0
    while done < replicates:
        R = min(chunk, replicates - done)
        theta_star = mean[:, None] + rng.normal(0.0, np.sqrt(A), size=(M, R))
        y_star = theta_star[sampled] + rng.normal(0.0, 1.0, size=(int(sampled.sum()), R)) * \
            np.sqrt(psi_s)[:, None]
        fit = fit_variance(y_star, X_s, psi_s, method)
        est, _, gamma, Q_star, _ = eblup(y_star, X_s, X_all, sampled, psi_s, fit.A)
        if correct:
            model_err = est - theta_star
            sq_model += np.sum(model_err * model_err, axis=1)
            g12_star += plugin_g12(X_all, sampled, psi_s, fit.A, Q_star).sum(axis=1)
            again = eblup(np.broadcast_to(y_s[:, None], (len(y_s), R)), X_s, X_all, sampled, psi_s, fit.A)[0]
            shift += np.sum((again - theta[:, None]) ** 2, axis=1)
        if back is not None:
            g_full = np.zeros((M, R))
            g_full[sampled] = gamma
            est = back(est, fit.A, g_full)
        target = truth(theta_star) if truth is not None else theta_star
        err = est - target
        sq += np.sum(err * err, axis=1)
        errs.append(err)
        n_boundary += int(fit.boundary.sum())
        done += R
    err_all = np.concatenate(errs, axis=1)
    q = np.quantile(err_all, [(1 - level) / 2, (1 + level) / 2], axis=1)
    plain = sq / replicates
    out = {"mse": plain, "mse_plain": plain, "errors_q": q, "boundary_share": n_boundary / replicates,
           "uncorrected": np.zeros(M, dtype=bool)}
    if not correct:
        return out
    g12_hat = plugin_g12(X_all, sampled, psi_s, np.array([A]), Q[None])[:, 0]
    corrected = 2 * g12_hat - g12_star / replicates + shift / replicates
    plain_model = sq_model / replicates
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = corrected / plain_model
    bad = ~(np.isfinite(factor) & (corrected > 0))
    # never below the plain bootstrap: near the boundary E*[g1(Â*)] exceeds g1(Â) (Â* is
    # truncated at 0) and the correction would shorten the intervals that are already too short
    factor = np.where(bad, 1.0, np.maximum(factor, 1.0))
    out["mse"] = plain * factor
    out["errors_q"] = q * np.sqrt(factor)[None, :]
    out["uncorrected"] = bad
    return out
