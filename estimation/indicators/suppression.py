"""Cell suppression for tables with margins: primary rule, secondary suppression, audit.

A table with dimensions ``D_1 … D_k`` and all its margins (the total level is coded ``"_T"``)
satisfies one linear equation per *line*: for a dimension ``D_j`` and fixed levels (or totals)
of the other dimensions, the cells over the levels of ``D_j`` add up to the cell whose ``D_j``
is ``"_T"``. Estimated totals ``Σ w_i y_i`` over domains are exactly additive, so an intruder
who sees the published cells can solve these equations for suppressed cells.

* **Primary suppression** hides cells with few contributors: ``0 < count ≤ threshold`` (the
  frequency rule of ``sdcTable::primarySuppression``, default ``maxN = 3``), optionally also
  cells with a CV above ``max_cv``. Zero counts are not suppressed unless ``allow_zeros``.
* **Secondary suppression** (heuristic): every line left with exactly one suppressed cell gets a
  complementary suppression — the cheapest unsuppressed cell of that line (non-margin cells
  first, non-zero cells first, smallest value first) — repeated to a fixed point. The pattern
  is then audited (below); a suppressed cell whose feasible interval is too narrow gets one more
  complementary suppression in one of its lines, and the loop repeats.
* **Audit**: for every suppressed cell ``s`` two linear programmes (``scipy.optimize.linprog``,
  HiGHS) give ``min x_s`` and ``max x_s`` subject to all line equations, the published cells
  fixed at their values and ``x ≥ 0`` (counts are non-negative). The cell is protected when
  ``max − min ≥ protection · |value|`` (and, for any suppressed cell, ``max − min > 0``). A second,
  independent check uses ranks: ``s`` is exactly determined iff the unit vector ``e_s`` lies in
  the row space of the line equations restricted to the suppressed cells.
* **Rule-aware audit** (:mod:`estimation.indicators.intruder`): a release also states the
  threshold rule, published zeros, unweighted counts and (if published) each cell's status;
  an intruder who uses them solves integer programmes. Secondary suppression runs this audit
  after the linear one and suppresses further until no suppressed cell is narrowed below its
  protection interval (or its contributor count determined).

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4 (frequency
rule, secondary suppression, audit by interval computation); Cox (1980), "Suppression
methodology and statistical disclosure control", JASA 75, 377–385.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from estimation.indicators.intruder import CellFacts, Release, intruder_intervals
from surveycore import SurveyError
from surveycore.checks import check_columns, check_option

TOTAL = "_T"
CountBasis = Literal["contributors", "n"]
COUNT_BASES: tuple[str, ...] = ("contributors", "n")
Intruder = Literal["rule-aware", "margins"]
INTRUDERS: tuple[str, ...] = ("rule-aware", "margins")
Scope = Literal["release", "indicator"]
SCOPES: tuple[str, ...] = ("release", "indicator")


@dataclass(frozen=True)
class SuppressionRule:
    """Disclosure-control settings for indicator tables.

    Parameters
    ----------
    threshold : int
        Primary suppression of cells whose unweighted count is ``0 < count ≤ threshold``
        (default 3, the ``sdcTable`` frequency-rule default).
    count : {"contributors", "n"}
        Which unweighted count the rule reads: ``contributors`` = sample persons (or households)
        in the cell with a non-zero numerator (e.g. foreign-born respondents); ``n`` = sample
        rows of the universe in the cell.
    max_cv : float, optional
        Also suppress cells whose CV exceeds this limit (primary).
    allow_zeros : bool
        Suppress cells with a zero count too (default ``False``: a zero is not disclosive).
    protection : float
        Required width of a primary cell's feasible interval, as a fraction of its value.
    secondary : bool
        Run secondary suppression (default ``True``).
    publish_status : bool
        Whether published tables say which suppressed cells are primary and which secondary
        (default ``False``: every suppressed cell is marked confidential, SDMX ``C``).
    publish_counts : bool
        Whether published tables show the contributor counts (``n_contributors``) of published
        cells (default ``False``: with values and known design weights, counts are a second
        set of equations that pins suppressed cells). The sample rows of the universe (``n``)
        of published cells are always shown.
    intruder : {"rule-aware", "margins"}
        The attacker the audit models: ``"rule-aware"`` (default) uses everything the release
        states (:mod:`~estimation.indicators.intruder`); ``"margins"`` only the published
        values and margins (linear programming).
    scope : {"release", "indicator"}
        ``"release"`` (default): the indicators published together are protected jointly
        against an intruder who links them (same quantities, counts divided by rates,
        structural zeros, margins, sample sizes; :mod:`~estimation.indicators.release`).
        ``"indicator"``: each indicator's table alone, as separate publications; the audit of
        the whole release is still run and reported (``suppression_audit["release"]``).
    """

    threshold: int = 3
    count: CountBasis = "contributors"
    max_cv: float | None = None
    allow_zeros: bool = False
    protection: float = 0.1
    secondary: bool = True
    publish_status: bool = False
    publish_counts: bool = False
    intruder: Intruder = "rule-aware"
    scope: Scope = "release"

    def __post_init__(self) -> None:
        check_option(self.count, COUNT_BASES, "count")
        check_option(self.scope, SCOPES, "scope")
        check_option(self.intruder, INTRUDERS, "intruder")
        if int(self.threshold) != self.threshold or self.threshold < 0:
            raise SurveyError(
                "threshold must be a non-negative integer",
                argument="threshold",
                expected="an integer >= 0",
                found=repr(self.threshold),
            )
        if self.max_cv is not None and not self.max_cv > 0:
            raise SurveyError(
                "max_cv must be positive",
                argument="max_cv",
                expected="a number > 0 or None",
                found=repr(self.max_cv),
            )
        if not 0 <= self.protection:
            raise SurveyError(
                "protection must be >= 0",
                argument="protection",
                expected="a fraction such as 0.1",
                found=repr(self.protection),
            )

    def describe(self) -> dict:
        """Plain-dict description for metadata."""
        return {
            "threshold": self.threshold,
            "rule": f"suppress cells with 0 < {self.count} <= {self.threshold}"
            + ("" if self.allow_zeros else " (zeros published)")
            + (f", or CV > {self.max_cv}" if self.max_cv is not None else ""),
            "count": self.count,
            "max_cv": self.max_cv,
            "allow_zeros": self.allow_zeros,
            "protection": self.protection,
            "secondary": "singleton-line complements to a fixed point, then LP interval audit"
            + (" and rule-aware integer-programming audit" if self.intruder == "rule-aware"
               else "")
            + ("; then a linear audit of the whole release (every indicator, ratio and sample "
               "size together) with more suppression until it passes" if self.scope == "release"
               else "; each indicator's table alone (the whole release is audited, not "
               "protected)")
            if self.secondary
            else "none",
            "publish_status": self.publish_status,
            "publish_counts": self.publish_counts,
            "intruder": self.intruder,
            "scope": self.scope,
        }

    def release(self) -> Release:
        """What a table published under this rule states (for the rule-aware audit)."""
        return Release(threshold=int(self.threshold), status=self.publish_status,
                       counts=self.publish_counts, units=True, zeros=not self.allow_zeros,
                       cv_rule=self.max_cv is not None)

    def primary(self, count: np.ndarray, cv: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask of primary-suppressed cells (vectorised)."""
        count = np.asarray(count, dtype=float)
        low = count <= self.threshold
        if not self.allow_zeros:
            low &= count > 0
        if self.max_cv is not None and cv is not None:
            low |= np.asarray(cv, dtype=float) > self.max_cv
        return low


