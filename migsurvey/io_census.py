"""A large census read lazily through DuckDB: aggregations run in the database, not in pandas.

A census given as a Parquet dataset (a folder of Parquet files, or a glob such as
``census/part-*.parquet``), a table of a DuckDB database, or a CSV/Parquet file handed to
:func:`lazy_census`, is opened as a DuckDB relation (:func:`census_relation`). The
``columns:`` mapping, the recodings, the identifiers as text, ``age_group``, the foreign-born
and foreign-citizen flags and the household key are added as lazy expressions (narwhals on
DuckDB), and :class:`LazyCensus` answers what the pipeline asks of a census with queries
whose results are small:

* the EA frame by :meth:`sampling.Frame.from_microdata` on the lazy frame (the same narwhals
  aggregation as for pandas; one row per EA comes back);
* the listing of the selected EAs (:meth:`LazyCensus.households_in`, one row per household of
  those EAs) and their persons (:meth:`LazyCensus.persons_in`);
* census counts for calibration (:meth:`LazyCensus.person_counts`, one row per cell).

The person table is never materialised in pandas. Every result passes through
:func:`collect`, the one place where a query's rows reach Python.

Codes are checked before anything is counted, on the distinct values of each recoded column
(a handful of rows): a code not in the mapping, a sex not coded F/M and a country code that is
not ISO 3166-1 alpha-3 are refused as for a file read in memory
(:class:`migsurvey.inputs.ColumnMapping`).
"""

from __future__ import annotations

import glob as _glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from migsurvey.io import InputFileError, duckdb_table
from surveycore import SurveyError

LAZY_KINDS = ("dataset", "glob", "duckdb")


def is_glob(source: str | Path) -> bool:
    """Whether ``source`` is a glob pattern of Parquet files (``census/part-*.parquet``)."""
    return any(ch in str(source) for ch in "*?[")


