"""Specification mistakes through the command line: exit code, the key and its line.

Each row is one mistake an office made (or could make); `migsurvey design` must refuse it
before anything runs, with the documented exit code and a message naming the spec key and
``file:line``. None may end in an internal error.
"""

from __future__ import annotations

import pandas as pd
import pytest

from migsurvey.cli import EXIT_FILE, EXIT_INPUT, main

CENSUS = pd.DataFrame({
    "EA_CODE": ["0001", "0001", "0002", "0002", "0003", "0004"],
    "HH_NO": [1, 2, 1, 1, 1, 1],
    "REGION": [1, 1, 1, 1, 2, 2],
    "SEX": [1, 2, 2, 1, 1, 2],
    "AGE": [30, 4, 55, 61, 20, 33],
    "COB": ["KEN", "KEN", "UGA", "KEN", "SOM", "KEN"],
})

MAPPED = """\
country: KEN
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
frame:
  census: census.csv
strata: {by: [region], cuts: [0.1], labels: [low, high]}
weighting:
  - nonresponse: {cells: [screen]}
  - rake: {margins: [region, sex, age_group]}
estimation:
  indicators: [MI1.1]
  by: [[], [sex], [age_group]]
"""

CASES = [
    # (what, spec text, exit code, key, line, words in the message)
    ("too few PSUs", "sample:\n  psus: 1\n", EXIT_INPUT, "sample.psus", 2, "from 2"),
    ("NaN power", "sample:\n  power: .nan\n", EXIT_INPUT, "sample.power", 2, "finite"),
    ("infinite level", "estimation:\n  level: .inf\n", EXIT_INPUT, "estimation.level", 2,
     "finite"),
    ("duplicate key", "seed: 1\nsample: {psus: 10}\nseed: 2\n", EXIT_INPUT, "seed", 3,
     "each key once"),
    ("YAML alias", "strata:\n  by: &r [region]\nestimation:\n  by: *r\n", EXIT_INPUT,
     "strata.by", 2, "anchors"),
    ("YAML alias bomb", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", EXIT_INPUT,
     ": a", 1, "aliases"),
    ("YAML tag", "name: !!python/object:os.system x\n", EXIT_INPUT, "name", 1, "tags"),
    ("unknown country", "country: XYZ\n", EXIT_INPUT, "country", 1, "alpha-3"),
    ("unknown indicator", "estimation:\n  indicators: [MI1.1, MI9]\n", EXIT_INPUT,
     "estimation.indicators[1]", 2, "MI1.1"),
    ("unknown preset", "quality:\n  preset: strict\n", EXIT_INPUT, "quality.preset", 2,
     "statcan_cchs"),
    ("misspelt key", "sample:\n  pssu: 4\n", EXIT_INPUT, "sample.pssu", 2, "psus"),
    ("text for a number", "sample:\n  psus: ten\n", EXIT_INPUT, "sample.psus", 2, "integer"),
    ("bounds around 1", "weighting:\n  - calibrate: {bounds: [1.2, 3]}\n", EXIT_INPUT,
     "weighting[0].calibrate.bounds", 2, "L < 1 < U"),
    ("person step first", "weighting:\n  - rake: {}\n  - nonresponse: {}\n", EXIT_INPUT,
     "weighting[1].nonresponse", 3, "before"),
    ("unknown step", "weighting:\n  - poststrat: {}\n", EXIT_INPUT, "weighting[0].poststrat", 2,
     "calibrate"),
    ("bad reference date", "reference_date: '2025-02-30'\n", EXIT_INPUT, "reference_date", 1,
     "YYYY-MM-DD"),
    ("cuts and labels", "strata:\n  cuts: [0.1]\n", EXIT_INPUT, "strata.labels", 0, "2 labels"),
    ("unknown standard name", "columns:\n  ea: EA_CODE\n", EXIT_INPUT, "columns.ea", 2,
     "ea_id"),
    ("sex codes", "columns:\n  sex: {column: SEX, codes: {1: male}}\n", EXIT_INPUT,
     "columns.sex.codes.1", 2, "F or M"),
    ("missing census", "frame:\n  census: nowhere.csv\n", EXIT_FILE, "frame.census", 2,
     "not found"),
    ("unknown screening class in take", "selection:\n  household:\n    take: {migrant: 8, "
     "others: 5}\n", EXIT_INPUT, "selection.household.take.others", 3, "did you mean 'other'"),
    ("screening class without a take", "selection:\n  household:\n    take: {migrant: 8}\n",
     EXIT_INPUT, "selection.household.take", 3, "add other: N"),
    ("unknown empty_completes", "interviews:\n  empty_completes: zero\n", EXIT_INPUT,
     "interviews.empty_completes", 2, "nonresponse"),
    ("mapped column not in the census", MAPPED.replace("COB", "BIRTHPLACE"), EXIT_INPUT,
     "columns.country_birth", 8, "BIRTHPLACE"),
    ("census lacks a needed column", MAPPED.replace("  country_birth: COB\n", ""), EXIT_INPUT,
     "columns", 2, "country_birth"),
    ("sex without its codes", MAPPED.replace("{column: SEX, codes: {1: M, 2: F}}", "SEX"),
     EXIT_INPUT, "columns.sex", 6, "F/M"),
    # every column the spec names is checked at parse time against the mapped headers and the
    # variables `derive` can make from them
    ("by column in no input", MAPPED.replace("[age_group]]", "[religion]]"), EXIT_INPUT,
     "estimation.by[2][0]", 17, "'religion'"),
    ("by column misspelt", MAPPED.replace("[sex], [age", "[sexe], [age"), EXIT_INPUT,
     "estimation.by[1][0]", 17, "did you mean 'sex'"),
    ("derived variable without its questions", MAPPED.replace("[age_group]]",
     "[parental_background]]"), EXIT_INPUT, "estimation.by[2][0]", 17, "need their questions"),
    ("strata column not in the census", MAPPED.replace("by: [region], cuts", "by: [province], "
     "cuts"), EXIT_INPUT, "strata.by[0]", 11, "'province'"),
    ("crossed margin misspelt", MAPPED.replace("margins: [region, sex, age_group]",
     "margins: [[region, sexx], age_group]"), EXIT_INPUT, "weighting[1].rake.margins[0][1]", 14,
     "did you mean 'sex'"),
    ("nonresponse cell not in the households", MAPPED.replace("cells: [screen]",
     "cells: [screening]"), EXIT_INPUT, "weighting[0].nonresponse.cells[0]", 13, "'screen'"),
    ("default cells the census cannot give", MAPPED.replace("{cells: [screen]}", "{}"),
     EXIT_INPUT, "weighting[0].nonresponse.cells[0]", 13, "is the default"),
    ("measure of size not in the frame", MAPPED.replace("  census: census.csv\n",
     "  census: census.csv\n  size: hh_count\n"), EXIT_INPUT, "frame.size", 11, "households"),
    ("screening column not in the listing", MAPPED + "selection:\n  household: "
     "{screening: migrant_hh}\n", EXIT_INPUT, "selection.household.screening", 19,
     "migrant_household"),
    ("key variable misspelt", MAPPED + "diagnostics: {key_variables: [foreign_bron]}\n",
     EXIT_INPUT, "diagnostics.key_variables[0]", 18, "did you mean 'foreign_born'"),
    ("by column not in the interview persons file", MAPPED.replace("[sex], [age_group]",
     "[marital_status], [age_group]") + "interviews: {persons: persons.csv}\n", EXIT_INPUT,
     "estimation.by[1][0]", 17, "did you mean 'marital'"),
]


