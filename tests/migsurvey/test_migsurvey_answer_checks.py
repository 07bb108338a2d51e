"""An office's interview files with impossible answers, unanswered questions, a domain without
a denominator and region labels that are not SDMX codes.

The census is the office's own (``migsurvey_office``: string EA codes with leading zeros,
sex 1/2, the office's column names); the persons file adds the answers of the migration
module under the office's names (``MONTH_ARR``, ``ACQ``, ``YCIT``, ``MCIT``) and keeps the
line number ``LINE``. Each test damages a copy of the files the way fieldwork does.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, fieldwork, office_census

from migsurvey.cli import EXIT_INPUT, main

SPEC = "country: KEN\nreference_year: 2025\nreference_date: '2025-06-30'\n" + OFFICE_COLUMNS + """\
  disposition: DISP
frame: {census: census.csv}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 20}
selection:
  household: {screening: migrant_household, take: {migrant: 10, other: 6}}
interviews:
  households: HOUSEHOLDS
  persons: PERSONS
  usual_residents: true
  columns:
    line: LINE
    citizenship: CITIZ
    year_arrival: YR_ARR
    month_arrival: MONTH_ARR
    citizenship_acquired: ACQ
    year_citizenship: YCIT
    month_citizenship: MCIT
weighting:
  - eligibility: {cells: [region]}
  - nonresponse: {cells: [screen]}
estimation:
  indicators: [INDICATORS]
  by: [[], [region]]
output:
  formats: [csv, xlsx, sdmx]
