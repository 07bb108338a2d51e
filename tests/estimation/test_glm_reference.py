"""Design-based GLMs against R svyglm (coefficients, SEs, t, p, Wald intervals, df)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data
from test_replicates_reference import case, survey_design

from estimation import SurveyDesign
from estimation.glm import glm
from estimation.glm_fit import Family, irls
from surveycore.errors import SurveyError

RTOL = 1e-8
COLUMNS = {"estimate": "estimate", "se": "se", "statistic": "statistic", "p_value": "p_value",
           "ci_low": "ci_low", "ci_high": "ci_high", "df_resid": "df"}


def check(result, case_id, rtol=RTOL):
    table = result.table.set_index("variable")
    values = case(case_id)["values"]
    assert list(table.index) == [v["name"] for v in values]
    for ref in values:
        row = table.loc[ref["name"]]
        for key, col in COLUMNS.items():
            if key in ref:
                np.testing.assert_allclose(row[col], ref[key], rtol=rtol, err_msg=f"{case_id} {ref['name']} {key}")


@pytest.mark.parametrize(
    "design_case, formula, family, case_id",
    [
        ("strat_mean", "api00 ~ ell + meals + mobility", "gaussian", "strat_glm_gaussian"),
        ("strat_mean", "api00 ~ ell + meals + mobility", "gaussian", "strat_glm_gaussian_full"),
        ("strat_mean", "I(awards == 'Yes') ~ ell + meals", "quasibinomial", "strat_glm_logit"),
        ("strat_mean", "I(awards == 'Yes') ~ ell + meals", "binomial", "strat_glm_logit_full"),
        ("strat_mean", "enroll ~ stype + meals", "quasipoisson", "strat_glm_poisson"),
        ("strat_mean", "enroll ~ stype + meals", "poisson", "strat_glm_poisson"),
        ("clus1_mean", "api00 ~ ell + meals", "gaussian", "clus1_glm_gaussian"),
    ],
)
def test_glm_linearised(design_case, formula, family, case_id):
    check(survey_design(design_case).glm(formula, family=family), case_id)


def test_glm_replicate_design_refits_per_replicate():
    r = survey_design("clus1_mean").replicate("JK1")
    check(glm(r, "api00 ~ ell + meals"), "clus1_jk1_glm_gaussian")


def test_preprocessed_indicator_equals_I_expression():
    d = survey_design("strat_mean")
    df = d.data  # a copy: the column is added to it, then a design is declared on it
    df["award01"] = (df["awards"] == "Yes").astype(float)
    a = SurveyDesign(df, strata="stype", weights="pw", fpc="fpc").glm("award01 ~ ell + meals", family="quasibinomial").table
    b = d.glm("I(awards == 'Yes') ~ ell + meals", family="quasibinomial").table
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-12)


def test_dotted_names_and_intercept_only_mean():
    # an intercept-only gaussian model is the mean, with the mean's standard error
    d = survey_design("strat_mean")
    res = d.glm("api00 ~ 1")
    m = d.mean("api00")
    np.testing.assert_allclose(res.coef[0], m["estimate"].iloc[0], rtol=1e-12)
    np.testing.assert_allclose(res.se[0], m["se"].iloc[0], rtol=1e-10)
    res = d.glm("api00 ~ sch.wide")
    assert list(res.table["variable"]) == ["(Intercept)", "sch.wideYes"]


def test_irls_matches_weighted_least_squares():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(50), rng.normal(size=50)])
    y = X @ [1.0, 2.0] + rng.normal(size=50)
    w = rng.uniform(0.5, 2, 50)
    fit = irls(X, y, w, Family("gaussian"))
    expected = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * y))
    np.testing.assert_allclose(fit.coef, expected, rtol=1e-12)
    assert fit.converged


def test_bad_input():
    d = survey_design("strat_mean")
    with pytest.raises(SurveyError, match="family"):
        d.glm("api00 ~ ell", family="gamma")
    with pytest.raises(SurveyError, match=r"\[0, 1\]"):
        d.glm("api00 ~ ell", family="binomial")
    with pytest.raises(SurveyError, match="formula"):
        d.glm("api00 + ell")
    with pytest.raises(SurveyError, match="formula"):
        d.glm("api00 ~ nonexistent")
    df = load_data("apistrat")
    df.loc[3, "ell"] = np.nan
    dm = SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    with pytest.raises(SurveyError, match="missing"):
        dm.glm("api00 ~ ell")
    # outside a subset a missing value is harmless
    sub = dm.subset(pd.Series(np.arange(len(df)) != 3, index=df.index).to_numpy())
    assert np.isfinite(sub.glm("api00 ~ ell").se).all()


def test_glm_replicate_logit_subset_and_supplied():
    r = survey_design("clus1_mean").replicate("JK1")
    check(glm(r, "I(sch.wide == 'Yes') ~ ell + meals", family="quasibinomial"), "clus1_jk1_glm_logit")
    check(r.subset(r.data["stype"] == "E").glm("api00 ~ ell"), "clus1_jk1_glm_subset")
    from estimation.replicates import ReplicateDesign

    b = ReplicateDesign(load_data("apistrat_bootstrap50"), weights="pw", repweights="rw[0-9]+", type="bootstrap")
    check(b.glm("api00 ~ enroll"), "strat_bootstrap_given_glm")


@pytest.mark.parametrize("family, sm_family", [("quasibinomial", "Binomial"), ("quasipoisson", "Poisson")])
def test_coefficients_equal_statsmodels_weighted_glm(family, sm_family):
    import statsmodels.api as sm

    d = survey_design("strat_mean")
    formula = "I(awards == 'Yes') ~ ell + meals" if family == "quasibinomial" else "enroll ~ ell + meals"
    res = d.glm(formula, family=family)
    y = (d.data["awards"] == "Yes").to_numpy(float) if family == "quasibinomial" else d.data["enroll"].to_numpy(float)
    X = sm.add_constant(d.data[["ell", "meals"]].to_numpy(float))
    fit = sm.GLM(y, X, family=getattr(sm.families, sm_family)(), var_weights=d.weights / d.weights.mean()).fit(tol=1e-13)
    np.testing.assert_allclose(res.coef, fit.params, rtol=1e-7)
    np.testing.assert_allclose(res.naive_cov, fit.cov_params() / fit.scale, rtol=1e-5)


def test_two_level_categorical_response_is_second_level_success():
    d = survey_design("strat_mean")
    a = d.glm("awards ~ ell + meals", family="quasibinomial")
    check(a, "strat_glm_logit")
    with pytest.raises(SurveyError, match="one numeric column"):
        d.glm("stype ~ ell", family="quasibinomial")
