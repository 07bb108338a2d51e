"""The whole release as one system of equations: the attacker who reads every table.

Indicators published from the same data are not separate tables. An intruder who reads the
whole release links them:

* **Same quantity.** Every measure is built from weighted totals ``T_{y,U}(c) = Σ_{i∈U∩c} w_i y_i``
  of a variable ``y`` over a universe ``U`` in a cell ``c``. Two measures (of one or of several
  indicators) with the same ``y`` and ``U`` publish the same quantity.
* **Ratios.** A published rate or share ``r = m · T_{y,U}(c) / T_{x,U}(c)`` is the linear
  equation ``T_y(c) − (r/m) · T_x(c) = 0``: with its count, it gives the denominator (the
  weighted population of the universe when ``x = 1``), and that population is shared by every
  indicator of the universe.
* **Definitions known to everyone.** When a disaggregation level fixes the numerator (every
  usual resident in ``FB_CIT`` or ``FB_FOR`` is foreign-born, none in ``NB_*`` is), the cells of
  that level satisfy ``T_y = T_x`` (structural identity) or ``T_y = 0`` (structural zero).
  :func:`structural_relations` finds these levels from the data: a level on which ``y = x``
  (or ``y = 0``) for every row of the universe is treated as known.
* **Margins.** Each quantity adds up over the lines of the grid (cells along one dimension and
  their ``"_T"`` margin), as in :mod:`~estimation.indicators.suppression`.
* **Sample counts.** The same relations hold for the unweighted counts: the sample rows ``n`` of
  a universe (published with every published measure of that universe), contributors
  ``K_{y,U}`` (rows with ``y ≠ 0``), ``K_y = n`` on a structural-identity level and
  ``K_y = 0`` on a structural zero, ``K_y ≤ n``, and a published zero total has no
  contributor.

:func:`audit_release` bounds, by linear programming over all of it (``scipy.optimize.linprog``,
HiGHS, cells ≥ 0), the total of every suppressed cell of every indicator, and the contributor
count of every primary cell. A primary cell is protected when its value interval is at least
``protection · value`` wide (and not a point) and at least two integer contributor counts
remain feasible. Secondary cells are not confidential (some are zeros by definition): nothing
is required of them here, and each indicator's own audit still keeps them undetermined in its
table. :func:`protect_release` adds
suppressions until every cell is protected: for an unprotected cell it reads the dual values of
the programmes that bound it, i.e. which published values and ratios pin it, and suppresses the
cheapest of those indicator cells (inner cells first, non-zero first, smallest value first). A
suppressed indicator cell loses all its measures and its ``n``.

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, §4.2–4.4 (linked
tables, interval audit); de Wolf & Giessing (2009), "Adjusting the τ-ARGUS modelling to deal with
linked tables", *Privacy in Statistical Databases*, LNCS 5262 (protecting linked tables jointly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from estimation.indicators.suppression import TOTAL, table_lines
from estimation.indicators.variables import as_float
from surveycore import SurveyError

ONE = "1"
"""Name of the constant variable ``x = 1`` (a ratio without denominator: the population)."""
COMPANION = "__count__"
"""Measure name of the additive companion of an indicator without a total (never published)."""


@dataclass(frozen=True)
class MeasureDef:
    """What a measure is built from: ``kind``, numerator ``y``, denominator ``x`` (``"1"``),
    universe ``U`` (``""`` = every row), multiplier ``m``, and ``known``: the variables whose
    missing rows are left out of the domain (``na_rm=True``), comma-separated, else ``""``."""

    kind: str
    numerator: str
    denominator: str
    universe: str
    multiplier: float
    known: str = ""

    @property
    def domain(self) -> str:
        """The rows the measure's totals run over: its universe, less the rows left out."""
        return self.universe + (f"|{self.known}" if self.known else "")

    @classmethod
    def of(cls, m, *, na_rm: bool = False) -> MeasureDef:
        """From a :class:`~estimation.indicators.Measure` or its ``describe()`` dict."""
        get = m.get if isinstance(m, Mapping) else (lambda k: getattr(m, k))
        den = get("denominator")
        known = ",".join([str(get("numerator"))] + ([str(den)] if den else [])) if na_rm else ""
        return cls(str(get("kind")), str(get("numerator")), str(den or ONE),
                   str(get("universe") or ""), float(get("multiplier") or 1.0), known)


