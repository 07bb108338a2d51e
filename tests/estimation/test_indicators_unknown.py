"""Unknown is never "no": an indicator whose inputs are unknown or absent is refused."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import questionnaires
from estimation import SurveyDesign
from estimation.indicators import indicator_table, indicator_variables
from surveycore import SurveyError, SurveyWarning


def office_sample(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Interviews with the office's names and no intended-stay question."""
    rng = np.random.default_rng(seed)
    foreign = rng.random(n) < 0.25
    recent = foreign & (rng.random(n) < 0.2)
    return pd.DataFrame(
        {
            "EA_CODE": np.char.zfill((np.arange(n) // 20).astype(str), 4),
            "STRAT": np.where(np.arange(n) < n // 2, "A", "B"),
            "WT": rng.uniform(50, 150, n),
            "SEX": rng.choice(["F", "M"], n),
            "COB": np.where(foreign, rng.choice(["UGA", "SOM", "TZA"], n), "KEN"),
            "CITIZ": np.where(foreign, "UGA", "KEN"),
            "YR_ARR": np.where(recent, 2025, np.where(foreign, 2010, np.nan)),
            "MO_ARR": np.where(recent, 3, np.where(foreign, 6, np.nan)),
        }
    )


MAPPING = {"country_birth": "COB", "citizenship": "CITIZ", "year_arrival": "YR_ARR",
           "month_arrival": "MO_ARR"}


def design(df: pd.DataFrame, extra: dict | None = None) -> SurveyDesign:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        persons = questionnaires.derive(df, country="KEN", reference_date="2025-06-30",
                                        columns=MAPPING | (extra or {}))
    persons = indicator_variables(persons)
    return SurveyDesign(persons, ids="EA_CODE", strata="STRAT", weights="WT")


def test_absent_intended_stay_refuses_mi13_naming_the_question():
    d = design(office_sample())
    with pytest.raises(SurveyError, match="MI1.3 cannot be computed") as err:
        indicator_table(d, "MI1.3", by=["SEX"])
    assert "intended_stay_months" in str(err.value)
    assert err.value.found.endswith("absent question: intended_stay_months")


def test_a_roster_answer_decides_residence_without_the_intended_stay():
    df = office_sample().assign(RESIDENT="yes")
    d = design(df, {"usual_member": "RESIDENT"})
    t = indicator_table(d, "MI1.3", by=["SEX"], suppression=None).table
    recent = df["YR_ARR"].eq(2025).to_numpy()
    count = t[t["measure"].eq("count") & t["SEX"].eq("_T")]["estimate"].iloc[0]
    assert count == pytest.approx(df.loc[recent, "WT"].sum(), rel=1e-12)


def test_na_rm_leaves_out_unknown_values_but_never_an_unknown_universe():
    df = office_sample().assign(RESIDENT="yes")
    foreign = df.index[df["COB"].ne("KEN")]
    df.loc[foreign[:3], ["YR_ARR", "MO_ARR"]] = np.nan  # arrival not stated: MI 1.3 unknown
    d = design(df, {"usual_member": "RESIDENT"})
    with pytest.raises(SurveyError, match="immigrant_12m is unknown for 3 "):
        indicator_table(d, "MI1.3", by=["SEX"])
    t = indicator_table(d, "MI1.3", by=["SEX"], na_rm=True).table
    assert np.isfinite(t["estimate"]).all()
    df.loc[foreign[4], "RESIDENT"] = "dk"
    df.loc[foreign[4], ["YR_ARR", "MO_ARR"]] = [2025, 4]
    d = design(df, {"usual_member": "RESIDENT"})
    with pytest.raises(SurveyError, match="universe usual_resident is unknown for 1 "):
        indicator_table(d, "MI1.3", by=["SEX"], na_rm=True)


def test_zero_weight_rows_do_not_block_an_indicator():
    df = office_sample()
    unknown = df["YR_ARR"].eq(2025).to_numpy()
    d = design(df.assign(WT=np.where(unknown, 0.0, df["WT"])))
    t = indicator_table(d, "MI1.3", by=["SEX"], suppression=None).table
    assert (t.loc[t["measure"].eq("count"), "estimate"] == 0).all()
