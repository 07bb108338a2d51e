"""Careless and hostile files on the command line of an office's survey.

The census, households and persons files are the office's own (``migsurvey_office``: EA codes
with leading zeros, sex 1/2, the office's column names ``EA_CODE, HH_NO, AGE, COB, DISP``).
Each test damages a copy the way a user or a spreadsheet does: an output named like an input,
census ages no one can have, a column twice in a header, a data file that is a device or a
pipe, a merge key or deep brackets in YAML, ages stored as Excel dates, blank dispositions,
impossible weights in a weighted file. Every refusal names the file, the column or the
specification key, and exits with the code of bad input (3; 4 for a file that cannot be read).
"""

from __future__ import annotations

import os
import shutil
import signal
import time

import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, OFFICE_SCREENING, fieldwork, office_census

from migsurvey.cli import EXIT_FILE, EXIT_INPUT, main
from migsurvey.io import read_header, read_table
from migsurvey.overwrite import refuse_overwrite
from surveycore import SurveyError

SPEC = ("country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + "  disposition: DISP\n"
        + OFFICE_SCREENING + "estimation: {indicators: [MI1.1], by: [[], [sex]]}\n")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("careless")
    census = office_census(seed=13, n_ea=40).drop(columns=["LINE", "CITIZ", "YR_ARR"])
    census.to_csv(d / "census.csv", index=False)
    (d / "survey.yaml").write_text(SPEC, encoding="utf-8")
    assert main(["select", "--spec", str(d / "survey.yaml"), "--out",
                 str(d / "selected.csv"), "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    households, persons = fieldwork(selected, census, seed=3)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    assert main(["weight", "--spec", str(d / "survey.yaml"), "--out", str(d / "weighted.csv"),
                 "-q"]) == 0
    return d


@pytest.fixture
def work(base, tmp_path):
    """A fresh copy of the office's files."""
    for f in ("census.csv", "households.csv", "persons.csv", "survey.yaml", "weighted.csv"):
        shutil.copy(base / f, tmp_path / f)
    return tmp_path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "internal error" not in err
    return code, err


def _contents(d):
    return {f: (d / f).read_bytes() for f in ("census.csv", "households.csv", "persons.csv",
                                              "survey.yaml")}


# ------------------------------------------------------------------ outputs over inputs


@pytest.mark.parametrize("argv", [
    ["estimate", "--out", "persons.csv"],
    ["estimate", "--out", "census.csv"],
    ["estimate", "--out", "survey.yaml"],
    ["estimate", "--out", "link.csv"],                 # a symbolic link to the persons file
    ["estimate", "--out", "hard.csv"],                 # a hard link to the households file
    ["estimate", "--out", "nowhere/../persons.csv"],   # a folder that does not exist, and back
    ["weight", "--out", "persons.csv", "--households-out", "households.csv"],
    ["weight", "--out", "w.csv", "--households-out", "households.csv"],
    ["select", "--out", "census.csv"],
    ["select", "--out", "s.csv", "--psus", "survey.yaml"],
    ["frame", "--out", "census.csv"],
    ["design", "--out", "households.csv"],
    ["report", "--out", "persons.csv"],
])
def test_an_output_never_replaces_an_input(work, capsys, monkeypatch, argv):
    monkeypatch.chdir(work)
    os.symlink(work / "persons.csv", work / "link.csv")
    os.link(work / "households.csv", work / "hard.csv")
    before = _contents(work)
    code, err = _run(capsys, argv[0], "--spec", "survey.yaml", *argv[1:], "-q")
    assert code == EXIT_INPUT, err
    assert "an output would replace an input file" in err
    assert _contents(work) == before
    assert not (work / "nowhere").exists() and not (work / "w.csv").exists()


def test_two_outputs_of_one_command_are_different_files(work, capsys, monkeypatch):
    monkeypatch.chdir(work)
    code, err = _run(capsys, "weight", "--spec", "survey.yaml", "--out", "w.csv",
                     "--households-out", "./w.csv", "-q")
    assert code == EXIT_INPUT and "another output of the command" in err


