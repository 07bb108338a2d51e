"""indicator_table: cells equal direct SurveyDesign estimates; R references; errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.design import SurveyDesign
from estimation.indicators import REGISTRY, Indicator, Measure, SuppressionRule, indicator_table
from estimation.indicators.variables import indicator_variables
from surveycore import SurveyError

HERE = Path(__file__).resolve().parents[1]
REF = {c["id"]: c for c in json.loads((HERE / "reference" / "r_survey_reference.json").read_text())["cases"]}


def make_survey(seed: int = 3, n_psu: int = 80, m: int = 25) -> pd.DataFrame:
    """A stratified cluster sample of persons in households, with derived migration variables."""
    rng = np.random.default_rng(seed)
    n = n_psu * m
    psu = np.repeat(np.arange(n_psu), m)
    df = pd.DataFrame({"psu": psu, "stratum": psu // 10, "hh": np.arange(n) // 4})
    prev = rng.beta(1, 8, n_psu)[psu]  # clustered migrants
    df["w"] = np.repeat(rng.uniform(50, 150, n // 4), 4)  # one weight per household
    df["sex"] = rng.choice(["F", "M"], n)
    df["age"] = rng.integers(0, 90, n)
    df["usual_resident"] = True  # the universe of MI 1.1-1.3 (non-residents: see test below)
    df["foreign_born"] = rng.random(n) < prev
    df["foreign_citizen"] = df["foreign_born"] & (rng.random(n) < 0.7)
    df["acquired_citizenship_period"] = df["foreign_born"] & ~df["foreign_citizen"] & (rng.random(n) < 0.15)
    df["immigrant_12m"] = df["foreign_born"] & (rng.random(n) < 0.1)
    df["recent_immigrant_5y"] = df["foreign_born"] & (rng.random(n) < 0.4)
    df["temporary_mobility"] = np.where(rng.random(n) < 0.03, "OUT_SEASONAL", "NONE")
    df["birth_citizenship_group"] = np.where(
        df["foreign_born"], np.where(df["foreign_citizen"], "FB_FOR", "FB_CIT"),
        np.where(df["foreign_citizen"], "NB_FOR", "NB_CIT"))
    hh_emig = rng.poisson(0.15, n // 4)
    df["emigrants_12m"] = np.repeat(hh_emig, 4)
    df["emigrant_in_household"] = df["emigrants_12m"] > 0
    return indicator_variables(df, age="age", household="hh")


@pytest.fixture(scope="module")
def survey():
    df = make_survey()
    return df, SurveyDesign(df, ids="psu", strata="stratum", weights="w")


def _cell(table, indicator, measure, **levels):
    sel = table["indicator"].eq(indicator) & table["measure"].eq(measure)
    for k, v in levels.items():
        sel &= table[k].eq(v)
    assert sel.sum() == 1, (indicator, measure, levels)
    return table[sel].iloc[0]


def test_cells_equal_direct_design_estimates(survey):
    df, d = survey
    r = indicator_table(d, ["MI1.1", "MI1.2", "MI1.3"], by=["sex", "age_group"], suppression=None,
                        interval="wald")
    t = r.table
    # MI1.1 count: total of foreign_born by sex x age_group
    direct = d.total("foreign_born", by=["sex", "age_group"])
    for _, row in direct.iterrows():
        c = _cell(t, "MI1.1", "count", sex=row["sex"], age_group=row["age_group"])
        np.testing.assert_allclose([c.estimate, c.se, c.ci_low, c.ci_high, c.cv],
                                   [row.estimate, row.se, row.ci_low, row.ci_high, row.cv], rtol=1e-12)
        assert c.n == row.n
    # MI1.1 share: 100 x mean, margin by sex only
    direct = d.mean("foreign_born", by="sex")
    for _, row in direct.iterrows():
        c = _cell(t, "MI1.1", "share", sex=row["sex"], age_group="_T")
        np.testing.assert_allclose([c.estimate, c.se], [100 * row.estimate, 100 * row.se], rtol=1e-12)
        np.testing.assert_allclose(c.cv, row.cv, rtol=1e-12)
    # MI1.2 rate: ratio of totals, grand total
    row = d.ratio("acquired_citizenship_period", "foreign_citizen_start").iloc[0]
    c = _cell(t, "MI1.2", "rate", sex="_T", age_group="_T")
    np.testing.assert_allclose([c.estimate, c.se], [100 * row.estimate, 100 * row.se], rtol=1e-12)
    # MI1.3 rate per 1000
    row = d.mean("immigrant_12m", by="age_group").set_index("age_group").loc["65+"]
    c = _cell(t, "MI1.3", "rate", sex="_T", age_group="65+")
    np.testing.assert_allclose([c.estimate, c.se], [1000 * row.estimate, 1000 * row.se], rtol=1e-12)


def test_grid_has_every_margin_and_additive_totals(survey):
    df, d = survey
    t = indicator_table(d, "MI1.1", by=["sex", "age_group"], suppression=None).table
    cnt = t[t["measure"].eq("count")]
    assert len(cnt) == 3 * 8  # (2 sexes + total) x (7 age groups + total)
    inner = cnt[cnt["sex"].ne("_T") & cnt["age_group"].ne("_T")]
    grand = _cell(t, "MI1.1", "count", sex="_T", age_group="_T").estimate
    np.testing.assert_allclose(inner["estimate"].sum(), grand, rtol=1e-12)
    np.testing.assert_allclose(grand, (df["w"] * df["foreign_born"]).sum(), rtol=1e-12)


def test_universe_is_a_domain_of_the_full_design(survey):
    df, d = survey
    ind = Indicator("FB_CIT", "Foreign citizens among the foreign-born", measures=(
        Measure("share", "proportion", "foreign_citizen", universe="foreign_born", multiplier=100.0),
        Measure("count", "total", "foreign_citizen", universe="foreign_born"),
    ))
    t = indicator_table(d, ind, by="sex", suppression=None).table
    sub = d.subset(df["foreign_born"].eq(1).to_numpy())
    direct = sub.mean("foreign_citizen", by="sex").set_index("sex")
    for s in ("F", "M"):
        c = _cell(t, "FB_CIT", "share", sex=s)
        np.testing.assert_allclose([c.estimate, c.se], [100 * direct.loc[s, "estimate"],
                                                        100 * direct.loc[s, "se"]], rtol=1e-12)
        assert c.n == direct.loc[s, "n"] == ((df["sex"] == s) & (df["foreign_born"] == 1)).sum()
    c = _cell(t, "FB_CIT", "share", sex="_T")
    assert c.se == pytest.approx(100 * sub.mean("foreign_citizen").iloc[0]["se"], rel=1e-12)


def test_against_r_svyby_ratio_and_total():
    api = pd.read_csv(HERE / "data" / "apistrat.csv")
    d = SurveyDesign(api, strata="stype", weights="pw", fpc="fpc")
    ind = Indicator("API", "api growth", measures=(
        Measure("ratio", "rate", "api00", denominator="api99"),
        Measure("enroll", "total", "enroll"),
    ))
    t = indicator_table(d, ind, by=["stype"], suppression=None, margins=False).table
    for v in REF["strat_by_ratio"]["values"]:
        c = _cell(t, "API", "ratio", stype=v["name"])
        np.testing.assert_allclose([c.estimate, c.se], [v["estimate"], v["se"]], rtol=1e-8)
    t = indicator_table(d, ind, by="awards", suppression=None, margins=False).table
    for v in REF["strat_by_total"]["values"]:
        c = _cell(t, "API", "enroll", awards=v["name"])
        np.testing.assert_allclose([c.estimate, c.se], [v["estimate"], v["se"]], rtol=1e-8)


def test_against_r_subset_mean():
    api = pd.read_csv(HERE / "data" / "apiclus1.csv")
    api["is_E"] = (api["stype"] == "E").astype(int)
    d = SurveyDesign(api, ids="dnum", weights="pw", fpc="fpc")
    ind = Indicator("E_API", "mean api00 in elementary schools",
                    measures=(Measure("mean", "proportion", "api00", universe="is_E"),))
    t = indicator_table(d, ind, by=[], suppression=None).table
    v = REF["clus1_subset_mean"]["values"][0]
    np.testing.assert_allclose(t[["estimate", "se"]].iloc[0], [v["estimate"], v["se"]], rtol=1e-8)


def test_default_by_and_variable_override(survey):
    df, d = survey
    renamed = df.rename(columns={"foreign_born": "born_abroad", "foreign_citizen": "fc"})
    d2 = SurveyDesign(renamed, ids="psu", strata="stratum", weights="w")
    r = indicator_table(d2, "MI1.1", variables={"foreign_born": "born_abroad",
                                                "foreign_citizen": "fc"})
    assert r.metadata["by"] == ["sex", "age_group", "fc"]
    ref = indicator_table(d, "MI1.1", by=["sex", "age_group", "foreign_citizen"]).table
    np.testing.assert_allclose(r.table["estimate"], ref["estimate"], rtol=1e-12)
    ind = REGISTRY["MI1.1"].with_variables(foreign_born="born_abroad")
    assert ind.measures[0].numerator == "born_abroad"
    # default disaggregations differ between indicators: absent ones are totals
    r = indicator_table(d, ["MI1.1", "MI1.2"])
    mi12 = r.table[r.table["indicator"].eq("MI1.2")]
    assert (mi12["foreign_citizen"] == "_T").all()


def test_suppression_and_flags_in_table(survey):
    df, d = survey
    r = indicator_table(d, ["MI1.3", "TEMP_MOB"], by=["sex", "age_group"], quality="abs",
                        suppression=SuppressionRule(threshold=5))
    t = r.table
    assert {"flag", "reliability", "suppressed", "experimental"} <= set(t.columns)
    prim = t["suppressed"].eq("primary")
    # primary cells have few contributors; all measures of a cell share the status
    assert (t.loc[prim & t["kind"].eq("total"), "n_contributors"] <= 5).all()
    for code in ("MI1.3", "TEMP_MOB"):
        sub = t[t["indicator"].eq(code)]
        piv = sub.pivot_table(index=["sex", "age_group"], columns="measure", values="suppressed",
                              aggfunc="first")
        assert (piv.nunique(axis=1) == 1).all()
    audit = r.audit()
    assert len(audit) == t[t["kind"].eq("total")]["suppressed"].ne("").sum()
    assert audit["protected"].all() and not audit["determined"].any()
    assert r.metadata["experimental"] == ["TEMP_MOB"]
    assert t.loc[t["indicator"].eq("TEMP_MOB"), "experimental"].all()
    assert r.metadata["quality"]["name"] == "abs"


def test_experimental_marker_argument(survey):
    df, d = survey
    r = indicator_table(d, ["MI1.1", "MI1.3"], by="sex", experimental=["MI1.3"])
    assert r.metadata["experimental"] == ["MI1.3"]
    assert r.metadata["indicators"]["MI1.3"]["experimental"] is True
    assert not r.table.loc[r.table["indicator"].eq("MI1.1"), "experimental"].any()
    with pytest.raises(SurveyError, match="experimental"):
        indicator_table(d, ["MI1.1"], by="sex", experimental=["MI1.4"])


def test_caller_frame_untouched(survey):
    df, d = survey
    before = df.copy()
    indicator_table(d, "MI1.1", by=["sex"])
    pd.testing.assert_frame_equal(df, before)


# -- bad input ----------------------------------------------------------------------------------


def test_missing_disaggregation_variable(survey):
    df, d = survey
    with pytest.raises(SurveyError) as e:
        indicator_table(d, "MI1.1", by=["sex", "region"])
    assert "region" in str(e.value) and e.value.argument == "by"
    with pytest.raises(SurveyError, match="default"):
        indicator_table(SurveyDesign(df.drop(columns="age_group"), ids="psu",
                                     strata="stratum", weights="w"), "MI1.1")


def test_unknown_indicator(survey):
    df, d = survey
    with pytest.raises(SurveyError) as e:
        indicator_table(d, ["MI1.1", "MI9.9"], by="sex")
    assert "MI9.9" in str(e.value) and "MI1.1" in str(e.value)
    with pytest.raises(SurveyError, match="no indicator"):
        indicator_table(d, [], by="sex")


def test_missing_indicator_variable_and_bad_universe(survey):
    df, d = survey
    with pytest.raises(SurveyError) as e:
        indicator_table(SurveyDesign(df, ids="psu", strata="stratum", weights="w"), "MI1.4",
                        by=[])
    assert "emigrant_12m" in str(e.value) and "variables=" in str(e.value)
    bad = df.assign(u=np.where(df["foreign_born"].eq(1), 2, 0))
    d2 = SurveyDesign(bad, ids="psu", strata="stratum", weights="w")
    ind = Indicator("X", "x", measures=(Measure("c", "total", "foreign_citizen", universe="u"),))
    with pytest.raises(SurveyError, match="0/1"):
        indicator_table(d2, ind, by=[])
    with pytest.raises(SurveyError, match="survey design"):
        indicator_table(df, "MI1.1")


def test_missing_disaggregation_values_refused_with_margins(survey):
    df, d = survey
    holes = df.assign(sex=df["sex"].where(np.arange(len(df)) % 97 != 0))
    d2 = SurveyDesign(holes, ids="psu", strata="stratum", weights="w")
    with pytest.raises(SurveyError, match="missing values") as e:
        indicator_table(d2, "MI1.1", by=["sex"])
    assert "unknown" in str(e.value)
    t = indicator_table(d2, "MI1.1", by=["sex"], margins=False).table
    assert set(t["sex"]) == {"F", "M"}


def test_contributors_are_unweighted_counts_of_the_numerator(survey):
    df, d = survey
    t = indicator_table(d, "MI1.3", by=["sex", "age_group"], suppression=None).table
    direct = df[df["immigrant_12m"]].groupby(["sex", "age_group"]).size()
    cnt = t[t["measure"].eq("count")].set_index(["sex", "age_group"])["n_contributors"]
    for key, value in cnt.items():
        if "_T" in key:
            sel = np.ones(len(df), dtype=bool)
            for col, v in zip(["sex", "age_group"], key):
                if v != "_T":
                    sel &= (df[col] == v).to_numpy()
            assert value == (sel & df["immigrant_12m"].to_numpy()).sum()
        else:
            assert value == direct.get(key, 0)


def test_level_and_df_passed_to_the_core(survey):
    df, d = survey
    t = indicator_table(d, "MI1.1", by="sex", level=0.9, df="design", suppression=None,
                        interval="wald").table
    direct = d.mean("foreign_born", by="sex", level=0.9, df="design").set_index("sex")
    c = _cell(t, "MI1.1", "share", sex="F")
    np.testing.assert_allclose([c.ci_low, c.ci_high],
                               100 * direct.loc["F", ["ci_low", "ci_high"]].to_numpy(dtype=float),
                               rtol=1e-12)


def test_no_suppression_gives_empty_audit(survey):
    df, d = survey
    r = indicator_table(d, "MI1.1", by="sex", suppression=None)
    assert r.metadata["suppression"] is None
    assert r.table["suppressed"].eq("").all()
    assert r.audit().empty


def test_bounded_intervals_logit_for_shares_log_for_counts(survey):
    """Shares: the logit interval of the core's proportion (R svyciprop method="logit");
    counts: exp(log t +- z se / t), a closed form. Both stay inside their range."""
    from scipy import stats

    df, d = survey
    t = indicator_table(d, "MI1.1", by="sex", level=0.9, df="design", suppression=None).table
    direct = d.proportion("foreign_born", by="sex", method="logit", level=0.9).set_index("sex")
    c = _cell(t, "MI1.1", "share", sex="F")
    np.testing.assert_allclose([c.ci_low, c.ci_high],
                               100 * direct.loc["F", ["ci_low", "ci_high"]].to_numpy(dtype=float),
                               rtol=1e-8)
    tot = d.total("foreign_born", by="sex", df="design").set_index("sex").loc["F"]
    z = stats.t.ppf(0.95, tot.df)
    c = _cell(t, "MI1.1", "count", sex="F")
    np.testing.assert_allclose([c.ci_low, c.ci_high],
                               [tot.estimate * np.exp(-z * tot.se / tot.estimate),
                                tot.estimate * np.exp(z * tot.se / tot.estimate)], rtol=1e-10)
    assert (t["ci_low"] >= 0).all()
    share = t[t["measure"].eq("share")]
    assert (share["ci_high"] <= 100).all()
