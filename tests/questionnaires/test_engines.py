"""The same definitions run on pandas, Polars, DuckDB and Dask and give the same answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import questionnaires as q

RULES = dict(country="FRA", reference_date="2025-06-30", residence_rule="b", parents="one")


def census(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cob = rng.choice(["FRA", "FRA", "FRA", "MAR", "DEU", "XXX"], n)
    foreign = cob != "FRA"
    year = np.where(foreign | (rng.random(n) < 0.1), rng.integers(2015, 2026, n), np.nan)
    month = np.where(~np.isnan(year), rng.integers(1, 13, n), np.nan)
    month = np.where((year == 2025) & (month > 6), 6, month)
    month = np.where(rng.random(n) < 0.2, np.nan, month)
    df = pd.DataFrame(
        {
            "country_birth": cob,
            "citizenship": rng.choice(["FRA", "FRA", "MAR", "XXA", "XXX"], n),
            "citizenship_acquired": rng.choice(["birth", "naturalisation", "dk"], n),
            "year_citizenship": np.where(rng.random(n) < 0.7, rng.integers(2015, 2025, n), np.nan),
            "birth_year": rng.integers(1940, 2014, n).astype(float),
            "ever_lived_abroad": rng.choice(["yes", "no", "dk"], n),
            "year_arrival": year,
            "month_arrival": month,
            "residence_1y": rng.choice(["FRA", "MAR", "XXX"], n),
            "residence_5y": rng.choice(["FRA", "DEU", "XXX"], n),
            "country_birth_father": rng.choice(["FRA", "MAR", "XXX"], n),
            "country_birth_mother": rng.choice(["FRA", "DEU", "XXX"], n),
            "months_in_country_last12": np.where(
                rng.random(n) < 0.3, rng.integers(0, 13, n), np.nan
            ),
            "intended_stay_months": np.where(rng.random(n) < 0.5, rng.integers(0, 30, n), np.nan),
            "reason_migration": rng.choice(["work", "study", "family", "dk"], n),
            "temporary_abroad": rng.choice(["none", "frontier", "study", "dk"], n),
            "hh_members_abroad": rng.integers(0, 3, n).astype(float),
        }
    )
    df.loc[df["year_arrival"] < df["birth_year"], "birth_year"] = 1940.0
    df.loc[rng.random(n) < 0.05, "country_birth"] = None
    return df


def normalise(result: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    out = {}
    for name in names:
        out[name] = [
            None
            if v is pd.NA or v is None or (isinstance(v, float) and np.isnan(v))
            else (
                int(v)
                if isinstance(v, (int, float, np.integer, np.floating))
                and not isinstance(v, (bool, np.bool_))
                else v
            )
            for v in result[name].astype(object)
        ]
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def reference():
    df = census()
    r = q.derive(df, **RULES)
    names = r.attrs["derive_rules"]["variables"]
    assert len(names) == len(q.derived_variables())
    return df, names, normalise(r, names)


def test_duckdb(reference):
    duckdb = pytest.importorskip("duckdb")
    df, names, expected = reference
    con = duckdb.connect()
    rel = con.from_df(df)
    out = q.derive(rel, **RULES)
    assert isinstance(out, duckdb.DuckDBPyRelation)
    got = normalise(out.df(), names)
    pd.testing.assert_frame_equal(got, expected)


def test_dask(reference):
    dd = pytest.importorskip("dask.dataframe")
    df, names, expected = reference
    out = q.derive(dd.from_pandas(df, npartitions=2), **RULES)
    assert hasattr(out, "compute")
    got = normalise(out.compute().reset_index(drop=True), names)
    pd.testing.assert_frame_equal(got, expected)


def test_polars(reference):
    pl = pytest.importorskip("polars")
    df, names, expected = reference
    out = q.derive(pl.from_pandas(df), **RULES)
    got = normalise(out.to_pandas(), names)
    pd.testing.assert_frame_equal(got, expected)


def test_errors_on_lazy_engines():
    duckdb = pytest.importorskip("duckdb")
    from surveycore import SurveyError

    bad = pd.DataFrame({"country_birth": ["MAR", "ZZZ"], "year_arrival": [2001.0, 2002.0]})
    with pytest.raises(SurveyError, match="unknown country code"):
        q.derive(duckdb.from_df(bad), country="FRA")
