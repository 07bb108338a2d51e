"""MI 1.1-1.4 by definition: universe, reference period, emigrant roster, row order.

Every sample is built here, the way an office's files look (own column names, string ids with
leading zeros), and every expected value is a hand count of weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import questionnaires
from estimation import SurveyDesign
from estimation.indicators import emigrant_records, indicator_table, indicator_variables
from surveycore import SurveyError, SurveyWarning

REF = dict(country="KEN", reference_date="2025-06-30")


def derive(df: pd.DataFrame, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        return indicator_variables(questionnaires.derive(df, **REF, **kw))


def persons_sample(n_hh: int = 300, seed: int = 7) -> pd.DataFrame:
    """Residents of ``n_hh`` households in 30 EAs and 2 strata; member weights differ."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 6, n_hh)
    hh = np.repeat(np.arange(n_hh), size)
    n = len(hh)
    foreign = rng.random(n) < 0.2
    years = np.where(foreign, rng.choice([2010, 2018, 2022], n), np.nan)
    return pd.DataFrame(
        {
            "HH_ID": np.char.zfill(hh.astype(str), 5),
            "EA": np.char.zfill((hh % 30).astype(str), 3),
            "STRATUM": np.where(hh % 30 < 15, "URBAN", "RURAL"),
            "WGT": rng.uniform(80, 120, n_hh)[hh] * rng.uniform(0.8, 1.2, n),
            "sex": rng.choice(["F", "M"], n),
            "country_birth": np.where(foreign, rng.choice(["UGA", "SOM"], n), "KEN"),
            "citizenship": np.where(foreign & (rng.random(n) < 0.6), "UGA", "KEN"),
            "year_arrival": years,
            "month_arrival": np.where(foreign, rng.integers(1, 13, n), np.nan),
            "intended_stay_months": np.where(foreign, 99, np.nan),
        }
    )


def mi(design: SurveyDesign, code: str, by=("sex",)) -> pd.DataFrame:
    return indicator_table(design, code, by=list(by), suppression=None).table


def cell(table: pd.DataFrame, measure: str, **levels) -> pd.Series:
    sel = table["measure"].eq(measure)
    for k, v in levels.items():
        sel &= table[k].eq(v)
    assert sel.sum() == 1
    return table[sel].iloc[0]


# ------------------------------------------------------------------------- MI 1.1 universe
def test_planted_non_residents_do_not_change_mi11():
    base = persons_sample()
    rng = np.random.default_rng(1)
    hosts = base.drop_duplicates("HH_ID").sample(40, random_state=1)
    # 40 visitors present in sampled households: foreign-born, arrived two months ago,
    # staying three months (not usual residents under either residence rule)
    visitors = hosts.assign(
        sex=rng.choice(["F", "M"], 40), country_birth="UGA", citizenship="UGA",
        year_arrival=2025.0, month_arrival=4.0, intended_stay_months=3.0,
        WGT=hosts["WGT"].to_numpy() * rng.uniform(0.8, 1.2, 40),
    )
    planted = pd.concat([base, visitors], ignore_index=True)
    a = derive(base)
    b = derive(planted)
    assert b["usual_resident"].sum() == a["usual_resident"].sum() == len(base)
    ta = mi(SurveyDesign(a, ids="EA", strata="STRATUM", weights="WGT"), "MI1.1")
    tb = mi(SurveyDesign(b, ids="EA", strata="STRATUM", weights="WGT"), "MI1.1")
    cols = ["estimate", "se", "ci_low", "ci_high"]
    np.testing.assert_allclose(tb[cols].to_numpy(float), ta[cols].to_numpy(float), rtol=1e-12)
    # hand count: weighted foreign-born residents
    fb = a["foreign_born"].to_numpy(bool)
    assert cell(ta, "count", sex="_T").estimate == pytest.approx(a.loc[fb, "WGT"].sum(), 1e-12)
    assert cell(ta, "share", sex="_T").estimate == pytest.approx(
        100 * a.loc[fb, "WGT"].sum() / a["WGT"].sum(), 1e-12)


