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
from migsurvey_office import OFFICE_SPEC, office_census

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
