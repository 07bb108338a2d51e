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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations, product
from typing import Any

import numpy as np
import pandas as pd

from estimation.indicators.intruder import CellFacts
from estimation.indicators.quality import QualityRule, get_rule
from estimation.indicators.registry import Indicator, Measure, resolve_indicators
from estimation.indicators.release import (
    COMPANION,
    MeasureDef,
    audit_release,
    repair_release,
    structural_relations,
)
from estimation.indicators.suppression import (
    TOTAL,
    SuppressionRule,
    audit_suppression,
    secondary_suppression,
)
from estimation.indicators.variables import as_float, check_known
from surveycore import SurveyError, SurveyWarning
from surveycore.checks import as_name_list, check_distinct_labels, check_option

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

    def audit_release(self) -> pd.DataFrame:
        """Audit of the whole release: every suppressed cell bounded by a linear programme over
        all the indicators of the table together (shared quantities, counts divided by rates,
        structural zeros and identities, margins, sample sizes;
        :func:`~estimation.indicators.release.audit_release`).

        Returns one row per suppressed indicator cell that has a total measure: ``indicator``,
        the ``by`` columns, ``primary, value, lower, upper, width, required, count,
        count_lower, count_upper, protected`` (bounds of primary cells; NaN for secondary
        cells, of which nothing is required).
        """
        by = list(self.metadata.get("by", []))
        rule = self.metadata.get("suppression") or {}
        na_rm = bool(self.metadata.get("na_rm", False))
        measures = {(code, m["name"]): MeasureDef.of(m, na_rm=na_rm)
                    for code, d in self.metadata.get("indicators", {}).items()
                    for m in d["measures"]}
        t = self.table
        if "model_based" in t.columns:
            t = t[~t["model_based"].astype(bool)]
        a = audit_release(t, by, measures, self.metadata.get("structural_relations") or [],
                          t["suppressed"].to_numpy(dtype=object),
                          protection=rule.get("protection", 0.0),
                          publish_counts=rule.get("publish_counts", False))
        return a.cells.drop(columns="item")

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
    interval: str = "bounded",
    small_area: Any = None,
    domains: Mapping[str, Sequence] | None = None,
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
    interval : {"bounded", "wald"}
        ``"bounded"`` (default): logit intervals for proportions and log intervals for totals
        and rates, which stay within the range of the measure (:func:`bounded_interval`);
        ``"wald"``: estimate ± critical value × SE, as the core estimators.
    small_area : estimation.small_area.SmallArea, optional
        Add Fay–Herriot (model-based) estimates of the area cells beside the direct ones,
        marked ``model_based = True`` (see :mod:`estimation.small_area.indicators`).
    domains : mapping, optional
        ``{column: levels}``: levels of disaggregation columns that are domains of the design
        whether or not a sampled unit of an indicator's universe falls in them (the regions of
        the frame, a stratum whose every selected household was out of scope). A cell whose
        levels of these columns hold no unit of the universe (:func:`absent_cells`) gets a
        total of 0 with SE 0 (every term and every linearisation score of
        ``t̂ = Σ_{i∈U} w_i y_i`` is 0 there), ``n = 0`` and ``df = 0``, flagged unreliable; a
        ratio or share there has a zero denominator and is not estimable: NaN, flagged
        unreliable, named in a :class:`surveycore.SurveyWarning` and in
        ``metadata["not_estimable"]``. Without ``domains`` such cells are absent, as in R
        ``svyby`` on a subset.

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
    check_option(interval, ("bounded", "wald"), "interval")
    if suppression is not None and not isinstance(suppression, SuppressionRule):
        raise SurveyError(
            "suppression must be a SuppressionRule or None",
            argument="suppression",
            expected="estimation.indicators.SuppressionRule(...) or None",
            found=type(suppression).__name__,
        )
    data = _design_data(design)
    sets = _by_sets(by)
    by_all = None if sets is None else list(dict.fromkeys(c for g in sets for c in g))
    exp_codes = _experimental_codes(experimental, inds)
    inds = [i.with_options(experimental=True) if i.code in exp_codes else i for i in inds]

    weights = np.asarray(design.weights, dtype=float)
    plan: list[tuple[Indicator, list[str]]] = []
    for ind in inds:
        ind_sets = [list(ind.default_by)] if sets is None else sets
        ind_by = list(dict.fromkeys(c for g in ind_sets for c in g))
        check_known(data, weights, ind, na_rm=na_rm)
        _check_variables(data, weights, ind, ind_by, by_all is None, margins)
        plan.append((ind, ind_by, _groupings(ind_sets, margins)))
    dims = list(dict.fromkeys(b for _, ib, _ in plan for b in ib))
    frames = []
    for ind, ind_by, groupings in plan:
        frames.append(_estimate_indicator(design, data, weights, ind, ind_by, groupings, dims,
                                          level=level, df=df, na_rm=na_rm,
                                          interval=interval, domains=domains))
    table = pd.concat(frames, ignore_index=True)
    not_estimable = _warn_not_estimable(table, dims)

    # quality: ratios on n (sample in the universe cell), totals on contributors
    n_q = np.where(table["kind"].eq("total"), table["n_contributors"], table["n"])
    flag, rel = rule.assess(table["cv"].to_numpy(dtype=float), n_q, table["df"].to_numpy(dtype=float),
                            table["se"].to_numpy(dtype=float))
    table["flag"] = pd.Series(flag, index=table.index, dtype=object)
    table["reliability"] = pd.Series(rel, index=table.index, dtype=object)

    audit_summary: dict[str, Any] = {}
    table["suppressed"] = pd.Series("", index=table.index, dtype=object)
    defs = _measure_defs(inds, na_rm)
    relations: list[dict] = []
    if suppression is not None:
        relations = structural_relations(data, weights, list(dict.fromkeys(defs.values())),
                                         dims) if dims else []
        table, audit_summary = _apply_suppression(table, dims, suppression, margins, defs,
                                                  relations)
    table = table.drop(columns=["_cmin", "_cmax"])  # used by the disclosure audit only
    small_area_record = None
    if small_area is not None:
        from estimation.small_area.indicators import add_model_based

        table, small_area_record = add_model_based(
            table, dims, small_area, {i.code: i.describe() for i in inds}, rule, level, TOTAL)
    table = table[table["measure"].ne(COMPANION)].reset_index(drop=True)

    metadata = {
        "indicators": {i.code: i.describe() for i in inds},
        "experimental": sorted(i.code for i in inds if i.experimental),
        "by": dims,
        "by_per_indicator": {i.code: b for i, b, _ in plan},
        "groupings": {i.code: [list(g) for g in gs] for i, _, gs in plan},
        "margins": margins,
        "total_label": TOTAL,
        "quality": rule.describe(),
        "quality_basis": "ratios: n (sample rows in the universe cell); totals: n_contributors",
        "suppression": suppression.describe() if suppression is not None else None,
        "suppression_audit": audit_summary,
        "structural_relations": relations,
        "na_rm": na_rm,
        "level": level,
        "interval": "logit for proportions, log for totals and rates" if interval == "bounded"
        else "wald",
        "design": repr(design),
        "not_estimable": not_estimable,
    }
    if small_area is not None:
        metadata["small_area"] = {**small_area.describe(), "fits": small_area_record}
    return IndicatorTable(table=table, metadata=metadata)


