"""An office's own column names: mapping, misspellings, absent questions (unknown, never "no")."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import questionnaires as q
from surveycore import SurveyError, SurveyWarning

REF = dict(country="KEN", reference_date="2025-06-30")


def office_file() -> pd.DataFrame:
    """Interview records as an office keeps them: its own names, string ids, no intended stay."""
    return pd.DataFrame(
        {
            "HH_NO": ["0001", "0001", "0002", "0003", "0003"],
            "LINE": [1, 2, 1, 1, 2],
            "SEX": [1, 2, 2, 1, 2],
            "COB": ["KEN", "UGA", "KEN", "SOM", "KEN"],
            "CITIZ": ["KEN", "UGA", "KEN", "SOM", "KEN"],
            # UGA-born arrived 3 months ago; SOM-born 10 years ago
            "YR_ARR": [np.nan, 2025, np.nan, 2015, np.nan],
            "MO_ARR": [np.nan, 3, np.nan, 5, np.nan],
        }
    )


MAPPING = {
    "country_birth": "COB",
    "citizenship": "CITIZ",
    "year_arrival": "YR_ARR",
    "month_arrival": "MO_ARR",
}


def derive_quietly(df, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        return q.derive(df, *args, **kwargs)


def test_mapping_reads_the_office_columns_and_keeps_them():
    df = office_file()
    r = derive_quietly(df, ["foreign_born", "foreign_citizen"], columns=MAPPING, **REF)
    assert r["foreign_born"].tolist() == [False, True, False, True, False]
    assert list(r.columns[: len(df.columns)]) == list(df.columns)
    assert r["HH_NO"].tolist() == ["0001", "0001", "0002", "0003", "0003"]


def test_absent_intended_stay_leaves_recent_arrivals_unknown_never_no():
    r = derive_quietly(df := office_file(), ["usual_resident", "immigrant_12m"],
                       columns=MAPPING, **REF)
    # the recent arrival (row 1) may or may not intend to stay 12 months: unknown
    assert r["usual_resident"].isna().tolist() == [False, True, False, False, False]
    assert r["immigrant_12m"].isna().tolist() == [False, True, False, False, False]
    assert r["immigrant_12m"].dropna().eq(False).all()
    assert r.attrs["derive_rules"]["absent_questions"]["immigrant_12m"].count(
        "intended_stay_months") == 1
    # with the question, the same person is decided
    full = df.assign(STAY=[np.nan, 99, np.nan, np.nan, np.nan])
    r2 = derive_quietly(full, ["usual_resident", "immigrant_12m"],
                        columns=MAPPING | {"intended_stay_months": "STAY"}, **REF)
    assert r2["immigrant_12m"].tolist() == [False, True, False, False, False]


def test_derive_warns_about_absent_questions_and_variables_it_could_not_make():
    with pytest.warns(SurveyWarning) as caught:
        r = q.derive(office_file(), columns=MAPPING, **REF)
    text = " ".join(str(w.message) for w in caught)
    assert "could not make" in text
    assert "acquired_citizenship (no question citizenship_acquired)" in text
    assert "intended_stay_months" in text  # usual residence of recent arrivals stays unknown
    assert "acquired_citizenship" in r.attrs["derive_rules"]["not_made"]


def test_derive_warns_about_a_misspelt_answer_column():
    df = office_file().rename(columns={"YR_ARR": "year_arival"})
    with pytest.warns(SurveyWarning, match="'year_arival' \\(did you mean 'year_arrival'") as caught:
        r = q.derive(df, ["foreign_born"], country="KEN",
                     columns={"country_birth": "COB"})
    # identifiers and other survey variables are not answers and are not reported
    assert not any("HH_NO" in str(w.message) or "SEX" in str(w.message) for w in caught)
    assert r.attrs["derive_rules"]["unrecognised_columns"] == {"year_arival": ["year_arrival"]}


def test_derive_warns_about_a_column_in_other_case():
    df = pd.DataFrame({"Country_Birth": ["KEN", "UGA"], "citizenship": ["KEN", "KEN"]})
    with pytest.warns(SurveyWarning, match="did you mean 'country_birth'"):
        q.derive(df, ["foreign_citizen"], country="KEN")


@pytest.mark.parametrize(
    "columns, words",
    [
        ({"contry_birth": "COB"}, "did you mean 'country_birth'"),
        ({"country_birth": "CBO"}, "did you mean 'COB'"),
        ({"country_birth": "cob"}, "did you mean 'COB'"),
    ],
)
def test_a_misspelt_mapping_is_refused_with_a_suggestion(columns, words):
    with pytest.raises(SurveyError, match=words):
        q.derive(office_file(), ["foreign_born"], columns=columns, **REF)


def test_python_booleans_in_an_object_yes_no_column_are_answers():
    persons = pd.DataFrame({
        "country_birth": ["KEN", "KEN", "KEN"], "citizenship": ["KEN"] * 3,
        "year_arrival": [np.nan, np.nan, np.nan],
        "ever_lived_abroad": pd.Series([True, None, False], dtype=object),
    })
    out = derive_quietly(persons, ["recent_immigrant_5y"], country="KEN",
                         reference_date="2025-06-30")
    # said yes but no arrival year: unknown; not stated: unknown; said no: not an immigrant
    assert out["recent_immigrant_5y"].isna().tolist() == [True, True, False]
    assert out["ever_lived_abroad"].tolist() == [True, None, False]  # caller's values kept