def structural_relations(data: pd.DataFrame, weights: np.ndarray, measures: Sequence[MeasureDef],
                         dims: Sequence[str]) -> list[dict]:
    """Levels of the disaggregation variables that fix a measure's numerator.

    For every numerator ``y`` and universe ``U`` of ``measures``, and every level ``v`` of a
    dimension ``d``: ``"zero"`` when ``y = 0`` on every row of ``U`` with ``d = v`` (and positive
    weight), ``"equal"`` (to ``x``, ``"1"`` or a denominator of the same universe) when ``y = x``
    on every such row. An intruder knows these from the definitions (a foreign-born group holds
    only foreign-born persons); taking every such level as known errs on the side of protection.

    Returns
    -------
    list of dict
        ``{"variable", "universe", "dim", "level", "relation", "to"}`` records (JSON-ready).
    """
    pos = np.asarray(weights, dtype=float) > 0
    out: list[dict] = []
    pairs: dict[tuple[str, str], tuple[MeasureDef, set[str]]] = {}
    for m in measures:
        pairs.setdefault((m.numerator, m.domain), (m, {ONE}))[1].add(m.denominator)
    for (y, dom), (m, xs) in pairs.items():
        yv = as_float(data[y])
        inside = pos & np.isfinite(yv)
        if m.universe:
            inside &= as_float(data[m.universe]) == 1
        for v in filter(None, m.known.split(",")):
            inside &= np.isfinite(as_float(data[v]))
        flags = {"zero": yv == 0}
        for x in sorted(xs):
            flags[x] = yv == (1.0 if x == ONE else as_float(data[x]))
        frame = pd.DataFrame({k: v[inside] for k, v in flags.items()})
        for d in dims:
            levels = data.loc[inside, d].astype(str).to_numpy()
            held = frame.groupby(levels, sort=True).all()
            for level, row in held.iterrows():
                if row["zero"]:
                    out.append({"variable": y, "universe": dom, "dim": d, "level": str(level),
                                "relation": "zero", "to": ""})
                    continue
                for x in sorted(xs):
                    if row[x]:
                        out.append({"variable": y, "universe": dom, "dim": d,
                                    "level": str(level), "relation": "equal", "to": x})
    return out


class _Model:
    """The linear system of one release (values or counts) over the union of its cells."""

    def __init__(self, ncell: int, quantities: list[tuple[str, str]]):
        self.ncell = ncell
        self.q = {q: k for k, q in enumerate(quantities)}
        self.nvar = ncell * len(quantities)
        self.lb = np.zeros(self.nvar)
        self.ub = np.full(self.nvar, np.inf)
        self.rows: list[tuple[list[int], list[float]]] = []
        self.le: list[tuple[list[int], list[float]]] = []  # rows <= 0
        self.row_item: list[int] = []  # item (indicator cell) whose publication makes the row
        self.var_items: dict[int, set[int]] = {}  # fixed variable -> items publishing it

    def var(self, q: tuple[str, str], c: int) -> int:
        return self.q[q] * self.ncell + c

    def fix(self, j: int, value: float, item: int | None) -> None:
        self.lb[j] = self.ub[j] = max(value, 0.0)
        if item is not None:
            self.var_items.setdefault(j, set()).add(item)

    def equation(self, cols: list[int], coefs: list[float], item: int = -1) -> None:
        self.rows.append((cols, coefs))
        self.row_item.append(item)

    def at_most_zero(self, cols: list[int], coefs: list[float]) -> None:
        self.le.append((cols, coefs))

    def matrix(self, which: str = "eq") -> sparse.csr_matrix:
        rows = self.rows if which == "eq" else self.le
        r, c, v = [], [], []
        for k, (cols, coefs) in enumerate(rows):
            r += [k] * len(cols)
            c += cols
            v += coefs
        return sparse.csr_matrix((v, (r, c)), shape=(len(rows), self.nvar))