# ---------------------------------------------------------------------------------------------


def _measure_defs(inds: list[Indicator], na_rm: bool) -> dict[tuple[str, str], MeasureDef]:
    """(indicator, measure) → what the measure is built from, with the additive companion of
    an indicator without a total (with ``na_rm``, each measure's rows are those where its
    variables are known)."""
    out = {}
    for ind in inds:
        for m in ind.measures:
            out[(ind.code, m.name)] = MeasureDef.of(m, na_rm=na_rm)
        m0 = ind.measures[0]
        out[(ind.code, COMPANION)] = MeasureDef.of(Measure(COMPANION, "total", m0.numerator,
                                                           universe=m0.universe), na_rm=na_rm)
    return out


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


def _by_sets(by) -> list[list[str]] | None:
    """``by`` as a list of groupings: a name or a list of names is one grouping; a list of
    lists is several groupings published from the same data."""
    if by is None:
        return None
    if isinstance(by, str) or not any(isinstance(b, list | tuple) for b in by):
        return [as_name_list(by, "by")]
    return [as_name_list(list(b), "by") for b in by]


def _groupings(sets: list[list[str]], margins: bool) -> list[list[str]]:
    """Every grouping estimated: each requested grouping and, with margins, all its subsets
    (each once)."""
    out: dict[tuple[str, ...], None] = {}
    for ind_by in sets:
        if not margins:
            out[tuple(ind_by)] = None
            continue
        for r in range(len(ind_by) + 1):
            for c in combinations(ind_by, r):
                out[c] = None
    return [list(g) for g in sorted(out, key=len)]