# ------------------------------------------------------------------ MI 1.2 reference period
def test_mi12_counts_acquisitions_in_the_12_months_before_a_mid_year_reference_date():
    base = persons_sample(60)
    n = len(base)
    # naturalised persons: (year, month) of acquisition, reference date 2025-06-30
    when = {0: (2024, 7), 1: (2024, 5), 2: (2024, 6), 3: (2025, 6), 4: (2023, 12)}
    df = base.assign(country_birth="UGA", citizenship="KEN", citizenship_acquired="birth",
                     year_citizenship=np.nan, month_citizenship=np.nan,
                     year_arrival=2000.0, month_arrival=1.0)
    for i, (y, m) in when.items():
        df.loc[i, ["citizenship_acquired", "year_citizenship", "month_citizenship"]] = [
            "naturalisation", y, m]
    r = derive(df)
    got = r["acquired_citizenship_period"].to_numpy(bool)[:5]
    # 11 months before: counted; 13 and 12 months before: not; the reference month: counted
    assert got.tolist() == [True, False, False, True, False]
    t = mi(SurveyDesign(r, ids="EA", strata="STRATUM", weights="WGT"), "MI1.2", by=())
    assert cell(t, "count").estimate == pytest.approx(df.loc[[0, 3], "WGT"].sum(), rel=1e-12)
    assert r["acquired_citizenship_period"].iloc[5:n].eq(False).all()
    # without the month, 2024 straddles the start of the window: unknown, and MI 1.2 refused
    no_month = derive(df.drop(columns="month_citizenship"))
    assert no_month["acquired_citizenship_period"].isna().tolist()[:5] == [
        True, True, True, False, False]
    with pytest.raises(SurveyError, match="month_citizenship"):
        mi(SurveyDesign(no_month, ids="EA", strata="STRATUM", weights="WGT"), "MI1.2", by=())


# --------------------------------------------------------------------- MI 1.4 from roster
def households_and_roster(seed: int = 3):
    rng = np.random.default_rng(seed)
    n_hh = 200
    hh = pd.DataFrame({
        "HH_ID": np.char.zfill(np.arange(n_hh).astype(str), 5),
        "EA": np.char.zfill((np.arange(n_hh) % 25).astype(str), 3),
        "STRATUM": np.where(np.arange(n_hh) % 25 < 12, "URBAN", "RURAL"),
        "HH_WGT": rng.uniform(50, 150, n_hh),
    })
    k = rng.poisson(0.6, n_hh)
    owner = np.repeat(hh["HH_ID"].to_numpy(), k)
    m = len(owner)
    months_ago = rng.integers(0, 30, m)
    index = 2025 * 12 + 5 - months_ago
    roster = pd.DataFrame({
        "HH_ID": owner,
        "EM_SEX": rng.choice(["F", "M"], m),
        "EM_AGE": rng.integers(15, 60, m),
        "EM_YEAR": index // 12,
        "EM_MONTH": index % 12 + 1,
        "EM_DEST": rng.choice(["DEU", "ARE", "USA"], m),
    })
    return hh, roster


EM_COLUMNS = {"emigrant_sex": "EM_SEX", "emigrant_age": "EM_AGE",
              "emigrant_year_departure": "EM_YEAR", "emigrant_month_departure": "EM_MONTH",
              "emigrant_destination": "EM_DEST"}


def mi14(hh: pd.DataFrame, roster: pd.DataFrame, by=("sex",)) -> pd.DataFrame:
    em = questionnaires.derive_emigrants(roster, columns=EM_COLUMNS, **REF)
    records = emigrant_records(hh, em, household="HH_ID", age_breaks=(0, 15, 30, 45, 60))
    d = SurveyDesign(records, ids="EA", strata="STRATUM", weights="HH_WGT")
    return mi(d, "MI1.4", by=by)


def test_mi14_by_the_emigrants_own_sex_equals_a_hand_count():
    hh, roster = households_and_roster()
    t = mi14(hh, roster)
    w = roster["HH_ID"].map(hh.set_index("HH_ID")["HH_WGT"])
    months_ago = (2025 * 12 + 5) - (roster["EM_YEAR"] * 12 + roster["EM_MONTH"] - 1)
    recent = months_ago.between(0, 11)
    for sex in ("F", "M"):
        hand = w[recent & roster["EM_SEX"].eq(sex)].sum()
        assert cell(t, "count", sex=sex).estimate == pytest.approx(hand, rel=1e-12)
    assert cell(t, "count", sex="_T").estimate == pytest.approx(w[recent].sum(), rel=1e-12)


