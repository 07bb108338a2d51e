"""Every case of the hostile-input table: refused with a SurveyError (or warned, or answered
right where the input is valid); never NaN, infinity or a library's internal error."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile_data import MARGINS, design, design_frame, module_text

import questionnaires
from estimation import ReplicateDesign, SurveyDesign, indicator_table
from sampling import Frame, allocate, select
from sampling.sample_size import mics_sample_size, sample_size
from sampling.stratify import prevalence_strata
from surveycore import SurveyError, SurveyWarning
from weighting import Weights

N_H = pd.Series({"a": 10, "b": 20, "c": 30})


def _ea_frame(fb=None, persons=None):
    fb = [1, 2, 5, 12, 0, 3] if fb is None else fb
    persons = [50, 40, 30, 0, 60, 45] if persons is None else persons
    return Frame(pd.DataFrame({"ea": ["0001", "0002", "0003", "0004", "0005", "0006"],
                               "fb": fb, "persons": persons}), "ea")


def _with(**cols):
    return design_frame().assign(**cols)


def _replicate():
    df = design_frame()
    rng = np.random.default_rng(1)
    for r in range(4):
        df[f"rw{r}"] = df["w"] * rng.uniform(0.5, 1.5, len(df))
    return ReplicateDesign(df, weights="w", repweights="rw[0-9]+", type="bootstrap")


# -- A. silent wrong or meaningless answers → refused (or warned) -------------------------------
REFUSED = {
    "04_W40_trim_below_all": lambda: Weights(design_frame(), "w").trim(upper=0.5),
    "05_S37_alloc_power_nan": lambda: allocate(N_H, 30, "power", measure=N_H, power=np.nan),
    "06_S36_alloc_power_neg": lambda: allocate(N_H, 30, "power", measure=N_H, power=-1),
    "07_D46_ratio_zero_den": lambda: design(_with(z=0.0)).ratio("y", "z"),
    "07_D47_ratio_zero_den_domain": lambda: design(
        _with(z=np.where(design_frame()["sex"] == "F", 0.0, 1.0))).ratio("y", "z", by="sex"),
    "08_D39_by_nan": lambda: design(_with(g=design_frame()["g"].where(
        np.arange(48) % 7 != 0))).total("y", by="g"),
    "10_W15_rake_zero_target": lambda: Weights(design_frame(), "w").rake(
        {"sex": {"F": 550, "M": 0}}),
    "11_W16_rake_dup_key": lambda: Weights(design_frame().assign(k=np.arange(48) % 2), "w").rake(
        {"k": {0: 275, 1: 100, "1": 275}}),
    "13_S54_prev_count_above_base": lambda: prevalence_strata(
        _ea_frame(), "fb", "persons", cutoffs=[0.02, 0.1]),
    "14_S55_prev_cut_nan": lambda: prevalence_strata(
        _ea_frame(persons=[50, 40, 30, 20, 60, 45]), "fb", "persons", cutoffs=[np.nan, 0.1]),
    "16_D36_datetime_var": lambda: design(_with(t=pd.date_range("2020-01-01", periods=48))).mean("t"),
    "17_D40_level_95": lambda: design().mean("y", level=95),
    "17_D41_level_negative": lambda: design().mean("y", level=-1),
    "17_D72_replicate_level_95": lambda: _replicate().mean("y", level=95),
    "17_total_level_1": lambda: design().total("y", level=1.0),
    "17_ratio_level_nan": lambda: design().ratio("y", "z", level=np.nan),
    "17_quantile_level_95": lambda: design().quantile("y", 0.5, level=95),
    "17_proportion_level_95": lambda: design().proportion("sex", level=95),
    "17_glm_level_95": lambda: design().glm("y ~ x", level=95),
    "17_I12_indicator_table_level_95": lambda: indicator_table(
        design(_with(foreign_born=np.arange(48) % 3 == 0)), "MI1.1", by=["sex"],
        suppression=None, level=95),
    "17_S39_sample_size_level_95": lambda: sample_size(p=0.2, moe=0.05, level=95),
    "18_D42_df_zero": lambda: design().mean("y", df=0),
    "18_df_negative": lambda: design().mean("y", df=-3),
    "18_df_nan": lambda: design().mean("y", df=np.nan),
    "19_D43_quantile_nan_prob": lambda: design().quantile("y", [0.5, np.nan]),
    "19_quantile_prob_above_one": lambda: design().quantile("y", 1.5),
    "21_S42_deff_negative": lambda: sample_size(p=0.2, moe=0.05, deff=-1.5),
    "21_S48_mics_ave_size_negative": lambda: mics_sample_size(0.25, 0.15, -5),
    "22_S44_moe_nan": lambda: sample_size(p=0.2, moe=np.nan),
    "22_S45_persons_per_household_nan": lambda: sample_size(
        p=0.2, moe=0.05, persons_per_household=np.nan),
    "24_S41_cv_negative": lambda: sample_size(p=0.2, cv=-0.1),
    # -- D. weak refusals ----------------------------------------------------------------------
    "40_D23_empty": lambda: SurveyDesign(design_frame().iloc[0:0], ids="psu", strata="stratum",
                                         weights="w").mean("y"),
    "40_weights_empty": lambda: Weights(design_frame().iloc[0:0], "w"),
    "41_D25_duplicated_analysis_column": lambda: design(
        pd.concat([design_frame(), 2 * design_frame()[["y"]]], axis=1)).mean("y"),
    "41_D26_duplicated_weight_column": lambda: design(
        pd.concat([design_frame(), 2 * design_frame()[["w"]]], axis=1)),
    "41_X04_duplicated_margin_column": lambda: Weights(
        pd.concat([design_frame(), design_frame()[["sex"]]], axis=1), "w").rake(MARGINS),
    "42_Q10_deep_parentheses": lambda: questionnaires.parse("(" * 200 + "1" + ")" * 200),
    "42_Q12_long_chain": lambda: questionnaires.evaluate(
        "+".join(["1"] * 1500), pd.DataFrame({"a": [1]})),
    "42_deep_formula": lambda: design().glm("y ~ " + "I(" * 100 + "x" + ")" * 100),
    "43_Q09_regex_invalid": lambda: questionnaires.evaluate(
        "regex(${a}, '(')", pd.DataFrame({"a": ["x"]})),
    "43_regex_backreference": lambda: questionnaires.parse(r"regex(${a}, '(a)\1')"),
    "46_S40_cv_zero": lambda: sample_size(p=0.2, cv=0),
    "46_S43_population_zero": lambda: sample_size(p=0.2, moe=0.05, population=0),
    "47_S14_size_overflow": lambda: select(
        pd.DataFrame({"ea": range(6), "hh": [1e308, 1e308, 5, 7, 9, 11]}), 3, size="hh",
        method="sampford", seed=1),
    "48_W04_string_weights": lambda: Weights(
        design_frame(), np.array(["1.0"] * 47 + ["abc"], dtype=object)),
    "48_W39_trim_upper_text": lambda: Weights(design_frame(), "w").trim(upper="four"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning on the way
        with pytest.raises(SurveyError) as info:
            REFUSED[case]()
    err = info.value
    assert err.message and (err.argument or err.expected), str(err)


def test_01_D09_weight_series_is_aligned_on_the_index():
    df = design_frame()
    shuffled = df["w"].sample(frac=1, random_state=3)
    a = SurveyDesign(df, ids="psu", strata="stratum", weights=shuffled).mean("y")
    b = design(df).mean("y")
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-12)
    foreign = pd.Series(df["w"].to_numpy(), index=np.arange(48))
    with pytest.raises(SurveyError, match="index"):
        SurveyDesign(df, ids="psu", strata="stratum", weights=foreign)


def test_08_by_nan_with_na_rm_leaves_the_rows_out():
    df = _with(g=design_frame()["g"].where(np.arange(48) % 7 != 0))
    out = design(df).total("y", by="g", na_rm=True)
    assert out["n"].sum() == 48 - 7


def test_09_Q16_derive_warns_about_a_misspelt_column():
    persons = pd.DataFrame({"country_brith": ["FRA", "MAR", "FRA"],
                            "citizenship": ["FRA", "MAR", "FRA"]})
    with pytest.warns(SurveyWarning, match="country_brith"):
        questionnaires.derive(persons, country="FRA", reference_date="2025-06-30")


def test_12_D59_glm_separation_warns():
    x = np.arange(48.0)
    df = _with(x=x, sep=(x > 23).astype(float))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = design(df).glm("sep ~ x", family="binomial")
    assert any(issubclass(w.category, SurveyWarning) and "fitted probabilities" in str(w.message)
               for w in caught)
    assert res.separation


def test_valid_inputs_give_finite_answers():
    d = design()
    for out in (d.mean("y", level=0.9, df=5), d.quantile("y", [0.25, 0.5, 0.75]),
                d.ratio("y", "z", by="sex"), d.total("y", by="g")):
        assert np.isfinite(out[["estimate", "se"]].to_numpy(float)).all()
    assert np.isfinite(sample_size(p=0.2, moe=0.05, deff=1.5, population=1000).households)
    w = Weights(design_frame(), "w").trim(upper=4.5, strict=True)
    np.testing.assert_allclose(w.values.sum(), design_frame()["w"].sum())
    assert w.values.max() <= 4.5 + 1e-9


# -- modules: empty, scalar, tags -------------------------------------------------------------
@pytest.mark.parametrize(
    "case, text, match",
    [
        ("44_Q30_empty_module", "", "must be a mapping"),
        ("44_Q31_scalar_module", "'module version title questions'\n", "must be a mapping"),
        ("44_questions_not_a_list", "module: m\nversion: 1\ntitle: t\nquestions: abc\n", "list"),
        ("49_Q29_python_tag", "module: !!python/object/apply:os.system ['echo hi']\n", "tags"),
        ("module_alias", "module: &m probe\nversion: 1\ntitle: *m\nquestions: []\n", "anchors"),
        ("module_duplicate_key", "module: a\nmodule: b\nversion: 1\ntitle: t\nquestions: []\n",
         "duplicate key"),
    ],
)
def test_module_files_refused(tmp_path, case, text, match):
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyError, match=match) as info:
        questionnaires.load(str(path))
    assert info.value.expected and info.value.hint


def test_45_Q24_module_with_regex_loads_and_validates(tmp_path):
    path = tmp_path / "probe.yaml"
    path.write_text(module_text(), encoding="utf-8")
    form = questionnaires.load(str(path))
    form.validate(pd.DataFrame({"t": ["abc", "ABC"]}))


def test_form_with_a_non_literal_regex_is_refused_at_load(tmp_path):
    path = tmp_path / "probe.yaml"
    path.write_text(module_text("regex(., ${t})"), encoding="utf-8")
    with pytest.raises(SurveyError, match="literal"):
        questionnaires.load(str(path))


def test_no_test_wrote_outside_its_folder():
    assert not Path("pwned").exists()
