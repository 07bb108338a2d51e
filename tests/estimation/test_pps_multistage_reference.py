"""Multi-stage PPS without replacement (Brewer's approximation) against R (tests/reference/pps_multistage.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reference_data import load_data

from estimation import SurveyDesign

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "pps_multistage.json").read_text())["cases"]}


def check(case_id, frame):
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.ravel(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.ravel(case["se"]), rtol=1e-8)


@pytest.fixture(scope="module")
def data():
    df = load_data("apiclus2")
    pps = load_data("apiclus2_pps")
    assert (pps["snum"].to_numpy() == df["snum"].to_numpy()).all()
    return df.assign(pi1=pps["pi1"], pi2=pps["pi2"], st=pps["st"])


def test_two_stage_brewer(data):
    d = SurveyDesign(data, ids=["dnum", "snum"], fpc=["pi1", "pi2"], probs=["pi1", "pi2"], pps="brewer")
    check("brewer2_mean", d.mean(["api00", "api99"]))
    check("brewer2_total", d.total("api00"))
    check("brewer2_by_mean", d.mean("api00", by="stype"))
    check("brewer2_ratio", d.ratio("api00", "api99"))
    s = SurveyDesign(data, ids=["dnum", "snum"], strata="st", fpc=["pi1", "pi2"], probs=["pi1", "pi2"], pps="brewer")
    check("brewer2_strat_total", s.total(["api00", "enroll"], na_rm=True))