def test_mi14_se_equals_a_household_level_design():
    """Independent route: per-household counts of recent emigrants on the household design."""
    hh, roster = households_and_roster()
    t = mi14(hh, roster)
    months_ago = (2025 * 12 + 5) - (roster["EM_YEAR"] * 12 + roster["EM_MONTH"] - 1)
    recent = roster[months_ago.between(0, 11)]
    counts = recent.groupby(["HH_ID", "EM_SEX"]).size().unstack(fill_value=0)
    h = hh.join(counts, on="HH_ID").fillna({"F": 0, "M": 0})
    d = SurveyDesign(h, ids="EA", strata="STRATUM", weights="HH_WGT")
    for sex in ("F", "M"):
        direct = d.total(sex).iloc[0]
        c = cell(t, "count", sex=sex)
        assert [c.estimate, c.se] == pytest.approx([direct.estimate, direct.se], rel=1e-10)


def test_mi14_does_not_depend_on_row_order_or_the_first_member():
    hh, roster = households_and_roster()
    t = mi14(hh, roster, by=("sex", "age_group"))
    shuffled = mi14(hh.sample(frac=1, random_state=2), roster.sample(frac=1, random_state=5),
                    by=("sex", "age_group"))
    key = ["measure", "sex", "age_group"]
    a = t.sort_values(key).reset_index(drop=True)
    b = shuffled.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(b[["estimate", "se"]].to_numpy(float),
                               a[["estimate", "se"]].to_numpy(float), rtol=1e-12)


def test_mi11_does_not_depend_on_row_order_when_member_weights_differ():
    p = derive(persons_sample())
    t = mi(SurveyDesign(p, ids="EA", strata="STRATUM", weights="WGT"), "MI1.1")
    q = p.sample(frac=1, random_state=9)
    u = mi(SurveyDesign(q, ids="EA", strata="STRATUM", weights="WGT"), "MI1.1")
    np.testing.assert_allclose(u[["estimate", "se"]].to_numpy(float),
                               t[["estimate", "se"]].to_numpy(float), rtol=1e-12)


def test_emigrant_roster_refuses_bad_rows():
    hh, roster = households_and_roster()
    bad = roster.assign(EM_DEST="KEN")
    with pytest.raises(SurveyError, match="destination is the reporting country"):
        questionnaires.derive_emigrants(bad, columns=EM_COLUMNS, **REF)
    future = roster.assign(EM_YEAR=2025, EM_MONTH=9)
    with pytest.raises(SurveyError, match="departure after the reference date"):
        questionnaires.derive_emigrants(future, columns=EM_COLUMNS, **REF)
    em = questionnaires.derive_emigrants(roster, columns=EM_COLUMNS, **REF)
    with pytest.raises(SurveyError, match="not in the sample"):
        emigrant_records(hh.iloc[5:], em, household="HH_ID")


def test_mi14_from_an_empty_roster_is_zero_with_se_zero(tmp_path):
    """A roster collected with no row (nobody emigrated) read back from a file (its columns
    are text: an empty column has no type): MI 1.4 is exactly 0, SE 0, and no cell by sex.
    The same total with every household's count of emigrants 0 on the household design
    (the independent route) is 0 with SE 0; the table has no sample observation (n = 0)."""
    from estimation.indicators.quality import get_rule

    hh, roster = households_and_roster()
    roster.iloc[:0].to_csv(tmp_path / "roster.csv", index=False)
    empty = pd.read_csv(tmp_path / "roster.csv", dtype=str)
    t = mi14(hh, empty, by=("sex",))
    assert list(t["sex"]) == ["_T"]
    row = cell(t, "count", sex="_T")
    assert row.estimate == 0 and row.se == 0 and row.ci_low == row.ci_high == 0
    assert row.n == 0 and row.n_contributors == 0
    # flagged as the table's quality rule flags a zero (CV undefined: judged on n only)
    rule = get_rule("statcan")
    flag, reliability = rule.assess(np.array([np.nan]), np.array([0]))
    assert (row.flag, row.reliability) == (flag[0], reliability[0])
    strict = indicator_table(SurveyDesign(emigrant_records(
        hh, questionnaires.derive_emigrants(empty, columns=EM_COLUMNS, **REF),
        household="HH_ID"), ids="EA", strata="STRATUM", weights="HH_WGT"), "MI1.4", by=[],
        quality="statcan_cchs", suppression=None).table
    assert strict["reliability"].iloc[0] == "unreliable"  # fewer than 10 observations
    d = SurveyDesign(hh.assign(k=0.0), ids="EA", strata="STRATUM", weights="HH_WGT")
    direct = d.total("k")
    assert direct["estimate"].iloc[0] == row.estimate and direct["se"].iloc[0] == row.se
