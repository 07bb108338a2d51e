"""Reading and writing tables by file extension, with their labels.

Reads CSV, Parquet (a file or a folder of Parquet files: a dataset), Stata ``.dta`` and SPSS
``.sav`` (through pyreadstat), Excel ``.xlsx`` and DuckDB databases (``.duckdb``, one table);
writes CSV, Parquet, Excel, Stata and SPSS.

Labels survive a round trip: the value labels of a Stata or SPSS file become pandas
categoricals (the labels in the file's order), and both the value labels and the variable
labels are kept in ``df.attrs["value_labels"]`` (``{column: {code: label}}``) and
``df.attrs["column_labels"]`` (``{column: label}``). Writing Stata or SPSS turns such a
categorical back into its codes with its value labels, and writes the variable labels.

Identifier columns named in ``text=`` are read as text from CSV and Excel, so codes such as
``"0012"`` keep their leading zeros. Any other CSV column is a number only when every value in
it is a number written without a leading zero (:func:`csv_column_types`): a column of region
codes ``01 … 09`` stays text, as a Parquet file keeps it; only an empty CSV field is missing
(``NA`` is a code). A column of ``True``/``False`` is logical, in CSV and in Excel. An Excel
column with a text cell is text (:func:`excel_column_types`); there too only an empty cell
is missing.

>>> import pandas as pd, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
>>> for ext in ("csv", "parquet", "xlsx", "dta", "sav"):
...     p = write_table(df, d / f"t.{ext}")
...     back = read_table(p)
...     assert back["a"].tolist() == [1, 2] and back["b"].tolist() == ["x", "y"], ext
"""

from __future__ import annotations

import datetime
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.spreadsheet import write_csv, write_excel

READ_FORMATS = (".csv", ".txt", ".parquet", ".pq", ".dta", ".sav", ".zsav", ".xlsx", ".xls",
                ".duckdb")
WRITE_FORMATS = (".csv", ".parquet", ".xlsx", ".dta", ".sav")


class InputFileError(SurveyError, OSError):
    """A file that cannot be found, read or written (the command line exits with 4)."""


def _pyreadstat():
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - optional dependency
        raise SurveyError("reading and writing Stata/SPSS files needs pyreadstat",
                          argument="path", expected="pyreadstat installed", found="not installed",
                          hint='pip install "migsurvey[io]"') from None
    return pyreadstat


def read_header(path: str | Path, *, table: str | None = None) -> list[str]:
    """The column names of a data file without reading its rows (where the format allows)."""
    from migsurvey.io_census import census_relation, is_glob

    if is_glob(path):
        import glob

        import pyarrow.parquet as pq

        for f in sorted(glob.glob(str(path))):
            _unique_names(pq.read_schema(regular_file(Path(f), str(path))).names, Path(f))
        return list(census_relation(path).columns)
    p = _existing(path)
    try:
        return _unique_names(_header(p, table), p)
    except SurveyError:
        raise
    except pd.errors.EmptyDataError:
        raise _empty(p) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a file the user must fix
        raise SurveyError("the data file cannot be read", argument=str(p),
                          expected=f"a valid {p.suffix or 'Parquet dataset'} file",
                          found=f"{type(exc).__name__}: {exc}"[:400],
                          hint="check the file's format and encoding (UTF-8 for CSV)") from None


def _header(p: Path, table: str | None, sheet: str | int = 0) -> list[str]:
    ext = p.suffix.lower()
    if p.is_dir():
        import pyarrow.dataset as ds

        return list(ds.dataset(p, format="parquet").schema.names)
    if ext in (".csv", ".txt"):
        return _first_row(pd.read_csv, p)
    if ext in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(p).schema_arrow.names)
    if ext in (".dta", ".sav", ".zsav"):
        rs = _pyreadstat()
        reader = rs.read_dta if ext == ".dta" else rs.read_sav
        return list(reader(str(p), metadataonly=True)[1].column_names)
    if ext == ".duckdb":
        return list(duckdb_table(p, table).columns)
    return _first_row(pd.read_excel, p, sheet_name=sheet)


def _first_row(reader, p: Path, **kw) -> list[str]:
    """The header row of a CSV file or an Excel sheet as written: pandas would rename a
    repeated name (``COB``, ``COB.1``), which must be seen to be refused."""
    row = reader(p, header=None, nrows=1, dtype=str, keep_default_na=False, **kw)
    names = [f"Unnamed: {k}" if pd.isna(v) or v == "" else str(v)
             for k, v in enumerate(row.iloc[0].tolist())] if len(row) else []
    return [names[0].lstrip("\ufeff"), *names[1:]] if names else names


