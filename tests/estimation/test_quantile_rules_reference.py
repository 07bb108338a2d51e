"""Quantile rules (qrule) and interval types against R survey 4.1 (tests/reference/quantiles.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import ReplicateDesign, SurveyDesign
from estimation.quantile_rules import RULES
from surveycore import SurveyError

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "quantiles.json").read_text())["cases"]}
PROBS = [0.1, 0.25, 0.5, 0.9]


def check(case_id, frame):
    case = CASES[case_id]
    for col in ("estimate", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(frame[col], np.asarray(case[col], dtype=float), rtol=1e-8, err_msg=col)


@pytest.fixture(scope="module")
def designs():
    strat = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    clus1 = SurveyDesign(load_data("apiclus1"), ids="dnum", weights="pw", fpc="fpc")
    return strat, clus1


@pytest.mark.parametrize("rule", RULES)
def test_every_quantile_rule(designs, rule):
    strat, clus1 = designs
    check(f"strat_{rule}", strat.quantile(["api00", "enroll"], PROBS, qrule=rule))
    check(f"clus1_{rule}", clus1.quantile("api00", PROBS, qrule=rule))


@pytest.mark.parametrize("interval", ["mean", "beta", "xlogit", "asin"])
@pytest.mark.parametrize("rule", ["math", "hf7"])
def test_interval_types(designs, interval, rule):
    strat, _ = designs
    check(f"strat_{interval}_{rule}", strat.quantile(["api00", "enroll"], PROBS, qrule=rule, interval_type=interval))


def test_domains(designs):
    strat, clus1 = designs
    check("by_hf7_xlogit", clus1.quantile("api00", 0.5, by="stype", qrule="hf7", interval_type="xlogit"))
    check("by_school_beta", strat.quantile("api00", 0.25, by="awards", qrule="school", interval_type="beta"))


def test_replicate_designs(designs):
    _, clus1 = designs
    check("jk1_hf7_mean", clus1.replicate("JK1").quantile("api00", PROBS, qrule="hf7"))
    df = load_data("apiclus1")
    reps = pd.read_csv(Path(__file__).parents[1] / "data" / "apiclus1_boot20.csv")
    reps.columns = [f"rw{i + 1}" for i in range(reps.shape[1])]
    boot = CASES["boot_design"]
    r = ReplicateDesign(pd.concat([df, reps], axis=1), weights="pw", repweights="rw[0-9]+", type="bootstrap",
                        scale=boot["scale"])
    check("boot_quantile_hf1", r.quantile("api00", PROBS, qrule="hf1", interval_type="quantile"))
    check("boot_quantile_hf8", r.quantile("api00", PROBS, qrule="hf8", interval_type="quantile"))


def test_refusals(designs):
    strat, _ = designs
    with pytest.raises(SurveyError, match="qrule"):
        strat.quantile("api00", 0.5, qrule="hf10")
    with pytest.raises(SurveyError, match="replicate design"):
        strat.quantile("api00", 0.5, interval_type="quantile")


def test_equal_weights_give_hyndman_fan_types():
    """With equal weights hf4–hf9 are numpy's Hyndman–Fan sample quantiles (hf7 = numpy's default)."""
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0])
    d = SurveyDesign(pd.DataFrame({"x": x, "w": 2.0}), weights="w")
    methods = {"hf4": "interpolated_inverted_cdf", "hf5": "hazen", "hf6": "weibull", "hf7": "linear",
               "hf8": "median_unbiased", "hf9": "normal_unbiased", "hf1": "inverted_cdf"}
    for rule, method in methods.items():
        got = d.quantile("x", [0.2, 0.5, 0.8], qrule=rule)["estimate"].to_numpy()
        np.testing.assert_allclose(got, np.quantile(x, [0.2, 0.5, 0.8], method=method), rtol=1e-12, err_msg=rule)


def test_score_intervals(designs):
    strat, clus1 = designs
    check("strat_score_math", strat.quantile(["api00", "enroll"], [0.25, 0.5, 0.9], interval_type="score"))
    check("clus1_score_hf7", clus1.quantile("api00", [0.1, 0.5, 0.75], interval_type="score", qrule="hf7"))
    check("by_score_math", clus1.quantile("api00", 0.5, by="stype", interval_type="score"))


def test_nan_probabilities_and_levels_are_refused(designs):
    strat, _ = designs
    with pytest.raises(SurveyError, match="probabilities"):
        strat.quantile("api00", [0.5, np.nan])
    with pytest.raises(SurveyError, match="level"):
        strat.quantile("api00", 0.5, level=95)
    with pytest.raises(SurveyError, match="level"):
        strat.var("api00", level=95)