def test_a_release_folder_never_replaces_an_input_in_it(work, capsys, monkeypatch):
    """``--out .`` writes indicators.csv into the folder of the interview files: when the
    persons file has that name, nothing is written and the input is intact."""
    monkeypatch.chdir(work)
    os.rename(work / "persons.csv", work / "indicators.csv")
    spec = (work / "survey.yaml").read_text().replace("persons: persons.csv",
                                                      "persons: indicators.csv")
    (work / "survey.yaml").write_text(spec)
    before = (work / "indicators.csv").read_bytes()
    code, err = _run(capsys, "estimate", "--spec", "survey.yaml", "--out", ".", "-q")
    assert code == EXIT_INPUT, err
    assert "indicators.csv" in err and "interviews.persons" in err
    assert (work / "indicators.csv").read_bytes() == before
    assert not list(work.glob(".migsurvey-*"))  # the staged release is removed
    # the same command writing elsewhere runs
    code, err = _run(capsys, "estimate", "--spec", "survey.yaml", "--out", "out", "-q")
    assert code == 0, err


def test_the_template_never_replaces_the_spec_it_is_given_with(work, capsys, monkeypatch):
    monkeypatch.chdir(work)
    before = (work / "survey.yaml").read_bytes()
    code, err = _run(capsys, "design", "--spec", "survey.yaml", "--template", "survey.yaml")
    assert code == EXIT_INPUT and "--template" in err
    assert (work / "survey.yaml").read_bytes() == before


def test_outputs_inside_an_input_folder_or_glob(tmp_path):
    (tmp_path / "census").mkdir()
    (tmp_path / "census" / "part-0.parquet").write_bytes(b"")
    inputs = [("frame.census", tmp_path / "census")]
    with pytest.raises(SurveyError, match="inside the input folder"):
        refuse_overwrite([("--out", tmp_path / "census" / "sel.parquet")], inputs)
    with pytest.raises(SurveyError, match="matches the input pattern"):
        refuse_overwrite([("--out", tmp_path / "parts" / "part-9.parquet")],
                         [("frame.census", str(tmp_path / "parts" / "part-*.parquet"))])
    refuse_overwrite([("--out", tmp_path / "sel.parquet")], inputs)  # beside it: written


# ------------------------------------------------------------------ census ages


@pytest.mark.parametrize("age, hint", [("999", "unknown: [999]"), ("inf", None),
                                       ("12.5", None), ("-3", None), ("NK", "unknown: [NK]")])
@pytest.mark.parametrize("lazy", [False, True])
def test_census_ages_follow_the_rule_of_the_persons_file(work, capsys, monkeypatch, age, hint,
                                                         lazy):
    census = pd.read_csv(work / "census.csv", dtype=str, keep_default_na=False)
    census.loc[::100, "AGE"] = age
    census.to_csv(work / "census.csv", index=False)
    if lazy:
        import migsurvey.inputs as inputs

        monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    code, err = _run(capsys, "frame", "--spec", work / "survey.yaml", "--out",
                     work / "frame.csv", "-q")
    assert code == EXIT_INPUT, err
    n = len(census.index[::100])
    assert f"impossible ages in the census (column 'AGE' of census.csv): {n} rows" in err
    assert "survey.yaml:8:" in err and "columns.age" in err and age in err
    assert "a whole number of years from 0 to 130" in err
    if not lazy:
        assert "rows 2, 102, 202" in err
    if hint:
        assert hint in err


@pytest.mark.parametrize("lazy", [False, True])
def test_declared_unknown_census_ages_are_unknown(work, capsys, monkeypatch, lazy):
    census = pd.read_csv(work / "census.csv", dtype=str, keep_default_na=False)
    census.loc[::100, "AGE"] = "999"
    census.to_csv(work / "census.csv", index=False)
    spec = (work / "survey.yaml").read_text().replace("age: AGE",
                                                      "age: {column: AGE, unknown: [999]}")
    (work / "survey.yaml").write_text(spec)
    if lazy:
        import migsurvey.inputs as inputs

        monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    code, err = _run(capsys, "frame", "--spec", work / "survey.yaml", "--out",
                     work / "frame.csv", "-q")
    assert code == 0, err


def test_person_census_of_the_api_refuses_impossible_ages():
    from migsurvey.inputs import PersonCensus

    persons = pd.DataFrame({"ea_id": ["001", "001"], "household_id": ["1", "2"],
                            "hh_key": ["001/1", "001/2"], "age": [34, 12.5],
                            "country_birth": ["KEN", "UGA"]})
    with pytest.raises(SurveyError, match="impossible ages in the census"):
        PersonCensus(persons, country="KEN", reference_year=2025)


# ------------------------------------------------------------------ one name per column


