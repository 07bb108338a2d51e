"""Unknown answers are never guessed: masking answers can only turn results into <NA>.

For rows that follow the form's skip logic, replacing answers by "unknown" (XXX, dk, missing)
must never change a known derived value into a different known value (three-valued logic is
monotone in information).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import questionnaires as q
from surveycore import SurveyWarning

REF = dict(country="FRA", reference_date="2025-06-30")


def consistent_people(n: int, rng: np.random.Generator) -> pd.DataFrame:
    cob = rng.choice(["FRA", "FRA", "MAR", "DEU"], n)
    native = cob == "FRA"
    ever = np.where(native, rng.choice(["yes", "no"], n), None)
    arrived = ~native | (ever == "yes")
    birth = rng.integers(1950, 2024, n)
    year = np.where(arrived, np.minimum(2025, birth + rng.integers(0, 40, n)), np.nan)
    month = np.where(arrived, rng.integers(1, 13, n), np.nan)
    month = np.where(year == 2025, np.minimum(month, 6), month)
    recent = arrived & (year >= 2024)
    months_since = (2025 * 12 + 5) - (year * 12 + month - 1)
    # abroad t years ago only if the most recent arrival came after that date
    abroad_1y = (months_since < 12) & (rng.random(n) < 0.7)
    abroad_5y = (months_since < 60) & (rng.random(n) < 0.7)
    return pd.DataFrame(
        {
            "country_birth": cob,
            "citizenship": rng.choice(["FRA", "MAR", "XXA"], n),
            "citizenship_acquired": rng.choice(["birth", "naturalisation"], n),
            "birth_year": birth.astype(float),
            "ever_lived_abroad": ever,
            "year_arrival": year,
            "month_arrival": month,
            "residence_1y": np.where(abroad_1y, "MAR", "FRA"),
            "residence_5y": np.where(abroad_5y, "DEU", "FRA"),
            "country_birth_father": rng.choice(["FRA", "MAR"], n),
            "country_birth_mother": rng.choice(["FRA", "DEU"], n),
            # continuous presence since the most recent arrival (the fallback's assumption)
            "months_in_country_last12": np.where(recent, np.minimum(months_since, 12), np.nan),
            "intended_stay_months": np.where(recent, rng.integers(0, 30, n), np.nan),
            "reason_migration": np.where(arrived, rng.choice(["work", "study", "family"], n), None),
            "temporary_abroad": rng.choice(["none", "frontier", "study"], n),
            "hh_members_abroad": rng.integers(0, 3, n).astype(float),
        }
    )


UNKNOWN = {
    "country_birth": "XXX",
    "citizenship": "XXX",
    "citizenship_acquired": "dk",
    "ever_lived_abroad": "dk",
    "residence_1y": "XXX",
    "residence_5y": "XXX",
    "country_birth_father": "XXX",
    "country_birth_mother": None,
    "reason_migration": "dk",
    "temporary_abroad": "dk",
}


def mask(df: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        hit = rng.random(len(out)) < share
        if col in UNKNOWN:
            out[col] = out[col].astype(object)
            out.loc[hit & out[col].notna().to_numpy(), col] = UNKNOWN[col]
        else:
            out.loc[hit, col] = np.nan
    return out


@pytest.mark.parametrize("rule", ["a", "b"])
@pytest.mark.parametrize("parents", ["both", "one"])
def test_masking_never_changes_a_known_value(rule, parents):
    rng = np.random.default_rng(11)
    full = consistent_people(3000, rng)
    masked = mask(full, rng, 0.25)
    a = q.derive(full, residence_rule=rule, parents=parents, **REF)
    b = q.derive(masked, residence_rule=rule, parents=parents, **REF)
    # years_since_arrival falls back, by documented convention, to the difference of calendar
    # years when the month is unknown: a different (coarser) value, not a guess of a category
    for name in set(a.attrs["derive_rules"]["variables"]) - {"years_since_arrival"}:
        known = b[name].notna().to_numpy().copy()
        if name == "temporary_mobility":  # IN_UNSPECIFIED is "inbound, reason unknown"
            unspecified = (b[name] == "IN_UNSPECIFIED").to_numpy(dtype=bool)
            assert a[name][unspecified].astype(str).str.startswith("IN_").all()
            known &= ~unspecified
        x = a[name].astype(object).astype(str).to_numpy()[known]
        y = b[name].astype(object).astype(str).to_numpy()[known]
        bad = np.flatnonzero(x != y)
        assert bad.size == 0, (
            name,
            full.iloc[np.flatnonzero(known)[bad[:3]]],
            masked.iloc[np.flatnonzero(known)[bad[:3]]],
        )
        assert b[name].isna().sum() >= a[name].isna().sum()


OPTIONAL = [
    "intended_stay_months",
    "months_in_country_last12",
    "month_arrival",
    "ever_lived_abroad",
    "residence_1y",
    "residence_5y",
    "citizenship_acquired",
]


@pytest.fixture(scope="module")
def everyone():
    full = consistent_people(1200, np.random.default_rng(5))
    return full, q.derive(full, **REF)


@pytest.mark.parametrize("dropped", OPTIONAL)
def test_an_absent_question_never_changes_a_known_value(dropped, everyone):
    """A question missing from the file is unknown for everyone: values may only become <NA>."""
    import warnings

    full, a = everyone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        b = q.derive(full.drop(columns=dropped), **REF)
    for name in set(b.attrs["derive_rules"]["variables"]) - {"years_since_arrival"}:
        known = b[name].notna().to_numpy()
        x = a[name].astype(object).astype(str).to_numpy()[known]
        y = b[name].astype(object).astype(str).to_numpy()[known]
        assert (x == y).all(), (dropped, name)
        assert b[name].isna().sum() >= a[name].isna().sum()
