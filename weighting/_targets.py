"""Population targets given by name, aligned with the sample by name only.

Targets are a mapping ``{"var": {level: count}}`` for a categorical margin, ``{"var": total}``
for a numeric total and ``{("v1", "v2"): {(l1, l2): count}}`` for a cross-classified margin.
Nothing is matched by position: every sample level must have a target and every target level
with a positive count must be present in the sample, otherwise :class:`SurveyError` names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import (
    _preview,
    check_columns,
    check_distinct_labels,
    check_frame,
    check_margin_levels,
    check_sampled_targets,
    finite_numeric,
)

__all__ = ["Margin", "NumericTotal", "parse_targets", "check_margin_totals", "cell_codes"]

MARGIN_RTOL = 1e-6


@dataclass(frozen=True)
class Margin:
    """A categorical margin: row codes into ``levels`` and the population count of each level."""

    name: str
    columns: tuple[str, ...]
    levels: tuple[Any, ...]
    codes: np.ndarray  # (n,) int codes into levels
    counts: np.ndarray  # (L,) population counts
    order: tuple[int, ...] = ()  # levels in sorted order, for display

    @property
    def display(self) -> list[int]:
        return list(self.order) if self.order else list(range(len(self.levels)))

    @property
    def total(self) -> float:
        return float(self.counts.sum())


@dataclass(frozen=True)
class NumericTotal:
    """A numeric auxiliary variable and its population total."""

    name: str
    values: np.ndarray  # (n,)
    total: float



def _number(value: object, message: str, argument: str, expected: str) -> float:
    """A target value as a float; text and booleans are refused, never coerced."""
    if not isinstance(value, str | bytes | bool):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    raise SurveyError(message, argument=argument, expected=expected, found=repr(value))

def _key_columns(key: Any) -> tuple[str, ...]:
    if isinstance(key, str):
        return (key,)
    if isinstance(key, tuple) and key and all(isinstance(k, str) for k in key):
        return key
    raise SurveyError(
        "a target must be keyed by a column name or a tuple of column names",
        argument="targets",
        expected="'var' or ('var1', 'var2')",
        found=repr(key),
    )


def _row_keys(data: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    if any(data[c].isna().any() for c in columns):
        bad = [c for c in columns if data[c].isna().any()]
        counts = ", ".join(f"{c!r}: {int(data[c].isna().sum())} of {len(data)} rows"
                           for c in bad)
        raise SurveyError(
            "a calibration variable has missing values in the sample's data",
            argument=f"data column {', '.join(map(repr, bad))}",
            expected="no missing values in the margin variables",
            found=f"missing values ({counts})",
            hint="impute or give the missing rows a level of their own (and a target for it)",
        )
    if len(columns) == 1:
        return data[columns[0]]
    return pd.Series(list(zip(*(data[c].tolist() for c in columns))), index=data.index)


def _factorize_unsorted(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    to_arrow = getattr(values.array, "__arrow_array__", None)
    if to_arrow is not None and not values.isna().any():
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(to_arrow())
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(values, sort=False)
    return codes, list(uniques)


def factorize_levels(values: pd.Series) -> tuple[np.ndarray, list[Any], tuple[int, ...]]:
    """Integer codes of ``values``, its distinct values, and their sorted order.

    One hash pass (Arrow's dictionary encoding for Arrow-backed columns); the codes keep the
    order of first appearance and only the few distinct values are sorted, for display.
    """
    codes, levels = _factorize_unsorted(values)
    try:
        order = sorted(range(len(levels)), key=lambda j: levels[j])
    except TypeError:  # mixed types: order by their text
        order = sorted(range(len(levels)), key=lambda j: str(levels[j]))
    return codes, levels, tuple(order)


def _match_level(level: Any, sample_levels: list[Any]) -> Any:
    """Return the sample level equal to ``level`` (exactly, else by string form), or a sentinel."""
    if level in sample_levels:
        return level
    as_text = {str(s): s for s in sample_levels}
    return as_text.get(str(level), _MISSING)


_MISSING = object()


def _margin(data: pd.DataFrame, key: Any, spec: Mapping[Any, Any], argument: str) -> Margin:
    columns = _key_columns(key)
    name = columns[0] if len(columns) == 1 else ":".join(columns)
    rows = _row_keys(data, columns)
    for c in columns:
        if data[c].dtype == object:
            check_distinct_labels(pd.unique(data[c]), c, argument)
    codes, sample_levels, order = factorize_levels(rows)
    counts = np.zeros(len(sample_levels))
    seen = np.zeros(len(sample_levels), dtype=bool)
    absent = []
    for level, count in spec.items():
        value = _number(count, f"target for {name}={level!r} is not a number", argument, "a count")
        if not np.isfinite(value) or value < 0:
            raise SurveyError(
                f"target for {name}={level!r} must be a finite count >= 0",
                argument=argument,
                expected="finite counts >= 0",
                found=repr(count),
            )
        match = _match_level(level, sample_levels)
        if match is _MISSING:
            if value > 0:
                absent.append((level, value))
            continue
        j = sample_levels.index(match)
        counts[j] = value
        seen[j] = True
    if absent:
        raise SurveyError(
            f"target level{'s' if len(absent) > 1 else ''} of {name} absent from the sample",
            argument=argument,
            expected=f"levels present in the sample: {_preview(sample_levels)}",
            found=", ".join(f"{lv!r} (target {v:g})" for lv, v in absent),
            hint=f"collapse {_preview([lv for lv, _ in absent])} with a neighbouring level of "
            f"{name} in both the data and the targets",
        )
    if not seen.all():
        missing = [lv for lv, s in zip(sample_levels, seen) if not s]
        raise SurveyError(
            f"sample level{'s' if len(missing) > 1 else ''} of {name} missing from the targets",
            argument=argument,
            expected=f"a target for every level of {name} found in the sample",
            found=f"no target for {_preview(missing)}",
            hint="add the level to the targets or recode it into a level that has one",
        )
    return Margin(name, columns, tuple(sample_levels), codes, counts, order)


def parse_targets(
    data: pd.DataFrame, targets: Mapping[Any, Any], argument: str = "targets"
) -> tuple[list[Margin], list[NumericTotal]]:
    """Split ``targets`` into categorical margins and numeric totals, checked against ``data``."""
    if not isinstance(targets, Mapping) or not targets:
        raise SurveyError(
            "targets must be a non-empty mapping",
            argument=argument,
            expected="{'var': {level: count}} or {'var': total}",
            found=type(targets).__name__,
        )
    margins: list[Margin] = []
    numerics: list[NumericTotal] = []
    for key, spec in targets.items():
        columns = _key_columns(key)
        check_columns(data, columns, argument)
        check_frame(data, argument, columns)
        if isinstance(spec, Mapping) or isinstance(spec, pd.Series):
            check_margin_levels(spec, str(key), argument)
            margins.append(_margin(data, key, dict(spec), argument))
            check_sampled_targets(margins[-1].name, margins[-1].levels, margins[-1].counts, argument)
        else:
            if len(columns) != 1:
                raise SurveyError(
                    "a numeric total must name one column",
                    argument=argument,
                    expected="{'var': total}",
                    found=repr(key),
                )
            total = _number(
                spec,
                f"target for {key} is neither a number nor a mapping of level counts",
                argument,
                "{'var': {level: count}} or {'var': total}",
            )
            if not np.isfinite(total):
                raise SurveyError(
                    f"target total for {key} is not finite",
                    argument=argument,
                    expected="a finite number",
                    found=repr(spec),
                )
            values = finite_numeric(data[columns[0]], f"{argument}[{key!r}]")
            numerics.append(NumericTotal(columns[0], values, total))
    return margins, numerics


def check_margin_totals(margins: list[Margin], argument: str = "targets") -> None:
    """Refuse categorical margins whose population totals disagree (relative 1e-6)."""
    if len(margins) < 2:
        return
    totals = np.array([m.total for m in margins])
    if np.ptp(totals) > MARGIN_RTOL * np.abs(totals).max():
        shown = ", ".join(f"{m.name}={m.total:,.6g}" for m in margins)
        raise SurveyError(
            "margins disagree on the population total",
            argument=argument,
            expected=f"every categorical margin summing to the same total (relative {MARGIN_RTOL:g})",
            found=shown,
            hint="take every margin from the same population source, or rescale them to one total",
        )


def cell_codes(codes: list[np.ndarray], n_levels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Cells of the margins' cross-classification present in the sample.

    ``codes`` are the level codes of every margin (n,) and ``n_levels`` their numbers of
    levels. Returns ``(cell, cell_levels)``: the cell code of each row (n,) and, for each
    cell, its level code in every margin (C, M).
    """
    sizes = np.array(n_levels, dtype=np.int64)
    n_cells_max = float(np.prod(sizes.astype(float)))
    if n_cells_max <= 5e7:
        # dense mixed-radix key, present cells found by counting: O(n), no sort
        radix = np.concatenate([[1], np.cumprod(sizes[:-1])]).astype(np.int64)
        kind = np.int32 if n_cells_max < 2**31 else np.int64
        key = np.zeros(codes[0].shape[0], dtype=kind)
        for c, r in zip(codes, radix):
            key += c.astype(kind, copy=False) * kind(r)
        present = np.bincount(key, minlength=int(n_cells_max)) > 0
        uniq = np.flatnonzero(present)
        position = np.cumsum(present) - 1
        cell = position[key]
    else:
        stacked = np.column_stack(codes).astype(np.int64)
        radix = np.concatenate([[1], np.cumprod(sizes[:-1])])
        uniq, cell = np.unique(stacked @ radix, return_inverse=True)
    cell_levels = (uniq[:, None] // radix[None, :]) % sizes[None, :]
    return cell.astype(np.intp, copy=False).ravel(), cell_levels.astype(np.intp)
