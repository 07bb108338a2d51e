"""Design-based simulation of the demo survey: coverage of the 95 % intervals of MI 1.1.

The population is the demo's synthetic census (1,000,000 persons). Every repetition runs the
demo's selection (160 EAs by Sampford's πps method within 24 region × prevalence strata;
listing, screening and 12 + 4 households per EA), its simulated fieldwork (differential
household nonresponse) and its **whole weighting chain as one** :class:`weighting.Weights` —
household nonresponse adjustment within urban × screening classes, ``expand`` to the
persons, integrated raking calibration to the census counts by region, sex and age group —
then estimates MI 1.1 (count and share of foreign-born residents) nationally and by sex,
urban/rural and region on the pipeline's person design
(:func:`migsurvey.pipeline.indicator_designs`) with Taylor linearisation, exactly as
``indicator_table`` does in the pipeline (``total`` and ``mean × 100``; log intervals for
counts, logit intervals for shares, t critical values on the domain's design degrees of
freedom). The variance includes the nonresponse adjustment (:mod:`weighting.linearisation`)
and every domain's scores are residualised against the calibration.

Per measure and domain, over R repetitions: relative bias, empirical SE, mean estimated SE,
their ratio and the coverage of the 95 % interval with its Monte-Carlo SE √(C(1−C)/R)
(Särndal, Swensson & Wretman 1992, §7.10).

The frame, the allocation and the derived variables of the census are built once (they do
not depend on the sample); the first repetition is checked against ``run_survey`` (the whole
pipeline), so the shortcut changes no number. Not part of the test suite::

    python benchmarks/simulate_coverage.py --reps 500 --workers 2 --out benchmarks/results/coverage
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from migsurvey.fieldwork import run_fieldwork
from migsurvey.pipeline import (
    INDICATOR_VARIABLES,
    allocate_sample,
    build_frame,
    derive_persons,
    indicator_designs,
    load_census,
    run_survey,
    select_sample,
    weight_sample,
)
from migsurvey.simulate import coverage_statistics
from migsurvey.spec import default_spec_text, parse_spec
from surveycore import SurveyError

BY = [[], ["sex"], ["urban"], ["region"]]
DIMS = ["sex", "urban", "region"]
TOTAL = "_T"
_STATE: dict = {}


def setup(persons: int, psu_method: str | None = None, psus: int | None = None) -> dict:
    """Census, frame, allocation and derived census persons (fixed across repetitions).

    ``psu_method`` replaces the demo's ``selection.psu.method`` and ``psus`` its number of
    EAs (to compare designs on the same census).
    """
    spec = parse_spec(default_spec_text(), source="demo.yaml")
    spec["frame"]["synthetic"]["persons"] = persons
    if psu_method is not None:
        spec["selection"]["psu"]["method"] = psu_method
    if psus is not None:
        spec["sample"]["psus"] = psus
    spec["estimation"]["by"] = BY
    spec["estimation"]["indicators"] = ["MI1.1"]
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    allocation = allocate_sample(frame, spec)
    derived = derive_persons(census.persons, spec)
    return {"spec": spec, "census": census, "frame": frame, "allocation": allocation,
            "persons": derived}


def mi11_measures():
    """The measures of MI 1.1 (count and share) as the indicator registry defines them."""
    from estimation.indicators import resolve_indicators

    return resolve_indicators(["MI1.1"], variables=INDICATOR_VARIABLES)[0].measures


def truth(derived: pd.DataFrame) -> pd.DataFrame:
    """Census values of the MI 1.1 count and share, nationally and in every domain."""
    rows = []
    for m in mi11_measures():
        u = np.ones(len(derived)) if m.universe is None else derived[m.universe].to_numpy(float)
        y = derived[m.numerator].to_numpy(float) * u
        x = u if m.denominator is None else derived[m.denominator].to_numpy(float) * u
        for g in BY:
            keys = derived[g[0]].astype(str) if g else pd.Series(TOTAL, index=derived.index)
            num = pd.Series(y, index=derived.index).groupby(keys).sum()
            den = pd.Series(x, index=derived.index).groupby(keys).sum()
            for lev in num.index:
                dom = {c: TOTAL for c in DIMS}
                if g:
                    dom[g[0]] = lev
                val = num[lev] if m.kind == "total" else m.multiplier * num[lev] / den[lev]
                rows.append({"measure": m.name, **dom, "truth": float(val)})
    return pd.DataFrame(rows)


def estimates(persons: pd.DataFrame, weights, spec: dict,
              selected: pd.DataFrame | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """MI 1.1 measures as ``indicator_table`` computes them in the pipeline: the person design
    of :func:`~migsurvey.pipeline.indicator_designs`, universe, total or mean, multiplier, and
    the published interval (log for counts, logit for shares, t on the domain's design df).
    Every row keeps the domain's design degrees of freedom (``df``), so that other interval
    rules can be judged on the same repetitions.
    """
    from estimation.indicators.table import bounded_interval

    est = spec["estimation"]
    d = indicator_designs(persons, None, weights, spec, selected=selected, frame=frame)["person"][0]
    out = []
    for m in mi11_measures():
        dm = d.subset(persons[m.universe].astype(bool).to_numpy()) if m.universe else d
        for g in BY:
            by = g or None
            kw = {"by": by, "level": est["level"], "df": "design"}
            if m.kind == "total":
                f = dm.total(m.numerator, **kw)
            elif m.denominator is None:
                f = dm.mean(m.numerator, **kw)
            else:
                f = dm.ratio(m.numerator, m.denominator, **kw)
            f = f.copy()
            for c in ("estimate", "se", "ci_low", "ci_high"):
                f[c] = f[c] * m.multiplier
            f = bounded_interval(f, m)
            for c in DIMS:
                f[c] = f[c].astype(str) if c in f.columns else TOTAL
            out.append(f.assign(measure=m.name)[["measure", *DIMS, "estimate", "se", "ci_low",
                                                 "ci_high", "df"]])
    return pd.concat(out, ignore_index=True)


def one(seed: int) -> pd.DataFrame | str:
    s = _STATE
    spec = s["spec"]
    rng = np.random.default_rng(seed)
    try:
        psus, selected = select_sample(s["frame"], s["allocation"], s["census"], spec, rng)
        persons = s["persons"].loc[s["persons"]["ea_id"].isin(psus["ea_id"])]
        fw = run_fieldwork(selected, persons, response=spec["fieldwork"]["response"], seed=rng)
        wt = weight_sample(fw.households, fw.persons, s["census"], spec)
        return estimates(wt.persons, wt.weights, spec, fw.households, s["frame"]).assign(seed=seed)
    except SurveyError as exc:
        return f"seed {seed}: {exc.message}"


def _init(state: dict) -> None:
    _STATE.update(state)


def check_against_pipeline(state: dict, seed: int) -> float:
    """Largest relative difference to ``run_survey``'s indicator table for one seed."""
    _init(state)
    mine = one(seed)
    run = run_survey(state["spec"], census=state["census"], seed=seed)
    t = run.indicators
    t = t[t["indicator"] == "MI1.1"].copy()
    for c in DIMS:
        t[c] = t[c].astype(str)
    m = mine.merge(t, on=["measure", *DIMS], suffixes=("", "_pipeline"))
    if len(m) != len(mine):
        raise RuntimeError("the pipeline's table lacks some domains of the simulation")
    rel = [np.max(np.abs(m[c] - m[c + "_pipeline"]) / np.abs(m[c + "_pipeline"]))
           for c in ("estimate", "se", "ci_low", "ci_high")]
    return float(max(rel))


def other_intervals(e: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Intervals of earlier rules from the same estimates, for comparison: the symmetric Wald
    interval with the normal critical value (R ``confint``'s default) and the bounded interval
    (log for counts, logit for shares) with the normal critical value."""
    from scipy import special, stats

    kinds = {m.name: (m.kind, m.multiplier) for m in mi11_measures()}
    z = stats.norm.ppf(0.975)
    est, se = e["estimate"].to_numpy(float), e["se"].to_numpy(float)
    prop = e["measure"].map(lambda n: kinds[n][0] == "proportion").to_numpy(bool)
    mult = e["measure"].map(lambda n: kinds[n][1]).to_numpy(float)
    p = np.clip(est / mult, 1e-12, 1 - 1e-12)
    sl = se / mult / (p * (1 - p))
    lp = special.logit(p)
    lo = np.where(prop, mult * special.expit(lp - z * sl), est * np.exp(-z * se / est))
    hi = np.where(prop, mult * special.expit(lp + z * sl), est * np.exp(z * se / est))
    return {"wald_normal": (est - z * se, est + z * se), "bounded_normal": (lo, hi)}


def summarise(est: pd.DataFrame, tr: pd.DataFrame) -> pd.DataFrame:
    """Coverage of the published interval per measure and domain, and for comparison of the
    symmetric normal (Wald) interval and of the bounded interval with normal critical values."""
    e = est.merge(tr, on=["measure", *DIMS], how="left")
    t = e["truth"]
    e["covered"] = ((e["ci_low"] <= t) & (t <= e["ci_high"])).astype(float)
    keys = ["measure", *DIMS]
    s = coverage_statistics(e, keys)
    extra = {c: e[c] for c in keys}
    for name, (lo, hi) in other_intervals(e).items():
        extra["coverage_" + name] = ((lo <= t) & (t <= hi)).astype(float)
    extra.update({"se2": e["se"] ** 2, "df": e["df"]})
    g = pd.DataFrame(extra).groupby(keys, sort=False).mean().reset_index()
    s = s.merge(g, on=keys, how="left")
    s["rms_se_ratio"] = np.sqrt(s.pop("se2")) / s["empirical_se"]
    return s


def markdown(s: pd.DataFrame) -> str:
    head = ["measure", "domain", "θ", "R", "rel. bias", "SE emp.", "SE est.", "ratio",
            "√mean v / SE emp.", "df", "coverage", "MC SE", "normal Wald", "normal bounded"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in s.iterrows():
        dom = ", ".join(f"{c}={r[c]}" for c in DIMS if r[c] != TOTAL) or "total"
        lines.append("| " + " | ".join([
            r["measure"], dom, f"{r['truth']:.4g}", f"{r['reps']}",
            f"{100 * r['relative_bias']:+.2f} %", f"{r['empirical_se']:.4g}",
            f"{r['mean_estimated_se']:.4g}", f"{r['se_ratio']:.3f}",
            f"{r['rms_se_ratio']:.3f}", f"{r['df']:.0f}",
            f"{100 * r['coverage']:.1f} %", f"{100 * r['coverage_mc_se']:.1f} %",
            f"{100 * r['coverage_wald_normal']:.1f} %",
            f"{100 * r['coverage_bounded_normal']:.1f} %"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=10_000)
    ap.add_argument("--out", default="benchmarks/results/coverage")
    ap.add_argument("--psu-method", default=None,
                    help="selection method of the EAs instead of the demo's")
    ap.add_argument("--psus", type=int, default=None, help="EAs instead of the demo's 160")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    state = setup(args.persons, args.psu_method, args.psus)
    t_setup = time.perf_counter() - t0
    diff = check_against_pipeline(state, args.seed)
    if diff > 1e-9:
        raise RuntimeError(f"the simulation differs from run_survey by {diff:.3g}")
    seeds = range(args.seed, args.seed + args.reps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tr = truth(state["persons"])
    t1 = time.perf_counter()
    frames, failures = [], []

    def write(done: int) -> pd.DataFrame:
        est = pd.concat(frames, ignore_index=True)
        est.to_csv(out / "estimates.csv.gz", index=False)  # every repetition, for re-analysis
        s = summarise(est, tr)
        s.to_csv(out / "summary.csv", index=False)
        (out / "summary.md").write_text(markdown(s), encoding="utf-8")
        meta = {"reps": done, "reps_requested": args.reps, "failures": failures,
                "persons": args.persons,
                "psu_method": state["spec"]["selection"]["psu"]["method"],
                "psus": state["spec"]["sample"]["psus"], "seeds": [args.seed, args.seed + done - 1],
                "workers": args.workers, "setup_seconds": round(t_setup, 1),
                "seconds": round(time.perf_counter() - t1, 1),
                "max_rel_difference_to_run_survey": diff,
                "python": sys.version.split()[0], "machine": platform.machine(),
                "numpy": np.__version__}
        (out / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return s

    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(state,)) as pool:
        for k, res in enumerate(pool.map(one, seeds, chunksize=4), start=1):
            (failures if isinstance(res, str) else frames).append(res)
            if k % 25 == 0 or k == args.reps:
                write(k)  # results so far survive an interrupted run
                print(f"{k}/{args.reps} {time.perf_counter() - t1:.0f} s", flush=True)
    s = write(args.reps)
    print(markdown(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
