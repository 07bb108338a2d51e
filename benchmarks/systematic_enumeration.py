"""Exact first-stage variance of the demo's regional totals under PPS systematic selection.

Systematic PPS selection has one random start ``u ~ U[0, 1)``: every distinct sample is an
interval of ``u``, so the design variance of the Horvitz–Thompson total of the EAs' true
counts and the expectation of the with-replacement (ultimate-cluster) variance estimator
``n/(n−1) Σ (z_i − z̄)²``, ``z_i = Y_i/π_i``, are sums over those intervals (no simulation).
Per region (the demo's strata, allocation and π of the EAs; ``Y_i`` the foreign-born usual
residents of EA ``i``), for three orders of the frame within strata:

* the frame's order (EA ids, by district), as ``select(method="pps_systematic")`` uses it;
* the order of the EAs' prevalence (implicit stratification by the prevalence);
* random orders (mean over ``--orders`` permutations): randomised systematic selection, a
  high-entropy πps design like Sampford's.

It reports ``√(E v_UC / V)``: below 1 the ultimate-cluster SE under-states the design's
(Särndal, Swensson & Wretman 1992, §3.4; Wolter 2007, ch. 8). Not part of the test suite::

    python benchmarks/systematic_enumeration.py --out benchmarks/results/coverage
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def samples(pi: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Every distinct systematic sample of units with inclusion probabilities ``pi`` (in order),
    with its probability (the length of its interval of random starts)."""
    V = np.cumsum(pi)
    V0 = np.r_[0.0, V[:-1]]
    br = np.unique(np.r_[0.0, np.mod(V, 1.0), 1.0])
    out = []
    for a, b in zip(br[:-1], br[1:]):
        if b - a > 1e-15:
            u = (a + b) / 2
            out.append((b - a, np.ceil(V - u) - np.ceil(V0 - u) > 0))
    return out


def moments(pi: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Design variance of Σ y/π and expectation of the with-replacement variance estimator."""
    p, est, v = [], [], []
    for prob, hit in samples(pi):
        z = y[hit] / pi[hit]
        n = hit.sum()
        p.append(prob)
        est.append(z.sum())
        v.append(n / (n - 1) * ((z - z.mean()) ** 2).sum())
    p, est, v = map(np.asarray, (p, est, v))
    mean = (p * est).sum()
    return float((p * (est - mean) ** 2).sum()), float((p * v).sum())


def main(argv=None) -> int:
    from migsurvey.pipeline import allocate_sample, build_frame, derive_persons, load_census
    from migsurvey.spec import default_spec_text, parse_spec
    from sampling import select

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=50)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    spec = parse_spec(default_spec_text(), source="demo.yaml")
    spec["frame"]["synthetic"]["persons"] = args.persons
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    n_h = allocate_sample(frame, spec).set_index("stratum")["psus"]
    s = select(frame, n_h, method="pps_systematic", size="households", strata="stratum",
               id="ea_id", seed=0)
    ids = s.stages[0].detail["order_ids"]
    bounds = s.stages[0].detail["bounds"]
    persons = derive_persons(census.persons, spec)
    y_all = (persons.loc[persons["usual_resident"].astype(bool)].groupby("ea_id")["foreign_born"]
             .sum().reindex(ids).fillna(0.0).to_numpy())
    pi_all = s.frame_pi.reindex(ids).to_numpy()
    fr = frame.set_index("ea_id").reindex(ids)
    rng = np.random.default_rng(1)
    rows = []
    for h in range(len(bounds) - 1):
        sl = slice(bounds[h], bounds[h + 1])
        pi, y = pi_all[sl], y_all[sl]
        row = {"stratum": fr["stratum"].iloc[bounds[h]], "region": fr["region"].iloc[bounds[h]],
               "eas_sampled": int(round(pi.sum())), "total": y.sum()}
        row["V_frame"], row["Ev_frame"] = moments(pi, y)
        o = np.argsort(fr["prevalence"].to_numpy()[sl], kind="stable")
        row["V_prevalence"], row["Ev_prevalence"] = moments(pi[o], y[o])
        rand = np.array([moments(pi[p], y[p]) for p in
                         (rng.permutation(len(pi)) for _ in range(args.orders))])
        row["V_random"], row["Ev_random"] = rand.mean(axis=0)
        rows.append(row)
    st = pd.DataFrame(rows)
    cols = [c for c in st.columns if c.startswith(("V_", "Ev_"))] + ["eas_sampled", "total"]
    reg = st.groupby("region")[cols].sum()
    reg.loc["national"] = reg.sum()
    for order in ("frame", "prevalence", "random"):
        reg[f"ratio_{order}"] = np.sqrt(reg[f"Ev_{order}"] / reg[f"V_{order}"])
    reg["se_frame_vs_random"] = np.sqrt(reg["V_frame"] / reg["V_random"])
    print(reg[["eas_sampled", "ratio_frame", "ratio_prevalence", "ratio_random",
               "se_frame_vs_random"]].round(3).to_string())
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        reg.to_csv(Path(args.out) / "systematic_enumeration.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
