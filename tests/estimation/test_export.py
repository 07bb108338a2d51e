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
        "suppression": {"publish_status": True, "publish_counts": False},
        "suppression_audit": {"MI1.1": {"status_published": True}},
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
    # a suppressed cell keeps no flag, and no contributor count is published
    assert (p.loc[hidden, "flag"] == "").all() and (p.loc[hidden, "reliability"] == "").all()
    assert list(p.loc[hidden, "suppressed"]) == ["secondary", "primary", "secondary"]
    assert "n_contributors" not in p.columns
    # statuses withheld: every suppressed cell is "confidential"
    meta = {**result.metadata, "suppression": {"publish_status": False}}
    r = IndicatorTable(result.table, meta).published()
    assert set(r.loc[hidden, "suppressed"]) == {"confidential"}


def test_csv_roundtrip_with_metadata(result, tmp_path):
    path = result.to_csv(tmp_path / "t.csv")
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == [c for c in result.table.columns if c != "n_contributors"]
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
    out = result.to_sdmx_csv(tmp_path / "t.csv", dimensions={"REF_AREA": "KEN",
                                                              "TIME_PERIOD": "2024"})
    assert list(out.columns[:8]) == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "REF_AREA",
                                     "TIME_PERIOD", "INDICATOR", "MEASURE", "SEX"]
    assert out.columns.get_loc("OBS_VALUE") == 8
    assert {"OBS_STATUS", "CONF_STATUS", "UNIT_MULT", "UNIT_MEASURE", "SE", "CV", "CI_LOWER",
            "CI_UPPER", "EXPERIMENTAL"} <= set(out.columns)
    assert out["STRUCTURE"].eq("dataflow").all() and out["ACTION"].eq("I").all()
    assert list(out["INDICATOR"]) == ["MI_1_1"] * 4 + ["TEMP_MOB"]
    assert list(out["CONF_STATUS"]) == ["F", "D", "A", "D", "F"]
    assert list(out["OBS_STATUS"]) == ["A", "", "", "", "A"]
    assert out["OBS_VALUE"].isna().tolist() == [False, True, True, True, False]
    assert out.loc[1:3, ["SE", "CV", "CI_LOWER", "CI_UPPER"]].isna().all().all()
    assert list(out["EXPERIMENTAL"]) == ["false"] * 4 + ["true"]
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,")
    assert text[2].split(",")[8] == "NaN"  # no value published
    assert out["REF_AREA"].eq("KEN").all()
    alpha2 = result.to_sdmx_csv(dimensions={"REF_AREA": "KEN"}, ref_area="alpha2")
    assert alpha2["REF_AREA"].eq("KE").all()


def test_sdmx_status_maps_and_unreliable(result):
    t = result.table.copy()
    t["suppressed"] = ""
    r = IndicatorTable(t, result.metadata)
    out = to_sdmx_csv(r, conf_status={"primary": "C"})
    assert list(out["OBS_STATUS"]) == ["A", "A", "U", "A", "A"]  # U: low reliability
    assert np.isnan(out.loc[2, "OBS_VALUE"])
    coded = to_sdmx_csv(r, value_codes={"sex": {"F": "FEM"}}, dimension_names={"sex": "GENDER"})
    assert list(coded["GENDER"]) == ["_T", "FEM", "M", "FEM", "_T"]
    kept = to_sdmx_csv(r, withhold_unreliable=False, uncertainty=False)
    assert kept.loc[2, "OBS_VALUE"] == 40.0 and "SE" not in kept.columns
    with pytest.raises(SurveyError):
        to_sdmx_csv(r, action="X")
    with pytest.raises(SurveyError):
        to_sdmx_csv(r, structure_id="flow")
    with pytest.raises(SurveyError):
        to_sdmx_csv(r, dimensions={"REF_AREA": "XXX"}, ref_area="alpha2")


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
    assert set(out["AGE"]) == {"Y0T14", "Y15T64", "Y_GE65", "_T"}
    conf = out["CONF_STATUS"].to_numpy()
    assert set(conf) <= {"F", "C"} and (conf == "C").any()
    assert out.loc[conf != "F", "OBS_VALUE"].isna().all()
    assert out.loc[conf == "F", "OBS_VALUE"].notna().any()
    res.to_excel(tmp_path / "s.xlsx")
    res.to_parquet(tmp_path / "s.parquet")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert len(back) == len(res.table)


def test_sdmx1_reads_structure_and_data(tmp_path):
    """An SDMX tool (sdmx1) reads the structure written beside the data, then the data; the
    values it reads are the published values."""
    import sdmx

    from estimation.design import SurveyDesign
    from estimation.indicators import indicator_table
    from estimation.indicators.export import sdmx_structure_path

    rng = np.random.default_rng(11)
    n = 500
    df = pd.DataFrame({
        "EA": [f"{k:04d}" for k in np.repeat(np.arange(25), 20)],
        "wt": rng.uniform(10, 30, n),
        "sex": rng.choice(["female", "male"], n),
        "usual_resident": 1,
        "age_group": rng.choice(["0-14", "15-64", "65+"], n, p=[0.3, 0.6, 0.1]),
        "foreign_born": rng.random(n) < 0.06,
        "foreign_citizen": rng.random(n) < 0.05,
    })
    res = indicator_table(SurveyDesign(df, ids="EA", weights="wt"), "MI1.1",
                          by=["sex", "age_group"])
    path = tmp_path / "mi.sdmx.csv"
    res.to_sdmx_csv(path, dimensions={"REF_AREA": "MAR", "TIME_PERIOD": "2025", "FREQ": "A"},
                    ref_area="alpha2")
    structure = sdmx.read_sdmx(sdmx_structure_path(path))
    flow = structure.dataflow["DF_MIGRATION"]
    dsd = flow.structure
    assert [d.id for d in dsd.dimensions.components] == [
        "REF_AREA", "TIME_PERIOD", "FREQ", "INDICATOR", "MEASURE", "SEX", "AGE"]
    assert {c.id for c in structure.codelist["CL_AGE"]} == {"Y0T14", "Y15T64", "Y_GE65", "_T"}
    assert {c.id for c in structure.codelist["CL_SEX"]} == {"F", "M", "_T"}
    data = sdmx.read_sdmx(path, structure=flow)
    back = sdmx.to_pandas(data, attributes="o").reset_index()
    pub = res.published()
    assert len(back) == len(pub)
    sex = pub["sex"].map({"female": "F", "male": "M", "_T": "_T"})
    age = pub["age_group"].astype(str).map({"0-14": "Y0T14", "15-64": "Y15T64",
                                            "65+": "Y_GE65", "_T": "_T"})
    want = pd.Series(pub["estimate"].to_numpy(), index=pd.MultiIndex.from_arrays(
        [pub["measure"].str.upper().to_numpy(), sex.to_numpy(), age.to_numpy()]))
    got = pd.Series(back["value"].astype(float).to_numpy(), index=pd.MultiIndex.from_arrays(
        [back["MEASURE"].astype(str).to_numpy(), back["SEX"].astype(str).to_numpy(),
         back["AGE"].astype(str).to_numpy()]))
    got = got.reindex(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    assert (back["REF_AREA"].astype(str) == "MA").all()
    hidden = back["value"].astype(float).isna()
    why = back.loc[hidden, "CONF_STATUS"].astype(str) + back.loc[hidden, "OBS_STATUS"].astype(str)
    assert hidden.any() and why.isin(["C", "FU"]).all()  # confidential, or too unreliable
