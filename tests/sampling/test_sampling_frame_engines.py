"""One census, five engines, one frame: pandas, Polars, DuckDB, Dask and PySpark (local mode).

The census is made here the way an office's file looks: string EA codes with leading zeros,
numeric household numbers, and a migrant flag with unknown answers (missing), which must be
counted apart and never as migrants.
"""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest

from sampling import Frame


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3_000
    ea = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "EA_CODE": np.char.add("00", ea.astype(str).astype("U2")).astype(object),
            "HH_NO": rng.integers(1, 25, n),
            "REGION": np.where(ea < 20, "North", "South").astype(object),
            "FB": rng.choice([1.0, 0.0, 0.0, np.nan], n),
            "EMIG": rng.choice([1.0, 0.0, 0.0, 0.0], n),
        }
    )


def _frame(native) -> pd.DataFrame:
    fr = Frame.from_microdata(native, ea="EA_CODE", household="HH_NO", by="REGION",
                              flags={"foreign_born": "FB"},
                              household_flags={"hh_with_emigrant": "EMIG",
                                               "migrant_households": "FB"}, count_unknown=True)
    out = fr.data.copy()
    for c in ("EA_CODE", "REGION"):
        out[c] = out[c].astype(object)
    return out


def _by_hand(census: pd.DataFrame) -> pd.DataFrame:
    g = census.groupby("EA_CODE")
    hh = census.groupby(["EA_CODE", "HH_NO"])["EMIG"].max().groupby("EA_CODE")
    # a household is migrant with a member known born abroad; unknown with a member of
    # unknown birthplace and none known born abroad; not migrant only when all are known
    by_hh = census.groupby(["EA_CODE", "HH_NO"])["FB"]
    yes = by_hh.apply(lambda s: bool((s == 1).any()))
    unknown = by_hh.apply(lambda s: bool(s.isna().any())) & ~yes
    out = pd.DataFrame({
        "REGION": g["REGION"].first(),
        "households": hh.size(),
        "persons": g.size(),
        "foreign_born": g["FB"].apply(lambda s: int((s == 1).sum())),
        "foreign_born_unknown": g["FB"].apply(lambda s: int(s.isna().sum())),
        "hh_with_emigrant": hh.sum().astype("int64"),
        "hh_with_emigrant_unknown": 0,
        "migrant_households": yes.groupby("EA_CODE").sum().astype("int64"),
        "migrant_households_unknown": unknown.groupby("EA_CODE").sum().astype("int64"),
    }).reset_index()
    return out.sort_values(["REGION", "EA_CODE"]).reset_index(drop=True)


def test_pandas_frame_equals_a_hand_count(census):
    got = _frame(census)
    want = _by_hand(census)[got.columns]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["EA_CODE"].str.startswith("00").all()
    assert got["migrant_households_unknown"].sum() > 0  # households of unknown status exist


def test_polars_duckdb_and_dask_give_the_same_frame(census):
    import dask.dataframe as dd

    want = _frame(census)
    pd.testing.assert_frame_equal(_frame(pl.from_pandas(census)), want, check_dtype=False)
    pd.testing.assert_frame_equal(_frame(pl.from_pandas(census).lazy()), want, check_dtype=False)
    con = duckdb.connect()
    con.register("census_tbl", census)
    pd.testing.assert_frame_equal(_frame(con.sql("select * from census_tbl")), want,
                                  check_dtype=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pd.testing.assert_frame_equal(_frame(dd.from_pandas(census, npartitions=3)), want,
                                      check_dtype=False)


def test_pyspark_local_gives_the_same_frame(census):
    from pyspark import sql as pyspark_sql

    want = _frame(census)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        spark = (pyspark_sql.SparkSession.builder.master("local[1]")
                 .config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "2")
                 .getOrCreate())
        try:
            sdf = spark.createDataFrame(census)
            got = _frame(sdf)
        finally:
            spark.stop()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_person_flags_with_unknowns_and_no_household_flags(census):
    """Unknown answers counted apart when the census has person flags only: every engine."""
    def frame(native):
        out = Frame.from_microdata(native, ea="EA_CODE", household="HH_NO", by="REGION",
                                   flags={"foreign_born": "FB"}, count_unknown=True).data.copy()
        return out.astype({"EA_CODE": object, "REGION": object})

    want = _by_hand(census)[["EA_CODE", "REGION", "households", "persons", "foreign_born",
                             "foreign_born_unknown"]]
    got = frame(census)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    con = duckdb.connect()
    con.register("census_tbl", census)
    for native in (pl.from_pandas(census).lazy(), con.sql("select * from census_tbl")):
        pd.testing.assert_frame_equal(frame(native), got, check_dtype=False)
