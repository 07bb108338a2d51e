"""Benchmarking EBLUPs to a direct national (or regional) estimate, with the MSE it adds.

With area weights ``w_i`` (population shares for means and shares, normalised to sum to 1 in
each group; 1 for totals) and a target ``T_g`` for each group ``g`` (the country, or each
region)::

    difference:  θ̂ᵇ_i = θ̂_i + (T_g − Σ_{j∈g} w_j θ̂_j) / Σ_{j∈g} w_j
    ratio:       θ̂ᵇ_i = θ̂_i · T_g / Σ_{j∈g} w_j θ̂_j

so that ``Σ_{j∈g} w_j θ̂ᵇ_j = T_g`` with both methods. A group whose weights are all 0 has no
weighted sum to adjust and is refused. The ratio factor ``T_g / Σ_{j∈g} w_j θ̂_j`` must be a
positive number between 1/10 and 10 (a sum of EBLUPs near 0, or of the other sign than the
target, would multiply every estimate by a large or negative number: refused, with the
difference method as the hint); a factor outside [1/2, 2] — model and direct estimate
disagreeing by more than a factor of two — is kept with a :class:`~surveycore.SurveyWarning`
and a note in ``metadata["benchmark"]["warnings"]``. MSE (Steorts & Ghosh 2013, Theorem 1; Rao & Molina 2015, §6.3.1): when the target is
the weighted sum of the direct estimates of the sampled areas, the adjustment
``D_g = Σ_{j∈g∩s} w_j B_j r_j`` (``B_j = 1 − γ_j``, ``r = y − Xβ̂``) is an error contrast,
uncorrelated with the BLUP error, and ::

    g4_g = Σ_{j∈g∩s} w_j² B_j² (σ²_u + ψ_j) − c_g' X Q X' c_g,   c_j = w_j B_j 1{j ∈ g}

is its variance. The benchmarked MSE is ``mse_i + g4_g/(Σ_{j∈g} w_j)²`` (difference) and, by
linearisation, ``mse_i + (θ̂_i/Σ_{j∈g} w_j θ̂_j)² g4_g`` (ratio). For arcsine-transformed
proportions ``w_j`` is multiplied by ``d sin²θ/dθ = sin 2θ̂_j`` (delta method). Areas without
sample take part in the sums of estimates but add nothing to ``g4``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from surveycore import SurveyError, SurveyWarning
from surveycore.checks import check_columns, check_number, check_option

RATIO_LIMITS = (0.1, 10.0)
"""Ratio benchmarking factors outside this range are refused (see the module docstring)."""
RATIO_WARN = (0.5, 2.0)
"""Ratio benchmarking factors outside this range are kept with a warning."""


def _check_ratio_factor(target: float, weighted_sum: float, group: Any) -> list[str]:
    """Refuse a ratio factor ``T/Σwθ̂`` that is not positive, finite and within
    :data:`RATIO_LIMITS`; warn (and return the note) outside :data:`RATIO_WARN`."""
    where = f" in group {group!r}" if group is not None else ""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.float64(target) / weighted_sum
    if not (np.isfinite(factor) and RATIO_LIMITS[0] <= factor <= RATIO_LIMITS[1]):
        raise SurveyError(
            f"ratio benchmarking would multiply the estimates{where} by {factor:.3g}",
            argument="target",
            expected=f"a target of the same sign as the weighted sum of EBLUPs, with a ratio "
                     f"between {RATIO_LIMITS[0]:g} and {RATIO_LIMITS[1]:g}",
            found=f"target {target:g}, weighted sum of EBLUPs {weighted_sum:.6g}",
            hint="use method='difference' (adds the same amount to every area), or check the target's scale",
        )
    if not RATIO_WARN[0] <= factor <= RATIO_WARN[1]:
        note = (f"ratio benchmarking factor {factor:.3g}{where}: the model's estimates and the "
                "direct target disagree by more than a factor of two")
        warnings.warn(note, SurveyWarning, stacklevel=4)
        return [note]
    return []


def benchmark(result, target: float | Mapping[Any, float], *, weights: str | None = None,
              by: str | None = None, method: Literal["ratio", "difference"] = "ratio"):
    """Benchmark the EBLUPs of a :class:`FayHerriotResult` (returns a new result).

    Parameters
    ----------
    result : FayHerriotResult
    target : float or mapping
        Direct national estimate (same scale as the EBLUPs); with ``by``, a mapping
        group → direct estimate of the group.
    weights : str, optional
        Column of the area frame (``population``, or ``data``) with the area weights: population
        shares or sizes for means and shares (normalised within each group), none (all 1) for
        totals.
    by : str, optional
        Column of the area frame with the benchmarking group (e.g. the region).
    method : {"ratio", "difference"}

    Returns
    -------
    FayHerriotResult
        ``eblup``, ``mse``, ``se``, ``cv`` and the intervals benchmarked; the originals kept in
        ``eblup_unbenchmarked`` and ``mse_unbenchmarked``; the benchmark in ``metadata``.
    """
    check_option(method, ("ratio", "difference"), "method")
    fm = result.model
    frame = fm.frame
    M = len(frame)
    if weights is not None:
        check_columns(frame, [weights], "weights")
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(w) & (w >= 0)) or not np.any(w > 0):
            raise SurveyError("benchmark weights must be non-negative numbers",
                              argument="weights", expected="finite values >= 0",
                              found="missing, negative or all-zero weights")
    else:
        w = np.ones(M)
    if by is not None:
        check_columns(frame, [by], "by")
        groups = frame[by].to_numpy(dtype=object)
        if not isinstance(target, Mapping):
            raise SurveyError("with by=, target must map each group to its estimate",
                              argument="target", expected="{group: value}",
                              found=type(target).__name__)
        missing = [g for g in pd.unique(groups) if g not in target]
        if missing:
            raise SurveyError("benchmark targets missing for some groups", argument="target",
                              expected="a value for every group", found=repr(missing[:6]))
        targets = dict(target)
    else:
        groups = np.zeros(M, dtype=object)
        targets = {0: target}
    for k, v in targets.items():
        value = check_number(v, "target")
        if not np.isfinite(value):
            raise SurveyError("benchmark target must be a finite number", argument="target",
                              expected="a number", found=f"{k!r}: {v!r}")
        targets[k] = value
    t = result.table
    est = t["eblup"].to_numpy(dtype=float)
    mse = t["mse"].to_numpy(dtype=float)
    s = fm.sampled
    A = result.sigma2_u
    B_s = fm.psi / (A + fm.psi)
    deriv = np.sin(2 * fm.theta[s]) if fm.transformation == "arcsin" else np.ones(int(s.sum()))
    X_s = fm.X[s]
    new_est = est.copy()
    new_mse = mse.copy()
    notes: list[str] = []
    for g in pd.unique(groups):
        in_g = groups == g
        wg = np.where(in_g, w, 0.0)
        if not wg.sum() > 0:
            raise SurveyError(
                "a benchmarking group has no weight", argument="weights",
                expected="a positive weight for at least one area of every group",
                found=f"every area of {by or 'the country'} {g!r} has weight 0" if by else "every weight is 0",
                hint="leave the group's areas out of the area frame, or give them their population",
            )
        if weights is not None:
            wg = wg / wg.sum()
        sw = wg.sum()
        swt = float(wg @ est)
        if method == "ratio":
            notes += _check_ratio_factor(targets[g], swt, g if by else None)
        c = wg[s] * B_s * deriv
        g4 = float(np.sum(c * c * (A + fm.psi)) - c @ X_s @ fm.Q @ X_s.T @ c)
        T = float(targets[g])
        if method == "difference":
            new_est[in_g] = est[in_g] + (T - swt) / sw
            new_mse[in_g] = mse[in_g] + g4 / sw ** 2
        else:
            new_est[in_g] = est[in_g] * T / swt
            new_mse[in_g] = mse[in_g] + (est[in_g] / swt) ** 2 * g4
    z = float(stats.norm.ppf((1 + result.metadata["level"]) / 2))
    out = t.copy()
    out["eblup_unbenchmarked"] = est
    out["mse_unbenchmarked"] = mse
    shift = new_est - est
    out["eblup"] = new_est
    out["mse"] = new_mse
    out["se"] = np.sqrt(new_mse)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cv"] = out["se"] / new_est
    if result.metadata.get("transformation") == "arcsin":
        out["ci_low"] = t["ci_low"] + shift
        out["ci_high"] = t["ci_high"] + shift
    else:
        out["ci_low"] = new_est - z * out["se"]
        out["ci_high"] = new_est + z * out["se"]
    meta = dict(result.metadata)
    meta["benchmark"] = {"method": method, "weights": weights, "by": by,
                         "targets": {str(k): float(v) for k, v in targets.items()},
                         "mse": "Steorts & Ghosh (2013) g4 added", "warnings": notes}
    return replace(result, table=out, metadata=meta)
