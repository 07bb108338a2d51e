"""``derive``: add migration-concept variables to a person-level data frame.

The definitions live in :mod:`questionnaires.concepts` as narwhals expressions; this module
checks the input (codes, ranges, impossible dates) and runs them on the caller's engine.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import pandas as pd

from questionnaires.concepts import DERIVED, Ctx, Derived
from questionnaires.countries import valid_codes
from questionnaires.inputs import INPUTS
from questionnaires.rules import Rules, make_rules
from surveycore import SurveyError, SurveyWarning
from surveycore.checks import as_name_list

_STRING_KINDS = ("country", "citizenship", "choice")


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


def _select(requested: Any, rules: Rules, present: set[str]) -> list[Derived]:
    if requested is None:
        chosen = [
            d
            for d in DERIVED.values()
            if set(d.requires) <= present
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
        missing = [c for c in d.requires if c not in present]
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


def _warn_near_misses(schema: dict[str, Any], rules: Rules, present: set[str]) -> None:
    """Warn about data columns that look like a misspelt answer column (``country_brith``),
    naming the derived variables left out because that answer column is absent."""
    known = set(rules.columns.values()) | set(INPUTS)
    absent = [name for name in INPUTS if name not in present]
    for col in schema:
        if col in known:
            continue
        close = difflib.get_close_matches(str(col), absent, n=1, cutoff=0.85)
        if close:
            skipped = [d.name for d in DERIVED.values() if close[0] in d.requires]
            warnings.warn(
                f"column {col!r} is not an answer column; did you mean {close[0]!r}? "
                f"Not derived without it: {', '.join(skipped) or 'none'} "
                f"(map it with columns={{{close[0]!r}: {col!r}}})",
                SurveyWarning, stacklevel=3)


def _prepare_native(native: Any, used: dict[str, str], schema: dict[str, Any]) -> Any:
    """Give pandas / Dask inputs nullable dtypes so logic is three-valued on every engine."""
    casts: dict[str, Any] = {}
    for canon, col in used.items():
        kind = INPUTS[canon].kind
        dtype = schema[col]
        if dtype == nw.Boolean:
            casts[col] = "boolean"
        elif kind in _STRING_KINDS:
            casts[col] = pd.StringDtype("pyarrow")
        else:
            casts[col] = "Float64"
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


def _check_types(schema: dict[str, Any], used: dict[str, str]) -> None:
    for canon, col in used.items():
        kind = INPUTS[canon].kind
        dtype = schema[col]
        if dtype == nw.Unknown or dtype == nw.Object:
            continue  # checked on values (pandas object columns)
        if kind in _STRING_KINDS:
            ok = dtype in (nw.String, nw.Categorical, nw.Enum) or (
                canon == "ever_lived_abroad" and dtype == nw.Boolean
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


def _check_codes(frame: Any, used: dict[str, str]) -> None:
    for canon, col in used.items():
        spec = INPUTS[canon]
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


def _check_values(frame: Any, used: dict[str, str], rules: Rules) -> None:
    """Ranges and impossible dates, counted in one query on every engine."""
    checks: dict[str, tuple[nw.Expr, str, str]] = {}
    for canon, col in used.items():
        spec = INPUTS[canon]
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
        for name in ("year_arrival", "birth_year", "year_citizenship"):
            if name in used:
                checks[f"future_{name}"] = (
                    colof(name) > ry,
                    f"{used[name]} ({name}) after the reference year {ry}",
                    f"years up to {ry}",
                )
        if rm is not None and "year_arrival" in used and "month_arrival" in used:
            checks["future_arrival_month"] = (
                (colof("year_arrival") == ry) & (colof("month_arrival") > rm),
                f"arrival after the reference date {ry}-{rm:02d}",
                "an arrival month up to the reference month",
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
        work = work.with_columns(**{name: expr for name, (_, expr) in level.items()})
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
            raise SurveyError(
                "a column named in columns is not in the data",
                argument="columns",
                expected="columns of df",
                found=f"{canon} -> {col!r}",
            )
    present = {name for name in INPUTS if rules.columns.get(name, name) in schema}
    chosen = _select(variables, rules, present)
    if variables is None:
        _warn_near_misses(schema, rules, present)
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

    boolean_cols = {c for c in used if schema[used[c]] == nw.Boolean}
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
    out.attrs["derive_rules"] = rules.as_dict() | {"variables": [d.name for d in chosen]}
    return out


__all__ = ["derive", "derived_variables"]
