"""An office's own census and interviews, made with plain numpy (not the synthetic generator).

Column names are the office's (``EA_CODE, HH_NO, LINE, SEX, AGE, COB, CITIZ, YR_ARR, REGION``),
EA codes are text with leading zeros, sex is coded 1 = male, 2 = female, countries are ISO
alpha-3 with the reporting country KEN, and there is no intended-stay or
citizenship-acquisition question.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ORIGINS = np.array(["UGA", "SOM", "SSD", "ETH", "COD"])
AGE_BREAKS = (0, 15, 30, 45, 60)
AGE_LABELS = ("0-14", "15-29", "30-44", "45-59", "60+")


def office_census(seed: int = 2025, n_ea: int = 320) -> pd.DataFrame:
    """About 37,000 persons in ``n_ea`` EAs of 4 regions (one row per person)."""
    rng = np.random.default_rng(seed)
    region = np.repeat(np.arange(1, 5), n_ea // 4)
    high = rng.random(n_ea) < 0.2
    prevalence = np.where(high, rng.uniform(0.15, 0.45, n_ea), rng.uniform(0.0, 0.06, n_ea))
    n_hh = rng.integers(30, 51, n_ea)
    hh_ea = np.repeat(np.arange(n_ea), n_hh)
    hh_no = np.concatenate([np.arange(1, k + 1) for k in n_hh])
    migrant_hh = rng.random(hh_ea.size) < prevalence[hh_ea]
    size = 1 + rng.poisson(1.8, hh_ea.size)
    p_hh = np.repeat(np.arange(hh_ea.size), size)
    line = np.arange(p_hh.size) - np.repeat(np.cumsum(size) - size, size) + 1
    age = np.where(line == 1, rng.integers(18, 80, p_hh.size), rng.integers(0, 90, p_hh.size))
    foreign = migrant_hh[p_hh] & (rng.random(p_hh.size) < 0.85)
    origin = ORIGINS[rng.integers(0, ORIGINS.size, p_hh.size)]
    cob = np.where(foreign, origin, "KEN")
    citiz = np.where(foreign & (rng.random(p_hh.size) < 0.7), origin, "KEN")
    years = np.minimum(np.floor(rng.exponential(8.0, p_hh.size)), age).astype(int)
    yr_arr = np.where(foreign, 2025 - years, np.nan)
    return pd.DataFrame({
        "EA_CODE": np.array([f"{i:04d}" for i in range(1, n_ea + 1)])[hh_ea[p_hh]],
        "HH_NO": hh_no[p_hh],
        "LINE": line,
        "REGION": region[hh_ea[p_hh]],
        "SEX": rng.integers(1, 3, p_hh.size),
        "AGE": age,
        "COB": cob,
        "CITIZ": citiz,
        "YR_ARR": yr_arr,
    })


def fieldwork(selected: pd.DataFrame, census: pd.DataFrame, seed: int = 11
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AAPOR final dispositions for the selected households, and the persons interviewed.

    4.x not eligible (vacant), 3.x unknown eligibility, 2.x refusal and non-contact,
    1.1 complete and 1.2 partial interviews; migrant households respond less often.
    """
    rng = np.random.default_rng(seed)
    n = len(selected)
    u = rng.random(n)
    respond = rng.random(n) < np.where(selected["screen"] == "migrant", 0.75, 0.88)
    disp = np.where(u < 0.03, 4.1, np.where(u < 0.08, np.where(rng.random(n) < 0.5, 3.1, 3.2),
                    np.where(respond, np.where(rng.random(n) < 0.95, 1.1, 1.2),
                             np.where(rng.random(n) < 0.6, 2.1, 2.2))))
    households = selected.assign(DISP=disp)
    done = households.loc[np.floor(disp) == 1, ["EA_CODE", "HH_NO"]]
    persons = census.merge(done, on=["EA_CODE", "HH_NO"], how="inner").drop(columns="REGION")
    return households, persons


def truth_mi11(census: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Census share (%) of foreign-born persons by sex and age group, and their margins."""
    sex = np.where(census["SEX"] == 1, "M", "F")
    group = np.array(AGE_LABELS)[np.searchsorted(AGE_BREAKS, census["AGE"], side="right") - 1]
    fb = (census["COB"] != "KEN").to_numpy(float)
    out = {}
    for s in ("F", "M", "_T"):
        for g in (*AGE_LABELS, "_T"):
            rows = ((sex == s) | (s == "_T")) & ((group == g) | (g == "_T"))
            out[(s, g)] = 100 * fb[rows].mean()
    return out


OFFICE_COLUMNS = """\
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
"""
"""The office's column names and sex codes, as a ``columns:`` block of a specification."""

#: A specification for :func:`office_census` (``CENSUS`` stands for the census file's path).
OFFICE_SPEC = "country: KEN\n" + OFFICE_COLUMNS + """\
  citizenship: CITIZ
frame: {census: CENSUS}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 20}
selection:
  household: {take: {migrant: 10, other: 6}}
weighting:
  - nonresponse: {cells: [screen]}
  - calibrate: {margins: [[region, sex, age_group]], method: raking}
estimation: {indicators: [MI1.1], by: [[], [sex]]}
"""


# the design of a screening survey on an office census: frame, strata, sample, selection and
# interview files (tests add their own weighting and estimation keys after it)
OFFICE_DESIGN = """\
frame: {census: census.csv}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 16}
selection:
  household: {screening: migrant_household, take: {migrant: 8, other: 5}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
"""

# that design up to the nonresponse step (tests add their own calibration and estimation keys)
OFFICE_SCREENING = OFFICE_DESIGN + """\
weighting:
  - eligibility: {cells: [region]}
  - nonresponse: {cells: [screen]}
"""