@dataclass(frozen=True)
class ReleaseAudit:
    """Result of :func:`audit_release`.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per suppressed indicator cell: ``indicator``, the dimension columns,
        ``primary``, ``value`` (its total), ``lower``, ``upper``, ``width``, ``required``,
        ``count``, ``count_lower``, ``count_upper`` (bounds of primary cells; NaN for
        secondary cells) and ``protected``.
    pinning : dict
        Row position in ``cells`` → the published indicator cells (item numbers) that bound an
        unprotected cell (used to repair).
    row_item, row_cell : int arrays
        Item (indicator cell) and cell of every table row.
    grid, lines : the union of the cells (dimension columns) and its additivity lines.
    """

    cells: pd.DataFrame
    pinning: dict
    row_item: np.ndarray
    grid: pd.DataFrame
    lines: list
    row_cell: np.ndarray

    @property
    def all_protected(self) -> bool:
        return bool(self.cells["protected"].all()) if len(self.cells) else True


def _defs(table: pd.DataFrame, measures: Mapping[tuple[str, str], MeasureDef]) -> list[MeasureDef]:
    pairs = table[["indicator", "measure"]].astype(str).itertuples(index=False, name=None)
    out = []
    for p in pairs:
        if p not in measures:
            raise SurveyError("a table row has no measure definition", argument="table",
                              expected="indicator and measure of the release's metadata",
                              found=f"{p[0]} / {p[1]}")
        out.append(measures[p])
    return out


