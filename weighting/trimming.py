"""Weight trimming: absolute or relative caps, redistribution, and trim-then-recalibrate.

``trim`` caps weights to ``[lower, upper]`` and gives the trimmed amount back to the rows that
were not trimmed, so the total is kept. One round (``strict=False``) is R survey's
``trimWeights``: with ``equal`` every row inside the caps gets the same amount
``Σ(w_i − clip(w_i)) / #inside``; ``proportional`` scales them by a common factor; ``none`` keeps
the loss. ``strict=True`` trims until no weight is outside the caps:

- ``equal`` returns the limit of R's ``trimWeights(strict=TRUE)`` recursion, in which every row
  not outside the caps — rows trimmed in an earlier round included — gets the same share in each
  round. After the first round ``w¹`` every later share has one sign, so the limit is
  ``w_i = clip(w¹_i + t, lower, upper)`` with ``t`` the one number that keeps the total; it is
  found exactly (the total is piecewise linear and monotone in ``t``), not by recursion.
- ``proportional`` returns ``w_i = clip(F · w_i, lower, upper)`` with the common factor ``F``
  that keeps the total (capped proportional scaling: bounded calibration on the total alone).

Caps that cannot keep the total — ``upper × n < Σ w`` or ``lower × n > Σ w`` over the ``n``
positive weights — are refused. Rows of weight 0 keep weight 0. Caps may be absolute, or
multiples of the mean or median positive weight (Potter 1990; Valliant, Dever & Kreuter 2018,
§14.4).

``trim_calibrate`` alternates capping and re-running the last calibration until the weights are
within the caps and meet the targets (Kish's trim-and-recalibrate scheme).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from surveycore import SurveyError


def caps(w: np.ndarray, lower: float, upper: float, relative_to: str) -> tuple[Any, Any]:
    """The caps for every column of ``w`` (n, R): absolute, or multiples of mean/median."""
    if relative_to == "value":
        return lower, upper
    pos = np.where(w > 0, w, np.nan)
    stat = np.nanmean(pos, axis=0) if relative_to == "mean" else np.nanmedian(pos, axis=0)
    return lower * stat, upper * stat


def _fill(c: np.ndarray, s: np.ndarray, take: np.ndarray, fixed: np.ndarray,
          lo: np.ndarray, hi: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per column, ``clip(c + s·t, lo, hi)`` on the rows ``take`` with the ``t`` that makes the
    column sum ``total`` (``fixed`` holds the other rows' values, ``s ≥ 0``).

    ``Σ clip(c_i + s_i t)`` is piecewise linear and nondecreasing in ``t``, with kinks at
    ``(lo − c_i)/s_i`` and ``(hi − c_i)/s_i``: the kinks are sorted, the sum is accumulated
    along them, and ``t`` is solved on the segment that holds ``total``, then once more from the
    rows strictly inside the caps, so the total is exact up to rounding.
    """
    n, k = c.shape
    moving = take & (s > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo = np.where(moving, (lo - c) / np.where(moving, s, 1.0), np.inf)
        t_hi = np.where(moving, (hi - c) / np.where(moving, s, 1.0), np.inf)
    points = np.concatenate([t_lo, t_hi])
    slope = np.concatenate([np.where(moving, s, 0.0), np.where(moving, -s, 0.0)])
    order = np.argsort(points, axis=0, kind="stable")
    points = np.take_along_axis(points, order, axis=0)
    after = np.cumsum(np.take_along_axis(slope, order, axis=0), axis=0)
    stuck = np.where(take & ~moving, np.clip(c, lo, hi), 0.0).sum(axis=0)
    start = stuck + fixed.sum(axis=0) + np.where(moving, lo, 0.0).sum(axis=0)
    step = np.diff(points, axis=0)
    rise = np.where(np.isfinite(step), after[:-1] * np.where(np.isfinite(step), step, 0.0), 0.0)
    at = start + np.concatenate([np.zeros((1, k)), np.cumsum(rise, axis=0)])
    below = (at <= total) & np.isfinite(points)
    j = np.maximum(below.sum(axis=0) - 1, 0)  # the last kink at or below the total
    cols = np.arange(k)
    pj, gj, sj = points[j, cols], at[j, cols], after[j, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sj > 0, pj + (total - gj) / np.where(sj > 0, sj, 1.0), pj)
    t = np.where(np.isfinite(t), t, 0.0)
    out = np.where(take, np.clip(c + s * t, lo, hi), fixed)
    inside = moving & (out > lo) & (out < hi)
    denom = np.where(inside, s, 0.0).sum(axis=0)
    rest = np.where(inside, 0.0, out).sum(axis=0) + np.where(inside, c, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(denom > 0, (total - rest) / np.where(denom > 0, denom, 1.0), t)
    return np.where(take, np.clip(c + s * t, lo, hi), fixed)


def _refuse_infeasible(pw: np.ndarray, lo: np.ndarray, hi: np.ndarray, where: str) -> None:
    """Caps that no set of weights keeping the total can meet: ``upper × n < Σw`` or
    ``lower × n > Σw`` over the ``n`` positive weights of a column."""
    pos = pw > 0
    m = pos.sum(axis=0)
    total = pw.sum(axis=0)
    slack = 1e-12 * np.abs(total)
    for side, bad in (("upper", hi * m < total - slack), ("lower", lo * m > total + slack)):
        if bad.any():
            j = int(np.argmax(bad))
            cap = float((hi if side == "upper" else lo)[j])
            mean = total[j] / max(m[j], 1)
            raise SurveyError(
                f"no weights within the trimming caps keep the weight total{where(j)}",
                argument=side,
                expected=f"{'an upper cap at least' if side == 'upper' else 'a lower cap at most'}"
                f" the mean positive weight ({mean:.6g})",
                found=f"{side}={cap:.6g} × {int(m[j])} weights = {cap * m[j]:,.6g}, "
                f"total {total[j]:,.6g}",
                hint=f"{'raise' if side == 'upper' else 'lower'} the cap, or use "
                "redistribute='none' to cap the weights and accept a different total",
            )


def trim_matrix(
    w: np.ndarray, lower: Any, upper: Any, redistribute: str, strict: bool,
    where: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Trim every column of ``w`` (n, R); return the weights and the rows outside the caps at
    the start. ``where(j)`` names column ``j`` in a refusal."""
    pw = np.asarray(w, dtype=float)
    k = pw.shape[1]
    if where is None:
        def where(j: int) -> str:
            return ""
    lo = np.broadcast_to(np.asarray(lower, dtype=float), (k,))
    hi = np.broadcast_to(np.asarray(upper, dtype=float), (k,))
    pos = pw > 0
    outside = pos & ((pw < lo) | (pw > hi))
    clipped = np.where(pos, np.clip(pw, lo, hi), pw)
    if redistribute == "none" or not outside.any():
        return clipped, outside
    _refuse_infeasible(pw, lo, hi, where)
    total = pw.sum(axis=0)
    if strict and redistribute == "proportional":
        new = _fill(np.zeros_like(pw), pw, pos, np.where(pos, 0.0, pw), lo, hi, total)
        return np.where(outside.any(axis=0), new, pw), outside
    excess = (pw - clipped).sum(axis=0)
    can = pos & ~outside
    count = can.sum(axis=0)
    if redistribute == "equal":
        add = np.where(count > 0, excess / np.maximum(count, 1), 0.0)
        new = clipped + can * add
    else:
        base = (clipped * can).sum(axis=0)
        fac = np.where(base > 0, 1.0 + excess / np.where(base > 0, base, 1.0), 1.0)
        new = np.where(can, clipped * fac, clipped)
    if strict:  # the limit of R's recursion: clip(new + t) keeping the total
        return _fill(new, np.ones_like(pw), pos, np.where(pos, 0.0, pw), lo, hi, total), outside
    lost = (count == 0) & (excess != 0)
    negative = (new < 0).any(axis=0)
    if lost.any() or negative.any():
        j = int(np.argmax(lost | negative))
        raise SurveyError(
            f"one round of trimming cannot keep the weight total{where(j)}",
            argument="strict", expected="rows inside the caps that can take the trimmed weight",
            found="every positive weight is outside the caps" if lost[j]
            else "the weight given back would make some weights negative",
            hint="use strict=True, which trims until every weight is within the caps")
    return new, outside


@dataclass(frozen=True, eq=False)
class TrimStep:
    lower: float
    upper: float
    relative_to: str
    redistribute: str
    strict: bool

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        lo, hi = caps(w, self.lower, self.upper, self.relative_to)
        return trim_matrix(w, lo, hi, self.redistribute, self.strict,
                           lambda j: f" on replicate column {j + 1}")[0]

    def fit(self, w: np.ndarray):
        lo, hi = caps(w[:, None], self.lower, self.upper, self.relative_to)
        new, trimmed = trim_matrix(w[:, None], lo, hi, self.redistribute, self.strict)
        return new[:, 0], int(trimmed.sum()), (np.ravel(lo)[0], np.ravel(hi)[0])


@dataclass(frozen=True, eq=False)
class TrimCalibrateStep:
    """Trim, hold the trimmed rows at their cap, recalibrate the others; repeat.

    ``x`` (n, p) and ``totals`` (p,) are the calibration variables and targets of the last
    calibration, ``method``/``bounds`` its distance. In each round the rows outside the caps
    are fixed at the cap and the free rows are calibrated to ``t_x - Σ_fixed w_i x_i``
    starting from the input weights; rows once fixed stay fixed, so the rounds end.
    """

    x: np.ndarray
    totals: np.ndarray
    method: str
    bounds: tuple[float, float]
    lower: float
    upper: float
    relative_to: str
    tol: float
    max_rounds: int
    solver_tol: float
    solver_max_iter: int
    names: tuple[str, ...] = ()

    def _run(self, d: np.ndarray):
        from weighting._design import DenseDesign
        from weighting._solver import solve

        design = DenseDesign(self.x)

        lo, hi = caps(d, self.lower, self.upper, self.relative_to)
        lo_a = np.broadcast_to(np.asarray(lo, dtype=float), (d.shape[1],))
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), (d.shape[1],))
        span = np.where(np.isfinite(hi_a), np.abs(hi_a), np.where(np.isfinite(lo_a), lo_a, 1.0))
        slack = self.tol * span
        w = d.copy()
        fixed = np.zeros(d.shape, dtype=bool)
        rounds = 0
        for _ in range(self.max_rounds):
            out = ((w < lo_a - slack) | (w > hi_a + slack)) & ~fixed
            if not out.any():
                return w, rounds, True, fixed
            fixed |= out
            wfix = np.where(fixed, np.clip(w, lo_a, hi_a), 0.0)
            free_d = np.where(fixed, 0.0, d)
            totals = self.totals[:, None] - self.x.T @ wfix
            sol = solve(design, free_d, totals, self.method, self.bounds[0], self.bounds[1],
                        self.solver_tol, self.solver_max_iter)
            if not sol.converged.all():
                return np.where(fixed, wfix, d * sol.g), rounds, False, fixed
            w = np.where(fixed, wfix, d * sol.g)
            rounds += 1
        out = ((w < lo_a - slack) | (w > hi_a + slack)).any()
        return w, rounds, not out, fixed

    def fit(self, w: np.ndarray):
        new, rounds, ok, fixed = self._run(w[:, None])
        if not ok:
            lo, hi = caps(w[:, None], self.lower, self.upper, self.relative_to)
            achieved = self.x.T @ new[:, 0]
            rel = np.abs(achieved - self.totals) / (1 + np.abs(self.totals))
            j = int(np.argmax(rel))
            name = self.names[j] if self.names else f"target {j}"
            raise SurveyError(
                "trimming and recalibration did not settle",
                argument=self._binding(w, new[:, 0], fixed[:, 0]),
                expected=f"weights within the caps [{np.ravel(lo)[0]:.6g}, "
                f"{np.ravel(hi)[0]:.6g}] that still meet the targets",
                found=f"after {rounds} rounds {int(fixed.sum())} rows held at a cap; "
                f"{name} cannot be met (achieved {achieved[j]:,.6g}, target "
                f"{self.totals[j]:,.6g})",
                hint="loosen the caps: the targets cannot be met with weights inside them",
            )
        return new[:, 0], rounds, int(fixed.sum())

    def _binding(self, w: np.ndarray, new: np.ndarray, fixed: np.ndarray) -> str:
        """The cap(s) that made the targets unreachable: those the rows held at a cap (in
        ``new``) are held at, or every cap that is set when no row was held."""
        lo, hi = caps(w[:, None], self.lower, self.upper, self.relative_to)
        lo, hi = float(np.ravel(lo)[0]), float(np.ravel(hi)[0])
        at_hi = fixed & np.isclose(new, hi, rtol=1e-9, atol=0.0)
        at_lo = fixed & np.isclose(new, lo, rtol=1e-9, atol=0.0) & ~at_hi
        held = {"upper": bool(at_hi.any()), "lower": bool(at_lo.any())}
        named = [k for k, v in held.items() if v] or [
            k for k, v in (("upper", np.isfinite(hi)), ("lower", lo > 0)) if v]
        return ", ".join(named) or "upper"

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        new, _, ok, _ = self._run(w)
        if not ok:
            raise SurveyError(
                "trimming and recalibration did not settle on some replicate weights",
                argument="upper", expected="every replicate within the caps",
                found="a replicate column could not be recalibrated",
                hint="loosen the caps")
        return new
