"""Stratification: explicit strata, migrant-prevalence strata (cumulative √f), serpentine sort.

* Explicit strata cross classification columns (region × urban/rural …).
* Prevalence strata cut the EA prevalence of a migrant group, :math:`p_i = y_i / x_i`, into
  classes either at given cut-offs or by the cumulative :math:`\\sqrt{f}` rule of Dalenius &
  Hodges (1959) (Cochran 1977, §5A.7): group the values into ``bins`` equal-width classes with
  frequencies :math:`f_j`, cumulate :math:`\\sqrt{f_j}`, and cut where the cumulative total
  crosses :math:`h\\,T/H`, :math:`h = 1, \\dots, H-1`, :math:`T = \\sum_j \\sqrt{f_j}`.
  A value equal to a cut-off belongs to the class above it: class :math:`h` holds
  :math:`c_{h-1} \\le p < c_h` (cuts ``[0.05, 0.15]`` give < 5 %, 5 % to < 15 %, ≥ 15 %), the
  convention of :func:`prevalence_class`, which every caller uses.
* Implicit stratification sorts the frame before systematic selection; the serpentine order
  reverses the direction of each sort key inside alternate groups of the previous keys, so that
  neighbours in the list are neighbours on the ground.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sampling.frame import Frame, as_frame
from surveycore import SurveyError
from surveycore.checks import (
    as_name_list,
    check_columns,
    check_counts_within_base,
    check_finite_values,
    finite_numeric,
)


def serpentine_order(data: pd.DataFrame, by: str | Sequence[str]) -> np.ndarray:
    """Row positions of ``data`` in serpentine (boustrophedon) order of the ``by`` columns."""
    by = as_name_list(by, "by")
    check_columns(data, by, "by")
    keys: list[np.ndarray] = []
    group = np.zeros(len(data), dtype=np.int64)
    for col in by:
        rank = pd.Series(data[col]).rank(method="dense").to_numpy(dtype=float)
        keys.append(np.where(group % 2 == 0, rank, -rank))
        order = np.lexsort(keys[::-1])
        stacked = np.column_stack(keys)[order]
        new = np.r_[True, (np.diff(stacked, axis=0) != 0).any(axis=1)]
        g = np.empty(len(data), dtype=np.int64)
        g[order] = np.cumsum(new) - 1
        group = g
    return np.lexsort(keys[::-1])


def serpentine_sort(data: Any, by: str | Sequence[str]) -> pd.DataFrame:
    """A copy of ``data`` sorted in serpentine order of ``by`` (implicit stratification)."""
    frame = as_frame(data) if not isinstance(data, pd.DataFrame) else None
    df = frame.data if frame is not None else data
    return df.iloc[serpentine_order(df, by)].reset_index(drop=True)


def prevalence_class(values: Any, cuts: Any) -> np.ndarray:
    """Class index 0 … H−1 of every value for the increasing cut-offs ``cuts``.

    Class :math:`h` holds :math:`c_{h} \\le v < c_{h+1}` (with :math:`c_0 = -\\infty`,
    :math:`c_H = \\infty`): a value equal to a cut-off goes to the class above it, so cuts
    ``[0.05, 0.15]`` give the classes < 5 %, 5 % to < 15 % and ≥ 15 %.
    """
    return np.searchsorted(np.asarray(cuts, dtype=float), np.asarray(values, dtype=float),
                           side="right")


def cum_sqrt_f(values: Any, n_strata: int, *, bins: int | None = None) -> np.ndarray:
    """Interior stratum boundaries by the cumulative √f rule (Dalenius & Hodges 1959).

    Parameters
    ----------
    values : array-like
        The stratification variable (e.g. EA migrant prevalence).
    n_strata : int
        Number of strata :math:`H`.
    bins : int, optional
        Number of equal-width classes (default :math:`\\min(N, \\max(10H, 50))`).

    Returns
    -------
    numpy.ndarray
        The :math:`H-1` cut points (histogram edges); stratum :math:`h` holds values in
        :math:`[c_{h-1}, c_h)` (:func:`prevalence_class`), as the histogram's classes do.
    """
    x = np.asarray(values, dtype=float)
    if np.isnan(x).any():
        raise SurveyError("stratification variable has missing values", argument="values",
                          expected="no NaN", found=f"{int(np.isnan(x).sum())} missing")
    if not isinstance(n_strata, (int, np.integer)) or n_strata < 1:
        raise SurveyError("n_strata must be a positive integer", argument="n_strata",
                          expected="an integer >= 1", found=repr(n_strata))
    bins = bins or int(min(x.size, max(10 * n_strata, 50)))
    freq, edges = np.histogram(x, bins=bins)
    cum = np.cumsum(np.sqrt(freq))
    targets = cum[-1] * np.arange(1, n_strata) / n_strata
    pos = np.clip(np.abs(cum[None, :] - targets[:, None]).argmin(axis=1), 0, bins - 1)
    cuts = np.unique(edges[1:][pos])
    filled = np.bincount(prevalence_class(x, cuts), minlength=cuts.size + 1)
    if cuts.size < n_strata - 1 or (filled == 0).any():
        raise SurveyError("too few distinct values for this many strata", argument="n_strata",
                          expected=f"fewer strata (only {int((filled > 0).sum())} can be filled)",
                          found=str(n_strata))
    return cuts


def prevalence_strata(
    frame: Any,
    count: str,
    base: str,
    *,
    n_strata: int | None = None,
    cutoffs: Sequence[float] | None = None,
    name: str = "prevalence_stratum",
    bins: int | None = None,
) -> Frame:
    """Add migrant-prevalence strata to a frame.

    The EA prevalence :math:`p_i = \\text{count}_i/\\text{base}_i` (0 where the base is 0) is cut
    at ``cutoffs`` or by :func:`cum_sqrt_f` into ``n_strata`` classes, numbered 1 (lowest) to
    :math:`H`; an EA whose prevalence equals a cut-off goes to the class above it
    (:func:`prevalence_class`). The new column is appended to the frame's strata, so explicit strata (region ×
    urban) are crossed with prevalence classes.
    """
    fr = as_frame(frame)
    df = fr.data.copy()
    check_columns(df, [count, base], "count")
    if (n_strata is None) == (cutoffs is None):
        raise SurveyError("give exactly one of n_strata and cutoffs", argument="n_strata",
                          expected="n_strata=H or cutoffs=[...]",
                          found=f"n_strata={n_strata!r}, cutoffs={cutoffs!r}")
    y = finite_numeric(df[count], "count")
    x = finite_numeric(df[base], "base")
    check_counts_within_base(y, x, df[fr.id], "count")
    cutoffs = None if cutoffs is None else check_finite_values(cutoffs, "cutoffs")
    prev = np.divide(y, x, out=np.zeros_like(y), where=x > 0)
    cuts = cum_sqrt_f(prev, n_strata, bins=bins) if cutoffs is None else np.sort(np.asarray(cutoffs, float))
    df[f"{name}_prevalence"] = prev
    df[name] = prevalence_class(prev, cuts) + 1
    return fr.with_data(df, strata=(*fr.strata, name))


def explicit_strata(frame: Any, by: str | Sequence[str]) -> Frame:
    """Declare explicit strata (the cross-classification of ``by``) on a frame."""
    fr = as_frame(frame)
    by = as_name_list(by, "by")
    check_columns(fr.data, by, "by")
    return fr.with_data(fr.data, strata=tuple(by))