# ---------------------------------------------------------------------------------------------
# the line equations of a table with margins


def table_lines(cells: pd.DataFrame, dims: Sequence[str], total: str = TOTAL) -> list[np.ndarray]:
    """The additivity constraints of a table with margins.

    Returns a list of integer arrays of row positions; in each, the **last** position is the
    margin (the cell whose varying dimension is ``total``) and the others are its components.
    Lines whose margin is absent from ``cells`` impose nothing and are left out.
    """
    dims = list(dims)
    check_columns(cells, dims, "dims")
    keys = cells[dims].astype(object).reset_index(drop=True)
    lines: list[np.ndarray] = []
    for j, d in enumerate(dims):
        others = dims[:j] + dims[j + 1 :]
        is_tot = (keys[d] == total).to_numpy()
        if others:
            codes = keys.groupby(others, sort=False, dropna=False).ngroup().to_numpy()
        else:
            codes = np.zeros(len(keys), dtype=np.int64)
        order = np.lexsort((is_tot, codes))
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        for grp in np.split(order, bounds):
            tot = grp[is_tot[grp]]
            comp = grp[~is_tot[grp]]
            if len(tot) == 1 and len(comp) >= 1:
                lines.append(np.concatenate([comp, tot]))
            elif len(tot) > 1:
                raise SurveyError(
                    "duplicate cells in the table",
                    argument="cells",
                    expected="one row per combination of the dimensions",
                    found=f"{len(tot)} margin rows for the same line of {d!r}",
                )
    return lines