def census_relation(source: str | Path, *, table: str | None = None,
                    text: Sequence[str] = (), connection: Any = None) -> Any:
    """A DuckDB relation over a census, without reading it.

    Parameters
    ----------
    source : str or Path
        A folder of Parquet files, a glob of Parquet files, a ``.parquet`` or ``.csv`` file,
        or a ``.duckdb`` database (with ``table`` when it holds several tables).
    table : str, optional
        Table of a DuckDB database.
    text : sequence of str
        Columns read as text from a CSV file (identifiers with leading zeros).
    connection : duckdb.DuckDBPyConnection, optional
        Connection to use (default: a new in-memory one; a database is opened read-only).

    Returns
    -------
    duckdb.DuckDBPyRelation
    """
    import duckdb

    s = str(source)
    p = Path(s)
    if is_glob(s):
        files = sorted(_glob.glob(s))
        if not files:
            raise InputFileError("no census file matches the pattern", argument="frame.census",
                                 expected="Parquet files", found=s)
    elif not p.exists():
        raise InputFileError("census not found", argument="frame.census",
                             expected="a file or folder", found=s)
    if p.suffix.lower() == ".duckdb":
        return duckdb_table(p, table, connection)
    con = connection or duckdb.connect()
    if is_glob(s):
        return con.read_parquet(sorted(_glob.glob(s)))
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet"))
        if not files:
            raise SurveyError("a census folder holds Parquet files", argument="frame.census",
                              expected="*.parquet files", found="none")
        return con.read_parquet(files)
    if p.suffix.lower() in (".parquet", ".pq"):
        return con.read_parquet(s)
    if p.suffix.lower() in (".csv", ".txt"):
        return typed_csv(con, s, text)
    raise SurveyError("a lazily read census is Parquet, CSV or DuckDB", argument="frame.census",
                      expected=".parquet, a folder or glob of them, .csv or .duckdb",
                      found=p.suffix or s)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed_csv(con: Any, path: str, text: Sequence[str] = ()) -> Any:
    """A CSV census as a DuckDB relation typed by the rule of
    :func:`migsurvey.io.csv_column_types`, decided on every row (not on a sample).

    The file is read as text; one aggregate pass finds, per column, whether every value is a
    number (``NA`` aside) written without a leading zero. Such a column becomes ``BIGINT``
    (whole numbers) or ``DOUBLE`` with ``NA`` and empty fields missing; a column of
    ``True``/``False`` (any case) becomes ``BOOLEAN``; every other column,
    and every column of ``text``, stays text as written. A numeric type guessed from the first
    rows would drop the zero of a code ``01`` met later in the file, or fail on a late
    ``NK``.
    """
    raw = con.read_csv(path, all_varchar=True)
    names = list(raw.columns)
    keep = set(text)
    checks = []
    for k, name in enumerate(names):
        c = f"trim({_quoted(name)})"
        num = f"TRY_CAST({c} AS DOUBLE)"
        value = f"({c} IS NOT NULL AND {c} <> 'NA')"
        checks += [f"count({c}) AS m{k}", f"count(*) FILTER (WHERE {value}) AS n{k}",
                   f"count(*) FILTER (WHERE {value} AND ({num} IS NULL OR "
                   f"regexp_matches({c}, '^[+-]?0[0-9]'))) AS bad{k}",
                   f"count(*) FILTER (WHERE {value} AND {num} <> floor({num})) AS frac{k}",
                   f"max(abs({num})) FILTER (WHERE {value}) AS big{k}",
                   f"count(*) FILTER (WHERE {value} AND lower({c}) IN ('true', 'false')) "
                   f"AS logical{k}"]
    stats = raw.aggregate(", ".join(checks)).fetchall()[0]
    columns = []
    for k, name in enumerate(names):
        m, n, bad, frac, big, logical = stats[6 * k: 6 * k + 6]
        q = _quoted(name)
        if name not in keep and n and logical == n:
            columns.append(f"CAST(CASE WHEN trim({q}) = 'NA' THEN NULL ELSE trim({q}) END "
                           f"AS BOOLEAN) AS {q}")
            continue
        if name in keep or (n and bad) or (m and not n):
            columns.append(q)
            continue
        kind = "BIGINT" if n and not frac and (big or 0) < 2**53 else "DOUBLE"
        columns.append(f"CAST(CASE WHEN trim({q}) = 'NA' THEN NULL ELSE trim({q}) END AS {kind})"
                       f" AS {q}")
    return raw.project(", ".join(columns))


def _numeric_age(rel: Any, column: str) -> Any:
    """Age as a number, an answer that is not one (``NK``, ``DK``) unknown: the in-memory
    census makes the same age groups (:func:`estimation.indicators.variables.age_groups`)."""
    names = list(getattr(rel, "columns", []))
    if column not in names or str(rel.types[names.index(column)]) != "VARCHAR":
        return rel
    cols = [f"TRY_CAST(trim({_quoted(n)}) AS DOUBLE) AS {_quoted(n)}" if n == column
            else _quoted(n) for n in names]
    return rel.project(", ".join(cols))


