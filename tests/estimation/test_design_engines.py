"""Designs accept Polars and DuckDB frames; results stay pandas and equal the pandas route."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
from reference_data import load_data

from estimation import SurveyDesign


def _estimate(frame):
    d = SurveyDesign(frame, strata="stype", weights="pw", fpc="fpc")
    return d.mean(["api00", "awards"], by="sch.wide")


def test_polars_and_duckdb_inputs_match_pandas():
    df = load_data("apistrat")
    expected = _estimate(df)
    from_polars = _estimate(pl.from_pandas(df))
    con = duckdb.connect()
    from_duckdb = _estimate(con.from_df(df))
    for got in (from_polars, from_duckdb):
        assert isinstance(got, pd.DataFrame)
        pd.testing.assert_frame_equal(
            got[["sch.wide", "variable", "level", "estimate", "se"]].astype({"sch.wide": str}),
            expected[["sch.wide", "variable", "level", "estimate", "se"]].astype({"sch.wide": str}),
            rtol=1e-12,
        )
