"""Edit checks of collected data against a questionnaire: types, choices, skip logic, ranges.

Each question of the form is checked on every row at once:

1. **type** — integer/decimal answers are numbers (integers whole), dates parse;
2. **choice** — select answers are names of the question's choice list (so country answers
   must be ISO 3166-1 alpha-3 codes or the special codes of the list);
3. **skip** — an answer is present although ``relevant`` is false;
4. **required** — ``required`` is yes, the question is relevant, and the answer is missing;
5. **constraint** — the ``constraint`` expression is false (ranges, arrival before birth,
   dates in the future, …), with the form's ``constraint_message``.

Expressions are evaluated by :mod:`questionnaires.expressions` (a parser, never ``eval``);
``today()`` is the ``reference_date`` of the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from questionnaires.expressions import column_text, evaluate, evaluate_bool, parse
from questionnaires.form import COUNTRY_PLACEHOLDER, DATA_TYPES, Questionnaire, base_type
from surveycore import SurveyError
from surveycore.checks import to_pandas

CHECKS = ("column", "type", "choice", "skip", "required", "constraint")
_COLUMNS = ["row", "question", "check", "value", "message"]


@dataclass(frozen=True)
class EditReport:
    """The problems found by :func:`validate`, one row per (data row, question, check).

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``row`` (index label of the data row; missing for whole-column problems),
        ``question``, ``check`` (one of column, type, choice, skip, required, constraint),
        ``value`` (the answer as text) and ``message``.
    n_rows : int
        Number of data rows checked.
    form : str
        Name and version of the questionnaire.
    """

    table: pd.DataFrame
    n_rows: int
    form: str

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.table.empty

    def __len__(self) -> int:
        return len(self.table)

    def summary(self) -> pd.DataFrame:
        """Number of problems by question and check."""
        if self.table.empty:
            return pd.DataFrame(columns=["question", "check", "n"])
        return self.table.groupby(["question", "check"], sort=False).size().reset_index(name="n")

    def rows_with_errors(self) -> list[Any]:
        """Index labels of the data rows with at least one problem."""
        return list(dict.fromkeys(self.table["row"].dropna()))

    def __repr__(self) -> str:
        if self.ok:
            return f"EditReport({self.form}: {self.n_rows} rows, no problems)"
        counts = self.table["check"].value_counts().to_dict()
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        return f"EditReport({self.form}: {self.n_rows} rows, {len(self)} problems: {parts})"



#: Question types whose answers are checked (time, datetime and barcode are passed through).
CHECKED_TYPES = frozenset(DATA_TYPES) - {"time", "datetime", "barcode"}

def _present(series: pd.Series) -> np.ndarray:
    text = series.astype(object)
    return (series.notna() & (text.astype(str).str.strip() != "")).to_numpy(dtype=bool)


def _as_text(series: pd.Series) -> pd.Series:
    return pd.Series(column_text(series), index=series.index, dtype=object)


def _add(
    problems: list[dict[str, Any]],
    index: pd.Index,
    mask: np.ndarray,
    name: str,
    check: str,
    values: pd.Series,
    message: str,
) -> None:
    for label, value in zip(index[mask], values[mask]):
        problems.append(
            {"row": label, "question": name, "check": check, "value": value, "message": message}
        )


def _required(row: dict[str, str], data: pd.DataFrame, today: date) -> np.ndarray:
    text = row.get("required", "").strip()
    if text.lower() in ("yes", "true", "true()"):
        return np.ones(len(data), dtype=bool)
    if text.lower() in ("", "no", "false", "false()"):
        return np.zeros(len(data), dtype=bool)
    return evaluate_bool(text, data, today=today)


def validate(
    form: Questionnaire, data: Any, *, reference_date: date | str | None = None
) -> EditReport:
    """Check collected data against a questionnaire; return an :class:`EditReport`.

    Parameters
    ----------
    form : Questionnaire
        The form the data were collected with (its skip logic, choices and constraints).
    data : data frame
        One row per submission, one column per question (pandas or any narwhals frame).
        It is never modified.
    reference_date : date or 'YYYY-MM-DD', optional
        The date ``today()`` stands for in the form's expressions (the interview or reference
        date); default the system date.
    """
    if any(COUNTRY_PLACEHOLDER in v for row in form.survey for v in row.values()):
        raise SurveyError(
            "the form's skip logic needs the reporting country",
            argument="form",
            expected="a questionnaire with the reporting country set",
            found="the {country} placeholder",
            hint="questionnaires.load('core', country='FRA') or form.with_country('FRA')",
        )
    if isinstance(reference_date, str):
        try:
            reference_date = date.fromisoformat(reference_date)
        except ValueError:
            raise SurveyError(
                "reference_date is not a date",
                argument="reference_date",
                expected="'YYYY-MM-DD'",
                found=repr(reference_date),
            ) from None
    today = reference_date or date.today()
    form = form.localised()  # messages in the default language
    frame = to_pandas(data, "data")
    work = frame.copy()
    index = frame.index
    n = len(frame)
    problems: list[dict[str, Any]] = []
    list_names = {}
    for c in form.choices:
        list_names.setdefault(c["list_name"], set()).add(c["name"])

    depth = 0  # questions inside a repeat (the emigrant roster) belong to another table
    for row in form.survey:
        kind, list_name = base_type(row["type"])
        name = row.get("name", "")
        if kind in ("begin_repeat", "begin repeat", "end_repeat", "end repeat"):
            depth += 1 if kind.startswith("begin") else -1
            continue
        if depth:
            continue
        if kind == "calculate":
            if name not in work.columns and row.get("calculation"):
                work[name] = evaluate(row["calculation"], work, today=today)
            continue
        if kind not in CHECKED_TYPES:
            continue
        if name not in frame.columns:
            if row.get("required", "").lower() in ("yes", "true", "true()"):
                problems.append(
                    {
                        "row": None,
                        "question": name,
                        "check": "column",
                        "value": None,
                        "message": f"required question {name!r} has no column in the data",
                    }
                )
            work[name] = pd.Series([None] * n, index=index, dtype=object)
            continue
        raw = frame[name]
        present = _present(raw)
        text = _as_text(raw)
        type_ok = present.copy()
        # 1. type and 2. choices
        if kind in ("integer", "decimal", "range"):
            numbers = pd.to_numeric(raw.where(present, None).astype(object), errors="coerce")
            numbers = numbers.astype("Float64")
            bad = present & numbers.isna().to_numpy(dtype=bool)
            if kind == "integer":
                whole = (numbers.round() == numbers).fillna(True).to_numpy(dtype=bool)
                bad |= present & ~whole
            _add(
                problems,
                index,
                bad,
                name,
                "type",
                text,
                f"not {'an integer' if kind == 'integer' else 'a number'}",
            )
            type_ok &= ~bad
            work[name] = numbers.where(type_ok, pd.NA)
        elif kind == "date":
            parsed = pd.to_datetime(raw.where(present, None), errors="coerce")
            bad = present & parsed.isna().to_numpy(dtype=bool)
            _add(problems, index, bad, name, "type", text, "not a date (YYYY-MM-DD)")
            type_ok &= ~bad
            work[name] = parsed.where(type_ok)
        elif kind in ("select_one", "select_multiple"):
            allowed = list_names.get(list_name, set())
            if kind == "select_one":
                bad = present & ~text.isin(allowed).to_numpy(dtype=bool)
            else:
                bad = present & np.array([not set(t.split()) <= allowed for t in text], dtype=bool)
            _add(problems, index, bad, name, "choice", text, f"not a choice of list {list_name!r}")
            type_ok &= ~bad
            work[name] = text.where(type_ok, "")
        # 3. skip logic and 4. required
        relevant = (
            evaluate_bool(row["relevant"], work, today=today)
            if row.get("relevant")
            else np.ones(n, dtype=bool)
        )
        _add(
            problems,
            index,
            present & ~relevant,
            name,
            "skip",
            text,
            f"answered although not relevant ({row.get('relevant', '')})",
        )
        required = _required(row, work, today)
        _add(
            problems,
            index,
            relevant & required & ~present,
            name,
            "required",
            text,
            row.get("required_message") or "required answer is missing",
        )
        # 5. constraints
        if row.get("constraint"):
            tree = parse(row["constraint"])
            ok = evaluate_bool(tree, work, current=work[name], today=today)
            bad = type_ok & relevant & ~ok
            _add(
                problems,
                index,
                bad,
                name,
                "constraint",
                text,
                row.get("constraint_message") or f"fails constraint {row['constraint']}",
            )
    table = pd.DataFrame(problems, columns=_COLUMNS)
    return EditReport(table=table, n_rows=n, form=f"{form.name} {form.version}".strip())
