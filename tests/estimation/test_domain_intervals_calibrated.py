"""Likelihood intervals of domain proportions and beta intervals of domain quantiles equal R's
on calibrated, post-stratified and raked designs.

R script and output: ``tests/reference/domain_intervals_calibrated.{R,json}`` — apiclus1 by
``stype``. A subset of a calibrated design keeps every row in R: the likelihood interval's GLM
then scales the prior weights by their mean over all rows and takes the profile's F quantile
on all rows, and the beta interval's ``t_{n−1}`` uses all rows. ``by=`` and ``subset()``
agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reference_data import apiclus1_design

pytestmark = pytest.mark.filterwarnings("ignore:raking replayed")

CASES = json.loads((Path(__file__).parents[1] / "reference"
                    / "domain_intervals_calibrated.json").read_text())["cases"]


def design(record: str):
    return apiclus1_design(record)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_interval_by_domain_equals_r(case):
    kind, record, value = case["id"].split("_")
    d = design(record)
    if kind == "likelihood":
        got = d.proportion("awards", by="stype", method="likelihood", level=float(value))
        got = got.query("level == 'Yes'")
        rtol = 1e-8
    else:
        got = d.quantile("api00", float(value), by="stype", interval_type="beta")
        rtol = 1e-12
    assert got["stype"].tolist() == case["names"]
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], case[col], rtol=rtol, err_msg=col)


@pytest.mark.parametrize("record", ["none", "cal", "rake"])
def test_subset_equals_by(record):
    d = design(record)
    sub = d.subset(d.data["stype"] == "H")
    by = d.proportion("awards", by="stype", method="likelihood").query(
        "level == 'Yes' and stype == 'H'")
    one = sub.proportion("awards", method="likelihood").query("level == 'Yes'")
    np.testing.assert_allclose(one[["ci_low", "ci_high"]].to_numpy(),
                               by[["ci_low", "ci_high"]].to_numpy(), rtol=1e-10)
    qby = d.quantile("api00", 0.75, by="stype", interval_type="beta").query("stype == 'H'")
    qone = sub.quantile("api00", 0.75, interval_type="beta")
    np.testing.assert_allclose(qone[["ci_low", "ci_high"]].to_numpy(),
                               qby[["ci_low", "ci_high"]].to_numpy(), rtol=1e-12)
