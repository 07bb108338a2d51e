"""A two-stage sample with EAs selected with certainty, as an office's files look.

EA codes and household numbers are text with leading zeros; households were selected within
two screening classes of each EA (``screen``); ``pi1`` is the EA's first-stage inclusion
probability, ``pi2`` the household's within its EA and class. The region ``Island`` is one EA
selected with certainty; the stratum ``East:high`` holds a certainty EA beside sampled ones;
``North`` and ``South`` have no certainty EA.

``python tests/migsurvey/certainty_data.py`` writes the persons to
``tests/reference/self_representing_persons.csv``, the input of ``self_representing.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: (region, stratum, number of EAs, certainty EAs among them)
STRATA = (("North", "North:low", 4, 0), ("North", "North:high", 3, 0),
          ("South", "South:low", 4, 0), ("South", "South:high", 3, 0),
          ("East", "East:low", 3, 0), ("East", "East:high", 3, 1),
          ("Island", "Island:high", 1, 1))
REFERENCE_CSV = Path(__file__).resolve().parents[1] / "reference" / "self_representing_persons.csv"


def certainty_sample(seed: int = 20251201) -> pd.DataFrame:
    """Persons of the responding households, one row each, with the design columns."""
    rng = np.random.default_rng(seed)
    rows = []
    code = 7
    for region, stratum, n_ea, n_sure in STRATA:
        for k in range(n_ea):
            code += int(rng.integers(1, 9))
            sure = k < n_sure
            pi1 = 1.0 if sure else round(float(rng.uniform(0.15, 0.6)), 6)
            prevalence = rng.uniform(0.3, 0.8) if stratum.endswith("high") else rng.uniform(0.05, 0.2)
            hh_no = 0
            for screen, take in (("migrant", 6), ("other", 4)):
                listed = int(rng.integers(take + 2, 30))
                for _ in range(take):
                    hh_no += int(rng.integers(1, 4))
                    size = 1 + int(rng.poisson(1.8))
                    born = rng.random(size) < (prevalence if screen == "migrant" else 0.03)
                    rows.append(pd.DataFrame({
                        "ea_id": f"{code:05d}", "household_id": f"{hh_no:03d}",
                        "region": region, "stratum": stratum, "screen": screen,
                        "pi1": pi1, "pi2": round(take / listed, 6),
                        "sex": rng.choice(["F", "M"], size),
                        "foreign_born": born.astype(int),
                        "usual_resident": (rng.random(size) < 0.95).astype(int)}))
    out = pd.concat(rows, ignore_index=True)
    out["weight"] = 1.0 / (out["pi1"] * out["pi2"])
    return out


if __name__ == "__main__":
    certainty_sample().to_csv(REFERENCE_CSV, index=False)
    print(REFERENCE_CSV)
