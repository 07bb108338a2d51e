"""Analysis columns the indicators read, built from ``questionnaires.derive()`` output.

A design keeps its own copy of the data, so every column an indicator reads must exist
*before* the design is built::

    persons = questionnaires.derive(answers, country="XKX", reference_year=2024)
    persons = indicator_variables(persons, age="age", household="hh_id")
    d = SurveyDesign(persons, ids="ea", strata="region", weights="w")
    indicator_table(d, ["MI1.1", "MI1.2", "MI1.3"])

MI 1.4 reads emigrant-level records of the households' rosters (:func:`emigrant_records`).

Unknown stays unknown: a derived value that is missing (``None``/``NaN``) gives a missing
indicator value (``NaN``); :func:`check_known` (called by ``indicator_table``) refuses an
indicator with unknown values in its universe, and in its numerator or denominator unless
``na_rm=True``, naming the question that would settle them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from questionnaires.concepts import DERIVED
from questionnaires.inputs import UNKNOWN_IF_ABSENT
from surveycore import SurveyError
from surveycore.checks import check_columns, to_pandas

DEFAULT_AGE_BREAKS: tuple[int, ...] = (0, 15, 25, 35, 45, 55, 65)
"""Lower limits of the default age groups: 0-14, 15-24, …, 55-64, 65+."""


#: Indicator columns built here from derived variables (for naming the questions they need).
BUILT_FROM: dict[str, tuple[str, ...]] = {
    "foreign_citizen_start": ("foreign_citizen", "acquired_citizenship_period"),
    "temporary_mover": ("temporary_mobility",),
}


def questions_for(variable: str, data: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The answer questions a derived variable reads: ``(absent from the data, all of them)``.

    When the variable (or one it is built from) could not be made, the absent questions are
    its absent *required* ones, those :func:`questionnaires.derive` names in its warning;
    otherwise the absent questions whose absence leaves values unknown come first.

    Column names given to :func:`questionnaires.derive` through ``columns=`` are taken from
    the data's ``attrs["derive_rules"]`` when the frame still carries them.
    """
    mapping = (data.attrs.get("derive_rules") or {}).get("columns") or {}
    names: list[str] = []
    unmade: list[str] = []
    for source in BUILT_FROM.get(variable, (variable,)):
        d = DERIVED.get(source)
        if d is not None:
            names += [q for q in (*d.requires, *d.optional) if q not in names]
            if source not in data.columns:
                # not made at all: the required questions that are absent, as derive names
                # them in its warning (an optional question only decides some values)
                present = {q for q in (*d.requires, *(d.alternative or ()))
                           if mapping.get(q, q) in data.columns}
                unmade += [q for q in d.missing(present) if q not in unmade]
    absent = [q for q in names if mapping.get(q, q) not in data.columns]
    if unmade:
        return unmade, names
    # questions whose absence leaves values unknown come first; without any of them, every
    # absent question is named
    deciding = [q for q in absent if q in UNKNOWN_IF_ABSENT]
    return deciding or absent, names


def check_known(data: pd.DataFrame, weights: np.ndarray, indicator: Any, *,
                na_rm: bool = False) -> None:
    """Refuse an indicator whose variables are unknown for some units of its universe.

    Unknown is never "no": a derived value that is missing (an answer "don't know", a code
    ``XXX``, or a question absent from the data) makes the indicator uncomputable, so it is
    refused with the question that would settle it rather than counted as 0. Rows with zero
    weight do not count. With ``na_rm=True`` (an explicit choice) unknown numerators and
    denominators are left out, but an unknown universe is still refused: who belongs to the
    population cannot be dropped silently.

    Raises
    ------
    SurveyError
        Naming the indicator, the variable, the number of unknown values and the absent
        questions (from :mod:`questionnaires.concepts`) that would decide it.
    """
    positive = np.asarray(weights, dtype=float) > 0
    for m in indicator.measures:
        rows = positive.copy()
        for var in (m.universe, m.numerator, m.denominator):
            if var is None or var not in data.columns or (na_rm and var != m.universe):
                continue
            values = as_float(data[var])
            unknown = rows & np.isnan(values)
            n = int(unknown.sum())
            if n:
                absent, all_q = questions_for(var, data)
                if absent:
                    hint = (f"the data has no question {', '.join(absent)}: collect it, or map "
                            "your column with questionnaires.derive(..., columns={"
                            + ", ".join(f"{q!r}: '<your column>'" for q in absent) + "})")
                else:
                    hint = ("these persons' answers ("
                            + (", ".join(all_q) if all_q else var)
                            + ") leave it unknown; na_rm=True estimates over the known values "
                            "only (state it with the figures)")
                what = "universe" if var == m.universe else "variable"
                raise SurveyError(
                    f"indicator {indicator.code} cannot be computed: its {what} {var} is unknown "
                    f"for {n} of {int(rows.sum())} sample rows",
                    argument="variables",
                    expected=f"a known value of {var} on every row of the universe "
                    "(unknown is never counted as no)",
                    found=f"{n} unknown ({var} is missing)"
                    + (f"; absent question{'s' if len(absent) > 1 else ''}: {', '.join(absent)}"
                       if absent else ""),
                    hint=hint,
                )
            if var == m.universe:
                rows &= values == 1


