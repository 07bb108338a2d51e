"""Every column a specification names, checked against its inputs before anything runs.

A specification names columns in many places: ``strata.by``, ``frame.size``,
``frame.prevalence``, ``frame.population``, ``selection.psu.size``,
``selection.household.screening``, the cells of ``eligibility`` and ``nonresponse``, the
margins of ``rake`` and ``calibrate``, ``estimation.by`` and ``diagnostics.key_variables``.
:func:`check_spec_columns` checks each against the columns that the step reading it will
have, computed without reading a row:

* the **census**: the header of ``frame.census`` (CSV first line, Parquet schema, Stata/SPSS
  metadata, DuckDB table columns) renamed to standard names through ``columns:``, plus
  ``age_group`` (made from ``age``);
* the **frame** (one row per EA): the PSU, the EA-level columns of the census (``region``,
  ``district``, ``urban``, ``x``, ``y``) and the counts :mod:`migsurvey.inputs` makes
  (``households``, ``persons``, ``foreign_born``, ``foreign_citizens`` with a citizenship
  column, ``migrant_households``, ``prevalence``);
* the **households** (the listing and the households file): the household columns written by
  ``migsurvey select`` (``stratum``, ``screen``, ``pi1``, ``pi2``, ``base_weight`` …), or the
  header of ``interviews.households`` when the file exists;
* the **persons** of the estimation: the answers (the header of ``interviews.persons`` when it
  exists, else the census), their household's design columns, the weights, and the derived
  variables :func:`questionnaires.derive` can make from those answers (the static catalogue
  :data:`questionnaires.concepts.DERIVED`: a variable is makeable when its required questions
  are present) with the indicator variables made from them.

An unknown column is refused with the specification key, its ``file:line:column``, the column,
the columns available and the closest names. The steps keep their own checks as a second
guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FRAME_COUNTS = ("households", "persons", "foreign_born", "migrant_households", "prevalence",
                "prevalence_class", "stratum")
"""Columns of the EA frame made from the census (``foreign_citizens`` with citizenship)."""

SELECTED_HOUSEHOLD = ("ea_id", "household_id", "hh_key", "size", "migrant_household", "screen",
                      "stratum", "pi1", "pi2", "base_weight")
"""Columns of a selected household written by ``migsurvey select``."""

WEIGHTED = ("household_weight", "weight", "responded")


def makeable(present: Iterable[str]) -> set[str]:
    """Derived and indicator variables that can be made from the answer columns ``present``.

    The catalogue is static: :data:`questionnaires.concepts.DERIVED` says which questions each
    derived variable requires (or which answers stand in for them), and
    :func:`estimation.indicators.indicator_variables` adds ``age_group`` (from ``age``),
    ``foreign_citizen_start`` and ``temporary_mover``.
    """
    from questionnaires.concepts import DERIVED

    have = set(present)
    out = {d.name for d in DERIVED.values() if not d.missing(have)}
    if "age" in have:
        out.add("age_group")
    if {"foreign_citizen", "acquired_citizenship_period"} <= out:
        out.add("foreign_citizen_start")
    if "temporary_mobility" in out:
        out.add("temporary_mover")
    return out


@dataclass(frozen=True)
class Available:
    """The columns (standard names) each stage of a survey will have."""

    census: frozenset[str]
    frame: frozenset[str]
    households: frozenset[str]
    persons: frozenset[str]
    sources: dict

    def of(self, what: str) -> frozenset[str]:
        return getattr(self, what)


def _standard(header: Iterable[str], mapping) -> set[str]:
    """A file's header in standard names: mapped columns renamed, the others kept."""
    inverse = {col: std for std, col in mapping.columns.items()}
    return {inverse.get(h, h) for h in header}