def _equations(lines: list[np.ndarray], ncell: int) -> np.ndarray:
    a = np.zeros((len(lines), ncell))
    for r, line in enumerate(lines):
        a[r, line[:-1]] = 1.0
        a[r, line[-1]] = -1.0
    return a


# ---------------------------------------------------------------------------------------------
# audit


def audit_suppression(
    cells: pd.DataFrame,
    dims: Sequence[str],
    value: str,
    suppressed: np.ndarray,
    *,
    total: str = TOTAL,
    nonnegative: bool = True,
    primary: np.ndarray | None = None,
    protection: float = 0.0,
) -> pd.DataFrame:
    """Feasible interval of every suppressed cell given the published cells and margins.

    Parameters
    ----------
    cells : pandas.DataFrame
        The table with margins (``total`` marks a margin level), one row per cell.
    dims : sequence of str
        The dimension columns.
    value : str
        The additive value column (an estimated total or a count).
    suppressed : bool array
        Which cells are hidden.
    nonnegative : bool
        Whether the intruder knows that cells are non-negative (counts).
    primary : bool array, optional
        Primary cells; they need ``width ≥ protection · |value|``. Every suppressed cell needs
        ``width > 0``.

    Returns
    -------
    pandas.DataFrame
        One row per suppressed cell: ``position`` (row position in ``cells``), the dimension
        columns, ``value``, ``lower``, ``upper``, ``width``, ``determined`` (rank check: the cell
        is an exact linear function of published values), ``required`` and ``protected``.
    """
    suppressed = np.asarray(suppressed, dtype=bool)
    vals = cells[value].to_numpy(dtype=float)
    a = _equations(table_lines(cells, dims, total), len(cells))
    prim = np.zeros(len(cells), dtype=bool) if primary is None else np.asarray(primary, dtype=bool)
    res = _audit(a, vals, suppressed, prim, protection, nonnegative)
    s_idx = np.flatnonzero(suppressed)
    out = cells.iloc[s_idx][list(dims)].reset_index(drop=True)
    out.insert(0, "position", s_idx)
    out["value"] = vals[s_idx]
    for k in ("lower", "upper", "width", "determined", "required", "protected"):
        out[k] = res[k]
    return out


def _determined(a_s: np.ndarray) -> np.ndarray:
    """Columns of ``a_s`` fixed by ``a_s x = b``: ``e_j`` lies in the row space of ``a_s``, i.e.
    coordinate ``j`` vanishes on the null space (one SVD for all cells)."""
    k = a_s.shape[1]
    if a_s.shape[0] == 0:
        return np.zeros(k, dtype=bool)
    _, sv, vt = np.linalg.svd(a_s, full_matrices=True)
    tol = (sv.max() if sv.size else 0.0) * max(a_s.shape) * np.finfo(float).eps
    null = vt[int((sv > tol).sum()):]
    return np.sqrt((null**2).sum(axis=0)) < 1e-9


def _audit(a, vals, sup, prim, protection, nonnegative, *, lp: bool = True) -> dict:
    """Intervals (linear programmes) and rank check of the suppressed cells ``sup``."""
    s_idx = np.flatnonzero(sup)
    p_idx = np.flatnonzero(~sup)
    scale = float(np.nanmax(np.abs(vals))) if len(vals) else 1.0
    scale = scale or 1.0
    v = vals / scale
    a_s = a[:, s_idx]
    used = np.abs(a_s).sum(axis=1) > 0
    a_s = a_s[used]
    b = -(a[used][:, p_idx] @ v[p_idx])
    determined = _determined(a_s)
    lower = v[s_idx].copy()
    upper = v[s_idx].copy()
    if lp:
        bounds = [(0.0, None) if nonnegative else (None, None)] * len(s_idx)
        for k in np.flatnonzero(~determined):
            e = np.zeros(len(s_idx))
            e[k] = 1.0
            lower[k] = _bound(e, a_s, b, bounds, k, "min")
            upper[k] = _bound(-e, a_s, b, bounds, k, "max")
    else:
        lower[~determined] = -np.inf
        upper[~determined] = np.inf
    lower *= scale
    upper *= scale
    width = upper - lower
    required = np.where(prim[s_idx], protection * np.abs(vals[s_idx]), 0.0)
    protected = (width >= required) & (width > 1e-9 * scale) & ~determined
    return {"lower": lower, "upper": upper, "width": width, "determined": determined,
            "required": required, "protected": protected, "position": s_idx}


