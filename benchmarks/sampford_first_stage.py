"""Exact first-stage variance of the demo's Sampford selection, and the expectation of the
ultimate-cluster (with-replacement) variance estimator, for two allocations.

For a fixed-size πps design without replacement within stratum h, the Horvitz–Thompson total
of the EA counts y_i has the Sen–Yates–Grundy variance
V = ½ ΣΣ (π_i π_j − π_ij)(y_i/π_i − y_j/π_j)², computed with Sampford's exact joint inclusion
probabilities. The ultimate-cluster estimator v = n/(n−1) Σ_s (t_i − t̄)², t_i = y_i/π_i, has
the exact expectation E v = (n Σ_U y_i²/π_i − V − Y²)/(n − 1) (expand v = (n Σ_s t_i² − Ŷ²)/
(n − 1) and take E Σ_s t_i² = Σ_U y_i²/π_i, E Ŷ² = V + Y²). The ratio √(E v / V) is the
first-stage bias of the published SE of a count, before listing, the second stage,
nonresponse and calibration (which add variance that the estimator captures). Not part of the
test suite::

    python benchmarks/sampford_first_stage.py --out benchmarks/results/coverage/sampford_first_stage.csv
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from migsurvey.pipeline import allocate_sample, build_frame, load_census
from migsurvey.spec import default_spec_text, parse_spec
from sampling.joint import joint_inclusion_probabilities
from sampling.probabilities import inclusion_probabilities


def stratum_moments(y: np.ndarray, x: np.ndarray, n: int) -> tuple[float, float]:
    """(V, E v) of the HT total in one stratum of a Sampford sample of n EAs, size x."""
    pi = inclusion_probabilities(x, n)
    if n >= len(y) or np.all(pi >= 1 - 1e-12):
        return 0.0, 0.0
    pij = joint_inclusion_probabilities(pi, "sampford")
    t = y / pi
    d = (np.outer(pi, pi) - pij) * (t[:, None] - t[None, :]) ** 2
    V = 0.5 * float(d.sum())
    Ev = (n * float(np.sum(y ** 2 / pi)) - V - float(y.sum()) ** 2) / (n - 1)
    return V, Ev


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/coverage/sampford_first_stage.csv")
    args = ap.parse_args(argv)
    spec = parse_spec(default_spec_text(), source="demo.yaml")
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    designs = {"160 EAs": (160, None), "180 EAs, 20 per region": (180, spec["sample"]["min_per_domain"])}
    rows = []
    for name, (psus, rule) in designs.items():
        spec["sample"]["psus"], spec["sample"]["min_per_domain"] = psus, rule
        alloc = allocate_sample(frame, spec).set_index("stratum")["psus"]
        for stratum, g in frame.groupby("stratum", sort=True):
            V, Ev = stratum_moments(g["foreign_born"].to_numpy(float),
                                    g["households"].to_numpy(float), int(alloc[stratum]))
            rows.append({"design": name, "stratum": stratum, "region": g["region"].iloc[0],
                         "n": int(alloc[stratum]), "V": V, "Ev": Ev})
    tab = pd.DataFrame(rows)
    out = []
    for (design, region), g in list(tab.groupby(["design", "region"])) + [
            ((d, "total"), g) for d, g in tab.groupby("design")]:
        out.append({"design": design, "domain": region, "eas": int(g["n"].sum()),
                    "se": float(np.sqrt(g["V"].sum())),
                    "sqrt_Ev_over_V": float(np.sqrt(g["Ev"].sum() / g["V"].sum()))})
    res = pd.DataFrame(out)
    res.to_csv(args.out, index=False)
    print(res.pivot(index="domain", columns="design",
                    values=["eas", "se", "sqrt_Ev_over_V"]).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
