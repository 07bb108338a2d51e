"""Models, tests and proportions on a raked design (linearised and JK1) against R."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import load_data
from test_glm_reference import check as check_glm
from test_replicates_reference import case

from estimation import SurveyDesign

RTOL = 1e-8
MARGINS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


@pytest.fixture(scope="module")
def raked():
    from weighting import Weights

    df = load_data("apiclus1")
    # R's rake default control: epsilon = 1 (weight units), maxit = 10
    w = Weights(df, "pw").rake(MARGINS, tol=1, tol_units="absolute", max_iter=10, variance="survey")
    return SurveyDesign(df, ids="dnum", weights=w, fpc="fpc")


def test_glm_on_raked_design(raked):
    check_glm(raked.glm("api00 ~ ell + meals"), "clus1_rake_glm")


def test_glm_on_raked_jk1_design_reweights_each_replicate(raked):
    check_glm(raked.replicate("JK1").glm("api00 ~ ell + meals"), "clus1_jk1_rake_glm")


def test_chisq_on_raked_design(raked):
    row = raked.chisq("stype", "awards").iloc[0]
    ref = case("clus1_rake_chisq_F")["values"][0]
    for col in ("statistic", "ndf", "ddf", "p_value"):
        np.testing.assert_allclose(row[col], ref[col], rtol=RTOL, err_msg=col)


def test_ciprop_likelihood_on_raked_design(raked):
    row = raked.proportion("awards", method="likelihood").iloc[1]
    ref = case("clus1_rake_ciprop_likelihood")["values"][0]
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(row[col], ref[col], rtol=RTOL, err_msg=col)
