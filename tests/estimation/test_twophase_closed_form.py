"""Screening as two phases against the textbook two-stage variance, computed in the test.

Phase 1: a stratified SRS without replacement of EAs (``f_h = n_h/N_h``) whose households are
all listed; phase 2: an SRS of households without replacement within EA × screening class.
The full two-phase estimator of a total then has the unbiased variance estimator
``Σ_h N_h²(1 − f_h) s²_{t̂,h}/n_h + Σ_h (N_h/n_h) Σ_{i∈h} Σ_c M_ic²(1 − m_ic/M_ic) s²_ic/m_ic``
(Cochran 1977, §10.8; Särndal, Swensson & Wretman 1992, result 4.3.1). R's ``twophase`` gives
other numbers on such data when phase-1 strata have unequal numbers of EAs, and changes them
with the row order; this closed form is the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import TwoPhaseDesign


def screening_sample(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for stratum, n_ea, f in (("01", 4, 0.2), ("02", 3, 1 / 3)):
        for e in range(n_ea):
            ea = f"{stratum}{e:03d}"
            for screen, listed, take in (("migrant", int(rng.integers(5, 12)), 4), ("other", int(rng.integers(20, 40)), 6)):
                picked = rng.choice(listed, size=take, replace=False)
                for k in range(listed):
                    size = int(rng.integers(1, 6))
                    born = (rng.random(size) < (0.6 if screen == "migrant" else 0.03)).astype(float)
                    inside = k in picked
                    for person in range(size):
                        rows.append({"ea_id": ea, "stratum": stratum, "screen": screen, "pi1": f,
                                     "hh_key": f"{ea}/{screen[0]}{k:02d}", "in2": inside,
                                     "born_abroad": born[person] if inside else np.nan})
    return pd.DataFrame(rows)


def closed_form(df: pd.DataFrame) -> tuple[float, float]:
    hh = df.groupby("hh_key").agg(ea=("ea_id", "first"), st=("stratum", "first"), scr=("screen", "first"),
                                  pi1=("pi1", "first"), in2=("in2", "first"),
                                  y=("born_abroad", lambda s: s.sum(min_count=1)))
    total = v1 = v2 = 0.0
    for _, dh in hh.groupby("st"):
        eas = dh["ea"].unique()
        n, f = len(eas), dh["pi1"].iloc[0]
        big_n = n / f
        t = []
        for e in eas:
            te = 0.0
            for _, dc in dh[dh["ea"] == e].groupby("scr"):
                y = dc.loc[dc["in2"], "y"].to_numpy(float)
                big_m, m = len(dc), len(y)
                te += big_m * y.mean()
                v2 += (big_n / n) * big_m**2 * (1 - m / big_m) * y.var(ddof=1) / m
            t.append(te)
        t = np.asarray(t)
        total += big_n * t.mean()
        v1 += big_n**2 * (1 - f) * t.var(ddof=1) / n
    return total, float(np.sqrt(v1 + v2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_screening_total_equals_the_two_stage_closed_form(seed):
    df = screening_sample(seed)
    df["one"] = 1.0
    df["st2"] = df["ea_id"] + "/" + df["screen"]
    d = TwoPhaseDesign(df, ids=(["ea_id", "hh_key"], "hh_key"), strata=("stratum", "st2"),
                       fpc=(["pi1", "one"], None), subset="in2")
    got = d.total("born_abroad")
    total, se = closed_form(df)
    np.testing.assert_allclose(got["estimate"].iloc[0], total, rtol=1e-10)
    np.testing.assert_allclose(got["se"].iloc[0], se, rtol=1e-10)
    shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = TwoPhaseDesign(shuffled, ids=(["ea_id", "hh_key"], "hh_key"), strata=("stratum", "st2"),
                           fpc=(["pi1", "one"], None), subset="in2").total("born_abroad")
    np.testing.assert_allclose(again["se"].iloc[0], se, rtol=1e-10)  # row order changes nothing