@pytest.mark.parametrize("what, text, code, key, line, words", CASES,
                         ids=[c[0] for c in CASES])
def test_spec_mistake(tmp_path, capsys, what, text, code, key, line, words):
    CENSUS.to_csv(tmp_path / "census.csv", index=False)
    CENSUS.drop(columns="REGION").assign(marital="single").to_csv(tmp_path / "persons.csv",
                                                                  index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    got = main(["design", "--spec", str(spec)])
    err = capsys.readouterr().err
    assert got == code, err
    assert "internal error" not in err
    if line:
        assert f"{spec}:{line}:" in err, err
    assert key in err and words in err, err


def test_columns_that_inputs_and_derive_give_are_accepted(tmp_path, capsys):
    """Census columns, derived variables makeable from them, the columns `select` writes and
    the columns of an interview file all pass the parse-time check."""
    CENSUS.to_csv(tmp_path / "census.csv", index=False)
    CENSUS.drop(columns="REGION").assign(marital="single").to_csv(tmp_path / "persons.csv",
                                                                  index=False)
    text = MAPPED.replace("[age_group]]", "[age_group], [foreign_born, sex], [marital], "
                          "[screen], [stratum]]") + "interviews: {persons: persons.csv}\n"
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.replace("psus: 1", ""), encoding="utf-8")
    from migsurvey.spec import load_spec
    from migsurvey.spec_columns import available_columns, check_spec_columns

    s = load_spec(spec)
    check_spec_columns(s)
    avail = available_columns(s)
    assert {"foreign_born", "age_group", "marital", "screen"} <= avail.persons
    assert "foreign_citizen" not in avail.persons  # no citizenship question
    assert {"region", "households", "foreign_born"} <= avail.frame