def _bound(c, a_s, b, bounds, k, sense) -> float:
    if a_s.size == 0:
        return 0.0 if (sense == "min" and bounds[k][0] == 0.0) else (
            -np.inf if sense == "min" else np.inf)
    res = linprog(c, A_eq=a_s, b_eq=b, bounds=bounds, method="highs")
    if res.status == 3:  # unbounded
        return -np.inf if sense == "min" else np.inf
    if res.status != 0:
        raise SurveyError(
            "the suppression audit could not solve the table equations",
            argument="cells",
            expected="an additive table (cells adding up to their margins)",
            found=f"linprog status {res.status}: {res.message}",
            hint="audit only additive measures (estimated totals or counts), with their margins",
        )
    return float(res.fun) if sense == "min" else float(-res.fun)


# ---------------------------------------------------------------------------------------------
# secondary suppression


def suppress_table(
    cells: pd.DataFrame,
    dims: Sequence[str],
    value: str,
    primary: np.ndarray,
    *,
    total: str = TOTAL,
    protection: float = 0.1,
    nonnegative: bool = True,
    max_rounds: int = 1000,
) -> np.ndarray:
    """Secondary suppression for a table with margins; returns the status of every cell.

    Same as :func:`secondary_suppression` without the audit table.
    """
    return secondary_suppression(cells, dims, value, primary, total=total, protection=protection,
                                 nonnegative=nonnegative, max_rounds=max_rounds).status


@dataclass(frozen=True)
class SuppressionResult:
    """Status of every cell (``""``, ``"primary"``, ``"secondary"``) and the final audit."""

    status: np.ndarray
    audit: pd.DataFrame


