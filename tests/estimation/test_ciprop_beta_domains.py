"""Korn–Graubard (``method="beta"``) domain intervals equal R's ``svyby(svyciprop)``.

R script and output: ``tests/reference/ciprop_beta_domains.{R,json}`` — apiclus1 by ``stype``,
uncalibrated, calibrated, post-stratified and raked, by linearisation and JK1. A subset of a
calibrated design keeps every row in R, so the ``t_{n−1}`` term uses all rows there; ``by=``
and ``subset()`` agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reference_data import apiclus1_design

pytestmark = pytest.mark.filterwarnings("ignore:raking replayed")

CASES = json.loads((Path(__file__).parents[1] / "reference" / "ciprop_beta_domains.json").read_text())["cases"]


def design(engine: str, record: str):
    return apiclus1_design(record, engine)


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
