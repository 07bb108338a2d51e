"""Covariances across domains and contrasts against R (tests/reference/contrasts.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from estimation.contrast import Estimates
from surveycore import SurveyError
from weighting import Weights

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "contrasts.json").read_text())["cases"]}


def check_cov(case_id: str, result: Estimates, order=None) -> None:
    case = CASES[case_id]
    names = result.names if order is None else order
    cov = result.covariance.loc[names, names].to_numpy()
    est = pd.Series(result["estimate"].to_numpy(), index=result.names).loc[names].to_numpy()
    np.testing.assert_allclose(est, case["estimate"], rtol=1e-8)
    np.testing.assert_allclose(cov, np.asarray(case["cov"], dtype=float).reshape(cov.shape), rtol=1e-8)
    # the diagonal is the reported SE
    se = pd.Series(result["se"].to_numpy(), index=result.names).loc[names].to_numpy()
    np.testing.assert_allclose(se**2, np.diag(cov), rtol=1e-10)


def check_con(case_id: str, frame: pd.DataFrame) -> None:
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.atleast_1d(case["se"]), rtol=1e-8)


@pytest.fixture(scope="module")
def clus1():
    return SurveyDesign(load_data("apiclus1"), ids="dnum", weights="pw", fpc="fpc")


def test_domain_means_covariance_and_contrasts(clus1):
    b = clus1.mean("api00", by="stype", covariance=True)
    check_cov("clus1_by_mean", b)
    check_con("clus1_by_mean_diff", b.contrast({"E": 1, "M": -1}))
    check_con("clus1_by_mean_diff", b.contrast([1, 0, -1]))
    check_con("clus1_by_mean_diff", b.contrast({"E:api00": 1, "M:api00": -1}))
    check_con("clus1_by_mean_two", b.contrast({"avg": {"E": 0.5, "H": 0.25, "M": 0.25}, "diff": {"H": 1, "M": -1}}))
    check_con("clus1_by_mean_ratio", b.nlcontrast(lambda e: e["E"] / e["M"]))
    check_con("clus1_by_mean_log", b.nlcontrast(lambda e: np.log(e["H"]) - np.log(e["E"]) + np.exp(e["M"] / 1000)))
    grad = b.nlcontrast(lambda e: e["E"] / e["M"], gradient=lambda e: [1 / e["M"], 0.0, -e["E"] / e["M"] ** 2])
    check_con("clus1_by_mean_ratio", grad)


def test_covariance_across_variables_and_domains(clus1):
    bt = clus1.total(["api00", "api99"], by="stype", covariance=True)
    order = [f"{s}:{v}" for v in ("api00", "api99") for s in "EHM"]  # R's order: variable-major
    check_cov("clus1_by_total2", bt, order)
    m = clus1.mean(["api00", "enroll"], covariance=True)
    check_cov("clus1_mean2", m)
    check_con("clus1_mean2_diff", m.contrast({"api00": 1, "enroll": -1}))
    check_cov("clus1_by_ratio", clus1.ratio("api00", "api99", by="stype", covariance=True))
    p = clus1.mean("awards", by="stype", covariance=True)
    order = [f"{s}:awards:{a}" for a in ("No", "Yes") for s in "EHM"]
    check_cov("clus1_by_prop", p, order)


def test_calibrated_design_covariance_is_domain_first():
    df = load_data("apiclus1")
    w = Weights(df, "pw").calibrate({"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069})
    d = SurveyDesign(df, ids="dnum", weights=w, fpc="fpc")
    check_cov("cal_by_mean", d.mean("api00", by="stype", covariance=True))
    check_cov("cal_by_total", d.total("enroll", by="sch.wide", covariance=True))


def test_replicate_designs(clus1):
    r = clus1.replicate("JK1")
    b = r.mean("api00", by="stype", covariance=True)
    check_cov("jk1_by_mean", b)
    check_con("jk1_by_mean_diff", b.contrast({"E": 1, "M": -1}))
    check_con("jk1_by_mean_ratio", b.nlcontrast(lambda e: e["E"] / e["M"], return_replicates=True))
    assert b.replicates.shape == (r.n_replicates, 3)
    st = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc").replicate("JKn")
    check_cov("jkn_by_total", st.total("enroll", by="awards", covariance=True))


def test_contrast_refusals(clus1):
    b = clus1.mean("api00", by="stype", covariance=True)
    with pytest.raises(SurveyError, match="unknown estimate"):
        b.contrast({"X": 1})
    with pytest.raises(SurveyError, match="one coefficient per estimate"):
        b.contrast([1, -1])
    with pytest.raises(SurveyError, match="complex step"):
        b.nlcontrast(lambda e: float(np.real(e["E"])) / 2)
    plain = clus1.mean("api00", by="stype")
    assert not isinstance(plain, Estimates)
    pd.testing.assert_frame_equal(pd.DataFrame(b), plain)


def test_proportions_carry_their_covariance(clus1):
    p = clus1.proportion("awards", by="stype", covariance=True)
    order = [f"{s}:awards:{a}" for a in ("No", "Yes") for s in "EHM"]
    check_cov("clus1_by_prop", p, order)
    diff = p.contrast({"E:awards:Yes": 1, "M:awards:Yes": -1})
    b = clus1.mean("awards", by="stype", covariance=True)
    pd.testing.assert_frame_equal(diff, b.contrast({"E:awards:Yes": 1, "M:awards:Yes": -1}))
