"""More R survey 4.1 cases (tests/reference/weighting_cases.R): sinh and bounded raking
distances, strict trimming (rtol 1e-8)."""

import json

import numpy as np
import pytest
from wt_targets import POP_CAL, REF
from wt_variance import mean_and_se

from weighting import Weights

RTOL = 1e-8
CASES = {c["id"]: c for c in json.loads((REF / "weighting_cases.json").read_text())["cases"]}


@pytest.mark.parametrize(
    "case_id, method, bounds",
    [("weighting_clus1_calibrate_sinh", "sinh", (0.5, 2)),
     ("weighting_clus1_calibrate_raking_bounded", "raking", (0.6, 1.6))],
)
def test_more_distances(apiclus1, case_id, method, bounds):
    case = CASES[case_id]
    w = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds, tol=1e-12,
                                          max_iter=100)
    np.testing.assert_allclose(w.values[:5], case["note"]["weights_first5"], rtol=RTOL)
    g = w.values / w.base_values
    np.testing.assert_allclose([g.min(), g.max()], case["note"]["g_range"], rtol=RTOL)
    est, se = mean_and_se(apiclus1, w.values, "api00", None, apiclus1.dnum, apiclus1.fpc,
                          w.variance_records())
    ref = case["values"][0]
    np.testing.assert_allclose([est, se], [ref["estimate"], ref["se"]], rtol=RTOL)


def test_strict_trimming(apistrat):
    case = CASES["weighting_strat_trim_strict"]
    w = Weights(apistrat, "pw").trim(upper=35, lower=25, strict=True)
    note = case["note"]
    np.testing.assert_allclose(w.values.sum(), note["weights_sum"], rtol=RTOL)
    np.testing.assert_allclose([w.values.min(), w.values.max()], note["weights_range"], rtol=RTOL)
    np.testing.assert_allclose(w.values[:5], note["weights_first5"], rtol=RTOL)
    est, se = mean_and_se(apistrat, w.values, "api00", apistrat.stype, None, apistrat.fpc)
    ref = case["values"][0]
    np.testing.assert_allclose([est, se], [ref["estimate"], ref["se"]], rtol=RTOL)


def test_inverse_propensity_matches_r_glm(apistrat):
    """statsmodels' survey-weighted logistic fit against R's glm(quasibinomial, weights=pw)."""
    case = CASES["weighting_strat_propensity"]
    df = apistrat.assign(
        disp=np.where((apistrat.snum * 7919) % 100 < (apistrat.api00 - 300) / 6, 1, 2))
    assert int((df.disp == 1).sum()) == case["note"]["n_respondents"]
    w = Weights(df, "pw").adjust_propensity("disp", "api00 + C(stype)", method="inverse")
    np.testing.assert_allclose(w.values[:10], case["note"]["adjusted_first10"], rtol=1e-8)
    np.testing.assert_allclose(w.values.sum(), case["values"][0]["estimate"], rtol=1e-8)
