"""Two-phase designs against R survey's ``twophase`` (tests/reference/twophase.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import TwoPhaseDesign
from surveycore import SurveyError, SurveyWarning

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "twophase.json").read_text())["cases"]}
IDS = {"region": str, "ea": str, "hh": str}


def check(case_id: str, frame: pd.DataFrame) -> None:
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
    var = np.atleast_1d(np.asarray(case["var"], dtype=float))
    negative = var < 0  # R's variance is negative there (SE NaN); ours is NaN with a warning
    assert frame["se"].isna().to_numpy()[negative].all()
    np.testing.assert_allclose(frame["se"].to_numpy()[~negative] ** 2, var[~negative], rtol=1e-8)


def screening(name: str, method: str) -> TwoPhaseDesign:
    df = pd.read_csv(Path(__file__).parents[1] / "data" / f"twophase_{name}.csv", dtype=IDS)
    if name == "screen1":
        return TwoPhaseDesign(df, ids=("ea", "hh"), strata=("region", "st2"), fpc=("N_ea", None),
                              subset="in2", method=method)
    return TwoPhaseDesign(df, ids=(["ea", "hh"], "hh"), strata=("region", "st2"),
                          fpc=(["N_ea", "M_ea"], None), subset="in2", method=method)


@pytest.mark.parametrize("name", ["screen1", "screen2"])
@pytest.mark.parametrize("method", ["full", "approx"])
def test_screening_designs(name, method):
    d = screening(name, method)
    p = f"{name}_{method}"
    check(f"{p}_mean", d.mean(["income", "hhsize"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)  # R's NaN where the HT form is negative
        tot = d.total(["income", "hhsize"])
    case = CASES[f"{p}_total"]
    np.testing.assert_allclose(tot["estimate"], case["estimate"], rtol=1e-8)
    var = np.asarray(case["var"], dtype=float)
    if (var < 0).any():
        parts = d.phase_variances(["income", "hhsize"])
        np.testing.assert_allclose(parts["phase1"] + parts["phase2"], var, rtol=1e-8)
        assert tot["se"].isna().to_numpy()[var < 0].all()
    else:
        check(f"{p}_total", tot)
    check(f"{p}_mean_factor", d.mean("remit"))
    check(f"{p}_ratio", d.ratio("income", "hhsize"))
    check(f"{p}_by_mean", d.mean("income", by="head_sex"))
    check(f"{p}_by_total", d.total("income", by="head_sex"))
    check(f"{p}_by_region_mean", d.mean("income", by="region"))
    dc = d.calibrate(variables=["region", "size_screen"])
    check(f"{p}_cal_mean", dc.mean(["income", "hhsize"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        check(f"{p}_cal_total", dc.total(["income", "size_screen"]))
    check(f"{p}_cal_by_mean", dc.mean("income", by="head_sex"))
    check(f"{p}_cal_by_total", dc.total("income", by="head_sex"))


@pytest.mark.parametrize("method", ["full", "approx"])
def test_two_stage_sampling_as_two_phase(method):
    """R's ``?twophase`` example: a cluster sample at phase 1, strata within clusters at phase 2."""
    mu = load_data("mu284")
    ii = np.r_[np.arange(15), np.repeat(np.arange(5), mu["n2"].to_numpy()[:5] - 3)]
    mu = mu.iloc[ii].reset_index(drop=True)
    mu["id"] = np.arange(1, len(mu) + 1)
    mu["sub"] = np.r_[np.ones(15, bool), np.zeros(len(mu) - 15, bool)]
    d = TwoPhaseDesign(mu, ids=("id1", "id"), strata=(None, "id1"), fpc=("n1", None), subset="sub", method=method)
    check(f"mu284_{method}_total", d.total("y1"))
    check(f"mu284_{method}_mean", d.mean("y1"))


@pytest.mark.parametrize("method", ["full", "approx"])
def test_case_cohort(method):
    """Case-cohort sampling (R's ``nwtco`` example): phase 2 stratified on relapse."""
    nw = load_data("nwtco")
    nw["sub"] = nw["in.subcohort"] | (nw["rel"] == 1)
    nw["stage"] = nw["stage"].astype(str)
    d = TwoPhaseDesign(nw, ids=("seqno", "seqno"), strata=(None, "rel"), subset="sub", method=method)
    p = f"nwtco_{method}"
    check(f"{p}_mean", d.mean(["edrel", "age"]))
    check(f"{p}_total", d.total("edrel"))
    check(f"{p}_by_mean", d.mean("edrel", by="stage"))
    dc = d.calibrate(variables=["stage", "age"])
    check(f"{p}_cal_mean", dc.mean(["edrel", "age"]))
    check(f"{p}_cal_by_mean", dc.mean("edrel", by="stage"))


INTERCEPT_CASES = {c["id"]: c for c in json.loads((REF / "twophase_intercept.json").read_text())["cases"]}


@pytest.mark.parametrize("method", ["full", "approx"])
def test_calibration_variables_have_r_formula_intercept(method):
    """``variables=["x"]`` is R's ``formula = ~x`` (with intercept); ``intercept=False`` is ``~x - 1``."""
    d = screening("screen1", method)
    for case_id, frame in [
        (f"{method}_intercept_mean", d.calibrate(variables=["size_screen"]).mean(["income", "hhsize"])),
        (f"{method}_intercept_total", d.calibrate(variables="size_screen").total("income")),
        (f"{method}_no_intercept_mean",
         d.calibrate(variables=["size_screen"], intercept=False).mean(["income", "hhsize"])),
    ]:
        case = INTERCEPT_CASES[case_id]
        np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
        np.testing.assert_allclose(frame["se"] ** 2, np.atleast_1d(case["var"]), rtol=1e-8)


def test_intercept_name_is_reserved():
    df = pd.read_csv(Path(__file__).parents[1] / "data" / "twophase_screen1.csv", dtype=IDS)
    df["(Intercept)"] = 2.0
    d = TwoPhaseDesign(df, ids=("ea", "hh"), strata=("region", "st2"), fpc=("N_ea", None), subset="in2")
    with pytest.raises(SurveyError, match="reserved name"):
        d.calibrate(variables=["size_screen"])
    # a categorical variable spans the intercept: nothing is added
    d.calibrate(variables=["region", "size_screen"])