def _unique_names(names: Sequence[str], p: Path) -> list[str]:
    """The column names of a file, refused when one of them is given twice (a reader would
    keep one of them, or rename the other, and the analysis would use whichever came first)."""
    names = list(names)
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise SurveyError(
                f"the column {name!r} appears twice in the data file", argument=str(p),
                expected="each column name once in the header",
                found=f"{name!r} as columns {seen[name] + 1} and {k + 1} of "
                      f"{len(names)}",
                hint="rename or drop one of the two columns in the file")
        seen.setdefault(name, k)
    return names


def _empty(p: Path) -> SurveyError:
    return SurveyError("the data file is empty", argument=str(p),
                       expected="a header row with the column names, then one row per unit",
                       found="no text (0 columns)",
                       hint="check that the file was exported completely")


def _kind(p: Path) -> str:
    mode = p.stat().st_mode
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(p: Path, argument: str = "path") -> Path:
    """``p`` when it is a regular file (through symbolic links); a device, a named pipe or a
    socket (``/dev/zero``, a FIFO) would be read forever or block, and is refused."""
    if not p.is_file():
        target = os.path.realpath(p)
        raise InputFileError("a data file must be a regular file", argument=argument,
                             expected="a regular file (or a folder of Parquet files)",
                             found=f"{p}: {_kind(p)}"
                                   + (f" ({target})" if target != os.path.abspath(p) else ""),
                             hint="copy the data into a file and give its name")
    return p


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputFileError("data file not found", argument="path", expected="an existing file",
                             found=str(p))
    if p.is_dir():
        for f in p.rglob("*.parquet"):
            regular_file(f, str(p))
        return p
    regular_file(p, str(p))
    if p.suffix.lower() not in READ_FORMATS:
        raise SurveyError("unsupported data format", argument=str(p),
                          expected="one of " + ", ".join(READ_FORMATS) + " or a folder of "
                                   "Parquet files", found=p.suffix or "(none)")
    return p


def duckdb_table(path: Path, table: str | None, connection=None):
    """The table ``table`` of a DuckDB database file as a lazy relation (``frame.table``; the
    only table when it is None), through ``connection`` when one is given."""
    import duckdb

    con = connection or duckdb.connect(str(path), read_only=True)
    names = [r[0] for r in con.execute("select table_name from information_schema.tables")
             .fetchall()]
    if table is None and len(names) == 1:
        table = names[0]
    if table not in names:
        raise SurveyError("table not in the DuckDB database", argument="frame.table",
                          expected="one of " + ", ".join(names), found=repr(table))
    return con.table(table)


