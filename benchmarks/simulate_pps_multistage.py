"""Design-based simulation of a two-stage design with a PPS-without-replacement first stage.

A synthetic population of 60 enumeration areas (EAs) of 20–200 households; household income
depends on the EA's size and level. Each repetition draws

* stage 1: 12 EAs by Sampford's method with probability proportional to the number of
  households (exact joint inclusion probabilities from :mod:`sampling.joint`);
* stage 2: 5 households by simple random sampling without replacement in each EA,

and estimates total and mean income with the first stage declared as Brewer's, Overton's or
Hartley–Rao's approximation, or with the exact joint probabilities (``pps=pij``); later stages
add ``Σ_i V̂_i/π_i`` in every case. Reported: the ratio of the mean variance estimate to the
Monte-Carlo variance of the estimator, the ratio of the mean SE to the empirical SD, and the
coverage of the 95 % normal interval (with its Monte-Carlo standard error). Not part of the test
suite::

    python benchmarks/simulate_pps_multistage.py --reps 2000 --seed 1 --out bench-data/pps_multistage.md
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from estimation import SurveyDesign
from sampling import inclusion_probabilities, joint_inclusion_probabilities, select
from surveycore import SurveyWarning

N_EA, N_SAMPLED, M_SAMPLED = 60, 12, 5


def population(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 201, N_EA)
    rows = []
    for e, m in enumerate(sizes):
        level = rng.normal(0, 200) + 2.0 * m
        rows.append(pd.DataFrame({"ea": f"{e:03d}", "size": m, "income": rng.gamma(3.0, 300.0, m) + level}))
    pop = pd.concat(rows, ignore_index=True)
    pop["hh"] = [f"{i:06d}" for i in range(len(pop))]
    return pop


def run(reps: int, seed: int) -> pd.DataFrame:
    pop = population(seed)
    frame = pop.groupby("ea", as_index=False)["size"].first()
    pi = np.asarray(inclusion_probabilities(frame["size"].to_numpy(dtype=float), N_SAMPLED))
    frame["pi1"] = pi
    pij_all = joint_inclusion_probabilities(pi, "sampford")
    truth = {"total": pop["income"].sum(), "mean": pop["income"].mean()}
    rng = np.random.default_rng(seed + 1)
    firsts = {"brewer": "brewer", "overton": "overton", "hartley-rao": "hartley-rao", "joint": None}
    out = {(f, s): ([], []) for f in firsts for s in truth}
    for _ in range(reps):
        s1 = select(frame, N_SAMPLED, method="sampford", size="size", seed=rng).units
        eas = s1["ea"].to_numpy()
        parts = []
        for ea in eas:
            rows = pop[pop["ea"] == ea]
            parts.append(rows.iloc[rng.choice(len(rows), M_SAMPLED, replace=False)])
        s = pd.concat(parts, ignore_index=True).merge(frame[["ea", "pi1"]], on="ea")
        s["pi2"] = M_SAMPLED / s["size"]
        order = [int(frame.index[frame["ea"] == ea][0]) for ea in pd.unique(s["ea"])]
        for name, pps in firsts.items():
            pps = pij_all[np.ix_(order, order)] if pps is None else pps
            d = SurveyDesign(s, ids=["ea", "hh"], fpc=["pi1", "pi2"], pps=pps)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SurveyWarning)
                for stat in truth:
                    r = d.total("income") if stat == "total" else d.mean("income")
                    out[(name, stat)][0].append(r["estimate"].iloc[0])
                    out[(name, stat)][1].append(r["se"].iloc[0])
    rows = []
    for (name, stat), (est, se) in out.items():
        est, se = np.asarray(est), np.asarray(se)
        ok = np.isfinite(se)
        mc_var = np.mean((est - est.mean()) ** 2)
        cover = np.abs(est[ok] - truth[stat]) <= 1.959963984540054 * se[ok]
        rows.append({
            "first stage": name, "statistic": stat,
            "relative bias %": 100 * (est.mean() / truth[stat] - 1),
            "mean var / MC var": np.mean(se[ok] ** 2) / mc_var,
            "mean SE / SD": se[ok].mean() / np.sqrt(mc_var),
            "coverage %": 100 * cover.mean(),
            "MC s.e. of coverage %": 100 * np.sqrt(cover.mean() * (1 - cover.mean()) / ok.sum()),
            "negative variances": int((~ok).sum()),
        })
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    table = run(args.reps, args.seed)
    text = (f"# Two-stage design, PPS (Sampford) first stage: {args.reps} samples, seed {args.seed}, "
            f"{time.perf_counter() - start:.0f} s\n\n{table.round(3).to_string(index=False)}\n")
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