def _duplicated(path, kind):
    frame = pd.DataFrame([["0003", "2", "KEN", "14", "UGA"]],
                         columns=["EA_CODE", "HH_NO", "COB", "AGE", "COB"])
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "xlsx":
        frame.to_excel(path, index=False)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table([pa.array(frame.iloc[:, k]) for k in range(5)],
                                names=list(frame.columns)), path)


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_a_column_name_given_twice_is_refused(tmp_path, kind):
    path = tmp_path / f"persons.{kind}"
    _duplicated(path, kind)
    for read in (read_table, read_header):
        with pytest.raises(SurveyError, match="the column 'COB' appears twice") as err:
            read(path)
        assert str(path) in str(err.value) and "columns 3 and 5" in str(err.value)


def test_stata_and_spss_headers_are_checked(tmp_path, monkeypatch):
    """Stata and SPSS files cannot be written with a name twice; their header goes through
    the same check (its names are read from the file's metadata)."""
    import migsurvey.io as io

    frame = pd.DataFrame({"EA_CODE": ["0003"], "COB": ["KEN"], "AGE": [14.0]})
    for ext in ("dta", "sav"):
        io.write_table(frame, tmp_path / f"p.{ext}")
        monkeypatch.setattr(io, "_header", lambda p, table, sheet=0: ["EA_CODE", "COB", "COB"])
        with pytest.raises(SurveyError, match="'COB' appears twice"):
            read_table(tmp_path / f"p.{ext}")
        monkeypatch.undo()


def test_a_persons_file_with_a_column_twice_stops_the_estimate(work, capsys):
    text = (work / "persons.csv").read_text().splitlines()
    rows = [text[0] + ",COB"] + [line + ",KEN" for line in text[1:]]
    (work / "persons.csv").write_text("\n".join(rows) + "\n")
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT and "'COB' appears twice" in err and "persons.csv" in err


# ------------------------------------------------------------------ special files


class _Hang(Exception):
    pass


@pytest.fixture
def deadline():
    """A read that hangs fails the test after 20 s instead of blocking the suite."""
    def hang(*_):
        raise _Hang
    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("special", ["device", "fifo"])
def test_a_data_file_must_be_a_regular_file(work, capsys, deadline, special):
    (work / "persons.csv").unlink()
    if special == "device":
        os.symlink("/dev/zero", work / "persons.csv")
    else:
        os.mkfifo(work / "persons.csv")
    t0 = time.process_time()
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_FILE, err
    assert "a data file must be a regular file" in err and "persons.csv" in err
    assert ("/dev/zero" in err) if special == "device" else ("FIFO" in err)
    assert time.process_time() - t0 < 10


def test_a_parquet_dataset_with_a_pipe_in_it(tmp_path, deadline):
    (tmp_path / "census").mkdir()
    os.mkfifo(tmp_path / "census" / "part-0.parquet")
    with pytest.raises(SurveyError, match="must be a regular file"):
        read_header(tmp_path / "census")


# ------------------------------------------------------------------ YAML


def test_a_merge_key_is_read_as_the_safe_loader_reads_it():
    from migsurvey.spec import parse_spec

    spec = parse_spec(SPEC.replace("sample: {psus: 16}", "sample:\n  <<: {psus: 12}"),
                      "s.yaml")
    assert spec["sample"]["psus"] == 12
    with pytest.raises(SurveyError, match="invalid survey specification") as err:
        parse_spec(SPEC.replace("sample: {psus: 16}", "sample:\n  <<: {psus: 12}\n  psus: 16"),
                   "s.yaml")
    assert "s.yaml:15:" in str(err.value) and "a second 'psus'" in str(err.value)
    with pytest.raises(SurveyError, match="merge key") as err:
        parse_spec(SPEC.replace("sample: {psus: 16}", "sample:\n  <<: 12"), "s.yaml")
    assert "s.yaml:14:" in str(err.value)


