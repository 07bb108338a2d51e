"""Reading and writing tables by file extension.

Reads CSV, Parquet, Stata ``.dta``, SPSS ``.sav`` (through pyreadstat) and Excel
``.xlsx``; writes CSV, Parquet and Excel. SDMX-CSV is written by the estimation layer's
exporter (see :func:`migsurvey.pipeline.write_indicators`).

>>> import pandas as pd, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
>>> for ext in ("csv", "parquet", "xlsx", "dta"):
...     p = write_table(df, d / f"t.{ext}")
...     back = read_table(p)
...     assert back["a"].tolist() == [1, 2] and back["b"].tolist() == ["x", "y"], ext
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from surveycore import SurveyError
from surveycore.spreadsheet import write_csv, write_excel

READ_FORMATS = (".csv", ".txt", ".parquet", ".pq", ".dta", ".sav", ".zsav", ".xlsx", ".xls")
WRITE_FORMATS = (".csv", ".parquet", ".xlsx", ".dta")


def read_table(path: str | Path, *, sheet: str | int = 0, columns=None) -> pd.DataFrame:
    """Read a data file into a pandas DataFrame, choosing the reader by extension.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``, ``.parquet``, ``.dta`` (Stata), ``.sav``/``.zsav`` (SPSS, needs
        pyreadstat), ``.xlsx``/``.xls`` (Excel).
    sheet : str or int
        Excel sheet.
    columns : list of str, optional
        Read only these columns (Parquet, Stata, SPSS).

    Raises
    ------
    SurveyError
        File missing, or an extension that is not supported.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if not p.exists():
        raise SurveyError("data file not found", argument="path", expected="an existing file",
                          found=str(p))
    if ext not in READ_FORMATS:
        raise SurveyError("unsupported data format", argument="path",
                          expected="one of " + ", ".join(READ_FORMATS), found=ext or "(none)")
    if ext in (".csv", ".txt"):
        return pd.read_csv(p, usecols=columns)
    if ext in (".parquet", ".pq"):
        return pd.read_parquet(p, columns=columns)
    if ext == ".dta":
        return pd.read_stata(p, columns=columns, convert_categoricals=True)
    if ext in (".sav", ".zsav"):
        try:
            import pyreadstat
        except ImportError:  # pragma: no cover - optional dependency
            raise SurveyError("reading SPSS files needs pyreadstat", argument="path",
                              expected="pyreadstat installed", found="not installed",
                              hint='pip install "migsurvey[io]"') from None
        df, _meta = pyreadstat.read_sav(str(p), usecols=columns, apply_value_formats=True)
        return df
    return pd.read_excel(p, sheet_name=sheet)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` by extension (``.csv``, ``.parquet``, ``.xlsx``, ``.dta``); return the path."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise SurveyError("unsupported output format", argument="path",
                          expected="one of " + ", ".join(WRITE_FORMATS), found=ext or "(none)")
    p.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        write_csv(df, p)
    elif ext == ".parquet":
        df.to_parquet(p, index=False)
    elif ext == ".xlsx":
        write_excel(p, {"Sheet1": df})
    else:
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
        out.to_stata(p, write_index=False)
    return p