def audit_release(table: pd.DataFrame, dims: Sequence[str],
                  measures: Mapping[tuple[str, str], MeasureDef], relations: Sequence[dict],
                  status: np.ndarray, *, protection: float = 0.1, publish_counts: bool = False,
                  ) -> ReleaseAudit:
    """Intervals of every suppressed indicator cell for an intruder who reads the whole release.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy rows (``indicator, measure``, the dimension columns, ``estimate, n,
        n_contributors``) of every indicator published together, with their true values.
    dims : sequence of str
        The disaggregation columns (``"_T"`` on margins).
    measures : mapping
        ``(indicator, measure)`` → :class:`MeasureDef`. Rows of the measure ``"__count__"``
        are never published.
    relations : sequence of dict
        :func:`structural_relations` of the data.
    status : array of str
        Per row: ``""`` published, ``"primary"`` or ``"secondary"``. Rows of one indicator cell
        share one status.
    protection : float
        Required width of a primary cell's value interval, as a fraction of its value.
    publish_counts : bool
        Whether contributor counts of published cells are published.
    """
    dims = list(dims)
    t = table.reset_index(drop=True)
    status = np.asarray(status, dtype=object)
    defs = _defs(t, measures)
    keys = t[dims].astype(str) if dims else pd.DataFrame(index=t.index)
    if dims:
        cell_of, uniq = pd.factorize(pd.MultiIndex.from_frame(keys))
        cells = pd.DataFrame(list(uniq), columns=dims) if len(dims) > 1 else pd.DataFrame(
            {dims[0]: [u[0] if isinstance(u, tuple) else u for u in uniq]})
    else:
        cell_of = np.zeros(len(t), dtype=np.int64)
        cells = pd.DataFrame(index=[0])
    ncell = len(cells)
    item_of, items = pd.factorize(pd.MultiIndex.from_arrays(
        [t["indicator"].astype(str).to_numpy(), cell_of]))
    lines = table_lines(cells, dims) if dims else []

    vq = list(dict.fromkeys([(d.numerator, d.domain) for d in defs]
                            + [(d.denominator, d.domain) for d in defs if d.kind != "total"]))
    vq = list(dict.fromkeys(vq + [(ONE, u) for u in dict.fromkeys(d.domain for d in defs)]))
    values, counts = _Model(ncell, vq), _Model(ncell, vq)
    est = t["estimate"].to_numpy(dtype=float)
    n = t["n"].to_numpy(dtype=float)
    contrib = t["n_contributors"].to_numpy(dtype=float)
    tot = [d.kind == "total" for d in defs]
    positive = est[np.array(tot) & (est > 0)] if len(est) else est
    scale = float(np.median(positive)) if len(positive) else 1.0
    pub = (status == "") & t["measure"].astype(str).ne(COMPANION).to_numpy()
    for i, d in enumerate(defs):
        c, it = int(cell_of[i]), int(item_of[i])
        jy = values.var((d.numerator, d.domain), c)
        jn = counts.var((ONE, d.domain), c)
        if not pub[i]:
            continue
        if np.isfinite(n[i]):
            counts.fix(jn, n[i], it)
        if tot[i]:
            values.fix(jy, est[i] / scale, it)
            if est[i] == 0:
                counts.fix(jy, 0.0, it)
            if publish_counts:
                counts.fix(jy, contrib[i], it)
        elif np.isfinite(est[i]):
            jx = values.var((d.denominator, d.domain), c)
            values.equation([jy, jx], [1.0, -est[i] / d.multiplier], it)
        elif n[i] == 0:
            values.fix(values.var((d.denominator, d.domain), c), 0.0, it)
    for model in (values, counts):
        for q in vq:
            for line in lines:
                cols = [model.var(q, int(c)) for c in line]
                model.equation(cols, [1.0] * (len(cols) - 1) + [-1.0])
    for q in vq:  # contributors never exceed the sample rows of the universe
        if q[0] != ONE:
            for c in range(ncell):
                counts.at_most_zero([counts.var(q, c), counts.var((ONE, q[1]), c)], [1.0, -1.0])
    for rel in relations:
        q = (rel["variable"], rel["universe"])
        if q not in values.q or rel["dim"] not in dims:
            continue
        hit = np.flatnonzero(cells[rel["dim"]].astype(str).to_numpy() == rel["level"])
        for model in (values, counts):
            for c in hit:
                j = model.var(q, int(c))
                if rel["relation"] == "zero":
                    model.equation([j], [1.0])
                elif (rel["to"], rel["universe"]) in model.q:
                    model.equation([j, model.var((rel["to"], rel["universe"]), int(c))],
                                   [1.0, -1.0])

    # the cells to audit: per suppressed indicator cell, its (first) total
    first: dict[int, int] = {}
    for i in np.flatnonzero((status != "") & np.array(tot)):
        first.setdefault(int(item_of[i]), i)
    order = sorted(first)
    rows = []
    pinning: dict[int, set[int]] = {}
    a_v, a_k = (values.matrix(), values.matrix("le")), (counts.matrix(), counts.matrix("le"))
    for k, it in enumerate(order):
        i = first[it]
        d = defs[i]
        prim = status[i] == "primary"
        j = values.var((d.numerator, d.domain), int(cell_of[i]))
        val = est[i]
        req = protection * abs(val) if prim else 0.0
        lo = hi = clo = chi = np.nan
        ok, pins = True, set()
        # a secondary cell is not confidential: nothing is required of it
        if prim:
            lo, hi, pin_v = _interval(a_v, values, j)
            lo, hi = lo * scale, hi * scale
            tol = 1e-7 * max(scale, 1.0)
            ok = hi - lo >= max(req - tol, tol)
            pins = set() if ok else pin_v
            clo, chi, pin_k = _interval(a_k, counts, j)
            many = np.floor(chi + 1e-6) - np.ceil(clo - 1e-6) >= 1
            if not many:
                ok = False
                pins |= pin_k
        if not ok:
            pinning[k] = pins
        rows.append({"indicator": t["indicator"].iloc[i],
                     **{dd: t[dd].iloc[i] for dd in dims}, "primary": prim, "value": val,
                     "lower": lo, "upper": hi, "width": hi - lo, "required": req,
                     "count": contrib[i], "count_lower": clo, "count_upper": chi,
                     "protected": bool(ok), "item": it})
    out = pd.DataFrame(rows, columns=["indicator", *dims, "primary", "value", "lower", "upper",
                                      "width", "required", "count", "count_lower",
                                      "count_upper", "protected", "item"])
    return ReleaseAudit(out, {k: sorted(v) for k, v in pinning.items()},
                        np.asarray(item_of, dtype=np.int64), cells, lines,
                        np.asarray(cell_of, dtype=np.int64))


