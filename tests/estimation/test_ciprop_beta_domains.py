"""Korn–Graubard (``method="beta"``) domain intervals equal R's ``svyby(svyciprop)``.

R script and output: ``tests/reference/ciprop_beta_domains.{R,json}`` — apiclus1 by ``stype``,
uncalibrated, calibrated, post-stratified and raked, by linearisation and JK1. A subset of a
calibrated design keeps every row in R, so the ``t_{n−1}`` term uses all rows there; ``by=``
and ``subset()`` agree.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from weighting import Weights

pytestmark = pytest.mark.filterwarnings("ignore:raking replayed")

TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
SCHWIDE = {"No": 1072.0, "Yes": 5122.0}
CASES = json.loads((Path(__file__).parents[1] / "reference" / "ciprop_beta_domains.json").read_text())["cases"]


@cache
def design(engine: str, record: str):
    df = load_data("apiclus1")
    w = Weights(df, "pw")
    if record == "cal":
        w = w.calibrate({"sch.wide": SCHWIDE, "api99": 3914069.0})
    elif record == "ps":
        w = w.poststratify({"stype": TYPES})
    elif record == "rake":
        w = w.rake({"stype": TYPES, "sch.wide": SCHWIDE}, tol=1, tol_units="absolute", variance="survey")
    d = SurveyDesign(df, ids="dnum", weights=w, fpc="fpc")
    return d.replicate("JK1") if engine == "jk1" else d


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_beta_interval_by_domain(case):
    engine, record, level = case["id"].split("_")
    d = design(engine, record)
    got = d.proportion("awards", by="stype", method="beta", level=float(level)).query("level == 'Yes'")
    assert got["stype"].tolist() == case["names"]
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], case[col], rtol=1e-8, err_msg=col)


@pytest.mark.parametrize("record", ["none", "cal", "rake"])
def test_beta_interval_subset_equals_by(record):
    d = design("taylor", record)
    by = d.proportion("awards", by="stype", method="beta").query("level == 'Yes' and stype == 'H'")
    sub = d.subset(d.data["stype"] == "H").proportion("awards", method="beta").query("level == 'Yes'")
    np.testing.assert_allclose(sub[["ci_low", "ci_high"]].to_numpy(), by[["ci_low", "ci_high"]].to_numpy(), rtol=1e-12)
