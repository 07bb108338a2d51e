"""Design-based simulation of a migrant-targeted screening survey estimated as a two-phase design.

A synthetic population of 360 enumeration areas (EAs) in three regions, 20–45 households each,
with migrant households clustered in EAs and income depending on migrant status and EA. Each
repetition draws

* phase 1: a stratified SRS of 8 EAs per region; every household is listed and screened;
* phase 2: every migrant household and an SRS of a quarter (at least two) of the other
  households within each EA,

and estimates mean income (overall and by migrant status) and total income with
``TwoPhaseDesign`` (``method="full"`` and ``"approx"``). Reported: relative bias, the ratio of the
mean estimated SE to the empirical SD, and the coverage of the 95 % normal interval (with its
Monte-Carlo standard error) and of the Student-t interval on the design's degrees of freedom.
Not part of the test suite::

    python benchmarks/simulate_twophase.py --reps 1000 --seed 1 --out bench-data/twophase.md
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from estimation import TwoPhaseDesign
from surveycore import SurveyWarning


def population(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r, region in enumerate(["01", "02", "03"]):
        for e in range(120):
            m = rng.integers(20, 46)
            share = rng.beta(1.2, 5.0)  # migrant prevalence varies strongly between EAs
            mig = rng.random(m) < share
            level = rng.normal(0, 150)
            income = rng.gamma(3.0, 300.0, m) + level + 350 * mig + 100 * r
            rows.append(pd.DataFrame({"region": region, "ea": f"{region}{e:03d}", "migrant": np.where(mig, "yes", "no"),
                                      "income": income}))
    pop = pd.concat(rows, ignore_index=True)
    pop["hh"] = [f"{i:06d}" for i in range(len(pop))]
    pop["N_ea"] = 120
    return pop


def draw(pop: pd.DataFrame, rng: np.random.Generator, per_region: int) -> pd.DataFrame:
    eas = pop.groupby("region")["ea"].unique()
    chosen = np.concatenate([rng.choice(v, per_region, replace=False) for v in eas])
    s1 = pop[pop["ea"].isin(chosen)].copy()
    s1["stratum2"] = s1["ea"] + "/" + s1["migrant"]
    key = rng.random(len(s1))
    rank = s1.assign(k=key).groupby("stratum2")["k"].rank(method="first")
    size = s1.groupby("stratum2")["hh"].transform("size")
    take = np.where(s1["migrant"] == "yes", size, np.maximum(2, np.round(0.25 * size)))
    s1["in2"] = rank <= np.minimum(take, size)
    s1["income"] = s1["income"].where(s1["in2"])
    return s1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eas", type=int, default=8, help="EAs selected per region")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    pop = population(args.seed)
    truth = {"mean": pop["income"].mean(), "mean migrant=no": pop.loc[pop["migrant"] == "no", "income"].mean(),
             "mean migrant=yes": pop.loc[pop["migrant"] == "yes", "income"].mean(), "total": pop["income"].sum()}
    rng = np.random.default_rng(args.seed + 1)
    records = []
    start = time.perf_counter()
    for _ in range(args.reps):
        s1 = draw(pop, rng, args.eas)
        for method in ("full", "approx"):
            d = TwoPhaseDesign(s1, ids=("ea", "hh"), strata=("region", "stratum2"), fpc=("N_ea", None),
                               subset="in2", method=method)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SurveyWarning)
                m = d.mean("income")
                by = d.mean("income", by="migrant")
                t = d.total("income")
            for name, row in [("mean", m.iloc[0]), ("mean migrant=no", by.iloc[0]),
                              ("mean migrant=yes", by.iloc[1]), ("total", t.iloc[0])]:
                records.append({"method": method, "estimate_of": name, "estimate": row["estimate"], "se": row["se"],
                                "df": row["df"]})
    elapsed = time.perf_counter() - start
    res = pd.DataFrame(records)
    res["truth"] = res["estimate_of"].map(truth)
    res["covered"] = (res["estimate"] - 1.959964 * res["se"] <= res["truth"]) & (
        res["truth"] <= res["estimate"] + 1.959964 * res["se"])
    t = stats.t.ppf(0.975, res["df"])
    res["covered_t"] = (res["estimate"] - t * res["se"] <= res["truth"]) & (res["truth"] <= res["estimate"] + t * res["se"])
    summary = res.groupby(["method", "estimate_of"]).apply(
        lambda g: pd.Series({
            "relative bias %": 100 * (g["estimate"].mean() / g["truth"].iloc[0] - 1),
            "mean SE / SD": g["se"].mean() / g["estimate"].std(ddof=1),
            "coverage %": 100 * g["covered"].mean(),
            "MC SE of coverage": 100 * np.sqrt(g["covered"].mean() * (1 - g["covered"].mean()) / len(g)),
            "coverage t(df) %": 100 * g["covered_t"].mean(),
            "NaN SE": int(g["se"].isna().sum()),
        }), include_groups=False).reset_index()
    header = "| " + " | ".join(summary.columns) + " |\n|" + "---|" * summary.shape[1] + "\n"
    body = "".join("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
                   for row in summary.itertuples(index=False))
    text = (f"Two-phase screening simulation: {args.reps} repetitions, seed {args.seed}, {args.eas} EAs per region, "
            f"{len(pop)} households, {elapsed:.0f} s.\n\n" + header + body)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