def read_table(path: str | Path, *, sheet: str | int = 0, columns: Sequence[str] | None = None,
               text: Sequence[str] = (), table: str | None = None) -> pd.DataFrame:
    """Read a data file into a pandas DataFrame, choosing the reader by extension.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``, ``.parquet`` or a folder of Parquet files, ``.dta`` (Stata),
        ``.sav``/``.zsav`` (SPSS), ``.xlsx``/``.xls`` (Excel), ``.duckdb`` (with ``table``).
    sheet : str or int
        Excel sheet.
    columns : list of str, optional
        Read only these columns.
    text : list of str
        Columns read as text (identifiers such as EA codes with leading zeros).
    table : str, optional
        Table of a DuckDB database (default: its only table).

    Returns
    -------
    DataFrame
        With ``attrs["value_labels"]`` and ``attrs["column_labels"]`` for Stata and SPSS.

    Raises
    ------
    InputFileError
        The file does not exist.
    SurveyError
        An extension that is not supported.
    """
    p = _existing(path)
    try:
        _unique_names(_header(p, table, sheet), p)
        return _read(p, sheet, columns, list(text), table)
    except SurveyError:
        raise
    except pd.errors.EmptyDataError:
        raise _empty(p) from None
    except OSError as exc:
        raise InputFileError("the data file cannot be read", argument=str(p),
                             expected="a readable file", found=str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a file the user must fix
        raise SurveyError("the data file cannot be read", argument=str(p),
                          expected=f"a valid {p.suffix or 'Parquet dataset'} file",
                          found=f"{type(exc).__name__}: {exc}"[:400],
                          hint="check the file's format and encoding (UTF-8 for CSV)") from None


def _read(p: Path, sheet, columns, text: list[str], table) -> pd.DataFrame:
    ext = p.suffix.lower()
    cols = list(columns) if columns is not None else None
    if p.is_dir() or ext in (".parquet", ".pq"):
        df = pd.read_parquet(p, columns=cols)
    elif ext in (".csv", ".txt"):
        df = csv_column_types(pd.read_csv(p, usecols=cols, dtype=str, keep_default_na=False,
                                          na_values=[""]), keep_text=text)
    elif ext in (".dta", ".sav", ".zsav"):
        df = _read_labelled(p, ext, cols)
    elif ext == ".duckdb":
        rel = duckdb_table(p, table)
        df = (rel.select(*cols) if cols else rel).df()
    else:
        # only an empty cell is missing: a text cell "NA" is a code, as in CSV
        df = excel_column_types(pd.read_excel(p, sheet_name=sheet, usecols=cols, dtype=object,
                                              keep_default_na=False, na_values=[""]),
                                keep_text=text)
    for c in text:
        if c in df.columns and not isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = _as_text(df[c])
    return df


_LEADING_ZERO = r"^[+-]?0[0-9]"
_BOOLEAN = {"true": True, "false": False}
"""How pandas (``True``/``False``) and R (``TRUE``/``FALSE``) write logical values in CSV."""


def _boolean(known: pd.Series, index: pd.Index) -> pd.Series:
    """A logical column: ``bool`` when every row is known, else pandas' nullable
    ``boolean`` with the missing rows ``<NA>`` (unknown stays unknown, never False)."""
    if len(known) == len(index):
        return pd.Series(known.to_numpy(dtype=bool), index=index)
    out = pd.Series(pd.NA, index=index, dtype="boolean")
    out[known.index] = known.to_numpy(dtype=bool)
    return out


def csv_column_types(df: pd.DataFrame, keep_text: Sequence[str] = ()) -> pd.DataFrame:
    """Numbers where a CSV column holds only numbers; text where a code needs its characters.

    ``df`` is a CSV read with every column as text (empty fields missing). A column becomes
    numeric (integer when every value is whole and none is missing, else float) when every
    value parses as a number, none is written with a leading zero (``01``, ``007``), and the
    only other value is ``NA`` (a missing number, as R and Stata write it); a column whose
    values are all ``True``/``False`` (any case, as pandas and R write logical values; ``NA``
    and empty fields missing) becomes logical (``bool``, or ``boolean`` with missing values),
    so a file written by :func:`write_table` reads back with its types; a column with no
    value is a float column of missing values; any other column, and every column of
    ``keep_text``, stays text with its values as written (``NA`` there is a code, such as a
    province). :func:`migsurvey.io_census.typed_csv` applies the same rule in DuckDB, so a
    census read into memory and one read lazily have the same values.

    >>> import io
    >>> raw = pd.read_csv(io.StringIO("r,a,x\\n01,3,0.5\\n10,NA,\\n"), dtype=str,
    ...                   keep_default_na=False, na_values=[""])
    >>> got = csv_column_types(raw)
    >>> got["r"].tolist(), got["a"].tolist()[0], got["x"].tolist()[0]
    (['01', '10'], 3.0, 0.5)
    """
    out = {}
    keep = set(keep_text)
    for c in df.columns:
        s = df[c]
        values = s.dropna().str.strip()
        numbers = values[values != "NA"]
        text = s.astype(object).where(s.notna(), None)
        if c in keep:
            out[c] = text
        elif values.empty:
            out[c] = pd.Series(np.nan, index=s.index)
        elif not numbers.empty and numbers.str.lower().isin(_BOOLEAN).all():
            out[c] = _boolean(numbers.str.lower().map(_BOOLEAN), s.index)
        elif numbers.empty or numbers.str.match(_LEADING_ZERO).any():
            out[c] = text
        else:
            num = pd.to_numeric(numbers, errors="coerce")
            if num.isna().any():
                out[c] = text
                continue
            full = pd.Series(np.nan, index=s.index)
            full[num.index] = num.to_numpy(dtype=float)
            whole = len(num) == len(s) and (num == np.floor(num)).all() \
                and np.abs(num).max() < 2**53
            out[c] = full.astype(np.int64) if whole else full
    return pd.DataFrame(out, index=df.index)


def excel_column_types(df: pd.DataFrame, keep_text: Sequence[str] = ()) -> pd.DataFrame:
    """Cells as the workbook stores them: a column of number cells is numeric; a column with a
    text cell is text (a code ``01`` typed as text keeps its zero), numbers in it written as
    whole numbers (``12``, not ``12.0``); so is every column of ``keep_text``. A date cell is
    text (``1900-01-15``), never a number of days: an age or a code stored as a date is then
    refused as the answer it is, not read as missing. A column of
    logical cells is logical (``bool``, or ``boolean`` where cells are empty)."""
    out = {}
    keep = set(keep_text)
    for c in df.columns:
        s = df[c]
        known = s.notna()
        is_text = s[known].map(lambda v: isinstance(v, str | datetime.date | datetime.time)
                               ).astype(bool)
        if c in keep or is_text.any():
            out[c] = s.map(_cell_text, na_action="ignore").astype(object).where(known, None)
        elif known.any() and s[known].map(lambda v: isinstance(v, bool | np.bool_)).all():
            out[c] = _boolean(s[known], s.index)
        else:
            out[c] = pd.to_numeric(s, errors="coerce") if known.any() else pd.Series(
                np.nan, index=s.index)
    return pd.DataFrame(out, index=df.index)


def _cell_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime.datetime) and v.time() == datetime.time(0):
        return v.date().isoformat()
    return str(v)


