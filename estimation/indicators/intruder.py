"""The rule-aware intruder: how far a release narrows its suppressed cells.

An intruder who sees only published values and margins can bound a suppressed cell by linear
programming (:func:`~estimation.indicators.suppression.audit_suppression`). A release says
more, and an intruder who reads it all solves an *integer* programme instead:

* the **threshold rule** (primary = ``1 … threshold`` contributors): every published non-zero
  cell has more than ``threshold`` contributors;
* **status labels**, when published: a primary cell has ``1 … threshold`` contributors, a
  secondary one ``0`` or more than ``threshold``;
* **exact zeros**, when published: a published zero has no contributor;
* **unweighted counts** of published cells, when published: contributors and sample rows of
  the universe add up over the table's lines like the values do, and a cell never has more
  contributors than sample rows;
* **weights**: the value of a cell is the sum of its contributors' contributions
  ``w_i y_i``, so ``low · count ≤ value ≤ high · count``, where ``[low, high]`` is the range
  of contributions the intruder can assume. With design weights that are constant within
  strata, a stratum's published total and count give its weight exactly.

For every suppressed cell ``s`` :func:`intruder_intervals` asks whether values ``x``, counts
``c`` and sample rows ``m`` satisfying all of the above exist with ``x_s`` at least the
protection interval away from the true value (``scipy.optimize.milp``, HiGHS); if not, it
solves ``min x_s`` and ``max x_s``. A cell is protected when its feasible values span at least
``protection · |value|`` (and not a point) and, for a primary cell, its contributor count is
not determined (another count is feasible).

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, §4.2–4.3
(intruder knowledge, interval audit); Fischetti & Salazar-González (1999), "Models and
algorithms for the 2-dimensional cell suppression problem in statistical disclosure
control", *Math. Programming* 84, 283–312 (integer models of the attacker).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from surveycore import SurveyError


@dataclass(frozen=True)
class Release:
    """What a published table states besides its published values.

    Parameters
    ----------
    threshold : int
        The primary rule ``0 < contributors ≤ threshold`` (stated in the release's notes).
    status : bool
        Whether each suppressed cell is labelled primary or secondary.
    counts : bool
        Whether the contributor counts of published cells are shown.
    units : bool
        Whether the sample rows of the universe (``n``) of published cells are shown.
    zeros : bool
        Whether cells without contributors are published as exact zeros.
    cv_rule : bool
        Whether the primary rule also suppresses cells by CV (then a primary label says only
        that a cell has at least one contributor).
    """

    threshold: int = 3
    status: bool = False
    counts: bool = False
    units: bool = True
    zeros: bool = True
    cv_rule: bool = False


@dataclass(frozen=True)
class CellFacts:
    """The true facts of every cell of an additive table (what the intruder tries to learn).

    Attributes
    ----------
    value : ndarray
        The additive estimate (an estimated total ``Σ w_i y_i``), non-negative.
    count : ndarray
        Contributors (sample rows with ``y_i ≠ 0``).
    units : ndarray or None
        Sample rows of the universe in the cell (``n``).
    low, high : ndarray
        Range of one contributor's contribution ``w_i y_i`` the intruder can assume for the
        cell (e.g. the range within the margins that contain it).
    """

    value: np.ndarray
    count: np.ndarray
    units: np.ndarray | None
    low: np.ndarray
    high: np.ndarray


def _line_matrix(lines: list[np.ndarray], ncell: int) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for r, line in enumerate(lines):
        rows += [r] * len(line)
        cols += list(line)
        vals += [1.0] * (len(line) - 1) + [-1.0]
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(lines), ncell))


def intruder_intervals(
    lines: list[np.ndarray],
    facts: CellFacts,
    suppressed: np.ndarray,
    primary: np.ndarray,
    release: Release,
    *,
    protection: float = 0.1,
    time_limit: float = 2.0,
    stop_after: int | None = None,
) -> dict[str, np.ndarray]:
    """Value and count intervals of the suppressed cells for a rule-aware intruder.

    Parameters
    ----------
    lines : list of int arrays
        Additivity constraints (:func:`~estimation.indicators.suppression.table_lines`): the
        last position of each is the margin.
    facts : CellFacts
        True values, counts and contribution ranges of every cell.
    suppressed, primary : bool arrays
        The suppression pattern and its primary cells.
    release : Release
        What the release states.
    protection : float
        Required value-interval width of a primary cell, as a fraction of its value.
    time_limit : float
        Seconds allowed per integer programme; a programme that finds no solution in time
        counts the cell as unprotected (the audit errs on the side of suppressing more).
    stop_after : int, optional
        Stop once this many unprotected cells are found (``examined`` marks the cells
        audited); secondary suppression uses it to repair early.

    Returns
    -------
    dict of arrays, one entry per suppressed cell
        ``position``, ``lower``, ``upper`` (an interval of values the intruder cannot rule
        out: the true value and a feasible value at least the required width away, or the
        whole feasible interval when no such value exists), ``count_lower``, ``count_upper``
        (the same for the contributor count of a primary cell, else NaN), ``required``,
        ``protected`` and ``examined``.
    """
    sup = np.asarray(suppressed, dtype=bool)
    prim = np.asarray(primary, dtype=bool) & sup
    n = len(sup)
    t = int(release.threshold)
    value = np.asarray(facts.value, dtype=float)
    count = np.asarray(facts.count, dtype=float)
    units = None if facts.units is None or not release.units else np.asarray(facts.units, float)
    big = float(max(count.max(initial=0.0), 0.0 if units is None else units.max(initial=0.0)))
    big = max(big, t + 1.0)
    positive = np.asarray(facts.high, dtype=float)
    scale = float(np.median(positive[positive > 0])) if (positive > 0).any() else 1.0
    v = value / scale
    lo = np.asarray(facts.low, dtype=float) / scale
    hi = np.asarray(facts.high, dtype=float) / scale

    # variables: x (n), c (n), m (n, with published counts), z (secondary disjunctions)
    pub = ~sup
    x_lb = np.where(pub, v, 0.0)
    x_ub = np.where(pub, v, np.inf)
    c_lb = np.zeros(n)
    c_ub = np.full(n, big)
    if release.counts:
        c_lb[pub] = c_ub[pub] = count[pub]
    else:
        zero_pub = pub & (value == 0)
        c_ub[zero_pub] = 0.0
        c_lb[pub & ~zero_pub] = t + 1.0
    disjunct = np.zeros(n, dtype=bool)
    if release.status:
        c_lb[prim] = 1.0 if release.zeros else 0.0
        if not release.cv_rule:
            c_ub[prim] = float(t)
        sec = sup & ~prim
        if release.zeros:
            disjunct = sec.copy()  # 0 or more than the threshold
        else:
            c_lb[sec] = t + 1.0
    blocks_lb = [x_lb, c_lb]
    blocks_ub = [x_ub, c_ub]
    integrality = [np.zeros(n), np.ones(n)]
    nvar = 2 * n
    m_off = None
    if units is not None:
        m_off = nvar
        blocks_lb.append(np.where(pub, units, 0.0))
        blocks_ub.append(np.where(pub, units, big))
        integrality.append(np.ones(n))
        nvar += n
    d_idx = np.flatnonzero(disjunct)
    z_off = nvar
    if len(d_idx):
        blocks_lb.append(np.zeros(len(d_idx)))
        blocks_ub.append(np.ones(len(d_idx)))
        integrality.append(np.ones(len(d_idx)))
        nvar += len(d_idx)
    lb = np.concatenate(blocks_lb)
    ub = np.concatenate(blocks_ub)
    integ = np.concatenate(integrality)

    eye = sparse.identity(n, format="csr")
    a_lines = _line_matrix(lines, n)
    rows = []
    rlb, rub = [], []

    def add(block: sparse.spmatrix, low: np.ndarray | float, high: np.ndarray | float) -> None:
        rows.append(block)
        k = block.shape[0]
        rlb.append(np.broadcast_to(np.asarray(low, float), (k,)))
        rub.append(np.broadcast_to(np.asarray(high, float), (k,)))

    def place(parts: dict[int, sparse.spmatrix], k: int) -> sparse.spmatrix:
        cols = []
        offsets = [0, n] + ([m_off] if m_off is not None else []) + ([z_off] if len(d_idx) else [])
        widths = [n, n] + ([n] if m_off is not None else []) + ([len(d_idx)] if len(d_idx) else [])
        for off, w in zip(offsets, widths):
            cols.append(parts.get(off, sparse.csr_matrix((k, w))))
        return sparse.hstack(cols, format="csr")

    if len(lines):
        k = a_lines.shape[0]
        add(place({0: a_lines}, k), 0.0, 0.0)
        add(place({n: a_lines}, k), 0.0, 0.0)
        if m_off is not None:
            add(place({m_off: a_lines}, k), 0.0, 0.0)
    # low * c <= x <= high * c
    add(place({0: eye, n: -sparse.diags(lo)}, n), 0.0, np.inf)
    add(place({0: eye, n: -sparse.diags(hi)}, n), -np.inf, 0.0)
    if m_off is not None:  # c <= m
        add(place({n: eye, m_off: -eye}, n), -np.inf, 0.0)
    if len(d_idx):  # c <= big * z and c >= (t + 1) * z
        sel = sparse.csr_matrix((np.ones(len(d_idx)), (np.arange(len(d_idx)), d_idx)),
                                shape=(len(d_idx), n))
        zi = sparse.identity(len(d_idx), format="csr")
        add(place({n: sel, z_off: -big * zi}, len(d_idx)), -np.inf, 0.0)
        add(place({n: sel, z_off: -(t + 1.0) * zi}, len(d_idx)), 0.0, np.inf)
    cons = LinearConstraint(sparse.vstack(rows, format="csr"), np.concatenate(rlb),
                            np.concatenate(rub))
    options = {"time_limit": time_limit, "mip_rel_gap": 1e-7, "presolve": True}

    def run(obj: np.ndarray, low: np.ndarray, high: np.ndarray):
        res = milp(obj, integrality=integ, bounds=Bounds(low, high), constraints=cons,
                   options=options)
        if res.x is None and res.status not in (1, 2, 3):
            raise SurveyError(
                "the intruder model of the release could not be solved",
                argument="cells",
                expected="an additive table whose counts and values agree",
                found=f"milp status {res.status}: {res.message}",
                hint="audit an estimated total with its contributor counts",
            )
        return res

    def solve(j: int, sense: float) -> float:
        obj = np.zeros(nvar)
        obj[j] = sense
        res = run(obj, lb, ub)
        if res.status == 3:  # unbounded
            return -sense * np.inf
        if res.x is None:  # no solution within the limits: count the cell as narrowed
            return np.nan
        # the best solution found: never wider than the true interval (a time limit errs on
        # the side of suppressing more)
        return float(res.x[j])

    def witness(j: int, truth: float, gap: float) -> float | None:
        """A feasible value of variable ``j`` at least ``gap`` away from the truth, if any
        (feasibility problems: the solver stops at the first solution)."""
        zero = np.zeros(nvar)
        for side in (-1.0, 1.0):
            target = truth + side * gap
            if target < lb[j] - 1e-12 or target > ub[j] + 1e-12:
                continue
            low, high = lb.copy(), ub.copy()
            if side < 0:
                high[j] = target
            else:
                low[j] = target
            res = run(zero, low, high)
            if res.x is not None:
                return float(res.x[j])
        return None

    s_idx = np.flatnonzero(sup)
    lower = np.empty(len(s_idx))
    upper = np.empty(len(s_idx))
    c_low = np.full(len(s_idx), np.nan)
    c_high = np.full(len(s_idx), np.nan)
    required = np.where(prim[s_idx], protection * np.abs(value[s_idx]), 0.0)
    tol = 1e-9 * max(scale, 1.0)
    lower[:] = upper[:] = np.nan
    protected = np.zeros(len(s_idx), dtype=bool)
    examined = np.zeros(len(s_idx), dtype=bool)
    weak = 0
    for k, s in enumerate(s_idx):
        examined[k] = True
        # a feasible value far enough from the truth proves the interval wide enough; else
        # the interval itself decides
        gap = max(required[k], 1e-6 * max(abs(value[s]), scale)) / scale
        w = witness(s, v[s], gap)
        if w is not None:
            lower[k], upper[k] = min(w, v[s]) * scale, max(w, v[s]) * scale
            ok = True
        else:
            lower[k] = solve(s, 1.0) * scale
            upper[k] = solve(s, -1.0) * scale
            ok = bool(upper[k] - lower[k] >= max(required[k] - tol, tol))
        if ok and prim[s]:
            wc = witness(n + s, float(count[s]), 1.0)
            ok = wc is not None
            if ok:
                c_low[k], c_high[k] = min(wc, count[s]), max(wc, count[s])
            else:
                c_low[k] = c_high[k] = count[s]
        protected[k] = ok
        weak += not ok
        if stop_after is not None and weak >= stop_after:
            break
    return {"position": s_idx, "lower": lower, "upper": upper, "count_lower": c_low,
            "count_upper": c_high, "required": required, "protected": protected,
            "examined": examined}
