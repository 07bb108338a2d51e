"""Diagnostics of a weighting chain as tidy frames, ready for a report.

- ``steps``: one row per step with weight sum, range, CV, Kish design effect due to unequal
  weighting ``deff = n Σw² / (Σw)²`` and effective sample size ``(Σw)² / Σw²`` (Kish 1965),
  before and after, with iterations and convergence;
- ``targets``: target vs achieved per margin level, per calibration step;
- ``g``: distribution of the adjustment factors of every step;
- ``convergence``: the convergence trace (criterion after each iteration);
- ``notes``: decisions taken (collapsed classes, trimmed weights, cells, units);
- ``warnings``: tolerated degradations (extreme g-weights, a response model that did not
  converge), each also emitted as a :class:`surveycore.SurveyWarning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from weighting.weights import Weights


def summary_frames(w: Weights) -> dict[str, pd.DataFrame]:
    rows, targets, gs, trace, notes, warns = [], [], [], [], [], []
    for k, h in enumerate(w.history):
        row = {"step_no": k, "step": h.step, "iterations": h.iterations, "converged": h.converged}
        for key in ("sum", "min", "max", "cv", "ratio_max_min", "deff_kish", "n_eff"):
            row[f"{key}_before"] = h.before.get(key)
            row[f"{key}_after"] = h.after.get(key)
        row["n_positive_after"] = h.after.get("n_positive")
        rows.append(row)
        if h.targets is not None:
            t = h.targets.copy()
            t.insert(0, "step", h.step)
            t.insert(0, "step_no", k)
            targets.append(t)
        if h.g:
            gs.append({"step_no": k, "step": h.step, **h.g})
        trace += [{"step_no": k, "step": h.step, "iteration": i + 1, "criterion": v}
                  for i, v in enumerate(h.trace)]
        notes += [{"step_no": k, "step": h.step, "note": n} for n in h.notes]
        warns += [{"step_no": k, "step": h.step, "warning": n} for n in h.warnings]
    cols_t = ["step_no", "step", "margin", "level", "target", "before", "achieved", "rel_error"]
    return {
        "steps": pd.DataFrame(rows),
        "targets": pd.concat(targets, ignore_index=True) if targets else pd.DataFrame(columns=cols_t),
        "g": pd.DataFrame(gs),
        "convergence": pd.DataFrame(trace, columns=["step_no", "step", "iteration", "criterion"]),
        "notes": pd.DataFrame(notes, columns=["step_no", "step", "note"]),
        "warnings": pd.DataFrame(warns, columns=["step_no", "step", "warning"]),
    }
