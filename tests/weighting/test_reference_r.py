"""Weights and calibration-credited SEs against R survey 4.1 (rtol 1e-8)."""

import numpy as np
import pandas as pd
import pytest
from wt_targets import POP_CAL, POP_SW, POP_TYPES
from wt_variance import mean_and_se, total_and_se

from weighting import Weights

RTOL = 1e-8


def _value(case, name):
    return next(v for v in case["values"] if v["name"] == name)


def _check(case, name, est, se):
    ref = _value(case, name)
    np.testing.assert_allclose(est, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(se, ref["se"], rtol=RTOL)


def _r_rake(df):
    # R's rake() defaults: epsilon = 1 (weight units), maxit = 10
    return Weights(df, "pw").rake({**POP_TYPES, **POP_SW}, tol=1, tol_units="absolute", variance="survey",
                                  max_iter=10)


def test_strat_poststratify(apistrat, rcases):
    case = rcases["strat_poststratify"]
    w = Weights(apistrat, "pw").poststratify(POP_TYPES)
    for y in ("api00", "enroll"):
        est, se = mean_and_se(apistrat, w.values, y, apistrat.stype, None, apistrat.fpc,
                              w.variance_records())
        _check(case, y, est, se)


def test_clus1_rake(apiclus1, rcases):
    case = rcases["clus1_rake"]
    w = _r_rake(apiclus1)
    np.testing.assert_allclose(w.values[:5], case["note"]["weights_first5"], rtol=RTOL)
    np.testing.assert_allclose(w.values.sum(), case["note"]["weights_sum"], rtol=RTOL)
    rec = w.variance_records()
    _check(case, "api00", *mean_and_se(apiclus1, w.values, "api00", None, apiclus1.dnum,
                                       apiclus1.fpc, rec))
    _check(case, "enroll", *total_and_se(apiclus1, w.values, "enroll", None, apiclus1.dnum,
                                         apiclus1.fpc, rec))


@pytest.mark.parametrize(
    "case_id, method, bounds",
    [
        ("clus1_calibrate_linear", "linear", None),
        ("clus1_calibrate_linear_bounded", "linear", (0.5, 1.8)),
        ("clus1_calibrate_raking", "raking", None),
        ("clus1_calibrate_logit", "logit", (0.7, 1.7)),
    ],
)
def test_clus1_calibrate(apiclus1, rcases, case_id, method, bounds):
    case = rcases[case_id]
    w = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds)
    note = case["note"] or {}
    if "weights_first5" in note:
        np.testing.assert_allclose(w.values[:5], note["weights_first5"], rtol=RTOL)
    if "g_range" in note:
        g = w.values / w.base_values
        np.testing.assert_allclose([g.min(), g.max()], note["g_range"], rtol=RTOL)
    rec = w.variance_records()
    _check(case, "api00", *mean_and_se(apiclus1, w.values, "api00", None, apiclus1.dnum,
                                       apiclus1.fpc, rec))
    if any(v["name"] == "enroll" for v in case["values"]):
        _check(case, "enroll", *total_and_se(apiclus1, w.values, "enroll", None, apiclus1.dnum,
                                             apiclus1.fpc, rec))


def test_strat_trim(apistrat, rcases):
    case = rcases["strat_trim"]
    w = Weights(apistrat, "pw").trim(upper=40, lower=20)
    np.testing.assert_allclose(w.values.sum(), case["note"]["weights_sum"], rtol=RTOL)
    np.testing.assert_allclose([w.values.min(), w.values.max()], case["note"]["weights_range"],
                               rtol=RTOL)
    assert w.variance_records() == []
    _check(case, "api00", *mean_and_se(apistrat, w.values, "api00", apistrat.stype, None,
                                       apistrat.fpc))


def test_clus1_jk1_rake_mean(apiclus1, rcases):
    """JK1 replicates of the cluster design, each re-raked by replay (R: rake on svrepdesign)."""
    case = rcases["clus1_jk1_rake_mean"]
    w = _r_rake(apiclus1)
    codes, uniq = pd.factorize(apiclus1.dnum)
    n = uniq.size
    factors = np.full((len(apiclus1), n), n / (n - 1))
    factors[np.arange(len(apiclus1)), codes] = 0.0
    reps = w.replay(w.base_values[:, None] * factors)
    y = apiclus1.api00.to_numpy()
    theta = reps.T @ y / reps.sum(axis=0)
    fpc = (apiclus1.fpc.iloc[0] - n) / apiclus1.fpc.iloc[0]
    se = np.sqrt(fpc * (n - 1) / n * ((theta - theta.mean()) ** 2).sum())
    est = w.values @ y / w.values.sum()
    _check(case, "api00", est, se)