def as_float(series: pd.Series) -> np.ndarray:
    """0/1/NaN floats from a boolean, nullable boolean or numeric column."""
    if series.dtype == object:
        mapped = series.map(lambda v: np.nan if v is None or v is pd.NA else v)
        series = pd.to_numeric(mapped, errors="raise")
    return series.to_numpy(dtype=float, na_value=np.nan)


def _kleene_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Three-valued OR: 1 if either is 1, 0 if both are 0, otherwise unknown (NaN)."""
    out = np.full(a.shape, np.nan)
    out[(a == 0) & (b == 0)] = 0.0
    out[(a == 1) | (b == 1)] = 1.0
    return out


def age_groups(age: Any, breaks: Sequence[int] = DEFAULT_AGE_BREAKS) -> pd.Series:
    """Age groups ``"a-b"`` (closed) with an open last group ``"c+"``; missing age stays missing.

    Parameters
    ----------
    age : array-like
        Completed years of age.
    breaks : sequence of int
        Increasing lower limits of the groups; the first must be 0 (every age in a group).
    """
    breaks = [int(b) for b in breaks]
    if not breaks or breaks[0] != 0 or any(np.diff(breaks) <= 0):
        raise SurveyError(
            "age breaks must start at 0 and increase",
            argument="age_breaks",
            expected="increasing lower limits such as (0, 15, 25, 65)",
            found=repr(breaks),
        )
    a = pd.to_numeric(pd.Series(age), errors="coerce").to_numpy(dtype=float)
    if (a[~np.isnan(a)] < 0).any():
        raise SurveyError("age must not be negative", argument="age", expected="ages >= 0",
                          found=f"{int((a < 0).sum())} negative values")
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(breaks[:-1], breaks[1:])] + [f"{breaks[-1]}+"]
    idx = np.searchsorted(np.array(breaks), np.where(np.isnan(a), 0, a), side="right") - 1
    out = np.array(labels, dtype=object)[idx]
    out[np.isnan(a)] = None
    return pd.Series(pd.Categorical(out, categories=labels, ordered=True))


def indicator_variables(
    df: Any,
    *,
    age: str | None = None,
    age_breaks: Sequence[int] = DEFAULT_AGE_BREAKS,
    household: str | None = None,
) -> pd.DataFrame:
    """Return a new frame with the columns the registry's indicators read.

    Added when their inputs are present and the column does not exist yet (an existing column
    is never overwritten):

    ``foreign_citizen_start``
        ``foreign_citizen OR acquired_citizenship_period`` (three-valued): the foreign citizens at the
        start of the reference period, denominator of the MI 1.2 rate.
    ``temporary_mover``
        1 when ``temporary_mobility`` holds a mobility type other than ``"NONE"``, 0 for
        ``"NONE"``, missing when the type is unknown.
    ``age_group``
        From the ``age`` column (``age_breaks``).
    ``household_reference``
        1 on the first row of each household of ``household`` (an id column), 0 elsewhere: a
        universe that counts households once on a person-level design (for your own
        household indicators; MI 1.4 uses :func:`emigrant_records`).

    Boolean derived variables (``foreign_born`` …) are read by the estimators as 0/1 as they
    are; nothing else is changed. The caller's frame is not modified.
    """
    out = to_pandas(df).copy()
    if "foreign_citizen_start" not in out.columns and {
        "foreign_citizen", "acquired_citizenship_period"} <= set(out.columns):
        out["foreign_citizen_start"] = _kleene_or(as_float(out["foreign_citizen"]),
                                                  as_float(out["acquired_citizenship_period"]))
    if "temporary_mover" not in out.columns and "temporary_mobility" in out.columns:
        tm = out["temporary_mobility"].astype(object)
        known = tm.notna().to_numpy() & tm.map(lambda v: v is not pd.NA).to_numpy()
        mover = np.where(known, (tm != "NONE").to_numpy(dtype=bool).astype(float), np.nan)
        out["temporary_mover"] = mover
    if age is not None:
        check_columns(out, [age], "age")
        if "age_group" not in out.columns:
            out["age_group"] = age_groups(out[age], age_breaks).to_numpy()
    if household is not None:
        check_columns(out, [household], "household")
        if out[household].isna().any():
            raise SurveyError("household ids must not be missing", argument="household",
                              expected="an id on every row",
                              found=f"{int(out[household].isna().sum())} missing")
        if "household_reference" not in out.columns:
            out["household_reference"] = (~out[household].duplicated()).to_numpy(dtype=float)
    return out


def emigrant_records(
    households: Any,
    emigrants: Any,
    *,
    household: str = "household_id",
    age_breaks: Sequence[int] = DEFAULT_AGE_BREAKS,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Emigrant-level records for MI 1.4: one row per emigrant, households without one kept.

    Each emigrant reported in a household's roster (:func:`questionnaires.derive_emigrants`)
    becomes a row carrying that household's columns (design ids, strata, weight), so that a
    design built on the records estimates the number of emigrants,
    ``t̂ = Σ_h w_h Σ_{e∈h} y_e``, with the household weight ``w_h`` whatever the order of rows.
    A household that reports no emigrant keeps one row with ``emigrant_record = 0`` and
    ``emigrant_12m = 0``: it contributes zero to every total but keeps its PSU in the design,
    so variances are those of the household sample (Lumley 2010, §2.2: domains keep the full
    design).

    Columns added: ``emigrant_record`` (1 for an emigrant, the universe of MI 1.4),
    ``emigrant_12m`` (0/1, missing when the departure date cannot be placed), and the
    emigrant's own ``sex`` (``emigrant_sex``), ``age`` and ``age_group`` (age at departure,
    ``age_breaks``) and ``country_destination``; an existing household column of the same name
    is replaced. Missing characteristics of an emigrant stay missing.

    Parameters
    ----------
    households : data frame
        Responding households, one row each, with ``household`` and the design columns.
    emigrants : data frame
        The roster of those households with ``household`` and ``emigrant_12m`` (from
        :func:`questionnaires.derive_emigrants`).
    household : str
        Household id column in both frames (ids are matched as given, e.g. ``"0012"``).
    age_breaks : sequence of int
        Lower limits of the age groups (as :func:`age_groups`).
    columns : mapping, optional
        Roster answer name → column of ``emigrants``; default the mapping recorded by
        :func:`questionnaires.derive_emigrants` (``attrs["derive_rules"]["columns"]``).

    Raises
    ------
    SurveyError
        Duplicated or missing household ids, roster rows of households that are not in
        ``households``, a roster without ``emigrant_12m``.
    """
    hh = to_pandas(households, "households")
    em = to_pandas(emigrants, "emigrants")
    check_columns(hh, [household], "household")
    check_columns(em, [household, "emigrant_12m"], "emigrants")
    if hh[household].isna().any() or hh[household].duplicated().any():
        raise SurveyError("households must have one row per household id",
                          argument="households", expected=f"unique, non-missing {household}",
                          found=f"{int(hh[household].duplicated().sum())} duplicated, "
                          f"{int(hh[household].isna().sum())} missing")
    stray = ~em[household].isin(hh[household])
    if stray.any():
        raise SurveyError("emigrants reported by households that are not in the sample",
                          argument="emigrants",
                          expected=f"{household} values of the responding households",
                          found=f"{int(stray.sum())} rows, e.g. "
                          f"{em.loc[stray, household].iloc[0]!r}",
                          hint="keep the roster of responding households only")
    own = {"emigrant_sex": "sex", "emigrant_age": "age",
           "emigrant_destination": "country_destination"}
    mapping = dict((em.attrs.get("derive_rules") or {}).get("columns") or {})
    mapping.update(columns or {})
    roster = pd.DataFrame({household: em[household].to_numpy(),
                           "emigrant_12m": as_float(em["emigrant_12m"]),
                           "emigrant_record": 1.0})
    for source, name in own.items():
        col = mapping.get(source, source)
        roster[name] = em[col].to_numpy() if col in em.columns else None
    base = hh.drop(columns=[c for c in (*own.values(), "age_group", "emigrant_12m",
                                        "emigrant_record") if c in hh.columns])
    out = base.merge(roster, on=household, how="left", validate="one_to_many", sort=False)
    none = out["emigrant_record"].isna().to_numpy()
    out.loc[none, ["emigrant_record", "emigrant_12m"]] = 0.0
    out["age_group"] = age_groups(pd.to_numeric(out["age"], errors="coerce"),
                                  age_breaks).to_numpy()
    return out.reset_index(drop=True)
