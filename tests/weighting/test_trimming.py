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
    assert set(s) == {"steps", "targets", "g", "convergence", "notes", "warnings"}
    assert list(s["steps"].step) == ["base", "rake", "trim"]
    assert {"deff_kish_after", "n_eff_after", "cv_after"} <= set(s["steps"].columns)
    t = s["targets"]
    assert set(t.margin) == {"stype", "sch.wide"} and (t.level != "").all()
    assert not s["convergence"].empty
    n = len(apiclus1)
    v = w.values
    np.testing.assert_allclose(s["steps"].n_eff_after.iloc[-1], v.sum() ** 2 / (v**2).sum())
    np.testing.assert_allclose(s["steps"].deff_kish_after.iloc[-1], n * (v**2).sum() / v.sum() ** 2)


@pytest.mark.parametrize("first", ["calibrate", "rake", "poststratify"])
def test_trim_calibrate_renews_the_variance_record(apiclus1, first):
    from estimation import SurveyDesign

    base = Weights(apiclus1, "pw")
    if first == "calibrate":
        cal, upper = base.calibrate(POP_CAL), 55
    elif first == "rake":
        cal, upper = base.rake({**POP_TYPES, **POP_SW}), 60
    else:  # weights that vary within the post-strata
        varied = apiclus1.pw.to_numpy() * (0.6 + 0.2 * (np.arange(len(apiclus1)) % 5))
        cal, upper = Weights(apiclus1, varied).poststratify(POP_TYPES), 70
    w = cal.trim_calibrate(upper=upper)
    assert w.history[-1].notes[0] != "0 weights held at a cap"
    d = SurveyDesign(apiclus1, ids="dnum", fpc="fpc", weights=w)
    # a calibration total is known: its linearised SE is zero after the recalibration too
    se = d.total("stype")["se"].to_numpy()
    assert np.all(np.abs(se) < 1e-6 * apiclus1.pw.sum())
    # other totals: residuals on the calibration variables with the final g-weights, written
    # out with numpy's least squares (g = final / weights before the calibration)
    x0 = cal.history[-1].before_values
    g = w.values / x0
    X = np.column_stack([(apiclus1.stype == s).to_numpy(float) for s in "EHM"]
                        + ([apiclus1.api99.to_numpy(float)] if first == "calibrate" else [])
                        + ([(apiclus1["sch.wide"] == "Yes").to_numpy(float)]
                           if first == "rake" else []))
    y = apiclus1.enroll.to_numpy(float)
    A = X * np.sqrt(x0)[:, None]
    v = g * np.sqrt(x0)
    z = w.values * y / v
    e = (z - A @ np.linalg.lstsq(A, z, rcond=None)[0]) * v
    psu = apiclus1.dnum.to_numpy()
    tot = np.array([e[psu == p].sum() for p in np.unique(psu)])
    n = tot.size
    fpc = 1 - n / apiclus1.fpc.iloc[0]
    var = fpc * n / (n - 1) * ((tot - tot.mean()) ** 2).sum()
    assert d.total("enroll")["se"].iloc[0] == pytest.approx(np.sqrt(var), rel=1e-8)


def test_extreme_g_weights_warn_and_are_recorded(apiclus1):
    from surveycore import SurveyWarning

    with pytest.warns(SurveyWarning, match="g-weights outside"):
        w = Weights(apiclus1, "pw").poststratify({"stype": {"E": 4421, "H": 9000, "M": 1018}})
    rows = w.summary()["warnings"]
    assert list(rows["step"]) == ["poststratify"]
    assert w.history[-1].warnings == tuple(rows["warning"])
    g = w.values / apiclus1.pw.to_numpy()
    assert f"{g.max():.4g}" in rows["warning"].iloc[0]


def test_separated_response_model_warns(apiclus1):
    from surveycore import SurveyWarning

    df = apiclus1.assign(disp=np.where(apiclus1.api00 > 650, 1.1, 2.1))
    with pytest.warns(SurveyWarning, match="separates respondents"):
        w = Weights(df, "pw").adjust_propensity("disp", "api00", method="classes",
                                                n_classes=2, min_respondents=1)
    assert "separates" in w.summary()["warnings"]["warning"].iloc[0]


def test_trim_calibrate_names_the_cap_that_binds():
    """Targets out of reach inside the caps: the refusal names the cap the rows are held at
    (an upper cap alone is never reported as ``lower``)."""
    import pandas as pd

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"g": rng.choice(["a", "b"], 200, p=[0.9, 0.1]),
                       "w": rng.uniform(5, 15, 200)})
    with pytest.warns(Warning):
        cal = Weights(df, "w").calibrate({"g": {"a": 900, "b": 4000}})  # b needs w ≈ 200
    with pytest.raises(SurveyError) as info:
        cal.trim_calibrate(upper=40)
    assert info.value.argument == "upper"
    with pytest.raises(SurveyError) as info:
        cal.trim_calibrate(lower=30, upper=1000)  # a needs w ≈ 5
    assert info.value.argument == "lower"
