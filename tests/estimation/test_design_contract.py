"""The design refuses or warns instead of guessing: weights by label, read-only data, loud negatives."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from estimation.pps import HR, pps_dcheck
from surveycore import SurveyError, SurveyWarning


def _households() -> pd.DataFrame:
    return pd.DataFrame(
        {"ea": ["001", "001", "002", "002", "003", "003"], "wt": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
         "inc": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]},
        index=["hh07", "hh03", "hh11", "hh01", "hh05", "hh09"],
    )


def test_weight_series_is_matched_by_label():
    df = _households()
    shuffled = df["wt"].sample(frac=1.0, random_state=2)
    assert not shuffled.index.equals(df.index)
    by_label = SurveyDesign(df, ids="ea", weights=shuffled).mean("inc")
    by_column = SurveyDesign(df, ids="ea", weights="wt").mean("inc")
    pd.testing.assert_frame_equal(by_label, by_column)


def test_weight_series_with_other_labels_is_refused():
    df = _households()
    with pytest.raises(SurveyError, match="row labels"):
        SurveyDesign(df, ids="ea", weights=df["wt"].reset_index(drop=True))


def test_design_data_cannot_change_the_design():
    df = _households()
    d = SurveyDesign(df, ids="ea", weights="wt")
    before = d.mean("inc")
    view = d.data
    view["inc"] = 0.0
    view.loc["hh07", "wt"] = 1e6
    pd.testing.assert_frame_equal(d.mean("inc"), before)
    df.loc["hh07", "inc"] = -100.0  # nor can the caller's frame, once the design is declared
    pd.testing.assert_frame_equal(d.mean("inc"), before)


def _negative_ht() -> SurveyDesign:
    """Three units, π = 0.5, joint π = 0.15: Δ̌ = 1.17 I − 0.67 J is indefinite."""
    df = pd.DataFrame({"p": [0.5, 0.5, 0.5], "y": [2.0, 2.0, 2.0], "x": [1.0, -1.0, 0.0]})
    pij = np.full((3, 3), 0.15)
    np.fill_diagonal(pij, 0.5)
    return SurveyDesign(df, fpc="p", pps=pij)


def test_negative_horvitz_thompson_variance_is_nan_with_a_warning():
    d = _negative_ht()
    with pytest.warns(SurveyWarning, match="could not be computed .a negative Horvitz"):
        out = d.total(["y", "x"])
    # y̌ = 4 on every unit: 4² · 1ᵀΔ̌1 = 16 · 3 · (0.5 − 2·(1/3)) < 0
    assert np.isnan(out["se"].iloc[0]) and np.isnan(out["ci_low"].iloc[0])
    # x̌ = (2, −2, 0) has a positive quadratic form: its SE is the closed form x̌ᵀΔ̌x̌
    dcheck = pps_dcheck(np.where(np.eye(3) > 0, 0.5, 0.15), np.full(3, 0.5), d.stages[0])
    xc = np.array([2.0, -2.0, 0.0])
    np.testing.assert_allclose(out["se"].iloc[1], np.sqrt(xc @ dcheck @ xc), rtol=1e-12)
    assert "negative Horvitz–Thompson" in out.attrs["notes"][0]


def test_no_note_without_degradation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = SurveyDesign(_households(), ids="ea", weights="wt").mean("inc", by="ea")
    assert out.attrs["notes"] == []


def test_hartley_rao_zeroes_only_pairs_of_certainty_units():
    df = pd.DataFrame({"p": [1.0, 1.0, 0.3, 0.7], "y": [1.0, 2.0, 3.0, 4.0]})
    d = SurveyDesign(df, fpc="p", pps=HR(psum=0.5))
    D = pps_dcheck(HR(psum=0.5), df["p"].to_numpy(), d.stages[0])
    assert D[0, 1] == 0.0 and D[1, 0] == 0.0  # two certainty units
    n = 4
    # a certainty unit with a sampled one, and π_i + π_j = 1 (R zeroes the latter), by the formula
    np.testing.assert_allclose(D[0, 2], 1 - (n - 1.0 - 0.3 + 0.5) / (n - 1))
    np.testing.assert_allclose(D[2, 3], 1 - (n - 0.3 - 0.7 + 0.5) / (n - 1))
    np.testing.assert_allclose(np.diag(D), 1 - df["p"].to_numpy())


def test_hartley_rao_psum_per_stratum_is_checked():
    df = pd.DataFrame({"h": ["a", "a", "b", "b"], "p": [0.2, 0.4, 0.3, 0.5], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(SurveyError, match="no value"):
        SurveyDesign(df, strata="h", fpc="p", pps=HR(psum={"a": 0.2}))
    one = SurveyDesign(df, strata="h", fpc="p", pps=HR(psum={"a": 0.2, "b": 0.2})).total("y")
    same = SurveyDesign(df, strata="h", fpc="p", pps=HR(psum=0.2)).total("y")
    pd.testing.assert_frame_equal(one, same)


def test_single_psu_strata_rule_is_said_and_recorded():
    df = pd.DataFrame({"reg": ["N", "N", "N", "S", "S"], "ea": ["01", "01", "02", "07", "07"],
                       "wt": [5.0, 5.0, 6.0, 9.0, 9.0], "y": [1.0, 0.0, 1.0, 1.0, 0.0]})
    with pytest.warns(SurveyWarning, match=r"single PSU at stage 1 \(S\) handled by lonely_psu='adjust'"):
        d = SurveyDesign(df, ids="ea", strata="reg", weights="wt", lonely_psu="adjust")
    for out in (d.mean("y", by="reg"), d.proportion("y"), d.quantile("y", 0.5)):
        assert any("lonely_psu='adjust'" in note for note in out.attrs["notes"])


def test_design_degrees_of_freedom_by_name_for_every_estimator():
    """``df="design"`` is each domain's design df for means, totals, quantiles and proportions
    alike; any other word is refused by name."""
    df = pd.DataFrame({"st": ["a"] * 6 + ["b"] * 6, "ea": [f"{i:03d}" for i in np.repeat(np.arange(6), 2)],
                       "w": np.linspace(1, 2, 12), "y": np.arange(12.0), "mig": [True, False] * 6})
    d = SurveyDesign(df, ids="ea", strata="st", weights="w")
    for estimate in (lambda **k: d.mean("y", **k), lambda **k: d.proportion("mig", **k),
                     lambda **k: d.quantile("y", 0.5, **k)):
        by_name = estimate(df="design")
        np.testing.assert_allclose(by_name["ci_low"], estimate(df=float(d.degf()))["ci_low"], rtol=1e-12)
        with pytest.raises(SurveyError, match="degrees of freedom") as err:
            estimate(df="desing")
        assert err.value.argument == "df"


def test_a_single_unit_at_the_second_stage_is_named_by_its_first_stage_unit():
    df = pd.DataFrame({"region": ["N"] * 4 + ["S"] * 5, "ea": ["0101", "0101", "0102", "0102", "0201", "0201",
                                                                "0202", "0202", "0203"],
                       "hh": ["h01", "h02", "h03", "h04", "h05", "h06", "h07", "h08", "h09"],
                       "w": [30.0] * 9, "y": np.arange(9.0), "N": [10] * 9, "M": [20] * 9})
    with pytest.raises(SurveyError, match="stage 2") as err:
        SurveyDesign(df, ids=["ea", "hh"], strata="region", weights="w", fpc=["N", "M"])
    assert "S/0203" in str(err.value)
    with pytest.warns(SurveyWarning, match=r"stage 2 \(S/0203\)"):
        SurveyDesign(df, ids=["ea", "hh"], strata="region", weights="w", fpc=["N", "M"], lonely_psu="adjust")
