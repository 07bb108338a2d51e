"""Covariances of quantiles and GLM coefficients, and contrasts of GLM coefficients, against R
(tests/reference/covariance_quantile_glm.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from estimation.contrast import Estimates

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "covariance_quantile_glm.json").read_text())["cases"]}
QNAMES = ["api00:0.25", "api00:0.5", "api99:0.25", "api99:0.5"]


def r_cov(case_id: str) -> np.ndarray:
    cov = CASES[case_id]["cov"]
    return np.array([[np.nan if v is None else v for v in row] for row in cov], dtype=float)


def check_cov(case_id: str, result, names) -> None:
    case = CASES[case_id]
    cov = result.covariance.loc[names, names].to_numpy()
    est = pd.Series(result["estimate"].to_numpy(), index=result.names).loc[names].to_numpy()
    np.testing.assert_allclose(est, case["estimate"], rtol=1e-8)
    np.testing.assert_allclose(cov, r_cov(case_id), rtol=1e-8)  # NaN where R has NA


def check_con(case_id: str, frame: pd.DataFrame) -> None:
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.atleast_1d(case["se"]), rtol=1e-8)


@pytest.fixture(scope="module")
def clus1():
    df = load_data("apiclus1")
    return SurveyDesign(df, ids="dnum", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def rclus1(clus1):
    return clus1.replicate("JK1")


# -- quantiles ---------------------------------------------------------------------------------
def test_woodruff_covariance_is_r_diagonal(clus1):
    q = clus1.quantile(["api00", "api99"], [0.25, 0.5], covariance=True)
    assert isinstance(q, Estimates) and q.names == QNAMES
    check_cov("quantile_woodruff", q, QNAMES)
    q = clus1.quantile(["api00", "api99"], [0.25, 0.5], qrule="hf7", interval_type="xlogit", covariance=True)
    check_cov("quantile_woodruff_hf7_xlogit", q, QNAMES)
    # one quantile alone has its SE; a contrast of two linearised quantiles is not estimated
    one = q.contrast({"api00:0.5": 1})
    np.testing.assert_allclose(one["se"], q["se"].iloc[1], rtol=1e-12)
    assert np.isnan(q.contrast({"api00:0.5": 1, "api99:0.5": -1})["se"].iloc[0])


def test_replicate_covariance_full(rclus1):
    q = rclus1.quantile(["api00", "api99"], [0.25, 0.5], interval_type="quantile", covariance=True)
    check_cov("quantile_rep_full_math", q, QNAMES)
    # R's svyquantile itself reports only the diagonal of the same matrix
    np.testing.assert_allclose(np.diag(q.covariance.to_numpy()), np.diag(r_cov("quantile_rep_svyquantile")), rtol=1e-8)
    # a Woodruff interval on a replicate design: R's diagonal form again
    check_cov("quantile_rep_woodruff", rclus1.quantile(["api00", "api99"], [0.25, 0.5], covariance=True), QNAMES)
    q7 = rclus1.quantile(["api00", "api99"], [0.25, 0.5], interval_type="quantile", qrule="hf7", covariance=True)
    check_cov("quantile_rep_full_hf7", q7, QNAMES)
    # contrasts use the replicates: a difference of medians
    diff = q.contrast({"api00:0.5": 1, "api99:0.5": -1})
    c = r_cov("quantile_rep_full_math")
    np.testing.assert_allclose(diff["se"].iloc[0] ** 2, c[1, 1] + c[3, 3] - 2 * c[1, 3], rtol=1e-8)


def test_replicate_covariance_domains(rclus1):
    q = rclus1.quantile("api00", [0.25, 0.5], by="stype", interval_type="quantile", covariance=True)
    names = [f"{s}:api00:{p}" for s in "EHM" for p in ("0.25", "0.5")]
    check_cov("quantile_rep_by_full", q, names)
    by = CASES["quantile_rep_by_svyby"]  # R's svyby SEs are the diagonal
    r_names = [n.replace("api00.", "api00:") for n in by["names"]]
    se = np.asarray(by["se"]).T.ravel()  # R: domains × quantiles, names domain-fastest
    np.testing.assert_allclose(np.sqrt(np.diag(q.covariance.loc[r_names, r_names])), se, rtol=1e-8)


# -- GLMs --------------------------------------------------------------------------------------
def test_glm_taylor_covariance_and_contrasts(clus1):
    g = clus1.glm("api00 ~ ell + meals")
    np.testing.assert_allclose(g.covariance.loc[["(Intercept)", "ell", "meals"]].to_numpy(), r_cov("glm_taylor"),
                               rtol=1e-8)
    check_con("glm_taylor_diff", g.contrast({"ell": 1, "meals": -1}))
    check_con("glm_taylor_two", g.contrast({"a": [0, 1, -1], "b": [1, 10, 20]}))
    check_con("glm_taylor_ratio", g.nlcontrast(lambda b: b["ell"] / b["meals"]))


def test_glm_binomial_stratified():
    df = load_data("apistrat")
    d = SurveyDesign(df, ids=None, strata="stype", weights="pw", fpc="fpc")
    g = d.glm("I(sch.wide == 'Yes') ~ ell + stype", family="quasibinomial")
    np.testing.assert_allclose(g.covariance.to_numpy(), r_cov("glm_binomial_strat"), rtol=1e-8)
    check_con("glm_binomial_strat_or", g.nlcontrast(lambda b: np.exp(b["stypeH"] - b["stypeM"])))


def test_glm_replicate_covariance_and_contrasts(rclus1):
    g = rclus1.glm("api00 ~ ell + meals")
    np.testing.assert_allclose(g.covariance.to_numpy(), r_cov("glm_rep"), rtol=1e-8)
    check_con("glm_rep_diff", g.contrast([0, 1, -1]))
    # a smooth function from the refitted replicate coefficients (R: return.replicates=TRUE)
    check_con("glm_rep_ratio", g.nlcontrast(lambda b: b["ell"] / b["meals"], return_replicates=True))
    assert g.replicates.shape == (15, 3)


# -- population variances ------------------------------------------------------------------------
def test_var_covariance():
    d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    check_cov("var_strat2", d.var(["api00", "enroll"], covariance=True), ["api00", "enroll"])


def test_var_covariance_replicates(rclus1):
    check_cov("var_jk1_2", rclus1.var(["api00", "api99"], covariance=True), ["api00", "api99"])
    by = rclus1.var("api00", by="stype", covariance=True)
    check_cov("var_jk1_by", by, ["E:api00", "H:api00", "M:api00"])
    # a contrast of two domains' variances from the replicates
    c = r_cov("var_jk1_by")
    np.testing.assert_allclose(by.contrast({"E": 1, "M": -1})["se"].iloc[0] ** 2, c[0, 0] + c[2, 2] - 2 * c[0, 2],
                               rtol=1e-8)


def test_with_replicates_covariance(rclus1):
    """A user's own statistic (here R's "math" quantile rule on each replicate) with its full
    replicate covariance, as R's ``vcov(withReplicates(...))``."""
    from estimation.quantile_rules import quantile_rule

    def quartiles(w, data):
        out = {}
        for v in ("api00", "api99"):
            x = data[v].to_numpy(dtype=float)
            order = np.argsort(x, kind="stable")
            order = order[w[order] > 0]  # the rule takes sorted values with positive weights
            for p in (0.25, 0.5):
                out[f"{v}:{p:g}"] = quantile_rule(x[order], w[order], p, "math")
        return out

    r = rclus1.with_replicates(quartiles, covariance=True)
    check_cov("quantile_rep_full_math", r, QNAMES)
    assert r.replicates.shape == (15, 4)
