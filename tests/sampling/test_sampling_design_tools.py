"""Stratification, sample sizes and allocation against hand-worked and textbook figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sampling import (
    Frame,
    allocate,
    allocation_deff,
    cum_sqrt_f,
    design_effect,
    explicit_strata,
    mics_sample_size,
    prevalence_strata,
    sample_size,
    sample_size_domains,
    serpentine_order,
)
from surveycore import SurveyError

# ----------------------------------------------------------------------------- stratification


def _cum_sqrt_f_data():
    # equal-width classes [0,1) [1,2) [2,3) [3,4] with frequencies 16, 9, 4, 1:
    # sqrt f = 4, 3, 2, 1; cumulative 4, 7, 9, 10
    return np.r_[0.0, np.full(15, 0.5), np.full(9, 1.5), np.full(4, 2.5), 4.0]


def test_cum_sqrt_f_hand_example():
    x = _cum_sqrt_f_data()
    # H = 2: target 5 -> nearest cumulative 4 -> cut at 1.0
    np.testing.assert_allclose(cum_sqrt_f(x, 2, bins=4), [1.0])
    # H = 3: targets 3.33, 6.67 -> cumulatives 4 and 7 -> cuts 1.0 and 2.0
    np.testing.assert_allclose(cum_sqrt_f(x, 3, bins=4), [1.0, 2.0])
    with pytest.raises(SurveyError, match="too few distinct"):
        cum_sqrt_f(np.ones(10), 3)


def test_prevalence_strata_by_rule_and_cutoffs(census, frame_kwargs):
    fr = Frame.from_microdata(census, **frame_kwargs, strata="region")
    by_cut = prevalence_strata(fr, "foreign_born", "persons", cutoffs=[0.02, 0.10])
    prev = by_cut.data["prevalence_stratum_prevalence"]
    expected = np.where(prev <= 0.02, 1, np.where(prev <= 0.10, 2, 3))
    np.testing.assert_array_equal(by_cut.data["prevalence_stratum"], expected)
    assert by_cut.strata == ("region", "prevalence_stratum")
    by_rule = prevalence_strata(fr, "foreign_born", "persons", n_strata=3)
    cuts = cum_sqrt_f(prev, 3)
    np.testing.assert_array_equal(by_rule.data["prevalence_stratum"],
                                  np.searchsorted(cuts, prev, side="left") + 1)
    # the rule gives more homogeneous strata than none: mean prevalence rises with the stratum
    means = by_rule.data.groupby("prevalence_stratum")["prevalence_stratum_prevalence"].mean()
    assert means.is_monotonic_increasing and len(means) == 3
    with pytest.raises(SurveyError, match="exactly one"):
        prevalence_strata(fr, "foreign_born", "persons")
    assert explicit_strata(fr, ["region", "urban"]).strata == ("region", "urban")


def test_serpentine_order():
    df = pd.DataFrame({"region": [1, 1, 1, 2, 2, 2, 3, 3],
                       "district": [1, 2, 3, 1, 2, 3, 1, 2]})
    order = serpentine_order(df, ["region", "district"])
    got = list(zip(df["region"].iloc[order], df["district"].iloc[order]))
    assert got == [(1, 1), (1, 2), (1, 3), (2, 3), (2, 2), (2, 1), (3, 1), (3, 2)]


# ----------------------------------------------------------------------------- sample size


def test_cochran_proportion():
    # Cochran (1977) §4.4: P = 0.5, e = 0.05, 95 %: n0 = 1.96^2 * 0.25 / 0.0025 = 384.15
    s = sample_size(p=0.5, moe=0.05)
    assert s.n_effective == pytest.approx(384.1459, rel=1e-6)
    assert s.rounded()["n_effective"] == 385
    # finite population N = 2,000: n = n0 / (1 + n0/N)
    s2 = sample_size(p=0.5, moe=0.05, population=2000)
    assert s2.n_effective == pytest.approx(384.1459 / (1 + 384.1459 / 2000), rel=1e-6)


def test_cv_target_and_mean():
    # CV target: n0 = (1-P)/(cv^2 P); P = 0.2, cv = 0.1 -> 400
    assert sample_size(p=0.2, cv=0.1).n_effective == pytest.approx(400)
    # mean: S = 12, e = 2, z = 2 -> 144;  cv 5 % of a mean of 60 -> 144/(0.0025*3600) = 16
    assert sample_size(sd=12, moe=2, z=2).n_effective == pytest.approx(144)
    assert sample_size(sd=12, mean=60, cv=0.05).n_effective == pytest.approx(16)


def test_mics_formula_and_general_route_agree():
    # MICS: n = 4 r(1-r) deff 1.1 / ((0.12 r)^2 p n̄); r = 0.25, p = 0.15, n̄ = 5
    n = mics_sample_size(0.25, 0.15, 5)
    assert n == pytest.approx(4 * 0.25 * 0.75 * 1.5 * 1.1 / (0.03 ** 2 * 0.15 * 5))
    assert n == pytest.approx(1833.3333333, rel=1e-9)
    general = sample_size(p=0.25, rmoe=0.12, z=2, deff=1.5, response_rate=1 / 1.1,
                          persons_per_household=0.15 * 5)
    assert general.households == pytest.approx(n, rel=1e-12)


def test_chain_to_screening_load():
    # migrants: P = 0.3 +- 0.05 ; ICC 0.05 with 10 migrants per cluster ; weights CV 0.5
    s = sample_size(p=0.3, moe=0.05, icc=0.05, take=10, weight_cv=0.5, response_rate=0.8,
                    persons_per_household=1.5, prevalence=0.06, eligibility=0.9)
    n0 = 1.959963984540054 ** 2 * 0.21 / 0.0025
    deff = (1 + 9 * 0.05) * (1 + 0.25)
    assert s.deff == pytest.approx(deff) == design_effect(icc=0.05, take=10, weight_cv=0.5)
    assert s.respondents == pytest.approx(n0 * deff)
    assert s.selected == pytest.approx(n0 * deff / 0.8)
    assert s.households == pytest.approx(n0 * deff / 0.8 / 1.5)
    assert s.screen == pytest.approx(n0 * deff / 0.8 / 1.5 / (0.06 * 0.9))


def test_several_domains_at_once():
    domains = pd.DataFrame({"p": [0.3, 0.5, 0.2], "prevalence": [0.06, 0.02, 0.5]},
                           index=["foreign_born", "returnees", "all"])
    out = sample_size_domains(domains, rmoe=0.15, deff=2.0)
    for name, row in domains.iterrows():
        one = sample_size(p=row["p"], prevalence=row["prevalence"], rmoe=0.15, deff=2.0)
        assert out.loc[name, "screen"] == pytest.approx(one.screen)
    assert out["binding"].sum() == 1 and out.loc["returnees", "binding"]


def test_sample_size_refuses_bad_input():
    with pytest.raises(SurveyError, match="exactly one precision"):
        sample_size(p=0.5, moe=0.05, cv=0.1)
    with pytest.raises(SurveyError, match="proportion"):
        sample_size(p=0.5, moe=0.05, response_rate=1.2)


# ----------------------------------------------------------------------------- allocation

N3 = {"A": 1000, "B": 2000, "C": 3000}


def test_textbook_allocations():
    assert allocate(N3, 60).sizes.tolist() == [10, 20, 30]
    ney = allocate(N3, 140, "neyman", sd={"A": 10, "B": 20, "C": 30})
    assert ney.sizes.tolist() == [10, 40, 90]  # n_h ∝ N_h S_h = 1e4, 4e4, 9e4
    opt = allocate(N3, 120, "optimal", sd={"A": 10, "B": 20, "C": 30}, cost={"A": 1, "B": 4, "C": 9})
    assert opt.sizes.tolist() == [20, 40, 60]  # ∝ N_h S_h / sqrt(c_h) = 1e4, 2e4, 3e4
    # with a budget C = sum c_h n_h = 720 the same allocation (Cochran 5.24)
    bud = allocate(N3, None, "optimal", sd={"A": 10, "B": 20, "C": 30},
                   cost={"A": 1, "B": 4, "C": 9}, budget=720)
    assert bud.n == 120 and bud.sizes.tolist() == [20, 40, 60]
    pw = allocate(N3, 100, "power", power=0.5)
    np.testing.assert_allclose(pw.table["n_exact"], 100 * np.sqrt([1, 2, 3]) / np.sqrt([1, 2, 3]).sum())
    assert allocate(N3, 10, "equal").sizes.tolist() == [4, 3, 3]
    assert allocate(N3, 60).deff == pytest.approx(1.0)


def test_rounding_keeps_total():
    rng = np.random.default_rng(1)
    pop = pd.Series(rng.integers(50, 5000, 37), index=[f"s{i}" for i in range(37)])
    for n in (37, 100, 555, 1234):
        a = allocate(pop, n)
        assert a.sizes.sum() == n
        assert (np.abs(a.table["n_h"] - a.table["n_exact"]) < 1).all()


def test_bounds():
    a = allocate({"a": 100, "b": 1000, "c": 4900}, 60, minimum=10)
    assert a.sizes.tolist() == [10, 10, 40]
    b = allocate({"a": 10, "b": 1000, "c": 1000}, 300, "neyman", sd={"a": 100, "b": 1, "c": 1})
    assert b.sizes.tolist() == [10, 145, 145]  # capped at N_a = 10
    c = allocate(N3, 300, maximum=120)  # 50, 100, 150 -> C capped at 120, rest 180 ∝ 1:2
    assert c.sizes.tolist() == [60, 120, 120]


def test_infeasible_constraints_say_which():
    with pytest.raises(SurveyError, match="minimum sizes add up") as e:
        allocate(N3, 60, minimum=30)
    assert "sum = 90" in str(e.value)
    with pytest.raises(SurveyError, match="above the stratum size") as e:
        allocate({"a": 5, "b": 100}, 20, minimum=10)
    assert "'a'" in str(e.value)
    with pytest.raises(SurveyError, match="maximum sizes"):
        allocate(N3, 300, maximum=50)
    with pytest.raises(SurveyError, match="larger than the population"):
        allocate({"a": 5}, 6)
    with pytest.raises(SurveyError, match="needs stratum standard deviations"):
        allocate(N3, 60, "neyman")


def test_kish_deff_of_disproportionate_allocation():
    # W = (.5, .5), k = N/n = (2.5, 10): deff = (Σ W k)(Σ W / k) = 6.25 * 0.25 = 1.5625
    assert allocation_deff([1000, 1000], [400, 100]) == pytest.approx(1.5625)
    w = np.r_[np.full(400, 2.5), np.full(100, 10.0)]  # second route: 1 + CV^2 of the weights
    assert allocation_deff([1000, 1000], [400, 100]) == pytest.approx(
        len(w) * np.sum(w ** 2) / w.sum() ** 2)
    a = allocate({"x": 1000, "y": 1000}, 500, "neyman", sd={"x": 4, "y": 1})
    assert a.deff == pytest.approx(1.5625)


def test_rare_group_oversampling_rates():
    # Kalton & Anderson (1986): two strata, P = 0.4 and 0.1, equal costs -> f1/f2 = sqrt(4) = 2
    a = allocate({"high": 1000, "low": 1000}, 300, "rare", prevalence={"high": 0.4, "low": 0.1})
    f = a.table["n_exact"] / a.table["N_h"]
    assert f["high"] / f["low"] == pytest.approx(2.0)
    # with screening cheaper than interviewing (c = 5): f ∝ sqrt(P / (1 + 4P))
    b = allocate({"high": 1000, "low": 1000}, 300, "rare", prevalence={"high": 0.4, "low": 0.1},
                 cost_ratio=5)
    g = b.table["n_exact"] / b.table["N_h"]
    assert g["high"] / g["low"] == pytest.approx(np.sqrt(0.4 / 2.6) / np.sqrt(0.1 / 1.4))


def test_design_effect_comes_before_the_finite_population_correction():
    # n = n0 deff / (1 + n0 deff / N): P = 0.1, rmoe 0.2, deff 2, N = 5,000
    n0 = 1.959963984540054 ** 2 * 0.09 / 0.02 ** 2
    s = sample_size(p=0.1, rmoe=0.2, deff=2.0, population=5000)
    assert s.respondents == pytest.approx(n0 * 2 / (1 + n0 * 2 / 5000), rel=1e-12)
    assert s.n_effective == pytest.approx(s.respondents / 2, rel=1e-12)
    # a small domain never needs more respondents than it has people
    tiny = sample_size(p=0.1, rmoe=0.1, deff=3.0, population=2000)
    assert tiny.respondents < 2000
    # the order fpc-then-deff would ask for 15 % more here
    assert n0 / (1 + n0 / 5000) * 2 / s.respondents == pytest.approx(1.1475, rel=1e-3)