def _check_ages(rel: Any, mapping: Any, spec: dict, source: str) -> None:
    """Refuse impossible census ages, counted in the database by the rule of the persons
    file (:func:`questionnaires.plausibility.impossible_ages`; the codes of
    ``columns.age.unknown`` are unknown ages)."""
    from migsurvey.answers import refuse_impossible_census_ages
    from migsurvey.inputs import _norm
    from questionnaires.plausibility import MAX_AGE

    column = mapping.file_name("age")
    names = list(rel.columns)
    if column not in names:
        return
    q = _quoted(column)
    codes = sorted(str(_norm(c)) for c in mapping.unknown.get("age", ()))
    if str(rel.types[names.index(column)]) == "VARCHAR":
        value = f"trim({q})"
        present = f"({value} IS NOT NULL AND {value} <> '')"
        dk = "(" + " OR ".join(f"{value} = '{c.replace(chr(39), chr(39) * 2)}'"
                               for c in codes) + ")" if codes else "false"
    else:
        value = f"CAST({q} AS VARCHAR)"
        present = f"({q} IS NOT NULL)"
        numbers = [c for c in codes if _is_number(c)]
        dk = f"(CAST({q} AS DOUBLE) IN ({', '.join(numbers)}))" if numbers else "false"
    num = f"TRY_CAST({value} AS DOUBLE)"
    bad = (f"{present} AND NOT {dk} AND ({num} IS NULL OR isnan({num}) OR isinf({num}) "
           f"OR {num} <> floor({num}) OR {num} < 0 OR {num} > {MAX_AGE})")
    flagged = rel.filter(bad)
    n = flagged.aggregate("count(*)").fetchall()[0][0]
    if n:
        values = [r[0] for r in flagged.project(f"{value} AS v").distinct().limit(5)
                  .fetchall()]
        refuse_impossible_census_ages(spec, mapping, source, int(n), [], values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def collect(frame: Any) -> pd.DataFrame:
    """The rows of a lazy query as pandas: the one place where census rows reach Python."""
    return frame.collect().to_pandas()


def _distinct(lf: Any, column: str) -> list:
    return collect(lf.select(column).unique())[column].tolist()


def _integral(lf: Any, column: str) -> bool:
    c = nw.col(column).cast(nw.Float64)
    got = collect(lf.select((c - c.floor()).abs().max().alias("r")))["r"].iloc[0]
    return got is None or pd.isna(got) or float(got) == 0.0


def _text(lf: Any, column: str, dtype: Any) -> nw.Expr:
    """A column as text in the form of :func:`migsurvey.inputs._norm` (``1.0`` → ``"1"``)."""
    c = nw.col(column)
    if dtype.is_numeric() and not dtype.is_integer():
        if _integral(lf, column):
            return c.cast(nw.Int64).cast(nw.String)
        return c.cast(nw.String)
    if dtype.is_numeric() or dtype == nw.Boolean:
        return c.cast(nw.String)
    return _known(c.cast(nw.String).str.strip_chars())


def _known(text: nw.Expr) -> nw.Expr:
    """Empty text is a missing answer (null), as :func:`migsurvey.inputs.blank_as_missing`."""
    return nw.when(text.str.strip_chars().str.len_chars() > 0).then(text)


def _age_group(column: str, breaks: Sequence[int]) -> nw.Expr:
    """``age_group`` as :func:`estimation.indicators.variables.age_groups` labels it."""
    b = [int(x) for x in breaks]
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(b[:-1], b[1:], strict=False)] + [f"{b[-1]}+"]
    age = nw.col(column).cast(nw.Float64)
    expr = nw.when(age >= b[0]).then(nw.lit(labels[0]))
    for lo, lab in zip(b[1:], labels[1:], strict=True):  # the highest limit is tested first
        expr = nw.when(age >= lo).then(nw.lit(lab)).otherwise(expr)
    return expr


def _flag(column: str, country: str) -> nw.Expr:
    """1.0 another known country, 0.0 the reporting country, null unknown (``XXX``, missing)."""
    from migsurvey.inputs import UNKNOWN_COUNTRY

    c = nw.col(column)
    known = ~c.is_null() & (c != UNKNOWN_COUNTRY)
    return nw.when(known).then((c != country).cast(nw.Float64))


