"""Design-based simulation of Fay–Herriot district shares of foreign-born persons.

A synthetic census (``migsurvey.synthetic``, 48 districts) is the fixed finite population; the
true district shares are known. Auxiliaries per district: the share of foreign-born persons "ten
years earlier" (the true share perturbed on the arcsine scale by ``N(0, aux_noise²)``, fixed
once; used as is in ``A`` and on the arcsine scale in ``B``) and the share of persons living in
urban EAs. Each repetition draws a stratified sample of households (SRSWOR in
each district; 6 districts left unsampled), estimates the district shares directly (ratio
estimator, linearised variance with fpc) and fits the Fay–Herriot model:

* ``A``: untransformed shares, REML, Prasad–Rao MSE, unstable variances smoothed;
* ``B``: arcsine-transformed shares, REML, parametric-bootstrap MSE (200 replicates), all
  sampling variances from the pooled design effect (``smoothing="all"``);
* ``C``: as ``B`` with the Prasad–Rao MSE on the arcsine scale carried to the proportion scale
  by the delta method, intervals back-transformed from the arcsine scale.
* ``D``: as ``B`` with each district's own direct variance (``ψ_i = v̂_i/(4p̂_i(1−p̂_i))``, the
  effective sample size ``p̂(1−p̂)/v̂`` of ``emdi``), smoothed only where unstable.

Reported over repetitions and averaged over districts: relative bias of the MSE estimator
``mean(mse_hat)/empirical MSE − 1`` (district by district, then averaged; and the ratio of the
averages over districts: the MSE estimators estimate the model MSE, an average over area
effects, and with fixed districts only the ratio of averages compares like with like; the
district-by-district average is pulled above 1 by districts whose realised area effect is small),
the CV of the EBLUP against the CV of the direct estimate,
and the coverage of the 95 % intervals of the true shares. Not part of the test suite::

    python benchmarks/simulate_small_area.py --reps 500 --out benchmarks/results/small_area.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from estimation import fay_herriot
from migsurvey.synthetic import synthetic_census
from surveycore import SurveyWarning

UNSAMPLED = 6


def population(seed: int, aux_noise: float):
    c = synthetic_census(400_000, seed=seed)
    p = c.persons
    fb = (p["country_birth"] != c.country).to_numpy()
    hh = (pd.DataFrame({"household_id": p["household_id"], "fb": fb})
          .groupby("household_id", sort=False)["fb"].agg(["sum", "size"]).reset_index())
    hh = hh.merge(c.households[["household_id", "district", "urban"]], on="household_id")
    truth = p.assign(fb=fb).groupby("district")["fb"].mean()
    urban = p["urban"].eq("urban").groupby(p["district"]).mean()
    rng = np.random.default_rng(seed + 100)
    earlier = np.sin(np.arcsin(np.sqrt(truth)) + rng.normal(0, aux_noise, len(truth))) ** 2
    pop = pd.DataFrame({"district": truth.index, "fb_earlier": earlier.to_numpy(),
                        "fb_earlier_asin": np.arcsin(np.sqrt(earlier.to_numpy())),
                        "urban_share": urban.loc[truth.index].to_numpy()})
    # leave the smallest districts out of the sample
    sizes = hh.groupby("district")["size"].sum().loc[truth.index]
    unsampled = set(sizes.sort_values().index[:UNSAMPLED])
    return hh, pop, truth, unsampled


def draw(hh, unsampled, n_h, rng):
    """Stratified SRSWOR of ``n_h`` households per sampled district; direct shares and
    linearised variances of the ratio estimator ``Σ fb / Σ persons`` (with fpc)."""
    keep = ~hh["district"].isin(unsampled).to_numpy()
    h = hh[keep]
    key = rng.random(len(h))
    order = np.lexsort((key, h["district"].to_numpy()))
    hs = h.iloc[order]
    rank = hs.groupby("district").cumcount().to_numpy()
    s = hs[rank < n_h]
    N = h.groupby("district").size()
    g = s.groupby("district")
    y, x = g["sum"].sum(), g["size"].sum()
    p = y / x
    z = s["sum"] - p.loc[s["district"]].to_numpy() * s["size"]
    s2 = z.groupby(s["district"]).var(ddof=1)
    xbar = x / n_h
    f = n_h / N.loc[p.index]
    v = (1 - f) * s2 / n_h / xbar ** 2
    return pd.DataFrame({"district": p.index, "p": p.to_numpy(), "v": v.to_numpy(),
                         "n": x.to_numpy()})


def run(reps: int, n_h: int, seed: int, aux_noise: float = 0.04) -> dict:
    hh, pop, truth, unsampled = population(seed, aux_noise)
    rng = np.random.default_rng(seed)
    configs = {
        "A_none_REML_analytic": dict(transformation="none", mse="analytic",
                                     auxiliaries=["fb_earlier", "urban_share"]),
        "B_arcsin_REML_bootstrap": dict(transformation="arcsin", mse="bootstrap",
                                        smoothing="all", replicates=200,
                                        auxiliaries=["fb_earlier_asin", "urban_share"]),
        "C_arcsin_REML_analytic_delta": dict(transformation="arcsin", mse="analytic",
                                             smoothing="all",
                                             auxiliaries=["fb_earlier_asin", "urban_share"]),
        "D_arcsin_REML_bootstrap_direct_variances": dict(
            transformation="arcsin", mse="bootstrap", smoothing="unstable", replicates=200,
            auxiliaries=["fb_earlier_asin", "urban_share"]),
    }
    D = len(pop)
    store = {k: {"est": np.zeros((reps, D)), "mse": np.zeros((reps, D)),
                 "cover": np.zeros((reps, D)), "cv": np.zeros((reps, D)), "boundary": 0}
             for k in configs}
    direct = np.full((reps, D), np.nan)
    direct_cv = np.full((reps, D), np.nan)
    order = pop["district"].to_numpy()
    t0 = time.perf_counter()
    for r in range(reps):
        sample = draw(hh, unsampled, n_h, rng)
        pos = pd.Index(order).get_indexer(sample["district"])
        direct[r, pos] = sample["p"]
        with np.errstate(divide="ignore", invalid="ignore"):
            direct_cv[r, pos] = np.sqrt(sample["v"]) / sample["p"]
        for k, opts in configs.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SurveyWarning)
                fh = fay_herriot(sample, "p", "v", area="district", population=pop, n="n",
                                 seed=int(rng.integers(2**31)), **opts)
            t = fh.table
            tv = truth.loc[t["area"]].to_numpy()
            st = store[k]
            st["est"][r] = t["eblup"]
            st["mse"][r] = t["mse"]
            st["cv"][r] = t["cv"]
            st["cover"][r] = (t["ci_low"] <= tv) & (tv <= t["ci_high"])
            st["boundary"] += int(fh.boundary)
    seconds = time.perf_counter() - t0
    tv = truth.loc[order].to_numpy()
    sampled = ~pop["district"].isin(unsampled).to_numpy()
    emp_direct = np.nanmean((direct[:, sampled] - tv[sampled]) ** 2, axis=0)
    out = {"reps": reps, "households_per_district": n_h, "aux_noise": aux_noise, "districts": D,
           "sampled_districts": int(sampled.sum()), "seconds": round(seconds, 1),
           "mean_true_share": float(tv.mean()),
           "direct": {"mean_true_cv": float(np.mean(np.sqrt(emp_direct) / tv[sampled])),
                      "median_estimated_cv": float(np.nanmedian(direct_cv[:, sampled]))},
           "configs": {}}
    for k, st in store.items():
        emp = np.mean((st["est"] - tv) ** 2, axis=0)
        rb = st["mse"].mean(axis=0) / emp - 1
        cov = st["cover"].mean(axis=0)
        res = {}
        for name, sel in (("sampled", sampled), ("unsampled", ~sampled)):
            res[name] = {
                "mse_relative_bias_mean": float(np.mean(rb[sel])),
                "mse_relative_bias_mean_abs": float(np.mean(np.abs(rb[sel]))),
                "mse_ratio_of_averages": float(st["mse"][:, sel].mean() / emp[sel].mean()),
                "coverage_95_mean": float(np.mean(cov[sel])),
                "coverage_95_min": float(np.min(cov[sel])),
                "mean_true_cv": float(np.mean(np.sqrt(emp[sel]) / tv[sel])),
                # median over samples and districts: an estimate of 0 has an infinite CV
                "median_estimated_cv": float(np.nanmedian(st["cv"][:, sel])),
            }
        res["share_of_district_samples_eblup_cv_below_direct_cv"] = float(np.nanmean(
            st["cv"][:, sampled] < direct_cv[:, sampled]))
        res["boundary_fits"] = st["boundary"]
        out["configs"][k] = res
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--households", type=int, default=25)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--aux-noise", type=float, default=0.04,
                    help="SD of the earlier share's departure from the truth (arcsine scale)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    res = run(a.reps, a.households, a.seed, a.aux_noise)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
