"""Strict trimming against R survey's trimWeights(strict=TRUE), closed forms, and caps that
cannot keep the weight total."""

import json

import numpy as np
import pandas as pd
import pytest
from wt_targets import REF

from surveycore import SurveyError
from weighting import Weights

CASES = json.loads((REF / "trim_strict.json").read_text())
I = np.arange(1, 301)
SETS = {"even": 20 + 0.6 * ((I * 37) % 101), "skewed": 5 + ((I * I) % 97) ** 2 / 50}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['set']}-{c['lower']}-{c['upper']}")
def test_strict_equal_is_r_trimweights(case):
    w = SETS[case["set"]]
    np.testing.assert_allclose(w, case["input"], rtol=1e-15)
    df = pd.DataFrame({"peso_final": w, "id_hogar": [f"{k:05d}" for k in I]})
    out = Weights(df, "peso_final").trim(lower=case["lower"], upper=case["upper"], strict=True)
    np.testing.assert_allclose(out.values, case["weights"], rtol=1e-8)
    assert out.values.min() >= case["lower"] - 1e-9 and out.values.max() <= case["upper"] + 1e-9
    np.testing.assert_allclose(out.values.sum(), w.sum(), rtol=1e-12)


def test_strict_proportional_is_capped_scaling():
    """``clip(F·w, lower, upper)`` with one factor F keeping the total: the rows strictly inside
    the caps share one ratio new/old, the others sit on a cap."""
    w = SETS["skewed"]
    out = Weights(pd.DataFrame({"w": w}), "w").trim(lower=10, upper=120,
                                                     redistribute="proportional", strict=True)
    v = out.values
    np.testing.assert_allclose(v.sum(), w.sum(), rtol=1e-12)
    inside = (v > 10 + 1e-9) & (v < 120 - 1e-9)
    f = v[inside] / w[inside]
    np.testing.assert_allclose(f, f[0], rtol=1e-12)
    np.testing.assert_allclose(v, np.clip(f[0] * w, 10, 120), rtol=1e-12)


@pytest.mark.parametrize(
    "kw, argument",
    [({"upper": 35}, "upper"),                     # 5 × 35 = 175 < 200
     ({"lower": 45, "upper": 200}, "lower"),       # 5 × 45 = 225 > 200
     ({"upper": 0.8, "relative_to": "mean"}, "upper")],
)
@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("redistribute", ["equal", "proportional"])
def test_caps_that_cannot_keep_the_total_are_refused(kw, argument, strict, redistribute):
    df = pd.DataFrame({"w": [10.0, 20.0, 30.0, 40.0, 100.0]})
    with pytest.raises(SurveyError, match="keep the weight total") as info:
        Weights(df, "w").trim(strict=strict, redistribute=redistribute, **kw)
    assert info.value.argument == argument
    assert df["w"].tolist() == [10.0, 20.0, 30.0, 40.0, 100.0]


def test_caps_at_the_mean_give_equal_weights_and_none_keeps_the_loss():
    df = pd.DataFrame({"w": [10.0, 20.0, 30.0, 40.0, 100.0]})
    np.testing.assert_allclose(Weights(df, "w").trim(upper=40, strict=True).values, 40.0)
    np.testing.assert_allclose(Weights(df, "w").trim(upper=35, redistribute="none").values,
                               [10, 20, 30, 35, 35])


def test_one_round_that_cannot_give_back_is_refused():
    # both weights are outside [20, 50]: one round has no row to give the weight to
    df = pd.DataFrame({"w": [10.0, 70.0]})
    with pytest.raises(SurveyError, match="one round") as info:
        Weights(df, "w").trim(lower=20, upper=50)
    assert info.value.argument == "strict"
    np.testing.assert_allclose(Weights(df, "w").trim(lower=20, upper=50, strict=True).values,
                               [30, 50])


def test_zero_weights_stay_zero_and_equal_removing_the_row():
    w = SETS["even"]
    with_zeros = np.concatenate([w, np.zeros(7)])
    a = Weights(pd.DataFrame({"w": with_zeros}), "w").trim(lower=30, upper=55, strict=True)
    b = Weights(pd.DataFrame({"w": w}), "w").trim(lower=30, upper=55, strict=True)
    np.testing.assert_allclose(a.values[:300], b.values, rtol=1e-12)
    assert (a.values[300:] == 0).all()


def test_replicate_columns_trim_like_the_full_sample():
    w = SETS["even"]
    W = Weights(pd.DataFrame({"w": w}), "w").trim(lower=30, upper=55, strict=True)
    reps = np.column_stack([w, w * 1.05, np.r_[w[:150] * 1.02, np.zeros(150)]])
    out = W.replay(reps)
    for j in range(3):
        one = Weights(pd.DataFrame({"w": reps[:, j]}), "w").trim(lower=30, upper=55, strict=True)
        np.testing.assert_allclose(out[:, j], one.values, rtol=1e-12)
    with pytest.raises(SurveyError, match="replicate column 2"):
        W.replay(np.column_stack([w, w * 3]))



def _r_recursion(w, lower, upper):
    """R survey's trimWeights(strict=TRUE), written as its loop. It stops when nothing is
    outside the caps by more than rounding (R's exact test can cycle on a rounding error of the
    trimmed sum and then ends with a stack overflow)."""
    pw = w.copy()
    for _ in range(100_000):
        outside = (pw < lower * (1 - 1e-12)) | (pw > upper * (1 + 1e-12))
        if not outside.any():
            return pw
        new = np.clip(pw, lower, upper)
        new[~outside] += (pw - new).sum() / (~outside).sum()
        pw = new
    raise AssertionError("no fixed point")


def test_strict_equal_is_the_limit_of_the_recursion_on_random_files():
    rng = np.random.default_rng(20)
    for _ in range(40):
        n = int(rng.integers(5, 60))
        w = rng.lognormal(3, 0.8, n).round(2)
        mean = w.mean()
        lower = float(rng.uniform(0.2, 0.95) * mean)
        upper = float(rng.uniform(1.05, 2.5) * mean)
        if ((w < lower) | (w > upper)).all():
            continue  # R has no row to give the trimmed weight to
        got = Weights(pd.DataFrame({"w": w}), "w").trim(lower=lower, upper=upper,
                                                          strict=True).values
        np.testing.assert_allclose(got, _r_recursion(w, lower, upper), rtol=1e-8)
