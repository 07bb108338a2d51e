"""Allocation with a minimum per domain of publication, against hand-worked cases, an
independent optimiser (scipy SLSQP), exhaustive enumeration of small integer problems and
invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from sampling import allocate
from surveycore import SurveyError


def _loss(share, n_h):
    return float(np.sum(np.asarray(share, float) ** 2 / np.asarray(n_h, float)))


def test_hand_case_domain_raised_to_its_minimum_in_the_method_proportions():
    # power allocation with q = 1: shares 1, 4 (region A, stratum minimum 2) and 45 (region B).
    # Alone: 2 + 49 c = 30, c = 4/7, region A gets 2 + 16/7 = 4.29 PSUs.
    # With 10 in A: mu_A solves max(2, mu) + 4 mu = 10, mu = 2 -> A = (2, 8), B = 20.
    pop = {"A-low": 40, "A-high": 40, "B-all": 200}
    kw = dict(measure={"A-low": 1, "A-high": 4, "B-all": 45}, power=1.0, minimum=2)
    alone = allocate(pop, 30, "power", **kw)
    np.testing.assert_allclose(alone.table["n_exact"], [2, 16 / 7, 45 * 4 / 7], rtol=1e-12)
    dom = {"A-low": "A", "A-high": "A", "B-all": "B"}
    a = allocate(pop, 30, "power", **kw, domain=dom, domain_minimum=10)
    np.testing.assert_allclose(a.table["n_exact"], [2, 8, 20], rtol=1e-12)
    assert a.sizes.tolist() == [2, 8, 20]
    assert a.table["domain"].tolist() == ["A", "A", "B"]
    # a minimum already met changes nothing; the minimum may be given per domain
    met = allocate(pop, 30, "power", **kw, domain=dom, domain_minimum={"B": 10})
    np.testing.assert_allclose(met.table["n_exact"], alone.table["n_exact"], rtol=1e-12)
    assert met.sizes.tolist() == alone.sizes.tolist()


def _slsqp(share, n, upper, domains):
    """min sum s^2/n_h, sum n_h = n, 1 <= n_h <= N_h, domain sums >= their minimum (SLSQP)."""
    start = np.full(len(share), n / len(share))
    scale = _loss(share, start)
    cons = [{"type": "eq", "fun": lambda v: v.sum() - n}]
    cons += [{"type": "ineq", "fun": lambda v, m=m, k=k: v[m].sum() - k} for m, k in domains]
    return minimize(lambda v: _loss(share, v) / scale, start, method="SLSQP", constraints=cons,
                    bounds=[(1, u) for u in upper], options={"ftol": 1e-13, "maxiter": 1000})


def test_neyman_with_domain_minimum_is_the_constrained_variance_optimum():
    # Neyman: V = sum N_h^2 S_h^2 / n_h - const; the continuous allocation must be the minimum
    # of V under sum n = n, bounds and the domain minimums, as an independent optimiser finds it
    rng = np.random.default_rng(7)
    raised = 0
    for _ in range(12):
        H = int(rng.integers(3, 8))
        N = pd.Series(rng.integers(20, 200, H), index=[f"s{h:02d}" for h in range(H)])
        S = pd.Series(rng.uniform(0.2, 3.0, H), index=N.index)
        dom = pd.Series(rng.integers(0, 3, H), index=N.index).map("D{}".format)
        labels = sorted(dom.unique())
        n = int(rng.integers(6 * len(labels), 60))
        need = {d: int(rng.integers(2, n // len(labels) + 1)) for d in labels}
        a = allocate(N, n, "neyman", sd=S, minimum=1, domain=dom, domain_minimum=need)
        x = a.table["n_exact"].to_numpy()
        s = (N * S).to_numpy()
        ref = _slsqp(s, n, N.to_numpy(), [((dom == d).to_numpy(), need[d]) for d in labels])
        assert ref.success, ref.message
        assert _loss(s, x) <= _loss(s, ref.x) * (1 + 1e-9)
        np.testing.assert_allclose(x, ref.x, rtol=1e-4, atol=1e-4)
        plain = allocate(N, n, "neyman", sd=S, minimum=1).table["n_exact"]
        raised += int((plain.groupby(dom).sum() < pd.Series(need) - 1e-6).any())
    assert raised >= 4  # the minimum changed the allocation in several of the problems


def _feasible(lo, hi, n, codes, need):
    """Every integer allocation with bounds, total n and the domain minimums (enumeration)."""
    for v in itertools.product(*[range(a, b + 1) for a, b in zip(lo, hi)]):
        v = np.array(v)
        if v.sum() == n and all(v[codes == d].sum() >= need[d] for d in range(len(need))):
            yield v


def test_enumeration_of_small_problems_refusal_feasibility_and_optimality():
    rng = np.random.default_rng(11)
    refused = accepted = 0
    for _ in range(60):
        H = int(rng.integers(2, 5))
        N = rng.integers(1, 7, H)
        lo = np.minimum(rng.integers(0, 3, H), N)
        share = rng.uniform(0.1, 5.0, H)
        codes = rng.integers(0, 2, H)
        codes[0] = 0
        D = codes.max() + 1
        need = rng.integers(0, 9, D)
        n = int(rng.integers(1, N.sum() + 1))
        feasible = list(_feasible(lo, N, n, codes, need))
        idx = [f"h{h}" for h in range(H)]
        args = (pd.Series(N, index=idx), n, "power")
        kw = dict(measure=pd.Series(share, index=idx), power=1.0,
                  minimum=pd.Series(lo, index=idx),
                  domain=pd.Series(codes, index=idx).map("d{}".format),
                  domain_minimum={f"d{d}": int(need[d]) for d in range(D)})
        if not feasible:
            with pytest.raises(SurveyError) as info:
                allocate(*args, **kw)
            assert info.value.argument in ("domain_minimum", "minimum")
            refused += 1
            continue
        a = allocate(*args, **kw)
        got = a.sizes.to_numpy()
        assert any((got == v).all() for v in feasible)  # one of the enumerated allocations
        # the continuous optimum bounds every integer allocation from below
        x = a.table["n_exact"].to_numpy()
        if (x > 0).all():
            best = min(_loss(share, v) for v in feasible if (v > 0).all())
            assert _loss(share, x) <= best * (1 + 1e-12)
        accepted += 1
    assert refused >= 5 and accepted >= 20


def test_invariants_total_bounds_minimums_and_stratum_order():
    rng = np.random.default_rng(3)
    for _ in range(40):
        H = int(rng.integers(4, 30))
        idx = [f"{h:03d}" for h in range(H)]  # string ids with leading zeros
        N = pd.Series(rng.integers(3, 80, H), index=idx)
        X = pd.Series(rng.lognormal(3, 1, H), index=idx)
        region = pd.Series(rng.integers(1, 6, H), index=idx).map("R{}".format)
        D = region.nunique()
        m = int(rng.integers(2, 9))
        lo = np.minimum(2, N)
        floor = np.maximum(m, pd.Series(lo, index=idx).groupby(region).sum()).sum()
        n = int(rng.integers(floor, max(floor, min(N.sum(), 6 * m * D)) + 1))
        a = allocate(N, n, "power", measure=X, power=0.5, minimum=lo,
                     domain=region.to_dict(), domain_minimum=m)
        n_h = a.sizes
        assert n_h.sum() == n
        assert (n_h >= lo).all() and (n_h <= N).all()
        assert (n_h.groupby(region).sum() >= np.minimum(m, N.groupby(region).sum())).all()
        # the integer sizes are the exact ones rounded down or up
        x = a.table["n_exact"]
        assert ((n_h >= np.floor(x - 1e-9)) & (n_h <= np.ceil(x + 1e-9))).all()
        # strata given in another order get the same sizes
        perm = rng.permutation(H)
        b = allocate(N.iloc[perm], n, "power", measure=X.iloc[perm], power=0.5,
                     minimum=pd.Series(lo, index=idx).iloc[perm],
                     domain=region.iloc[perm], domain_minimum=m)
        pd.testing.assert_series_equal(b.sizes.reindex(idx), n_h)
        # domains not raised to their minimum share one scale: n_h / s_h is common to their
        # strata strictly inside the bounds, and at most that in the raised domains
        s = np.sqrt(X)
        inside = (x > lo + 1e-9) & (x < N - 1e-9)
        dom_tot = x.groupby(region).sum()
        free = inside & region.map(dom_tot > m + 1e-6)
        if free.sum() >= 2:
            ratio = (x / s)[free]
            np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-9)
            raised = inside & ~free
            assert ((x / s)[raised] >= ratio.iloc[0] * (1 - 1e-9)).all()


def test_a_domain_mapping_alone_keeps_the_allocation():
    N = pd.Series([120, 80, 300, 40], index=["a", "b", "c", "d"])
    X = pd.Series([5.0, 9.0, 30.0, 2.0], index=N.index)
    plain = allocate(N, 37, "power", measure=X, minimum=2)
    dom = allocate(N, 37, "power", measure=X, minimum=2, domain={"a": 1, "b": 1, "c": 2, "d": 2})
    np.testing.assert_allclose(dom.table["n_exact"], plain.table["n_exact"], rtol=1e-12)
    assert dom.sizes.sum() == 37


@pytest.mark.parametrize("kw, argument, text", [
    (dict(domain_minimum=5), "domain", "needs the domain"),
    (dict(domain={"a": "A", "b": "A"}, domain_minimum=5), "domain", "every stratum"),
    (dict(domain={"a": "A", "b": "A", "c": None}, domain_minimum=5), "domain", "missing"),
    (dict(domain=["A", "A", "B"], domain_minimum=5), "domain", "map every stratum"),
    (dict(domain={"a": "A", "b": "A", "c": "B"}, domain_minimum=2.5), "domain_minimum",
     "whole numbers"),
    (dict(domain={"a": "A", "b": "A", "c": "B"}, domain_minimum=-1), "domain_minimum",
     "whole numbers"),
    (dict(domain={"a": "A", "b": "A", "c": "B"}, domain_minimum={"Z": 3}), "domain_minimum",
     "no stratum"),
    # region B has one stratum of 6 units: it cannot hold 7
    (dict(domain={"a": "A", "b": "A", "c": "B"}, domain_minimum=7), "domain_minimum",
     "cannot hold its minimum"),
    # 15 + 6 > 20
    (dict(domain={"a": "A", "b": "A", "c": "B"}, domain_minimum={"A": 15, "B": 6}),
     "domain_minimum", "add up to more than n"),
])
def test_impossible_or_malformed_domain_minimums_are_refused(kw, argument, text):
    N = pd.Series([30, 30, 6], index=["a", "b", "c"])
    with pytest.raises(SurveyError, match=text) as info:
        allocate(N, 20, "proportional", **kw)
    assert info.value.argument == argument
