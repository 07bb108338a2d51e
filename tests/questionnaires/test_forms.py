"""Question modules: loading, XLSForm export/import, pyxform conversion, documents."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import questionnaires as q
from surveycore import SurveyError

pyxform = pytest.importorskip("pyxform")
from pyxform.xls2xform import convert  # noqa: E402

MODULES = list(q.available_modules()["name"])


def sheet_values(path):
    book = openpyxl.load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_available_modules():
    table = q.available_modules()
    assert {"core", "screening"} <= set(table["name"])
    assert dict(zip(table["name"], table["version"])) == {"core": "1.2.0", "screening": "1.0.0"}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("country", [None, "MAR"])
def test_xlsform_converts_with_pyxform(tmp_path, module, country):
    form = q.load(module, country=country)
    path = form.to_xlsform(tmp_path / f"{module}.xlsx")
    warnings: list[str] = []
    result = convert(str(path), warnings=warnings)
    assert "<h:html" in result.xform and "<bind" in result.xform
    assert warnings == []
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]


@pytest.mark.parametrize("module", MODULES)
def test_export_import_export_is_identical(tmp_path, module):
    form = q.load(module, country="FRA")
    first = form.to_xlsform(tmp_path / "first.xlsx")
    again = q.read_xlsform(first)
    second = again.to_xlsform(tmp_path / "second.xlsx")
    assert sheet_values(first) == sheet_values(second)
    for name, frame in form.xlsform_sheets().items():
        pd.testing.assert_frame_equal(frame, again.xlsform_sheets()[name])
    if module == "core":  # the reporting country lives in the form's calculate row
        assert again.country == "FRA"
    assert again.version == form.version


def test_core_form_content():
    form = q.load("core", country="FRA")
    names = [r["name"] for r in form.questions]
    for name in (
        "country_birth",
        "citizenship",
        "citizenship_acquired",
        "year_arrival",
        "month_arrival",
        "residence_1y",
        "residence_5y",
        "reason_migration",
        "intended_stay_months",
        "hh_members_abroad",
        "country_birth_father",
    ):
        assert name in names
        assert name in q.INPUTS  # question names are the derive() inputs
    sheets = form.xlsform_sheets()
    survey = sheets["survey"].set_index("name")
    assert survey.loc["year_arrival", "required"] == "yes"
    assert "${birth_year}" in survey.loc["year_arrival", "constraint"]
    assert "'FRA'" in survey.loc["reporting_country", "calculation"]
    assert survey.loc["citizenship_acquired", "relevant"]
    choices = sheets["choices"]
    countries = choices[choices["list_name"] == "countries"]["name"]
    assert len(countries) == 250 and "XXX" in set(countries) and "XXA" not in set(countries)
    cit = choices[choices["list_name"] == "citizenships"]["name"]
    assert {"XXA", "XXX", "FRA"} <= set(cit)
    # choice codes match the codes derive() accepts
    for qname, spec in q.INPUTS.items():
        if spec.kind == "choice" and qname in names:
            lst = form.question(qname)["type"].split()[1]
            assert {n for n, _ in form.choice_list(lst)} == set(spec.codes)


def test_read_hand_written_xlsform(tmp_path):
    path = tmp_path / "hand.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame(
            {
                "type": ["integer", "select_one yn", "text"],
                "name": ["age", "abroad", "where"],
                "label": ["Age", "Lived abroad?", "Where?"],
                "relevant": [None, "${age} >= 15", "selected(${abroad}, 'y')"],
                "constraint": [". < 120", None, None],
            }
        ).to_excel(w, sheet_name="survey", index=False)
        pd.DataFrame(
            {"list name": ["yn", "yn"], "name": ["y", "n"], "label": ["Yes", "No"]}
        ).to_excel(w, sheet_name="choices", index=False)
    form = q.read_xlsform(path)
    assert [r["name"] for r in form.questions] == ["age", "abroad", "where"]
    assert form.choice_list("yn") == [("y", "Yes"), ("n", "No")]
    report = form.validate(
        pd.DataFrame({"age": [10, 30], "abroad": ["y", "y"], "where": [None, "x"]})
    )
    assert report.table[["row", "question", "check"]].values.tolist() == [[0, "abroad", "skip"]]


@pytest.mark.parametrize(
    "survey, choices, words",
    [
        (
            [
                {"type": "integer", "name": "a", "label": "A"},
                {"type": "text", "name": "a", "label": "B"},
            ],
            [],
            "duplicate question name",
        ),
        ([{"type": "select_one nolist", "name": "a", "label": "A"}], [], "does not exist"),
        (
            [{"type": "integer", "name": "a", "label": "A", "relevant": "${a} >"}],
            [],
            "bad relevant",
        ),
        (
            [
                {"type": "integer", "name": "a", "label": "A", "relevant": "${b} = 1"},
                {"type": "integer", "name": "b", "label": "B"},
            ],
            [],
            "not asked before",
        ),
        ([{"type": "integr", "name": "a", "label": "A"}], [], "unknown question type"),
        (
            [{"type": "select_one l", "name": "a", "label": "A"}],
            [
                {"list_name": "l", "name": "x", "label": "X"},
                {"list_name": "l", "name": "x", "label": "Y"},
            ],
            "duplicate choice",
        ),
    ],
)
def test_bad_forms(survey, choices, words):
    with pytest.raises(SurveyError, match=words):
        q.Questionnaire(survey=tuple(survey), choices=tuple(choices), settings={})


def test_load_errors(tmp_path):
    with pytest.raises(SurveyError, match="unknown question module"):
        q.load("nonexistent")
    with pytest.raises(SurveyError, match="version"):
        q.load("core", version="9.9.9")
    with pytest.raises(SurveyError, match="country"):
        q.load("core", country="XYZ")
    with pytest.raises(SurveyError, match="no 'survey' sheet"):
        path = tmp_path / "x.xlsx"
        with pd.ExcelWriter(path) as w:
            pd.DataFrame({"a": [1]}).to_excel(w, sheet_name="questions", index=False)
        q.read_xlsform(path)


def test_load_from_yaml_path(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(
        "module: mini\nversion: '0.1'\ntitle: Mini\nchoices:\n  yn: [['yes', 'Yes'], ['no', 'No']]\n"
        "questions:\n  - {name: abroad, type: select_one yn, label: 'Abroad?', required: true}\n"
    )
    form = q.load(str(path))
    assert form.name == "mini" and form.version == "0.1"
    assert form.question("abroad")["required"] == "yes"


def test_reference_sheet(tmp_path):
    form = q.load("core", country="FRA")
    text = form.reference_sheet(tmp_path / "ref.html")
    assert (tmp_path / "ref.html").read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")
    assert "In which country was (NAME) born?" in text
    assert "Definition:" in text and "usual residence of the mother" in text
    assert "250 codes" in text  # country list summarised
    assert "Don&#x27;t know" in text  # escaped
    # skip rules in words, with question numbers and choice labels
    assert "if Q2 birth_year is at most the current year - 5" in text
    assert "Q10 ever_lived_abroad is “Yes”" in text
    assert "if Q6 citizenship is FRA" in text


def test_ddi_codebook(tmp_path):
    form = q.load("core", country="FRA")
    text = form.to_ddi(tmp_path / "core.xml")
    ns = {"d": "ddi:codebook:2_5"}
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "{ddi:codebook:2_5}codeBook"
    names = [v.get("name") for v in root.findall("d:dataDscr/d:var", ns)]
    assert "country_birth" in names and "foreign_born" in names and "reporting_country" in names
    structure = [r for r in form.survey if r["type"] in ("begin_repeat", "end_repeat")]
    assert len(names) == len(form.survey) - len(structure) + len(q.derived_variables())
    cob = root.find("d:dataDscr/d:var[@name='country_birth']", ns)
    assert cob.find("d:qstn/d:qstnLit", ns).text == "In which country was (NAME) born?"
    assert len(cob.findall("d:catgry", ns)) == 250
    assert root.find("d:stdyDscr/d:stdyInfo/d:sumDscr/d:nation", ns).text == "FRA"


def test_ddi_with_data_frequencies():
    form = q.load("core", country="FRA")
    data = pd.DataFrame(
        {
            "country_birth": ["FRA", "FRA", "MAR"],
            "citizenship": ["FRA", "MAR", "XXA"],
            "birth_year": [1980, 1990, 2000],
        }
    )
    data = q.derive(data, country="FRA")
    root = ET.fromstring(form.to_ddi(data=data).encode("utf-8"))
    ns = {"d": "ddi:codebook:2_5"}
    cob = root.find("d:dataDscr/d:var[@name='country_birth']", ns)
    freq = {
        c.find("d:catValu", ns).text: int(c.find("d:catStat", ns).text)
        for c in cob.findall("d:catgry", ns)
    }
    assert freq == {"FRA": 2, "MAR": 1}
    fb = root.find("d:dataDscr/d:var[@name='foreign_born']", ns)
    freq = {
        c.find("d:catValu", ns).text: int(c.find("d:catStat", ns).text)
        for c in fb.findall("d:catgry", ns)
    }
    assert freq == {"True": 1, "False": 2}
    by = root.find("d:dataDscr/d:var[@name='birth_year']", ns)
    stats = {s.get("type"): s.text for s in by.findall("d:sumStat", ns)}
    assert stats["min"] == "1980" and stats["max"] == "2000" and stats["vald"] == "3"
    assert root.find("d:fileDscr/d:fileTxt/d:dimensns/d:caseQnty", ns).text == "3"


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate (JavaRosa) needs Java")
@pytest.mark.parametrize("module", MODULES)
def test_odk_validate_accepts_the_forms(tmp_path, module):
    """JavaRosa (ODK Validate, bundled with pyxform) parses every expression of the form."""
    path = q.load(module, country="FRA").to_xlsform(tmp_path / f"{module}.xlsx")
    warnings: list[str] = []
    convert(str(path), warnings=warnings, validate=True)
    assert warnings == []


def test_earlier_versions_stay_loadable():
    table = q.available_modules().set_index("name")
    assert table.loc["core", "earlier_versions"] == "1.0.0 1.1.0"
    old = q.load("core", version="1.0.0", country="FRA")
    new = q.load("core", version="1.1.0", country="FRA")
    assert old.version == "1.0.0" and new.version == "1.1.0"
    assert not old.question("residence_1y").get("constraint")
    assert new.question("residence_1y")["constraint"]
    assert q.load("core").version == "1.2.0"


def test_translated_module(tmp_path):
    form = q.load(str(Path(__file__).parent / "data" / "bilingual.yaml"))
    assert form.languages == ["English (en)", "Français (fr)"]
    assert form.settings["default_language"] == "English (en)"
    sheets = form.xlsform_sheets()
    assert sheets["survey"].columns.tolist()[:4] == [
        "type",
        "name",
        "label::English (en)",
        "label::Français (fr)",
    ]
    path = form.to_xlsform(tmp_path / "bi.xlsx")
    warnings: list[str] = []
    convert(str(path), warnings=warnings)
    assert warnings == []
    again = q.read_xlsform(path)
    assert sheet_values(path) == sheet_values(again.to_xlsform(tmp_path / "bi2.xlsx"))
    fr = form.reference_sheet(language="fr")
    assert "Année de naissance" in fr and "Oui" in fr and "Year of birth" not in fr
    assert "Year of birth" in form.reference_sheet()
    report = form.validate(pd.DataFrame({"birth_year": [1800], "abroad": ["yes"]}))
    assert report.table["message"].tolist() == ["Too early"]
    with pytest.raises(SurveyError, match="language not in the form"):
        form.localised("de")


def test_translation_needs_declared_language(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "module: m\nversion: '1'\ntitle: M\nquestions:\n"
        "  - {name: a, type: integer, label: {en: A, fr: A}}\n"
    )
    with pytest.raises(SurveyError, match="does not declare"):
        q.load(str(path))


def test_core_module_asks_every_answer_derive_reads_and_the_emigrant_roster():
    form = q.load("core", country="KEN")
    names = [r["name"] for r in form.questions]
    assert set(names) == set(q.INPUTS) | set(q.EMIGRANT_INPUTS)
    survey = [r.get("name", r["type"]) for r in form.survey]
    start, end = survey.index("emigrants"), survey.index("end_repeat")
    assert survey[start + 1:end] == list(q.EMIGRANT_INPUTS)
    assert form.question("emigrants")["repeat_count"] == "${hh_members_abroad}"
    # the person-level check does not ask person rows for roster answers
    report = form.validate(pd.DataFrame({"birth_year": [1990], "country_birth": ["KEN"],
                                         "citizenship": ["KEN"]}), reference_date="2025-06-30")
    assert not set(report.table["question"]) & set(q.EMIGRANT_INPUTS)
