"""Text written to spreadsheets stays text: no formula from data or forms.

A cell whose text begins with ``=`` (or ``+``, ``-``, ``@``) is run as a formula by Excel and
LibreOffice (``=HYPERLINK(...)``, ``=cmd|...``): "CSV/formula injection" (OWASP). Labels of
questions, categories of ``by`` variables and any other text from users' files therefore pass
through this module on the way out:

* :func:`write_excel` writes every text cell as a string cell (``data_type="s"``) with
  Excel's quote prefix, so that it shows the text and never evaluates it;
* :func:`neutralise_csv` prefixes a leading ``= + - @`` (and tab or carriage return) of a
  text cell with an apostrophe, the form spreadsheet programs display as text. Numbers are
  never changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a text cell as a formula."""


def neutralise_text(value: Any) -> Any:
    """``value`` with an apostrophe in front when it is text starting a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot start a formula."""
    out = frame.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype | pd.CategoricalDtype):
            values = col.astype(object).to_numpy()
            risky = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                 for v in values), dtype=bool, count=len(values))
            if risky.any():
                out.isetitem(j, pd.Series([neutralise_text(v) for v in values], index=out.index,
                                          dtype=object))
    out.columns = [neutralise_text(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **options: Any) -> None:
    """``frame.to_csv(path, index=False, **options)`` after :func:`neutralise_csv`."""
    options.setdefault("index", False)
    neutralise_csv(frame).to_csv(path, **options)


def write_excel(path: str | os.PathLike[str], sheets: Mapping[str, pd.DataFrame], *,
                index: bool = False) -> None:
    """Write data frames to an ``.xlsx`` workbook (openpyxl), one sheet each; every text cell
    is a string cell, never a formula."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=index)
        for ws in writer.book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or (isinstance(cell.value, str)
                                                 and cell.value.startswith(FORMULA_STARTS)):
                        cell.data_type = "s"
                        cell.quotePrefix = True
