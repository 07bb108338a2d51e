"""Allocation of a sample to strata, with bounds and integer rounding that keeps the total.

Methods (Cochran 1977, ch. 5; Bankier 1988):

* ``equal``: :math:`n_h = n/H`;
* ``proportional``: :math:`n_h \\propto N_h`;
* ``neyman``: :math:`n_h \\propto N_h S_h`;
* ``optimal``: :math:`n_h \\propto N_h S_h/\\sqrt{c_h}`; with a ``budget`` :math:`C` (variable
  cost), :math:`n = C\\sum_h N_h S_h/\\sqrt{c_h} \\big/ \\sum_h N_h S_h\\sqrt{c_h}` (Cochran 5.24);
* ``rare`` (Kalton & Anderson 1986; Kalton 2009): oversampling of a rare group with stratum
  prevalences :math:`P_h`; sampling rates :math:`f_h \\propto \\sqrt{P_h/\\{1 + (c-1)P_h\\}}`,
  with :math:`c` the cost of a main interview relative to a screening interview (:math:`c = 1`:
  :math:`f_h \\propto \\sqrt{P_h}`), so :math:`n_h \\propto N_h f_h`;
* ``power`` (Bankier 1988): :math:`n_h \\propto X_h^{q}\\, CV_h`, with :math:`X_h` a measure of
  importance (default :math:`N_h`), :math:`CV_h` the coefficient of variation (default 1) and
  :math:`0 \\le q \\le 1` (:math:`q=0` equal, :math:`q=1` with :math:`CV_h = S_h/\\bar Y_h` Neyman
  for totals).

Bounds :math:`L_h \\le n_h \\le U_h` (``minimum``, ``maximum``, and always :math:`n_h \\le N_h`)
give :math:`n_h = \\min(U_h, \\max(L_h, \\lambda s_h))` with :math:`\\lambda` set to meet the total;
integers come from the largest-remainder rule, which keeps :math:`\\sum_h n_h = n`.
Strata of share :math:`s_h = 0` stay at :math:`L_h` unless the others cannot take :math:`n`
within their bounds; those are then filled and the rest spread over the share-0 strata in
proportion to :math:`N_h`. With a ``budget`` instead of :math:`n` the bounded optimum keeps
:math:`\\sum_h c_h n_h \\le C` (see ``_within_budget``).

**Minimum per domain of publication.** A survey that publishes estimates for domains made of
whole strata (regions, when the strata are region × prevalence class) needs enough PSUs in
each: the design degrees of freedom of a domain are its PSUs minus its strata (Korn &
Graubard 1999, §5.2), and t intervals with few degrees of freedom cover poorly when the PSU
totals are skewed. With ``domain`` (stratum → domain) and ``domain_minimum`` :math:`M_d`,
every domain gets :math:`\\sum_{h \\in d} n_h \\ge M_d` while the per-stratum bounds still hold.
The allocation minimises the method's loss :math:`\\sum_h s_h^2/n_h` (the stratified variance
for Neyman and optimal allocation, Bankier's loss for the power allocation; its unconstrained
minimum is :math:`n_h \\propto s_h`) under these constraints; the Karush–Kuhn–Tucker conditions
give

.. math:: n_h = \\min\\{U_h, \\max(L_h, \\lambda_d s_h)\\}, \\qquad
          \\lambda_d = \\max(\\lambda, \\mu_d),

with :math:`\\mu_d` the scale at which domain :math:`d` alone holds :math:`M_d` PSUs (0 when its
lower bounds already give :math:`M_d`) and :math:`\\lambda` set to meet the total: a domain
below its minimum is raised to it, keeping its strata in the method's proportions, and the
other domains share the rest as the method says. Integers come from the largest-remainder
rule applied first to the domain totals, then to the strata of each domain, which keeps the
total, the bounds and every domain's minimum.
The design effect of a disproportionate allocation is Kish's
:math:`\\text{deff} = \\sum_h W_h k_h \\sum_h W_h / k_h`, :math:`W_h = N_h/N`,
:math:`k_h = N_h/n_h` (Kish 1965, 11.7), equal to :math:`1 + CV^2` of the base weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import check_option, check_unit_interval

AllocationMethod = Literal["equal", "proportional", "neyman", "optimal", "power", "rare"]
METHODS = ("equal", "proportional", "neyman", "optimal", "power", "rare")


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate`: per-stratum table, total, method and design effect."""

    table: pd.DataFrame
    n: int
    method: str
    deff: float

    @property
    def sizes(self) -> pd.Series:
        """Integer sample size per stratum, indexed by stratum."""
        return self.table["n_h"]


