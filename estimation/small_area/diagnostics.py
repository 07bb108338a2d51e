"""Diagnostics of a Fay–Herriot fit: residuals, shrinkage, precision gain, positivity.

* standardised residuals ``(y_i − x_i'β̂)/√(σ̂²_u + ψ_i)`` (≈ N(0, 1) under the model) and
  standardised random effects ``û_i/sd(û)`` with ``û_i = γ_i (y_i − x_i'β̂)``, with Shapiro–Wilk
  tests of normality (as ``emdi``'s ``summary.fh``);
* shrinkage factors ``B_i = 1 − γ_i = ψ_i/(σ̂²_u + ψ_i)`` (weight of the synthetic estimate);
* the CV of the EBLUP against the CV of the direct estimate, area by area;
* positivity: whether ``σ̂²_u > 0`` (on the boundary every EBLUP is synthetic), and how many
  EBLUPs fall outside the range of the target (negative means, shares outside [0, 1]);
* the precision of ``σ̂²_u``: its asymptotic standard error ``1/√I(σ̂²_u)`` from the Fisher
  information of the fitting method (ML: ``I = ½ Σ_i (σ²_u + ψ_i)⁻²``; REML: ``I = ½ tr(P²)``,
  ``P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹``; Rao & Molina 2015, §6.1.2), and the mean ratio
  ``σ̂²_u/ψ_i``. When ``σ̂²_u`` is not clearly larger than its standard error, the area variance is
  barely identified: ``σ̂²_u`` is often 0 and, being kept non-negative, overstates ``σ²_u`` on
  average, and the MSE estimates (analytic or bootstrap) follow it upward;
* ``loglik``, ``AIC = −2ℓ + 2(p+1)``, ``BIC = −2ℓ + (p+1) log m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from estimation.small_area.fit import score_information


@dataclass(frozen=True)
class Diagnostics:
    """``areas``: one row per sampled area; ``summary``: model-level checks."""

    areas: pd.DataFrame
    summary: dict


def diagnostics(result) -> Diagnostics:
    """Diagnostics of a :class:`FayHerriotResult` (see the module text)."""
    fm = result.model
    s = fm.sampled
    A = result.sigma2_u
    t = result.table[s].reset_index(drop=True)
    std_res = fm.residuals / np.sqrt(A + fm.psi)
    gamma = A / (A + fm.psi)
    u = gamma * fm.residuals
    sd_u = float(np.std(u, ddof=1)) if A > 0 else 0.0
    std_u = u / sd_u if sd_u > 0 else np.full(len(u), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = t["cv"].to_numpy(dtype=float) / t["direct_cv"].to_numpy(dtype=float)
    areas = pd.DataFrame({
        "area": t["area"],
        "std_residual": std_res,
        "std_random_effect": std_u,
        "shrinkage": 1 - gamma,
        "direct_cv": t["direct_cv"],
        "eblup_cv": t["cv"],
        "cv_ratio": ratio,
    })
    m, p = fm.X[s].shape
    ll = result.metadata["loglik"]
    est = result.table["eblup"].to_numpy(dtype=float)
    _, info = score_information(fm.y[:, None], fm.X[s], fm.psi, np.array([A]),
                                result.metadata["method"])
    summary = {
        "sigma2_u": A,
        "sigma2_u_se": float(1 / np.sqrt(info[0])),
        "mean_sigma2_u_over_psi": float(np.mean(A / fm.psi)),
        "sigma2_u_positive": A > 0,
        "boundary": result.boundary,
        "loglik": ll,
        "aic": -2 * ll + 2 * (p + 1),
        "bic": -2 * ll + (p + 1) * np.log(m),
        "share_cv_reduced": float(np.nanmean(ratio < 1)) if np.isfinite(ratio).any() else np.nan,
        "median_cv_ratio": float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else np.nan,
        "negative_eblups": int(np.sum(est < 0)),
        "eblups_above_one": int(np.sum(est > 1)) if result.metadata.get("transformation") == "arcsin"
        else None,
        "mean_shrinkage": float(np.mean(1 - gamma)),
    }
    if m >= 3:
        w, pv = stats.shapiro(std_res)
        summary["shapiro_residuals"] = {"W": float(w), "p_value": float(pv)}
        if sd_u > 0:
            w, pv = stats.shapiro(std_u)
            summary["shapiro_random_effects"] = {"W": float(w), "p_value": float(pv)}
    return Diagnostics(areas=areas, summary=summary)