def test_every_step_gets_its_defaults():
    """A spec without `weighting:`, or with steps that give few options, has every key."""
    from migsurvey.spec import parse_spec

    spec = parse_spec("name: x\n")
    assert spec["weighting"][1]["rake"]["tol"] == 1e-8
    spec = parse_spec("weighting:\n  - rake: {margins: [sex]}\n  - trim: {upper: 9}\n")
    assert spec["weighting"][0]["rake"] == {"margins": ["sex"], "tol": 1e-8, "max_iter": 100,
                                             "population": "all"}
    assert spec["weighting"][1]["trim"] == {"upper": 9, "lower": None}
    assert spec["diagnostics"]["g_max"] == 5.0 and spec["interviews"]["disposition"]


def test_by_column_not_in_the_data(tmp_path):
    """A `by` column that no input has is named with its spec key and line at estimation."""
    from migsurvey.pipeline import estimate_indicators
    from migsurvey.spec import parse_spec
    from surveycore import SurveyError

    spec = parse_spec("estimation:\n  indicators: [MI1.1]\n  by: [[sex], [religion]]\n",
                      source="s.yaml")
    persons = pd.DataFrame({"ea_id": ["01", "01", "02", "02"], "stratum": "a",
                            "weight": 1.0, "sex": ["F", "M", "F", "M"],
                            "foreign_born": [0.0, 1.0, 0.0, 0.0], "usual_resident": 1.0})
    with pytest.raises(SurveyError) as info:
        estimate_indicators(persons, None, "weight", spec)
    assert info.value.argument == "s.yaml:3:15: estimation.by[1]"
    assert "religion" in info.value.found


def test_spec_size_is_capped(tmp_path, capsys):
    spec = tmp_path / "big.yaml"
    spec.write_text("name: x\n" + "#" * 1_100_000, encoding="utf-8")
    assert main(["design", "--spec", str(spec)]) == EXIT_INPUT
    assert "bytes" in capsys.readouterr().err


def test_columns_of_a_synthetic_census_folder(tmp_path, capsys):
    """A census folder written by `migsurvey frame --synthetic` is checked from its schemas."""
    from migsurvey.synthetic import write_census

    write_census(tmp_path / "census", 20_000, seed=1)
    spec = tmp_path / "spec.yaml"
    base = "frame: {census: census}\nsample: {psus: 40}\n"
    spec.write_text(base, encoding="utf-8")
    assert main(["design", "--spec", str(spec), "-q"]) == 0
    spec.write_text(base + "estimation:\n  by: [[sex], [educaton]]\n", encoding="utf-8")
    assert main(["design", "--spec", str(spec)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{spec}:4:" in err and "estimation.by[1][0]" in err
    assert "did you mean 'education'" in err


def test_columns_of_the_synthetic_census(tmp_path, capsys):
    """The demo's synthetic census is checked too: a `by` column it does not have is refused
    by `migsurvey design` with its key and line, before anything is generated."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("sample: {psus: 30}\nestimation:\n  by: [[], [nationality]]\n",
                    encoding="utf-8")
    assert main(["design", "--spec", str(spec)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{spec}:3:" in err and "estimation.by[1][0]" in err and "'nationality'" in err
    assert "the synthetic census" in err
