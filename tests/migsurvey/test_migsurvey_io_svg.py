"""Table input/output by extension, and the SVG charts on edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from migsurvey import svg
from migsurvey.io import read_table, write_table
from surveycore import SurveyError


@pytest.fixture
def df():
    return pd.DataFrame({"id": [1, 2, 3], "sex": ["F", "M", "F"], "w": [1.5, 2.0, 2.5]})


@pytest.mark.parametrize("ext", ["csv", "parquet", "xlsx", "dta"])
def test_round_trip(tmp_path, df, ext):
    back = read_table(write_table(df, tmp_path / f"t.{ext}"))
    assert back["id"].tolist() == [1, 2, 3]
    assert back["sex"].tolist() == ["F", "M", "F"]
    np.testing.assert_allclose(back["w"], df["w"])


def test_spss(tmp_path, df):
    pyreadstat = pytest.importorskip("pyreadstat")
    pyreadstat.write_sav(df, str(tmp_path / "t.sav"),
                         variable_value_labels={"id": {1: "one", 2: "two", 3: "three"}})
    back = read_table(tmp_path / "t.sav")
    assert back["id"].tolist() == ["one", "two", "three"]  # value labels applied
    assert back["sex"].tolist() == ["F", "M", "F"]


def test_refusals(tmp_path, df):
    with pytest.raises(SurveyError, match="not found"):
        read_table(tmp_path / "none.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(SurveyError, match="unsupported data format"):
        read_table(tmp_path / "x.json")
    with pytest.raises(SurveyError, match="unsupported output format"):
        write_table(df, tmp_path / "x.json")
    df0 = df.copy()
    write_table(df, tmp_path / "t.dta")
    pd.testing.assert_frame_equal(df, df0)  # the caller's frame is not modified


def test_charts_survive_edge_cases():
    for chart in (
        svg.histogram([], title="empty"),
        svg.histogram([3.0, 3.0, 3.0], title="constant", marker=3.0),
        svg.histogram([1.0, np.nan, np.inf, 2.0], title="non-finite"),
        svg.bars(["a"], {"s": [0.0]}, title="zero"),
        svg.forest(["x", "y"], [1, np.nan], [0, np.nan], [2, np.nan], title="nan row",
                   flags=["", "F"], reference=(1.0,)),
        svg.lines({"c": [1e-3, 1e-9, 0.0]}, title="log with zero", log=True),
        svg.scatter([0, 1], [0, 1], ["a", "b"], title="two", highlight=[True, False]),
    ):
        assert chart.startswith("<svg") and chart.endswith("</svg>")
        assert "nan" not in chart.replace("nan row", "") and "inf" not in chart


def test_chart_text_is_escaped():
    out = svg.bars(["<b>&"], {"s": [1.0]}, title="a < b")
    assert "<b>&" not in out and "&lt;b&gt;&amp;" in out and "a &lt; b" in out
