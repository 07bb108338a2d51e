"""One census, four ways of storing it: the frame and the calibration counts do not change.

An office writes its census as CSV or Parquet and the package reads a file either into memory
or lazily through DuckDB. The census here is made in the test with the office's column names,
region codes ``01``–``04`` with their leading zero, and a few persons whose country of birth
is blank (an empty string in Parquet, an empty field in CSV, spaces in either). Every route
must keep ``01`` as ``01`` and count a blank country of birth as unknown, never as "born here"
and never as an error in one format only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, OFFICE_SPEC, office_census

import migsurvey.inputs as inputs
from migsurvey.cli import main
from migsurvey.io import csv_column_types, read_table
from migsurvey.spec import parse_spec


def _census() -> pd.DataFrame:
    census = office_census(seed=8, n_ea=40)
    census["REGION"] = census["REGION"].map(lambda r: f"{r:02d}")
    blank = census.index[[3, 50, 51, 400]]
    census.loc[blank[:3], "COB"] = ""
    census.loc[blank[3:], "COB"] = "   "
    return census


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    census = _census()
    census.to_csv(d / "census.csv", index=False)
    census.to_parquet(d / "census.parquet", index=False)
    return d, census


def _frame(files, name, tmp_path, lazy, monkeypatch):
    d, _ = files
    if lazy:
        monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(OFFICE_SPEC.replace("CENSUS", str(d / name)), encoding="utf-8")
    out = tmp_path / f"{name}-{lazy}.csv"
    assert main(["frame", "--spec", str(spec), "--out", str(out), "-q"]) == 0
    return pd.read_csv(out, dtype=str)


@pytest.mark.parametrize("lazy", [False, True], ids=["memory", "duckdb"])
@pytest.mark.parametrize("name", ["census.csv", "census.parquet"])
def test_region_codes_keep_their_zeros_and_blanks_are_unknown(files, name, lazy, tmp_path,
                                                               monkeypatch):
    _, census = files
    frame = _frame(files, name, tmp_path, lazy, monkeypatch)
    assert set(frame["REGION"]) == {"01", "02", "03", "04"}
    assert frame["stratum"].str.match(r"0[1-4]:").all()
    # foreign-born counted by hand: a known country other than KEN; blanks are not foreign
    cob = census["COB"].str.strip()
    hand = ((cob != "KEN") & (cob != "")).groupby(census["EA_CODE"]).sum()
    got = frame.set_index("EA_CODE")["foreign_born"].astype(int)
    pd.testing.assert_series_equal(got.sort_index(), hand.sort_index().rename("foreign_born"),
                                   check_names=False, check_index_type=False)


def test_every_route_gives_one_frame(files, tmp_path, monkeypatch):
    frames = [_frame(files, n, tmp_path, False, monkeypatch)
              for n in ("census.csv", "census.parquet")]
    monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    frames += [_frame(files, n, tmp_path, True, monkeypatch)
               for n in ("census.csv", "census.parquet")]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)


@pytest.mark.parametrize("name", ["census.csv", "census.parquet"])
def test_blank_country_of_birth_is_unknown_in_the_person_table(files, name, monkeypatch):
    d, census = files
    spec = parse_spec(OFFICE_SPEC.replace("CENSUS", str(d / name)))
    persons = inputs.read_census(spec).persons
    blank = census["COB"].str.strip() == ""
    assert persons["country_birth"][blank.to_numpy()].isna().all()
    assert persons["country_birth"][~blank.to_numpy()].notna().all()
    assert set(persons["region"]) == {"01", "02", "03", "04"}
    # the census the office gave is not changed by reading it
    assert (census["COB"].iloc[[3, 50, 51]] == "").all()


def test_csv_column_types_follow_duckdb():
    raw = pd.DataFrame({"code": ["01", "10", None], "n": ["3", "4", "5"], "x": ["0.5", None, "2"],
                        "word": ["a", "1", "2"], "empty": [None, None, None],
                        "zero": ["0", "5", "10"]})
    got = csv_column_types(raw)
    assert got["code"].tolist() == ["01", "10", None]
    assert got["n"].dtype == np.int64 and got["n"].tolist() == [3, 4, 5]
    assert got["x"].dtype == float and np.isnan(got["x"][1])
    assert got["word"].tolist() == ["a", "1", "2"]
    assert got["empty"].isna().all()
    assert got["zero"].tolist() == [0, 5, 10]
    assert csv_column_types(raw, keep_text=["n"])["n"].tolist() == ["3", "4", "5"]


def test_read_table_csv_keeps_code_text(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("REGION,AGE,HH\n01,30,7\n12,41,8\n", encoding="utf-8")
    t = read_table(p, text=["HH"])
    assert t["REGION"].tolist() == ["01", "12"]
    assert t["AGE"].tolist() == [30, 41]
    assert t["HH"].tolist() == ["7", "8"]


ROUTE = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  disposition: DISP
frame: {census: CENSUS}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 24}
selection:
  household: {screening: migrant_household, take: {migrant: 8, other: 4}}
interviews: {households: HOUSEHOLDS, persons: persons.csv, usual_residents: true}
weighting:
  - eligibility: {cells: [screen]}
  - nonresponse: {cells: [screen]}
  - calibrate: {margins: [[region, sex]], method: linear}
estimation: {indicators: [MI1.1], by: [[], [region]]}
"""