def _interval(a: tuple, model: _Model, j: int) -> tuple[float, float, set[int]]:
    """min and max of variable ``j``, and the published items whose values or ratios bind."""
    pins: set[int] = set()
    out = []
    a_eq, a_le = a
    for sense in (1.0, -1.0):
        c = np.zeros(model.nvar)
        c[j] = sense
        res = linprog(c, A_eq=a_eq if a_eq.shape[0] else None,
                      b_eq=np.zeros(a_eq.shape[0]) if a_eq.shape[0] else None,
                      A_ub=a_le if a_le.shape[0] else None,
                      b_ub=np.zeros(a_le.shape[0]) if a_le.shape[0] else None,
                      bounds=np.column_stack([model.lb, model.ub]), method="highs")
        if res.status == 3:
            out.append(-sense * np.inf)
            continue
        if res.status != 0:
            raise SurveyError(
                "the audit of the release could not solve its equations",
                argument="table",
                expected="indicator tables whose cells add up to their margins and whose "
                "ratios agree with their totals",
                found=f"linprog status {res.status}: {res.message}",
                hint="audit the release as estimated, before rounding",
            )
        out.append(sense * res.fun)
        marg = np.abs(res.lower.marginals) + np.abs(res.upper.marginals)
        for v in np.flatnonzero(marg > 1e-9):
            pins |= model.var_items.get(int(v), set())
        if a_eq.shape[0]:
            for r in np.flatnonzero(np.abs(res.eqlin.marginals) > 1e-9):
                if model.row_item[r] >= 0:
                    pins.add(model.row_item[r])
    return out[0], out[1], pins


def repair_release(table: pd.DataFrame, dims: Sequence[str], audit: ReleaseAudit,
                   status: np.ndarray) -> np.ndarray:
    """One more suppression for each unprotected cell of ``audit``; returns the new status.

    The suppressed indicator cell is the cheapest published one among those whose values or
    ratios bind the unprotected cell (dual values of its programmes); without any, the
    cheapest published indicator cell in the same cell or in one of its lines. Cost order:
    inner cells before margins, non-zero before zero, then the smallest value.
    """
    status = np.asarray(status, dtype=object).copy()
    t = table.reset_index(drop=True)
    dims = list(dims)
    item = audit.row_item
    n_items = int(item.max()) + 1 if len(item) else 0
    published = np.zeros(n_items, dtype=bool)
    published[item[status == ""]] = True
    est = np.abs(t["estimate"].to_numpy(dtype=float))
    value = np.full(n_items, np.inf)
    np.minimum.at(value, item, np.where(np.isfinite(est), est, np.inf))
    depth = np.zeros(n_items)
    if dims:
        depth[item] = (t[dims].astype(str) == TOTAL).sum(axis=1).to_numpy()
    cost = np.lexsort((value, value == 0, depth))
    rank = np.empty(n_items, dtype=np.int64)
    rank[cost] = np.arange(n_items)
    item_cell = np.zeros(n_items, dtype=np.int64)
    item_cell[item] = audit.row_cell
    added = False
    for k, pins in audit.pinning.items():
        options = [p for p in pins if published[p]]
        if not options:
            cell = int(item_cell[int(audit.cells["item"].iloc[k])])
            near = {cell} | {int(c) for line in audit.lines if cell in line for c in line}
            options = [p for p in np.flatnonzero(published) if item_cell[p] in near]
        if options:
            best = min(options, key=lambda p: rank[p])
            status[item == best] = "secondary"
            published[best] = False
            added = True
    if not added:
        raise SurveyError(
            "no suppression pattern protects every confidential cell of the release",
            argument="cells",
            expected="tables with enough cells to hide small counts",
            found=f"{int((~audit.cells['protected']).sum())} cell(s) still recoverable from "
            "the other tables, ratios and margins of the release",
            hint="collapse categories of the disaggregation variables",
        )
    return status