def _estimate_measure(design, m: Measure, grouping: list[str], *, level, df, na_rm,
                      interval="bounded"):
    if m.universe:
        inside = as_float(design.data[m.universe]) == 1
        if m.kind == "total" and not (inside & (design.weights > 0)).any():
            return _empty_universe_total(design, m, grouping)
    d = design.subset(inside) if m.universe else design
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
    if interval == "bounded":
        out = bounded_interval(out, m)
    return out


def _empty_universe_total(design, m: Measure, grouping: list[str]) -> pd.DataFrame:
    """A total over a universe that no sampled unit belongs to (e.g. MI 1.4 when no household
    reported an emigrant): a known zero, not an unknown.

    The domain total ``t̂ = Σ_i w_i y_i 1{i ∈ U}`` has every term, hence every linearisation
    score and every replicate estimate, equal to zero, so ``t̂ = 0`` with ``SE = 0`` and the
    interval ``[0, 0]``; the CV is undefined (quality rules then judge the cell on its sample
    size, here 0). ``n = 0`` and ``df = 0`` as R ``degf(subset(design, U))`` gives for an empty
    domain (no PSU, no stratum). A grouping has no cell: no unit carries its values.
    """
    base = design.total(m.universe)  # the 0/1 universe column: the columns of a total
    out = base.assign(variable=m.numerator, estimate=0.0, se=0.0, ci_low=0.0, ci_high=0.0,
                      cv=np.nan, df=0.0, n=0)
    if grouping:
        out = out.iloc[:0]
        for g in reversed(grouping):
            out.insert(0, g, pd.Series([], dtype=object))
    return out.reset_index(drop=True)


