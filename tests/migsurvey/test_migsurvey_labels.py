"""Stata and SPSS labels survive reading and writing; labelled codes go through the mapping."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from migsurvey.inputs import ColumnMapping
from migsurvey.io import read_table, write_table

SEX_LABELS = {1: "Male", 2: "Female"}


def _office_file(tmp_path, ext):
    df = pd.DataFrame({"EA_CODE": ["0007", "0012", "0012"], "SEX": [1.0, 2.0, 2.0],
                       "AGE": [34.0, 2.0, 71.0]})
    p = tmp_path / f"census.{ext}"
    writer = pyreadstat.write_dta if ext == "dta" else pyreadstat.write_sav
    writer(df, str(p), column_labels={"EA_CODE": "Enumeration area", "SEX": "Sex of person",
                                      "AGE": "Age in completed years"},
           variable_value_labels={"SEX": SEX_LABELS})
    return p


@pytest.mark.parametrize("ext", ["dta", "sav"])
def test_labels_read_and_written_back(tmp_path, ext):
    df = read_table(_office_file(tmp_path, ext), text=["EA_CODE"])
    assert df["EA_CODE"].tolist() == ["0007", "0012", "0012"]
    assert isinstance(df["SEX"].dtype, pd.CategoricalDtype)
    assert df["SEX"].tolist() == ["Male", "Female", "Female"]
    assert list(df["SEX"].cat.categories) == ["Male", "Female"]
    assert df.attrs["column_labels"]["SEX"] == "Sex of person"
    assert {int(k): v for k, v in df.attrs["value_labels"]["SEX"].items()} == SEX_LABELS
    out = write_table(df, tmp_path / f"back.{ext}")
    reader = pyreadstat.read_dta if ext == "dta" else pyreadstat.read_sav
    raw, meta = reader(str(out))
    assert raw["SEX"].tolist() == [1, 2, 2]  # the codes, not the labels
    assert {int(k): v for k, v in meta.variable_value_labels["SEX"].items()} == SEX_LABELS
    assert dict(zip(meta.column_names, meta.column_labels, strict=True))["AGE"] == \
        "Age in completed years"


def test_new_categoricals_get_codes_and_labels(tmp_path):
    df = pd.DataFrame({"group": pd.Categorical(["b", "a", "b"], categories=["b", "a"])})
    out = write_table(df, tmp_path / "g.sav")
    raw, meta = pyreadstat.read_sav(str(out))
    assert raw["group"].tolist() == [1, 2, 1]
    assert meta.variable_value_labels["group"] == {1: "b", 2: "a"}


@pytest.mark.parametrize("codes", [{1: "M", 2: "F"}, {"Male": "M", "Female": "F"}])
def test_labelled_codes_through_the_mapping(tmp_path, codes):
    """The mapping may name the file's codes or its labels."""
    df = read_table(_office_file(tmp_path, "dta"), text=["EA_CODE"])
    m = ColumnMapping({"ea_id": "EA_CODE", "sex": "SEX"}, {"sex": codes})
    std = m.apply(df, what="census")
    assert std["sex"].tolist() == ["M", "F", "F"]
    assert std.attrs["column_labels"]["sex"] == "Sex of person"
    assert df["SEX"].tolist() == ["Male", "Female", "Female"]  # the caller's frame unchanged
