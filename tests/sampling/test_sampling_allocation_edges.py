"""Allocation when shares are zero, costs are not positive, or a budget meets bounds: closed
forms and enumeration of small integer problems."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sampling import allocate
from surveycore import SurveyError

N4 = pd.Series({"001-Nord": 400, "002-Sud": 1200, "003-Est": 250, "004-Ouest": 3150})


@pytest.mark.parametrize("kw, argument", [
    ({"method": "neyman", "sd": 0}, "sd"),
    ({"method": "power", "measure": 0}, "measure"),
    ({"method": "rare", "prevalence": 0}, "prevalence"),
    ({"method": "optimal", "sd": 0, "cost": 2}, "sd"),
])
def test_no_positive_share_is_refused(kw, argument):
    with pytest.raises(SurveyError, match="nothing to allocate by") as info:
        allocate(N4, 300, **kw)
    assert info.value.argument == argument
    # the minimums alone make n: nothing is left to allocate
    assert allocate(N4, 40, minimum=10, **kw).sizes.tolist() == [10, 10, 10, 10]


def test_zero_share_strata_take_what_the_others_cannot():
    a = allocate({"A": 100, "B": 100}, 10, "neyman", sd={"A": 0, "B": 1},
                 maximum={"A": 100, "B": 5})
    assert a.sizes.to_dict() == {"A": 5, "B": 5}
    # C (S=1) is full at 10; the 40 left go to A and B (S=0) in proportion to N: 10 and 30
    b = allocate({"A": 100, "B": 300, "C": 100}, 50, "neyman", sd={"A": 0, "B": 0, "C": 1},
                 maximum={"A": 100, "B": 300, "C": 10})
    assert b.sizes.tolist() == [10, 30, 10]
    np.testing.assert_allclose(b.table["n_exact"], [10, 30, 10])


def _neyman_var(N, S, n_h):
    return float(np.sum(N ** 2 * S ** 2 / n_h - N * S ** 2))


def test_zero_share_allocation_is_an_optimum_by_enumeration():
    N = np.array([30.0, 40.0, 20.0, 25.0])
    S = np.array([0.0, 2.0, 0.0, 5.0])
    hi = np.array([30, 6, 20, 9])
    for n in (12, 15, 25, 40):
        a = allocate(dict(zip("abcd", N)), n, "neyman", sd=dict(zip("abcd", S)), minimum=1,
                     maximum=dict(zip("abcd", hi)))
        n_h = a.sizes.to_numpy()
        assert n_h.sum() == n and (n_h >= 1).all() and (n_h <= hi).all()
        best = min(_neyman_var(N, S, np.array(c)) for c in
                   itertools.product(*(range(1, h + 1) for h in hi)) if sum(c) == n)
        assert _neyman_var(N, S, n_h) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("cost", [0, -1, {"a": 0, "b": 1, "c": 1, "d": 1}])
def test_costs_must_be_positive(cost):
    N = {"a": 400, "b": 1200, "c": 250, "d": 3150}
    with pytest.raises(SurveyError, match="cost") as info:
        allocate(N, 30, "optimal", sd=0.3, cost=cost)
    assert info.value.argument == "cost"


N_B = {"a": 400, "b": 1200, "c": 250, "d": 3150}
S_B = {"a": 0.3, "b": 0.1, "c": 0.5, "d": 0.2}
C_B = {"a": 4, "b": 1, "c": 9, "d": 1}


def test_budget_with_minimums_is_the_bounded_optimum():
    # shares N S / sqrt(c) = 60, 120, 41.67, 630. Unbounded, cost 1365 λ = 600: a = 26.4 and
    # c = 18.3 fall below 30, so a = c = 30 (cost 390) and 210 = λ (120 + 630) for b and d.
    share = np.array([60.0, 120.0, 250 * 0.5 / 3, 630.0])
    a = allocate(N_B, None, "optimal", sd=S_B, cost=C_B, budget=600, minimum=30)
    lam = 210 / 750
    np.testing.assert_allclose(a.table["n_exact"], [30, lam * share[1], 30, lam * share[3]],
                               rtol=1e-12)
    assert a.sizes.tolist() == [30, 34, 30, 176]  # floors cost 599; b's remainder .6 gets 1
    assert (a.sizes * pd.Series(C_B)).sum() == 600 and a.n == 270
    m40 = allocate(N_B, None, "optimal", sd=S_B, cost=C_B, budget=600, minimum=40)
    assert m40.sizes.tolist() == [40, 40, 40, 40]
    with pytest.raises(SurveyError, match="cost more than the budget") as info:
        allocate(N_B, None, "optimal", sd=S_B, cost=C_B, budget=500, minimum=40)
    assert info.value.argument == "budget"


def test_budget_integers_by_enumeration():
    N = np.array([50.0, 80.0, 60.0])
    S = np.array([3.0, 1.0, 2.0])
    c = np.array([3.0, 1.0, 2.0])
    for budget in (40, 57, 91):
        a = allocate(dict(zip("xyz", N)), None, "optimal", sd=dict(zip("xyz", S)),
                     cost=dict(zip("xyz", c)), budget=budget, minimum=2, maximum=12)
        n_h = a.sizes.to_numpy()
        assert c @ n_h <= budget and (n_h >= 2).all() and (n_h <= 12).all()
        # within one unit per stratum of the best integer allocation the budget buys
        best = min((c for c in itertools.product(range(2, 13), repeat=3)
                    if np.dot(c, [3, 1, 2]) <= budget),
                   key=lambda m: _neyman_var(N, S, np.array(m)))
        assert np.abs(n_h - np.array(best)).max() <= 1


def test_budget_and_n_together_are_refused():
    with pytest.raises(SurveyError, match="budget replaces n") as info:
        allocate(N_B, 100, "optimal", sd=S_B, cost=C_B, budget=600)
    assert info.value.argument == "budget"


# ----------------------------------------------------------------------------- design effect

def test_icc_at_or_below_its_floor_is_refused():
    from sampling import design_effect, sample_size

    # the floor is -1/(take - 1): -0.25 for clusters of 5
    assert design_effect(icc=-0.2, take=5) == pytest.approx(1 - 4 * 0.2)
    for icc in (-0.25, -0.5):
        with pytest.raises(SurveyError, match="too negative") as info:
            design_effect(icc=icc, take=5)
        assert info.value.argument == "icc"
        with pytest.raises(SurveyError, match="too negative"):
            sample_size(p=0.2, moe=0.03, icc=icc, take=5)
    # closed form: n0 = 1.96² · 0.16 / 0.03², deff = 1 + 4 · (-0.2) = 0.2
    s = sample_size(p=0.2, moe=0.03, icc=-0.2, take=5, z=1.96)
    assert s.respondents == pytest.approx(1.96 ** 2 * 0.16 / 0.03 ** 2 * 0.2, rel=1e-12)
    assert design_effect(icc=-1.0, take=1) == 1.0  # one unit per cluster: no clustering


# ----------------------------------------------------------------------------- allocation deff

def test_allocation_deff_matches_strata_by_label():
    from sampling import allocation_deff

    N = pd.Series([18, 12, 30, 4, 26.0], index=["01", "02", "03", "04", "05"])
    n = pd.Series([10, 3, 4, 3, 4.0], index=N.index)
    W = N / N.sum()
    closed = n.sum() * (W ** 2 / n).sum()  # Kish: n Σ W_h² / n_h
    assert allocation_deff(N, n) == pytest.approx(closed, rel=1e-12)
    assert allocation_deff(N, n[::-1]) == pytest.approx(closed, rel=1e-12)
    assert allocation_deff(N.to_dict(), n[::-1].to_dict()) == pytest.approx(closed, rel=1e-12)
    assert allocation_deff(N.to_numpy(), n.to_numpy()) == pytest.approx(closed, rel=1e-12)
    with pytest.raises(SurveyError, match="same strata") as info:
        allocation_deff(N, n.rename({"05": "5"}))
    assert info.value.argument == "n_h"
    with pytest.raises(SurveyError, match="different lengths"):
        allocation_deff(N, [1, 2, 3])
    with pytest.raises(SurveyError, match="non-negative"):
        allocation_deff(N, n * -1)


def test_zero_share_fallback_keeps_domain_minimums():
    a = allocate({"A": 100, "B": 100, "C": 50}, 20, "neyman", sd={"A": 0, "B": 1, "C": 1},
                 maximum={"A": 100, "B": 5, "C": 5}, domain={"A": "x", "B": "x", "C": "y"},
                 domain_minimum=3)
    assert a.sizes.tolist() == [10, 5, 5]  # B and C full; the 10 left go to A (S = 0)
