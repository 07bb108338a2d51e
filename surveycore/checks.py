"""Boundary checks used by every public function: options, columns, numeric arrays.

Validate once at the boundary, then work on numpy arrays inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from surveycore.errors import SurveyError


def _shown(value: Any) -> str:
    """A value as a user wrote it: ``3``, not ``np.int64(3)``; an empty cell as ``blank``."""
    if value is None or value is pd.NA or (isinstance(value, float | np.floating)
                                           and np.isnan(value)):
        return "blank (missing)"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _preview(values: Iterable[Any], limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(_shown(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def check_option(value: Any, options: Sequence[str], argument: str) -> str:
    """Return ``value`` if it is one of ``options``; otherwise raise :class:`SurveyError`."""
    if value not in options:
        raise SurveyError(
            f"unknown value for {argument}",
            argument=argument,
            expected="one of " + _preview(options, 20),
            found=repr(value),
        )
    return value


def as_name_list(value: str | Sequence[str] | None, argument: str) -> list[str]:
    """Normalise a column name or a list of column names to a list (``None`` → ``[]``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise SurveyError(
            f"{argument} must name columns",
            argument=argument,
            expected="a column name or a list of column names",
            found=type(value).__name__,
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise SurveyError(
                f"{argument} must name columns",
                argument=argument,
                expected="column names (str)",
                found=repr(name),
            )
    return names


def check_columns(data: pd.DataFrame, names: Iterable[str], argument: str) -> None:
    """Raise :class:`SurveyError` naming every column of ``names`` missing from ``data``."""
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise SurveyError(
            f"column{'s' if len(missing) > 1 else ''} not found in the data",
            argument=argument,
            expected="columns of the data frame",
            found=_preview(missing),
            hint="available columns: " + _preview(map(str, data.columns), 12),
        )


def to_pandas(data: Any, argument: str = "data") -> pd.DataFrame:
    """Accept a pandas frame or any narwhals-supported eager or lazy frame; return pandas.

    The caller's object is never modified; pandas input is returned as is (callers copy
    what they keep).
    """
    if isinstance(data, pd.DataFrame):
        return data
    try:
        import narwhals as nw

        frame = nw.from_native(data)
        if hasattr(frame, "collect"):
            frame = frame.collect()
        return frame.to_pandas()
    except Exception as exc:  # pragma: no cover - depends on the engine
        raise SurveyError(
            "data is not a data frame",
            argument=argument,
            expected="a pandas, Polars, DuckDB, Dask or other narwhals-supported frame",
            found=type(data).__name__,
        ) from exc


def all_finite(values: np.ndarray) -> bool:
    """Whether every value of a float array is finite, in one reduction in the usual case.

    A finite sum has no NaN or infinity among its terms; only when the sum is not finite
    (a missing or infinite value, or finite values overflowing the sum) is each value checked.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return True
    return bool(np.isfinite(values).all())


def finite_numeric(
    values: Any, argument: str, *, allow_nan: bool = False, hint: str | None = None
) -> np.ndarray:
    """Return ``values`` as a float array, refusing non-numeric, infinite or (unless allowed)
    missing entries; ``hint`` is shown when values are missing."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise SurveyError(
            f"{argument} must be numeric",
            argument=argument,
            expected="a numeric column",
            found=f"dtype {series.dtype}",
        )
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    if all_finite(arr):  # the details only when something is off
        return arr
    if np.isinf(arr).any():
        raise SurveyError(
            f"{argument} has infinite values",
            argument=argument,
            expected="finite numbers",
            found=f"{int(np.isinf(arr).sum())} infinite values",
        )
    if not allow_nan and np.isnan(arr).any():
        raise SurveyError(
            f"{argument} has missing values",
            argument=argument,
            expected="no NaN",
            found=f"{int(np.isnan(arr).sum())} missing values",
            hint=hint or f"fill in or remove the rows where {argument} is missing",
        )
    return arr


MAX_WEIGHT = 1e100
"""Largest weight accepted. No population comes near it; above it, the products of weights
that variances are made of (``w_i w_j y_i y_j``) leave double precision (about 1.8e308) and
would come back as infinity, or as an SE of 0 after cancellation."""


def check_weights(values: Any, argument: str = "weights") -> np.ndarray:
    """Return weights as a float array: finite, non-negative, at most :data:`MAX_WEIGHT`,
    with a positive sum.

    Valid weights are recognised from their sum, minimum and maximum (three passes, no
    temporary); the detailed checks run only to describe what is wrong.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind == "f" and values.ndim == 1 and values.size:
        total, low, high = values.sum(), values.min(), values.max()
        if np.isfinite(total) and total > 0 and low >= 0 and high <= MAX_WEIGHT:
            return values.astype(float, copy=False)
    arr = finite_numeric(values, argument)
    if (arr > MAX_WEIGHT).any():
        raise SurveyError(
            "weights are too large to compute with", argument=argument,
            expected=f"weights at most {MAX_WEIGHT:g} (their products must stay within double precision)",
            found=f"{int((arr > MAX_WEIGHT).sum())} weight(s) above it (largest {arr.max():g})",
            hint="check the weight column for a typing or export error",
        )
    with np.errstate(over="ignore"):
        total = arr.sum()
    if not np.isfinite(total):
        raise SurveyError(
            "the weights' total is not a finite number", argument=argument,
            expected="weights whose sum is finite", found=f"largest weight {arr.max():g}",
            hint="check the weight column for a typing or export error",
        )
    if (arr < 0).any():
        raise SurveyError(
            "weights must not be negative",
            argument=argument,
            expected="finite values >= 0",
            found=f"{int((arr < 0).sum())} negative values (smallest {arr.min():g})",
        )
    if arr.sum() <= 0:
        raise SurveyError(
            "weights sum to zero",
            argument=argument,
            expected="a positive total weight",
            found="all weights are zero",
        )
    return arr


def _aligned(series: pd.Series, data: pd.DataFrame, argument: str) -> np.ndarray:
    """A Series' values in the order of ``data``'s rows: matched on the index, never by
    position; refused when the labels do not match one to one."""
    if series.index.equals(data.index):
        return series.to_numpy()
    if (series.index.is_unique and data.index.is_unique and len(series) == len(data)
            and series.index.isin(data.index).all()):
        return series.reindex(data.index).to_numpy()
    raise SurveyError(
        f"{argument} is a Series whose index does not match the data's rows",
        argument=argument,
        expected="a Series with the data's index labels (each once), or a column name",
        found=f"{len(series)} values; {int((~series.index.isin(data.index)).sum())} labels not "
        "in the data" + ("" if series.index.is_unique else "; repeated labels"),
        hint="pass the column name, or weights.set_axis(data.index) if the order is right",
    )


def weight_vector(data: pd.DataFrame, weights: Any, argument: str = "weights") -> np.ndarray:
    """Weights named by a column or given as one value per row, checked (a new array)."""
    if isinstance(weights, str):
        check_columns(data, [weights], argument)
        column = data[weights]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            values = column.to_numpy()
            # a read-only view of the frame (copy-on-write) needs no copy of its own
            return check_weights(values, argument) if not values.flags.writeable else check_weights(values, argument).copy()
        return check_weights(column, argument).copy()
    if isinstance(weights, pd.Series):
        weights = _aligned(weights, data, argument)
    arr = np.asarray(weights)
    if arr.shape != (len(data),):
        raise SurveyError(
            "weights have the wrong length",
            argument=argument,
            expected=f"a column name or {len(data)} values",
            found=f"shape {arr.shape}",
        )
    return check_weights(arr, argument).copy()


# ------------------------------------------------------------------ numeric arguments
def _scalar(value: Any, argument: str, expected: str) -> float:
    """``value`` as a float; refuse text, booleans, arrays and anything not a real number."""
    if isinstance(value, bool | np.bool_) or isinstance(value, str | bytes):
        raise SurveyError(f"{argument} must be a number", argument=argument, expected=expected,
                          found=repr(value))
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise SurveyError(f"{argument} must be a number", argument=argument, expected=expected,
                          found=f"{type(value).__name__}: {value!r}"[:120]) from None
    return out


def check_level(level: Any, argument: str = "level") -> float:
    """A confidence level strictly between 0 and 1 (``0.95``, not ``95``)."""
    expected = "a confidence level strictly between 0 and 1, e.g. 0.95"
    value = _scalar(level, argument, expected)
    if not (0.0 < value < 1.0):
        raise SurveyError("confidence level out of range", argument=argument, expected=expected,
                          found=repr(level),
                          hint="write 0.95 for 95%" if 1 < value <= 100 else None)
    return value


def check_df(df: Any, argument: str = "df") -> Any:
    """Degrees of freedom: ``None``, ``"design"`` or a number ``> 0`` (``inf`` for normal)."""
    if df is None or (isinstance(df, str) and df == "design"):
        return df
    if isinstance(df, str):
        raise SurveyError("unknown degrees of freedom", argument=argument,
                          expected="None, 'design' or a number > 0 (inf for the normal)", found=repr(df),
                          hint="'design' takes each domain's design degrees of freedom")
    value = _scalar(df, argument, "None, 'design' or a number > 0")
    if not value > 0:
        raise SurveyError("degrees of freedom must be positive", argument=argument,
                          expected="None, 'design' or a number > 0 (inf for the normal)",
                          found=repr(df))
    return value


def check_positive(value: Any, argument: str, *, allow_none: bool = False,
                   allow_zero: bool = False) -> float | None:
    """A finite number ``> 0`` (``>= 0`` with ``allow_zero``): deff, cv, moe, population …"""
    if value is None and allow_none:
        return None
    expected = f"a finite number {'>=' if allow_zero else '>'} 0"
    out = _scalar(value, argument, expected)
    if not np.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        raise SurveyError(f"{argument} must be {'non-negative' if allow_zero else 'positive'} and finite",
                          argument=argument, expected=expected, found=repr(value))
    return out


def check_number(value: Any, argument: str) -> float:
    """A real number (infinite allowed, NaN and text refused): bounds and caps."""
    out = _scalar(value, argument, "a number")
    if np.isnan(out):
        raise SurveyError(f"{argument} is not a number", argument=argument,
                          expected="a number (not NaN)", found=repr(value))
    return out


def check_unit_interval(value: Any, argument: str, *, open_: bool = False) -> float:
    """A finite number in [0, 1] (or (0, 1) with ``open_``): ``power``, a probability."""
    expected = f"a number in {'(0, 1)' if open_ else '[0, 1]'}"
    out = _scalar(value, argument, expected)
    ok = (0 < out < 1) if open_ else (0 <= out <= 1)
    if not ok:
        raise SurveyError(f"{argument} out of range", argument=argument, expected=expected,
                          found=repr(value))
    return out


def check_count(value: Any, argument: str, *, minimum: int = 1) -> int:
    """A whole number ``>= minimum`` (iterations, replicates, sample sizes)."""
    expected = f"a whole number >= {minimum}"
    out = _scalar(value, argument, expected)
    if not np.isfinite(out) or out != int(out) or out < minimum:
        raise SurveyError(f"{argument} must be a whole number", argument=argument,
                          expected=expected, found=repr(value))
    return int(out)


def check_probabilities(probs: Any, argument: str = "probs") -> np.ndarray:
    """Quantile probabilities: finite numbers in [0, 1] (one or a list)."""
    arr = np.atleast_1d(np.asarray(probs, dtype=object))
    values = np.array([_scalar(p, argument, "numbers in [0, 1]") for p in arr], dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any() or len(values) == 0:
        raise SurveyError("probabilities must be finite numbers in [0, 1]", argument=argument,
                          expected="e.g. 0.5 or [0.25, 0.5, 0.75]",
                          found=_preview(arr[bad]) if bad.any() else "no probability")
    return values


def check_finite_values(values: Any, argument: str) -> np.ndarray:
    """A list of finite numbers (cut-offs, bounds)."""
    arr = np.atleast_1d(np.asarray(values, dtype=object))
    out = np.array([_scalar(v, argument, "finite numbers") for v in arr], dtype=float)
    if not np.isfinite(out).all():
        raise SurveyError(f"{argument} must be finite numbers", argument=argument,
                          expected="finite numbers", found=_preview(arr[~np.isfinite(out)]))
    return out


def check_finite_total(values: np.ndarray, argument: str) -> None:
    """Refuse sizes whose total overflows (e.g. two measures of size of 1e308)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(np.asarray(values, dtype=float))
    if not np.isfinite(total):
        raise SurveyError(f"the total of {argument} is not a finite number", argument=argument,
                          expected="sizes whose sum is finite",
                          found=f"largest value {np.nanmax(values):g}",
                          hint="rescale the measure of size (e.g. thousands)")


# ------------------------------------------------------------------ data frames
def check_frame(data: pd.DataFrame, argument: str = "data", columns: Iterable[str] | None = None) -> None:
    """A frame with rows and without duplicated column names (among ``columns`` if given)."""
    if len(data) == 0:
        raise SurveyError("the data have no rows", argument=argument,
                          expected="at least one row", found="an empty data frame")
    if data.columns.is_unique:  # the usual case, known to the index without counting
        return
    names = list(data.columns) if columns is None else [c for c in columns if c is not None]
    counts = pd.Index(data.columns).value_counts()
    dup = [c for c in dict.fromkeys(names) if counts.get(c, 0) > 1]
    if dup:
        raise SurveyError(
            f"column{'s' if len(dup) > 1 else ''} duplicated in the data", argument=argument,
            expected="each column name once", found=_preview(dup),
            hint="rename or drop the repeated columns",
        )


def check_analysis_columns(data: pd.DataFrame, names: Iterable[str], argument: str = "variables") -> None:
    """Analysis variables: present, not duplicated, not dates (R refuses Dates too)."""
    names = list(names)
    check_columns(data, names, argument)
    check_frame(data, argument, names)
    for name in names:
        dtype = data[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise SurveyError(
                "a date is not an analysis variable", argument=argument,
                expected="numeric or categorical columns", found=f"{name!r} has dtype {dtype}",
                hint="derive a number (e.g. age in years) or a category (e.g. year) first",
            )


def check_by_complete(data: pd.DataFrame, by: Any, active: np.ndarray, na_rm: bool) -> None:
    """Refuse missing values in the ``by`` columns of rows with positive weight, unless
    ``na_rm`` (then those rows are left out of every domain, and domains no longer add up to
    the total)."""
    names = as_name_list(by, "by")
    if na_rm or not names:
        return
    check_columns(data, names, "by")
    check_frame(data, "by", names)
    names = [c for c in names if not (isinstance(data[c].dtype, np.dtype) and data[c].dtype.kind in "iub")]
    if not names:  # numpy integers and booleans cannot be missing
        return
    miss = data[names].isna().any(axis=1).to_numpy() & np.asarray(active, dtype=bool)
    if miss.any():
        cols = [c for c in names if (data[c].isna().to_numpy() & active).any()]
        raise SurveyError(
            "domain variables have missing values", argument="by",
            expected="a domain for every row with positive weight",
            found=f"{int(miss.sum())} rows with a missing value in " + _preview(cols),
            hint="give missing values a category of their own, or pass na_rm=True to leave "
            "those rows out of every domain",
        )


def check_denominators(totals: np.ndarray, labels: pd.DataFrame, names: list[str],
                       argument: str = "denominator") -> None:
    """Refuse a ratio whose estimated denominator total is zero, naming the domain."""
    totals = np.atleast_2d(np.asarray(totals, dtype=float))
    zero = np.argwhere(totals == 0)
    if len(zero):
        d, j = zero[0]
        where = ", ".join(f"{k}={v!r}" for k, v in labels.iloc[int(d)].items()) if labels.shape[1] else "the whole sample"
        raise SurveyError(
            "the denominator total is zero", argument=argument,
            expected="a non-zero estimated total of the denominator in every domain",
            found=f"{names[int(j)]} in {where}" + (f" (and {len(zero) - 1} more)" if len(zero) > 1 else ""),
            hint="leave that domain out, or choose another denominator",
        )


def check_counts_within_base(count: np.ndarray, base: np.ndarray, ids: Any, argument: str) -> None:
    """Counts that are part of a base: ``0 <= count <= base``, naming the first bad unit."""
    count = np.asarray(count, dtype=float)
    base = np.asarray(base, dtype=float)
    bad = (count > base) | (count < 0) | (base < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        unit = list(ids)[i] if ids is not None else i
        raise SurveyError(
            "counts are inconsistent with their base", argument=argument,
            expected="0 <= count <= base in every unit",
            found=f"{int(bad.sum())} units, e.g. {unit!r}: count {count[i]:g}, base {base[i]:g}",
        )


def _label_text(key: Any) -> str:
    """The printed form of a label, whole numbers without their decimals (``1.0`` → ``"1"``)."""
    text = str(key)
    try:
        as_num = float(key)
        if np.isfinite(as_num) and as_num == int(as_num):
            text = str(int(as_num))
    except (TypeError, ValueError, OverflowError):
        pass
    return text


def check_margin_levels(margin: Any, variable: str, argument: str = "targets") -> None:
    """Refuse a margin that names one level twice (``1`` and ``"1"``, or ``1`` and ``1.0``)."""
    seen: dict[str, Any] = {}
    for key in margin:
        text = _label_text(key)
        if text in seen:
            raise SurveyError(
                f"a level of {variable!r} is given twice", argument=argument,
                expected="each level once", found=f"{seen[text]!r} and {key!r}",
            )
        seen[text] = key


_ONE_KIND = frozenset({"string", "integer", "floating", "boolean", "mixed-integer-float", "decimal",
                       "empty", "categorical", "date", "datetime", "datetime64", "period", "time",
                       "timedelta", "timedelta64", "bytes", "complex", "interval"})


def check_distinct_labels(labels: Any, column: Any = None, argument: str | None = None) -> None:
    """Refuse a column of codes holding one label twice in different types (the number ``1``
    and the text ``"1"``, as when an Excel column was typed by hand or two files were joined).

    Such values would form two domains, strata, clusters or classes that print alike. Only the
    distinct ``labels`` are looked at; a column of one type passes after one C-level pass.
    """
    if isinstance(labels, pd.Categorical | pd.CategoricalIndex):
        labels = labels.categories
    if isinstance(labels, np.ndarray | pd.Index | pd.api.extensions.ExtensionArray):
        labels = np.asarray(labels)
    else:  # a list: kept as Python objects (numpy would turn 1 and "1" into two strings)
        items = list(labels)
        labels = np.empty(len(items), dtype=object)
        labels[:] = items
    if labels.dtype != object or len(labels) < 2:
        return
    if pd.api.types.infer_dtype(labels, skipna=True) in _ONE_KIND:
        return
    seen: dict[str, Any] = {}
    for key in labels:
        if key is None or (isinstance(key, float) and np.isnan(key)):
            continue
        # "01" prints apart from 1, True apart from 1
        text = key if isinstance(key, str) else str(key) if isinstance(key, bool | np.bool_) else _label_text(key)
        if text in seen:
            name = f"{column!r}" if column is not None else "a column of codes"
            raise SurveyError(
                f"a label of {name} is given twice, as {type(seen[text]).__name__} and "
                f"{type(key).__name__}", argument=argument or (str(column) if column is not None else "data"),
                expected="each code written one way (all text, or all numbers)",
                found=f"{seen[text]!r} and {key!r}",
                hint=f"convert {name} to one type first, e.g. df[{column!r}].astype(str)",
            )
        seen[text] = key


def check_trim_bound(upper: Any, weights: np.ndarray, argument: str = "upper") -> float:
    """An upper trimming bound that some unit can stay under: ``upper`` above the smallest
    positive weight; otherwise no unit can absorb the trimmed weight."""
    value = check_number(upper, argument)
    if value == np.inf:
        return value
    pos = np.asarray(weights, dtype=float)
    pos = pos[pos > 0]
    if len(pos) and value <= pos.min():
        raise SurveyError(
            "the trimming bound is below every weight", argument=argument,
            expected=f"a bound above the smallest weight ({pos.min():g})", found=repr(upper),
            hint="no unit could absorb the trimmed weight without exceeding the bound",
        )
    return value


def check_sampled_targets(name: str, levels: Sequence[Any], counts: np.ndarray,
                          argument: str = "targets") -> None:
    """Refuse a target of 0 for a level found in the sample: every sampled unit of that
    level would silently get weight 0."""
    zero = [lv for lv, c in zip(levels, np.asarray(counts, dtype=float)) if c == 0]
    if zero:
        raise SurveyError(
            f"a level of {name} found in the sample has target 0", argument=argument,
            expected="a positive target for every sampled level",
            found=_preview(zero),
            hint="check the target (a zero usually means a missing figure), or drop or recode "
            "those units first",
        )


def check_sample_size_inputs(*, level: Any = 0.95, **positive: Any) -> None:
    """Sample-size arguments: ``level`` in (0, 1) and every other given value a finite number
    ``> 0`` (``moe, rmoe, cv, sd, population, deff, z, persons_per_household, ave_size`` …)."""
    check_level(level)
    for name, value in positive.items():
        if value is not None:
            check_positive(value, name)


def finite_result(what: str):
    """Decorator: a computation whose inputs passed their checks but whose result overflows,
    underflows to a division by zero, or is not finite, is refused with a SurveyError naming
    ``what`` (never returned as ``inf``/``NaN``). Dataclass results have every float field
    checked."""
    import functools
    from dataclasses import fields, is_dataclass

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                out = func(*args, **kwargs)
            except (ZeroDivisionError, OverflowError) as exc:
                raise SurveyError(f"the {what} cannot be computed from these inputs",
                                  argument=what, expected="inputs of a sensible size",
                                  found=f"{type(exc).__name__}: {exc}") from None
            values = ([getattr(out, f.name) for f in fields(out)] if is_dataclass(out) else [out])
            bad = [v for v in values if isinstance(v, float | np.floating) and not np.isfinite(v)]
            if bad:
                raise SurveyError(f"the {what} is not a finite number", argument=what,
                                  expected="inputs of a sensible size", found=repr(bad[0]))
            return out
        return wrapper
    return decorate
