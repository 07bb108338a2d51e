"""``indicator_table``: every cell of a disaggregation grid for a set of indicators.

For each indicator and each of its measures the estimation core is called once per *grouping*
of the disaggregation variables (the full cross-classification and, with ``margins=True``,
every margin down to the grand total: ``2^k`` calls for ``k`` variables), and every call
estimates all cells of its grouping in one vectorised pass. Universes are domains of the full
design (:meth:`SurveyDesign.subset`: zero weights outside, all rows kept), so standard errors
account for random domain sizes; the same code serves linearisation and replicate designs.

Margins carry the label ``"_T"`` (the SDMX code for "total") in the disaggregation columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from estimation.indicators.quality import QualityRule, get_rule
from estimation.indicators.registry import Indicator, Measure, resolve_indicators
from estimation.indicators.suppression import (
    TOTAL,
    SuppressionRule,
    audit_suppression,
    secondary_suppression,
)
from estimation.indicators.variables import as_float, check_known
from surveycore import SurveyError
from surveycore.checks import as_name_list

DEFAULT_SUPPRESSION = SuppressionRule()
"""Default disclosure control: frequency rule ``0 < contributors <= 3``, secondary suppression."""

_EST_COLS = ["estimate", "se", "ci_low", "ci_high", "cv", "df", "n"]


@dataclass(frozen=True)
class IndicatorTable:
    """Result of :func:`indicator_table`: a tidy table and its metadata.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per indicator × measure × cell: ``indicator, measure, kind``, the
        disaggregation columns (``"_T"`` on margins), ``estimate, se, ci_low, ci_high, cv, df,
        n`` (unweighted rows of the universe in the cell), ``n_contributors`` (unweighted rows
        with a non-zero numerator), ``unit_measure, experimental, flag, reliability`` and
        ``suppressed`` (``""``, ``"primary"`` or ``"secondary"``). The full, unmasked values are
        kept for analysts; use :meth:`published` or the exports for release.
    metadata : dict
        Indicator definitions and sources, experimental markers, disaggregations, the quality
        rule and the suppression rule with the result of its audit.
    """

    table: pd.DataFrame
    metadata: dict = field(default_factory=dict)

    def published(self, *, withhold_unreliable: bool = True) -> pd.DataFrame:
        """Publication view: values of suppressed (and unreliable) cells removed."""
        from estimation.indicators.export import published_table

        return published_table(self, withhold_unreliable=withhold_unreliable)

    def audit(self) -> pd.DataFrame:
        """Linear-programming audit of the suppression pattern of every indicator.

        Returns one row per suppressed cell (see
        :func:`~estimation.indicators.suppression.audit_suppression`) with its ``indicator``.
        """
        by = list(self.metadata.get("by", []))
        frames = []
        for code, cells in _count_grids(self.table, by):
            if cells["suppressed"].ne("").any():
                a = audit_suppression(
                    cells, by, "estimate", cells["suppressed"].ne("").to_numpy(),
                    primary=cells["suppressed"].eq("primary").to_numpy(),
                    protection=(self.metadata.get("suppression") or {}).get("protection", 0.0),
                )
                a.insert(0, "indicator", code)
                frames.append(a)
        if not frames:
            return pd.DataFrame(columns=["indicator", "position", *by, "value", "lower", "upper",
                                         "width", "determined", "required", "protected"])
        return pd.concat(frames, ignore_index=True)

    def to_csv(self, path, **options):
        """See :func:`estimation.indicators.export.to_csv`."""
        from estimation.indicators.export import to_csv

        return to_csv(self, path, **options)

    def to_parquet(self, path, **options):
        """See :func:`estimation.indicators.export.to_parquet`."""
        from estimation.indicators.export import to_parquet

        return to_parquet(self, path, **options)

    def to_excel(self, path, **options):
        """See :func:`estimation.indicators.export.to_excel`."""
        from estimation.indicators.export import to_excel

        return to_excel(self, path, **options)

    def to_sdmx_csv(self, path=None, **options):
        """See :func:`estimation.indicators.export.to_sdmx_csv`."""
        from estimation.indicators.export import to_sdmx_csv

        return to_sdmx_csv(self, path, **options)


def indicator_table(
    design: Any,
    indicators: str | Indicator | Sequence[str | Indicator],
    by: str | Sequence[str] | None = None,
    *,
    margins: bool = True,
    variables: Mapping[str, str] | None = None,
    registry: Mapping[str, Indicator] | None = None,
    quality: str | QualityRule = "statcan",
    suppression: SuppressionRule | None = DEFAULT_SUPPRESSION,
    experimental: bool | Sequence[str] = False,
    level: float = 0.95,
    df: Any = None,
    na_rm: bool = False,
    small_area: Any = None,
) -> IndicatorTable:
    """Estimate indicators over a disaggregation grid, with quality flags and suppression.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design (person- or household-level, see each indicator's ``unit``).
    indicators : str, Indicator or list of them
        Codes of :data:`~estimation.indicators.REGISTRY` (``"MI1.1"`` … ``"MI1.4"``,
        ``"MI1.1F"``, ``"RECENT_IMM"``, ``"TEMP_MOB"``) or your own :class:`Indicator`.
    by : str or list of str, optional
        Disaggregation variables for every indicator; ``None`` uses each indicator's
        ``default_by`` (variables an indicator does not use are ``"_T"`` in its rows).
    margins : bool
        Also estimate every margin (sub-totals and the grand total), labelled ``"_T"``.
        Secondary suppression protects cells against recovery from these margins.
    variables : mapping, optional
        Default variable name → your column, e.g. ``{"foreign_born": "born_abroad"}``.
    registry : mapping, optional
        Replaces the built-in registry when looking codes up.
    quality : str or QualityRule
        Reliability rule: ``"statcan"`` (default), ``"statcan_cchs"``, ``"abs"``,
        ``"eurostat"`` or a custom :class:`QualityRule`. Ratios are judged on ``n`` (sample rows
        in the universe cell), totals on ``n_contributors`` (sample rows counted).
    suppression : SuppressionRule or None
        Disclosure control (primary and secondary cell suppression); ``None`` disables it.
    experimental : bool or list of str
        Mark all (``True``) or the named indicators as experimental statistics, in addition to
        those the registry marks.
    level : float
        Confidence level of the intervals.
    df : None, number or "design"
        Degrees of freedom of the intervals (as the core estimators).
    na_rm : bool
        Passed to the estimators: rows with a missing analysis value are left out of the domain.
    small_area : estimation.small_area.SmallArea, optional
        Add Fay–Herriot (model-based) estimates of the area cells beside the direct ones,
        marked ``model_based = True`` (see :mod:`estimation.small_area.indicators`).

    Returns
    -------
    IndicatorTable
        ``.table`` (tidy frame) and ``.metadata``.

    Notes
    -----
    ``total`` measures are ``t̂ = Σ_{i∈U} w_i y_i`` (:meth:`SurveyDesign.total` on the universe
    domain); ratio measures are ``m · Σ_{i∈U} w_i y_i / Σ_{i∈U} w_i x_i`` with their linearised
    (or replicate) variance (:meth:`SurveyDesign.ratio`, or :meth:`SurveyDesign.mean` when
    ``x = 1``), multiplied by ``m`` together with their SE and CI; the CV is unchanged.

    Raises
    ------
    SurveyError
        Unknown indicator; a disaggregation or indicator variable missing from the data; a
        universe column that is not 0/1.
    """
    inds = resolve_indicators(indicators, registry=registry, variables=variables)
    rule = get_rule(quality)
    if suppression is not None and not isinstance(suppression, SuppressionRule):
        raise SurveyError(
            "suppression must be a SuppressionRule or None",
            argument="suppression",
            expected="estimation.indicators.SuppressionRule(...) or None",
            found=type(suppression).__name__,
        )
    data = _design_data(design)
    by_all = None if by is None else as_name_list(by, "by")
    exp_codes = _experimental_codes(experimental, inds)
    inds = [i.with_options(experimental=True) if i.code in exp_codes else i for i in inds]

    weights = np.asarray(design.weights, dtype=float)
    plan: list[tuple[Indicator, list[str]]] = []
    for ind in inds:
        ind_by = list(ind.default_by) if by_all is None else by_all
        check_known(data, weights, ind, na_rm=na_rm)
        _check_variables(data, weights, ind, ind_by, by_all is None, margins)
        plan.append((ind, ind_by))
    dims = list(dict.fromkeys(b for _, ib in plan for b in ib))
    frames = []
    for ind, ind_by in plan:
        frames.append(_estimate_indicator(design, data, weights, ind, ind_by, dims, margins,
                                          level=level, df=df, na_rm=na_rm))
    table = pd.concat(frames, ignore_index=True)

    # quality: ratios on n (sample in the universe cell), totals on contributors
    n_q = np.where(table["kind"].eq("total"), table["n_contributors"], table["n"])
    flag, rel = rule.assess(table["cv"].to_numpy(dtype=float), n_q)
    table["flag"] = pd.Series(flag, index=table.index, dtype=object)
    table["reliability"] = pd.Series(rel, index=table.index, dtype=object)

    audit_summary: dict[str, Any] = {}
    table["suppressed"] = pd.Series("", index=table.index, dtype=object)
    if suppression is not None:
        table, audit_summary = _apply_suppression(table, dims, suppression, margins)
    small_area_record = None
    if small_area is not None:
        from estimation.small_area.indicators import add_model_based

        table, small_area_record = add_model_based(
            table, dims, small_area, {i.code: i.describe() for i in inds}, rule, level, TOTAL)
    table = table[table["measure"].ne("__count__")].reset_index(drop=True)

    metadata = {
        "indicators": {i.code: i.describe() for i in inds},
        "experimental": sorted(i.code for i in inds if i.experimental),
        "by": dims,
        "by_per_indicator": {i.code: b for i, b in plan},
        "margins": margins,
        "total_label": TOTAL,
        "quality": rule.describe(),
        "quality_basis": "ratios: n (sample rows in the universe cell); totals: n_contributors",
        "suppression": suppression.describe() if suppression is not None else None,
        "suppression_audit": audit_summary,
        "level": level,
        "design": repr(design),
    }
    if small_area is not None:
        metadata["small_area"] = {**small_area.describe(), "fits": small_area_record}
    return IndicatorTable(table=table, metadata=metadata)


# ---------------------------------------------------------------------------------------------


def _design_data(design: Any) -> pd.DataFrame:
    data = getattr(design, "data", None)
    if not isinstance(data, pd.DataFrame) or not hasattr(design, "subset"):
        raise SurveyError(
            "indicator_table needs a survey design",
            argument="design",
            expected="a SurveyDesign or ReplicateDesign",
            found=type(design).__name__,
            hint="build one with estimation.SurveyDesign(df, ids=..., weights=...)",
        )
    return data


def _experimental_codes(experimental, inds: list[Indicator]) -> set[str]:
    if isinstance(experimental, bool):
        return {i.code for i in inds} if experimental else set()
    names = as_name_list(experimental, "experimental")
    codes = {i.code for i in inds}
    unknown = [n for n in names if n not in codes]
    if unknown:
        raise SurveyError(
            "experimental names an indicator that is not requested",
            argument="experimental",
            expected="codes among " + ", ".join(sorted(codes)),
            found=", ".join(unknown),
        )
    return set(names)


def _check_variables(data: pd.DataFrame, weights: np.ndarray, ind: Indicator, ind_by: list[str],
                     default: bool, margins: bool) -> None:
    missing_by = [b for b in ind_by if b not in data.columns]
    if missing_by:
        raise SurveyError(
            f"disaggregation variable{'s' if len(missing_by) > 1 else ''} not found in the data",
            argument="by",
            expected=f"columns of the design's data (for indicator {ind.code})",
            found=", ".join(map(repr, missing_by)),
            hint=(f"{ind.code} disaggregates by default by {list(ind.default_by)}; pass by=[...]"
                  if default else "check the spelling, or derive the variable first"),
        )
    if ind_by and margins:
        inside = weights > 0  # rows outside every universe carry no by-value (MI 1.4 records)
        for universe in {m.universe for m in ind.measures if m.universe} & set(data.columns):
            inside &= as_float(data[universe]) != 0
        gaps = data.loc[inside, ind_by].isna().sum()
        gaps = gaps[gaps > 0]
        if len(gaps):
            raise SurveyError(
                "a disaggregation variable has missing values",
                argument="by",
                expected="a value on every row with positive weight, so that cells add up to "
                "their margins",
                found=", ".join(f"{k!r}: {v} missing" for k, v in gaps.items()),
                hint="recode missing values to an explicit category (e.g. 'unknown'), or pass "
                "margins=False",
            )
    missing = [v for v in ind.variables if v not in data.columns]
    if missing:
        raise SurveyError(
            f"indicator {ind.code} needs variable{'s' if len(missing) > 1 else ''} not found in "
            "the data",
            argument="variables",
            expected="columns named as in questionnaires.derive(), or a mapping to yours",
            found=", ".join(map(repr, missing)),
            hint="pass variables={" + ", ".join(f"{m!r}: '<your column>'" for m in missing) + "}",
        )
    for universe in {m.universe for m in ind.measures if m.universe}:
        col = data.loc[weights > 0, universe]  # rows with zero weight are in no estimate
        ok = col.notna().all() and col.isin([0, 1, True, False]).all()
        if not ok:
            raise SurveyError(
                "a universe column must be 0/1",
                argument=universe,
                expected="0/1 or boolean values, no missing values",
                found=f"values {sorted(map(str, pd.unique(col)))[:6]}",
                hint=f"universe of indicator {ind.code}",
            )


def _groupings(ind_by: list[str], margins: bool) -> list[list[str]]:
    if not margins:
        return [ind_by]
    return [list(c) for r in range(len(ind_by) + 1) for c in combinations(ind_by, r)]


def _estimate_measure(design, m: Measure, grouping: list[str], *, level, df, na_rm):
    d = design.subset(as_float(design.data[m.universe]) == 1) if m.universe else design
    by = grouping or None
    if m.kind == "total":
        out = d.total(m.numerator, by=by, level=level, df=df, na_rm=na_rm)
    elif m.denominator is None:
        out = d.mean(m.numerator, by=by, level=level, df=df, na_rm=na_rm)
    else:
        out = d.ratio(m.numerator, m.denominator, by=by, level=level, df=df, na_rm=na_rm)
    if m.multiplier != 1.0:
        out = out.copy()
        for c in ("estimate", "se", "ci_low", "ci_high"):
            out[c] = out[c] * m.multiplier
    return out


def _dim_codes(data: pd.DataFrame, dims: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Integer codes (``-1`` = missing) and labels of each disaggregation column, once."""
    out = {}
    for d in dims:
        codes, uniques = pd.factorize(data[d], sort=True)
        out[d] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
    return out


def _contributors(data, weights, m: Measure, grouping: list[str], codes) -> pd.DataFrame:
    """Unweighted rows with a non-zero numerator in the universe, per cell (one bincount)."""
    num = np.nan_to_num(as_float(data[m.numerator]))
    keep = (weights > 0) & (num != 0)
    if m.universe:
        keep &= as_float(data[m.universe]) == 1
    if not grouping:
        return pd.DataFrame({"n_contributors": [int(keep.sum())]})
    cols = [codes[g][0] for g in grouping]
    sizes = tuple(len(codes[g][1]) for g in grouping)
    for c in cols:
        keep &= c >= 0
    key = np.ravel_multi_index(tuple(c[keep] for c in cols), sizes)
    counts = np.bincount(key, minlength=int(np.prod(sizes)))
    cells = np.flatnonzero(counts)
    idx = np.unravel_index(cells, sizes)
    frame = {g: codes[g][1][i] for g, i in zip(grouping, idx)}
    frame["n_contributors"] = counts[cells]
    return pd.DataFrame(frame)


def _estimate_indicator(design, data, weights, ind: Indicator, ind_by, dims, margins, *,
                        level, df, na_rm) -> pd.DataFrame:
    measures = list(ind.measures)
    if not any(m.kind == "total" for m in measures):
        # an additive companion for secondary suppression, dropped from the output
        m0 = measures[0]
        measures.append(Measure("__count__", "total", m0.numerator, universe=m0.universe))
    codes = _dim_codes(data, ind_by)
    rows = []
    for m in measures:
        for grouping in _groupings(ind_by, margins):
            est = _estimate_measure(design, m, grouping, level=level, df=df, na_rm=na_rm)
            est = est.drop(columns=["variable", "level"])
            if "deff" in est.columns:
                est = est.drop(columns=["deff"])
            for d in grouping:
                est[d] = est[d].astype(object)
            cont = _contributors(data, weights, m, grouping, codes)
            if grouping:
                est = est.merge(cont, on=grouping, how="left")
            else:
                est = est.assign(n_contributors=int(cont["n_contributors"].iloc[0]))
            est["n_contributors"] = est["n_contributors"].fillna(0).astype(np.int64)
            for d in dims:
                if d not in grouping:
                    est[d] = TOTAL
            est["indicator"] = ind.code
            est["measure"] = m.name
            est["kind"] = m.kind
            est["unit_measure"] = m.unit_measure
            est["experimental"] = ind.experimental
            rows.append(est[["indicator", "measure", "kind", *dims, *_EST_COLS, "n_contributors",
                             "unit_measure", "experimental"]])
    out = pd.concat(rows, ignore_index=True)
    for d in dims:
        out[d] = out[d].astype(object)
    return out


def _count_grids(table: pd.DataFrame, dims: list[str]):
    """(indicator, cells) pairs: the additive (first total) measure of each indicator."""
    for code in pd.unique(table["indicator"]):
        sub = table[table["indicator"].eq(code)]
        totals = sub[sub["kind"].eq("total")]
        if totals.empty:
            continue
        first = totals["measure"].iloc[0]
        yield code, totals[totals["measure"].eq(first)].reset_index(drop=True)


def _apply_suppression(table: pd.DataFrame, dims: list[str], rule: SuppressionRule, margins: bool):
    table = table.copy()
    basis = "n_contributors" if rule.count == "contributors" else "n"
    row_primary = rule.primary(table[basis].to_numpy(dtype=float), table["cv"].to_numpy(dtype=float))
    table["_primary"] = row_primary
    summary: dict[str, Any] = {}
    key_cols = ["indicator", *dims]
    for code, cells in _count_grids(table, dims):
        sub = table[table["indicator"].eq(code)]
        # a cell is primary if any of its measures fails the rule
        prim_cells = sub.groupby(dims, sort=False, dropna=False)["_primary"].any() if dims else (
            pd.Series([bool(sub["_primary"].any())]))
        if dims:
            prim = cells.set_index(dims).index.map(prim_cells).to_numpy(dtype=bool)
        else:
            prim = prim_cells.to_numpy(dtype=bool)
        if rule.secondary and margins and dims:
            result = secondary_suppression(cells, dims, "estimate", prim,
                                           protection=rule.protection)
            status, a = result.status, result.audit
        else:
            status = np.where(prim, "primary", "").astype(object)
        status_map = pd.DataFrame({**{d: cells[d] for d in dims}, "_status": status})
        status_map["indicator"] = code
        merged = sub[key_cols].merge(status_map, on=key_cols, how="left")
        # a cell missing from the additive grid (possible with na_rm) keeps its own primary flag
        own = np.where(sub["_primary"].to_numpy(dtype=bool), "primary", "")
        table.loc[sub.index, "suppressed"] = np.where(merged["_status"].isna().to_numpy(), own,
                                                      merged["_status"].to_numpy(dtype=object))
        n_prim = int((status == "primary").sum())
        n_sec = int((status == "secondary").sum())
        entry = {"primary_cells": n_prim, "secondary_cells": n_sec}
        if rule.secondary and margins and dims and (n_prim + n_sec):
            entry["all_protected"] = bool(a["protected"].all())
            entry["min_relative_width"] = float(
                np.min(a["width"] / np.maximum(np.abs(a["value"]), 1e-300)))
        summary[code] = entry
    return table.drop(columns="_primary"), summary
