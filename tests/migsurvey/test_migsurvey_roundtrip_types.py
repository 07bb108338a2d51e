"""Every column type the package writes reads back through CSV and Excel as Parquet keeps it.

The frame is the kind a weighted persons file holds: text ids with leading zeros, region codes
``01``, whole numbers, weights with 17 significant digits, logical flags (with and without
unknown values), a nullable integer, a category, and text that looks like a code (``NA``).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from migsurvey.io import read_table, write_table
from migsurvey.io_census import typed_csv


def _weighted() -> pd.DataFrame:
    return pd.DataFrame({
        "EA_CODE": ["0004", "0004", "0112", "0112"],
        "HH_NO": ["003", "003", "10", "11"],
        "LINE": [1, 2, 1, 1],
        "REGION": ["01", "01", "02", "02"],
        "weight": [2.091846908404519, 2.091846908404519, 0.35714285714285715, 1e-7 / 3],
        "responded": [True, True, True, False],
        "foreign_born": pd.array([False, True, None, True], dtype="boolean"),
        "usual_resident": pd.array([True, True, True, True], dtype="boolean"),
        "years_since_arrival": pd.array([None, 4, None, 12], dtype="Int64"),
        "age_group": pd.Categorical(["0-14", "45-59", "15-29", "60+"]),
        "province": ["NA", "KW", "NA", "KW"],
        "Q_CITACQ": ["birth", None, "naturalisation", None],
    })


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_every_column_type_reads_back(tmp_path, ext):
    df = _weighted()
    back = read_table(write_table(df, tmp_path / f"w.{ext}"), text=["EA_CODE", "HH_NO"])
    assert list(back.columns) == list(df.columns)
    for c in ("EA_CODE", "HH_NO", "REGION", "province", "Q_CITACQ"):
        assert back[c].tolist() == df[c].astype(object).where(df[c].notna(), None).tolist(), c
    assert back["LINE"].dtype == np.int64 and back["LINE"].tolist() == [1, 2, 1, 1]
    # Excel keeps 15-16 significant digits (openpyxl), CSV all 17
    np.testing.assert_allclose(back["weight"], df["weight"], rtol=0 if ext == "csv" else 1e-15)
    assert back["responded"].dtype == bool and back["responded"].tolist() == [True] * 3 + [False]
    assert str(back["foreign_born"].dtype) == "boolean"
    assert back["foreign_born"].isna().tolist() == [False, False, True, False]
    assert back["foreign_born"].fillna(False).tolist() == [False, True, False, True]
    assert back["usual_resident"].dtype == bool
    np.testing.assert_array_equal(back["years_since_arrival"].to_numpy(float, na_value=np.nan),
                                  [np.nan, 4, np.nan, 12])
    assert back["age_group"].tolist() == df["age_group"].tolist()


def test_logical_values_as_r_writes_them(tmp_path):
    """R writes TRUE/FALSE and NA for an unknown value."""
    p = tmp_path / "r.csv"
    p.write_text("EA,flag,code\n0001,TRUE,NA\n0002,NA,01\n0003,FALSE,02\n", encoding="utf-8")
    got = read_table(p, text=["EA"])
    assert str(got["flag"].dtype) == "boolean"
    assert got["flag"].tolist()[0] is True and got["flag"].isna().tolist() == [False, True, False]
    assert got["code"].tolist() == ["NA", "01", "02"]  # codes stay text


def test_lazy_csv_types_logical_columns_as_the_in_memory_reader(tmp_path):
    p = write_table(_weighted(), tmp_path / "w.csv")
    eager = read_table(p, text=["EA_CODE", "HH_NO"])
    lazy = typed_csv(duckdb.connect(), str(p), text=["EA_CODE", "HH_NO"]).df()
    for c in ("responded", "foreign_born", "usual_resident"):
        assert lazy[c].isna().tolist() == eager[c].isna().tolist(), c
        assert lazy[c].fillna(False).astype(bool).tolist() == \
            eager[c].fillna(False).astype(bool).tolist(), c
    assert lazy["REGION"].tolist() == ["01", "01", "02", "02"]
