"""An office's own files: the census and the interview files, read through a column mapping.

The package works on *standard names* (``ea_id``, ``household_id``, ``line``, ``sex``,
``age``, ``country_birth`` … listed by :func:`migsurvey.spec.standard_columns`). The
``columns:`` section of a specification maps each standard name to the column of the office's
file, optionally with a recoding of its codes::

    columns:
      ea_id: EA_CODE
      household_id: HH_NO
      sex: {column: SEX, codes: {1: M, 2: F}}

:class:`ColumnMapping` renames the file's columns to the standard names when a file is read
(:meth:`ColumnMapping.apply`) and back when a table is written (:meth:`ColumnMapping.restore`),
so a file written by one command reads back through the same mapping. Identifiers stay as
given: ``ea_id`` and ``household_id`` are text, ``"0012"`` stays ``"0012"``. A code that is not
in the mapping is refused with the column and the codes named; when the census and the
interviews code a column differently the error says so.

Households are keyed by ``hh_key`` = ``ea_id`` + ``"/"`` + ``household_id`` (household numbers
are often unique only within their EA).

:class:`PersonCensus` is a census given as one person-level file (CSV, Parquet, Stata, SPSS,
Excel, a folder of Parquet files, a DuckDB table) or as a folder with ``persons`` and ``eas``
tables; it offers the EA frame, the listing of selected EAs and the census counts that the
pipeline needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migsurvey.io import InputFileError, read_header, read_table
from surveycore import SurveyError, SurveyWarning

ID_COLUMNS = ("ea_id", "household_id")
HH_KEY = "hh_key"
EA_LEVEL = ("region", "district", "urban", "x", "y")
"""Census columns that describe the EA (one value per EA); carried into the frame."""

UNKNOWN_COUNTRY = "XXX"


def _norm(v: Any) -> Any:
    """A code in a comparable form: ``1``, ``1.0`` and ``"1"`` are one code."""
    if isinstance(v, bool | np.bool_):
        return str(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v).strip()


@dataclass(frozen=True)
class ColumnMapping:
    """Standard name → file column, with optional recodings.

    Attributes
    ----------
    columns : dict
        ``{standard_name: file_column}``.
    codes : dict
        ``{standard_name: {file_code: standard_code}}``.
    unknown : dict
        ``{standard_name: {file_code, ...}}``: the file's codes for "not known", read as
        missing (unknown), never as a value.
    key : str
        The specification key of the mapping (``columns`` or ``interviews.columns``), for messages.
    """

    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    key: str = "columns"
    unknown: dict[str, frozenset] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: dict, which: str = "census") -> ColumnMapping:
        """The census mapping (``columns``) or the interviews' (``columns`` with the keys of
        ``interviews.columns`` replaced)."""
        raw, key = dict(spec.get("columns") or {}), "columns"
        if which == "interviews" and spec.get("interviews", {}).get("columns"):
            raw.update(spec["interviews"]["columns"])  # the interviews' own keys win
            key = "interviews.columns"
        cols, codes, unknown = {}, {}, {}
        for std, target in raw.items():
            if isinstance(target, dict):
                cols[std] = target["column"]
                if target.get("codes"):
                    codes[std] = dict(target["codes"])
                if target.get("unknown"):
                    unknown[std] = frozenset(_norm(v) for v in target["unknown"])
            else:
                cols[std] = target
        return cls(cols, codes, key, unknown)

    def file_name(self, std: str) -> str:
        return self.columns.get(std, std)

    def file_names(self, names: Sequence[str]) -> list[str]:
        return [self.file_name(n) for n in names]

    def check_header(self, header: Sequence[str], *, what: str, required: Sequence[str] = (),
                     spec: dict | None = None) -> None:
        """Refuse a mapped column that the file does not have, or a missing required column."""
        have = set(header)
        sep = next((c for c in (";", "\t", "|") if len(header) == 1 and c in str(header[0])),
                   None)
        for std, col in self.columns.items():
            if col not in have and std in required:
                raise _spec_error(spec, f"{self.key}.{std}", f"the {what} has no column {col!r}",
                                  f"a column of the {what}", f"columns {_preview(header)}",
                                  hint=f"the {what} is separated by {sep!r}, not by commas: "
                                       "save it as comma-separated values (with a decimal "
                                       "point)" if sep else f"correct {self.key}.{std}")
        missing = [s for s in required if self.file_name(s) not in have]
        if missing:
            std = missing[0]
            raise _spec_error(spec, self.key, f"the {what} lacks a column the survey needs",
                              f"a column for the standard name {std!r}"
                              + (f" (mapped to {self.file_name(std)!r})" if std in self.columns
                                 else f"; map it with {self.key}: {{{std}: YOUR_COLUMN}}"),
                              f"columns {_preview(header)}", key=True)

    def apply(self, df: pd.DataFrame, *, what: str, other: ColumnMapping | None = None,
              spec: dict | None = None) -> pd.DataFrame:
        """A new frame with standard names and codes (the file's frame is not changed).

        ``other`` is the census mapping when ``self`` maps interviews: a code that the census
        mapping knows but this one does not is then named as a coding mismatch.
        """
        out = df.copy()
        out.attrs = dict(df.attrs)
        rename = {}
        for std, col in self.columns.items():
            if col not in out.columns:
                continue
            if std in out.columns and std != col:
                raise _spec_error(spec, f"{self.key}.{std}",
                                  f"the {what} has both {std!r} and the column mapped to it",
                                  "one column per standard name", f"{std!r} and {col!r}",
                                  hint=f"drop or rename {std!r} in the file, or remove the "
                                       "mapping", key=True)
            rename[col] = std
        out = out.rename(columns=rename)
        labels = out.attrs.get("value_labels", {}) or {}
        out.attrs["value_labels"] = {rename.get(k, k): v for k, v in labels.items()}
        out.attrs["column_labels"] = {rename.get(k, k): v for k, v in
                                      (out.attrs.get("column_labels", {}) or {}).items()}
        for c in out.columns:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = blank_as_missing(out[c])
        for c in ID_COLUMNS:
            if c in out.columns:
                out[c] = _as_id(out[c])
        for std, codes in self.unknown.items():
            if std in out.columns:  # the file's "not known" codes are unknown, not values
                values = out[std]
                dk = values.notna().to_numpy() & values.astype(object).map(_norm).isin(
                    codes).to_numpy()
                if dk.any():
                    out[std] = values.astype(object).where(~dk, None) if values.dtype == object \
                        else values.where(~dk)
        for std, table in self.codes.items():
            if std in out.columns:
                out[std] = self._recode(out[std], std, table, what,
                                        out.attrs["value_labels"].get(std), other, spec)
        if "sex" in out.columns:
            _check_sex(out["sex"], self, what, spec)
        if "ea_id" in out.columns and "household_id" in out.columns:
            out[HH_KEY] = household_key(out)
        return out

    def _recode(self, s: pd.Series, std: str, table: dict, what: str, value_labels, other,
                spec) -> pd.Series:
        lookup = {_norm(k): v for k, v in table.items()}
        if isinstance(s.dtype, pd.CategoricalDtype) and value_labels:
            inverse = {lab: code for code, lab in value_labels.items()}
            if not {_norm(v) for v in s.cat.categories} & set(lookup):
                s = s.astype(object).map(lambda v: inverse.get(v, v))
        raw = s.astype(object)
        known = raw.notna().to_numpy()
        keys = raw[known].map(_norm)
        self.check_codes(std, pd.unique(keys), table, what, other=other, spec=spec)
        out = np.full(len(raw), None, dtype=object)
        out[known] = keys.map(lookup).to_numpy()
        return pd.Series(out, index=s.index, name=s.name)

    def check_codes(self, std: str, values: Sequence[Any], table: dict, what: str, *,
                    other: ColumnMapping | None = None, spec: dict | None = None) -> None:
        """Refuse codes of ``std`` (the distinct ``values`` of its column) that ``table`` does
        not list; a code the census mapping ``other`` knows is named a coding mismatch."""
        lookup = {_norm(k) for k in table}
        bad = sorted({_norm(v) for v in values if v is not None and not pd.isna(v)} - lookup)
        if bad:
            col = self.file_name(std)
            ours = ", ".join(sorted(lookup))
            mismatch = other is not None and other is not self and std in other.codes
            raise _spec_error(
                spec, f"{self.key}.{std}.codes",
                ("coding mismatch between the census and the interviews: " if mismatch
                 else "codes not in the mapping: ") + f"{what} column {col!r}",
                f"the codes {ours} of {self.key}.{std}.codes",
                f"codes {', '.join(map(repr, bad[:8]))}",
                hint=("the interviews code this question differently from the census: give "
                      "interviews.columns with their own codes" if mismatch else
                      f"add the codes to {self.key}.{std}.codes"), key=False)

    def restore(self, df: pd.DataFrame) -> pd.DataFrame:
        """A new frame with the file's names and codes (the inverse of :meth:`apply`)."""
        out = df.drop(columns=[HH_KEY], errors="ignore").copy()
        for std, table in self.codes.items():
            if std in out.columns:
                inverse = {v: k for k, v in table.items()}
                out[std] = out[std].astype(object).map(
                    lambda v, inv=inverse: inv.get(v, v))
        clash = [c for s, c in self.columns.items() if s in out.columns and c in out.columns
                 and c != s]
        out = out.drop(columns=clash)
        return out.rename(columns={s: c for s, c in self.columns.items() if s in out.columns})


def with_columns(spec: dict, columns: ColumnMapping | dict | None,
                 interviews: ColumnMapping | dict | None = None) -> dict:
    """The specification with a column mapping given in Python (``columns=`` of the API).

    ``columns`` means exactly what ``columns:`` of the specification means: ``{standard_name:
    file_column}`` or ``{standard_name: {"column": file_column, "codes": {file_code: code}}}``,
    or a :class:`ColumnMapping`; its keys replace those of the specification's ``columns:``.
    ``interviews`` does the same for ``interviews.columns``. The specification given is not
    changed.
    """
    if columns is None and interviews is None:
        return spec
    from migsurvey.spec import check_column_map

    out = {**spec, "interviews": dict(spec["interviews"])}
    if columns is not None:
        out["columns"] = {**(spec.get("columns") or {}),
                          **check_column_map(_as_map(columns), "columns")}
    if interviews is not None:
        out["interviews"]["columns"] = {**(spec["interviews"].get("columns") or {}),
                                        **check_column_map(_as_map(interviews),
                                                           "interviews.columns")}
    return out


def _as_map(columns: ColumnMapping | dict) -> dict:
    if isinstance(columns, ColumnMapping):
        def entry(std: str, col: str) -> Any:
            if std not in columns.codes and std not in columns.unknown:
                return col
            return {"column": col, "codes": dict(columns.codes.get(std, {})),
                    "unknown": sorted(columns.unknown.get(std, ()))}
        return {std: entry(std, col) for std, col in columns.columns.items()}
    if not isinstance(columns, dict):
        raise SurveyError("a column mapping is a dict or a ColumnMapping", argument="columns",
                          expected="{standard_name: your_column}", found=type(columns).__name__)
    return dict(columns)


def _preview(values: Sequence[Any], k: int = 12) -> str:
    v = list(values)
    return ", ".join(map(str, v[:k])) + (f" … ({len(v)} in all)" if len(v) > k else "")


def _spec_error(spec: dict | None, path: str, message: str, expected: str, found: str,
                hint: str | None = None, key: bool = False) -> SurveyError:
    if spec is not None:
        from migsurvey.spec import spec_error

        return spec_error(spec, path, message, expected, found, hint, key=key)
    return SurveyError(message, argument=path, expected=expected, found=found, hint=hint)


def blank_as_missing(s: pd.Series) -> pd.Series:
    """Text that is empty or only spaces is a missing answer (unknown), in every file format.

    A CSV reader reads an empty field as missing; a Parquet, Stata or Excel file can hold the
    empty string itself. Both mean the same: the answer is not known.
    """
    text = s.map(lambda v: isinstance(v, str) and not v.strip(), na_action="ignore")
    blank = text.fillna(False).to_numpy(dtype=bool)
    return s.where(~blank, None) if blank.any() else s


def _as_id(s: pd.Series) -> pd.Series:
    """Identifiers as text, exactly as given (``12.0`` read from a numeric column → ``"12"``)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_float_dtype(s):
        f = s.to_numpy(dtype=float)
        ok = np.isfinite(f)
        if (f[ok] == np.floor(f[ok])).all():
            out = np.full(len(s), None, dtype=object)
            out[ok] = [str(int(v)) for v in f[ok]]
            return pd.Series(out, index=s.index, name=s.name)
    out = s.astype(object)
    return out.where(out.notna(), None).map(lambda v: v if v is None else str(v))


def household_key(df: pd.DataFrame) -> pd.Series:
    """``ea_id/household_id``: the household's key across the whole survey."""
    ea, hh = df["ea_id"], df["household_id"]
    missing = ea.isna() | hh.isna()
    if missing.any():
        raise SurveyError("EA or household ids are missing", argument="ea_id, household_id",
                          expected="an id on every row", found=f"{int(missing.sum())} rows")
    return ea.astype(str) + "/" + hh.astype(str)


def _check_sex(s: pd.Series, mapping: ColumnMapping, what: str, spec) -> None:
    vals = set(s.dropna().astype(str).unique())
    if not vals <= {"F", "M"}:
        col = mapping.file_name("sex")
        raise _spec_error(spec, f"{mapping.key}.sex", f"{what} column {col!r} is not coded F/M",
                          "F and M, or a recoding such as {column: SEX, codes: {1: M, 2: F}}",
                          "codes " + ", ".join(sorted(vals)[:6]),
                          hint=f"give {mapping.key}.sex as {{column: {col}, codes: {{...}}}}",
                          key=True)


# ------------------------------------------------------------------------------ census


def file_key(spec: dict, key: str) -> str:
    """Where a file name of the specification was given: ``file:line:column: key``, or the
    command-line option that replaced it (``--persons``)."""
    option = (spec.get("_options") or {}).get(key)
    if option:
        return f"{option} (in place of {key})"
    marks = spec.get("_marks")
    return marks.where(key) if marks is not None else key


def census_path(spec: dict) -> tuple[Path, str]:
    """The census file (or the persons table of a folder) and its kind."""
    from migsurvey.io_census import is_glob

    p = Path(spec["frame"]["census"])
    if is_glob(spec["frame"]["census"]):
        return p, "glob"
    if not p.exists():
        raise InputFileError("census not found", argument=file_key(spec, "frame.census"),
                             expected="a file or folder", found=str(p),
                             hint="frame.census is relative to the specification's folder")
    if p.is_dir():
        if all((p / f"{t}.parquet").exists() for t in ("eas", "households", "persons")) \
                and not spec.get("columns"):
            return p, "synthetic-folder"
        for ext in (".parquet", ".csv", ".dta", ".sav", ".xlsx"):
            if (p / f"persons{ext}").exists():
                return p / f"persons{ext}", "three-table"
        if any(p.glob("*.parquet")):
            return p, "dataset"
        raise SurveyError("a census folder holds a persons table or Parquet files",
                          argument="frame.census", expected="persons.parquet (or .csv …) or a "
                          "Parquet dataset", found=", ".join(sorted(x.name for x in p.iterdir()))
                          or "an empty folder")
    return p, "file"


CENSUS_REQUIRED = ("ea_id", "household_id", "sex", "age", "country_birth")
"""Standard census columns every survey needs."""


def census_requirements(spec: dict) -> list[str]:
    """Standard census columns the specification needs."""
    need = list(CENSUS_REQUIRED)
    need += [c for c in spec["strata"]["by"] if c not in need]
    for st in spec["weighting"]:
        (name, opt), = st.items()
        for m in opt.get("margins", []) if name in ("rake", "calibrate") else []:
            for c in [m] if isinstance(m, str) else m:
                if c not in need and c != "age_group":
                    need.append(c)
    return need


def _with_ea_columns(persons: pd.DataFrame, eas: pd.DataFrame, psu: str) -> pd.DataFrame:
    """The persons with the EA-level columns (region, urban …) that only the EA table holds,
    each person taking the value of its EA (a new frame)."""
    cols = [c for c in EA_LEVEL if c in eas.columns and c not in persons.columns and c != psu]
    if not cols:
        return persons
    if eas[psu].duplicated().any():
        raise SurveyError("the EA table has more than one row for an EA", argument="frame.census",
                          expected="one row per EA in eas",
                          found=f"{int(eas[psu].duplicated().sum())} repeated EA ids")
    return persons.merge(eas[[psu, *cols]], on=psu, how="left", validate="many_to_one")


def _warn_empty_eas(listed: pd.Series, framed: pd.Series) -> None:
    """Warn about the EAs of the EA table with no person in the census: they have no household
    to select, so the frame (built from the persons) does not hold them."""
    empty = pd.Index(pd.unique(listed)).difference(pd.Index(framed))
    if len(empty):
        warnings.warn(f"{len(empty):,} EA(s) of the EA table have no person in the census and are "
                      f"not in the frame (no household to select), e.g. {list(empty[:5])!r}",
                      SurveyWarning, stacklevel=3)


def household_status(known_max: pd.Series, any_unknown: pd.Series) -> pd.Series:
    """A household's migrant status at listing: true with a known foreign-born member, false
    when every member is known and none is, missing (unknown, never "no") otherwise."""
    flagged = known_max.fillna(0).to_numpy(float) > 0
    unknown = ~flagged & any_unknown.to_numpy(bool)
    out = pd.Series(flagged, index=known_max.index, dtype="boolean")
    out[unknown] = pd.NA
    return out


class PersonCensus:
    """A census from one row per person, with the interface the pipeline uses.

    Parameters
    ----------
    persons : DataFrame
        Person rows with standard names (see :class:`ColumnMapping`).
    psu : str
        The PSU (EA) column.
    country : str
        Reporting country (ISO alpha-3): foreign-born means another known country of birth.
    age_breaks : sequence of int
        Lower limits of the age groups of ``age_group``.
    eas : DataFrame, optional
        EA attributes (``ea_id`` and e.g. ``x, y, urban``) joined to the frame.
    """

    def __init__(self, persons: pd.DataFrame, *, psu: str = "ea_id", country: str,
                 reference_year: int, age_breaks: Sequence[int] = (0, 15, 30, 45, 60),
                 eas: pd.DataFrame | None = None) -> None:
        from estimation.indicators.variables import age_groups
        from sampling import Frame

        self.country, self.reference_year, self.psu = country, reference_year, psu
        p = persons.copy()
        if psu not in p.columns:
            raise SurveyError("the census has no PSU column", argument="frame.psu",
                              expected="a census column (after the columns: mapping)",
                              found=repr(psu))
        if eas is not None and psu in eas.columns:
            p = _with_ea_columns(p, eas, psu)
        if "age" in p.columns and "age_group" not in p.columns:
            from questionnaires.plausibility import MAX_AGE, impossible_ages

            bad = impossible_ages(p["age"])
            if bad.any():
                raise SurveyError("impossible ages in the census", argument="persons['age']",
                                  expected=f"a whole number of years from 0 to {MAX_AGE}",
                                  found=f"{int(bad.sum())} rows, e.g. "
                                        f"{p['age'].to_numpy()[bad][:3].tolist()}",
                                  hint="correct them, or leave an age that is not known blank")
            p["age_group"] = age_groups(p["age"], age_breaks).astype(object).to_numpy()
        _check_countries(p, ("country_birth", "citizenship"))
        cob = p["country_birth"].astype(object)
        known = cob.notna() & (cob != UNKNOWN_COUNTRY)
        p["_fb"] = np.where(known, (cob != country).astype(float), np.nan)
        if "citizenship" in p.columns:
            cit = p["citizenship"].astype(object)
            p["_fc"] = np.where(cit.notna() & (cit != UNKNOWN_COUNTRY),
                                (cit != country).astype(float), np.nan)
        by = [c for c in EA_LEVEL if c in p.columns and c != psu]
        flags = {"foreign_born": "_fb", **({"foreign_citizens": "_fc"} if "_fc" in p else {})}
        frame = Frame.from_microdata(p, ea=psu, household=HH_KEY, by=by, flags=flags,
                                     household_flags={"migrant_households": "_fb"},
                                     count_unknown=True)
        eas_df = frame.data
        if eas is not None and psu in eas.columns:
            extra = [c for c in eas.columns if c not in eas_df.columns]
            eas_df = eas_df.merge(eas[[psu, *extra]], on=psu, how="left", validate="one_to_one")
            _warn_empty_eas(eas[psu], eas_df[psu])
        self.eas = eas_df
        hh = p.groupby(HH_KEY, sort=False)
        first = hh.head(1).set_index(HH_KEY)
        cols = [c for c in (psu, "ea_id", "household_id", *by) if c in first.columns]
        households = first[list(dict.fromkeys(cols))].copy()
        households["size"] = hh.size()
        households["migrant_household"] = household_status(hh["_fb"].max(),
                                                           hh["_fb"].count() < hh.size())
        self.households = households.reset_index()
        self.persons = p.drop(columns=[c for c in ("_fb", "_fc") if c in p.columns])

    @property
    def n_persons(self) -> int:
        return len(self.persons)

    @property
    def n_households(self) -> int:
        return len(self.households)

    def households_in(self, ea_ids) -> pd.DataFrame:
        """Households of the given PSUs (the listing of selected EAs), in the order of their
        key ``ea_id/household_id`` whatever the order of the census rows (so a census stored
        in parts, or lazily, lists them alike)."""
        out = self.households.loc[self.households[self.psu].isin(list(ea_ids))]
        return out.sort_values(HH_KEY, kind="stable").reset_index(drop=True)

    def persons_in(self, ea_ids) -> pd.DataFrame:
        return self.persons.loc[self.persons[self.psu].isin(list(ea_ids))]

    def person_counts(self, column: str | tuple[str, ...]) -> dict:
        """Census person count of every level of ``column`` (a tuple: crossed levels)."""
        return person_counts(self.persons, column)


def person_counts(persons: pd.DataFrame, column: str | tuple[str, ...]) -> dict:
    """Person count of every level of ``column`` (a tuple: crossed levels) in ``persons``."""
    cols = [column] if isinstance(column, str) else list(column)
    missing = [c for c in cols if c not in persons.columns]
    if missing:
        raise SurveyError("calibration margin not in the census", argument="weighting",
                          expected="person columns of the census", found=", ".join(missing))
    if len(cols) == 1:
        return persons[cols[0]].value_counts(sort=False).to_dict()
    return persons.groupby(cols, observed=True).size().to_dict()


def _check_countries(p: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse country codes that are not ISO 3166-1 alpha-3 (``XXX`` unknown, ``XXA``
    stateless): a misspelt code would otherwise count as "abroad"."""
    from questionnaires.countries import valid_codes

    ok = valid_codes(stateless=True) | {UNKNOWN_COUNTRY}
    for c in columns:
        if c not in p.columns:
            continue
        codes = pd.unique(p[c].dropna().astype(str))
        bad = sorted(set(codes) - ok)
        if bad:
            raise SurveyError(f"unknown country codes in the census column {c!r}",
                              argument=f"columns.{c}", expected="ISO 3166-1 alpha-3 codes "
                              "(XXX unknown, XXA stateless)",
                              found=", ".join(map(repr, bad[:8])),
                              hint="recode them, or to XXX when the country is not stated")


LAZY_CENSUS_BYTES = 500 * 1024**2
"""Parquet and CSV census files larger than this (500 MiB, about 10⁷ persons in CSV) are read
lazily through DuckDB (:func:`reads_lazily`)."""


def reads_lazily(path: Path, kind: str) -> bool:
    """Whether a single Parquet or CSV census file is large enough for the lazy DuckDB route.

    A file above :data:`LAZY_CENSUS_BYTES` would take several times its size in pandas memory;
    DuckDB aggregates it in the database so that only the EA-level results enter Python.
    """
    return (kind == "file" and path.suffix.lower() in (".parquet", ".pq", ".csv")
            and path.stat().st_size > LAZY_CENSUS_BYTES)


def read_census(spec: dict, *, columns: ColumnMapping | dict | None = None) -> Any:
    """The census of ``frame.census`` read through ``columns:`` (see the module docstring);
    ``columns=`` is a mapping with the meaning of ``columns:`` (:func:`with_columns`).

    A Parquet dataset (a folder or a glob of Parquet files), a DuckDB table and a Parquet or
    CSV file larger than :data:`LAZY_CENSUS_BYTES` are read lazily through DuckDB
    (:class:`migsurvey.io_census.LazyCensus`: the person table is never in pandas); other
    files are read into a :class:`PersonCensus`.
    """
    spec = with_columns(spec, columns)
    path, kind = census_path(spec)
    if kind in ("dataset", "glob") or path.suffix.lower() == ".duckdb" or reads_lazily(path, kind):
        from migsurvey.io_census import lazy_census

        return lazy_census(spec, path if kind != "glob" else spec["frame"]["census"])
    mapping = ColumnMapping.from_spec(spec, "census")
    need = census_requirements(spec)
    header = read_header(path, table=spec["frame"]["table"])
    eas_path = None
    if kind == "three-table":
        eas_path = next((path.parent / f"eas{ext}" for ext in
                         (".parquet", ".csv", ".dta", ".sav", ".xlsx")
                         if (path.parent / f"eas{ext}").exists()), None)
    ea_header: list[str] = []
    if eas_path is not None:  # the EA table's region, urban … describe the persons of each EA
        level = set(mapping.file_names(EA_LEVEL))
        ea_header = [c for c in read_header(eas_path) if c in level and c not in header]
    mapping.check_header([*header, *ea_header], what="census", required=need, spec=spec)
    ids = mapping.file_names(ID_COLUMNS)
    df = read_table(path, text=ids, table=spec["frame"]["table"])
    persons = mapping.apply(df, what="census", spec=spec)
    if "age" in persons.columns:
        from migsurvey.answers import refuse_impossible_census_ages
        from questionnaires.plausibility import impossible_ages

        bad = impossible_ages(persons["age"])
        first = np.flatnonzero(bad)[:5]
        header = 2 if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xls") else 1
        refuse_impossible_census_ages(
            spec, mapping, path.name, int(bad.sum()), [int(i) + header for i in first],
            list(pd.unique(persons["age"].to_numpy()[bad].astype(str)))[:5])
    eas = None
    if eas_path is not None:
        eas = mapping.apply(read_table(eas_path, text=[mapping.file_name(spec["frame"]["psu"])]),
                            what="EA table", spec=spec)
    return PersonCensus(persons, psu=spec["frame"]["psu"], country=spec["country"],
                        reference_year=spec["reference_year"],
                        age_breaks=spec["frame"]["age_breaks"], eas=eas)


# ------------------------------------------------------------------------------ interviews


HOUSEHOLD_REQUIRED = ("ea_id", "household_id", "base_weight", "stratum")


@dataclass(frozen=True)
class Interviews:
    """Interview files with standard names.

    Attributes
    ----------
    households : DataFrame
        Every selected household with its AAPOR disposition (``disposition``), base weight,
        stratum and the nonresponse cells.
    persons : DataFrame
        Interviewed persons with their household's design columns.
    mapping : ColumnMapping
        The mapping the files were read with (to write results with the file's names).
    """

    households: pd.DataFrame
    persons: pd.DataFrame
    mapping: ColumnMapping


def read_interviews(spec: dict, households: str | Path | pd.DataFrame,
                    persons: str | Path | pd.DataFrame, *,
                    columns: ColumnMapping | dict | None = None) -> Interviews:
    """Read (or take) the interview files and check them against the specification;
    ``columns=`` is a mapping with the meaning of ``columns:`` (:func:`with_columns`)."""
    spec = with_columns(spec, columns)
    mapping = ColumnMapping.from_spec(spec, "interviews")
    census_map = ColumnMapping.from_spec(spec, "census")
    ids = mapping.file_names(ID_COLUMNS)
    disp = spec["interviews"]["disposition"]

    def load(src, what):
        if isinstance(src, pd.DataFrame):
            return src
        return read_table(src, text=ids)

    hh_raw = load(households, "households file")
    pp_raw = load(persons, "persons file")
    for what, df in (("households", hh_raw), ("persons", pp_raw)):
        if len(df) == 0:
            raise SurveyError(f"the {what} file has no rows", argument=f"--{what}",
                              expected=f"one row per {what[:-1] if what == 'households' else 'person'}",
                              found="a header only")
    hh_need = [*HOUSEHOLD_REQUIRED, disp]
    for st in spec["weighting"]:
        (name, opt), = st.items()
        if name in ("eligibility", "nonresponse"):
            hh_need += [c for c in opt["cells"] if c not in hh_need]
    mapping.check_header(list(hh_raw.columns), what="households file", required=hh_need,
                         spec=spec)
    mapping.check_header(list(pp_raw.columns), what="persons file",
                         required=("ea_id", "household_id"), spec=spec)
    hh = mapping.apply(hh_raw, what="households file", other=census_map, spec=spec)
    pp = mapping.apply(pp_raw, what="persons file", other=census_map, spec=spec)
    from migsurvey.answers import refuse_impossible_answers

    refuse_impossible_answers(spec, pp, mapping, _source_name(persons, "persons"))
    if hh[HH_KEY].duplicated().any():
        dup = hh.loc[hh[HH_KEY].duplicated(), HH_KEY].head(3).tolist()
        raise SurveyError("a household appears twice in the households file",
                          argument="--households", expected="one row per selected household",
                          found=f"{dup}")
    status = _dispositions(hh, disp, spec, mapping, _source_name(households, "households"))
    from migsurvey.interview_design import (
        check_design_weights,
        check_ea_attributes,
        check_person_lines,
    )

    check_design_weights(hh, spec, mapping)
    check_ea_attributes(hh, spec, mapping)
    check_person_lines(pp, spec, mapping)
    _check_person_households(hh, pp, spec, mapping)
    hh = _empty_completes(hh.assign(responded=status == 0), pp, spec, mapping,
                          _source_name(households, "households"),
                          _source_name(persons, "persons"))
    nonresp = pp[HH_KEY].isin(hh.loc[~hh["responded"], HH_KEY])
    if nonresp.any():
        raise SurveyError("persons of households whose disposition is not a response",
                          argument=file_key(spec, "interviews.persons"),
                          expected="persons of 1.x households only",
                          found=f"{int(nonresp.sum())} persons, e.g. "
                                f"{pp.loc[nonresp, HH_KEY].head(3).tolist()}")
    design = [c for c in hh.columns if c not in pp.columns or c == HH_KEY]
    pp = pp.merge(hh.loc[hh["responded"], design], on=HH_KEY, how="inner",
                  validate="many_to_one")
    return Interviews(households=hh, persons=pp, mapping=mapping)


def _dispositions(hh: pd.DataFrame, disp: str, spec: dict, mapping: ColumnMapping,
                  source: str) -> np.ndarray:
    """The AAPOR class of each household (:func:`weighting.nonresponse.aapor_classes`); a
    blank disposition or one that is not an AAPOR final code is refused, naming the column,
    the file, the specification key and the rows."""
    from surveycore.checks import _preview
    from weighting.nonresponse import aapor_classes

    status = aapor_classes(hh[disp])
    bad = np.flatnonzero(status < 0)
    if not len(bad):
        return status
    col = mapping.file_name(disp)
    values = hh[disp].to_numpy()[bad]
    blank = int(pd.isna(values).sum())
    rows = ", ".join(str(int(i) + 2) for i in bad[:5]) + (" …" if len(bad) > 5 else "")
    keys = ", ".join(hh[HH_KEY].iloc[bad[:3]]) if HH_KEY in hh.columns else ""
    key = f"{mapping.key}.{disp}" if disp in mapping.columns else "interviews.disposition"
    raise _spec_error(
        spec, key, f"dispositions that are not AAPOR final codes in column {col!r} of {source}: "
        f"{len(bad)} household{'s' if len(bad) > 1 else ''}",
        "1.x respondent, 2.x nonrespondent, 3.x unknown eligibility, 4.x not eligible, on "
        "every selected household",
        f"{len(bad)} rows (rows {rows} of the file; households {keys}): " + ", ".join(
            ([f"{blank} blank"] if blank else [])
            + ([f"codes {_preview(pd.unique(values[~pd.isna(values)]), 5)}"]
               if blank < len(bad) else [])),
        hint="give every selected household its final AAPOR code (a complete interview is "
             "1.1; 3.x when it is not known whether the household was eligible)")


def _id_form(key: str) -> str:
    """An ``EA/household`` key without the form of writing its numbers (``0004/003`` and
    ``4/3.0`` → ``4/3``): keys equal in this form but not as written differ only in leading
    zeros or in a decimal part ``.0`` that a spreadsheet or a float column added."""
    parts = []
    for part in str(key).split("/"):
        whole = part[:-2] if part.endswith(".0") and part[:-2].isdigit() else part
        parts.append(whole.lstrip("0") or "0" if whole.isdigit() else part)
    return "/".join(parts)


def _check_person_households(hh: pd.DataFrame, pp: pd.DataFrame, spec: dict,
                             mapping: ColumnMapping) -> None:
    """Refuse persons whose household is not in the households file, first: their households
    would otherwise look like completed households without persons. Identifiers that match
    once leading zeros are ignored are named as written differently."""
    unknown = ~pp[HH_KEY].isin(hh[HH_KEY])
    if not unknown.any():
        return
    stray = pd.unique(pp.loc[unknown, HH_KEY])
    forms = {_id_form(k): k for k in hh[HH_KEY]}
    same = [(k, forms[_id_form(k)]) for k in stray[:2000] if _id_form(k) in forms]
    cols = f"{mapping.file_name('ea_id')}/{mapping.file_name('household_id')}"
    if same:
        pairs = ", ".join(f"{a!r} ↔ {b!r}" for a, b in same[:3])
        hint = (f"the two files write the identifiers {cols} differently ({pairs}, persons ↔ "
                "households): write them alike in both (leading zeros kept, no decimal part "
                "such as .0), storing the columns as text")
    else:
        hint = "every person's household must be among the selected households"
    raise SurveyError("persons of households that are not in the households file",
                      argument=file_key(spec, "interviews.persons"),
                      expected=f"every person's {cols} among the selected households",
                      found=f"{int(unknown.sum())} persons of {len(stray)} households, e.g. "
                            f"{list(stray[:3])}", hint=hint)


def _source_name(src: Any, key: str) -> str:
    """How a message names an interview file: its path, or the data frame given in Python."""
    return f"the {key} data frame" if isinstance(src, pd.DataFrame) else str(src)


def _empty_completes(hh: pd.DataFrame, pp: pd.DataFrame, spec: dict, mapping: ColumnMapping,
                     hh_name: str, pp_name: str) -> pd.DataFrame:
    """Households with a respondent disposition (AAPOR 1.x) but no person in the persons file.

    Their persons are unknown: counting them as households of nobody would bias every total
    down (and every share by how they differ), so they are refused, or, with
    ``interviews.empty_completes: nonresponse``, recoded to an eligible nonresponse (2.0) and
    adjusted for by the ``nonresponse`` step like the other nonrespondents, with a warning.
    """
    empty = hh["responded"].to_numpy() & ~hh[HH_KEY].isin(pp[HH_KEY]).to_numpy()
    if not empty.any():
        return hh
    disp = spec["interviews"]["disposition"]
    n = int(empty.sum())
    ids = hh.loc[empty, HH_KEY].head(5).tolist()
    cols = f"{mapping.file_name('ea_id')}/{mapping.file_name('household_id')}"
    listed = ", ".join(ids) + (f" … ({n} in all)" if n > len(ids) else "")
    what = (f"{n} household{'s' if n > 1 else ''} with a 1.x disposition (completed or "
            f"partial interview) in {hh_name} {'have' if n > 1 else 'has'} no person in "
            f"{pp_name}")
    if spec["interviews"]["empty_completes"] == "refuse":
        from migsurvey.spec import spec_error

        raise spec_error(
            spec, "interviews.persons",
            f"{what}: their persons are unknown, not zero", "at least one person row for "
            "every household with a 1.x disposition", f"households ({cols}) {listed}",
            hint=f"add their persons to {pp_name}; or code them 2.x (nonresponse) in the "
                 f"column {mapping.file_name(disp)!r} of {hh_name}; or set "
                 "interviews.empty_completes: nonresponse to treat them as nonrespondents")
    import warnings

    warnings.warn(f"{what} ({cols} {listed}): treated as eligible nonrespondents (2.0), as "
                  "interviews.empty_completes: nonresponse says", SurveyWarning, stacklevel=3)
    out = hh.copy()
    out[disp] = np.where(empty, 2.0, pd.to_numeric(out[disp], errors="coerce"))
    out["responded"] = out["responded"].to_numpy() & ~empty
    return out


def check_spec_inputs(spec: dict, *, interviews: bool = False) -> None:
    """Check the specification against the headers of its input files before anything runs:
    the mapped census columns, (``interviews=True``) the interview files named in
    ``interviews:``, and every column the specification names
    (:func:`migsurvey.spec_columns.check_spec_columns`)."""
    if spec["frame"]["census"]:
        path, kind = census_path(spec)
        if kind != "synthetic-folder":
            mapping = ColumnMapping.from_spec(spec, "census")
            header = read_header(path, table=spec["frame"]["table"])
            # the columns the survey always needs; those the specification names (strata,
            # margins …) are checked with their own key by check_spec_columns below
            mapping.check_header(header, what="census", required=CENSUS_REQUIRED, spec=spec)
            if spec["frame"]["psu"] not in {*mapping.columns, *header, "ea_id"}:
                raise _spec_error(spec, "frame.psu", "the PSU column is not in the census",
                                  "a standard name mapped in columns: or a census column",
                                  repr(spec["frame"]["psu"]))
    mapping = ColumnMapping.from_spec(spec, "interviews")
    for key in ("households", "persons", "emigrants", "selection"):
        p = spec["interviews"][key]
        if p and interviews:
            if not Path(p).exists():
                raise InputFileError(f"interview {key} file not found",
                                     argument=file_key(spec, f"interviews.{key}"),
                                     expected="an existing file", found=str(p))
            header = read_header(p)
            if key == "selection":
                ColumnMapping.from_spec(spec, "census").check_header(
                    header, what="selection file", required=(spec["frame"]["psu"],), spec=spec)
                continue
            if key == "emigrants":
                need: tuple = ("ea_id", "household_id")
            elif key == "households" and mapping.file_name("weight") not in header:
                need = ("ea_id", "household_id", spec["interviews"]["disposition"])
            else:
                need = ("ea_id", "household_id")
            mapping.check_header(header, what=f"{key} file", required=need, spec=spec)
    from migsurvey.spec_columns import check_spec_columns

    check_spec_columns(spec)


def read_roster(spec: dict, emigrants: str | Path | pd.DataFrame | None = None
                ) -> pd.DataFrame | None:
    """The emigrant roster (``interviews.emigrants`` or ``emigrants``) with standard names and
    ``hh_key``; ``None`` when there is none."""
    src = emigrants if emigrants is not None else spec["interviews"].get("emigrants")
    if src is None:
        return None
    mapping = ColumnMapping.from_spec(spec, "interviews")
    df = src if isinstance(src, pd.DataFrame) else read_table(
        src, text=mapping.file_names(ID_COLUMNS))
    mapping.check_header(list(df.columns), what="emigrant roster",
                         required=("ea_id", "household_id"), spec=spec)
    return mapping.apply(df, what="emigrant roster", other=ColumnMapping.from_spec(spec),
                         spec=spec)