def _series(values: Any, argument: str, index: pd.Index | None = None) -> pd.Series:
    if values is None:
        return None
    if isinstance(values, Mapping):
        values = pd.Series(values, dtype=float)
    elif not isinstance(values, pd.Series):
        arr = np.asarray(values, dtype=float)
        if arr.ndim == 0 and index is not None:
            arr = np.full(len(index), float(arr))
        values = pd.Series(arr, index=index if index is not None and len(index) == arr.size else None)
    values = values.astype(float)
    if index is not None:
        if not values.index.equals(index):
            if set(values.index) != set(index):
                raise SurveyError(f"{argument} does not name the same strata as population",
                                  argument=argument, expected="strata " + repr(list(index)[:8]),
                                  found=repr(list(values.index)[:8]))
            values = values.reindex(index)
    if values.isna().any() or np.isinf(values).any() or (values < 0).any():
        raise SurveyError(f"{argument} must be finite and non-negative", argument=argument,
                          expected="values >= 0", found=repr(values.to_dict()))
    return values


def _scale_for(total, n: float) -> float:
    """Smallest :math:`\\lambda \\ge 0` with ``total(λ) >= n`` for a continuous non-decreasing
    ``total`` (bisection to a relative precision of 1e-15)."""
    if total(0.0) >= n:
        return 0.0
    a, b = 0.0, 1.0
    while total(b) < n and b < 1e300:
        b *= 2.0
    for _ in range(200):
        mid = 0.5 * (a + b)
        if total(mid) < n:
            a = mid
        else:
            b = mid
        if b - a <= 1e-15 * b:
            break
    return b


