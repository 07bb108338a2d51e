"""Raking's linearised variance: the regression residual, the same as calibrate(method="raking")."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from weighting import Weights

TARGETS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


@pytest.fixture
def strat():
    return load_data("apistrat")


def _se(df, w):
    d = SurveyDesign(df, strata="stype", weights=w, fpc="fpc")
    return d.mean(["api00", "enroll"], by="awards")[["estimate", "se"]].to_numpy()


def test_rake_and_calibrate_raking_give_the_same_estimates_and_ses(strat):
    raked = Weights(strat, "pw").rake(TARGETS, tol=1e-12)
    calibrated = Weights(strat, "pw").calibrate(TARGETS, method="raking", tol=1e-12)
    np.testing.assert_allclose(raked.values, calibrated.values, rtol=1e-9)
    np.testing.assert_allclose(_se(strat, raked), _se(strat, calibrated), rtol=1e-7)


def test_survey_record_reproduces_r_only_with_equal_weights_within_levels(strat):
    # unequal weights within sch.wide levels: R's back-fitting record differs from the
    # regression residual (it is an approximation), so both options stay available
    unequal = strat.assign(pw=strat["pw"] * np.where(strat["api00"] > 650, 1.3, 0.8))
    regression = Weights(unequal, "pw").rake(TARGETS, tol=1e-12)
    survey = Weights(unequal, "pw").rake(TARGETS, tol=1e-12, variance="survey")
    np.testing.assert_allclose(regression.values, survey.values, rtol=1e-12)
    se_reg, se_r = _se(unequal, regression)[:, 1], _se(unequal, survey)[:, 1]
    assert not np.allclose(se_reg, se_r, rtol=1e-3)