def test_a_merge_key_in_a_module(tmp_path):
    from surveycore.safe_yaml import load_yaml

    assert load_yaml("q:\n  - <<: {name: q1}\n    type: text\n") == {
        "q": [{"name": "q1", "type": "text"}]}
    with pytest.raises(SurveyError, match="duplicate key"):
        load_yaml("q:\n  - <<: {name: q1}\n    name: q2\n")
    with pytest.raises(SurveyError, match="anchors are not allowed"):
        load_yaml("a: &x {b: 1}\nc:\n  <<: *x\n")


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_deep_nesting_is_refused_quickly(tmp_path, depth):
    import questionnaires
    from migsurvey.spec import parse_spec

    t0 = time.process_time()
    with pytest.raises(SurveyError, match="nested too deeply") as err:
        parse_spec(SPEC + "extra: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert f"deep.yaml:{SPEC.count(chr(10)) + 1}:" in str(err.value)
    module = tmp_path / "deep_module.yaml"
    module.write_text("module: x\nversion: 1\ntitle: t\nquestions: " + "[" * depth
                      + "]" * depth + "\n")
    with pytest.raises(SurveyError, match="nested too deeply") as err:
        questionnaires.load(str(module))
    assert "deep_module.yaml:4:" in str(err.value)
    assert time.process_time() - t0 < 2


# ------------------------------------------------------------------ answers as offices keep them


def test_ages_stored_as_excel_dates_are_named(work, capsys):
    persons = pd.read_csv(work / "persons.csv", dtype=str, keep_default_na=False)
    persons["AGE"] = pd.Timestamp("1900-01-01") + pd.to_timedelta(persons["AGE"].astype(int),
                                                                  "D")
    persons.to_excel(work / "persons.xlsx", index=False)
    spec = (work / "survey.yaml").read_text().replace("persons.csv", "persons.xlsx")
    (work / "survey.yaml").write_text(spec)
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT, err
    assert "impossible answers to age (column 'AGE' of" in err and "persons.xlsx" in err
    assert "columns.age" in err and "dates" in err and "calibration" not in err


@pytest.mark.parametrize("code_, shown", [("", "blank"), ("complete", "'complete'"),
                                          ("5.1", "5.1")])
def test_dispositions_that_are_not_aapor_codes(work, capsys, code_, shown):
    households = pd.read_csv(work / "households.csv", dtype=str, keep_default_na=False)
    households.loc[::25, "DISP"] = code_
    households.to_csv(work / "households.csv", index=False)
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT, err
    n = len(households.index[::25])
    assert "column 'DISP' of" in err and "households.csv" in err and f"{n} households" in err
    assert "survey.yaml:10:" in err and "columns.disposition" in err
    assert "rows 2, 27, 52" in err and shown in err and "np.float64" not in err


@pytest.mark.parametrize("weight, shown", [("-4", "-4"), ("inf", "inf"), ("abc", "'abc'"),
                                           ("", "blank")])
def test_weights_of_a_weighted_file_name_the_file_and_column(work, capsys, weight, shown):
    persons = pd.read_csv(work / "weighted.csv", dtype=str, keep_default_na=False)
    persons.loc[3, "weight"] = weight
    persons.to_csv(work / "weighted.csv", index=False)
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--persons",
                     work / "weighted.csv", "--out", work / "o.csv", "-q")
    assert code == EXIT_INPUT, err
    assert "weights in column 'weight' of" in err and "weighted.csv" in err
    assert "--persons" in err and "row 5 of the file" in err and shown in err
    assert "argument: weights" not in err


def test_a_spec_or_module_must_be_a_regular_file(tmp_path, capsys, deadline):
    import questionnaires

    os.mkfifo(tmp_path / "spec.yaml")
    code, err = _run(capsys, "design", "--spec", tmp_path / "spec.yaml")
    assert code == EXIT_FILE and "must be a regular file" in err
    os.symlink("/dev/zero", tmp_path / "module.yaml")
    with pytest.raises(SurveyError, match="must be a regular file"):
        questionnaires.load(str(tmp_path / "module.yaml"))


def test_an_empty_file_and_a_semicolon_file_are_named(work, capsys):
    (work / "persons.csv").write_text("")
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT and "the data file is empty" in err and "persons.csv" in err
    households = pd.read_csv(work / "households.csv", dtype=str, keep_default_na=False)
    households.to_csv(work / "households.csv", index=False, sep=";")
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT and "separated by ';', not by commas" in err


def test_a_blank_margin_variable_names_the_sample_column(work, capsys):
    persons = pd.read_csv(work / "persons.csv", dtype=str, keep_default_na=False)
    persons["SEX"] = ""
    persons.to_csv(work / "persons.csv", index=False)
    spec = (work / "survey.yaml").read_text().replace(
        "estimation:", "  - calibrate: {margins: [[region, sex]], method: raking}\nestimation:")
    (work / "survey.yaml").write_text(spec)
    code, err = _run(capsys, "estimate", "--spec", work / "survey.yaml", "--out",
                     work / "o.csv", "-q")
    assert code == EXIT_INPUT, err
    assert "missing values in the sample's data (data column 'sex')" in err
    assert f"'sex': {len(persons)} of" in err and "weighting[2].calibrate" in err
