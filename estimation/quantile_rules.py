"""Weighted quantile rules (R ``survey``'s ``qrule`` argument, survey 4.1).

Values are sorted (stably) with their weights, zero weights removed; ``W = Σ w``,
``C_k = Σ_{j ≤ k} w_j`` (accumulated in extended precision, as R), ``k₀`` the last index with
``C_k ≤ pW`` (the first when there is none), ``q_lo = x_{k₀}``, ``q_up = x_{k₀+1}``,
``w_lo = p − C_{k₀}/W``, ``w_up = C_{k₀+1}/W − p``:

* ``"math"``, ``"hf1"`` — ``q_lo`` if ``w_lo = 0`` else ``q_up`` (the inverse of the weighted CDF);
* ``"school"``, ``"hf2"`` — ``(q_lo + q_up)/2`` if ``w_lo = 0`` else ``q_up``;
* ``"hf3"`` — on the distinct values (weights summed): ``q_lo`` if ``w_lo = 0`` and ``k₀`` is even,
  else ``q_up``;
* ``"hf4"`` — ``q_lo (1 − γ) + q_up γ``, ``γ = w_lo/(w_lo + w_up)``;
* ``"hf5"`` … ``"hf9"`` — linear interpolation of ``x`` at ``p`` through plotting positions
  ``p_k``: hf5 ``(C_k − w_k/2)/W``; hf6 ``C_k/(W + w_n)``; hf7 ``C_{k−1}/C_{n−1}``;
  hf8 ``(C_{k−1}/3 + 2C_k/3)/(W + w_n/3)``; hf9 ``(3C_{k−1}/8 + 5C_k/8)/(W + w_n/4)``;
  constant beyond the ends;
* ``"shahvaish"`` — Shah & Vaish (2006) as R defines it: step function (left-continuous,
  constant beyond the ends) through the points ``(p_k, x_k)`` ordered by
  ``p_k = (S_k + 1/2 − w_k/2)/(n + 1)``, ``S_k`` the cumulative sum of ``w/w̄``.

With equal weights ``hfN`` is Hyndman & Fan's (1996) type N sample quantile.
"""

from __future__ import annotations

import numpy as np

RULES = ["math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9"]


def _cumulative(w: np.ndarray) -> tuple[np.ndarray, float]:
    ext = np.cumsum(np.asarray(w, dtype=np.longdouble))
    return ext.astype(np.float64), float(ext[-1])


def _bracket(x: np.ndarray, w: np.ndarray, p: float):
    cumw, total = _cumulative(w)
    below = np.flatnonzero(cumw <= p * total)
    pos = below[-1] if len(below) else 0
    nxt = min(pos + 1, len(x) - 1)
    return x[pos], x[nxt], pos, p - cumw[pos] / total, cumw[nxt] / total - p


def _interpolate(pk: np.ndarray, x: np.ndarray, p: float) -> float:
    return float(np.interp(p, pk, x))


def quantile_rule(x: np.ndarray, w: np.ndarray, p: float, rule: str = "math") -> float:
    """Quantile ``p`` of values ``x`` sorted (stably) with positive weights ``w`` (see module)."""
    if np.isnan(p) or p < 0 or p > 1 or len(x) == 0:
        return np.nan
    if rule in ("math", "hf1"):
        lo, up, _, wlow, _ = _bracket(x, w, p)
        return float(lo if wlow == 0 else up)
    if rule in ("school", "hf2"):
        lo, up, _, wlow, _ = _bracket(x, w, p)
        return float((lo + up) / 2 if wlow == 0 else up)
    if rule == "hf3":
        values, start = np.unique(x, return_index=True)
        sums = np.add.reduceat(np.asarray(w, dtype=float), start)
        lo, up, pos, wlow, _ = _bracket(values, sums, p)
        return float(lo if wlow == 0 and (pos + 1) % 2 == 0 else up)
    if rule == "hf4":
        lo, up, _, wlow, wup = _bracket(x, w, p)
        gamma = wlow / (wup + wlow)
        return float(lo * (1 - gamma) + up * gamma)
    n = len(x)
    cumw, total = _cumulative(w)
    prev = np.concatenate([[0.0], cumw[:-1]])
    if rule == "shahvaish":
        s = np.cumsum(np.asarray(w, dtype=np.longdouble) / np.mean(w)).astype(np.float64)
        pk = (s + 0.5 - w / 2) / (n + 1)
        # R's approx() orders the positions (they need not increase) and averages ties
        pk, inverse = np.unique(pk, return_inverse=True)
        y = np.bincount(inverse, weights=x) / np.bincount(inverse)
        k = np.searchsorted(pk, p, side="right") - 1
        return float(y[min(max(k, 0), len(y) - 1)])
    if rule == "hf5":
        pk = (cumw - w / 2) / total
    elif rule == "hf6":
        pk = cumw / (total + w[-1])
    elif rule == "hf7":
        pk = prev / cumw[-2] if n > 1 else np.zeros(1)
    elif rule == "hf8":
        pk = (prev / 3 + cumw * 2 / 3) / (total + w[-1] / 3)
    else:  # hf9
        pk = (prev * 3 / 8 + cumw * 5 / 8) / (total + w[-1] / 4)
    return _interpolate(pk, x, p)
