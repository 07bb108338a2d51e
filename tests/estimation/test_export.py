"""Exports: tidy CSV, Parquet, Excel and SDMX-CSV of an indicator table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from estimation.indicators import REGISTRY, IndicatorTable, to_sdmx_csv
from surveycore import SurveyError


@pytest.fixture()
def result():
    t = pd.DataFrame({
        "indicator": ["MI1.1"] * 4 + ["TEMP_MOB"],
        "measure": ["count", "count", "count", "share", "count"],
        "kind": ["total", "total", "total", "proportion", "total"],
        "sex": ["_T", "F", "M", "F", "_T"],
        "estimate": [100.0, 60.0, 40.0, 12.5, 7.0],
        "se": [10.0, 8.0, 20.0, 1.0, 1.0],
        "ci_low": [80.4, 44.3, 0.8, 10.5, 5.0],
        "ci_high": [119.6, 75.7, 79.2, 14.5, 9.0],
        "cv": [0.1, 0.133, 0.5, 0.08, 0.14],
        "df": [np.inf] * 5,
        "n": [500, 260, 240, 260, 500],
        "n_contributors": [30, 28, 2, 28, 9],
        "unit_measure": ["PS", "PS", "PS", "PT", "PS"],
        "experimental": [False] * 4 + [True],
        "flag": ["B", "C", "F", "B", "C"],
        "reliability": ["reliable", "reliable", "unreliable", "reliable", "reliable"],
        "suppressed": ["", "secondary", "primary", "secondary", ""],
    })
    t["sex"] = t["sex"].astype(object)
    meta = {
        "indicators": {c: REGISTRY[c].describe() for c in ("MI1.1", "TEMP_MOB")},
        "experimental": ["TEMP_MOB"],
        "by": ["sex"],
        "quality": {"name": "statcan"},
    }
    return IndicatorTable(t, meta)


def test_published_view_hides_suppressed_and_unreliable(result):
    p = result.published()
    hidden = result.table["suppressed"].ne("")
    assert p.loc[hidden, ["estimate", "se", "ci_low", "ci_high", "cv", "n"]].isna().all().all()
    assert p.loc[~hidden, "estimate"].notna().all()
    assert result.table["estimate"].notna().all()  # the result itself is untouched
    q = result.published(withhold_unreliable=False)
    assert q["estimate"].isna().sum() == hidden.sum()


def test_csv_roundtrip_with_metadata(result, tmp_path):
    path = result.to_csv(tmp_path / "t.csv")
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(result.table.columns)
    assert back["estimate"].isna().sum() == 3
    meta = json.loads((tmp_path / "t.csv.json").read_text())
    assert meta["experimental"] == ["TEMP_MOB"]
    full = pd.read_csv(result.to_csv(tmp_path / "f.csv", published=False, metadata=False))
    np.testing.assert_allclose(full["estimate"], result.table["estimate"])


def test_parquet_roundtrip_with_metadata(result, tmp_path):
    path = result.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(path)
    assert len(back) == len(result.table) and back["sex"].tolist() == ["_T", "F", "M", "F", "_T"]
    meta = json.loads(pq.read_schema(path).metadata[b"migsurvey"])
    assert meta["indicators"]["MI1.1"]["name"] == "Stock of international migrants"


def test_excel_sheets(result, tmp_path):
    path = result.to_excel(tmp_path / "t.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert set(sheets) == {"table", "indicators", "metadata"}
    assert len(sheets["table"]) == 5
    ind = sheets["indicators"].set_index("code")
    assert bool(ind.loc["TEMP_MOB", "experimental"]) is True
    assert "foreign_born" in ind.loc["MI1.1", "measures"]


def test_sdmx_csv(result, tmp_path):
    out = result.to_sdmx_csv(tmp_path / "t.csv", dimensions={"REF_AREA": "XK", "TIME_PERIOD": "2024"})
    assert list(out.columns[:8]) == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "REF_AREA",
                                     "TIME_PERIOD", "INDICATOR", "MEASURE", "SEX"]
    assert out.columns.get_loc("OBS_VALUE") == 8
    assert {"OBS_STATUS", "CONF_STATUS", "UNIT_MULT", "UNIT_MEASURE", "SE", "CV", "CI_LOWER",
            "CI_UPPER", "EXPERIMENTAL"} <= set(out.columns)
    assert out["STRUCTURE"].eq("dataflow").all() and out["ACTION"].eq("I").all()
    assert list(out["INDICATOR"]) == ["MI_1_1"] * 4 + ["TEMP_MOB"]
    assert list(out["CONF_STATUS"]) == ["F", "D", "C", "D", "F"]
    assert list(out["OBS_STATUS"]) == ["A", "", "", "", "A"]
    assert out["OBS_VALUE"].isna().tolist() == [False, True, True, True, False]
    assert out.loc[1:3, ["SE", "CV", "CI_LOWER", "CI_UPPER"]].isna().all().all()
    assert list(out["EXPERIMENTAL"]) == ["false"] * 4 + ["true"]
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,")
    assert text[2].split(",")[8] == ""  # suppressed value left empty


def test_sdmx_status_maps_and_unreliable(result):
    t = result.table.copy()
    t["suppressed"] = ""
    r = IndicatorTable(t, result.metadata)
    out = to_sdmx_csv(r, conf_status={"primary": "A"})
    assert list(out["OBS_STATUS"]) == ["A", "A", "U", "A", "A"]
    assert np.isnan(out.loc[2, "OBS_VALUE"])
    coded = to_sdmx_csv(r, value_codes={"sex": {"F": "FEM"}}, dimension_names={"sex": "GENDER"})
    assert list(coded["GENDER"]) == ["_T", "FEM", "M", "FEM", "_T"]
    kept = to_sdmx_csv(r, withhold_unreliable=False, uncertainty=False)
    assert kept.loc[2, "OBS_VALUE"] == 40.0 and "SE" not in kept.columns
    with pytest.raises(SurveyError):
        to_sdmx_csv(r, action="X")
    with pytest.raises(SurveyError):
        to_sdmx_csv(r, structure="flow")


def test_exports_of_a_real_table(tmp_path):
    from estimation.design import SurveyDesign
    from estimation.indicators import indicator_table

    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({
        "psu": np.repeat(np.arange(30), 20),
        "w": rng.uniform(10, 30, n),
        "sex": rng.choice(["F", "M"], n),
        "age_group": rng.choice(["0-14", "15-64", "65+"], n, p=[0.3, 0.6, 0.1]),
        "usual_resident": True,
        "foreign_born": rng.random(n) < 0.06,
        "foreign_citizen": rng.random(n) < 0.05,
    })
    d = SurveyDesign(df, ids="psu", weights="w")
    res = indicator_table(d, "MI1.1", by=["sex", "age_group"], quality="abs")
    assert res.table["suppressed"].ne("").any()
    out = res.to_sdmx_csv(tmp_path / "s.csv", dimensions={"REF_AREA": "MA"})
    assert list(out.columns[:7]) == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "REF_AREA",
                                     "INDICATOR", "MEASURE", "SEX"]
    assert out["AGE_GROUP"].isin(["0-14", "15-64", "65+", "_T"]).all()
    conf = out["CONF_STATUS"].to_numpy()
    assert set(conf) <= {"F", "C", "D"} and (conf == "C").any()
    assert out.loc[conf != "F", "OBS_VALUE"].isna().all()
    assert out.loc[conf == "F", "OBS_VALUE"].notna().any()
    res.to_excel(tmp_path / "s.xlsx")
    res.to_parquet(tmp_path / "s.parquet")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert len(back) == len(res.table)
