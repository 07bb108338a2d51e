"""Reliability flags: presets at their band limits, custom rules, bad rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.indicators import PRESETS, QualityRule, flag_quality
from surveycore import SurveyError


def assess(rule, cv, n=1000):
    flag, rel = PRESETS[rule].assess(np.atleast_1d(cv), np.full(np.size(cv), n))
    return list(flag), list(rel)


def test_statcan_letters_at_band_limits():
    cv = [0.0, 0.0499, 0.05, 0.0999, 0.10, 0.1499, 0.15, 0.2499, 0.25, 0.3499, 0.35, 2.0]
    flag, rel = assess("statcan", cv)
    assert flag == ["A", "A", "B", "B", "C", "C", "D", "D", "E", "E", "F", "F"]
    assert rel[:8] == ["reliable"] * 8 and rel[8:10] == ["caution"] * 2
    assert rel[10:] == ["unreliable"] * 2


def test_statcan_cchs_inclusive_limits_and_minimum_n():
    flag, rel = assess("statcan_cchs", [0.165, 0.166, 0.333, 0.334])
    assert rel == ["reliable", "caution", "caution", "unreliable"]
    assert flag == ["", "E", "E", "F"]
    f, r = PRESETS["statcan_cchs"].assess(np.array([0.01, 0.01]), np.array([9, 10]))
    assert list(r) == ["unreliable", "reliable"] and list(f) == ["F", ""]


def test_abs_rse():
    flag, rel = assess("abs", [0.10, 0.25, 0.2501, 0.50, 0.5001])
    assert flag == ["", "", "*", "*", "**"]
    assert rel == ["reliable", "reliable", "caution", "caution", "unreliable"]


def test_eurostat_sample_size_limits():
    f, r = PRESETS["eurostat"].assess(np.full(5, 0.9), np.array([5, 19, 20, 49, 50]))
    assert list(r) == ["unreliable", "unreliable", "caution", "caution", "reliable"]
    assert list(f) == ["u", "u", "u", "u", ""]


def test_undefined_cv_judged_on_n_only():
    f, r = PRESETS["statcan_cchs"].assess(np.array([np.nan, np.nan]), np.array([3, 30]))
    assert list(r) == ["unreliable", "reliable"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_unknown_precision_is_never_reliable(preset):
    """A zero from no observation, or an SE that cannot be computed, is never 'reliable'."""
    rule = PRESETS[preset]
    _, r = rule.assess(np.array([np.nan, 0.0, np.nan]), np.array([0, 0, np.nan]))
    assert list(r) == ["unreliable"] * 3
    if not rule.n_bands:  # a rule of CVs only cannot judge 0/0 by the sample size
        _, r = rule.assess(np.array([np.nan]), np.array([500]))
        assert list(r) == ["unreliable"]
    table = pd.DataFrame({"estimate": [120.0, 80.0], "se": [np.nan, 4.0], "cv": [np.nan, 0.05], "n": [400, 400]})
    assert flag_quality(table, rule)["reliability"].tolist()[0] == "unreliable"


def test_custom_rule_and_flag_quality_returns_new_frame():
    rule = QualityRule.custom(caution_cv=0.2, unreliable_cv=0.3, min_n=30, caution_n=50)
    t = pd.DataFrame({"cv": [0.1, 0.25, 0.31, 0.1, 0.1], "n": [100, 100, 100, 20, 40]})
    before = t.copy()
    out = flag_quality(t, rule)
    pd.testing.assert_frame_equal(t, before)
    assert list(out["reliability"]) == ["reliable", "caution", "unreliable", "unreliable", "caution"]
    assert list(out["flag"]) == ["", "E", "F", "F", "E"]
    # an n band never improves a worse CV class
    f, r = QualityRule.custom(caution_cv=0.2, unreliable_cv=0.3, caution_n=50).assess(
        np.array([0.5]), np.array([10]))
    assert list(r) == ["unreliable"]


def test_bad_rules_and_names():
    with pytest.raises(SurveyError, match="quality"):
        flag_quality(pd.DataFrame({"cv": [0.1], "n": [1]}), "oecd")
    with pytest.raises(SurveyError, match="increasing"):
        QualityRule("x", cv_bands=((0.3, "", "reliable"), (0.2, "E", "caution"),
                                   (np.inf, "F", "unreliable")))
    with pytest.raises(SurveyError, match="open-ended"):
        QualityRule("x", cv_bands=((0.3, "", "reliable"),))
    with pytest.raises(SurveyError):
        QualityRule("x", cv_bands=((np.inf, "", "fine"),))
    with pytest.raises(SurveyError):
        QualityRule.custom(caution_cv=0.3, unreliable_cv=0.2)
    with pytest.raises(SurveyError, match="not found"):
        flag_quality(pd.DataFrame({"cv": [0.1]}), "abs")


def test_sample_size_rule_matches_eurostat_preset():
    rule = QualityRule.sample_size(unreliable_below=20, caution_below=50)
    n = np.array([5, 19, 20, 49, 50, 500])
    cv = np.full(6, 0.7)
    np.testing.assert_array_equal(rule.assess(cv, n)[1], PRESETS["eurostat"].assess(cv, n)[1])
    with pytest.raises(SurveyError):
        QualityRule.sample_size(unreliable_below=50, caution_below=20)


def test_unknown_df_and_renamed_se_columns_are_never_reliable():
    t = pd.DataFrame({"estimate": [0.3, 0.3], "std_error": [np.nan, 0.01], "cv": [0.03, 0.03],
                      "n": [60, 60], "df": [np.nan, 30.0]})
    for preset in PRESETS:
        out = flag_quality(t, preset, se="std_error")
        assert out["reliability"].tolist()[0] == "unreliable"  # unknown df and no SE
        assert out["reliability"].tolist()[1] != "unreliable" or preset == "eurostat"


def test_few_degrees_of_freedom_flag_caution_after_the_nchs_standard():
    # NCHS data presentation standards: fewer than 8 degrees of freedom -> flagged
    table = pd.DataFrame({"Domain": ["Mazowieckie", "Podlaskie", "Opolskie", "Lubuskie",
                                     "Pomorskie", "Slaskie"],
                          "rel_se": [0.05, 0.05, 0.05, 0.05, 0.20, 0.50],
                          "obs": [400, 60, 50, 30, 40, 40],
                          "design_df": [30, 8, 7, 0, 3, 3],
                          "se": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    rule = PRESETS["statcan_cchs"].with_df_limit(8)
    assert rule.df_bands == ((8, "E", "caution"),) and rule.name == "statcan_cchs"
    out = flag_quality(table, rule, cv="rel_se", n="obs", df="design_df")
    assert out["reliability"].tolist() == ["reliable", "reliable", "caution", "unreliable",
                                           "caution", "unreliable"]
    assert out["flag"].tolist() == ["", "", "E", "F", "E", "F"]
    assert "design_df" in table.columns and "flag" not in table.columns  # input unchanged
    # without degrees of freedom in the table the band has nothing to judge
    plain = flag_quality(table.drop(columns="design_df"), rule, cv="rel_se", n="obs")
    assert plain["reliability"].tolist()[:3] == ["reliable"] * 3
    custom = QualityRule.custom(caution_cv=0.15, unreliable_cv=0.3, caution_df=12)
    f, r = custom.assess(np.array([0.1, 0.1]), np.array([100, 100]), np.array([11, 12]))
    assert list(r) == ["caution", "reliable"] and list(f) == ["E", ""]
    assert custom.describe()["df_bands"] == [[12, "E", "caution"]]
    assert PRESETS["eurostat"].with_df_limit(8).df_bands == ((8, "u", "caution"),)


@pytest.mark.parametrize("minimum", [0, 2.5, True, "8"])
def test_bad_df_band_is_refused(minimum):
    with pytest.raises(SurveyError) as info:
        QualityRule("x", cv_bands=((np.inf, "", "reliable"),),
                    df_bands=((minimum, "E", "caution"),))
    assert info.value.argument == "df_bands"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_infinite_se_or_cv_is_unreliable_under_every_preset(preset):
    """An infinite SE (or CV) measures no precision: unreliable even under the sample-size rule
    ``eurostat``, which reads no CV, and even with 50 observations and 30 degrees of freedom."""
    table = pd.DataFrame({"estimate": [5.0, 5.0, 0.0, 5.0], "se": [np.inf, np.nan, 2.0, 1.0],
                          "cv": [np.inf, np.nan, np.inf, 0.2], "n": [50, 50, 50, 50],
                          "df": [30, 30, 30, 30]})
    out = flag_quality(table, preset)
    rule = PRESETS[preset]
    assert out["reliability"].tolist()[:3] == ["unreliable"] * 3
    assert out["flag"].tolist()[:3] == [rule.unreliable_flag] * 3
    # the finite row keeps its ordinary class (eurostat: 50 observations are enough)
    if preset == "eurostat":
        assert out["reliability"].tolist()[3] == "reliable"
