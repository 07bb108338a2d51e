"""Weights through estimation.SurveyDesign: Taylor SEs credit calibration, replicates re-weight.

The same R survey reference cases as test_reference_r.py, this time through the public route
``SurveyDesign(df, ..., weights=w).mean/total`` and ``.replicate("JK1")`` (rtol 1e-8).
"""

import json

import numpy as np
import pytest
from wt_targets import POP_CAL, POP_SW, POP_TYPES, REF

from estimation import SurveyDesign
from weighting import Weights

RTOL = 1e-8
WCASES = {c["id"]: c for c in json.loads((REF / "weighting_cases.json").read_text())["cases"]}


def _assert(frame, case, name, variable=None):
    ref = next(v for v in case["values"] if v["name"] == name)
    row = frame[frame["variable"] == (variable or name)].iloc[0]
    np.testing.assert_allclose([row["estimate"], row["se"]], [ref["estimate"], ref["se"]],
                               rtol=RTOL)


def _rake(df):
    return Weights(df, "pw").rake({**POP_TYPES, **POP_SW}, tol=1, tol_units="absolute", variance="survey",
                                  max_iter=10)


def test_poststratify_through_design(apistrat, rcases):
    w = Weights(apistrat, "pw").poststratify(POP_TYPES)
    d = SurveyDesign(apistrat, strata="stype", weights=w, fpc="fpc")
    out = d.mean(["api00", "enroll"])
    for y in ("api00", "enroll"):
        _assert(out, rcases["strat_poststratify"], y)


def test_rake_through_design(apiclus1, rcases):
    d = SurveyDesign(apiclus1, ids="dnum", weights=_rake(apiclus1), fpc="fpc")
    _assert(d.mean("api00"), rcases["clus1_rake"], "api00")
    _assert(d.total("enroll"), rcases["clus1_rake"], "enroll")


@pytest.mark.parametrize(
    "case_id, method, bounds",
    [
        ("clus1_calibrate_linear", "linear", None),
        ("clus1_calibrate_linear_bounded", "linear", (0.5, 1.8)),
        ("clus1_calibrate_raking", "raking", None),
        ("clus1_calibrate_logit", "logit", (0.7, 1.7)),
    ],
)
def test_calibrate_through_design(apiclus1, rcases, case_id, method, bounds):
    w = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds)
    d = SurveyDesign(apiclus1, ids="dnum", weights=w, fpc="fpc")
    _assert(d.mean("api00"), rcases[case_id], "api00")


def test_trim_through_design(apistrat, rcases):
    w = Weights(apistrat, "pw").trim(upper=40, lower=20)
    d = SurveyDesign(apistrat, strata="stype", weights=w, fpc="fpc")
    _assert(d.mean("api00"), rcases["strat_trim"], "api00")


def test_jk1_rake_through_design(apiclus1, rcases):
    d = SurveyDesign(apiclus1, ids="dnum", weights=_rake(apiclus1), fpc="fpc")
    _assert(d.replicate("JK1").mean("api00"), rcases["clus1_jk1_rake_mean"], "api00")


def test_jk1_calibrate_through_design(apiclus1):
    case = WCASES["weighting_clus1_jk1_calibrate_linear"]
    w = Weights(apiclus1, "pw").calibrate(POP_CAL)
    r = SurveyDesign(apiclus1, ids="dnum", weights=w, fpc="fpc").replicate("JK1")
    _assert(r.mean("api00"), case, "api00")
    _assert(r.total("enroll"), case, "enroll")


def test_integrated_through_design(eusilc):
    case = WCASES["weighting_eusilc_integrated_linear"]
    t = case["note"]["targets"]
    w = Weights(eusilc.assign(hh_one=1.0), "rb050").calibrate(
        {"rb090": t["rb090"], "db040": t["db040"], "age": t["age"]},
        cluster="db030", cluster_targets={"hh_one": t["households"]})
    d = SurveyDesign(eusilc, ids="db030", strata="db040", weights=w)
    _assert(d.mean("eqIncome"), case, "eqIncome")
    _assert(d.total("eqIncome"), case, "total_eqIncome", "eqIncome")