"""


def _answers(persons: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """The module's answers under the office's names: month of arrival (not after the
    reference date of 30 June 2025), acquisition of citizenship of foreign-born citizens."""
    rng = np.random.default_rng(seed)
    n = len(persons)
    fb = (persons["COB"] != "KEN").to_numpy()
    year = persons["YR_ARR"].to_numpy()
    month = np.where(year == 2025, rng.integers(1, 7, n), rng.integers(1, 13, n)).astype(float)
    naturalised = fb & (persons["CITIZ"] == "KEN").to_numpy()
    ycit = np.where(naturalised, np.maximum(year, 2015), np.nan)
    return persons.assign(
        MONTH_ARR=np.where(fb, month, np.nan),
        ACQ=np.where(naturalised, "naturalisation",
                     np.where(persons["CITIZ"] == "KEN", "birth", "")),
        YCIT=ycit, MCIT=np.where(naturalised, np.where(ycit == 2025, 2, 5), np.nan))


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    d = tmp_path_factory.mktemp("answers")
    census = office_census(seed=41, n_ea=40)
    census.to_csv(d / "census.csv", index=False)
    spec = d / "select.yaml"
    spec.write_text(_text(), encoding="utf-8")
    assert main(["select", "--spec", str(spec), "--out", str(d / "selected.csv"), "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    households, persons = fieldwork(selected, census, seed=4)
    households.to_csv(d / "households.csv", index=False)
    persons = _answers(persons)
    persons.to_csv(d / "persons.csv", index=False)
    return {"dir": d, "households": households, "persons": persons}


def _text(persons: str = "persons.csv", households: str = "households.csv",
          indicators: str = "MI1.1", **replace: str) -> str:
    text = (SPEC.replace("PERSONS", persons).replace("HOUSEHOLDS", households)
            .replace("INDICATORS", indicators))
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _files(office, name: str, persons: pd.DataFrame | None = None,
           households: pd.DataFrame | None = None, **spec_changes: str):
    d = office["dir"]
    (persons if persons is not None else office["persons"]).to_csv(d / f"{name}_p.csv",
                                                                   index=False)
    (households if households is not None else office["households"]).to_csv(
        d / f"{name}_h.csv", index=False)
    spec = d / f"{name}.yaml"
    spec.write_text(_text(f"{name}_p.csv", f"{name}_h.csv", **spec_changes), encoding="utf-8")
    return spec


def _run(capsys, *argv):
    code = main(list(map(str, argv)))
    err = capsys.readouterr().err
    assert "internal error" not in err
    return code, err


def _key(p: pd.DataFrame, i: int) -> str:
    return f"EA/household {p['EA_CODE'].iloc[i]}/{p['HH_NO'].iloc[i]} line {p['LINE'].iloc[i]}"


# ---------------------------------------------------------------- 8. impossible answers


@pytest.mark.parametrize(("age", "not_known"), [(999, True), (150, False), (-1, True)])
def test_impossible_age_is_refused_with_rows_and_hint(office, capsys, age, not_known):
    """Before: 999 and 150 were counted in 60+ (exit 0); now refused like -1, naming the
    question, file, rows and an example; 999 is offered as a code for 'not known'."""
    p = office["persons"].copy()
    p.loc[p.index[3], "AGE"] = age
    spec = _files(office, f"age{abs(age)}", p)
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "a.csv")
    assert code == EXIT_INPUT, err
    assert f"impossible answers to age (column 'AGE' of {office['dir']}" in err
    assert f"age{abs(age)}_p.csv" in err and ": 1 row" in err
    assert _key(p, 3) in err and f"age = {age}" in err and "(row 5 of the file)" in err
    assert "from 0 to 130" in err
    assert f"{spec}:" in err and "columns.age" in err
    assert ("unknown: [" + str(age) + "]" in err) == not_known
    assert not (office["dir"] / "a.csv").exists()


def test_not_known_code_becomes_unknown_not_a_number(office):
    """``unknown: [999]`` in the age mapping: the person's age is unknown (missing), never 999
    and never 60+; the other ages are read as they are."""
    from migsurvey.inputs import read_interviews
    from migsurvey.spec import load_spec

    p = office["persons"].copy()
    p.loc[p.index[3], "AGE"] = 999
    spec = _files(office, "age_dk", p, **{"  age: AGE": "  age: {column: AGE, unknown: [999]}"})
    iv = read_interviews(load_spec(spec), office["dir"] / "age_dk_h.csv",
                         office["dir"] / "age_dk_p.csv")
    got = iv.persons.set_index(["hh_key", "line"])["age"]
    key = (f"{p['EA_CODE'].iloc[3]}/{p['HH_NO'].iloc[3]}", p["LINE"].iloc[3])
    assert pd.isna(got.loc[key])
    others = p.drop(index=p.index[3])
    assert got.notna().sum() == len(others)
    assert (got.dropna() <= 130).all()


def test_arrival_before_birth_is_refused(office, capsys):
    """A 4-year-old who arrived in 1900: the core module's constraint (arrival cannot be
    before birth) refuses it; before, exit 0."""
    p = office["persons"].copy()
    child = np.flatnonzero(p["YR_ARR"].notna() & (p["AGE"] < 15))[0]
    p.loc[p.index[child], ["AGE", "YR_ARR"]] = [4, 1900]
    spec = _files(office, "arrival", p)
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "b.csv")
    assert code == EXIT_INPUT, err
    assert "impossible answers to year_arrival (column 'YR_ARR'" in err
    assert "Arrival cannot be before birth or in the future." in err
    assert _key(p, child) in err and "year_arrival = 1900" in err and "age 4" in err
    assert "columns.year_arrival" in err


def test_plausibility_rules_are_the_questionnaire_constraints():
    """The rules at their limits: age 4 on 30 June 2025 means a birth in 2020 or 2021, so an
    arrival in 2020 is possible and one in 2019 is not; an unknown age breaks no rule; a month
    13 and a month after the reference date are impossible; 130 is possible, 131 not."""
    from questionnaires import load
    from questionnaires.plausibility import impossible_answers

    df = pd.DataFrame({
        "age": [4, 4, None, 30, 30, 130, 131, "9x"],
        "year_arrival": [2020, 2019, 1900, 2010, 2025, None, None, None],
        "month_arrival": [None, None, None, 13, 7, None, None, None],
    })
    found = {b.question: np.flatnonzero(b.rows).tolist() for b in impossible_answers(
        df, load("core", country="KEN"), reference_date=datetime.date(2025, 6, 30))}
    assert found == {"age": [6, 7], "year_arrival": [1], "month_arrival": [3, 4]}


def test_unknown_codes_of_a_coded_column_are_not_refused():
    """``unknown:`` next to ``codes:``: the code 9 of sex is unknown, not a code to refuse."""
    from migsurvey.inputs import ColumnMapping

    spec = {"columns": {"sex": {"column": "SEX", "codes": {1: "M", 2: "F"}, "unknown": [9]}},
            "interviews": {}}
    m = ColumnMapping.from_spec(spec)
    raw = pd.DataFrame({"SEX": [1, 2, 9, 1]})
    out = m.apply(raw, what="persons file")
    assert out["sex"].tolist()[:2] == ["M", "F"] and pd.isna(out["sex"].iloc[2])
    assert raw["SEX"].tolist() == [1, 2, 9, 1]  # the user's frame is not changed


# ----------------------------------------------- 11. the question that is really missing


def test_mi13_names_the_unanswered_year_of_arrival(office, capsys):
    """Four foreign-born persons without year and month of arrival: the refusal names
    year_arrival and month_arrival and their rows, not intended_stay_months."""
    p = office["persons"].copy()
    rows = np.flatnonzero((p["COB"] != "KEN").to_numpy())[:4]
    p.loc[p.index[rows], ["YR_ARR", "MONTH_ARR"]] = np.nan
    spec = _files(office, "mi13", p, indicators="MI1.1, MI1.3")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "c.csv")
    assert code == EXIT_INPUT, err
    assert "MI1.3 cannot be estimated" in err
    assert "year_arrival (column YR_ARR, 4 rows)" in err
    assert "month_arrival (column MONTH_ARR, 4 rows)" in err
    refusal = err[err.index("error:"):]
    assert "intended_stay_months" not in refusal.split("warning:")[0]
    assert f"EA/household {p['EA_CODE'].iloc[rows[0]]}/{p['HH_NO'].iloc[rows[0]]} line " \
           f"{p['LINE'].iloc[rows[0]]}" in err
    assert "estimation.indicators[1]" in err and f"{spec}:" in err


# ------------------------------------------------------------- 12. zero denominator


def test_zero_denominator_points_at_the_grouping(office, capsys):
    """Region 1 has no foreign citizen: MI 1.2's rate there is 0/0. The refusal points at
    estimation.by[1] with its line, and its hint uses the specification's keys."""
    p = office["persons"].copy()
    region1 = set(office["households"].loc[office["households"]["REGION"] == 1, "EA_CODE"])
    r1 = p["EA_CODE"].isin(region1)
    p.loc[r1, ["CITIZ", "ACQ"]] = ["KEN", "birth"]
    p.loc[r1, ["YCIT", "MCIT"]] = np.nan
    spec = _files(office, "zero", p, indicators="MI1.2")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "z.csv")
    assert code == EXIT_INPUT, err
    assert f"{spec}:34:12: estimation.by[1]" in err and "estimation.by[1]" in err
    assert "foreign_citizen_start in region=1" in err
    assert "MI1.2 cannot be estimated in a domain" in err
    assert "out of estimation.by" in err and "out of estimation.indicators" in err
    assert "argument: denominator" not in err and "denominator=" not in err


