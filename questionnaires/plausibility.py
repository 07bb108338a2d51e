"""Impossible answers: the questionnaire's own constraints applied to collected numbers.

Every integer question of a form (year and month of arrival, of acquisition of citizenship,
intended stay, months lived here …) carries a ``constraint`` (arrival cannot be before birth
or after the reference date, a month from 1 to 12 …). :func:`impossible_answers` applies those
constraints to every answered row, whether or not the question was relevant for it: an
impossible number is impossible in any row. A constraint is only judged where every answer it
reads is present; an unknown answer breaks no constraint.

Age in completed years is not a question of the core module (its ``birth_year`` is): a
person's age ``a`` at the reference date of year ``Y`` puts the birth in year ``Y − a`` or
``Y − a − 1``. When the data have an age but no year of birth, the earliest of these,
``Y − a − 1``, stands for the year of birth, so that the form's ``birth_year`` constraint and
"arrival cannot be before birth" refuse only answers that no birthday could explain. The age
itself must be a whole number from 0 to :data:`MAX_AGE` (the oldest verified human lifespan
is 122 years; Robine & Allard 1998).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from questionnaires.expressions import evaluate_bool
from questionnaires.form import Questionnaire, base_type

MAX_AGE = 130
"""The oldest plausible age in completed years (above the longest verified lifespan, 122)."""

_REFERENCE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Impossible:
    """Answers of one question that break a rule of the questionnaire.

    Attributes
    ----------
    question : str
        The question (standard name of the column).
    rows : numpy.ndarray
        Boolean mask of the rows with an impossible answer.
    expected : str
        What the answer must be (the form's ``constraint_message``).
    """

    question: str
    rows: np.ndarray
    expected: str


def _numbers(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Numbers of an answer column, the mask of answered rows, and of answers that are not
    whole numbers."""
    text = series.astype(object)
    present = (series.notna() & (text.astype(str).str.strip() != "")).to_numpy(dtype=bool)
    numbers = pd.to_numeric(text.where(present, None), errors="coerce").astype("Float64")
    value = numbers.to_numpy(dtype=float, na_value=np.nan)
    not_whole = present & (np.isnan(value) | (np.round(value) != value))
    return numbers.where(~pd.Series(not_whole, index=series.index), pd.NA), present, not_whole


def impossible_ages(age: pd.Series) -> np.ndarray:
    """Boolean mask of the ages that no person can have: an answer that is not a whole
    number of completed years from 0 to :data:`MAX_AGE` (``12.5``, ``-3``, ``999``, ``inf``,
    text such as ``NK``). A missing age is unknown, not impossible.

    >>> impossible_ages(pd.Series(["34", "999", "inf", "12.5", None, "NK", 0])).tolist()
    [False, True, True, True, False, True, False]
    """
    value, present, not_whole = _numbers(age)
    a = value.to_numpy(dtype=float, na_value=np.nan)
    return not_whole | (present & ~np.isnan(a) & ((a < 0) | (a > MAX_AGE)))


def impossible_answers(
    data: pd.DataFrame, form: Questionnaire, *, reference_date: date
) -> list[Impossible]:
    """The answers of ``data`` that break the form's constraints, one entry per question.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person with the form's question names (and ``age`` in completed years);
        it is not modified.
    form : Questionnaire
        The form the answers were collected with, its reporting country set.
    reference_date : date
        What ``today()`` stands for in the constraints (the survey's reference date).

    Returns
    -------
    list of Impossible
        Age first, then the questions in the form's order; empty when every answer is possible.
    """
    out: list[Impossible] = []
    work = pd.DataFrame(index=data.index)
    if "age" in data.columns:
        age = _numbers(data["age"])[0]
        bad = impossible_ages(data["age"])
        if bad.any():
            out.append(Impossible("age", bad, f"a whole number of years from 0 to {MAX_AGE}"))
        if "birth_year" not in data.columns:
            # the earliest year of birth the age allows (birthday after the reference date)
            work["birth_year"] = (reference_date.year - age - 1).where(~pd.Series(
                bad, index=data.index), pd.NA)
    rows = [r for r in form.survey if base_type(r["type"])[0] == "integer"
            and r.get("name") in data.columns]
    for r in rows:
        work[r["name"]], _present, _ = _numbers(data[r["name"]])
    for r in rows:
        name = r["name"]
        value, present, not_whole = _numbers(data[name])
        bad = not_whole.copy()
        constraint = r.get("constraint", "")
        refs = set(_REFERENCE.findall(constraint))
        if constraint and refs <= set(work.columns):
            judged = present & ~not_whole
            for ref in refs:
                judged &= work[ref].notna().to_numpy(dtype=bool)
            ok = evaluate_bool(constraint, work, current=work[name], today=reference_date)
            bad |= judged & ~ok
        if bad.any():
            out.append(Impossible(name, bad, r.get("constraint_message")
                                  or f"an answer with {constraint}"))
    return out


def describe(value: Any) -> str:
    """An answer as a message shows it (``999``, ``'DK'``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)