class LazyCensus:
    """A census read lazily through DuckDB, with the interface the pipeline uses.

    Parameters
    ----------
    relation : DuckDB relation (or any narwhals-supported lazy frame)
        One row per person with the file's column names.
    mapping : migsurvey.inputs.ColumnMapping
        The ``columns:`` mapping.
    psu, country, reference_year, age_breaks
        As for :class:`migsurvey.inputs.PersonCensus`.
    spec : dict, optional
        For messages that point at the specification.

    Attributes
    ----------
    persons : narwhals.LazyFrame
        The person rows with standard names, flags and ``hh_key``: lazy, never in pandas.
    eas : pandas.DataFrame
        The EA frame (one row per PSU).
    """

    counts_crossed = True
    """:meth:`person_counts` counts crossed cells (``("region", "sex")``) in the database."""

    def __init__(self, relation: Any, mapping: Any, *, psu: str = "ea_id", country: str,
                 reference_year: int, age_breaks: Sequence[int] = (0, 15, 30, 45, 60),
                 spec: dict | None = None) -> None:
        from migsurvey.inputs import (
            EA_LEVEL,
            HH_KEY,
            ID_COLUMNS,
            _check_countries,
            _check_sex,
            _spec_error,
        )
        from sampling import Frame

        self.country, self.reference_year, self.psu = country, reference_year, psu
        lf = nw.from_native(relation)
        schema = lf.collect_schema()
        inverse = {col: std for std, col in mapping.columns.items() if col in schema}
        for col, std in inverse.items():
            if std in schema and std != col:
                raise _spec_error(spec, f"{mapping.key}.{std}",
                                  f"the census has both {std!r} and the column mapped to it",
                                  "one column per standard name", f"{std!r} and {col!r}",
                                  key=True)
        exprs = []
        for name, dtype in schema.items():
            std = inverse.get(name, name)
            if std in ID_COLUMNS:
                exprs.append(_text(lf, name, dtype).alias(std))
            elif std in mapping.codes:
                table = {**mapping.codes[std], **dict.fromkeys(mapping.unknown.get(std, ()))}
                raw = lf.select(_text(lf, name, dtype).alias(std))
                mapping.check_codes(std, _distinct(raw, std), table, "census", spec=spec)
                from migsurvey.inputs import _norm

                lookup = {_norm(k): v for k, v in table.items()}
                exprs.append(_text(lf, name, dtype).replace_strict(
                    lookup, default=None, return_dtype=nw.String).alias(std))
            elif dtype == nw.String:
                exprs.append(_known(nw.col(name)).alias(std))
            else:
                exprs.append(nw.col(name).alias(std))
        for k, std in enumerate(inverse.get(n, n) for n in schema):
            if std in mapping.unknown:  # the census's codes for "not known" are unknown
                name = next(n for n in schema if inverse.get(n, n) == std)
                dk = _text(lf, name, schema[name]).is_in(sorted(mapping.unknown[std]))
                exprs[k] = nw.when(~dk).then(exprs[k]).alias(std)
        p = lf.select(*exprs)
        names = p.collect_schema().names()
        if psu not in names:
            raise SurveyError("the census has no PSU column", argument="frame.psu",
                              expected="a census column (after the columns: mapping)",
                              found=repr(psu))
        if "sex" in names:
            _check_sex(pd.Series(_distinct(p, "sex")), mapping, "census", spec)
        countries = [c for c in ("country_birth", "citizenship") if c in names]
        _check_countries(pd.DataFrame({c: pd.Series(_distinct(p, c), dtype=object)
                                       for c in countries}), countries)
        extra = {HH_KEY: nw.concat_str([nw.col("ea_id"), nw.lit("/"),
                                        nw.col("household_id")])}
        if "age" in names and "age_group" not in names:
            extra["age_group"] = _age_group("age", age_breaks)
        extra["_fb"] = _flag("country_birth", country)
        if "citizenship" in names:
            extra["_fc"] = _flag("citizenship", country)
        missing = collect(p.select((nw.col("ea_id").is_null() | nw.col("household_id").is_null())
                                   .cast(nw.Int64).sum().alias("n")))["n"].iloc[0]
        if missing:
            raise SurveyError("EA or household ids are missing", argument="ea_id, household_id",
                              expected="an id on every row", found=f"{int(missing)} rows")
        p = p.with_columns(**extra)
        self._by = [c for c in EA_LEVEL if c in names and c != psu]
        flags = {"foreign_born": "_fb", **({"foreign_citizens": "_fc"}
                                           if "citizenship" in names else {})}
        frame = Frame.from_microdata(p, ea=psu, household=HH_KEY, by=self._by, flags=flags,
                                     household_flags={"migrant_households": "_fb"},
                                     count_unknown=True)
        self.eas = frame.data
        self._flags = [c for c in ("_fb", "_fc") if c in p.collect_schema().names()]
        self.persons = p
        self._counts: dict = {}

    @property
    def n_persons(self) -> int:
        return int(collect(self.persons.select(nw.len().alias("n")))["n"].iloc[0])

    @property
    def n_households(self) -> int:
        from migsurvey.inputs import HH_KEY

        return int(collect(self.persons.select(HH_KEY).unique().select(
            nw.len().alias("n")))["n"].iloc[0])

    def _in(self, ea_ids) -> Any:
        ids = [str(i) if not isinstance(i, int | np.integer) else i
               for i in pd.unique(pd.Series(list(ea_ids)))]
        return self.persons.filter(nw.col(self.psu).is_in(ids))

    def households_in(self, ea_ids) -> pd.DataFrame:
        """Households of the given PSUs (the listing of selected EAs), one row each."""
        from migsurvey.inputs import HH_KEY, household_status

        cols = list(dict.fromkeys(c for c in (self.psu, "ea_id", "household_id", *self._by)))
        out = collect(self._in(ea_ids).group_by(HH_KEY).agg(
            *[nw.col(c).min() for c in cols], nw.len().alias("size"),
            nw.col("_fb").max().alias("migrant_household"),
            nw.col("_fb").is_null().cast(nw.Int64).max().alias("_unknown")))
        out["migrant_household"] = household_status(out["migrant_household"],
                                                    out.pop("_unknown").fillna(0) > 0)
        out["size"] = out["size"].astype("int64")
        return out[[HH_KEY, *cols, "size", "migrant_household"]].sort_values(
            HH_KEY, kind="stable").reset_index(drop=True)

    def persons_in(self, ea_ids) -> pd.DataFrame:
        """Persons of the given PSUs."""
        return collect(self._in(ea_ids).drop(*self._flags))

    def person_counts(self, column: str | tuple[str, ...]) -> dict:
        """Census person count of every level of ``column`` (a tuple: crossed levels),
        counted in the database."""
        cols = [column] if isinstance(column, str) else list(column)
        have = self.persons.collect_schema().names()
        missing = [c for c in cols if c not in have]
        if missing:
            raise SurveyError("calibration margin not in the census", argument="weighting",
                              expected="person columns of the census",
                              found=", ".join(missing))
        key = tuple(cols)
        if key not in self._counts:
            t = collect(self.persons.group_by(cols).agg(nw.len().alias("__n")))
            t = t.dropna(subset=cols)
            if len(cols) == 1:
                self._counts[key] = dict(zip(t[cols[0]], t["__n"].astype(int), strict=True))
            else:
                self._counts[key] = dict(zip(map(tuple, t[cols].to_numpy().tolist()),
                                             t["__n"].astype(int), strict=True))
        return dict(self._counts[key])


def lazy_census(spec: dict, source: str | Path | None = None) -> LazyCensus:
    """The census of ``frame.census`` (or ``source``) read lazily through DuckDB.

    Any Parquet, CSV or DuckDB census can be read this way; :func:`migsurvey.inputs.read_census`
    does so for Parquet datasets, globs and DuckDB tables.
    """
    from migsurvey.inputs import ID_COLUMNS, ColumnMapping

    mapping = ColumnMapping.from_spec(spec, "census")
    rel = census_relation(source or spec["frame"]["census"], table=spec["frame"]["table"],
                          text=mapping.file_names(ID_COLUMNS))
    _check_ages(rel, mapping, spec, Path(str(source or spec["frame"]["census"])).name)
    rel = _numeric_age(rel, mapping.file_name("age"))
    return LazyCensus(rel, mapping, psu=spec["frame"]["psu"], country=spec["country"],
                      reference_year=spec["reference_year"],
                      age_breaks=spec["frame"]["age_breaks"], spec=spec)
