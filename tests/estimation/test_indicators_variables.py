"""indicator_variables / age_groups, replicate designs, and the path from questionnaires.derive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import questionnaires
from estimation.design import SurveyDesign
from estimation.indicators import age_groups, indicator_table, indicator_variables
from surveycore import SurveyError


def test_age_groups():
    g = age_groups([0, 14, 15, 64, 65, 99, np.nan])
    assert list(g.astype(object))[:6] == ["0-14", "0-14", "15-24", "55-64", "65+", "65+"]
    assert pd.isna(g.iloc[6])
    assert list(age_groups([3, 40], breaks=(0, 18)).astype(object)) == ["0-17", "18+"]
    with pytest.raises(SurveyError):
        age_groups([1], breaks=(5, 10))
    with pytest.raises(SurveyError):
        age_groups([-1])


def test_indicator_variables_three_valued_and_no_overwrite():
    df = pd.DataFrame({
        "foreign_citizen": pd.array([True, False, False, None, None], dtype="boolean"),
        "acquired_citizenship_period": pd.array([False, True, False, True, False], dtype="boolean"),
        "temporary_mobility": pd.Categorical(["NONE", "OUT_SEASONAL", None, "IN_WORKER", "NONE"]),
        "hh": [1, 1, 2, 3, 3],
        "age": [30, 2, 70, 15, np.nan],
    })
    before = df.copy()
    out = indicator_variables(df, age="age", household="hh")
    pd.testing.assert_frame_equal(df, before)
    np.testing.assert_array_equal(out["foreign_citizen_start"], [1, 1, 0, 1, np.nan])
    np.testing.assert_array_equal(out["temporary_mover"], [0, 1, np.nan, 1, 0])
    assert list(out["household_reference"]) == [1, 0, 1, 1, 0]
    assert list(out["age_group"][:4]) == ["25-34", "0-14", "65+", "15-24"]
    kept = indicator_variables(out.assign(temporary_mover=9.0))
    assert (kept["temporary_mover"] == 9.0).all()
    with pytest.raises(SurveyError, match="not found"):
        indicator_variables(df, household="household_id")


def _population_sample(seed=11, n_psu=40, m=20):
    rng = np.random.default_rng(seed)
    n = n_psu * m
    psu = np.repeat(np.arange(n_psu), m)
    foreign = rng.random(n) < rng.beta(1, 6, n_psu)[psu]
    return pd.DataFrame({
        "psu": psu,
        "stratum": psu // 8,
        "hh": np.arange(n) // 4,
        "w": np.repeat(rng.uniform(40, 90, n // 4), 4),
        "sex": rng.choice(["F", "M"], n),
        "age": rng.integers(0, 85, n),
        "birth_year": 2024 - rng.integers(20, 60, n),
        "country_birth": np.where(foreign, rng.choice(["DZA", "ESP", "SEN"], n), "MAR"),
        "citizenship": np.where(foreign & (rng.random(n) < 0.7), "SEN", "MAR"),
        "citizenship_acquired": np.where(foreign & (rng.random(n) < 0.2), "naturalisation", "birth"),
        "year_citizenship": np.where(rng.random(n) < 0.5, 2024, 2010),
        "year_arrival": np.where(foreign, rng.choice([2023, 2021, 2005], n), np.nan),
        "intended_stay_months": np.where(foreign, 99, np.nan),
        "temporary_abroad": rng.choice(["none", "seasonal", "study"], n, p=[0.94, 0.04, 0.02]),
        "reason_migration": np.where(foreign, "work", None),
        "hh_members_abroad": np.repeat(rng.poisson(0.2, n // 4), 4),
    })


def test_from_questionnaires_derive_to_indicator_table():
    answers = _population_sample()
    persons = questionnaires.derive(answers, country="MAR", reference_year=2024)
    persons = indicator_variables(persons, age="age", household="hh")
    d = SurveyDesign(persons, ids="psu", strata="stratum", weights="w")
    r = indicator_table(d, ["MI1.1", "MI1.2", "MI1.3", "TEMP_MOB"], by=["sex"], na_rm=True)
    t = r.table
    assert set(t["indicator"]) == {"MI1.1", "MI1.2", "MI1.3", "TEMP_MOB"}
    fb = persons["foreign_born"].astype(float)
    c = t[(t["indicator"] == "MI1.1") & (t["measure"] == "count") & (t["sex"] == "_T")].iloc[0]
    assert c.estimate == pytest.approx((persons["w"] * fb).sum(), rel=1e-12)
    assert r.metadata["indicators"]["TEMP_MOB"]["experimental"]


def test_replicate_design_cells_equal_direct_replicate_estimates():
    df = indicator_variables(_population_sample().assign(
        foreign_born=lambda x: (x["country_birth"] != "MAR").astype(int), usual_resident=1),
        age="age")
    d = SurveyDesign(df, ids="psu", strata="stratum", weights="w").replicate("JKn")
    t = indicator_table(d, "MI1.1", by=["sex"], suppression=None).table
    direct = d.total("foreign_born", by="sex").set_index("sex")
    share = d.mean("foreign_born", by="sex").set_index("sex")
    for s in ("F", "M"):
        c = t[(t["measure"] == "count") & (t["sex"] == s)].iloc[0]
        assert [c.estimate, c.se] == pytest.approx(
            [direct.loc[s, "estimate"], direct.loc[s, "se"]], rel=1e-12)
        c = t[(t["measure"] == "share") & (t["sex"] == s)].iloc[0]
        assert [c.estimate, c.se] == pytest.approx(
            [100 * share.loc[s, "estimate"], 100 * share.loc[s, "se"]], rel=1e-12)
