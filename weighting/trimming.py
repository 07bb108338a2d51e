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

    def replay(self, w: np.ndarray) -> np.ndarray:
        lo, hi = caps(w, self.lower, self.upper, self.relative_to)
        return trim_matrix(w, lo, hi, self.redistribute, self.strict)[0]

    def fit(self, w: np.ndarray):
        lo, hi = caps(w[:, None], self.lower, self.upper, self.relative_to)
        new, trimmed = trim_matrix(w[:, None], lo, hi, self.redistribute, self.strict)
        return new[:, 0], int(trimmed.sum()), (np.ravel(lo)[0], np.ravel(hi)[0])


@dataclass(frozen=True, eq=False)
class TrimCalibrateStep:
    """Alternate capping and recalibration (``calibration`` is a fitted calibration step)."""

    calibration: Any
    lower: float
    upper: float
    relative_to: str
    tol: float
    max_rounds: int
    rounds: int | None = None

    def _run(self, w: np.ndarray, rounds: int | None):
        done = 0
        limit = rounds if rounds is not None else self.max_rounds
        lo, hi = caps(w, self.lower, self.upper, self.relative_to)
        while done < limit:
            if rounds is None:
                span = np.abs(np.asarray(hi, dtype=float)) + np.abs(np.asarray(lo, dtype=float))
                slack = self.tol * np.where(np.isfinite(span), span, 1.0)
                if not ((w < lo - slack) | (w > hi + slack)).any():
                    return w, done, True
            w = self.calibration.replay(np.clip(w, lo, hi))
            done += 1
        if rounds is None:
            span = np.abs(np.asarray(hi, dtype=float)) + np.abs(np.asarray(lo, dtype=float))
            slack = self.tol * np.where(np.isfinite(span), span, 1.0)
            ok = not ((w < lo - slack) | (w > hi + slack)).any()
            return w, done, ok
        return w, done, True

    def fit(self, w: np.ndarray):
        new, done, ok = self._run(w[:, None], None)
        if not ok:
            lo, hi = caps(new, self.lower, self.upper, self.relative_to)
            raise SurveyError(
                "trimming and recalibration did not settle",
                argument="upper" if (new > hi).any() else "lower",
                expected=f"weights within the caps after at most {self.max_rounds} rounds",
                found=f"weights range [{new.min():.6g}, {new.max():.6g}] against caps "
                f"[{np.ravel(lo)[0]:.6g}, {np.ravel(hi)[0]:.6g}]",
                hint="loosen the caps: the targets cannot be met with weights inside them",
            )
        fitted = TrimCalibrateStep(self.calibration, self.lower, self.upper, self.relative_to,
                                   self.tol, self.max_rounds, done)
        return new[:, 0], done, fitted

    def replay(self, w: np.ndarray) -> np.ndarray:
        return self._run(w, self.rounds)[0]
