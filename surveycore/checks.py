"""Boundary checks used by every public function: options, columns, numeric arrays.

Validate once at the boundary, then work on numpy arrays inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from surveycore.errors import SurveyError


def _preview(values: Iterable[Any], limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
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


def check_weights(values: Any, argument: str = "weights") -> np.ndarray:
    """Return weights as a float array: finite, non-negative, with a positive sum."""
    arr = finite_numeric(values, argument)
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


def weight_vector(data: pd.DataFrame, weights: Any, argument: str = "weights") -> np.ndarray:
    """Weights named by a column or given as one value per row, checked (a new array)."""
    if isinstance(weights, str):
        check_columns(data, [weights], argument)
        return check_weights(data[weights], argument).copy()
    arr = weights.to_numpy() if isinstance(weights, pd.Series) else np.asarray(weights)
    if arr.shape != (len(data),):
        raise SurveyError(
            "weights have the wrong length",
            argument=argument,
            expected=f"a column name or {len(data)} values",
            found=f"shape {arr.shape}",
        )
    return check_weights(arr, argument).copy()
