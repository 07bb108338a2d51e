"""``derive``: add migration-concept variables to a person-level data frame.

The definitions live in :mod:`questionnaires.concepts` as narwhals expressions; this module
checks the input (codes, ranges, impossible dates) and runs them on the caller's engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from questionnaires.concepts import DERIVED, Ctx, Derived
from questionnaires.countries import valid_codes
from questionnaires.inputs import INPUTS, UNKNOWN_IF_ABSENT, InputColumn, close_names
from questionnaires.rules import Rules, make_rules
from surveycore import SurveyError, SurveyWarning
from surveycore.checks import as_name_list

_STRING_KINDS = ("country", "citizenship", "choice")
_YES_NO = ("ever_lived_abroad", "lived_here_before", "usual_member")



def derived_variables() -> pd.DataFrame:
    """Table of the derived variables: name, label, kind, categories, inputs, definition."""
    return pd.DataFrame(
        [
            {
                "name": d.name,
                "label": d.label,
                "kind": d.kind,
                "categories": " ".join(d.categories),
                "requires": " ".join(d.requires),
                "optional": " ".join(d.optional),
                "needs_reference": d.needs_reference,
                "universe": d.universe,
                "definition": d.definition,
            }
            for d in DERIVED.values()
        ]
    )


def _preview(values: Sequence[Any], limit: int = 6) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def _unrecognised(schema: dict[str, Any], rules: Rules, present: set[str]) -> dict[str, list[str]]:
    """Columns that are not answers derive reads but look like one: ``{column: [did you mean]}``.

    Identifiers, weights and other survey variables are expected in the frame and are left
    alone; a column whose name is close to an answer name (``contry_birth``,
    ``Country_Birth``, ``intended_stay``) is almost always a misspelling that would otherwise
    leave the answer absent and the derived variables unknown.
    """
    read = {rules.columns.get(name, name) for name in present}
    known = read | set(DERIVED) | set(rules.columns.values())
    absent = [name for name in INPUTS if name not in present]
    out = {}
    for col in schema:
        if not isinstance(col, str) or col in known or col.startswith("__migsurvey_"):
            continue
        hits = close_names(col, absent)
        if hits:
            out[col] = hits
    return out


def _absent_inputs(chosen: list[Derived], present: set[str]) -> dict[str, list[str]]:
    """Optional questions that are absent, per variable: answers they would decide stay unknown."""
    out = {}
    for d in chosen:
        missing = [name for name in d.optional if name not in present]
        if missing:
            out[d.name] = missing
    return out


def _not_made(rules: Rules, present: set[str], chosen: list[Derived]) -> dict[str, str]:
    """Derived variables not computed, with the reason (absent questions, no reference date)."""
    made = {d.name for d in chosen}
    out = {}
    for d in DERIVED.values():
        if d.name in made:
            continue
        missing = d.missing(present)
        if missing:
            out[d.name] = "no question " + ", ".join(missing)
        elif d.needs_reference and rules.reference_year is None:
            out[d.name] = "no reference date"
    return out


def _warn(unrecognised: dict[str, list[str]], not_made: dict[str, str],
          absent: dict[str, list[str]]) -> None:
    if unrecognised:
        listed = "; ".join(f"{c!r} (did you mean {' or '.join(map(repr, h))}?)"
                           for c, h in unrecognised.items())
        warnings.warn(
            "derive does not recognise these columns and did not read them: " + listed
            + ". Rename them or map them with columns={answer_name: your_column}.",
            SurveyWarning,
            stacklevel=3,
        )
    if not_made:
        listed = "; ".join(f"{name} ({why})" for name, why in not_made.items())
        warnings.warn(
            f"derive could not make {len(not_made)} variable{'s' if len(not_made) > 1 else ''}: "
            + listed + ". They are not in the result; indicators that need them are refused.",
            SurveyWarning,
            stacklevel=3,
        )
    if absent:
        by_question: dict[str, list[str]] = {}
        for name, questions in absent.items():
            by_question.setdefault(", ".join(questions), []).append(name)
        listed = "; ".join(f"{', '.join(names)} without {q}" for q, names in by_question.items())
        warnings.warn(
            "derived variables made without some of their questions stay unknown (<NA>) "
            "where those answers would decide them: " + listed + ".",
            SurveyWarning,
            stacklevel=3,
        )


def _select(requested: Any, rules: Rules, present: set[str]) -> list[Derived]:
    if requested is None:
        chosen = [
            d
            for d in DERIVED.values()
            if not d.missing(present)
            and (not d.needs_reference or rules.reference_year is not None)
        ]
        if not chosen:
            raise SurveyError(
                "no derived variable can be computed from these columns",
                argument="df",
                expected="answer columns such as " + ", ".join(list(INPUTS)[:6]),
                found="none of them",
                hint="map your column names with columns={'country_birth': 'your_name', ...}",
            )
        return chosen
    names = as_name_list(requested, "variables")
    out = []
    for name in names:
        if name not in DERIVED:
            raise SurveyError(
                "unknown derived variable",
                argument="variables",
                expected="some of " + ", ".join(DERIVED),
                found=repr(name),
            )
        d = DERIVED[name]
        missing = d.missing(present)
        if missing:
            raise SurveyError(
                f"{name} needs answer columns that are not in the data",
                argument="df",
                expected="columns " + ", ".join(d.requires),
                found="missing " + ", ".join(missing),
                hint="map your own names with columns={canonical: your_column}",
            )
        if d.needs_reference and rules.reference_year is None:
            raise SurveyError(
                f"{name} needs the reference date",
                argument="reference_date",
                expected="reference_date='YYYY-MM-DD' or reference_year=YYYY",
                found="None",
            )
        out.append(d)
    return out


def _python_bools(native: Any, col: str) -> bool:
    """An object column of a pandas frame holding only Python/NumPy booleans and missing values."""
    series = getattr(native, col, None)
    if not isinstance(series, pd.Series) or series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and values.map(lambda v: isinstance(v, bool | np.bool_)).all()


def _prepare_native(native: Any, used: dict[str, str], schema: dict[str, Any],
                    inputs: Mapping[str, InputColumn] = INPUTS) -> Any:
    """Give pandas / Dask inputs nullable dtypes so logic is three-valued on every engine."""
    casts: dict[str, Any] = {}
    for canon, col in used.items():
        kind = inputs[canon].kind
        dtype = schema[col]
        if dtype == nw.Boolean or (canon in _YES_NO and _python_bools(native, col)):
            casts[col] = "bool[pyarrow]"
        elif kind in _STRING_KINDS:
            casts[col] = pd.StringDtype("pyarrow")
        else:
            casts[col] = "double[pyarrow]"
    try:
        return native.astype(casts)
    except (TypeError, ValueError) as exc:
        raise SurveyError(
            "an answer column has values of the wrong type",
            argument="df",
            expected="codes (text) for country and choice questions, numbers for years, months "
            "and counts",
            found=str(exc).splitlines()[0][:200],
        ) from None


def _check_types(schema: dict[str, Any], used: dict[str, str],
                 inputs: Mapping[str, InputColumn] = INPUTS) -> None:
    for canon, col in used.items():
        kind = inputs[canon].kind
        dtype = schema[col]
        if dtype == nw.Unknown or dtype == nw.Object:
            continue  # checked on values (pandas object columns)
        if kind in _STRING_KINDS:
            ok = dtype in (nw.String, nw.Categorical, nw.Enum) or (
                canon in _YES_NO and dtype == nw.Boolean
            )
            expected = "text codes"
        else:
            ok = dtype.is_numeric()
            expected = "a numeric column"
        if not ok:
            raise SurveyError(
                f"column {col!r} ({canon}) has the wrong type",
                argument="df",
                expected=expected,
                found=f"dtype {dtype}",
            )


def _unique(frame: Any, col: str) -> list[Any]:
    result = frame.select(nw.col(col)).unique().filter(~nw.col(col).is_null())
    if isinstance(result, nw.LazyFrame):
        result = result.collect()
    return result[col].to_list()


def _check_codes(frame: Any, used: dict[str, str],
                 inputs: Mapping[str, InputColumn] = INPUTS) -> None:
    for canon, col in used.items():
        spec = inputs[canon]
        if spec.kind == "integer":
            continue
        if spec.kind == "choice":
            allowed = set(spec.codes) | {True, False}
        else:
            allowed = valid_codes(stateless=spec.kind == "citizenship")
        bad = sorted({str(v) for v in _unique(frame, col) if v not in allowed})
        if bad:
            what = "country code" if spec.kind != "choice" else "answer code"
            raise SurveyError(
                f"unknown {what} in column {col!r} ({canon})",
                argument="df",
                expected=(
                    "ISO 3166-1 alpha-3 codes, XXX for unknown"
                    + (", XXA for stateless" if spec.kind == "citizenship" else "")
                    if spec.kind != "choice"
                    else "one of " + ", ".join(spec.codes)
                ),
                found=_preview(bad),
                hint="recode the values, or map them to XXX (unknown) if they are not stated",
            )


def _check_values(frame: Any, used: dict[str, str], rules: Rules,
                  inputs: Mapping[str, InputColumn] = INPUTS) -> None:
    """Ranges and impossible dates, counted in one query on every engine."""
    checks: dict[str, tuple[nw.Expr, str, str]] = {}
    for canon, col in used.items():
        spec = inputs[canon]
        if spec.kind != "integer":
            continue
        c = nw.col(col)
        bad = (c < spec.low) | (c > spec.high) | ((c - c.round(0)) != 0)
        checks[f"range_{canon}"] = (
            bad,
            f"{col} ({canon}) outside its range",
            f"whole numbers from {spec.low:g} to {spec.high:g}",
        )
    ry, rm = rules.reference_year, rules.reference_month

    def colof(name: str) -> nw.Expr:
        return nw.col(used[name])

    if "year_arrival" in used and "birth_year" in used:
        checks["arrival_before_birth"] = (
            colof("year_arrival") < colof("birth_year"),
            "arrival before birth (year_arrival < birth_year)",
            "year_arrival >= birth_year",
        )
    if "year_citizenship" in used and "birth_year" in used:
        checks["citizenship_before_birth"] = (
            colof("year_citizenship") < colof("birth_year"),
            "citizenship acquired before birth (year_citizenship < birth_year)",
            "year_citizenship >= birth_year",
        )
    if ry is not None:
        for name in ("year_arrival", "birth_year", "year_citizenship",
                     "emigrant_year_departure"):
            if name in used:
                checks[f"future_{name}"] = (
                    colof(name) > ry,
                    f"{used[name]} ({name}) after the reference year {ry}",
                    f"years up to {ry}",
                )
        for what, y, m in (("arrival", "year_arrival", "month_arrival"),
                           ("citizenship acquisition", "year_citizenship", "month_citizenship"),
                           ("departure", "emigrant_year_departure",
                            "emigrant_month_departure")):
            if rm is not None and y in used and m in used:
                checks[f"future_{m}"] = (
                    (colof(y) == ry) & (colof(m) > rm),
                    f"{what} after the reference date {ry}-{rm:02d}",
                    "a month up to the reference month",
                )
    if not checks:
        return
    result = frame.select(
        **{k: expr.fill_null(False).cast(nw.Int64).sum() for k, (expr, _, _) in checks.items()}
    )
    if isinstance(result, nw.LazyFrame):
        result = result.collect()
    counts = {k: int(result[k].to_list()[0] or 0) for k in checks}
    for key, n in counts.items():
        if n:
            _, message, expected = checks[key]
            raise SurveyError(
                message,
                argument="df",
                expected=expected,
                found=f"{n} row{'s' if n > 1 else ''}",
                hint=f"questionnaires.load('core', country='{rules.country}').validate(df) lists the rows",
            )


def _nullable(work: Any, names: list[str]) -> Any:
    """Give pandas / Dask building blocks nullable dtypes, so that logic on them stays Kleene.

    numpy-backed results lose "unknown": ``NaN >= 12`` is ``False`` and ``None & True`` on
    object columns is ``False``; Arrow-backed columns keep Kleene logic (and combine with the
    Arrow strings of the answers). Polars, DuckDB and other engines keep nulls natively.
    """
    impl = work.implementation
    if not (impl.is_pandas() or impl.is_dask()):
        return work
    schema = work.collect_schema()
    casts: dict[str, str] = {}
    for name in names:
        dtype = schema[name]
        if dtype == nw.Boolean or dtype == nw.Object:
            casts[name] = "bool[pyarrow]"
        elif dtype.is_numeric():
            casts[name] = "double[pyarrow]"
    if not casts:
        return work
    return nw.from_native(work.to_native().astype(casts))


def _materialise(
    work: Any, ctx: Ctx, chosen: list[Derived], taken: set[str]
) -> tuple[Any, list[str]]:
    """Compute the shared building blocks (foreign-born, arrival windows, residence …) once.

    A dry build records which blocks the chosen variables use and how they nest; each
    level is then added as temporary columns, so that the final expressions read columns
    instead of repeating the same logic (the results are identical).
    """
    ctx.recording = {}
    for d in chosen:
        d.build(ctx)
    recorded, ctx.recording = ctx.recording, None
    names: list[str] = []
    for depth in sorted({depth for depth, _ in recorded.values()}):
        level = {}
        for key, (d, build) in recorded.items():
            if d != depth:
                continue
            name = f"__migsurvey_{key}"
            while name in taken:
                name += "_"
            level[name] = (key, build())
        work = _nullable(work.with_columns(**{name: expr for name, (_, expr) in level.items()}),
                         list(level))
        for name, (key, _) in level.items():
            ctx.materialised[key] = name
            names.append(name)
    return work, names


def derive(
    df: Any,
    variables: str | Sequence[str] | None = None,
    *,
    country: str | None = None,
    reference_date: Any = None,
    reference_year: int | None = None,
    residence_rule: str = "a",
    parents: str = "both",
    return_years: int = 5,
    columns: dict[str, str] | None = None,
) -> Any:
    """Add derived migration variables to a person-level frame; return a new frame.

    Parameters
    ----------
    df : pandas, Polars, DuckDB, Dask or other narwhals-supported frame
        One row per person with answer columns named as in :mod:`questionnaires.inputs`
        (or mapped with ``columns``). It is never modified.
    variables : str or list of str, optional
        Names from :data:`questionnaires.concepts.DERIVED`. ``None`` computes every variable
        whose input columns are present (time-based ones only with a reference date).
    country : str
        ISO 3166-1 alpha-3 code of the reporting country (required).
    reference_date, reference_year
        Census or survey reference date (``'YYYY-MM-DD'``/``datetime.date``) or only its
        year. With a year only, arrival windows use calendar years.
    residence_rule : {"a", "b"}
        Usual-residence rule (UN P&R Rev.3 §2.81): ``"a"`` 12 months lived or intended;
        ``"b"`` more than 6 of the last 12 months lived, or at least 6 intended.
    parents : {"both", "one"}
        Foreign background needs both parents born abroad (``"both"``, with a separate mixed
        group) or at least one (``"one"``).
    return_years : int
        Window for ``returning_citizen`` (default 5 years).
    columns : dict, optional
        ``{canonical_name: your_column}`` for answers stored under other names.

    Returns
    -------
    A frame of the same engine with the derived columns added. pandas results use nullable
    dtypes (``boolean``, ``Int64``, ``category``) so unknown stays ``<NA>``; the rules used
    are recorded in ``result.attrs["derive_rules"]``.

    Raises
    ------
    SurveyError
        Unknown country or answer codes, values out of range, arrival or acquisition before
        birth, dates after the reference date, missing columns, bad options.
    """
    rules = make_rules(
        country=country,
        reference_date=reference_date,
        reference_year=reference_year,
        residence_rule=residence_rule,
        parents=parents,
        return_years=return_years,
        columns=columns,
    )
    try:
        frame = nw.from_native(df)
    except TypeError:
        raise SurveyError(
            "df is not a data frame",
            argument="df",
            expected="a pandas, Polars, DuckDB, Dask or other narwhals-supported frame",
            found=type(df).__name__,
        ) from None
    if isinstance(frame, nw.Series):
        raise SurveyError("df is a series, not a data frame", argument="df", found="a Series")
    schema = dict(frame.collect_schema())
    for canon, col in rules.columns.items():
        if col not in schema:
            hits = close_names(col, [c for c in schema if isinstance(c, str)], cutoff=0.6)
            raise SurveyError(
                "a column named in columns is not in the data",
                argument="columns",
                expected="columns of df",
                found=f"{canon} -> {col!r}",
                hint=("did you mean " + " or ".join(map(repr, hits)) + "?") if hits else
                "check the spelling against df.columns",
            )
    present = {name for name in INPUTS if rules.columns.get(name, name) in schema}
    chosen = _select(variables, rules, present)
    unrecognised = _unrecognised(schema, rules, present)
    not_made = _not_made(rules, present, chosen) if variables is None else {}
    absent = _absent_inputs(chosen, present)
    _warn(unrecognised, not_made, {k: [q for q in v if q in UNKNOWN_IF_ABSENT]
                                   for k, v in absent.items() if set(v) & UNKNOWN_IF_ABSENT})
    # every answer column present is checked, not only those the chosen variables read
    used = {name: rules.columns.get(name, name) for name in INPUTS if name in present}
    _check_types(schema, used)

    native = frame.to_native()
    impl = frame.implementation
    is_pandas = impl.is_pandas()
    if is_pandas or impl.is_dask():
        work = nw.from_native(_prepare_native(native, used, schema))
    else:
        work = frame
    _check_codes(work, used)
    _check_values(work, used, rules)

    prepared = dict(work.collect_schema())
    boolean_cols = {c for c in used if prepared[used[c]] == nw.Boolean}
    ctx = Ctx(rules, present, boolean_cols)
    work, temporary = _materialise(work, ctx, chosen, set(schema))
    exprs = {d.name: d.build(ctx) for d in chosen}
    result = work.with_columns(**exprs)
    if temporary:
        result = result.drop(temporary)
    if not is_pandas:
        return result.to_native()
    derived = result.select(list(exprs)).to_native()
    out = native.copy()
    for d in chosen:
        values = derived[d.name].reset_index(drop=True)
        if d.kind == "boolean":
            column = values.astype("boolean")
        elif d.kind == "integer":
            column = values.astype("Float64").round().astype("Int64")
        else:
            column = pd.Series(
                pd.Categorical(
                    values.astype(object).where(values.notna(), None), categories=list(d.categories)
                )
            )
        out[d.name] = column.array  # positional: the caller's index may repeat labels
    out.attrs = dict(native.attrs)
    out.attrs["derive_rules"] = rules.as_dict() | {
        "variables": [d.name for d in chosen],
        "not_made": not_made,
        "absent_questions": absent,
        "unrecognised_columns": unrecognised,
    }
    return out


__all__ = ["close_names", "derive", "derived_variables"]