def available_columns(spec: dict) -> Available:
    """The columns of each stage, from the headers of the specification's files (no rows are
    read); for a synthetic census generated in memory, those of a small one."""
    from migsurvey.inputs import EA_LEVEL, ColumnMapping, census_path
    from migsurvey.io import read_header

    mapping = ColumnMapping.from_spec(spec, "census")
    psu = spec["frame"]["psu"]
    listing: set[str] = set()
    if not spec["frame"]["census"]:
        # a synthetic census generated in memory: its columns are those of a small one
        from migsurvey.synthetic import synthetic_census

        tiny = synthetic_census(1_000, seed=0, country=spec["country"],
                                reference_year=spec["reference_year"], n_regions=2)
        path, kind = Path("the synthetic census"), "synthetic"
        census = set(tiny.persons.columns)
        frame = {*tiny.eas.columns, *FRAME_COUNTS}
        listing = set(tiny.households.columns)
    else:
        path, kind = census_path(spec)
    sources = {"census": str(path)}
    if kind == "synthetic-folder":  # written by `migsurvey frame --synthetic`
        census = set(read_header(path / "persons.parquet"))
        frame = {*read_header(path / "eas.parquet"), *FRAME_COUNTS}
        listing = set(read_header(path / "households.parquet"))
    elif kind != "synthetic":
        census = _standard(read_header(path, table=spec["frame"]["table"]), mapping)
        frame = {psu, *FRAME_COUNTS, *(c for c in EA_LEVEL if c in census)}
        if "citizenship" in census:
            frame.add("foreign_citizens")
    if "age" in census:
        census.add("age_group")
    if kind == "three-table":
        for ext in (".parquet", ".csv", ".dta", ".sav", ".xlsx"):
            eas = path.parent / f"eas{ext}"
            if eas.exists():
                ea_columns = _standard(read_header(eas), mapping)
                frame |= ea_columns
                # the EA table's region, urban … describe every person of the EA
                census |= {c for c in EA_LEVEL if c in ea_columns}
                break
    iv = spec["interviews"]
    iv_map = ColumnMapping.from_spec(spec, "interviews")
    households = {psu, *SELECTED_HOUSEHOLD, *(c for c in EA_LEVEL if c in census),
                  iv["disposition"], *listing}
    if iv["households"] and Path(iv["households"]).exists():
        households = _standard(read_header(iv["households"]), iv_map) | {"hh_key", "responded"}
        sources["households"] = iv["households"]
    answers = set(census)
    if iv["persons"] and Path(iv["persons"]).exists():
        answers = _standard(read_header(iv["persons"]), iv_map)
        sources["persons"] = iv["persons"]
        if "age" in answers:
            answers.add("age_group")
    if iv["usual_residents"]:
        answers.add("usual_member")
    persons = answers | households | set(WEIGHTED) | makeable(answers)
    return Available(frozenset(census), frozenset(frame), frozenset(households),
                     frozenset(persons), sources)


_WHAT = {"census": "census persons", "frame": "EA frame", "households": "households",
         "persons": "persons (answers, their household's design columns and the derived "
                    "variables)"}


def named_columns(spec: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every column the specification names: ``(spec key, column, stages that read it)``."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for i, c in enumerate(spec["strata"]["by"]):
        out.append((f"strata.by[{i}]", c, ("frame",)))
    for key in ("size", "prevalence", "population"):
        out.append((f"frame.{key}", spec["frame"][key], ("frame",)))
    sel = spec["selection"]
    if sel["psu"]["method"] not in ("srs", "systematic"):
        out.append(("selection.psu.size", sel["psu"]["size"], ("frame",)))
    out.append(("selection.household.screening", sel["household"]["screening"],
                ("households",)))
    for i, st in enumerate(spec["weighting"]):
        (name, opt), = st.items()
        if name in ("eligibility", "nonresponse"):
            for j, c in enumerate(opt["cells"]):
                out.append((f"weighting[{i}].{name}.cells[{j}]", c, ("households",)))
        elif name in ("rake", "calibrate"):
            for j, m in enumerate(opt["margins"]):
                if isinstance(m, str):
                    out.append((f"weighting[{i}].{name}.margins[{j}]", m, ("census", "persons")))
                else:
                    for k, c in enumerate(m):
                        out.append((f"weighting[{i}].{name}.margins[{j}][{k}]", c,
                                    ("census", "persons")))
    for i, grouping in enumerate(spec["estimation"]["by"]):
        for j, c in enumerate(grouping):
            out.append((f"estimation.by[{i}][{j}]", c, ("persons",)))
    for i, c in enumerate(spec["diagnostics"]["key_variables"]):
        out.append((f"diagnostics.key_variables[{i}]", c, ("persons",)))
    return out


def check_spec_columns(spec: dict, available: Available | None = None) -> None:
    """Refuse a column named by the specification that its stage will not have.

    Raises
    ------
    SurveyError
        Naming the specification key with its ``file:line:column``, the column, the columns
        available and the closest names.
    """
    from migsurvey.spec import spec_error
    from questionnaires.inputs import close_names

    avail = available if available is not None else available_columns(spec)
    for key, column, stages in named_columns(spec):
        for stage in stages:
            have = avail.of(stage)
            if column in have:
                continue
            near = close_names(str(column), sorted(have))
            hint = (f"did you mean {' or '.join(map(repr, near))}? " if near else "") + (
                "a column of your files is named by its standard name (map it in columns: "
                "{standard_name: YOUR_COLUMN}); derived variables need their questions")
            src = avail.sources.get(stage) or (
                "the households `migsurvey select` writes from " if stage == "households"
                else "") + avail.sources["census"]
            if _is_default(spec, key):
                hint += (f"; {_option(key)} is the default, not in the specification: "
                         "give it there")
            raise spec_error(spec, key, f"{key} names a column that the {_WHAT[stage]} will "
                             "not have", f"one of {_preview(sorted(have))} (from {src})",
                             repr(column), hint)


def _option(key: str) -> str:
    """The option holding a list item: ``a.b[0][1]`` → ``a.b``."""
    import re

    return re.sub(r"(\[\d+\])+$", "", key)


def _is_default(spec: dict, key: str) -> bool:
    """Whether ``key`` was filled with its default (the file does not mention it)."""
    marks = getattr(spec.get("_marks"), "marks", {})
    return _option(key) not in marks


def _preview(values: list[str], k: int = 40) -> str:
    return ", ".join(values[:k]) + (f" … ({len(values)} in all)" if len(values) > k else "")
