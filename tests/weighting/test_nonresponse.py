"""Eligibility and nonresponse adjustments against hand computations."""

import numpy as np
import pandas as pd
import pytest

from surveycore import SurveyError
from weighting import Weights


@pytest.fixture
def toy():
    # AAPOR final dispositions: 1.1 complete, 2.11 refusal, 3.13 unknown, 4.7 not eligible
    return pd.DataFrame({
        "cls": ["a"] * 6 + ["b"] * 6,
        "disp": [1.1, 1.1, 2.11, 3.13, 4.7, 1.1, 1.1, 2.11, 2.11, 1.1, 3.13, 1.1],
        "w": [10.0, 20, 30, 40, 50, 60, 5, 5, 10, 10, 20, 30],
    })


def test_eligibility_spreads_unknown_weight_within_classes(toy):
    w = Weights(toy, "w").adjust_eligibility("disp", by="cls")
    a = toy.cls == "a"
    f_a = toy.w[a].sum() / toy.w[a & (toy.disp != 3.13)].sum()
    np.testing.assert_allclose(w.values[0], 10 * f_a)
    assert w.values[3] == 0 and w.values[10] == 0
    np.testing.assert_allclose(w.values.sum(), toy.w.sum())


def test_weighting_class_adjustment(toy):
    w = (Weights(toy, "w").adjust_eligibility("disp", by="cls")
         .adjust_nonresponse("disp", by="cls", min_respondents=1))
    v = w.values
    before = Weights(toy, "w").adjust_eligibility("disp", by="cls").values
    for c in ("a", "b"):
        m = (toy.cls == c).to_numpy()
        resp = m & (np.floor(toy.disp) == 1).to_numpy()
        elig = m & np.isin(np.floor(toy.disp), [1, 2])
        np.testing.assert_allclose(v[resp].sum(), before[elig].sum())
    assert (v[np.floor(toy.disp) == 2] == 0).all()
    np.testing.assert_allclose(v[4], before[4])  # ineligible keeps its weight


def test_small_classes_are_collapsed_and_recorded(toy):
    w = (Weights(toy, "w").adjust_eligibility("disp")
         .adjust_nonresponse("disp", by="cls", min_respondents=4))
    assert w.history[-1].params["classes"] == ["a+b"]
    assert any("merged" in n for n in w.history[-1].notes)
    assert not w.summary()["notes"].empty


def test_explicit_codes_and_unmapped_codes(toy):
    codes = {"respondent": [1.1], "nonrespondent": [2.11], "unknown": [3.13],
             "ineligible": [4.7]}
    a = Weights(toy, "w").adjust_eligibility("disp", codes=codes)
    b = Weights(toy, "w").adjust_eligibility("disp")
    np.testing.assert_allclose(a.values, b.values)
    with pytest.raises(SurveyError, match="without a category"):
        Weights(toy, "w").adjust_eligibility("disp", codes={"respondent": [1.1]})


def test_nonresponse_requires_eligibility_first(toy):
    with pytest.raises(SurveyError, match="adjust_eligibility"):
        Weights(toy, "w").adjust_nonresponse("disp", min_respondents=1)


def test_propensity_intercept_only_equals_one_class(apistrat):
    rng = np.random.default_rng(5)
    df = apistrat.assign(disp=np.where(rng.uniform(size=len(apistrat)) < 0.7, 1, 2))
    a = Weights(df, "pw").adjust_propensity("disp", "1", method="inverse")
    b = Weights(df, "pw").adjust_nonresponse("disp", min_respondents=1)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-8)


def test_propensity_classes_preserve_eligible_weight(apistrat):
    rng = np.random.default_rng(6)
    p = 1 / (1 + np.exp(-(apistrat.api00 - 650) / 80))
    df = apistrat.assign(disp=np.where(rng.uniform(size=len(apistrat)) < p, 1, 2))
    w = Weights(df, "pw").adjust_propensity("disp", "api00 + C(stype)", n_classes=4,
                                            min_respondents=5)
    np.testing.assert_allclose(w.values.sum(), apistrat.pw.sum())
    assert (w.values[df.disp.to_numpy() == 2] == 0).all()
    np.testing.assert_allclose(w.replay(w.base_values), w.values, rtol=1e-12)
