"""Weight trimming: absolute or relative caps, redistribution, and trim-then-recalibrate.

``trim`` caps weights to ``[lower, upper]`` and gives the trimmed amount back to the rows that
were not trimmed, so the total is kept: ``equal`` adds the same amount to each (as R survey's
``trimWeights``), ``proportional`` scales them by a common factor, ``none`` keeps the loss.
With ``strict=True`` it repeats until no weight is outside the caps (rows once trimmed stay
fixed). Caps may be absolute, or multiples of the mean or median weight (Potter 1990;
Valliant, Dever & Kreuter 2018, §14.4).

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


def trim_matrix(
    w: np.ndarray, lower: Any, upper: Any, redistribute: str, strict: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Trim every column of ``w`` (n, R); return the weights and the rows ever trimmed."""
    pw = w.copy()
    has_trimmed = np.zeros_like(pw, dtype=bool)
    for _ in range(pw.shape[0] + 1):
        outside = (pw < lower) | (pw > upper)
        if not outside.any():
            break
        new = np.clip(pw, lower, upper)
        excess = (pw - new).sum(axis=0)
        can = ~outside & ~has_trimmed & (pw > 0)
        if redistribute == "equal":
            count = can.sum(axis=0)
            add = np.where(count > 0, excess / np.maximum(count, 1), 0.0)
            new = new + can * add
        elif redistribute == "proportional":
            base = (new * can).sum(axis=0)
            fac = np.where(base > 0, 1.0 + excess / np.where(base > 0, base, 1.0), 1.0)
            new = np.where(can, new * fac, new)
        has_trimmed |= outside
        pw = new
        if not strict or redistribute == "none":
            break
    return pw, has_trimmed


@dataclass(frozen=True, eq=False)
class TrimStep:
    lower: float
    upper: float
    relative_to: str
    redistribute: str
    strict: bool

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        lo, hi = caps(w, self.lower, self.upper, self.relative_to)
        return trim_matrix(w, lo, hi, self.redistribute, self.strict)[0]

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
