"""validate() finds each planted error in a test file and nothing in a clean one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import questionnaires as q
from surveycore import SurveyError

DATA = Path(__file__).parent / "data"
REF = "2025-06-30"


def read(name):
    return pd.read_csv(DATA / name, index_col="id", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def core():
    return q.load("core", country="FRA")


def test_clean_file_has_no_problem(core):
    clean = read("core_clean.csv")
    report = core.validate(clean, reference_date=REF)
    assert report.ok, report.table
    assert len(report) == 0 and report.n_rows == 12
    assert "no problems" in repr(report)


def test_every_planted_error_is_found_and_nothing_else(core):
    planted = read("core_planted.csv")
    before = planted.copy()
    report = core.validate(planted, reference_date=REF)
    pd.testing.assert_frame_equal(planted, before)  # data not modified
    expected = pd.read_csv(DATA / "core_planted_expected.csv", dtype=str, keep_default_na=False)
    found = {(r.row, r.question, r.check) for r in report.table.itertuples()}
    wanted = {(r.id, r.question, r.check) for r in expected.itertuples()}
    assert found == wanted
    # each kind of check is exercised
    assert set(report.table["check"]) == {"type", "choice", "skip", "required", "constraint"}
    values = {(r.row, r.question): r.value for r in report.table.itertuples()}
    for r in expected.itertuples():
        assert values[(r.id, r.question)] == r.value
    summary = report.summary()
    assert summary["n"].sum() == len(expected)
    assert set(report.rows_with_errors()) == set(expected["id"])


def test_messages_explain(core):
    report = core.validate(read("core_planted.csv"), reference_date=REF)
    t = report.table.set_index(["row", "question"])
    assert "before birth" in t.loc[("p03", "year_arrival"), "message"]
    assert "not relevant" in t.loc[("p02", "ever_lived_abroad"), "message"]
    assert "countries" in t.loc[("p03", "country_birth_father"), "message"]


def test_reference_date_moves_today(core):
    # the arrival in 2026 is fine when the reference date is in 2026
    one = read("core_clean.csv").loc[["p02"]].assign(year_arrival=2026, month_arrival=1)
    assert not core.validate(one, reference_date=REF).ok
    later = core.validate(one.assign(intended_stay_months=24), reference_date="2026-03-01")
    assert later.ok, later.table


def test_form_without_country_is_refused():
    with pytest.raises(SurveyError, match="reporting country"):
        q.load("core").validate(read("core_clean.csv"))


def test_missing_required_column(core):
    data = read("core_clean.csv").drop(columns=["citizenship"])
    report = core.validate(data, reference_date=REF)
    col = report.table[report.table["check"] == "column"]
    assert col["question"].tolist() == ["citizenship"]


def test_screening_form_and_calculation():
    form = q.load("screening")
    data = pd.DataFrame(
        {
            "hh_size": [3, 0, 2],
            "hh_any_foreign_born": ["no", "yes", "maybe"],
            "hh_any_foreign_citizen": ["no", "no", "no"],
            "hh_any_recent_arrival": ["no", "no", "no"],
            "hh_any_returned": ["yes", None, None],
            "hh_members_abroad": [0, 1, None],
        }
    )
    report = form.validate(data)
    got = sorted((r.row, r.question, r.check) for r in report.table.itertuples())
    assert got == [
        (0, "hh_any_returned", "skip"),
        (1, "hh_size", "constraint"),
        (2, "hh_any_foreign_born", "choice"),
        (2, "hh_members_abroad", "required"),
    ]


def test_validated_data_derive():
    """The core form's answers are the inputs of derive()."""
    clean = read("core_clean.csv")
    out = q.derive(clean, country="FRA", reference_date=REF)
    assert out.loc["p04", "returning_citizen"]
    assert out.loc["p03", "stateless"] and out.loc["p03", "foreign_citizen"]
    assert pd.isna(out.loc["p07", "birth_citizenship_group"])  # unknown stays unknown
    assert pd.isna(out.loc["p07", "foreign_born"])
    assert out.loc["p08", "temporary_mobility"] == "IN_STUDENT"
    assert out.loc["p11", "temporary_mobility"] == "IN_WORKER"
    assert not out.loc["p11", "usual_resident"] and not out.loc["p11", "immigrant_12m"]
    assert out.loc["p02", "immigrant_12m"]
    assert out.loc["p06", "acquired_citizenship"] and out.loc["p06", "years_since_arrival"] == 30
    assert out.loc["p09", "second_generation"]
