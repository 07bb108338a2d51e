"""Shared fixtures: a synthetic census (persons in households in EAs) with clustered migrants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_census(n_ea: int = 240, seed: int = 20240701) -> pd.DataFrame:
    """One row per person: region, urban, EA, household, foreign-born / citizen / recent flags."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["North", "South", "East", "West"], n_ea)
    urban = rng.random(n_ea) < 0.4
    hh_per_ea = rng.integers(5, 120, n_ea)
    # migrants cluster: most EAs have few, some many (beta prevalence, higher in towns)
    prev = rng.beta(0.4, 6.0, n_ea) * np.where(urban, 2.0, 0.7)
    prev = np.clip(prev, 0, 0.9)
    ea_of_hh = np.repeat(np.arange(n_ea), hh_per_ea)
    H = ea_of_hh.size
    migrant_hh = rng.random(H) < prev[ea_of_hh]
    size = rng.integers(1, 7, H)
    hh_of_person = np.repeat(np.arange(H), size)
    ea_p = ea_of_hh[hh_of_person]
    fb = migrant_hh[hh_of_person] & (rng.random(hh_of_person.size) < 0.8)
    fc = fb & (rng.random(fb.size) < 0.6)
    recent = fb & (rng.random(fb.size) < 0.3)
    emig = rng.random(H) < 0.05 + 0.2 * prev[ea_of_hh]
    return pd.DataFrame({
        "region": region[ea_p],
        "urban": urban[ea_p].astype(int),
        "ea": 1000 + ea_p,
        "hh": hh_of_person,
        "foreign_born": fb,
        "foreign_citizen": fc.astype(int),
        "recent_immigrant": recent.astype(int),
        "has_emigrant": emig[hh_of_person].astype(int),
    })


@pytest.fixture(scope="session")
def census() -> pd.DataFrame:
    return make_census()


@pytest.fixture(scope="session")
def frame_kwargs() -> dict:
    return dict(
        ea="ea",
        household="hh",
        by=["region", "urban"],
        flags={"foreign_born": "foreign_born", "foreign_citizens": "foreign_citizen",
               "recent_immigrants": "recent_immigrant"},
        household_flags={"hh_with_emigrant": "has_emigrant", "migrant_households": "foreign_born"},
    )
