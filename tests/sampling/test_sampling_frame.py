"""Frames: built from census microdata on every engine, checks, PSU formation, coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sampling import Frame
from surveycore import SurveyError


def _direct(census: pd.DataFrame) -> pd.DataFrame:
    """Second route: plain pandas, written independently of the narwhals aggregation."""
    per_ea = census.groupby("ea").agg(
        region=("region", "first"), urban=("urban", "first"), persons=("hh", "size"),
        households=("hh", "nunique"), foreign_born=("foreign_born", "sum"),
        foreign_citizens=("foreign_citizen", "sum"), recent_immigrants=("recent_immigrant", "sum"))
    hh = census.groupby(["ea", "hh"]).agg(e=("has_emigrant", "max"), m=("foreign_born", "max"))
    per_ea["hh_with_emigrant"] = hh.groupby("ea")["e"].sum()
    per_ea["migrant_households"] = hh.groupby("ea")["m"].sum()
    return per_ea.reset_index()


def test_from_microdata_pandas_matches_direct_count(census, frame_kwargs):
    fr = Frame.from_microdata(census, **frame_kwargs)
    got = fr.data.set_index("ea").sort_index()
    want = _direct(census).set_index("ea").sort_index()
    for col in ["households", "persons", "foreign_born", "foreign_citizens", "recent_immigrants",
                "hh_with_emigrant", "migrant_households"]:
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
    assert fr.size == "households"
    assert fr.data["households"].sum() == census["hh"].nunique()
    assert fr.data["persons"].sum() == len(census)


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "duckdb", "dask"])
def test_from_microdata_same_on_every_engine(census, frame_kwargs, engine):
    if engine.startswith("polars"):
        import polars as pl

        data = pl.from_pandas(census)
        data = data.lazy() if engine == "polars_lazy" else data
    elif engine == "duckdb":
        import duckdb

        data = duckdb.from_df(census)
    else:
        import dask.dataframe as dd

        data = dd.from_pandas(census, npartitions=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # narwhals' notice about dask packaging
        got = Frame.from_microdata(data, **frame_kwargs).data
    want = Frame.from_microdata(census, **frame_kwargs).data
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_frame_refuses_duplicate_and_missing_ids():
    with pytest.raises(SurveyError, match="not unique") as err:
        Frame(pd.DataFrame({"ea": [1, 2, 2], "households": [5, 6, 7]}), "ea")
    assert "[2]" in str(err.value)
    with pytest.raises(SurveyError, match="missing"):
        Frame(pd.DataFrame({"ea": [1, None], "households": [5, 6]}), "ea")
    with pytest.raises(SurveyError, match="not found"):
        Frame(pd.DataFrame({"ea": [1, 2]}), "ea", size="households")


def test_from_microdata_refuses_ea_in_two_regions(census, frame_kwargs):
    bad = census.copy()
    bad.loc[bad.index[0], "region"] = "Elsewhere"
    with pytest.raises(SurveyError, match="more than one value"):
        Frame.from_microdata(bad, **frame_kwargs)
    with pytest.raises(SurveyError, match="not found"):
        Frame.from_microdata(census, ea="ea", household="nope")


def test_check_reports_missing_zero_small_sizes():
    df = pd.DataFrame({"ea": range(6), "households": [10, np.nan, 0, 3, 50, 0],
                       "region": list("aaabbb")})
    original = df.copy()
    fr = Frame(df, "ea", size="households", strata="region")
    rep = fr.check(min_size=5)
    assert rep.missing == [1] and rep.zero == [2, 5] and rep.small == [3] and not rep.ok
    assert list(rep.summary()["EAs"]) == [1, 0, 2, 1]
    pd.testing.assert_frame_equal(df, original)  # caller's frame untouched


def test_form_psus_merges_small_eas_within_stratum():
    df = pd.DataFrame({"ea": [1, 2, 3, 4, 5, 6, 7, 8],
                       "region": ["a"] * 5 + ["b"] * 3,
                       "households": [30, 5, 4, 50, 3, 2, 60, 1],
                       "urban": [1, 1, 1, 1, 0, 0, 1, 0]})
    fr = Frame(df, "ea", size="households", strata="region", counts=("households",)).form_psus(20)
    assert fr.data.set_index("psu")["urban"].to_dict() == {1: 1, 2: 1, 6: 0}  # not summed
    psus = fr.data.set_index("psu")
    # stratum a: [30] [5+4+50] [3 joins previous] ; stratum b: [2+60] [1 joins previous]
    assert psus["households"].to_dict() == {1: 30, 2: 62, 6: 63}
    assert psus.loc[2, "EAs"] == 4
    m = fr.psu_map.set_index("ea")
    assert m.loc[5, "psu"] == 2 and m.loc[8, "psu"] == 6 and not m.loc[1, "merged"]
    assert (fr.data["households"] >= 20).all()
    assert fr.data["households"].sum() == df["households"].sum()
    assert set(fr.psu_map.groupby("psu")["region"].nunique()) == {1}  # never across strata


def test_coverage_summary(census, frame_kwargs):
    fr = Frame.from_microdata(census, **frame_kwargs, strata="region")
    cov = fr.coverage()
    assert list(cov["region"]) == ["East", "North", "South", "West", "Total"]
    total = cov.set_index("region").loc["Total"]
    assert total["EAs"] == census["ea"].nunique()
    assert total["foreign_born"] == census["foreign_born"].sum()


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_unknown_flags_stay_unknown(engine):
    """Derived variables leave unknown answers missing: not counted as migrants, counted apart."""
    df = pd.DataFrame({"ea": [1, 1, 1, 2, 2], "hh": [1, 1, 2, 3, 4],
                       "fb": pd.array([True, None, False, None, True], dtype="boolean")})
    if engine == "polars":
        import polars as pl

        df = pl.from_pandas(df)
    elif engine == "duckdb":
        import duckdb

        df = duckdb.from_df(df)
    fr = Frame.from_microdata(df, ea="ea", household="hh", flags={"foreign_born": "fb"},
                              household_flags={"migrant_households": "fb"}, count_unknown=True)
    got = fr.data.set_index("ea")
    assert got["foreign_born"].tolist() == [1, 1]
    assert got["foreign_born_unknown"].tolist() == [1, 1]
    assert got["migrant_households"].tolist() == [1, 1]
