"""``derive_emigrants``: emigrant-level records from the emigrant roster of the core module.

The household reports each former member who left to live abroad (proxy report: UN EGMS
standard questions on international migration, 2019; MED-HIMS out-migration module): sex,
age at departure, month and year of departure and country of destination, one row per
emigrant (:data:`questionnaires.inputs.EMIGRANT_INPUTS`). Emigration in the reference period
(indicator MI 1.4) is a departure in the 12 months before the reference date; the window is
the one of :meth:`questionnaires.concepts.Ctx.in_last_12_months`.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pandas as pd

from questionnaires.concepts import Ctx
from questionnaires.derive import (
    _check_codes,
    _check_types,
    _check_values,
    _nullable,
    _prepare_native,
)
from questionnaires.inputs import EMIGRANT_INPUTS, close_names
from questionnaires.rules import make_rules
from surveycore import SurveyError
from surveycore.checks import to_pandas

EMIGRANT_VARIABLES = {
    "emigrant_12m": (
        "Emigrated in the 12 months before the reference date",
        "former household member whose departure to live abroad (emigrant_year_departure, "
        "emigrant_month_departure) lies in the 12 months before the reference date; without "
        "the month, a year wholly inside the window counts and one straddling its start is "
        "unknown; with a reference year only, the window is that calendar year",
    ),
}
"""Variables added by :func:`derive_emigrants`: name → (label, definition)."""


def derive_emigrants(
    roster: Any,
    *,
    country: str | None = None,
    reference_date: Any = None,
    reference_year: int | None = None,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Add ``emigrant_12m`` to the emigrant roster (one row per emigrant); return a new frame.

    Parameters
    ----------
    roster : data frame
        One row per former household member now living abroad, with the household's id and
        the answers of :data:`~questionnaires.inputs.EMIGRANT_INPUTS` (or mapped through
        ``columns``). It is never modified.
    country : str
        ISO alpha-3 code of the reporting country; a destination equal to it is refused.
    reference_date, reference_year
        As in :func:`questionnaires.derive`.
    columns : dict, optional
        ``{emigrant_answer_name: your_column}``.

    Returns
    -------
    pandas.DataFrame
        The roster with ``emigrant_12m`` (nullable boolean: unknown stays ``<NA>``);
        ``attrs["derive_rules"]`` records the rules.

    Raises
    ------
    SurveyError
        No departure year, unknown codes, values out of range, departures after the
        reference date, a destination equal to the reporting country.
    """
    rules = make_rules(country=country, reference_date=reference_date,
                       reference_year=reference_year, columns=columns, inputs=EMIGRANT_INPUTS)
    if rules.reference_year is None:
        raise SurveyError("the emigrant roster needs the reference date",
                          argument="reference_date",
                          expected="reference_date='YYYY-MM-DD' or reference_year=YYYY",
                          found="None")
    native = to_pandas(roster, "roster")
    for canon, col in rules.columns.items():
        if col not in native.columns:
            hits = close_names(col, [c for c in native.columns if isinstance(c, str)], 0.6)
            raise SurveyError("a column named in columns is not in the roster",
                              argument="columns", expected="columns of the roster",
                              found=f"{canon} -> {col!r}",
                              hint=("did you mean " + " or ".join(map(repr, hits)) + "?")
                              if hits else "check the spelling")
    used = {n: rules.columns.get(n, n) for n in EMIGRANT_INPUTS
            if rules.columns.get(n, n) in native.columns}
    if "emigrant_year_departure" not in used:
        raise SurveyError("the emigrant roster has no year of departure",
                          argument="roster", expected="a column emigrant_year_departure",
                          found="columns " + ", ".join(map(str, native.columns[:8])),
                          hint="map yours with columns={'emigrant_year_departure': 'YOUR_COL'}")
    schema = dict(nw.from_native(native).collect_schema())
    if len(native):
        # a roster without rows (no household reported an emigrant) has no values whose type
        # could be wrong: its columns read as text and are cast below
        _check_types(schema, used, EMIGRANT_INPUTS)
    work = nw.from_native(_prepare_native(native, used, schema, EMIGRANT_INPUTS))
    _check_codes(work, used, EMIGRANT_INPUTS)
    _check_values(work, used, rules, EMIGRANT_INPUTS)
    if "emigrant_destination" in used:
        home = int((work.to_native()[used["emigrant_destination"]] == rules.country).sum())
        if home:
            raise SurveyError("an emigrant's destination is the reporting country",
                              argument="roster", expected="a country abroad, or XXX (unknown)",
                              found=f"{home} row{'s' if home > 1 else ''} with {rules.country}",
                              hint="a member who moved within the country is not an emigrant")
    ctx = Ctx(rules, set(used), set())
    flag = "__migsurvey_emigrant_12m"
    result = _nullable(work.with_columns(**{flag: ctx.in_last_12_months(
        "emigrant_year_departure", "emigrant_month_departure")}), [flag])
    out = native.copy()
    out["emigrant_12m"] = result.to_native()[flag].astype("boolean").array
    out.attrs = dict(native.attrs)
    out.attrs["derive_rules"] = rules.as_dict() | {"variables": ["emigrant_12m"]}
    return out


__all__ = ["EMIGRANT_VARIABLES", "derive_emigrants"]
