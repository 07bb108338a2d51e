"""questionnaires: migration concepts as code, question modules, XLSForm, validation.

Derived variables
-----------------
``derive(df, variables=None, *, country, reference_date=None, reference_year=None,
residence_rule="a", parents="both", return_years=5, columns=None)`` adds, to a person-level
frame of pandas, Polars, DuckDB or Dask, the variables listed by :func:`derived_variables`:

``foreign_born``, ``foreign_citizen``, ``stateless`` (nullable booleans);
``birth_citizenship_group`` (NB_CIT, NB_FOR, FB_CIT, FB_FOR); ``parental_background``
(NAT, MIX, FOR); ``migrant_background`` (e.g. FOR_NB_CIT); ``second_generation``;
``acquired_citizenship``, ``acquired_citizenship_period``; ``years_since_arrival`` (Int64); ``recent_immigrant_1y``,
``recent_immigrant_5y``; ``abroad_1y_ago``, ``abroad_5y_ago``; ``usual_resident`` (roster
answer, else residence rule "a" or "b") and ``immigrant_12m``; ``returning_citizen``;
``emigrant_in_household``; ``temporary_mobility`` (NONE, OUT_FRONTIER, OUT_SEASONAL,
OUT_WORKER, OUT_STUDENT, OUT_OTHER, IN_WORKER, IN_STUDENT, IN_OTHER, IN_UNSPECIFIED).

Input columns and codes
-----------------------
``country_birth``, ``citizenship``, ``residence_1y``, ``residence_5y``,
``country_birth_father``, ``country_birth_mother``: ISO 3166-1 alpha-3 codes; ``XXX`` unknown;
``XXA`` stateless (citizenship only). ``citizenship_acquired``: birth, naturalisation,
marriage, declaration, other, dk. ``ever_lived_abroad``: yes, no, dk (or boolean).
``reason_migration``: work, family, study, protection, return, other, dk.
``temporary_abroad``: none, frontier, seasonal, other_work, study, other, dk. Numbers:
``birth_year``, ``year_citizenship``, ``month_citizenship``, ``year_arrival``,
``month_arrival`` (1–12), ``months_in_country_last12`` (0–12), ``intended_stay_months`` (0–99,
99 permanently), ``hh_members_abroad`` (≥ 0); ``lived_here_before`` and ``usual_member`` (yes,
no, dk). Missing values, ``XXX`` and ``dk`` are unknown: never native, never citizen, never
False by default; a question absent from the data is unknown for everyone. ``columns=`` maps
your names; ``derive`` warns (:class:`surveycore.SurveyWarning`) about columns that look like
misspelt answers, variables it could not make and variables left partly unknown. See
:mod:`questionnaires.inputs`.

Emigrant roster
---------------
``derive_emigrants(roster, country=, reference_date=, columns=)`` reads one row per former
household member now abroad (``emigrant_sex``, ``emigrant_age``, ``emigrant_year_departure``,
``emigrant_month_departure``, ``emigrant_destination``) and adds ``emigrant_12m``, a departure
in the 12 months before the reference date (indicator MI 1.4).

Question modules
----------------
``load("core", country="FRA")`` → :class:`Questionnaire` with ``.to_xlsform(path)``,
``.validate(df)`` → :class:`EditReport`, ``.reference_sheet(path)`` (HTML) and
``.to_ddi(path, data=df)`` (DDI Codebook 2.5); ``read_xlsform(path)`` reads a workbook back.
"""

from questionnaires.derive import derive, derived_variables
from questionnaires.emigrants import derive_emigrants
from questionnaires.expressions import evaluate, parse
from questionnaires.form import Questionnaire, available_modules, load, read_xlsform
from questionnaires.inputs import EMIGRANT_INPUTS, INPUTS
from questionnaires.validate import EditReport, validate

__all__ = [
    "EMIGRANT_INPUTS",
    "INPUTS",
    "EditReport",
    "Questionnaire",
    "available_modules",
    "derive",
    "derive_emigrants",
    "derived_variables",
    "evaluate",
    "load",
    "parse",
    "read_xlsform",
    "validate",
]
