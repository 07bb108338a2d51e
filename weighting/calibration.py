"""Calibration to population totals: linear (GREG), raking, logit, truncated and sinh distances.

The calibrated weights are ``w_i = d_i g_i`` with ``g_i = F(x_i'λ)`` chosen so that
``Σ_i w_i x_i = t_x`` (Deville & Särndal 1992; Särndal 2007). ``x_i`` holds one indicator per
level of each categorical margin and the numeric auxiliaries. The equations are solved on
*calibration units*: the cells of the margins' cross-classification when every auxiliary is
categorical (rows of a cell share one g), the clusters for integrated calibration (x averaged
over each cluster's rows, as R survey's ``calibrate(aggregate.stage=)``; Lemaître & Dufour
1987; Estevao & Särndal 2006), otherwise the rows. ``by=`` calibrates separately within
domains: the design matrix is block diagonal in the domains, so one solve does them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import _preview, check_distinct_labels
from weighting._arrays import group_sums, times_gathered
from weighting._design import ColumnDesign, DenseDesign
from weighting._emptied import refuse_emptied
from weighting._solver import Solution, solve
from weighting._targets import Margin, NumericTotal, cell_codes, check_margin_totals, parse_targets
from weighting.records import CalibrationRecord

DENSE_LIMIT = 4_000_000  # row-level designs with more entries are kept as columns


@dataclass(frozen=True, eq=False)
class CalibrationProblem:
    """Everything a calibration needs, fixed once: units, unit design matrix, totals."""

    unit: np.ndarray  # (n,) row -> unit
    n_units: int
    x: Any  # (m, p) reduced design (full column rank where possible), see weighting._design
    totals: np.ndarray  # (p,)
    names: tuple[str, ...]  # (p,) column names of x
    check: Any  # (m, q) every target column (full dummy coding) for reporting
    check_totals: np.ndarray  # (q,)
    check_names: tuple[str, ...]
    check_margin: tuple[str, ...]  # the margin each check column belongs to
    cluster_codes: np.ndarray | None  # (n,) cluster of each row (integrated calibration)
    rows_are_units: bool = False  # unit i is row i

    def row_x(self) -> np.ndarray:
        """The reduced design for every row (n, p), built on demand."""
        dense = self.x.dense()
        return dense if self.rows_are_units else dense[self.unit]

    def unit_weights(self, w: np.ndarray) -> np.ndarray:
        return group_sums(self.unit, self.n_units, w)

    def achieved(self, w: np.ndarray) -> np.ndarray:
        """Totals Σ w x of every target column for weights ``w`` (n,)."""
        return self.check.rmatvec(group_sums(self.unit, self.n_units, w))


def _domain_targets(data: pd.DataFrame, by: str, targets: Mapping[Any, Any]):
    codes, levels = pd.factorize(data[by], sort=True)
    check_distinct_labels(levels, by, "by")
    if (codes < 0).any():
        raise SurveyError(
            "the domain variable has missing values",
            argument="by",
            expected="a domain for every row",
            found=f"{int((codes < 0).sum())} missing",
        )
    levels = list(levels)
    matched = {}
    for key, spec in targets.items():
        hit = [lv for lv in levels if lv == key or str(lv) == str(key)]
        if not hit:
            raise SurveyError(
                f"domain {key!r} of {by} is absent from the sample",
                argument="targets",
                expected=f"domains of {by}: {_preview(levels)}",
                found=repr(key),
            )
        matched[levels.index(hit[0])] = spec
    missing = [lv for j, lv in enumerate(levels) if j not in matched]
    if missing:
        raise SurveyError(
            f"domain{'s' if len(missing) > 1 else ''} of {by} without targets",
            argument="targets",
            expected=f"targets for every domain of {by} in the sample",
            found=_preview(missing),
            hint="give targets for every domain, or calibrate on a subset",
        )
    return codes.astype(np.intp), levels, matched


def _columns(margins: list[Margin], numerics: list[NumericTotal], prefix: str = ""):
    """Full dummy coding (for reports) and a reduced basis (for the solver)."""
    cols, names, margin_of, totals, keep = [], [], [], [], []
    for k, m in enumerate(margins):
        for pos, j in enumerate(m.display):
            lv = m.levels[j]
            cols.append(m.codes == j)
            names.append(f"{prefix}{m.name}={lv}")
            margin_of.append(prefix + m.name)
            totals.append(m.counts[j])
            # later margins: drop one level, their indicators sum to the first margin's
            keep.append(k == 0 or pos > 0)
    for t in numerics:
        cols.append(t.values)
        names.append(prefix + t.name)
        margin_of.append(prefix + t.name)
        totals.append(t.total)
        keep.append(True)
    return cols, names, margin_of, np.array(totals, dtype=float), np.array(keep, dtype=bool)


def build_problem(
    data: pd.DataFrame,
    targets: Mapping[Any, Any],
    *,
    by: str | None = None,
    cluster: str | None = None,
    cluster_targets: Mapping[str, float] | None = None,
) -> CalibrationProblem:
    """Check the targets against the data and build the calibration units and design matrix."""
    n = len(data)
    cluster_codes = None
    if cluster is not None:
        if cluster not in data.columns:
            raise SurveyError(
                "cluster column not found", argument="cluster", expected="a column", found=cluster
            )
        cluster_codes, cluster_labels = pd.factorize(data[cluster], sort=False)
        check_distinct_labels(cluster_labels, cluster, "cluster")
        if (cluster_codes < 0).any():
            raise SurveyError(
                "the cluster identifier has missing values",
                argument="cluster",
                expected="a cluster for every row",
                found=f"{int((cluster_codes < 0).sum())} missing",
            )
        cluster_codes = cluster_codes.astype(np.intp)
    elif cluster_targets:
        raise SurveyError(
            "cluster_targets need cluster=",
            argument="cluster_targets",
            expected="cluster= naming the household identifier",
            found="cluster=None",
        )

    if by is None:
        blocks = [(np.ones(n, dtype=bool), "", targets)]
        domain_codes = None
    else:
        if by not in data.columns:
            raise SurveyError("by column not found", argument="by", expected="a column", found=by)
        domain_codes, levels, matched = _domain_targets(data, by, targets)
        blocks = [(domain_codes == j, f"{by}={levels[j]}: ", spec) for j, spec in matched.items()]

    all_cols, all_names, all_margin, all_totals, all_keep = [], [], [], [], []
    categorical_only = True
    cat_codes = []
    for mask, prefix, spec in blocks:
        sub = data.loc[mask] if by is not None else data
        margins, numerics = parse_targets(sub, spec)
        check_margin_totals(margins)
        if numerics:
            categorical_only = False
        cols, names, margin_of, totals, keep = _columns(margins, numerics, prefix)
        for c in cols:
            if by is None:
                all_cols.append(c)
            else:
                full = np.zeros(n)
                full[mask] = c
                all_cols.append(full)
        all_names += names
        all_margin += margin_of
        all_totals.append(totals)
        all_keep.append(keep)
        if by is None:
            cat_codes = [(m.codes, len(m.levels)) for m in margins]
    if cluster_targets:
        for name, total in cluster_targets.items():
            if name not in data.columns:
                raise SurveyError(
                    "cluster target column not found",
                    argument="cluster_targets",
                    expected="a household-level column",
                    found=name,
                )
            values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise SurveyError(
                    f"{name} has missing or non-numeric values",
                    argument="cluster_targets",
                    expected="a number for every row",
                    found=f"{int((~np.isfinite(values)).sum())} bad values",
                )
            size = np.bincount(cluster_codes)
            spread = group_sums(cluster_codes, size.size, values**2) / size - (
                group_sums(cluster_codes, size.size, values) / size
            ) ** 2
            if (spread > 1e-9 * (1 + np.abs(values).max() ** 2)).any():
                raise SurveyError(
                    f"{name} varies within clusters",
                    argument="cluster_targets",
                    expected=f"a household-level variable, constant within {cluster}",
                    found=f"{int((spread > 0).sum())} clusters with differing values",
                )
            # each household counted once: spread its value over its rows
            all_cols.append(values / size[cluster_codes])
            all_names.append(f"{name} (per {cluster})")
            all_margin.append(f"{name} (per {cluster})")
            all_totals.append(np.array([float(total)]))
            all_keep.append(np.array([True]))
        categorical_only = False

    totals = np.concatenate(all_totals)
    keep = np.concatenate(all_keep)
    # drop columns with zero total that no sampled unit has (as R does)
    for j in np.flatnonzero(totals == 0):
        if not all_cols[j].any():
            keep[j] = False

    if cluster_codes is not None:
        unit_kind = "clusters"
        unit = cluster_codes
        n_units = int(unit.max()) + 1
        size = np.bincount(unit, minlength=n_units)
        design = DenseDesign(
            np.column_stack([np.bincount(unit, weights=c, minlength=n_units) for c in all_cols])
            / size[:, None]
        )
    elif categorical_only and by is None and cat_codes:
        unit_kind = "cells"
        unit, _ = cell_codes([c for c, _ in cat_codes], [k for _, k in cat_codes])
        n_units = int(unit.max()) + 1
        first = np.full(n_units, -1)
        first[unit[::-1]] = np.arange(n)[::-1]
        design = DenseDesign(np.column_stack([c[first] for c in all_cols]))
    else:
        unit_kind = "rows"
        unit = np.arange(n, dtype=np.intp)
        n_units = n
        if n * len(all_cols) <= DENSE_LIMIT:
            design = DenseDesign(np.column_stack(all_cols))
        else:  # keep the columns; products are formed block by block
            design = ColumnDesign(all_cols)
    return CalibrationProblem(
        unit=unit,
        n_units=n_units,
        x=design.select(keep),
        totals=totals[keep],
        names=tuple(np.array(all_names)[keep]),
        check=design,
        check_totals=totals,
        check_names=tuple(all_names),
        check_margin=tuple(all_margin),
        cluster_codes=cluster_codes,
        rows_are_units=unit_kind == "rows",
    )


def check_feasible(problem: CalibrationProblem, d: np.ndarray, lower: float, upper: float) -> None:
    """Refuse a non-zero target whose level has no weight, and bounds under which one target
    alone cannot be reached; give the achievable range.

    With ``L <= g <= U`` the total ``Σ d_i g_i x_ij`` of column j ranges over
    ``[Σ d_i x_ij (L if x_ij > 0 else U), Σ d_i x_ij (U if x_ij > 0 else L)]``.
    """
    du = problem.unit_weights(d)
    pos, neg = problem.check.signed_sums(du)
    t = problem.check_totals
    empty = np.flatnonzero((pos == 0) & (neg == 0) & (t != 0))
    if empty.size:  # no g-weight can reach a non-zero target from zero weighted totals
        names = [problem.check_names[j] for j in empty]
        raise SurveyError(
            f"{names[0]} has a non-zero target but no positive weight"
            + (f" (and {len(names) - 1} more)" if len(names) > 1 else ""),
            argument="targets",
            expected="positive weight on some row of every level (or variable) with a "
            "non-zero target",
            found=", ".join(f"{nm} (margin {problem.check_margin[j]}): target {t[j]:,.6g}"
                            for nm, j in zip(names[:5], empty[:5], strict=True)),
            hint="collapse the level with a neighbouring one in the data and the targets",
        )
    if not (np.isfinite(lower) or np.isfinite(upper)):
        return
    with np.errstate(invalid="ignore"):
        low = lower * pos + upper * neg
        high = upper * pos + lower * neg
    low = np.nan_to_num(low, nan=0.0)
    high = np.nan_to_num(high, nan=0.0)
    slack = 1e-9 * (1 + np.abs(t))
    bad = np.flatnonzero((t < low - slack) | (t > high + slack))
    if bad.size:
        j = bad[0]
        raise SurveyError(
            f"calibration bounds ({lower:g}, {upper:g}) are infeasible for {problem.check_names[j]}",
            argument="bounds",
            expected=f"a target for {problem.check_names[j]} within the achievable range "
            f"[{low[j]:,.6g}, {high[j]:,.6g}]",
            found=f"target {t[j]:,.6g}"
            + (f" ({bad.size} constraints infeasible)" if bad.size > 1 else ""),
            hint="widen the bounds, or collapse the level so its target is reachable",
        )


def explain_failure(problem: CalibrationProblem, sol: Solution, d: np.ndarray, tol: float,
                    max_iter: int, lower: float, upper: float) -> SurveyError:
    """Describe a calibration that did not converge: how far, and on which margin."""
    g_rows = sol.g[problem.unit, 0]
    achieved = problem.achieved(d * g_rows)
    t = problem.check_totals
    rel = np.abs(achieved - t) / np.where(t != 0, np.abs(t), 1.0)
    j = int(np.argmax(rel))
    bounded = np.isfinite(lower) or np.isfinite(upper)
    return SurveyError(
        "calibration did not converge",
        argument="max_iter" if not bounded else "bounds",
        expected=f"relative misfit below {tol:g} within {max_iter} iterations",
        found=f"largest relative misfit {rel[j]:.3g} on {problem.check_names[j]} "
        f"(margin {problem.check_margin[j]}): achieved {achieved[j]:,.8g}, "
        f"target {problem.check_totals[j]:,.8g}",
        hint="widen the bounds (the targets may be jointly unreachable within them)"
        if bounded
        else "raise max_iter, or check the margin for near-empty levels",
    )


def record_for(problem: CalibrationProblem, d: np.ndarray, g: np.ndarray) -> CalibrationRecord:
    """The variance record of a calibration from weights ``d`` with g-weights ``g`` (rows)."""
    if problem.cluster_codes is not None:
        c = problem.cluster_codes
        size = np.bincount(c)
        dbar = (np.bincount(c, weights=d) / size)[c]
    else:
        dbar = d
    if problem.rows_are_units:
        return CalibrationRecord(d=dbar, g=g, row_x=problem.row_x)
    return CalibrationRecord(d=dbar, g=g, row_x=problem.row_x, unit=problem.unit, unit_x=problem.x.dense)


def _check_constant_within(codes: np.ndarray, w: np.ndarray, cluster: str) -> None:
    size = np.bincount(codes)
    hi = np.full(size.size, -np.inf)
    lo = np.full(size.size, np.inf)
    np.maximum.at(hi, codes, w)
    np.minimum.at(lo, codes, w)
    bad = hi - lo > 1e-9 * np.maximum(np.abs(hi), 1.0)
    if bad.any():
        raise SurveyError(
            "weights vary within clusters",
            argument="cluster",
            expected=f"one weight per {cluster} before integrated calibration",
            found=f"{int(bad.sum())} clusters whose rows have different weights",
            hint="run the person-level adjustments after the integrated calibration, "
            "or give every member the household's weight",
        )


def _refuse_empty_levels(p: CalibrationProblem, d: np.ndarray) -> None:
    """A level (non-negative column) with a positive target and no weight cannot be met."""
    _, neg = p.check.signed_sums(np.ones(p.n_units))
    cols = np.flatnonzero((np.asarray(neg).reshape(-1) == 0) & (p.check_totals > 0))
    if cols.size:
        have = np.asarray(p.check.rmatvec(d)).reshape(len(p.check_totals), -1)[cols]
        refuse_emptied(np.broadcast_to(p.check_totals[cols, None], have.shape), have,
                       [p.check_names[j] for j in cols], "calibration level", "rows",
                       "collapse the level with a neighbouring one (in the data and the "
                       "targets), or use a replicate method that keeps every level in every "
                       "replicate")


@dataclass(frozen=True, eq=False)
class CalibrateStep:
    """One calibration: the problem, the distance, bounds and stopping rule."""

    problem: CalibrationProblem
    method: str
    lower: float
    upper: float
    tol: float
    max_iter: int
    cluster: str | None = None

    def fit(self, w: np.ndarray):
        p = self.problem
        if p.cluster_codes is not None:
            _check_constant_within(p.cluster_codes, w, self.cluster or "cluster")
        check_feasible(p, w, self.lower, self.upper)
        d = p.unit_weights(w)[:, None]
        sol = solve(p.x, d, p.totals, self.method, self.lower, self.upper, self.tol,
                    self.max_iter)
        if not sol.converged[0]:
            raise explain_failure(p, sol, w, self.tol, self.max_iter, self.lower, self.upper)
        g = sol.g[p.unit, 0]
        negative = (g < 0) & (w > 0)
        if negative.any():
            raise SurveyError(
                f"{self.method} calibration gives negative weights",
                argument="bounds",
                expected="g-weights >= 0",
                found=f"{int(negative.sum())} rows with g < 0 (smallest g {g.min():.4g})",
                hint="bound the g-weights, e.g. bounds=(0.3, 3), or use method='raking' "
                "or 'logit'",
            )
        new = w * g
        return new, record_for(p, w, g), sol

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        p = self.problem
        d = p.unit_weights(w)
        if d.ndim == 1:
            d = d[:, None]
        _refuse_empty_levels(p, d)
        sol = solve(p.x, d, p.totals, self.method, self.lower, self.upper, self.tol,
                    self.max_iter)
        if not sol.converged.all():
            bad = np.flatnonzero(~sol.converged)
            raise SurveyError(
                "calibration did not converge on some replicate weights",
                argument="bounds",
                expected="every replicate calibrated",
                found=f"{bad.size} of {sol.converged.size} columns failed "
                f"(first: column {bad[0]})",
                hint="widen the bounds; replicates move weights further than the full sample",
            )
        return times_gathered(w, sol.g, p.unit, out)
