"""Trimming: caps, redistribution, trim-then-recalibrate."""

import numpy as np
import pytest
from wt_targets import POP_CAL, POP_SW, POP_TYPES

from surveycore import SurveyError
from weighting import Weights


def test_relative_caps(apistrat):
    w = Weights(apistrat, "pw").trim(upper=1.2, relative_to="mean", strict=True)
    mean = apistrat.pw.mean()
    assert w.values.max() <= 1.2 * mean * (1 + 1e-12)
    np.testing.assert_allclose(w.values.sum(), apistrat.pw.sum())


def test_proportional_and_none(apistrat):
    p = Weights(apistrat, "pw").trim(upper=40, redistribute="proportional", strict=True)
    np.testing.assert_allclose(p.values.sum(), apistrat.pw.sum())
    assert p.values.max() <= 40 + 1e-9
    n = Weights(apistrat, "pw").trim(upper=40, redistribute="none")
    np.testing.assert_allclose(n.values, np.minimum(apistrat.pw, 40))


def test_trim_calibrate_meets_caps_and_targets(apiclus1):
    cal = Weights(apiclus1, "pw").calibrate(POP_CAL)
    w = cal.trim_calibrate(upper=55, lower=20)
    assert w.values.max() <= 55 * (1 + 1e-8) and w.values.min() >= 20 * (1 - 1e-8)
    for level, total in POP_CAL["stype"].items():
        np.testing.assert_allclose(w.values[apiclus1.stype.to_numpy() == level].sum(), total,
                                   rtol=1e-8)
    np.testing.assert_allclose(w.values @ apiclus1.api99.to_numpy(), POP_CAL["api99"], rtol=1e-8)
    assert w.history[-1].iterations >= 1
    np.testing.assert_allclose(w.replay(w.base_values), w.values, rtol=1e-10)


def test_trim_calibrate_after_rake(apiclus1):
    w = Weights(apiclus1, "pw").rake({**POP_TYPES, **POP_SW}).trim_calibrate(upper=60)
    assert w.values.max() <= 60 * (1 + 1e-8)
    for var, spec in {**POP_TYPES, **POP_SW}.items():
        for level, total in spec.items():
            np.testing.assert_allclose(w.values[apiclus1[var].to_numpy() == level].sum(), total,
                                       rtol=1e-8)


def test_trim_calibrate_refuses_impossible_caps(apiclus1):
    cal = Weights(apiclus1, "pw").calibrate(POP_CAL)
    with pytest.raises(SurveyError, match="did not settle"):
        cal.trim_calibrate(upper=50, lower=18)  # every H school would need more than 50
    with pytest.raises(SurveyError, match="needs a calibration"):
        Weights(apiclus1, "pw").trim_calibrate(upper=40)


def test_summary_frames(apiclus1):
    w = Weights(apiclus1, "pw").rake({**POP_TYPES, **POP_SW}).trim(upper=60)
    s = w.summary()
    assert set(s) == {"steps", "targets", "g", "convergence", "notes"}
    assert list(s["steps"].step) == ["base", "rake", "trim"]
    assert {"deff_kish_after", "n_eff_after", "cv_after"} <= set(s["steps"].columns)
    t = s["targets"]
    assert set(t.margin) == {"stype", "sch.wide"} and (t.level != "").all()
    assert not s["convergence"].empty
    n = len(apiclus1)
    v = w.values
    np.testing.assert_allclose(s["steps"].n_eff_after.iloc[-1], v.sum() ** 2 / (v**2).sum())
    np.testing.assert_allclose(s["steps"].deff_kish_after.iloc[-1], n * (v**2).sum() / v.sum() ** 2)
