"""More linearisation cases against R survey, made by tests/reference/estimation_extra.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "estimation_extra.json").read_text())}


def assert_case(case_id, frame, extra=()):
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.atleast_1d(case["se"]), rtol=1e-8)
    for col in extra:
        np.testing.assert_allclose(frame[col], np.atleast_1d(case[col]), rtol=1e-8)


def election(pps, **kw):
    return SurveyDesign(load_data("election_pps"), fpc="p", pps=pps, **kw)


def test_overton():
    assert_case("pps_overton_total", election("overton").total(["Bush", "Kerry"]))


def test_yates_grundy_with_joint_probabilities():
    pij = pd.read_csv(REF / "election_jointprob.csv").to_numpy()
    assert_case("pps_yg_total", election(pij, variance="YG").total(["Bush", "Kerry"]))


def test_two_stage_with_fractions_and_stage_probabilities():
    c2 = load_data("apiclus2")
    c2["f1"] = 40 / c2["fpc1"]
    c2["f2"] = np.minimum(1, c2.groupby("dnum")["snum"].transform("size") / c2["fpc2"])
    c2["p1"] = 40 / 757
    c2["p2"] = c2["f2"]
    d = SurveyDesign(c2, ids=["dnum", "snum"], fpc=["f1", "f2"], probs=["p1", "p2"])
    assert_case("clus2_fractions_mean", d.mean(["api00", "api99"]))


@pytest.fixture
def strat():
    return SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")


def test_domain_total_deff(strat):
    assert_case("strat_by_total_deff", strat.total("api00", by="awards", deff=True), extra=("deff",))


def test_ratio_deff(strat):
    assert_case("strat_ratio_deff", strat.ratio("api00", "api99", deff=True), extra=("deff",))


def test_domain_median_uses_domain_degrees_of_freedom(strat):
    assert_case("strat_by_median", strat.quantile("api00", 0.5, by="stype"))


def test_t_interval_with_given_df():
    d = SurveyDesign(load_data("apiclus1"), ids="dnum", weights="pw", fpc="fpc")
    assert_case("clus1_mean_t5", d.mean("api00", df=5), extra=("ci_low", "ci_high"))


LONELY2 = json.loads((REF / "lonely_stage2.json").read_text())


def _clus2_with_stage2_singletons():
    df = load_data("apiclus2")
    return df.drop(index=np.array(LONELY2["dropped_rows"]) - 1)


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_lonely_units_at_the_second_stage(rule):
    d = SurveyDesign(_clus2_with_stage2_singletons(), ids=["dnum", "snum"], fpc=["fpc1", "fpc2"], lonely_psu=rule)
    out = d.mean(["api00", "api99"])
    np.testing.assert_allclose(out["estimate"], LONELY2[rule]["estimate"], rtol=1e-8)
    np.testing.assert_allclose(out["se"], LONELY2[rule]["se"], rtol=1e-8)


def test_lonely_units_at_the_second_stage_are_refused_by_default_and_by_average():
    from estimation import SurveyError

    df = _clus2_with_stage2_singletons()
    with pytest.raises(SurveyError, match="stage 2"):
        SurveyDesign(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    # R returns NaN for "average" when a PSU has no stratum to average over; we refuse
    assert LONELY2["average"]["se"] == ["NaN", "NaN"]
    with pytest.raises(SurveyError, match="average"):
        SurveyDesign(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"], lonely_psu="average")
