"""A Parquet or CSV census above the set size goes the lazy DuckDB route, in the API and the CLI.

The threshold is lowered to one byte here so that a small census made in the test (office
column names, EA codes with leading zeros) takes the lazy route; the frame the CLI writes
must not change with the route.
"""

from __future__ import annotations

import narwhals as nw
import pandas as pd
import pytest
from migsurvey_office import OFFICE_SPEC, office_census

import migsurvey.inputs as inputs
from migsurvey.cli import main
from migsurvey.spec import parse_spec

SPEC = OFFICE_SPEC


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("threshold")
    census = office_census(seed=3, n_ea=60)
    census.to_csv(d / "census.csv", index=False)
    census.to_parquet(d / "census.parquet", index=False)
    return d


@pytest.mark.parametrize("name", ["census.csv", "census.parquet"])
def test_files_above_the_threshold_are_read_lazily(files, name, monkeypatch, tmp_path):
    spec_text = SPEC.replace("CENSUS", str(files / name))
    memory = inputs.read_census(parse_spec(spec_text))
    assert isinstance(memory, inputs.PersonCensus)  # the default threshold: in memory
    (tmp_path / "s.yaml").write_text(spec_text, encoding="utf-8")
    assert main(["frame", "--spec", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "memory.csv"), "-q"]) == 0

    monkeypatch.setattr(inputs, "LAZY_CENSUS_BYTES", 1)
    lazy = inputs.read_census(parse_spec(spec_text))
    assert isinstance(lazy.persons, nw.LazyFrame)  # the person table stays in DuckDB
    pd.testing.assert_frame_equal(lazy.eas, memory.eas, check_dtype=False)
    assert main(["frame", "--spec", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "lazy.csv"), "-q"]) == 0
    a = pd.read_csv(tmp_path / "memory.csv", dtype={"EA_CODE": str})
    b = pd.read_csv(tmp_path / "lazy.csv", dtype={"EA_CODE": str})
    pd.testing.assert_frame_equal(a, b)
    assert a["EA_CODE"].str.fullmatch(r"\d{4}").all()
