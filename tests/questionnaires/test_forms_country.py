"""Without a reporting country the XLSForm asks for it; it never writes a placeholder."""

from __future__ import annotations

import openpyxl
from pyxform.xls2xform import convert

import questionnaires as q


def _reporting_row(path):
    ws = openpyxl.load_workbook(path)["survey"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return next(r for r in rows if r.get("name") == "reporting_country")


def test_form_without_country_asks_for_it(tmp_path):
    path = q.load("core").to_xlsform(tmp_path / "core.xlsx")
    row = _reporting_row(path)
    assert row["type"] == "select_one countries" and row["required"] == "yes"
    assert "{country}" not in str(row)
    convert(xlsform=str(path))  # still a valid XLSForm


def test_form_with_country_fixes_it(tmp_path):
    row = _reporting_row(q.load("core", country="FRA").to_xlsform(tmp_path / "core.xlsx"))
    assert row["type"] == "calculate" and row["calculation"] == "'FRA'"
