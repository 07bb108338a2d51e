"""Impossible answers in an office's persons file, refused in the specification's words.

The rules are the questionnaire's (:func:`questionnaires.plausibility.impossible_answers`:
the core module's constraints, and an age from 0 to
:data:`questionnaires.plausibility.MAX_AGE`). A refusal names the question and its column in
the file, the file, how many rows, an example (EA/household, line, row of the file and the
answer), what was expected, and how the specification declares a code for "not known"
(``unknown:`` of the column's mapping) when the answer is one.
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

from surveycore import SurveyError


def _reference_date(spec: dict) -> datetime.date:
    return datetime.date.fromisoformat(spec.get("reference_date")
                                       or f"{spec['reference_year']}-12-31")


def _looks_not_known(value: str) -> bool:
    """Codes offices use for "not known": 9, 99, 999 …, 98, 998 …, or text such as DK, NS."""
    return bool(re.fullmatch(r"9*[89]|-1|[A-Za-z][A-Za-z /]*", value))


def refuse_impossible_answers(spec: dict, persons: pd.DataFrame, mapping, source: str) -> None:
    """Refuse the persons file (standard names, the file's row order) when an answer breaks a
    rule of the core questionnaire.

    Raises
    ------
    SurveyError
        For the first question with impossible answers: its standard name and file column,
        the file, the number of rows, the first of them (EA/household, line, row of the file,
        answer), the rule (the form's ``constraint_message``) and a hint.
    """
    from migsurvey.inputs import HH_KEY
    from migsurvey.spec import spec_error
    from questionnaires import load
    from questionnaires.plausibility import describe, impossible_answers

    form = load("core", country=spec["country"]).localised()
    found = impossible_answers(persons, form, reference_date=_reference_date(spec))
    if not found:
        return
    bad = found[0]
    std, rows = bad.question, bad.rows
    col = mapping.file_name(std)
    n = int(rows.sum())
    first = int(np.flatnonzero(rows)[0])
    value = describe(persons[std].iloc[first])
    where = (f"EA/household {persons[HH_KEY].iloc[first]}" if HH_KEY in persons.columns
             else "")
    line = mapping.file_name("line")
    line = line if line in persons.columns else next(
        (c for c in persons.columns if str(c).lower() == "line"), None)
    if line:
        where += f" line {persons[line].iloc[first]}"
    where += f" (row {first + 2} of the file)" if not source.startswith("the ") else ""
    values = pd.Series(persons[std].to_numpy()[rows]).map(describe)
    common = values.value_counts().index[0]
    example = f"{std} = {value} at {where.strip()}"
    if bad.question != "age" and "age" in persons.columns:
        example += f", age {describe(persons['age'].iloc[first])}"
    key = f"{mapping.key}.{std}"
    declare = (f"{mapping.key}: {{{std}: {{column: {col}, unknown: [{common}]}}}}")
    hint = ("the cells hold dates (a spreadsheet formatted the column as dates): store the "
            "answers as numbers" if re.fullmatch(r"'?\d{4}-\d{2}-\d{2}.*", common) else
            f"if {common} is the office's code for 'not known', declare it so that it is read "
            f"as unknown (never as a number): {declare}; otherwise correct or follow up the "
            "answers" if _looks_not_known(common.strip("'")) else
            "correct or follow up the answers (an answer that is not known is left blank, or "
            f"its code declared with {key}.unknown)")
    message = (f"impossible answers to {std} (column {col!r} of {source}): {n} "
               f"row{'s' if n > 1 else ''}")
    found_text = (f"{n} row{'s' if n > 1 else ''}, e.g. {example}"
                  + (f"; answers {', '.join(values.drop_duplicates().head(5))}" if n > 1 else "")
                  + ("; also impossible: " + ", ".join(
                      f"{b.question} ({int(b.rows.sum())} row{'s' if b.rows.sum() > 1 else ''})"
                      for b in found[1:])
                     if len(found) > 1 else ""))
    if std in mapping.columns:
        raise spec_error(spec, key, message, bad.expected, found_text, hint)
    from migsurvey.inputs import file_key

    raise SurveyError(message, argument=file_key(spec, "interviews.persons"),
                      expected=bad.expected, found=found_text, hint=hint)


def refuse_impossible_census_ages(spec: dict, mapping, source: str, n: int, rows: list[int],
                                  values: list[str]) -> None:
    """Refuse a census whose ages break the rule of the persons file (a whole number of
    years from 0 to :data:`questionnaires.plausibility.MAX_AGE`; the codes of
    ``columns.age.unknown`` are unknown ages): such an age would fall into an age group and
    change the calibration totals.

    Parameters
    ----------
    n : int
        Number of census rows with an impossible age.
    rows : list of int
        The first of those rows, numbered as in the file (the header is row 1); empty when
        the census is read lazily.
    values : list of str
        Distinct impossible ages, the first few.
    """
    from migsurvey.inputs import file_key
    from migsurvey.spec import spec_error
    from questionnaires.plausibility import MAX_AGE

    if n == 0:
        return
    col = mapping.file_name("age")
    key = f"{mapping.key}.age"
    common = values[0] if values else ""
    message = (f"impossible ages in the census (column {col!r} of {source}): {n} "
               f"row{'s' if n > 1 else ''}")
    where = (f" (row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"
             f"{' …' if n > len(rows) else ''} of the file)" if rows else "")
    found = f"{n} row{'s' if n > 1 else ''}{where}; ages {', '.join(values)}"
    hint = (f"if {common} is the office's code for 'not known', declare it so that it is read "
            f"as unknown (never as an age): {mapping.key}: {{age: {{column: {col}, unknown: "
            f"[{common}]}}}}; otherwise correct the census" if _looks_not_known(common) else
            "correct the census (an age that is not known is left blank, or its code declared "
            f"with {key}.unknown)")
    expected = f"a whole number of years from 0 to {MAX_AGE}"
    if "age" in mapping.columns:
        raise spec_error(spec, key, message, expected, found, hint)
    raise SurveyError(message, argument=file_key(spec, "frame.census"), expected=expected,
                      found=found, hint=hint)
