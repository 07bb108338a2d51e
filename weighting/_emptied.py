"""Refuse weight columns (replicates) in which a cell that must receive weight is empty."""

from __future__ import annotations

import numpy as np

from surveycore import SurveyError


def refuse_emptied(need: np.ndarray, have: np.ndarray, labels, step: str, what: str,
                   hint: str) -> None:
    """Refuse when a cell has something to spread (``need > 0``) but ``have`` is not positive.

    ``need`` and ``have`` are (C,) or (C, R) cell totals; column ``r`` of a replicate matrix is
    replicate ``r + 1``. A factor of 0 there would silently drop the cell's weight or target
    (a post-stratum total estimated as 0), so the replay stops and names the replicate and
    the cell.
    """
    need = np.asarray(need, dtype=float).reshape(len(need), -1)
    have = np.asarray(have, dtype=float).reshape(len(have), -1)
    bad = (need > 0) & ~(have > 0)
    if not bad.any():
        return
    cell, col = np.argwhere(bad.T)[0][::-1]
    n_cols = need.shape[1]
    where = f"replicate {col + 1}" if n_cols > 1 else "the weights"
    label = labels[cell] if cell < len(labels) else cell
    raise SurveyError(
        f"{step} {label!r} is empty in {where}",
        argument="weights",
        expected=f"{what} with positive weight in every cell of every replicate",
        found=f"{step} {label!r} in {where} ({int(bad.any(axis=0).sum())} of {n_cols} "
        "weight columns have an empty cell)",
        hint=hint,
    )
