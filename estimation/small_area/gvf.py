"""Smoothed sampling variances (generalised variance functions) for the Fay–Herriot model.

The model treats the sampling variances ``ψ_i`` as known. Direct variance estimates of small
areas are themselves noisy, and zero when an area's sample is all 0s or all 1s; an area is
*unstable* when its variance is missing, not positive, or its sample has fewer than ``min_n``
rows (and, for a proportion, when the direct estimate is 0 or 1). Its variance is replaced by a
generalised variance function fitted on the stable areas (Wolter 2007, ch. 7; You & Chapman
2006; Rao & Molina 2015, §6.4.1):

* proportions — a pooled design effect,
  ``ψ̃_i = deff · p_i(1−p_i)/n_i`` with ``deff = Σ_s ψ_j / Σ_s p_j(1−p_j)/n_j`` over the stable
  areas ``s`` (ratio of means); on the arcsine scale ``ψ̃_i = deff/(4 n_i)``;
* other estimates — the log-linear function ``log ψ_i = a + b log n_i`` fitted by least squares
  on the stable areas, with Duan's (1983) smearing factor ``mean(exp(residual))``.
"""

from __future__ import annotations

import numpy as np

from surveycore import SurveyError


def unstable_areas(direct: np.ndarray, psi: np.ndarray, n: np.ndarray | None, *, min_n: int,
                   proportion: bool) -> np.ndarray:
    """Boolean mask of areas whose direct variance cannot be used as it is."""
    bad = ~np.isfinite(psi) | (psi <= 0)
    if n is not None:
        bad |= n < min_n
    if proportion:
        bad |= (direct <= 0) | (direct >= 1)
    return bad


def _need_stable(stable: np.ndarray, k: int, what: str) -> None:
    if stable.sum() < k:
        raise SurveyError(
            "too few areas with a stable direct variance to fit a variance function",
            argument="variance",
            expected=f"at least {k} areas with a positive variance and enough sample ({what})",
            found=f"{int(stable.sum())} stable areas",
            hint="pass smoothed variances yourself, or lower min_n",
        )


def pooled_design_effect(direct: np.ndarray, psi: np.ndarray, n: np.ndarray,
                         stable: np.ndarray) -> float:
    """``deff = Σ_s ψ_j / Σ_s p_j(1−p_j)/n_j`` over the stable areas."""
    _need_stable(stable, 1, "pooled design effect")
    p = direct[stable]
    return float(np.sum(psi[stable]) / np.sum(p * (1 - p) / n[stable]))


def loglinear_variances(psi: np.ndarray, n: np.ndarray, stable: np.ndarray) -> tuple[np.ndarray, dict]:
    """``exp(â + b̂ log n_i) · mean(exp(residual))`` for every area, and the fitted function."""
    _need_stable(stable, 3, "log-linear function of n")
    Z = np.column_stack([np.ones(int(stable.sum())), np.log(n[stable])])
    coef, *_ = np.linalg.lstsq(Z, np.log(psi[stable]), rcond=None)
    resid = np.log(psi[stable]) - Z @ coef
    smear = float(np.mean(np.exp(resid)))
    fitted = np.exp(coef[0] + coef[1] * np.log(n)) * smear
    return fitted, {"form": "log psi = a + b log n", "a": float(coef[0]), "b": float(coef[1]),
                    "smearing": smear}
