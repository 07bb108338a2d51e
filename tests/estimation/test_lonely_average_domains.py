"""lonely_psu="average" in domains of designs without calibration, against R survey 4.1
(tests/reference/lonely_average_domains.R): the average counts the strata present in the
domain, and a domain lying only in single-PSU strata has no variance estimate."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from surveycore import SurveyWarning

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "lonely_average_domains.json").read_text())["cases"]}


def _r(values) -> np.ndarray:
    return np.array([np.nan if v == "NaN" else v for v in np.ravel(np.array(values, dtype=object))], dtype=float)


def check(case_id: str, frame: pd.DataFrame) -> None:
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], _r(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], _r(case["se"]), rtol=1e-8)  # NaN where R's is NaN


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return load_data("apistrat_lonely_average")


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        return fn()


def test_one_stage_domains_average_over_their_own_strata(data):
    d = _quiet(lambda: SurveyDesign(data, ids="cl", strata="str", weights="pw", nest=True, lonely_psu="average"))
    check("one_stage_whole_mean", d.mean("api00"))
    check("one_stage_by_grp_mean", d.mean("api00", by="grp"))
    check("one_stage_by_grp_total", d.total("enroll", by="grp"))
    check("one_stage_subset_even_mean", d.subset(data["grp"] == "even").mean("api00"))
    cross = d.mean("api00", by=["stype", "grp"]).set_index(["stype", "grp"])
    order = [tuple(n.split(".")) for n in CASES["one_stage_by_stype_grp_mean"]["names"]]
    check("one_stage_by_stype_grp_mean", cross.loc[order])
    with pytest.warns(SurveyWarning, match="could not be computed"):
        by_type = d.mean("api00", by="stype")
    check("one_stage_by_stype_mean", by_type)
    assert np.isnan(by_type.set_index("stype").loc["H", "se"])  # only single-PSU strata: no SE, never 0


def test_two_stage_domains_average_over_their_own_strata(data):
    d = _quiet(lambda: SurveyDesign(data, ids=["cl", "snum"], strata="str", fpc=["fpc1", "fpc2"], nest=True,
                                    lonely_psu="average"))
    check("two_stage_whole_mean", d.mean("api00"))
    check("two_stage_by_grp_mean", d.mean("api00", by="grp"))
    check("two_stage_by_stype_total", _quiet(lambda: d.total("enroll", by="stype")))


def test_row_order_and_by_equal_subset_under_average(data):
    d = _quiet(lambda: SurveyDesign(data, ids="cl", strata="str", weights="pw", nest=True, lonely_psu="average"))
    shuffled = data.sample(frac=1.0, random_state=3)
    e = _quiet(lambda: SurveyDesign(shuffled, ids="cl", strata="str", weights="pw", nest=True, lonely_psu="average"))
    by = d.mean("api00", by="grp").set_index("grp")
    np.testing.assert_allclose(e.mean("api00", by="grp").set_index("grp").loc[by.index, "se"], by["se"], rtol=1e-12)
    for g in ("even", "odd"):
        np.testing.assert_allclose(d.subset(data["grp"] == g).mean("api00")["se"].iloc[0], by.loc[g, "se"], rtol=1e-12)


@pytest.mark.parametrize("lonely", ["average", "adjust"])
def test_two_stage_domain_lonely_option(data, lonely):
    """R's survey.adjust.domain.lonely at both stages: a first-stage cluster holding no row
    of the domain adds nothing (it is not a stratum without units to average over)."""
    d = _quiet(lambda: SurveyDesign(data, ids=["cl", "snum"], strata="str", fpc=["fpc1", "fpc2"], nest=True,
                                    lonely_psu=lonely, adjust_domain_lonely=True))
    check(f"two_stage_domain_lonely_{lonely}_by_grp_mean", _quiet(lambda: d.mean("api00", by="grp")))