# ------------------------------------------------------------- 10. SDMX codes of labels

LABELS = {1: "Île-de-Nord", 2: "Région Sud", 3: "Ouest", 4: "Est"}
CODES = "  sdmx_codes: {region: {Île-de-Nord: IDN, Région Sud: RS}}\n"


@pytest.fixture(scope="module")
def labelled(office):
    """The census and households with region labels that are not SDMX codes."""
    d = office["dir"]
    census = pd.read_csv(d / "census.csv", dtype={"EA_CODE": str})
    census.assign(REGION=census["REGION"].map(LABELS)).to_csv(d / "census_lab.csv",
                                                               index=False)
    hh = office["households"]
    hh = hh.assign(REGION=hh["REGION"].map(LABELS),
                   stratum=hh["stratum"].astype(str).str.replace(
                       r"^(\d+)", lambda m: LABELS[int(m.group(1))], regex=True))
    return hh


def _labelled_spec(office, labelled, name, extra=""):
    spec = _files(office, name, households=labelled, **{"census.csv": "census_lab.csv"})
    spec.write_text(spec.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return spec


def test_region_labels_without_sdmx_codes_are_refused_at_design(office, labelled, capsys):
    """Before: `design` passed and `estimate` failed with a Python hint (value_codes={...})
    after writing indicators.csv and .xlsx. Now `design` refuses with the key and a YAML
    hint, and a failing `estimate` leaves the release folder as it was."""
    spec = _labelled_spec(office, labelled, "sdmx_bad")
    code, err = _run(capsys, "design", "--spec", spec)
    assert code == EXIT_INPUT, err
    assert f"{spec}:" in err and "output.formats" in err
    assert "'Région Sud'" in err and "'Île-de-Nord'" in err
    assert "sdmx_codes: {region: {" in err and "REGION_SUD" in err and "ILE-DE-NORD" in err
    assert "value_codes" not in err
    out = office["dir"] / "release"
    out.mkdir()
    (out / "indicators.csv").write_text("last year's release\n", encoding="utf-8")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", out)
    assert code == EXIT_INPUT, err
    assert "value_codes" not in err and "sdmx_codes" in err
    assert sorted(f.name for f in out.iterdir()) == ["indicators.csv"]
    assert (out / "indicators.csv").read_text(encoding="utf-8") == "last year's release\n"


def test_region_labels_with_sdmx_codes_are_published(office, labelled, capsys):
    """output.sdmx_codes maps the labels; a label that is a valid code keeps its value."""
    spec = _labelled_spec(office, labelled, "sdmx_ok", CODES)
    code, err = _run(capsys, "design", "--spec", spec)
    assert code == 0, err
    out = office["dir"] / "release_ok"
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", out, "-q")
    assert code == 0, err
    assert {"indicators.csv", "indicators.xlsx", "indicators.sdmx.csv"} <= {
        f.name for f in out.iterdir()}
    assert not [f for f in out.iterdir() if f.name.startswith(".")]
    sdmx = pd.read_csv(out / "indicators.sdmx.csv", dtype=str, keep_default_na=False)
    assert set(sdmx["REGION"]) == {"_T", "IDN", "RS", "Ouest", "Est"}


@pytest.mark.parametrize(("extra", "words"), [
    ("  sdmx_codes: {region: {Région Sud: Région}}\n", "not a valid SDMX code"),
    ("  sdmx_codes: {region: {Ouest: W, Est: W}}\n", "two values with one SDMX code"),
    ("  sdmx_codes: {district: {A: B}}\n", "not a disaggregation"),
])
def test_sdmx_codes_are_checked_with_the_spec(office, labelled, capsys, extra, words):
    spec = _labelled_spec(office, labelled, "sdmx_keys", extra)
    code, err = _run(capsys, "design", "--spec", spec)
    assert code == EXIT_INPUT, err
    assert words in err and f"{spec}:" in err and "output.sdmx_codes" in err


@pytest.mark.parametrize("lazy", [False, True])
def test_census_not_known_codes_are_unknown_on_both_routes(tmp_path, monkeypatch, lazy):
    """``unknown:`` in ``columns:`` means the same for the census, read in pandas or by
    DuckDB: the age 999 and the sex 9 are unknown, never 60+ and never a refused code."""
    from migsurvey import inputs
    from migsurvey.pipeline import load_census
    from migsurvey.spec import load_spec

    census = office_census(seed=3, n_ea=8)
    census.loc[[0, 5], "AGE"] = 999
    census.loc[7, "SEX"] = 9
    census.to_csv(tmp_path / "census.csv", index=False)
    text = (_text().replace("  age: AGE", "  age: {column: AGE, unknown: [999]}")
            .replace("codes: {1: M, 2: F}}", "codes: {1: M, 2: F}, unknown: [9]}"))
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    if lazy:
        monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    c = load_census(load_spec(tmp_path / "spec.yaml"))
    ages = c.person_counts("age_group")
    sexes = c.person_counts("sex")
    truth = census[census["AGE"] != 999]
    assert ages["60+"] == (truth["AGE"] >= 60).sum()
    assert sum(ages.values()) == len(truth)
    assert sexes == {"M": (census["SEX"] == 1).sum(), "F": (census["SEX"] == 2).sum()}