def _as_text(s: pd.Series) -> pd.Series:
    """Identifier values as text: ``12.0`` → ``"12"``; text is kept as it is."""
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if (whole == np.floor(whole)).all():
            return s.astype("Int64").astype(str).where(s.notna(), None).astype(object)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(str).where(s.notna(), None).astype(object)
    return s.astype(object).where(s.notna(), None)


def _read_labelled(p: Path, ext: str, cols) -> pd.DataFrame:
    rs = _pyreadstat()
    reader = rs.read_dta if ext == ".dta" else rs.read_sav
    df, meta = reader(str(p), usecols=cols, apply_value_formats=False)
    value_labels: dict = {}
    for c, labels in (meta.variable_value_labels or {}).items():
        if c not in df.columns or not labels:
            continue
        codes = df[c]
        present = set(pd.unique(codes.dropna()))
        if not present <= set(labels):
            continue  # partly labelled: keep the codes, record the labels
        value_labels[c] = dict(labels)
        ordered = list(dict.fromkeys(labels.values()))
        df[c] = pd.Categorical(codes.map(labels), categories=ordered)
    for c, labels in (meta.variable_value_labels or {}).items():
        if c in df.columns and c not in value_labels and labels:
            value_labels[c] = dict(labels)
    names = meta.column_names or list(df.columns)
    col_labels = {c: lab for c, lab in zip(names, meta.column_labels or [], strict=False)
                  if lab and c in df.columns}
    df.attrs["value_labels"] = value_labels
    df.attrs["column_labels"] = col_labels
    return df


def _labelled_for_writing(df: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Codes and value labels for Stata/SPSS: categoricals back to their codes."""
    out = df.copy()
    known = df.attrs.get("value_labels", {}) or {}
    value_labels: dict = {}
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            labels = known.get(c)
            cats = list(s.cat.categories)
            if labels and set(cats) <= set(labels.values()):
                inverse = {lab: code for code, lab in labels.items()}
            else:
                labels = {i + 1: str(v) for i, v in enumerate(cats)}
                inverse = {v: i + 1 for i, v in enumerate(cats)}
            out[c] = s.astype(object).map(inverse).astype(float)
            value_labels[c] = {k: str(v) for k, v in labels.items()}
        elif c in known and pd.api.types.is_numeric_dtype(s):
            value_labels[c] = {k: str(v) for k, v in known[c].items()}
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            out[c] = s.astype(object).where(s.notna(), "").astype(str)
        elif pd.api.types.is_bool_dtype(s):
            out[c] = s.astype(float)
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            out[c] = s.astype(float)
    col_labels = {c: v for c, v in (df.attrs.get("column_labels", {}) or {}).items()
                  if c in out.columns}
    return out, value_labels, col_labels


def write_table(df: pd.DataFrame, path: str | Path, *, notes: Sequence[str] = ()) -> Path:
    """Write ``df`` by extension (``.csv``, ``.parquet``, ``.xlsx``, ``.dta``, ``.sav``).

    Stata and SPSS files get the value labels of categoricals and ``df.attrs`` labels (see the
    module docstring). ``notes`` (warnings about the numbers) go in the key-value metadata
    ``warnings`` of a Parquet file (a JSON list). Returns the path.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise SurveyError("unsupported output format", argument="path",
                          expected="one of " + ", ".join(WRITE_FORMATS), found=ext or "(none)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError("cannot create the output folder", argument="path",
                             expected="a writable folder", found=str(exc)) from None
    if ext == ".csv":
        write_csv(df, p)
    elif ext == ".parquet":
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        plain = df.copy()
        plain.attrs = {}
        table = pa.Table.from_pandas(plain, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        if notes:
            meta[b"warnings"] = json.dumps([str(n) for n in notes]).encode("utf-8")
        pq.write_table(table.replace_schema_metadata(meta), p)
    elif ext == ".xlsx":
        write_excel(p, {"Sheet1": df})
    else:
        out, value_labels, col_labels = _labelled_for_writing(df)
        rs = _pyreadstat()
        kw = {"column_labels": col_labels or None,
              "variable_value_labels": value_labels or None}
        if ext == ".dta":
            rs.write_dta(out, str(p), **kw)
        else:
            rs.write_sav(out, str(p), **kw)
    return p
