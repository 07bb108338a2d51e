"""The one tidy result frame every estimator returns (GUIDE §2).

Columns: the ``by`` columns, then ``variable, level, estimate, se, ci_low, ci_high, cv, df, n``
(``quantile`` after ``level`` for quantiles, ``deff`` and ``deft = √deff`` last when asked).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from surveycore.errors import SurveyError, SurveyWarning

COLUMNS = ["variable", "level", "estimate", "se", "ci_low", "ci_high", "cv", "df", "n"]


def critical_value(level: float, df: float | np.ndarray | None) -> np.ndarray | float:
    """Two-sided critical value: normal when ``df`` is None or infinite, else Student t."""
    q = 1 - (1 - level) / 2
    if df is None:
        return float(stats.norm.ppf(q))
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(df), stats.norm.ppf(q), stats.t.ppf(q, np.where(df > 0, df, np.nan)))


def standard_errors(var: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Standard errors ``√V`` and the notes to record with them.

    A variance the engine reports as NaN next to a finite estimate could not be estimated
    (a negative Horvitz–Thompson or Yates–Grundy estimate, a domain lying only in
    single-PSU strata under ``lonely_psu="average"``, a domain empty in some replicate): its
    SE is NaN, never 0, and a :class:`~surveycore.SurveyWarning` says so (R also returns NaN).
    """
    var = np.asarray(var, dtype=float)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(var < 0, np.nan, var))
    negative = np.isnan(var) & np.isfinite(estimate)
    notes: list[str] = []
    if negative.any():
        note = (
            f"{int(negative.sum())} variance estimate(s) could not be computed (a negative "
            "Horvitz–Thompson/Yates–Grundy estimate, a domain lying only in single-PSU strata under "
            "lonely_psu='average', or a domain empty in some replicate): SE reported as NaN"
        )
        warnings.warn(note, SurveyWarning, stacklevel=3)
        notes.append(note)
    return se, notes


def check_finite_estimates(estimate: np.ndarray, n: np.ndarray, variables: list[str]) -> None:
    """Refuse estimates that overflow double precision (a weighted sum ``Σ w y`` beyond about
    1.8e308: values or weights far out of scale), naming the variable; domains without an
    observed row are left to :func:`not_computable`."""
    estimate = np.asarray(estimate, dtype=float)
    observed = np.broadcast_to(np.asarray(n).reshape(estimate.shape[0], -1), estimate.shape) > 0
    bad = np.isinf(estimate) & observed
    if bad.any():
        j = int(np.argwhere(bad)[0][1])
        raise SurveyError(
            "a weighted sum is not a finite number", argument="variables",
            expected="weighted values whose sums stay within double precision (about 1.8e308)",
            found=f"{variables[j]!r}: an infinite estimate",
            hint="rescale the variable (e.g. thousands) or check it and the weights for export errors",
        )


def not_computable(
    estimate: np.ndarray, se: np.ndarray, n: np.ndarray, ci: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None, list[str]]:
    """Estimates that cannot be computed, reported as NaN with a warning and a note.

    Two cases, both of which would otherwise come out as a plausible number:

    * no observed row (``n = 0``: a variable missing everywhere in a domain under
      ``na_rm=True``) — a weighted sum over no row would read 0 with SE 0;
    * an estimate or SE that is not finite (weights or values so large that their products
      overflow double precision), or an SE beside an estimate that is not a number.

    Estimate, SE and interval of those cells become NaN (R's ``svyby(..., na.rm=TRUE)`` reports
    such a domain as 0 with SE 0; a NaN cannot be published as a value).
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    empty = np.asarray(n) == 0
    with np.errstate(invalid="ignore"):
        overflow = ~empty & (np.isinf(estimate) | np.isinf(se) | (np.isnan(estimate) & ~np.isnan(se)))
    bad = empty | overflow
    notes: list[str] = []
    if not bad.any():
        return estimate, se, ci, notes
    estimate = np.where(bad, np.nan, estimate)
    se = np.where(bad, np.nan, se)
    if ci is not None:
        ci = (np.where(bad, np.nan, ci[0]), np.where(bad, np.nan, ci[1]))
    if empty.any():
        notes.append(
            f"{int(empty.sum())} estimate(s) have no observed row (the variable is missing in every "
            "row of the domain, left out under na_rm=True): estimate and SE reported as NaN, not computable"
        )
    if overflow.any():
        notes.append(
            f"{int(overflow.sum())} estimate(s) or SE(s) are not finite numbers (e.g. weighted values "
            "beyond double precision): estimate and SE reported as NaN, not computable"
        )
    for note in notes:
        warnings.warn(note, SurveyWarning, stacklevel=4)
    return estimate, se, ci, notes


def tidy(
    labels: pd.DataFrame,
    variables: list[str],
    levels: list[object],
    estimate: np.ndarray,
    se: np.ndarray,
    n: np.ndarray,
    *,
    design_df: float | np.ndarray,
    level: float,
    ci_df: float | np.ndarray | None,
    ci: tuple[np.ndarray, np.ndarray] | None = None,
    deff: np.ndarray | None = None,
    quantile: list[float] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Assemble the tidy frame.

    Parameters
    ----------
    labels : DataFrame (D, len(by))
        Domain labels (zero columns and one row when there is no ``by``).
    variables, levels : list (k,)
        Variable name and category (None for numeric) of each estimated column.
    estimate, se : ndarray (D, k)
    n : ndarray (D, k) or (D,)
        Unweighted number of rows contributing.
    design_df : float or ndarray (D,)
        Degrees of freedom reported in ``df``.
    ci_df : float, ndarray or None
        Degrees of freedom of the interval (None: normal).
    ci : tuple of ndarray (D, k), optional
        Interval ends when they are not ``estimate ± c·se``.
    notes : list of str, optional
        Decisions taken on the way (negative variances, …), kept in ``result.attrs["notes"]``.
    """
    D, k = estimate.shape
    n = np.broadcast_to(np.asarray(n).reshape(D, -1), (D, k))
    estimate, se, ci, unknown = not_computable(estimate, se, n, ci)
    notes = list(notes or []) + unknown
    if ci is None:
        c = critical_value(level, ci_df)
        c = np.broadcast_to(np.asarray(c, dtype=float).reshape(-1, 1) if np.ndim(c) else c, (D, k))
        lo, hi = estimate - c * se, estimate + c * se
    else:
        lo, hi = ci
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = se / estimate
    ddf = np.broadcast_to(np.asarray(design_df, dtype=float).reshape(-1, 1) if np.ndim(design_df) else design_df, (D, k))
    body = {
        "variable": np.tile(np.asarray(variables, dtype=object), D),
        # object dtype keeps None for numeric variables next to categorical levels
        "level": pd.Series(np.tile(np.asarray(levels, dtype=object), D), dtype=object),
    }
    if quantile is not None:
        body["quantile"] = np.tile(np.asarray(quantile, dtype=float), D)
    body.update(
        estimate=estimate.ravel(),
        se=se.ravel(),
        ci_low=np.asarray(lo).ravel(),
        ci_high=np.asarray(hi).ravel(),
        cv=cv.ravel(),
        df=ddf.ravel().astype(float),
        n=n.ravel().astype(np.int64),
    )
    if deff is not None:
        body["deff"] = deff.ravel()
        with np.errstate(invalid="ignore"):
            body["deft"] = np.sqrt(deff.ravel())
    out = pd.DataFrame(body)
    if labels.shape[1]:
        rep = labels.loc[labels.index.repeat(k)].reset_index(drop=True)
        out = pd.concat([rep, out], axis=1)
    out.attrs["notes"] = list(notes or [])
    return out