def bounded_interval(est: pd.DataFrame, m: Measure) -> pd.DataFrame:
    """Confidence intervals that respect the range of the measure.

    Proportions (``0 ≤ p ≤ 1``, times the multiplier) get the logit interval
    ``expit(logit p̂ ± c · se(p̂) / (p̂ (1 − p̂)))``; totals and rates (``≥ 0``) the log interval
    ``θ̂ · exp(± c · se(θ̂) / θ̂)`` (delta method, Korn & Graubard 1999, §5.2; R
    ``svyciprop(method = "logit")`` for linearised designs). ``c`` is the critical value of the
    Wald interval the core returned (normal or t). Estimates on the boundary keep the Wald
    interval cut to the range.
    """
    from scipy import special

    out = est.copy()
    e = out["estimate"].to_numpy(dtype=float)
    se = out["se"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = (out["ci_high"].to_numpy(dtype=float) - e) / se
        lo = out["ci_low"].to_numpy(dtype=float).copy()
        hi = out["ci_high"].to_numpy(dtype=float).copy()
        if m.kind == "proportion":
            scale = m.multiplier
            p = e / scale
            inside = (p > 0) & (p < 1) & (se > 0)
            sl = se / scale / (p * (1 - p))
            lp = special.logit(np.where(inside, p, 0.5))
            lo = np.where(inside, scale * special.expit(lp - crit * sl), np.clip(lo, 0, scale))
            hi = np.where(inside, scale * special.expit(lp + crit * sl), np.clip(hi, 0, scale))
        else:
            inside = (e > 0) & (se > 0)
            sl = se / np.where(inside, e, 1.0)
            lo = np.where(inside, e * np.exp(-crit * sl), np.maximum(lo, 0.0))
            hi = np.where(inside, e * np.exp(crit * sl), hi)
    out["ci_low"] = lo
    out["ci_high"] = hi
    return out


def _dim_codes(data: pd.DataFrame, dims: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Integer codes (``-1`` = missing) and labels of each disaggregation column, once."""
    out = {}
    for d in dims:
        codes, uniques = pd.factorize(data[d], sort=True)
        check_distinct_labels(uniques, d, "by")
        out[d] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
    return out


def _contributors(data, weights, m: Measure, grouping: list[str], codes) -> pd.DataFrame:
    """Unweighted rows with a non-zero numerator in the universe, per cell (one bincount), and
    the smallest and largest contribution ``|w_i y_i|`` of a contributor (``_cmin, _cmax``:
    what an intruder may know of the weights, used by the rule-aware audit only)."""
    num = np.nan_to_num(as_float(data[m.numerator]))
    keep = (weights > 0) & (num != 0)
    if m.universe:
        keep &= as_float(data[m.universe]) == 1
    contrib = np.abs(weights * num)
    if not grouping:
        has = keep.any()
        return pd.DataFrame({"n_contributors": [int(keep.sum())],
                             "_cmin": [contrib[keep].min() if has else np.nan],
                             "_cmax": [contrib[keep].max() if has else np.nan]})
    cols = [codes[g][0] for g in grouping]
    sizes = tuple(len(codes[g][1]) for g in grouping)
    for c in cols:
        keep &= c >= 0
    key = np.ravel_multi_index(tuple(c[keep] for c in cols), sizes)
    agg = pd.Series(contrib[keep]).groupby(key).agg(["size", "min", "max"])
    idx = np.unravel_index(agg.index.to_numpy(), sizes)
    frame = {g: codes[g][1][i] for g, i in zip(grouping, idx)}
    frame["n_contributors"] = agg["size"].to_numpy()
    frame["_cmin"] = agg["min"].to_numpy()
    frame["_cmax"] = agg["max"].to_numpy()
    return pd.DataFrame(frame)


def _estimate_indicator(design, data, weights, ind: Indicator, ind_by, groupings, dims, *,
                        level, df, na_rm, interval="bounded", domains=None) -> pd.DataFrame:
    measures = list(ind.measures)
    if not any(m.kind == "total" for m in measures):
        # an additive companion for secondary suppression, dropped from the output
        m0 = measures[0]
        measures.append(Measure(COMPANION, "total", m0.numerator, universe=m0.universe))
    codes = _dim_codes(data, ind_by)
    rows = []
    for m in measures:
        for grouping in groupings:
            est = _estimate_measure(design, m, grouping, level=level, df=df, na_rm=na_rm,
                                    interval=interval)
            if domains:
                est = absent_cells(est, m, grouping, domains)
            est = est.drop(columns=["variable", "level"])
            if "deff" in est.columns:
                est = est.drop(columns=["deff"])
            for d in grouping:
                est[d] = est[d].astype(object)
            cont = _contributors(data, weights, m, grouping, codes)
            if grouping:
                est = est.merge(cont, on=grouping, how="left")
            else:
                est = est.assign(**{k: cont[k].iloc[0] for k in cont.columns})
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
                             "unit_measure", "experimental", "_cmin", "_cmax"]])
    out = pd.concat(rows, ignore_index=True)
    for d in dims:
        out[d] = out[d].astype(object)
    return out


def absent_cells(est: pd.DataFrame, m: Measure, grouping: list[str],
                 domains: Mapping[str, Sequence]) -> pd.DataFrame:
    """``est`` with a row for every cell of ``grouping`` whose levels of the ``domains``
    columns hold no unit of the measure's universe.

    Such a cell is a domain of the design with no sampled unit in the universe: its total
    ``t̂ = Σ_{i∈U} w_i y_i 1{i ∈ cell}`` has every term, hence every linearisation score and
    every replicate estimate, equal to 0, so ``t̂ = 0`` with ``SE = 0``, the interval
    ``[0, 0]``, ``n = 0`` and ``df = 0`` (R ``degf`` of an empty domain); a ratio
    ``t̂_y / t̂_x`` there is ``0 / 0``, not estimable: NaN. The other columns of the grouping
    take the levels they have in ``est``.
    """
    cols = [c for c in grouping if c in domains]
    if not cols:
        return est

    def key(v: Any) -> Any:
        return v.item() if isinstance(v, np.generic) else v

    present = {tuple(key(v) for v in row) for row in est[cols].itertuples(index=False)}
    wanted = [c for c in product(*(pd.unique(pd.Series(list(domains[c])).dropna())
                                   for c in cols))
              if tuple(key(v) for v in c) not in present]
    if not wanted:
        return est
    others = [c for c in grouping if c not in cols]
    rest = (est[others].drop_duplicates().to_dict("records") if others else [{}])
    if not rest:
        return est
    zero = m.kind == "total"
    fill = {"estimate": 0.0 if zero else np.nan, "se": 0.0 if zero else np.nan,
            "ci_low": 0.0 if zero else np.nan, "ci_high": 0.0 if zero else np.nan,
            "cv": np.nan, "df": 0.0, "n": 0}
    rows = [{**dict(zip(cols, c)), **r, **fill} for c in wanted for r in rest]
    new = pd.DataFrame(rows)
    for c in est.columns:
        if c not in new.columns:
            new[c] = est[c].iloc[0] if len(est) else None
    return pd.concat([est, new[est.columns]], ignore_index=True)


def _warn_not_estimable(table: pd.DataFrame, dims: list[str]) -> list[dict]:
    """Warn about (and list) the ratio cells that are NaN because their denominator has no
    sampled unit: a share of nobody is unknown, never 0."""
    bad = table["kind"].ne("total").to_numpy() & table["estimate"].isna().to_numpy() \
        & (table["n"].to_numpy(dtype=float) == 0)
    if not bad.any():
        return []
    out = []
    for r in table.loc[bad].itertuples(index=False):
        row = r._asdict()
        cell = {d: row[d] for d in dims if row[d] != TOTAL}
        out.append({"indicator": row["indicator"], "measure": row["measure"], "cell": cell})
    shown = "; ".join(f"{o['indicator']} {o['measure']} in "
                      + ", ".join(f"{k}={v}" for k, v in o["cell"].items()) for o in out[:6])
    warnings.warn(f"not estimable (no sampled unit of the denominator; the total there is 0): "
                  f"{shown}{' …' if len(out) > 6 else ''}: published blank, flagged "
                  "unreliable", SurveyWarning, stacklevel=3)
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


def _cell_facts(cells: pd.DataFrame, dims: list[str]) -> CellFacts:
    """Counts and contribution ranges of a grid's cells for the rule-aware audit.

    The intruder is assumed to know, for each cell, the range of contributions within every
    margin that contains it (e.g. a stratum's design weight, from its published total and
    count); the cell's range is the intersection over its parent margins.
    """
    keys = cells[dims].astype(object)
    cmin = cells["_cmin"].to_numpy(dtype=float)
    cmax = cells["_cmax"].to_numpy(dtype=float)
    index = {tuple(k): i for i, k in enumerate(keys.itertuples(index=False, name=None))}
    low, high = cmin.copy(), cmax.copy()
    own = np.ones(len(cells), dtype=bool)
    for i, k in enumerate(keys.itertuples(index=False, name=None)):
        for j, v in enumerate(k):
            if v == TOTAL:
                continue
            p = index.get(k[:j] + (TOTAL,) + k[j + 1:])
            if p is None or np.isnan(cmin[p]):
                continue
            if own[i]:
                low[i], high[i], own[i] = cmin[p], cmax[p], False
            else:
                low[i], high[i] = max(low[i], cmin[p]), min(high[i], cmax[p])
    fill = np.nanmax(cmax) if np.isfinite(cmax).any() else 1.0
    low = np.where(np.isnan(low), fill, low)
    high = np.where(np.isnan(high), fill, high)
    return CellFacts(value=cells["estimate"].to_numpy(dtype=float),
                     count=cells["n_contributors"].to_numpy(dtype=float),
                     units=cells["n"].to_numpy(dtype=float), low=low, high=np.maximum(high, low))


def _secondary(cells: pd.DataFrame, dims: list[str], prim: np.ndarray, rule: SuppressionRule,
               code: str, start: np.ndarray | None = None):
    """Secondary suppression of one grid; when no pattern protects the cells while statuses
    are published, the statuses are withheld for this indicator (with a warning)."""
    deep = rule.intruder == "rule-aware"
    facts = _cell_facts(cells, dims) if deep else None
    release = rule.release() if deep else None
    try:
        return secondary_suppression(cells, dims, "estimate", prim, protection=rule.protection,
                                     facts=facts, release=release, start=start), False
    except SurveyError:
        if not (deep and release.status):
            raise
    warnings.warn(
        f"indicator {code}: no suppression pattern protects every cell while primary and "
        "secondary statuses are published; the statuses of its suppressed cells are withheld",
        SurveyWarning, stacklevel=4)
    release = replace(release, status=False)
    return secondary_suppression(cells, dims, "estimate", prim, protection=rule.protection,
                                 facts=facts, release=release, start=start), True


def _protect_indicator(table: pd.DataFrame, code: str, cells: pd.DataFrame, dims: list[str],
                       prim: np.ndarray, rule: SuppressionRule, start: np.ndarray | None):
    """Statuses of one indicator's rows (all its measures share a cell's status); returns the
    status column, the grid's audit (or None) and whether statuses were withheld."""
    key_cols = ["indicator", *dims]
    sub = table[table["indicator"].eq(code)]
    audit, withheld = None, False
    if rule.secondary and dims:
        result, withheld = _secondary(cells, dims, prim, rule, code, start)
        status, audit = result.status, result.audit
    else:
        status = np.where(prim, "primary", "").astype(object)
    status_map = pd.DataFrame({**{d: cells[d] for d in dims}, "_status": status})
    status_map["indicator"] = code
    merged = sub[key_cols].merge(status_map, on=key_cols, how="left")
    # a cell missing from the additive grid (possible with na_rm) keeps its own primary flag
    own = np.where(sub["_primary"].to_numpy(dtype=bool), "primary", "")
    table.loc[sub.index, "suppressed"] = np.where(merged["_status"].isna().to_numpy(), own,
                                                  merged["_status"].to_numpy(dtype=object))
    return status, audit, withheld


def _apply_suppression(table: pd.DataFrame, dims: list[str], rule: SuppressionRule, margins: bool,
                       measures: dict | None = None, relations: list | None = None):
    table = table.copy()
    basis = "n_contributors" if rule.count == "contributors" else "n"
    row_primary = rule.primary(table[basis].to_numpy(dtype=float), table["cv"].to_numpy(dtype=float))
    table["_primary"] = row_primary
    summary: dict[str, Any] = {}
    secondary = rule.secondary and margins and bool(dims)
    grids = {}
    for code, cells in _count_grids(table, dims):
        sub = table[table["indicator"].eq(code)]
        # a cell is primary if any of its measures fails the rule
        prim_cells = sub.groupby(dims, sort=False, dropna=False)["_primary"].any() if dims else (
            pd.Series([bool(sub["_primary"].any())]))
        if dims:
            prim = cells.set_index(dims).index.map(prim_cells).to_numpy(dtype=bool)
        else:
            prim = prim_cells.to_numpy(dtype=bool)
        grids[code] = (cells, prim)
    results = {code: _protect_indicator(table, code, cells, dims, prim, rule if secondary else
                                        replace(rule, secondary=False), None)
               for code, (cells, prim) in grids.items()}
    joint = None
    if secondary and measures is not None and table["suppressed"].ne("").any():
        results, joint = _protect_release(table, dims, rule, grids, results, measures,
                                          relations or [])
    for code, (status, a, withheld) in results.items():
        n_prim = int((status == "primary").sum())
        n_sec = int((status == "secondary").sum())
        entry = {"primary_cells": n_prim, "secondary_cells": n_sec,
                 "status_published": rule.publish_status and not withheld}
        if secondary and (n_prim + n_sec):
            ok = bool(a["protected"].all()) if a is not None else True
            if joint is not None:
                mine = joint.cells[joint.cells["indicator"].astype(str).eq(str(code))]
                ok = ok and bool(mine["protected"].all())
            entry["all_protected"] = ok
            prim_rows = a[a["required"] > 0] if a is not None and "required" in a.columns else a
            if prim_rows is not None and len(prim_rows):
                # the narrowest interval proved for a primary cell, relative to its value
                entry["min_relative_width"] = float(np.min(
                    prim_rows["width"] / np.maximum(np.abs(prim_rows["value"]), 1e-300)))
            entry["intruder"] = rule.intruder
        summary[code] = entry
    if joint is not None:
        summary["release"] = {
            "scope": rule.scope,
            "all_protected": joint.all_protected,
            "cells_audited": len(joint.cells),
            "unprotected_cells": int((~joint.cells["protected"]).sum()),
            "intruder": "linear programme over every published table of the release: shared "
            "quantities, ratios (count / rate gives the denominator), structural zeros and "
            "identities, margins, sample sizes",
        }
    return table.drop(columns="_primary"), summary


def _protect_release(table, dims, rule, grids, results, measures, relations, max_rounds=100):
    """Suppress until the whole release is protected (:mod:`estimation.indicators.release`):
    audit the joint system, suppress the cheapest indicator cell that pins an unprotected cell,
    re-protect the grids of the indicators changed, repeat. With ``scope="indicator"`` only
    the audit runs."""
    for _ in range(max_rounds):
        status = table["suppressed"].to_numpy(dtype=object)
        joint = audit_release(table, dims, measures, relations, status,
                              protection=rule.protection, publish_counts=rule.publish_counts)
        if joint.all_protected or rule.scope == "indicator":
            return results, joint
        new = repair_release(table, dims, joint, status)
        changed = pd.unique(table.loc[new != status, "indicator"])
        table["suppressed"] = new
        for code in changed:
            cells, prim = grids[code]
            sub = table[table["indicator"].eq(code)]
            now = sub.groupby(dims, sort=False, dropna=False)["suppressed"].agg(
                lambda v: (v != "").any())
            start = cells.set_index(dims).index.map(now).to_numpy(dtype=bool)
            results[code] = _protect_indicator(table, code, cells, dims, prim, rule, start)
    raise SurveyError(  # pragma: no cover - safety net
        "suppression of the release did not converge",
        argument="suppression",
        expected=f"a protected pattern within {max_rounds} rounds",
        found="cells still recoverable",
        hint="collapse categories of the disaggregation variables",
    )