def secondary_suppression(
    cells: pd.DataFrame,
    dims: Sequence[str],
    value: str,
    primary: np.ndarray,
    *,
    total: str = TOTAL,
    protection: float = 0.1,
    nonnegative: bool = True,
    max_rounds: int = 1000,
    facts: CellFacts | None = None,
    release: Release | None = None,
    start: np.ndarray | None = None,
) -> SuppressionResult:
    """Secondary suppression for a table with margins, with the audit of the final pattern.

    Parameters
    ----------
    cells : pandas.DataFrame
        Table with margins, one row per cell (margin levels coded ``total``).
    dims : sequence of str
        Dimension columns.
    value : str
        Additive value column (estimated totals); also the cost of suppressing a cell.
    primary : bool array
        Primary-suppressed cells.
    protection : float
        Required feasible-interval width of a primary cell, as a fraction of its value.
    facts, release : CellFacts and Release, optional
        Counts and contribution ranges of every cell and what the release states: with both,
        the pattern must also pass the rule-aware audit
        (:func:`~estimation.indicators.intruder.intruder_intervals`).
    start : bool array, optional
        Cells already suppressed (e.g. by the audit of the whole release,
        :mod:`~estimation.indicators.release`); they stay suppressed, as secondary cells.

    Returns
    -------
    SuppressionResult
        ``status``: ``""`` published, ``"primary"`` or ``"secondary"`` per cell; ``audit``:
        :func:`audit_suppression` of the final pattern (empty without margins).

    Raises
    ------
    SurveyError
        If no suppression pattern protecting every primary cell is found (e.g. a table without
        enough cells).
    """
    primary = np.asarray(primary, dtype=bool)
    vals = cells[value].to_numpy(dtype=float)
    if np.isnan(vals).any():
        raise SurveyError(
            "the value column has missing values",
            argument=value,
            expected="an estimate in every cell",
            found=f"{int(np.isnan(vals).sum())} missing",
        )
    lines = table_lines(cells, dims, total) if len(dims) else []
    n = len(vals)
    a = _equations(lines, n)
    member = np.abs(a) > 0  # lines x cells
    is_margin = (cells[list(dims)].astype(object) == total).any(axis=1).to_numpy() if dims else (
        np.zeros(n, dtype=bool))
    # cost key: zeros last, margins after inner cells, then the smallest value
    cost = np.lexsort((np.abs(vals), is_margin, vals == 0))
    rank_of = np.empty(n, dtype=np.int64)
    rank_of[cost] = np.arange(n)
    sup = primary.copy() if start is None else primary | np.asarray(start, dtype=bool)

    def cheapest(line: np.ndarray) -> int | None:
        cand = line[~sup[line]]
        return None if len(cand) == 0 else int(cand[np.argmin(rank_of[cand])])

    def repair(weak: np.ndarray) -> None:
        added = False
        for pos in weak:
            # the cheapest published cell of the weak cell's lines; when they are all
            # suppressed, of the lines of the cells it shares a line with, and so on
            reach = {int(pos)}
            while True:
                rows = np.flatnonzero(member[:, sorted(reach)].any(axis=1))
                options = [c for c in (cheapest(lines[r]) for r in rows) if c is not None]
                grown = set(np.flatnonzero(member[rows].any(axis=0)).tolist())
                if options or grown <= reach:
                    break
                reach |= grown
            if options:
                sup[min(options, key=lambda c: rank_of[c])] = True
                added = True
        if not added:
            raise SurveyError(
                "no secondary suppression pattern protects every primary cell",
                argument="cells",
                expected="a table with enough cells to hide small counts",
                found=f"{len(weak)} cell(s) still recoverable from the margins",
                hint="collapse categories of the disaggregation variables",
            )

    res = None
    for _ in range(max_rounds):
        # 1. no line with exactly one suppressed cell (to a fixed point)
        while lines:
            single = np.flatnonzero(member[:, sup].sum(axis=1) == 1)
            single = [r for r in single if (member[r] & sup).sum() == 1]
            if not single:
                break
            for r in single:
                if (sup[lines[r]]).sum() == 1:
                    c = cheapest(lines[r])
                    if c is not None:
                        sup[c] = True
        if not sup.any() or not lines:
            break
        # 2. cheap rank check: no suppressed cell exactly determined
        quick = _audit(a, vals, sup, primary, protection, nonnegative, lp=False)
        if quick["determined"].any():
            repair(quick["position"][quick["determined"]][:1])  # one at a time: rounds are cheap
            continue
        # 3. interval audit by linear programming
        res = _audit(a, vals, sup, primary, protection, nonnegative)
        if not res["protected"].all():
            repair(res["position"][~res["protected"]])
            res = None
            continue
        # 4. the rule-aware intruder (integer programming)
        if facts is not None and release is not None:
            deep = intruder_intervals(lines, facts, sup, primary, release, protection=protection,
                                      stop_after=3)
            if not deep["protected"].all():
                repair(deep["position"][deep["examined"] & ~deep["protected"]])
                res = None
                continue
            res = {**res, **{k: deep[k] for k in ("lower", "upper", "count_lower", "count_upper",
                                                   "required")},
                   "protected": res["protected"] & deep["protected"]}
            res["width"] = res["upper"] - res["lower"]
        break
    else:  # pragma: no cover - safety net
        raise SurveyError(
            "secondary suppression did not converge",
            argument="cells",
            expected=f"a pattern within {max_rounds} rounds",
            found="no fixed point",
        )
    if res is None or not np.array_equal(res["position"], np.flatnonzero(sup)):
        audit = audit_suppression(cells, dims, value, sup, total=total, nonnegative=nonnegative,
                                  primary=primary, protection=protection)
    else:
        audit = cells.iloc[res["position"]][list(dims)].reset_index(drop=True)
        audit.insert(0, "position", res["position"])
        audit["value"] = vals[res["position"]]
        for k in ("lower", "upper", "width", "determined", "required", "protected",
                  "count_lower", "count_upper"):
            if k in res:
                audit[k] = res[k]
    status = np.full(len(vals), "", dtype=object)
    status[sup & ~primary] = "secondary"
    status[primary] = "primary"
    return SuppressionResult(status, audit)
