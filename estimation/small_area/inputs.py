"""Area-level inputs of the Fay–Herriot model, validated once: direct estimates, their sampling
variances, sample sizes and the auxiliaries of every area (sampled or not).

Accepted ``data``:

* a frame with one row per area (an area column, the direct estimate, its sampling variance and
  possibly the auxiliaries);
* the tidy estimate table of a design, ``SurveyDesign.mean("y", by="district")`` or the same call
  on a ``ReplicateDesign``: ``estimate`` is the direct estimate, ``se²`` its sampling variance,
  ``n`` its sample size and the ``by`` column the area.

Auxiliaries come from ``population`` (one row per area of the population, e.g. census
aggregates) when given, else from ``data``. Areas of ``population`` absent from ``data`` (or with
a missing direct estimate) are predicted synthetically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import as_name_list, check_columns, to_pandas

_TIDY = {"variable", "level", "estimate", "se", "ci_low", "ci_high", "cv", "df", "n", "deff",
         "quantile"}


@dataclass(frozen=True)
class AreaData:
    """Validated arrays, all aligned on ``areas`` (M areas, m of them sampled)."""

    areas: pd.Series          # (M,) area labels as given
    frame: pd.DataFrame       # (M, ·) the area-level columns (auxiliaries and the rest)
    X: np.ndarray             # (M, p) design matrix with the intercept first
    names: list[str]          # (p,) coefficient names
    direct: np.ndarray        # (M,) direct estimates (NaN: no sample)
    variance: np.ndarray      # (M,) direct sampling variances (NaN: unknown)
    n: np.ndarray | None      # (M,) sample sizes
    sampled: np.ndarray       # (M,) bool


def _is_estimate_table(df: pd.DataFrame) -> bool:
    return {"estimate", "se", "variable"}.issubset(df.columns)


def read_inputs(data: Any, *, y: str | None, variance: str | None,
                auxiliaries: str | Sequence[str] | None, area: str | None,
                population: Any, n: str | None, intercept: bool) -> AreaData:
    """Validate the inputs of :func:`~estimation.small_area.fay_herriot` and align them."""
    df = to_pandas(data, "data")
    aux = as_name_list(auxiliaries, "auxiliaries")
    se_col = None
    if _is_estimate_table(df):
        combos = df[["variable", "level"]].astype(str).drop_duplicates()
        if len(combos) > 1:
            raise SurveyError(
                "the estimate table holds several variables or levels",
                argument="data",
                expected="the estimates of one variable (and one level) by area",
                found=", ".join(f"{v}={lv}" for v, lv in combos.to_numpy()[:6]),
                hint="filter the table first, e.g. tab[tab['level'] == 1]",
            )
        y = y or "estimate"
        if variance is None:
            se_col = "se"
        if n is None and "n" in df.columns:
            n = "n"
        if area is None:
            by = [c for c in df.columns if c not in _TIDY]
            if len(by) != 1:
                raise SurveyError(
                    "cannot tell which column of the estimate table is the area",
                    argument="area",
                    expected="one 'by' column, or area='<column>'",
                    found=", ".join(map(str, by)) or "no by column",
                )
            area = by[0]
    for arg, val in (("area", area), ("y", y)):
        if val is None:
            raise SurveyError(f"{arg} is required", argument=arg,
                              expected="a column name of data", found="None")
    if variance is None and se_col is None:
        raise SurveyError("the sampling variance is required", argument="variance",
                          expected="a column of direct sampling variances", found="None")
    need = [area, y] + ([variance] if variance else [se_col]) + ([n] if n else [])
    check_columns(df, need, "data")
    if df[area].isna().any() or df[area].duplicated().any():
        dup = df[area][df[area].duplicated()].astype(str).unique()[:6]
        raise SurveyError("each area must appear once in data", argument="area",
                          expected="unique, non-missing area labels",
                          found=("missing labels" if df[area].isna().any()
                                 else "repeated: " + ", ".join(dup)))
    if population is not None:
        pop = to_pandas(population, "population")
        check_columns(pop, [area, *aux], "population")
        if pop[area].isna().any() or pop[area].duplicated().any():
            raise SurveyError("each area must appear once in population", argument="population",
                              expected="one row per area", found="repeated or missing labels")
        unknown = ~df[area].isin(pop[area])
        if unknown.any():
            raise SurveyError(
                "areas of data are missing from population",
                argument="population",
                expected="every area of data among the population's areas",
                found=", ".join(map(repr, df.loc[unknown, area].tolist()[:6])),
                hint="area labels must match exactly (same type, leading zeros kept)",
            )
        frame = pop.reset_index(drop=True)
        pos = pd.Index(frame[area]).get_indexer(df[area])
    else:
        check_columns(df, aux, "auxiliaries")
        frame = df.reset_index(drop=True)
        pos = np.arange(len(df))
    M = len(frame)
    direct = np.full(M, np.nan)
    var = np.full(M, np.nan)
    direct[pos] = _numeric(df[y], y)
    var[pos] = _numeric(df[variance], variance) if variance else _numeric(df[se_col], se_col) ** 2
    n_arr = None
    if n:
        n_arr = np.zeros(M)
        n_arr[pos] = np.nan_to_num(_numeric(df[n], n))
    cols = [_numeric(frame[a], a) for a in aux]
    X = np.column_stack(([np.ones(M)] if intercept else []) + cols) if (aux or intercept) else None
    names = (["(Intercept)"] if intercept else []) + aux
    if X is None or X.shape[1] == 0:
        raise SurveyError("the model has no regressor", argument="auxiliaries",
                          expected="auxiliary columns or intercept=True", found="none")
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise SurveyError(
            "auxiliaries must be known for every area",
            argument="auxiliaries",
            expected="finite numbers for every area",
            found=f"missing or infinite values for areas {frame[area][bad].tolist()[:6]}",
            hint="impute the census aggregates, or leave those areas out of population",
        )
    if np.isinf(direct).any():
        raise SurveyError("direct estimates must be finite", argument="y",
                          expected="finite numbers (missing: area without sample)",
                          found=f"infinite values for areas {frame[area][np.isinf(direct)].tolist()[:6]}")
    sampled = np.isfinite(direct)
    m, p = int(sampled.sum()), X.shape[1]
    if m <= p + 1:
        raise SurveyError("too few sampled areas for the model", argument="data",
                          expected=f"more than {p + 1} areas with a direct estimate ({p} "
                          "coefficients)", found=f"{m} areas")
    if np.linalg.matrix_rank(X[sampled]) < p:
        raise SurveyError("the auxiliaries are collinear over the sampled areas",
                          argument="auxiliaries", expected="linearly independent columns",
                          found=", ".join(names),
                          hint="drop a redundant column (a full set of dummies with the intercept?)")
    return AreaData(areas=frame[area].reset_index(drop=True), frame=frame, X=X, names=names,
                    direct=direct, variance=var, n=n_arr, sampled=sampled)


def _numeric(col: pd.Series, name: str) -> np.ndarray:
    """A column as floats; dates, durations, booleans-as-text and other non-numbers refused
    (``pandas.to_numeric`` would turn a date into nanoseconds since 1970)."""
    dtype = col.dtype
    if (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype) or isinstance(dtype, pd.CategoricalDtype)):
        raise SurveyError(f"column {name!r} is not numeric", argument=name,
                          expected="numbers", found=f"dtype {dtype}",
                          hint="derive a number first (e.g. a year, or a share); code categories as 0/1 columns")
    try:
        return pd.to_numeric(col, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise SurveyError(f"column {name!r} must be numeric", argument=name,
                          expected="numbers", found=str(col.dtype),
                          hint="code categories as 0/1 columns") from None


MIN_AREAS = 10
"""Fewer areas with a direct estimate than this give a warning: ``σ²_u`` is estimated from
``m`` areas and the MSE approximations are accurate to order ``1/m`` (Rao & Molina 2015, §6.2)."""

MIN_DF = 5
"""Direct variances with fewer degrees of freedom (PSUs minus strata in the area) than this are
themselves very uncertain; the model treats them as known."""


def input_warnings(data: Any, d: AreaData, df: str | None) -> list[str]:
    """Warn (and return the notes) when the model rests on too few areas, or the direct
    variances on too few PSUs per area (the ``df`` column, by default the design table's)."""
    import warnings

    from surveycore import SurveyWarning

    notes = []
    m = int(d.sampled.sum())
    if m < MIN_AREAS:
        notes.append(f"only {m} areas have a direct estimate (fewer than {MIN_AREAS}): the area "
                     "variance σ²_u and the MSE approximations rest on too few areas")
    frame = to_pandas(data, "data")
    if df is None and _is_estimate_table(frame) and "df" in frame.columns:
        df = "df"
    if df is not None:
        check_columns(frame, [df], "df")
        dfs = _numeric(frame[df], df)
        dfs = dfs[np.isfinite(dfs)]
        few = int(np.sum(dfs < MIN_DF))
        if dfs.size and np.median(dfs) < MIN_DF:
            notes.append(f"the direct variances of {few} of {dfs.size} areas have fewer than "
                         f"{MIN_DF} degrees of freedom (PSUs minus strata): they are treated as "
                         "known but are themselves very uncertain, and the MSEs may be too small; "
                         "smoothing='all' with a design-effect floor (min_deff) is safer")
    for note in notes:
        warnings.warn(note, SurveyWarning, stacklevel=3)
    return notes
