"""XLSForm workbooks: write the three sheets (survey, choices, settings) and read them back.

Reference: XLSForm specification, https://xlsform.org (sheet and column names). Rows are kept
as dictionaries of XLSForm column → text, so that a form read from a workbook is written back
unchanged, including columns this package does not interpret.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from surveycore import SurveyError
from surveycore.spreadsheet import write_excel

SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "appearance",
    "choice_filter",
    "parameters",
    "read_only",
)
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language", "instance_name")
_ALIASES = {"list name": "list_name", "guidance hint": "guidance_hint"}


def ordered_columns(rows: list[dict[str, str]], preferred: tuple[str, ...]) -> list[str]:
    """Columns used by ``rows``: known ones in the XLSForm order, then others as first seen."""
    used: list[str] = []
    for row in rows:
        for key, value in row.items():
            if value not in ("", None) and key not in used:
                used.append(key)
    ordered: list[str] = []
    for col in preferred:  # each known column, then its translations (label::French (fr))
        ordered += [c for c in used if c == col or c.startswith(f"{col}::")]
    return ordered + [c for c in used if c not in ordered]


def sheets(
    survey: list[dict[str, str]], choices: list[dict[str, str]], settings: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """The three XLSForm sheets as data frames of text ('' for empty cells)."""
    survey_cols = ordered_columns(survey, SURVEY_COLUMNS)
    for required in ("type", "name", "label"):
        translated = any(c.startswith(f"{required}::") for c in survey_cols)
        if required not in survey_cols and not translated:
            survey_cols.insert(
                min(("type", "name", "label").index(required), len(survey_cols)), required
            )
    choice_cols = ordered_columns(choices, CHOICES_COLUMNS) if choices else list(CHOICES_COLUMNS)
    settings_cols = ordered_columns([settings], SETTINGS_COLUMNS)
    out = {
        "survey": pd.DataFrame(
            [{c: r.get(c, "") for c in survey_cols} for r in survey], columns=survey_cols
        ),
        "choices": pd.DataFrame(
            [{c: r.get(c, "") for c in choice_cols} for r in choices], columns=choice_cols
        ),
        "settings": pd.DataFrame(
            [{c: settings.get(c, "") for c in settings_cols}], columns=settings_cols
        ),
    }
    return {k: v.astype(object) for k, v in out.items()}


def write(path: str | os.PathLike[str], frames: dict[str, pd.DataFrame]) -> None:
    """Write the sheets to an ``.xlsx`` workbook (empty cells left blank).

    Every cell is a string cell: a label starting with ``=`` is written as text, never as a
    formula (:func:`surveycore.spreadsheet.write_excel`).
    """
    write_excel(path, {name: frames[name].replace("", None)
                       for name in ("survey", "choices", "settings")})


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if isinstance(value, str) else str(value)


def read(
    path: str | os.PathLike[str],
) -> tuple[list[dict[str, str]], list[dict[str, str]], dict[str, str]]:
    """Read an XLSForm workbook: survey rows, choices rows, settings."""
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except FileNotFoundError:
        raise SurveyError("XLSForm file not found", argument="path", found=str(path)) from None
    except Exception as exc:
        raise SurveyError(
            "cannot read the XLSForm workbook",
            argument="path",
            expected="an .xlsx workbook with a 'survey' sheet",
            found=f"{path}: {exc}",
        ) from None
    if "survey" not in book:
        raise SurveyError(
            "the XLSForm has no 'survey' sheet",
            argument="path",
            expected="sheets named exactly survey, choices, settings",
            found=", ".join(book) or "no sheets",
        )

    def rows(frame: pd.DataFrame) -> list[dict[str, str]]:
        frame = frame.rename(columns=lambda c: _ALIASES.get(str(c).strip(), str(c).strip()))
        out = []
        for record in frame.to_dict("records"):
            row = {k: _text(v) for k, v in record.items() if not k.startswith("Unnamed")}
            if any(row.values()):
                out.append(row)
        return out

    survey = rows(book["survey"])
    choices = rows(book["choices"]) if "choices" in book else []
    settings_rows = rows(book["settings"]) if "settings" in book else []
    settings = settings_rows[0] if settings_rows else {}
    for i, row in enumerate(survey):
        if not row.get("type"):
            raise SurveyError(
                "a survey row has no type",
                argument="survey",
                expected="a type in every row (integer, select_one list, ...)",
                found=f"row {i + 2}: {row}",
            )
    return survey, choices, settings
