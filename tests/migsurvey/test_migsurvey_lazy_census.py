"""A large census read lazily through DuckDB gives what the in-memory route gives.

The census is made here with numpy (office column names, EA codes with leading zeros, sex
1/2), split over several Parquet files and stored in a DuckDB database beside another table.
The frame, the listing of selected EAs, their persons and the crossed census counts equal the
in-memory route's; every query result that reaches Python is recorded to show that none holds
more rows than the EA frame or the selected EAs (the person table is never in pandas).
"""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_SPEC, office_census

from migsurvey.inputs import PersonCensus, read_census
from migsurvey.spec import parse_spec
from surveycore import SurveyError

SPEC = OFFICE_SPEC.replace("frame: {census: CENSUS}", "frame: {census: CENSUS, table: persons}")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    import duckdb

    d = tmp_path_factory.mktemp("lazy")
    census = office_census(seed=9, n_ea=60)
    census.to_csv(d / "census.csv", index=False)
    (d / "parts").mkdir()
    cuts = np.array_split(np.arange(len(census)), 3)
    for i, rows in enumerate(cuts):
        census.iloc[rows].to_parquet(d / "parts" / f"part-{i}.parquet", index=False)
    with duckdb.connect(str(d / "census.duckdb")) as con:
        con.register("c", census)
        con.execute("create table persons as select * from c")
        con.execute("create table eas_notes as select 1 as x")
    return d, census


def _spec(path):
    return parse_spec(SPEC.replace("CENSUS", str(path)))


@pytest.fixture()
def collected(monkeypatch):
    """Row counts of every lazy query result brought into Python."""
    rows: list[int] = []
    original = nw.LazyFrame.collect

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        rows.append(len(out))
        return out

    monkeypatch.setattr(nw.LazyFrame, "collect", spy)
    return rows


@pytest.mark.parametrize("source", ["parts", "parts/part-*.parquet", "census.duckdb"])
def test_lazy_census_equals_the_in_memory_route(stores, source, collected):
    from migsurvey.pipeline import allocate_sample, build_frame, census_targets, select_sample

    d, census = stores
    memory = read_census(_spec(d / "census.csv"))
    assert isinstance(memory, PersonCensus)
    collected.clear()
    lazy = read_census(_spec(f"{d}/{source}"))
    # the person table is a lazy DuckDB query, never a pandas frame
    assert isinstance(lazy.persons, nw.LazyFrame) and not hasattr(lazy, "households")
    n_eas = len(lazy.eas)
    assert n_eas == 60 and max(collected) <= n_eas  # the frame: one row per EA comes back
    pd.testing.assert_frame_equal(lazy.eas, memory.eas, check_dtype=False)
    assert lazy.n_persons == memory.n_persons == len(census)
    assert lazy.n_households == memory.n_households

    spec = _spec(f"{d}/{source}")
    frame = build_frame(lazy.eas, spec)
    alloc = allocate_sample(frame, spec)
    psus, hh = select_sample(frame, alloc, lazy, spec, np.random.default_rng(4))
    psus_m, hh_m = select_sample(build_frame(memory.eas, spec), alloc, memory, spec,
                                 np.random.default_rng(4))
    pd.testing.assert_frame_equal(psus, psus_m, check_dtype=False)
    pd.testing.assert_frame_equal(hh, hh_m, check_dtype=False)
    assert hh["ea_id"].str.fullmatch(r"\d{4}").all()  # ids as text with their zeros

    ids = psus["ea_id"]
    listed = lazy.households_in(ids)
    pd.testing.assert_frame_equal(listed, memory.households_in(ids).sort_values(
        "hh_key", kind="stable").reset_index(drop=True)[listed.columns], check_dtype=False)
    pp = lazy.persons_in(ids)
    pm = memory.persons_in(ids)
    assert len(pp) == len(pm) and set(pm.columns) <= set(pp.columns)
    key = ["hh_key", "LINE"]
    pd.testing.assert_frame_equal(
        pp.sort_values(key).reset_index(drop=True)[pm.columns],
        pm.sort_values(key).reset_index(drop=True), check_dtype=False, check_categorical=False)

    margins = [["region", "sex", "age_group"], "sex", "age_group"]
    assert census_targets(lazy, margins) == census_targets(memory, margins)
    # memory bounded by design: no query result is longer than the persons of the selected
    # EAs (the listing) or the EA frame, and far shorter than the person table
    assert max(collected) <= max(n_eas, len(pm)) < len(census) / 2


def test_lazy_census_refuses_codes_it_does_not_know(stores, tmp_path):
    d, census = stores
    bad = census.assign(SEX=np.where(np.arange(len(census)) == 5, 3, census["SEX"]))
    bad.to_parquet(tmp_path / "part-0.parquet", index=False)
    with pytest.raises(SurveyError) as info:
        read_census(_spec(tmp_path))
    assert "codes not in the mapping" in str(info.value) and "'3'" in str(info.value)
    wrong = census.assign(COB=np.where(np.arange(len(census)) == 7, "Kenya", census["COB"]))
    wrong.to_parquet(tmp_path / "part-0.parquet", index=False)
    with pytest.raises(SurveyError, match="unknown country codes"):
        read_census(_spec(tmp_path))


def test_cli_frame_from_a_parquet_dataset(stores, tmp_path):
    from migsurvey.cli import main

    d, _ = stores
    for name, src in (("csv", d / "census.csv"), ("parts", d / "parts")):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(SPEC.replace("CENSUS", str(src)), encoding="utf-8")
        assert main(["frame", "--spec", str(spec), "--out", str(tmp_path / f"{name}.csv"),
                     "-q"]) == 0
    a = pd.read_csv(tmp_path / "csv.csv", dtype={"EA_CODE": str})
    b = pd.read_csv(tmp_path / "parts.csv", dtype={"EA_CODE": str})
    pd.testing.assert_frame_equal(a, b)


def test_any_csv_or_parquet_census_can_be_read_lazily(stores, tmp_path):
    """`lazy_census` is the entry for callers that choose the lazy route for a large file."""
    from migsurvey.io_census import lazy_census

    d, census = stores
    census.to_parquet(tmp_path / "one.parquet", index=False)
    memory = read_census(_spec(d / "census.csv"))
    for src in (d / "census.csv", tmp_path / "one.parquet"):
        lazy = lazy_census(_spec(src))
        pd.testing.assert_frame_equal(lazy.eas, memory.eas, check_dtype=False)
        assert lazy.person_counts(("region", "sex")) == memory.person_counts(("region", "sex"))
