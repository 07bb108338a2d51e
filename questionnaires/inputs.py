"""The answer columns that :func:`questionnaires.derive` reads, with their codes.

One person per row. Every column is optional for :func:`derive` as a whole; each derived
variable lists the columns it needs (see :data:`questionnaires.derive.DERIVED`). The same
names are the question names of the ``core`` module, so data collected with the XLSForm of
that module derive without renaming. Other names map through ``columns={canonical: yours}``.

==========================  ========  ==========================================================
column                      kind      codes
==========================  ========  ==========================================================
country_birth               country   ISO 3166-1 alpha-3; ``XXX`` unknown
citizenship                 country   ISO alpha-3 (the reporting country's code if the person
                                      holds it, also for dual citizens); ``XXA`` stateless;
                                      ``XXX`` unknown
citizenship_acquired        choice    birth, naturalisation, marriage, declaration, other, dk
year_citizenship            integer   calendar year citizenship was acquired
month_citizenship           integer   1–12, month citizenship was acquired
birth_year                  integer   calendar year of birth
ever_lived_abroad           choice    yes, no, dk (lived ≥ 6 months in another country); a
                                      boolean column is accepted too
year_arrival                integer   year of the most recent arrival to live in the country
month_arrival               integer   1–12
lived_here_before           choice    yes, no, dk: a person born abroad lived in the country
                                      before the most recent arrival (a boolean column is
                                      accepted too)
usual_member                choice    yes, no, dk: usually lives in the household (the
                                      household roster's answer under the survey's residence
                                      rule; a boolean column is accepted too)
residence_1y                country   country of usual residence 1 year ago; ``XXX`` unknown
residence_5y                country   country of usual residence 5 years ago; ``XXX`` unknown
country_birth_father        country   ISO alpha-3; ``XXX`` unknown
country_birth_mother        country   ISO alpha-3; ``XXX`` unknown
months_in_country_last12    integer   0–12, months lived in the country in the last 12 months
intended_stay_months        integer   ≥ 0, total intended stay counted from arrival (99 =
                                      permanently)
reason_migration            choice    work, family, study, protection, return, other, dk
temporary_abroad            choice    none, frontier, seasonal, other_work, study, other, dk
                                      (stays abroad in the last 12 months that did not change
                                      usual residence)
hh_members_abroad           integer   ≥ 0, former household members who moved abroad in the
                                      last 5 years and live there now (household answer,
                                      repeated on each member's row)
==========================  ========  ==========================================================

Missing values (``None``/``NaN``/``<NA>``), ``XXX`` and ``dk`` all mean "unknown".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

DONT_KNOW = "dk"

#: Optional questions whose absence leaves some derived values unknown (reported in a warning):
#: without the intended stay a recent arrival's residence is unknown; without a month, an
#: arrival or acquisition in a boundary calendar year cannot be placed in the 12-month window.
UNKNOWN_IF_ABSENT = frozenset({"intended_stay_months", "month_arrival", "month_citizenship",
                               "citizenship_acquired", "lived_here_before"})


@dataclass(frozen=True)
class InputColumn:
    """One answer column: its kind, its codes (choices) or its range."""

    name: str
    kind: str  # "country", "citizenship", "choice", "integer"
    description: str
    codes: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


_ACQ = ("birth", "naturalisation", "marriage", "declaration", "other", DONT_KNOW)
_YND = ("yes", "no", DONT_KNOW)
_REASON = ("work", "family", "study", "protection", "return", "other", DONT_KNOW)
_TEMP = ("none", "frontier", "seasonal", "other_work", "study", "other", DONT_KNOW)

INPUTS: dict[str, InputColumn] = {
    c.name: c
    for c in (
        InputColumn("country_birth", "country", "country of birth (ISO alpha-3)"),
        InputColumn(
            "citizenship", "citizenship", "country of citizenship (ISO alpha-3, XXA stateless)"
        ),
        InputColumn("citizenship_acquired", "choice", "how citizenship was acquired", _ACQ),
        InputColumn(
            "year_citizenship", "integer", "year citizenship was acquired", low=1900, high=2100
        ),
        InputColumn(
            "month_citizenship", "integer", "month citizenship was acquired", low=1, high=12
        ),
        InputColumn("birth_year", "integer", "year of birth", low=1890, high=2100),
        InputColumn("ever_lived_abroad", "choice", "ever lived abroad for 6 months or more", _YND),
        InputColumn(
            "year_arrival", "integer", "year of most recent arrival to live", low=1900, high=2100
        ),
        InputColumn("month_arrival", "integer", "month of most recent arrival", low=1, high=12),
        InputColumn(
            "lived_here_before", "choice", "born abroad, lived here before arriving", _YND
        ),
        InputColumn("usual_member", "choice", "usual member of the household (roster)", _YND),
        InputColumn("residence_1y", "country", "country of usual residence 1 year ago"),
        InputColumn("residence_5y", "country", "country of usual residence 5 years ago"),
        InputColumn("country_birth_father", "country", "father's country of birth"),
        InputColumn("country_birth_mother", "country", "mother's country of birth"),
        InputColumn(
            "months_in_country_last12",
            "integer",
            "months lived in the country, last 12",
            low=0,
            high=12,
        ),
        InputColumn(
            "intended_stay_months", "integer", "intended total stay in months", low=0, high=99
        ),
        InputColumn("reason_migration", "choice", "main reason for coming to live", _REASON),
        InputColumn("temporary_abroad", "choice", "temporary stays abroad, last 12 months", _TEMP),
        InputColumn(
            "hh_members_abroad", "integer", "household members now living abroad", low=0, high=99
        ),
    )
}


def close_names(name: str, candidates: Iterable[str], cutoff: float = 0.75) -> list[str]:
    """Candidates that look like a misspelling of ``name`` (case-insensitive).

    Similarity is :class:`difflib.SequenceMatcher`'s ratio (at least ``cutoff``), or, for
    names of six characters or more, one name containing the other.
    """
    by_lower = {c.lower(): c for c in candidates}
    low = name.lower()
    hits = difflib.get_close_matches(low, list(by_lower), n=3, cutoff=cutoff)
    if len(low) >= 6:
        hits += [c for c in by_lower if c not in hits and (low in c or c in low)]
    return [by_lower[h] for h in hits]


_SEX = ("F", "M", DONT_KNOW)

EMIGRANT_INPUTS: dict[str, InputColumn] = {
    c.name: c
    for c in (
        InputColumn("emigrant_sex", "choice", "sex of the former member now abroad", _SEX),
        InputColumn("emigrant_age", "integer", "age in completed years at departure",
                    low=0, high=120),
        InputColumn("emigrant_year_departure", "integer", "year of departure",
                    low=1900, high=2100),
        InputColumn("emigrant_month_departure", "integer", "month of departure", low=1, high=12),
        InputColumn("emigrant_destination", "country", "country of destination (ISO alpha-3)"),
    )
}
"""Answers of the emigrant roster, one row per former household member now living abroad.

==========================  ========  ==========================================================
column                      kind      codes
==========================  ========  ==========================================================
emigrant_sex                choice    F, M, dk
emigrant_age                integer   0–120, completed years at departure
emigrant_year_departure     integer   calendar year the person left to live abroad
emigrant_month_departure    integer   1–12
emigrant_destination        country   ISO alpha-3 of the country of destination; ``XXX``
                                      unknown
==========================  ========  ==========================================================
"""
