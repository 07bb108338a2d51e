"""The rules of a derivation: reporting country, reference date, residence rule, options.

All options are checked here, once, with :func:`surveycore.checks.check_option`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from questionnaires.countries import iso_alpha3
from questionnaires.inputs import INPUTS, close_names
from surveycore import SurveyError
from surveycore.checks import check_option

ResidenceRule = Literal["a", "b"]
ParentsRule = Literal["both", "one"]

RESIDENCE_RULES = ("a", "b")
PARENTS_RULES = ("both", "one")

#: (months lived must be >= / >, threshold), (intended stay >= threshold) — UN P&R Rev.3 §2.81.
RESIDENCE_THRESHOLDS = {"a": (">=", 12, 12), "b": (">", 6, 6)}


@dataclass(frozen=True)
class Rules:
    """Checked rules of a derivation; recorded with the result (``attrs["derive_rules"]``)."""

    country: str
    reference_year: int | None = None
    reference_month: int | None = None
    residence_rule: ResidenceRule = "a"
    parents: ParentsRule = "both"
    return_years: int = 5
    columns: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reference(reference_date: Any, reference_year: Any) -> tuple[int | None, int | None]:
    year = month = None
    if reference_date is not None:
        try:
            if isinstance(reference_date, str):
                reference_date = dt.date.fromisoformat(reference_date)
            year, month = int(reference_date.year), int(reference_date.month)
        except (ValueError, AttributeError, TypeError):
            raise SurveyError(
                "reference_date is not a date",
                argument="reference_date",
                expected="an ISO date 'YYYY-MM-DD', a datetime.date or a pandas Timestamp",
                found=repr(reference_date),
            ) from None
    if reference_year is not None:
        if isinstance(reference_year, bool) or not isinstance(reference_year, int):
            raise SurveyError(
                "reference_year must be an integer year",
                argument="reference_year",
                expected="an int such as 2025",
                found=repr(reference_year),
            )
        if year is not None and year != reference_year:
            raise SurveyError(
                "reference_date and reference_year disagree",
                argument="reference_year",
                expected=f"{year} (the year of reference_date) or no reference_year",
                found=str(reference_year),
            )
        year = reference_year
    if year is not None and not 1900 <= year <= 2200:
        raise SurveyError(
            "reference year out of range",
            argument="reference_date",
            expected="a year between 1900 and 2200",
            found=str(year),
        )
    return year, month


def make_rules(
    *,
    country: Any = None,
    reference_date: Any = None,
    reference_year: Any = None,
    residence_rule: str = "a",
    parents: str = "both",
    return_years: int = 5,
    columns: Mapping[str, str] | None = None,
    inputs: Mapping[str, Any] = INPUTS,
) -> Rules:
    """Check every rule and return a frozen :class:`Rules` (``inputs``: the answer names)."""
    if country is None:
        raise SurveyError(
            "the reporting country is required",
            argument="country",
            expected="the ISO 3166-1 alpha-3 code of the country that reports, e.g. 'FRA'",
            found="None",
            hint="derive(df, country='FRA', reference_date='2025-06-30')",
        )
    if not isinstance(country, str) or country not in iso_alpha3():
        raise SurveyError(
            "unknown reporting country code",
            argument="country",
            expected="an ISO 3166-1 alpha-3 code (upper case), e.g. 'FRA', 'MAR', 'USA'",
            found=repr(country),
        )
    check_option(residence_rule, RESIDENCE_RULES, "residence_rule")
    check_option(parents, PARENTS_RULES, "parents")
    if isinstance(return_years, bool) or not isinstance(return_years, int) or return_years < 1:
        raise SurveyError(
            "return_years must be a positive integer",
            argument="return_years",
            expected="an int >= 1 (default 5)",
            found=repr(return_years),
        )
    mapping = dict(columns or {})
    for key, value in mapping.items():
        if key not in inputs:
            raise SurveyError(
                "columns maps an unknown answer name",
                argument="columns",
                expected="keys among " + ", ".join(inputs),
                found=repr(key),
                hint=(
                    "did you mean " + " or ".join(map(repr, close_names(key, inputs))) + "?"
                    if close_names(key, inputs)
                    else "columns={canonical_name: your_column}, e.g. {'country_birth': 'BPL'}"
                ),
            )
        if not isinstance(value, str):
            raise SurveyError(
                "columns values must be column names",
                argument="columns",
                expected="str",
                found=repr(value),
            )
    year, month = _reference(reference_date, reference_year)
    return Rules(
        country=country,
        reference_year=year,
        reference_month=month,
        residence_rule=residence_rule,  # type: ignore[arg-type]
        parents=parents,  # type: ignore[arg-type]
        return_years=return_years,
        columns=mapping,
    )
