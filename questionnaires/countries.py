"""Country codes: ISO 3166-1 alpha-3, plus the special codes for unknown and stateless.

The list of 249 ISO 3166-1 alpha-3 codes ships as package data
(``questionnaires/data/iso3166_alpha3.csv``: alpha-3, alpha-2, numeric, short name).

Special codes follow the ICAO Doc 9303 (machine-readable travel documents) usage of the
user-assigned ``XX?`` range of ISO 3166-1:

* ``XXA`` — stateless person (valid only for citizenship); counted as a **foreign citizen**.
* ``XXX`` — unknown / not stated (valid for every country question); stays unknown in every
  derived variable, never "native" and never "citizen".

Missing values (``None``, ``NaN``, ``<NA>``) mean the same as ``XXX``.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

UNKNOWN = "XXX"
STATELESS = "XXA"
SPECIAL_LABELS = {UNKNOWN: "Unknown / not stated", STATELESS: "Stateless"}


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, str, str, str], ...]:
    path = resources.files("questionnaires") / "data" / "iso3166_alpha3.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple((r["alpha3"], r["alpha2"], r["numeric"], r["name"]) for r in rows)


def iso_alpha3() -> frozenset[str]:
    """The 249 ISO 3166-1 alpha-3 country codes (no special codes)."""
    return frozenset(row[0] for row in _table())


def country_names() -> dict[str, str]:
    """Mapping alpha-3 code → short English name, in code order."""
    return {row[0]: row[3] for row in _table()}


def valid_codes(*, stateless: bool) -> frozenset[str]:
    """Codes accepted in a country question: ISO codes, ``XXX`` and, for citizenship, ``XXA``."""
    extra = {UNKNOWN, STATELESS} if stateless else {UNKNOWN}
    return iso_alpha3() | extra


def choice_rows(list_name: str, *, stateless: bool) -> list[dict[str, str]]:
    """XLSForm ``choices`` rows for a country list (ISO codes, then the special codes)."""
    rows = [
        {"list_name": list_name, "name": code, "label": name}
        for code, name in country_names().items()
    ]
    if stateless:
        rows.append({"list_name": list_name, "name": STATELESS, "label": SPECIAL_LABELS[STATELESS]})
    rows.append({"list_name": list_name, "name": UNKNOWN, "label": SPECIAL_LABELS[UNKNOWN]})
    return rows
