"""The HTML report from plain data: nothing of a suppressed cell in a published report,
everything in an internal one (marked on every page), readable and ordered tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from migsurvey_chromium import chromium_binary, open_page

from migsurvey.report import ReportContent, category_key, render_report

SECRET = 987_654.0  # a suppressed count, with a value no other cell has
SECRET_SHARE = 43.21


def table() -> pd.DataFrame:
    rows = []
    for region, count, share, status, rel, flag in [
        ("_T", 20_000.0, 12.5, "", "reliable", "A"),
        ("North", 11_000.0, 10.0, "", "reliable", "B"),
        ("South", SECRET, SECRET_SHARE, "primary", "caution", "E"),
        ("East", 8_500.0, 15.0, "secondary", "reliable", "C"),
        ("West", 2_222.0, 9.5, "", "unreliable", "F"),
    ]:
        for measure, kind, unit, est in (("count", "total", "PS", count),
                                         ("share", "proportion", "PT", share)):
            rows.append({"indicator": "MI1.1", "measure": measure, "kind": kind,
                         "region": region, "stratum": "_T", "estimate": est,
                         "se": est * 0.111, "ci_low": est * 0.8, "ci_high": est * 1.25,
                         "cv": 0.111, "df": 40.0, "n": 321, "n_contributors": 77,
                         "unit_measure": unit, "experimental": False, "flag": flag,
                         "reliability": rel, "suppressed": status})
    return pd.DataFrame(rows)


META = {
    "indicators": {"MI1.1": {"code": "MI1.1", "name": "Stock of international migrants",
                             "definition": "Usual residents born abroad.",
                             "source": "UN EGMS (2021)"}},
    "quality": {"name": "statcan", "cv_bands": [[0.05, "A", "reliable"],
                                                [0.25, "D", "reliable"],
                                                [0.35, "E", "caution"],
                                                [float("inf"), "F", "unreliable"]],
                "n_bands": [], "source": "Statistics Canada"},
    "suppression": {"rule": "suppress cells with 0 < contributors <= 3", "protection": 0.1,
                    "publish_status": False, "publish_counts": False},
    "level": 0.95,
}


def content(**kw) -> ReportContent:
    return ReportContent(title="Migration survey 2025", indicators=table(), domains=["region"],
                         metadata=META, version="9.9.9", run_date="2025-07-01", **kw)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,]*\.?\d*", text))


def test_published_report_shows_nothing_of_suppressed_cells():
    html = render_report(content())
    for v in (SECRET, SECRET_SHARE, 8_500.0, 15.0):
        for shown in (f"{v:,.0f}", f"{v:,.1f}", f"{v * 0.111:,.1f}", f"{v * 0.8:,.1f}"):
            assert shown not in _numbers(html), shown
    assert "987" not in html and "43.2" not in html
    assert "primary" not in html and "secondary" not in html  # statuses withheld
    assert html.count(">x</td>") == 4  # two cells x two measures, marked confidential
    # the unreliable cell is withheld too, its flag kept
    assert "2,222" not in html
    assert "INTERNAL" not in html


def test_internal_report_is_marked_on_every_page():
    html = render_report(content(internal=True))
    assert "987,654" in html
    assert html.count("INTERNAL") >= 2  # the banner (repeated on printed pages) and footer
    assert re.search(r"\.internal\{[^}]*position:sticky", html)
    assert re.search(r"@media print\{\s*\.internal\{position:fixed", html)


def test_metadata_formats_and_order():
    html = render_report(content())
    for text in ("Usual residents born abroad.", "UN EGMS (2021)", "0 &lt; contributors &lt;= 3",
                 "migsurvey 9.9.9", "2025-07-01", "CV (%)", "Standard error",
                 "95 % confidence interval", "Sample size"):
        assert text in html, text
    assert "11.1</td>" in html  # CV in per cent, one decimal
    assert "11,000</td>" in html and "10.0</td>" in html  # counts and shares, one format each
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert not re.search(r"\d\.?\d*e[-+]\d+", text)  # no scientific notation
    # the total row first, then categories
    rows = re.findall(r"<tr[^>]*><td class=\"l\">([^<]*)</td>", html)
    assert rows[0] == "Total"
    assert sorted(["R1:high", "R1:low", "R2:medium", "R1:medium"], key=category_key) == [
        "R1:low", "R1:medium", "R1:high", "R2:medium"]
    assert sorted(["65+", "0-14", "15-64", "_T"], key=category_key) == [
        "0-14", "15-64", "65+", "_T"]


def test_intervals_in_the_report_are_those_given():
    t = table()
    html = render_report(content())
    row = t[(t["region"] == "North") & (t["measure"] == "count")].iloc[0]
    assert f"{row.ci_low:,.0f} to {row.ci_high:,.0f}" in html


def test_report_from_plain_data_in_chromium(tmp_path):
    """The report of plain data at 1400 px: drawn, nothing overflows its card."""
    assert chromium_binary() is not None, "chromium is needed (.ci/run installs it)"
    wide = table()
    wide["region"] = wide["region"].replace({"North": "A region with a very long name " * 3})
    path = tmp_path / "r.html"
    report = ReportContent(title="Migration survey 2025", indicators=wide, domains=["region"],
                           metadata=META)
    path.write_text(render_report(report), encoding="utf-8")
    page = open_page(path, tmp_path / "r.png", width=1400, height=2000)
    assert page.console == [], page.console
    assert 'data-overflow="none"' in page.dom
    assert (tmp_path / "r.png").stat().st_size > 20_000


@pytest.mark.parametrize("value", [np.nan, None])
def test_missing_values_render_empty(value):
    t = table()
    t.loc[0, "se"] = value
    html = render_report(ReportContent(title="t", indicators=t, domains=["region"],
                                       metadata=META))
    assert "nan" not in html.lower().replace("nan-", "")
