"""The demo end to end on a small census: files, indicator columns, report in Chromium."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from migsurvey_chromium import chromium_binary, open_page
from migsurvey_support import small_spec_text

from migsurvey.cli import main

COLUMNS = ["indicator", "measure", "unit", "sex", "age_group", "region", "urban", "estimate",
           "se", "ci_low", "ci_high", "cv", "df", "n", "flag", "reliability", "suppressed"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    spec = out / "small.yaml"
    spec.write_text(small_spec_text())
    assert main(["demo", "--spec", str(spec), "--out", str(out), "-q"]) == 0
    return out


def test_demo_writes_its_files(demo_dir):
    for name in ("report.html", "indicators.csv", "questionnaire.xlsx", "indicators.sdmx.csv"):
        assert (demo_dir / name).stat().st_size > 1000, name


def test_indicator_table_columns_and_values(demo_dir):
    t = pd.read_csv(demo_dir / "indicators.csv", keep_default_na=False, na_values=[""])
    assert list(t.columns[: len(COLUMNS)]) == COLUMNS
    assert set(t["indicator"]) == {"MI1.1", "MI1.2", "MI1.3", "MI1.4"}
    total = t[(t[["sex", "age_group", "region", "urban"]] == "_T").all(axis=1)]
    share = total.query("indicator == 'MI1.1' and measure == 'share'")
    assert len(share) == 1
    row = share.iloc[0]
    assert 0 < row.ci_low < row.estimate < row.ci_high < 100
    assert row.se > 0 and row.n > 500
    # each domain once: no duplicated (indicator, measure, domain) rows
    key = ["indicator", "measure", "sex", "age_group", "region", "urban"]
    assert not t.duplicated(key).any()


def test_sdmx_message(demo_dir):
    s = pd.read_csv(demo_dir / "indicators.sdmx.csv", dtype=str)
    assert s.columns[0] == "STRUCTURE"
    assert "OBS_VALUE" in s.columns and "REF_AREA" in s.columns


def test_report_is_self_contained(demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and html.count("<svg") >= 8
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    for section in ("allocation", "maps", "weighting", "indicators"):
        assert f'id="{section}"' in html


def test_report_loads_in_chromium(demo_dir, tmp_path):
    """The report at 1400 px in headless Chromium: no console message, every chart drawn, no
    card wider than its box (the check runs in the page), a screenshot with content."""
    assert chromium_binary() is not None, "chromium is needed (.ci/run installs it)"
    shot = tmp_path / "report.png"
    page = open_page(demo_dir / "report.html", shot, width=1400, height=3000)
    assert page.console == [], page.console
    assert 'data-ready="1"' in page.dom
    assert 'data-overflow="none"' in page.dom, re.search(r'data-overflow="[^"]*"', page.dom)
    assert page.dom.count("<svg") >= 8
    assert shot.stat().st_size > 50_000  # a blank page is a few kB
