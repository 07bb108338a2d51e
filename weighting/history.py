"""The record of one weighting step, as kept in ``Weights.history``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from weighting._arrays import weight_summary


@dataclass(frozen=True)
class StepRecord:
    """What one step did: its inputs, targets met, g-weights, iterations and summaries.

    Attributes
    ----------
    step : str
        ``base``, ``eligibility``, ``nonresponse``, ``expand``, ``poststratify``, ``rake``,
        ``calibrate``, ``trim`` or ``trim_calibrate``.
    params : dict
        The inputs (targets, options, bounds) exactly as used.
    targets : pandas.DataFrame or None
        One row per target: ``margin, level, target, before, achieved, rel_error``.
    g : dict
        Distribution of the adjustment factors ``g = after / before`` (rows with before > 0).
    iterations, converged : int or None, bool or None
        Iterations used and whether the convergence rule was met.
    trace : tuple of float
        Convergence criterion after each iteration.
    before, after : dict
        Weight summaries (sum, range, CV, Kish deff, effective sample size), computed on
        first access from ``before_values`` and ``after_values``.
    notes : tuple of str
        Decisions taken (collapsed classes, trimmed counts ...).
    warnings : tuple of str
        Tolerated degradations, each also emitted as a :class:`surveycore.SurveyWarning`:
        extreme g-weights of a calibration step, a response model that did not converge.
    """

    step: str
    params: dict[str, Any]
    before_values: np.ndarray = field(repr=False)
    after_values: np.ndarray = field(repr=False)
    targets: pd.DataFrame | None = None
    iterations: int | None = None
    converged: bool | None = None
    trace: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    # summaries are computed when first asked for (reporting is not on the fitting path)
    @cached_property
    def before(self) -> dict[str, float]:
        return weight_summary(self.before_values)

    @cached_property
    def after(self) -> dict[str, float]:
        return weight_summary(self.after_values)

    @cached_property
    def g(self) -> dict[str, float]:
        return g_summary(self.before_values, self.after_values)


def g_summary(before: np.ndarray, after: np.ndarray) -> dict[str, float]:
    """Distribution of ``g = after / before`` over rows with a positive weight before.

    Empty for a step that changes the rows (the household → person expansion).
    """
    if before.shape != after.shape:
        return {}
    pos = before > 0
    if not pos.any():
        return {}
    g = after[pos] / before[pos]
    q = np.quantile(g, [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0])
    return {
        "min": float(q[0]),
        "p01": float(q[1]),
        "p05": float(q[2]),
        "p25": float(q[3]),
        "median": float(q[4]),
        "p75": float(q[5]),
        "p95": float(q[6]),
        "p99": float(q[7]),
        "max": float(q[8]),
        "mean": float(g.mean()),
        "n_zeroed": int(((after == 0) & pos).sum()),
    }


#: g-weights outside this range are reported as extreme (a calibration that moves a weight by
#: more than a factor of five; Särndal 2007, §6; Valliant, Dever & Kreuter 2018, §14.3)
EXTREME_G = (0.2, 5.0)
CALIBRATION_STEPS = ("poststratify", "rake", "calibrate", "trim_calibrate")


def extreme_g(step: str, before: np.ndarray, after: np.ndarray) -> tuple[str, ...]:
    """A warning text when a calibration step's g-weights leave :data:`EXTREME_G`."""
    if step not in CALIBRATION_STEPS or before.shape != after.shape:
        return ()
    pos = before > 0
    g = after[pos] / before[pos]
    lo, hi = EXTREME_G
    out = (g < lo) | (g > hi)
    if not out.any():
        return ()
    return (f"{step}: {int(out.sum())} of {g.size} g-weights outside [{lo:g}, {hi:g}] "
            f"(range [{g.min():.4g}, {g.max():.4g}]); bound them with "
            "calibrate(..., bounds=...) or collapse sparse cells",)


def make_record(step: str, params: dict, before: np.ndarray, after: np.ndarray, **kw) -> StepRecord:
    return StepRecord(step=step, params=params, before_values=before, after_values=after, **kw)


def targets_table(
    names, margins, totals: np.ndarray, before: np.ndarray, achieved: np.ndarray
) -> pd.DataFrame:
    """Target vs achieved table, one row per target (margin, level)."""
    margin_col, level_col = [], []
    for name, margin in zip(names, margins):
        margin_col.append(margin)
        level = name[len(margin) + 1 :] if name.startswith(margin + "=") else ""
        if not level and "=" in name and not name.startswith(margin):
            level = name.rsplit("=", 1)[1]
        level_col.append(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (achieved - totals) / np.where(totals != 0, np.abs(totals), 1.0)
    return pd.DataFrame(
        {
            "margin": margin_col,
            "level": level_col,
            "target": totals,
            "before": before,
            "achieved": achieved,
            "rel_error": rel,
        }
    )
