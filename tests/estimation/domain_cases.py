"""Data and weighting chains for the domain invariant suite, built the way an office's file looks.

String PSU ids with leading zeros, household ids, a region and sex coded as text, an age group
with a missing answer, numeric income and household size. Population totals are fixed numbers
(a made-up census), not computed from the sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from weighting import Weights

SEX = {"F": 10400.0, "M": 9600.0}
AGE = {"0-14": 5200.0, "15-64": 12300.0, "65+": 2500.0}
REGION = {"Centre": 6100.0, "East": 4900.0, "North": 5200.0, "West": 3800.0}
HHSIZE_TOTAL = 71000.0
INCOME_TOTAL = 2.9e8


def office_sample(seed: int = 11) -> pd.DataFrame:
    """About 360 persons in 24 PSUs (3 strata), 1–6 persons per household."""
    rng = np.random.default_rng(seed)
    rows = []
    for h, stratum in enumerate(["A01", "B02", "C03"]):
        for p in range(8):
            psu = f"{h:02d}{p:03d}"
            region = ["Centre", "East", "North", "West"][(h + p) % 4]
            base = float(rng.uniform(40, 70))
            for hh in range(int(rng.integers(4, 8))):
                size = int(rng.integers(1, 6))
                hh_wt = base * float(rng.uniform(0.9, 1.1))
                for _ in range(size):
                    rows.append(
                        {
                            "strat_code": stratum,
                            "psu_id": psu,
                            "hh_id": f"{psu}-{hh:02d}",
                            "region": region,
                            "sex": "F" if rng.random() < 0.52 else "M",
                            "agegrp": ["0-14", "15-64", "65+"][int(rng.choice(3, p=[0.25, 0.62, 0.13]))],
                            "hh_size": float(size),
                            "income": float(rng.gamma(2.0, 7000.0)),
                            "hours": float(rng.uniform(10, 50)),
                            "migrant": "yes" if rng.random() < 0.2 + 0.1 * (h == 1) else "no",
                            "d_wt": hh_wt,
                            "psu_pop": 20.0 + 4 * h,
                        }
                    )
    df = pd.DataFrame(rows)
    df.index = pd.Index([f"r{i:05d}" for i in range(len(df))], name="person")
    df["one"] = 1.0
    return df


def chains(df: pd.DataFrame) -> dict[str, Weights]:
    """Every kind of weighting record, on the same sample."""
    w = Weights(df, "d_wt")
    cal = {"sex": SEX, "agegrp": AGE, "income": INCOME_TOTAL}
    out = {
        "poststratify": w.poststratify({"region": REGION}),
        "rake-regression": w.rake({"sex": SEX, "agegrp": AGE, "region": REGION}, tol=1e-12),
        "rake-survey": w.rake({"sex": SEX, "agegrp": AGE, "region": REGION}, tol=1e-12, variance="survey"),
        "calibrate-linear": w.calibrate(cal),
        "calibrate-raking": w.calibrate(cal, method="raking"),
        "calibrate-logit": w.calibrate(cal, method="logit", bounds=(0.4, 2.5)),
        "calibrate-truncated": w.calibrate(cal, method="truncated", bounds=(0.4, 2.5)),
        "calibrate-sinh": w.calibrate(cal, method="sinh", bounds=(0.3, 3.0)),
        "integrated": w.calibrate({"sex": SEX, "agegrp": AGE}, cluster="hh_id"),
        "trim_calibrate": w.calibrate(cal).trim_calibrate(upper=float(np.quantile(w.calibrate(cal).values, 0.97))),
        "chain": w.poststratify({"region": REGION}).calibrate({"sex": SEX, "hh_size": HHSIZE_TOTAL}),
    }
    return out