def _bounded(share: np.ndarray, n: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Continuous allocation :math:`n_h = \\min(U_h, \\max(L_h, \\lambda s_h))` with sum ``n``.

    :math:`\\sum_h \\min(U_h, \\max(L_h, \\lambda s_h))` is continuous and non-decreasing in
    :math:`\\lambda`, from :math:`\\sum L_h` to :math:`\\sum U_h`, so bisection finds
    :math:`\\lambda`; for Neyman and optimal allocation this is the optimum under the bounds
    (Karush–Kuhn–Tucker conditions).
    """
    def total(lam: float) -> float:
        return float(np.clip(lam * share, lo, hi).sum())

    if total(0.0) >= n:
        return lo.astype(float)
    alloc = np.clip(_scale_for(total, n) * share, lo, hi)
    return _spread_gap(alloc, n, share, (alloc > lo) & (alloc < hi))


def _beyond_shares(share: np.ndarray, n: float, lo: np.ndarray, hi: np.ndarray,
                   N: np.ndarray) -> np.ndarray | None:
    """The allocation when the strata with a positive share cannot take ``n`` within their
    bounds: those strata at their maximum, the rest spread over the strata of share 0 in
    proportion to :math:`N_h` within their bounds (a stratum of share 0 adds nothing to the
    method's loss, so any spread is optimal; proportional is the rule). ``None`` otherwise."""
    pos = share > 0
    if n <= hi[pos].sum() + lo[~pos].sum():
        return None
    out = np.where(pos, hi, 0.0).astype(float)
    out[~pos] = _bounded(N[~pos].astype(float), n - hi[pos].sum(), lo[~pos], hi[~pos])
    return out


def _spread_gap(alloc: np.ndarray, n: float, share: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Spread the bisection's last rounding error over the strata strictly inside their bounds."""
    gap = n - alloc.sum()
    if free.any() and abs(gap) > 0 and share[free].sum() > 0:
        alloc[free] += gap * share[free] / share[free].sum()
    return alloc


def _clipped_total(share: np.ndarray, lo: np.ndarray, hi: np.ndarray, lam: float) -> float:
    return float(np.clip(lam * share, lo, hi).sum())


def _domain_bounded(share: np.ndarray, n: float, lo: np.ndarray, hi: np.ndarray,
                    codes: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Continuous allocation with a minimum ``need[d]`` per domain (module docstring):
    :math:`n_h = \\min\\{U_h, \\max(L_h, \\max(\\lambda, \\mu_d) s_h)\\}`."""
    mu = np.zeros(len(need))
    for d in range(len(need)):
        members = codes == d
        mu[d] = _scale_for(partial(_clipped_total, share[members], lo[members], hi[members]),
                           need[d])
    mu_h = mu[codes]

    def total(lam: float) -> float:
        return float(np.clip(np.maximum(lam, mu_h) * share, lo, hi).sum())

    lam = _scale_for(total, n)
    alloc = np.clip(np.maximum(lam, mu_h) * share, lo, hi)
    return _spread_gap(alloc, n, share, (alloc > lo) & (alloc < hi) & (mu_h <= lam))


def _round_domains(x: np.ndarray, n: int, hi: np.ndarray, codes: np.ndarray,
                   n_domains: int) -> np.ndarray:
    """Largest remainder on the domain totals, then on the strata within each domain."""
    totals = np.bincount(codes, weights=x, minlength=n_domains)
    caps = np.bincount(codes, weights=hi, minlength=n_domains)
    whole = _round_keep_total(totals, n, caps)
    out = np.zeros(len(x), dtype=int)
    for d in range(n_domains):
        members = np.flatnonzero(codes == d)
        out[members] = _round_keep_total(x[members].copy(), int(whole[d]), hi[members])
    return out


def _round_keep_total(x: np.ndarray, n: int, hi: np.ndarray) -> np.ndarray:
    base = np.floor(x + 1e-9).astype(int)
    rem = n - int(base.sum())
    frac = x - base
    frac[base >= hi] = -np.inf
    if rem > 0:
        base[np.argsort(-frac, kind="stable")[:rem]] += 1
    return base


def allocate(
    population: Any,
    n: int | None = None,
    method: AllocationMethod = "proportional",
    *,
    sd: Any = None,
    cost: Any = None,
    budget: float | None = None,
    measure: Any = None,
    cv: Any = None,
    power: float = 0.5,
    prevalence: Any = None,
    cost_ratio: float = 1.0,
    minimum: Any = None,
    maximum: Any = None,
    domain: Any = None,
    domain_minimum: Any = None,
) -> Allocation:
    """Allocate ``n`` units to strata.

    Parameters
    ----------
    population : mapping or pandas.Series
        Stratum sizes :math:`N_h` (number of units in the frame), indexed by stratum.
    n : int, optional
        Total sample size (omit with ``method="optimal"`` and a ``budget``).
    method : {"equal", "proportional", "neyman", "optimal", "power"}
    sd, cost, measure, cv : mapping, Series or scalar, optional
        :math:`S_h` (neyman, optimal), :math:`c_h` (optimal), :math:`X_h` and :math:`CV_h` (power).
    budget : float, optional
        Variable-cost budget :math:`C` for ``optimal``, in place of ``n``: the allocation is the
        bounded optimum with :math:`\\sum_h c_h n_h \\le C`.
    power : float
        Exponent :math:`q` of the power allocation.
    prevalence : mapping, Series or scalar, optional
        Prevalence :math:`P_h` of the rare group (migrants) per stratum, for ``rare``.
    cost_ratio : float
        :math:`c`, cost of a main interview over a screening interview, for ``rare``.
    minimum, maximum : mapping, Series or scalar, optional
        Bounds per stratum; the upper bound is never above :math:`N_h`.
    domain : mapping or Series, optional
        Domain of publication of every stratum (stratum → domain, e.g. its region); the
        strata of a domain make it up whole.
    domain_minimum : int or mapping, optional
        Fewest units in every domain (an integer), or per domain (domain → integer); needs
        ``domain``. The allocation is then the constrained optimum of the module docstring and
        the table gains a ``domain`` column.

    Raises
    ------
    SurveyError
        Naming the constraint that cannot hold: minimum above the stratum size, minimums adding
        to more than ``n``, maximums (or stratum sizes) adding to less than ``n``, a domain
        whose strata cannot hold its minimum, domain minimums adding to more than ``n``,
        minimums that cost more than the ``budget``; a unit cost of 0 or less; every stratum
        with share 0 (nothing to allocate by) while ``n`` exceeds the minimums.

    Examples
    --------
    Two regions; the power allocation alone would give region A 4 PSUs of 20:

    >>> a = allocate({"A-low": 10, "A-high": 10, "B": 50}, 20, "power", power=1.0,
    ...              measure={"A-low": 1, "A-high": 1, "B": 8},
    ...              domain={"A-low": "A", "A-high": "A", "B": "B"}, domain_minimum=6)
    >>> a.sizes.tolist()
    [3, 3, 14]
    """
    method = check_option(method, METHODS, "method")
    power = check_unit_interval(power, "power")
    N = _series(population, "population")
    if N is None or len(N) == 0:
        raise SurveyError("population must give the stratum sizes", argument="population",
                          expected="a mapping {stratum: N_h}", found=repr(population))
    idx = N.index
    H = len(N)
    S = _series(sd, "sd", idx)
    C = _series(cost, "cost", idx)
    if C is not None and (C <= 0).any():
        raise SurveyError("unit costs must be positive", argument="cost",
                          expected="cost > 0 in every stratum",
                          found=repr(C[C <= 0].to_dict()),
                          hint="a cost of 0 would make the stratum's units free: give the "
                               "variable cost of one interview")
    if method in ("neyman", "optimal") and S is None:
        raise SurveyError(f"{method} allocation needs stratum standard deviations",
                          argument="sd", expected="sd={stratum: S_h}", found="None")
    if method == "optimal" and C is None:
        raise SurveyError("optimal allocation needs unit costs", argument="cost",
                          expected="cost={stratum: c_h}", found="None",
                          hint="use method='neyman' when costs are equal")
    if method == "equal":
        share = np.ones(H)
    elif method == "proportional":
        share = N.to_numpy()
    elif method == "neyman":
        share = (N * S).to_numpy()
    elif method == "optimal":
        share = (N * S / np.sqrt(C)).to_numpy()
    elif method == "rare":
        P = _series(prevalence, "prevalence", idx)
        if P is None or (P > 1).any() or cost_ratio <= 0:
            raise SurveyError("rare-group allocation needs prevalences in [0, 1] and a positive "
                              "cost ratio", argument="prevalence",
                              expected="prevalence={stratum: P_h}, cost_ratio > 0",
                              found=f"prevalence={prevalence!r}, cost_ratio={cost_ratio!r}")
        share = (N * np.sqrt(P / (1 + (cost_ratio - 1) * P))).to_numpy()
    else:
        X = _series(measure, "measure", idx)
        X = N if X is None else X
        V = _series(cv, "cv", idx)
        share = X.to_numpy() ** power * (1.0 if V is None else V.to_numpy())
    lo = np.zeros(H) if minimum is None else np.ceil(_series(minimum, "minimum", idx).to_numpy())
    hi = N.to_numpy().copy() if maximum is None else np.minimum(
        np.floor(_series(maximum, "maximum", idx).to_numpy()), N.to_numpy())
    bad = lo > hi
    if bad.any():
        names = list(idx[bad])
        raise SurveyError(
            "minimum sample size is above the stratum size (or the maximum) in some strata",
            argument="minimum", expected="minimum <= min(maximum, N_h) in every stratum",
            found=f"strata {names!r}: minimum {lo[bad].tolist()}, limit {hi[bad].tolist()}")
    if budget is not None:
        if n is not None or method != "optimal":
            raise SurveyError("a budget replaces n, for optimal allocation only",
                              argument="budget", expected="n=None, method='optimal'",
                              found=f"n={n!r}, method={method!r}",
                              hint="give either n or budget")
        if domain is not None or domain_minimum is not None:
            raise SurveyError("a budget cannot be combined with domain minimums",
                              argument="budget", expected="n with domain_minimum",
                              found=f"budget={budget!r}", hint="give n instead of a budget")
        _refuse_no_share(share, 1.0, np.zeros(H), method)
        exact, n_h = _within_budget(share, C.to_numpy(), budget, lo, hi)
        return _result(N, int(n_h.sum()), method, exact, n_h, None)
    if n is None:
        raise SurveyError("sample size n is missing", argument="n", expected="an integer",
                          found="None", hint="a budget replaces n only for optimal allocation")
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise SurveyError("sample size must be a whole number >= 0", argument="n",
                          expected="an integer", found=repr(n))
    n = int(n)
    if n > N.sum():
        raise SurveyError("sample size is larger than the population", argument="n",
                          expected=f"n <= {int(N.sum())}", found=f"n = {n}")
    if lo.sum() > n:
        raise SurveyError("the minimum sizes add up to more than n", argument="minimum",
                          expected=f"sum of minimums <= n = {n}", found=f"sum = {lo.sum():g}",
                          hint="lower the minimum or raise n")
    if hi.sum() < n:
        raise SurveyError("the maximum sizes (capped at the stratum sizes) add up to less than n",
                          argument="maximum", expected=f"sum of maximums >= n = {n}",
                          found=f"sum = {hi.sum():g}", hint="raise the maximum or lower n")
    _refuse_no_share(share, n, lo, method)
    groups = _domains(domain, domain_minimum, idx, n, share, lo, hi)
    exact = _beyond_shares(share, float(n), lo, hi, N.to_numpy())
    if groups is None:
        if exact is None:
            exact = _bounded(share.astype(float), float(n), lo, hi)
        n_h = _round_keep_total(exact, n, hi)
    else:
        labels, codes, need = groups
        if exact is None:
            exact = _domain_bounded(share.astype(float), float(n), lo, hi, codes, need)
        n_h = _round_domains(exact, n, hi, codes, len(labels))
    return _result(N, n, method, exact, n_h, groups)


def _result(N: pd.Series, n: int, method: str, exact: np.ndarray, n_h: np.ndarray,
            groups: Any) -> Allocation:
    idx, H = N.index, len(N)
    w = np.divide(N.to_numpy(), n_h, out=np.full(H, np.nan), where=n_h > 0)
    # a stratum with N_h = 0 has no sampling fraction (NaN, not 0)
    frac = np.divide(n_h, N.to_numpy(), out=np.full(H, np.nan), where=N.to_numpy() > 0)
    table = pd.DataFrame({"N_h": N.to_numpy(), "n_exact": exact, "n_h": n_h,
                          "fraction": frac, "weight": w}, index=idx)
    if groups is not None:
        table.insert(0, "domain", np.asarray(groups[0], dtype=object)[groups[1]])
    table.index.name = "stratum"
    return Allocation(table=table, n=n, method=method, deff=allocation_deff(N, n_h))


def _within_budget(share: np.ndarray, cost: np.ndarray, budget: Any, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal allocation for a variable-cost budget under the bounds.

    Minimising :math:`\\sum_h N_h^2 S_h^2/n_h` subject to :math:`\\sum_h c_h n_h = C` and
    :math:`L_h \\le n_h \\le U_h` gives (Karush–Kuhn–Tucker)
    :math:`n_h = \\min\\{U_h, \\max(L_h, \\lambda N_h S_h/\\sqrt{c_h})\\}` with :math:`\\lambda` set so
    the cost is :math:`C` (all strata at :math:`U_h` when that costs less); unbounded, this is
    Cochran's 5.24. Integers: every :math:`n_h` rounded down, then one more unit for the strata
    with the largest remainders while the cost stays within the budget.
    """
    if isinstance(budget, bool) or not isinstance(budget, int | float | np.integer | np.floating) \
            or not np.isfinite(budget) or budget <= 0:
        raise SurveyError("budget must be a positive number", argument="budget",
                          expected="a finite number > 0", found=repr(budget))
    floor_cost = float(cost @ lo)
    if floor_cost > budget:
        raise SurveyError("the minimum sizes cost more than the budget", argument="budget",
                          expected=f"a budget >= {floor_cost:g} (sum of c_h × minimum_h)",
                          found=f"budget = {budget:g}", hint="lower the minimum or raise the budget")

    def spent(lam: float) -> float:
        return float(cost @ np.clip(lam * share, lo, hi))

    top = np.where(share > 0, hi, lo)
    if cost @ top <= budget:
        exact = top.astype(float)
    else:
        exact = np.clip(_scale_for(spent, float(budget)) * share, lo, hi)
    n_h = np.clip(np.floor(exact + 1e-9), lo, hi).astype(int)
    left = float(budget) - float(cost @ n_h)
    for h in np.argsort(-(exact - n_h), kind="stable"):
        if exact[h] - n_h[h] > 1e-9 and n_h[h] < hi[h] and cost[h] <= left + 1e-9:
            n_h[h] += 1
            left -= cost[h]
    return exact, n_h


def _refuse_no_share(share: np.ndarray, n: float, lo: np.ndarray, method: str) -> None:
    """Every stratum has share 0 (all S_h, X_h or P_h zero) and ``n`` is above the minimums:
    there is nothing to allocate by."""
    if not (share > 0).any() and n > lo.sum():
        what = {"neyman": "sd", "optimal": "sd", "rare": "prevalence"}.get(method, "measure")
        raise SurveyError(
            f"no stratum has a positive {method} allocation measure: nothing to allocate by",
            argument=what, expected=f"a positive {what} in at least one stratum",
            found="0 in every stratum",
            hint="check the input (a zero often stands for a missing figure), or use "
                 "method='proportional'")


def _domains(domain: Any, domain_minimum: Any, idx: pd.Index, n: int, share: np.ndarray,
             lo: np.ndarray, hi: np.ndarray):
    """Domain labels, the domain code of each stratum and the minimum per domain (checked)."""
    if domain is None:
        if domain_minimum is not None:
            raise SurveyError("a minimum per domain needs the domain of every stratum",
                              argument="domain", expected="domain={stratum: domain}",
                              found="None")
        return None
    dom = pd.Series(domain) if isinstance(domain, Mapping) else domain
    if not isinstance(dom, pd.Series):
        raise SurveyError("domain must map every stratum to its domain", argument="domain",
                          expected="a mapping or Series {stratum: domain}",
                          found=type(domain).__name__)
    missing = [h for h in idx if h not in dom.index]
    if missing or dom.index.has_duplicates:
        raise SurveyError("domain must name the domain of every stratum once",
                          argument="domain", expected="strata " + repr(list(idx)[:8]),
                          found=(f"no domain for {missing[:8]!r}" if missing
                                 else "a stratum listed twice"))
    dom = dom.reindex(idx)
    if dom.isna().any():
        raise SurveyError("a stratum has a missing domain", argument="domain",
                          expected="a domain for every stratum",
                          found=repr(list(idx[dom.isna().to_numpy()])[:8]))
    codes, labels = pd.factorize(dom, sort=True)
    D = len(labels)
    if domain_minimum is None:
        need = np.zeros(D)
    elif isinstance(domain_minimum, Mapping | pd.Series):
        given = pd.Series(domain_minimum)
        unknown = [d for d in given.index if d not in set(labels)]
        if unknown:
            raise SurveyError("domain_minimum names domains that have no stratum",
                              argument="domain_minimum", expected=repr(list(labels)[:8]),
                              found=repr(unknown[:8]))
        need = np.array([given.get(d, 0) for d in labels], dtype=object)
    else:
        need = np.full(D, domain_minimum, dtype=object)
    bad = [v for v in need if isinstance(v, bool) or not isinstance(v, int | np.integer | float)
           or not np.isfinite(v) or v < 0 or int(v) != v]
    if bad:
        raise SurveyError("domain_minimum must be whole numbers >= 0",
                          argument="domain_minimum", expected="an integer >= 0 per domain",
                          found=repr(bad[0]))
    need = need.astype(float)
    reach = np.bincount(codes, weights=np.where(share > 0, hi, lo), minlength=D)
    short = need > reach
    if short.any():
        d = int(np.flatnonzero(short)[0])
        raise SurveyError(
            f"domain {labels[d]!r} cannot hold its minimum: its strata take at most "
            f"{reach[d]:g} units", argument="domain_minimum",
            expected="a domain minimum <= the units its strata can take (maximum or stratum "
                     "size, and a positive allocation measure)",
            found=f"domain {labels[d]!r}: minimum {need[d]:g}, at most {reach[d]:g}",
            hint="lower the domain minimum, or raise the stratum maximums")
    floor = np.maximum(need, np.bincount(codes, weights=lo, minlength=D))
    if floor.sum() > n:
        raise SurveyError("the domain minimums (with the stratum minimums) add up to more than n",
                          argument="domain_minimum", expected=f"a total <= n = {n}",
                          found=f"{floor.sum():g} over {D} domains",
                          hint="lower the domain minimum or raise n")
    return list(labels), codes, need


def allocation_deff(population: Any, n_h: Any) -> float:
    """Kish's design effect of unequal weighting from the allocation.

    .. math:: \\text{deff} = n \\sum_h n_h w_h^2 \\Big/ \\Big(\\sum_h n_h w_h\\Big)^2,
              \\qquad w_h = N_h/n_h

    over the strata with :math:`n_h > 0` (Kish 1965, 11.7). ``population`` and ``n_h`` are
    mappings or Series matched by stratum label (labels that differ are refused), or arrays
    matched by position.
    """
    N = _series(population, "population")
    if N is None or len(N) == 0:
        raise SurveyError("population must give the stratum sizes", argument="population",
                          expected="a mapping {stratum: N_h}", found=repr(population))
    if N.index.has_duplicates:
        raise SurveyError("a stratum appears twice in population", argument="population",
                          expected="one N_h per stratum",
                          found=repr(list(N.index[N.index.duplicated()])[:5]))
    labelled = isinstance(n_h, Mapping | pd.Series)
    if not labelled and np.ndim(n_h) == 1 and len(n_h) != len(N):
        raise SurveyError("n_h and population have different lengths", argument="n_h",
                          expected=f"{len(N)} sample sizes", found=f"{len(n_h)}")
    m = _series(n_h, "n_h", N.index).to_numpy()
    take = m > 0
    if not take.any():
        return float("nan")
    w = N.to_numpy()[take] / m[take]
    return float(m[take].sum() * np.sum(m[take] * w ** 2) / np.sum(m[take] * w) ** 2)