@pytest.fixture(scope="module")
def route(tmp_path_factory, files):
    """A Parquet census with codes 01–04 → ``migsurvey select`` writes its CSV → fieldwork."""
    from migsurvey_office import fieldwork

    d = tmp_path_factory.mktemp("route")
    src, census = files
    spec = d / "select.yaml"
    spec.write_text(ROUTE.replace("CENSUS", str(src / "census.parquet"))
                    .replace("HOUSEHOLDS", "households.csv"), encoding="utf-8")
    assert main(["select", "--spec", str(spec), "--out", str(d / "selected.csv"), "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype=str)
    assert set(selected["REGION"]) <= {"01", "02", "03", "04"}
    selected["HH_NO"] = selected["HH_NO"].astype(int)
    households, persons = fieldwork(selected, census.assign(COB=census["COB"].where(
        census["COB"].str.strip() != "", "KEN")), seed=4)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    households.assign(REGION=households["REGION"].str.lstrip("0")).to_csv(
        d / "households_unpadded.csv", index=False)
    persons.assign(HH_NO=persons["HH_NO"].map(lambda h: f"{int(h):03d}")).to_csv(
        d / "persons_padded.csv", index=False)
    return d, src


def _estimate(route, households: str, capsys):
    d, src = route
    spec = d / f"{households}.yaml"
    spec.write_text(ROUTE.replace("CENSUS", str(src / "census.parquet"))
                    .replace("HOUSEHOLDS", households), encoding="utf-8")
    code = main(["estimate", "--spec", str(spec), "--out", str(d / f"{households}.out.csv"),
                 "-q"])
    return code, capsys.readouterr().err


def test_select_writes_codes_that_weighting_reads_back(route, capsys):
    code, err = _estimate(route, "households.csv", capsys)
    assert code == 0, err
    out = pd.read_csv(route[0] / "households.csv.out.csv", dtype={"region": str})
    assert set(out["region"]) == {"_T", "01", "02", "03", "04"}


def test_codes_written_differently_are_named_a_coding_mismatch(route, capsys):
    code, err = _estimate(route, "households_unpadded.csv", capsys)
    assert code != 0
    assert "coding mismatch between the census and the interviews: region" in err
    assert "'01'" in err and "weighting[2].calibrate" in err


def test_household_numbers_written_differently_are_named_first(route, capsys):
    """Persons numbered 003 against households numbered 3: the message names the identifiers
    (not "completed households without persons", whose hint would drop every interview) and
    the specification key the persons file came from."""
    d, src = route
    spec = d / "padded.yaml"
    spec.write_text(ROUTE.replace("CENSUS", str(src / "census.parquet"))
                    .replace("HOUSEHOLDS", "households.csv")
                    .replace("persons: persons.csv", "persons: persons_padded.csv"),
                    encoding="utf-8")
    code = main(["weight", "--spec", str(spec), "--out", str(d / "w.csv"), "-q"])
    err = capsys.readouterr().err
    assert code != 0
    assert "persons of households that are not in the households file" in err
    assert "write the identifiers EA_CODE/HH_NO differently" in err and "persons ↔ households" in err
    assert "interviews.persons" in err and "--persons" not in err
    assert "empty_completes" not in err


def test_lazy_and_in_memory_csv_agree_on_every_row(tmp_path, monkeypatch):
    """Codes whose zero appears only late in the file, a province coded NA, ages answered NK
    (declared the office's code for an unknown age): DuckDB's type guess from the first rows
    would read 12, 11 … as numbers and fail on NK; the lazy route must type each column on
    all its rows, as the in-memory route does."""
    census = office_census(seed=9, n_ea=40)
    census = census.sort_values("REGION", ascending=False, kind="stable").reset_index(drop=True)
    census["REGION"] = census["REGION"].map({4: "12", 3: "11", 2: "NA", 1: "01"})
    census["AGE"] = census["AGE"].astype(object)
    census.loc[census.index[-3:], "AGE"] = "NK"
    census.to_csv(tmp_path / "census.csv", index=False)
    spec = tmp_path / "s.yaml"
    spec.write_text(OFFICE_SPEC.replace("CENSUS", str(tmp_path / "census.csv"))
                    .replace("age: AGE", "age: {column: AGE, unknown: [NK]}"), encoding="utf-8")
    assert main(["frame", "--spec", str(spec), "--out", str(tmp_path / "m.csv"), "-q"]) == 0
    monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    assert main(["frame", "--spec", str(spec), "--out", str(tmp_path / "l.csv"), "-q"]) == 0
    memory = pd.read_csv(tmp_path / "m.csv", dtype=str, keep_default_na=False)
    lazy = pd.read_csv(tmp_path / "l.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(memory, lazy)
    assert set(memory["REGION"]) == {"12", "11", "NA", "01"}
    counts = inputs.read_census(parse_spec(spec.read_text())).person_counts("region")
    assert counts == {"12": int((census["REGION"] == "12").sum()),
                      "11": int((census["REGION"] == "11").sum()),
                      "NA": int((census["REGION"] == "NA").sum()),
                      "01": int((census["REGION"] == "01").sum())}


def test_excel_text_cells_keep_their_zeros(tmp_path):
    census = _census().iloc[:400]
    census.to_excel(tmp_path / "census.xlsx", index=False)
    got = read_table(tmp_path / "census.xlsx")
    assert set(got["REGION"]) <= {"01", "02", "03", "04"}
    assert got["AGE"].dtype.kind in "if" and got["AGE"].tolist() == census["AGE"].tolist()
    assert got["EA_CODE"].str.fullmatch(r"\d{4}").all()


def test_csv_na_is_a_code_in_text_and_missing_in_numbers(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("PROV,AGE,W\nNA,30,1.5\nRM,NA,NA\n", encoding="utf-8")
    t = read_table(p)
    assert t["PROV"].tolist() == ["NA", "RM"]
    assert t["AGE"].tolist()[0] == 30 and np.isnan(t["AGE"].tolist()[1])
    assert np.isnan(t["W"].tolist()[1])


def test_ea_codes_without_their_zeros_are_a_coding_mismatch(tmp_path, files):
    """EAs selected by Sampford are found in the frame by their codes: interview files whose
    codes lost their zeros (0012 → 12) are refused, not estimated with another design."""
    from migsurvey_office import fieldwork

    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec
    from surveycore import SurveyError

    src, census = files
    text = (ROUTE.replace("CENSUS", str(src / "census.parquet"))
            .replace("HOUSEHOLDS", "households.csv")
            .replace("  household: {screening",
                     "  psu: {method: sampford, size: households}\n  household: {screening"))
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text(text, encoding="utf-8")
    assert main(["select", "--spec", str(spec_path), "--out", str(tmp_path / "sel.csv"),
                 "-q"]) == 0
    sel = pd.read_csv(tmp_path / "sel.csv", dtype=str)
    sel["HH_NO"] = sel["HH_NO"].astype(int)
    hh, pp = fieldwork(sel, census.assign(COB=census["COB"].where(
        census["COB"].str.strip() != "", "KEN")), seed=4)
    hh.assign(EA_CODE=hh["EA_CODE"].astype(int)).to_csv(tmp_path / "h.csv", index=False)
    pp.assign(EA_CODE=pp["EA_CODE"].astype(int)).to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(SurveyError, match="coding mismatch between the census and the "
                                          "interviews: EA codes"):
        estimate_interviews(load_spec(spec_path), tmp_path / "h.csv", tmp_path / "p.csv")
