"""Analysis variables: numeric columns as they are, categorical columns as one column per level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveycore.checks import all_finite, check_analysis_columns, check_distinct_labels
from surveycore.errors import SurveyError


@dataclass(frozen=True)
class Columns:
    """Analysis matrix with its labels.

    Attributes
    ----------
    values : ndarray (n, k)
        Numeric values (NaN where missing), one-hot columns for categorical levels.
    variables, levels : list (k,)
        Source variable and level (None for numeric) of each column.
    missing : ndarray of bool (n,)
        Rows where any requested variable is missing.
    """

    values: np.ndarray
    variables: list[str]
    levels: list[object]
    missing: np.ndarray


def is_categorical(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def analysis_columns(data: pd.DataFrame, names: list[str], argument: str = "variables") -> Columns:
    """Build the analysis matrix of ``names`` (categorical levels sorted, or in category order)."""
    if not names:
        raise SurveyError(
            "no variable to estimate",
            argument=argument,
            expected="one or more column names",
            found="an empty list",
        )
    check_analysis_columns(data, names, argument)
    blocks, variables, levels = [], [], []
    missing = np.zeros(len(data), dtype=bool)
    for name in names:
        col = data[name]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
            arr = col.to_numpy(dtype=float)
            if all_finite(arr):  # nothing missing, nothing infinite
                blocks.append(arr[:, None])
                variables.append(name)
                levels.append(None)
                continue
        miss = col.isna().to_numpy()
        missing |= miss
        if is_categorical(col):
            if isinstance(col.dtype, pd.CategoricalDtype):
                cats = [c for c in col.cat.categories if (col == c).any()]
            else:
                cats = pd.unique(col[~miss])
                check_distinct_labels(cats, name, argument)
                cats = sorted(cats, key=lambda v: (str(type(v)), v))
            if not len(cats):
                raise SurveyError(
                    f"{name!r} has no observed value", argument=argument,
                    expected="a categorical variable with at least one observed category",
                    found=f"{name!r} is missing in every row",
                    hint="its categories are unknown, so no share can be estimated: check the "
                    "column, or estimate it as a numeric 0/1 variable with na_rm=True",
                )
            onehot = np.column_stack([(col == c).to_numpy(dtype=float) for c in cats]) if cats else np.zeros((len(col), 0))
            onehot[miss] = np.nan
            blocks.append(onehot)
            variables += [name] * len(cats)
            levels += list(cats)
        else:
            arr = col.to_numpy(dtype=float, na_value=np.nan)
            if np.isinf(arr).any():
                raise SurveyError(
                    "analysis variable has infinite values",
                    argument=argument,
                    expected="finite numbers",
                    found=f"{int(np.isinf(arr).sum())} infinite values in {name!r}",
                )
            blocks.append(arr[:, None])
            variables.append(name)
            levels.append(None)
    values = blocks[0] if len(blocks) == 1 else np.column_stack(blocks)  # one column: no copy
    return Columns(values, variables, levels, missing)


@dataclass(frozen=True)
class Analysis:
    """One request's analysis matrix and domains: what an estimator receives from a design.

    Attributes
    ----------
    values : ndarray (n, k)
        Analysis matrix (one-hot columns for categorical levels), zero where missing.
    variables, levels : list (k,)
        Source variable and level (None for numeric) of each column.
    domain : ndarray of int (n,)
        Domain of each row in ``0 .. D−1``; ``-1`` for rows outside every domain (weight zero,
        a missing value under ``na_rm=True``, or no ``by`` cell). Rows keep their place.
    labels : DataFrame (D, len(by))
        The ``by`` values of each domain (no columns and one row without ``by``).
    counts : ndarray of int (D,)
        Rows with positive weight in each domain.
    notes : tuple of str
        The design's standing decisions (e.g. how single-PSU strata are handled), to be kept
        in the result's ``attrs["notes"]``.
    """

    values: np.ndarray
    variables: list[str]
    levels: list[object]
    domain: np.ndarray
    labels: pd.DataFrame
    counts: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def n_domains(self) -> int:
        return len(self.labels)
