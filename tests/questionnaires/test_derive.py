"""Hand-made cases for every derived-variable rule and its edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import questionnaires as q
from surveycore import SurveyError

NA = pd.NA
REF = "2025-06-30"  # reference month index: June 2025


def frame(**cols):
    return pd.DataFrame(cols)


def values(result, name):
    return [
        None if v is NA or (isinstance(v, float) and np.isnan(v)) else v
        for v in result[name].astype(object)
    ]


# --------------------------------------------------------------------------- birth, citizenship
def test_foreign_born_and_unknowns():
    df = frame(country_birth=["FRA", "MAR", "XXX", None])
    r = q.derive(df, "foreign_born", country="FRA")
    assert values(r, "foreign_born") == [False, True, None, None]
    assert str(r["foreign_born"].dtype) == "boolean"


def test_foreign_citizen_stateless_and_unknown():
    df = frame(citizenship=["FRA", "MAR", "XXA", "XXX", None])
    r = q.derive(df, ["foreign_citizen", "stateless"], country="FRA")
    assert values(r, "foreign_citizen") == [False, True, True, None, None]
    assert values(r, "stateless") == [False, False, True, None, None]


def test_four_groups_and_unknown_never_native():
    df = frame(
        country_birth=["FRA", "FRA", "MAR", "MAR", "MAR", "XXX", "FRA", None],
        citizenship=["FRA", "MAR", "FRA", "MAR", "XXA", "FRA", "XXX", "MAR"],
    )
    r = q.derive(df, "birth_citizenship_group", country="FRA")
    assert values(r, "birth_citizenship_group") == [
        "NB_CIT",
        "NB_FOR",
        "FB_CIT",
        "FB_FOR",
        "FB_FOR",
        None,
        None,
        None,
    ]
    assert list(r["birth_citizenship_group"].cat.categories) == [
        "NB_CIT",
        "NB_FOR",
        "FB_CIT",
        "FB_FOR",
    ]


PARENTS = dict(
    country_birth=["FRA", "FRA", "FRA", "MAR", "FRA", "FRA", "FRA", "FRA"],
    citizenship=["FRA", "FRA", "MAR", "MAR", "FRA", "FRA", "FRA", "FRA"],
    country_birth_father=["FRA", "MAR", "MAR", "MAR", "XXX", "XXX", None, "MAR"],
    country_birth_mother=["FRA", "FRA", "TUR", "MAR", "MAR", "FRA", "FRA", "XXX"],
)


def test_background_both_parents():
    r = q.derive(
        frame(**PARENTS),
        ["parental_background", "migrant_background", "second_generation"],
        country="FRA",
        parents="both",
    )
    assert values(r, "parental_background") == ["NAT", "MIX", "FOR", "FOR", None, None, None, None]
    assert values(r, "migrant_background") == [
        "NAT_NB_CIT",
        "MIX_NB_CIT",
        "FOR_NB_FOR",
        "FOR_FB_FOR",
        None,
        None,
        None,
        None,
    ]
    # unknown father, mother abroad: foreign or mixed -> second generation unknown
    assert values(r, "second_generation") == [False, False, True, False, None, False, False, None]
    assert len(r["migrant_background"].cat.categories) == 12


def test_background_one_parent():
    r = q.derive(
        frame(**PARENTS), ["parental_background", "second_generation"], country="FRA", parents="one"
    )
    # one known foreign-born parent is enough; a known native parent with an unknown one is not
    assert values(r, "parental_background") == [
        "NAT",
        "FOR",
        "FOR",
        "FOR",
        "FOR",
        None,
        None,
        "FOR",
    ]
    assert values(r, "second_generation") == [False, True, True, False, True, None, None, True]


def test_acquired_citizenship():
    df = frame(
        citizenship=["FRA", "FRA", "FRA", "MAR", "XXX", "FRA"],
        citizenship_acquired=["naturalisation", "birth", "dk", None, "marriage", None],
    )
    r = q.derive(df, "acquired_citizenship", country="FRA")
    assert values(r, "acquired_citizenship") == [True, False, None, False, None, None]


# --------------------------------------------------------------------------- arrival timing
def arrivals():
    # reference: June 2025
    return frame(
        country_birth=["MAR", "MAR", "MAR", "MAR", "FRA", "FRA", "MAR", "FRA", "XXX", "MAR"],
        year_arrival=[2025, 2024, 2024, 2020, np.nan, 2023, 2025, np.nan, np.nan, np.nan],
        month_arrival=[6, 7, 6, 7, np.nan, 1, np.nan, np.nan, np.nan, np.nan],
        ever_lived_abroad=[None, None, None, None, "no", "yes", None, "dk", None, None],
    )


def test_years_since_arrival_and_recent():
    r = q.derive(
        arrivals(),
        ["years_since_arrival", "recent_immigrant_1y", "recent_immigrant_5y"],
        country="FRA",
        reference_date=REF,
    )
    # arrival this month = 0 years and recent; 11 months ago recent; exactly 12 months ago not
    assert values(r, "years_since_arrival") == [0, 0, 1, 4, None, 2, 0, None, None, None]
    assert values(r, "recent_immigrant_1y") == [
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        None,
        None,
        None,
    ]
    assert values(r, "recent_immigrant_5y") == [
        True,
        True,
        True,
        True,
        False,
        True,
        True,
        None,
        None,
        None,
    ]
    assert str(r["years_since_arrival"].dtype) == "Int64"


def test_calendar_years_only_leave_boundary_unknown():
    r = q.derive(
        arrivals(),
        ["years_since_arrival", "recent_immigrant_1y", "recent_immigrant_5y"],
        country="FRA",
        reference_year=2025,
    )
    assert values(r, "years_since_arrival") == [0, 1, 1, 5, None, 2, 0, None, None, None]
    # previous calendar year cannot be placed inside or outside the last 12 months
    assert values(r, "recent_immigrant_1y") == [
        True,
        None,
        None,
        False,
        False,
        False,
        True,
        None,
        None,
        None,
    ]
    assert values(r, "recent_immigrant_5y")[3] is None  # 2020 vs 2025: boundary


def test_residence_question_fills_missing_arrival():
    df = frame(
        country_birth=["MAR", "MAR", "MAR"],
        year_arrival=[np.nan, np.nan, np.nan],
        residence_1y=["MAR", "FRA", "XXX"],
    )
    r = q.derive(df, "recent_immigrant_1y", country="FRA", reference_date=REF)
    # abroad a year ago: arrived since; here a year ago says nothing about the date
    assert values(r, "recent_immigrant_1y") == [True, None, None]
    r2 = q.derive(df, "abroad_1y_ago", country="FRA")
    assert values(r2, "abroad_1y_ago") == [True, False, None]


def residence_cases():
    # all arrived from abroad; reference June 2025
    return frame(
        country_birth=["MAR", "MAR", "MAR", "MAR", "MAR", "MAR", "MAR", "FRA"],
        year_arrival=[2024, 2024, 2025, 2025, 2025, 2025, 2024, np.nan],
        month_arrival=[11, 11, 1, 1, 1, 1, 6, np.nan],
        intended_stay_months=[np.nan, 3, 6, 12, 3, 5, np.nan, np.nan],
        months_in_country_last12=[np.nan, np.nan, np.nan, np.nan, 7, np.nan, np.nan, np.nan],
        ever_lived_abroad=[None, None, None, None, None, None, None, "no"],
    )


def test_residence_rule_a():
    r = q.derive(
        residence_cases(),
        ["usual_resident", "immigrant_12m"],
        country="FRA",
        reference_date=REF,
        residence_rule="a",
    )
    # 0: 7 months lived, no intention -> unknown; 1: 7 lived, 3 intended -> not resident;
    # 2: 5 lived, intends 6 -> no; 3: intends 12 -> yes; 4: answered 7 months, intends 3 -> no;
    # 6: arrived exactly 12 months ago -> resident, but not a 12-month immigrant
    assert values(r, "usual_resident") == [None, False, False, True, False, False, True, True]
    assert values(r, "immigrant_12m") == [None, False, False, True, False, False, False, False]
    assert r.attrs["derive_rules"]["residence_rule"] == "a"


def test_residence_rule_b():
    r = q.derive(
        residence_cases(),
        ["usual_resident", "immigrant_12m"],
        country="FRA",
        reference_date=REF,
        residence_rule="b",
    )
    # more than 6 of the last 12 months lived, or at least 6 intended
    assert values(r, "usual_resident") == [True, True, True, True, True, False, True, True]
    assert values(r, "immigrant_12m") == [True, True, True, True, True, False, False, False]
    assert r.attrs["derive_rules"]["residence_rule"] == "b"


def test_returning_citizen():
    df = frame(
        country_birth=["FRA", "FRA", "MAR", "XXX", "FRA", "FRA", "FRA"],
        citizenship=["FRA", "FRA", "FRA", "FRA", "MAR", "FRA", "FRA"],
        year_arrival=[2023, np.nan, 2023, 2023, 2023, 2010, np.nan],
        month_arrival=[3, np.nan, 3, 3, 3, 1, np.nan],
        ever_lived_abroad=["yes", "no", None, None, "yes", "yes", "yes"],
    )
    r = q.derive(df, "returning_citizen", country="FRA", reference_date=REF)
    # a citizen born abroad (row 2) returns only if they lived here before: not asked, unknown
    assert values(r, "returning_citizen") == [True, False, None, None, False, False, None]
    r1 = q.derive(df, "returning_citizen", country="FRA", reference_date=REF, return_years=1)
    assert values(r1, "returning_citizen")[0] is False
    # citizens born abroad are included when they lived in the country before that arrival
    df2 = pd.concat([df.iloc[[2]], df.iloc[[2]]]).assign(lived_here_before=["yes", "no"])
    r2 = q.derive(df2, "returning_citizen", country="FRA", reference_date=REF)
    assert values(r2, "returning_citizen") == [True, False]
    # a foreign citizen who came back is an immigrant, not a returning citizen (row 4)


def test_emigrant_in_household():
    r = q.derive(frame(hh_members_abroad=[0, 2, np.nan]), "emigrant_in_household", country="FRA")
    assert values(r, "emigrant_in_household") == [False, True, None]


def test_temporary_mobility():
    df = frame(
        country_birth=["FRA", "FRA", "MAR", "MAR", "MAR", "MAR", "FRA"],
        year_arrival=[np.nan, np.nan, 2025, 2025, 2025, 2010, np.nan],
        month_arrival=[np.nan, np.nan, 3, 3, 3, 1, np.nan],
        ever_lived_abroad=["no", "no", None, None, None, None, "no"],
        intended_stay_months=[np.nan, np.nan, 4, 4, 2, np.nan, np.nan],
        reason_migration=[None, None, "work", "study", "dk", "family", None],
        temporary_abroad=["none", "frontier", None, None, None, "seasonal", "dk"],
    )
    r = q.derive(df, "temporary_mobility", country="FRA", reference_date=REF)
    assert values(r, "temporary_mobility") == [
        "NONE",
        "OUT_FRONTIER",
        "IN_WORKER",
        "IN_STUDENT",
        "IN_UNSPECIFIED",
        "OUT_SEASONAL",
        None,
    ]


# --------------------------------------------------------------------------- API behaviour
def test_all_variables_and_columns_mapping_and_no_mutation():
    df = frame(BPL=["FRA", "MAR"], CIT=["FRA", "MAR"], YRIMM=[np.nan, 2020.0])
    before = df.copy()
    r = q.derive(
        df,
        country="FRA",
        reference_year=2025,
        columns={"country_birth": "BPL", "citizenship": "CIT", "year_arrival": "YRIMM"},
    )
    pd.testing.assert_frame_equal(df, before)
    assert values(r, "birth_citizenship_group") == ["NB_CIT", "FB_FOR"]
    assert values(r, "years_since_arrival") == [None, 5]
    assert "temporary_mobility" not in r  # inputs absent: not computed
    assert set(r.attrs["derive_rules"]["variables"]) >= {"foreign_born", "recent_immigrant_5y"}


def test_derived_variables_table():
    t = q.derived_variables()
    assert {"foreign_born", "immigrant_12m", "temporary_mobility"} <= set(t["name"])
    assert t["definition"].str.len().min() > 20


@pytest.mark.parametrize(
    "data, kwargs, words",
    [
        (dict(country_birth=["FRA", "FRX"]), {}, "unknown country code"),
        (dict(country_birth=["fra"]), {}, "unknown country code"),
        (dict(country_birth=["XXA"]), {}, "unknown country code"),  # stateless is not a birthplace
        (dict(citizenship=["FRA"], citizenship_acquired=["bought"]), {}, "unknown answer code"),
        (
            dict(country_birth=["MAR"], year_arrival=[1990.0], birth_year=[1995.0]),
            {},
            "arrival before birth",
        ),
        (
            dict(country_birth=["MAR"], year_arrival=[2026.0]),
            {"reference_date": REF},
            "after the reference year",
        ),
        (
            dict(country_birth=["MAR"], year_arrival=[2025.0], month_arrival=[9.0]),
            {"reference_date": REF},
            "after the reference date",
        ),
        (
            dict(country_birth=["MAR"], month_arrival=[13.0], year_arrival=[2000.0]),
            {"reference_date": REF},
            "outside its range",
        ),
        (
            dict(country_birth=["MAR"], year_arrival=["last year"]),
            {"reference_date": REF},
            "wrong type",
        ),
        (
            dict(citizenship=["FRA"], birth_year=[2030.0]),
            {"reference_date": REF},
            "after the reference year",
        ),
    ],
)
def test_bad_input_clear_errors(data, kwargs, words):
    df = frame(**data)
    kwargs = {"country": "FRA", **kwargs}
    with pytest.raises(SurveyError, match=words):
        q.derive(df, **kwargs)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({}, "country"),
        ({"country": "France"}, "country"),
        ({"country": "FRA", "residence_rule": "c"}, "residence_rule"),
        ({"country": "FRA", "parents": "any"}, "parents"),
        ({"country": "FRA", "reference_date": "2025-13-01"}, "reference_date"),
        ({"country": "FRA", "columns": {"cob": "x"}}, "columns"),
        ({"country": "FRA", "variables": ["nonsense"]}, "variables"),
        ({"country": "FRA", "variables": "recent_immigrant_1y"}, "df"),
    ],
)
def test_bad_arguments(kwargs, argument):
    df = frame(country_birth=["FRA"])
    with pytest.raises(SurveyError) as err:
        q.derive(df, **kwargs)
    assert err.value.argument == argument


def test_time_variable_needs_reference_date():
    df = frame(country_birth=["FRA"], year_arrival=[2020.0])
    with pytest.raises(SurveyError, match="reference date"):
        q.derive(df, "years_since_arrival", country="FRA")


def test_country_list_shipped():
    from questionnaires.countries import country_names, iso_alpha3, valid_codes

    codes = iso_alpha3()
    assert len(codes) == 249 and {"FRA", "MAR", "USA", "SSD", "XKX"} - codes == {"XKX"}
    assert all(len(c) == 3 and c.isupper() for c in codes)
    assert "XXX" not in codes and "XXA" not in codes
    assert valid_codes(stateless=True) - codes == {"XXX", "XXA"}
    assert country_names()["MAR"] == "Morocco"


@pytest.mark.parametrize("code", ["XXB", "XXC", "FR", "Fra", "999"])
def test_refused_citizenship_codes(code):
    with pytest.raises(SurveyError, match="unknown country code"):
        q.derive(frame(citizenship=["FRA", code]), country="FRA")


def test_residence_question_settles_calendar_year_boundary():
    # reference year only: an arrival last calendar year is undecided, unless the person
    # lived abroad a year ago
    df = frame(
        country_birth=["MAR", "MAR", "MAR"],
        year_arrival=[2024.0, 2024.0, 2024.0],
        residence_1y=["MAR", "FRA", "XXX"],
    )
    r = q.derive(df, "recent_immigrant_1y", country="FRA", reference_year=2025)
    assert values(r, "recent_immigrant_1y") == [True, None, None]


def test_categorical_codes_boolean_answers_and_polars_lazy():
    df = frame(
        country_birth=pd.Categorical(["FRA", "FRA", "MAR", "XXX"]),
        ever_lived_abroad=pd.array([False, True, None, None], dtype="boolean"),
        year_arrival=pd.array([None, 2024, 2010, None], dtype="Int64"),
    )
    r = q.derive(df, ["foreign_born", "recent_immigrant_5y"], country="FRA", reference_year=2025)
    assert values(r, "foreign_born") == [False, False, True, None]
    assert values(r, "recent_immigrant_5y") == [False, True, False, None]
    pl = pytest.importorskip("polars")
    lazy = pl.from_pandas(df.astype({"country_birth": str})).lazy()
    out = q.derive(
        lazy, ["foreign_born", "recent_immigrant_5y"], country="FRA", reference_year=2025
    )
    assert isinstance(out, pl.LazyFrame)
    got = out.collect()
    assert got["foreign_born"].to_list() == [False, False, True, None]
    assert got["recent_immigrant_5y"].to_list() == [False, True, False, None]


def test_acquired_citizenship_in_the_reference_year():
    df = pd.DataFrame(
        {
            "country_birth": ["MAR", "MAR", "FRA", "MAR", "MAR", "SEN"],
            "citizenship": ["FRA", "FRA", "FRA", "FRA", "MAR", "FRA"],
            "citizenship_acquired": ["naturalisation", "naturalisation", "birth", "dk", "birth", "marriage"],
            "year_citizenship": [2024, 2010, None, 2024, None, None],
            "birth_year": [1980, 1980, 1990, 1970, 1985, 1990],
        }
    )
    r = q.derive(df, ["acquired_citizenship", "acquired_citizenship_period"], country="FRA", reference_year=2024)
    assert values(r, "acquired_citizenship") == [True, True, False, None, False, True]
    # acquired this year; another year; never; unknown route; foreign citizen; year unknown
    assert values(r, "acquired_citizenship_period") == [True, False, False, None, False, None]
