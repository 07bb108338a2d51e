"""A small screening survey built as an office's files look: string EA and household ids with
leading zeros, EAs drawn by simple random sampling within strata, every household of a
selected EA listed and screened, a fixed take of households per EA and screening class.

``listing()`` is every listed household of the selected EAs (``selected`` marks phase 2);
``persons()`` the members of the selected households. The R reference
(``tests/reference/twophase_screening.R``) reads the same tables from CSV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TAKE = {"migrant": 3, "other": 2}


def listing(seed: int = 20251201) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s, stratum in enumerate(["north", "south", "east"]):
        n_eas, take_eas = 10 + 2 * s, 4
        chosen = np.sort(rng.choice(n_eas, take_eas, replace=False))
        for e in chosen:
            ea = f"0{s}{e:03d}"
            size = int(rng.integers(8, 16))
            share = rng.uniform(0.15, 0.6)
            screen = np.where(rng.random(size) < share, "migrant", "other")
            if (screen == "migrant").sum() < 2:
                screen[:2] = "migrant"
            for h in range(size):
                rows.append({"ea": ea, "region": stratum, "hh": f"{ea}{h:03d}",
                             "screen": screen[h], "pi1": take_eas / n_eas})
    lst = pd.DataFrame(rows)
    lst["selected"] = False
    for (_ea, cls), g in lst.groupby(["ea", "screen"]):
        m = min(TAKE[cls], len(g))
        lst.loc[rng.choice(g.index.to_numpy(), m, replace=False), "selected"] = True
    size = lst.groupby(["ea", "screen"])["hh"].transform("size")
    m = lst.groupby(["ea", "screen"])["selected"].transform("sum")
    lst["pi2"] = m / size
    return lst


def persons(lst: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sel = lst.loc[lst["selected"]]
    rows = []
    for r in sel.itertuples():
        for p in range(int(rng.integers(1, 5))):
            born = rng.random() < (0.7 if r.screen == "migrant" else 0.05)
            rows.append({"hh": r.hh, "line": f"{p + 1:02d}", "sex": rng.choice(["F", "M"]),
                         "born_abroad": float(born),
                         "income": float(rng.gamma(3.0, 200.0) + 150 * born)})
    return pd.DataFrame(rows)
