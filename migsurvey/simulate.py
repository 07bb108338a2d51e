"""Design-based simulation: repeat selection → fieldwork → weighting → estimation on a census.

The census is the finite population, so every indicator has a known value θ. Each
repetition r draws a new sample and new nonresponse (seed ``seed + r``), runs the whole
pipeline and keeps each estimate θ̂_r, its estimated standard error ŝ_r and its confidence
interval. Over R repetitions, per indicator, measure and domain:

* relative bias        RB = (R⁻¹ Σ_r θ̂_r − θ) / θ
* empirical SE         SE_emp = √( (R−1)⁻¹ Σ_r (θ̂_r − θ̄)² )
* mean estimated SE    SE_est = R⁻¹ Σ_r ŝ_r,  and the ratio SE_est / SE_emp
* coverage             C = R⁻¹ Σ_r 1[ci_low_r ≤ θ ≤ ci_high_r], with Monte-Carlo SE
                       √(C(1−C)/R)

(design-based simulation as in Särndal, Swensson & Wretman 1992, §7.10; Lumley 2010, ch. 1.)

The population values θ are computed from the census with the definitions of the
estimation layer's indicator registry: for a measure with numerator y, denominator x
(1 if none), universe U and multiplier m, θ_d = m Σ_{U∩d} y / Σ_{U∩d} x for ratios and
Σ_{U∩d} y for totals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from migsurvey.inputs import PersonCensus
from migsurvey.pipeline import (
    HOUSEHOLD_INDICATORS,
    INDICATOR_VARIABLES,
    TOTAL,
    check_indicator_inputs,
    derive_persons,
    household_frame,
    load_census,
    run_survey,
)
from migsurvey.synthetic import Census, ParquetCensus
from surveycore import SurveyError

KEY = ["indicator", "measure"]


@dataclass
class SimulationResult:
    """Per-repetition estimates and the summary table of a simulation."""

    summary: pd.DataFrame
    estimates: pd.DataFrame
    truth: pd.DataFrame
    reps: int
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    spec: dict = field(default_factory=dict)


def population_values(census: Census | PersonCensus, spec: dict) -> pd.DataFrame:
    """True indicator values of the census for every measure and domain of ``spec``."""
    from estimation.indicators import resolve_indicators

    persons = derive_persons(census.persons, spec)
    hh = census.households.assign(
        stratum="", responded=True)
    households = household_frame(hh, getattr(census, "emigrants", None), spec)
    dims = list(dict.fromkeys(c for g in spec["estimation"]["by"] for c in g))
    rows = []
    for ind in resolve_indicators(spec["estimation"]["indicators"], variables=INDICATOR_VARIABLES):
        data = households if ind.code in HOUSEHOLD_INDICATORS else persons
        _census_knows(spec, ind.code, data,
                      "census household" if ind.code in HOUSEHOLD_INDICATORS else "census person")
        for m in ind.measures:
            y = data[m.numerator].to_numpy(float)
            x = np.ones(len(data)) if m.denominator is None else data[m.denominator].to_numpy(float)
            u = np.ones(len(data)) if m.universe is None else data[m.universe].to_numpy(float)
            for grouping in spec["estimation"]["by"]:
                if any(c not in data.columns for c in grouping):
                    continue
                if grouping:
                    codes, levels = pd.MultiIndex.from_frame(data[grouping].astype(str)).factorize()
                else:
                    codes, levels = np.zeros(len(data), dtype=np.int64), [()]
                num = np.bincount(codes, weights=u * y, minlength=len(levels))
                den = np.bincount(codes, weights=u * x, minlength=len(levels))
                val = num if m.kind == "total" else m.multiplier * num / np.where(den > 0, den, np.nan)
                for k, lev in enumerate(levels):
                    lev = lev if isinstance(lev, tuple) else (lev,)
                    row = {"indicator": ind.code, "measure": m.name, **dict.fromkeys(dims, TOTAL)}
                    row.update(dict(zip(grouping, lev, strict=True)))
                    row["truth"] = float(val[k])
                    rows.append(row)
    return pd.DataFrame(rows)


def _census_knows(spec: dict, code: str, data: pd.DataFrame, unit: str) -> None:
    """Refuse an indicator whose population value the census cannot give (a question the
    census lacks, or unknown answers): its bias and coverage would have no truth to compare
    with, and the simulated interviews would lack the same answers."""
    from migsurvey.spec import spec_error

    try:
        check_indicator_inputs(code, data, unit=unit)
    except SurveyError as exc:
        i = spec["estimation"]["indicators"].index(code)
        raise spec_error(
            spec, f"estimation.indicators[{i}]",
            f"the simulation cannot compute the census value of {code}: "
            + exc.message.replace(f"{code} cannot be estimated: ", "")
            .replace("the interviews lack", "the census lacks")
            .replace("not in the interviews", "not in the census"),
            exc.expected or "", exc.found or "",
            ("impute the unknown answers in the census file, or " if "unknown" in exc.message
             else "map the census columns that answer the missing questions in columns:, or ")
            + "simulate only the indicators the census can compute (estimation.indicators)") from None


def _fieldwork_inputs(census: Census | PersonCensus, spec: dict) -> None:
    """Refuse, before any repetition, a response model that reads a column the census lacks
    (the urban/rural status of :func:`migsurvey.fieldwork.response_propensity`)."""
    from migsurvey.spec import spec_error

    urban = spec["fieldwork"]["response"]["urban"]
    if urban != 1 and "urban" not in census.households.columns:
        raise spec_error(spec, "fieldwork.response.urban",
                         "the simulated response differs between urban and rural EAs, and the "
                         "census has no urban/rural column",
                         "a census column mapped as urban (values urban, rural), or "
                         "fieldwork.response.urban: 1",
                         f"fieldwork.response.urban: {urban:g}; census columns "
                         + ", ".join(map(str, census.households.columns[:10])),
                         hint="map the census's urban/rural column with columns: "
                              "{urban: YOUR_COLUMN}, or set fieldwork.response.urban: 1 "
                              "(no urban/rural difference in response)")


def _in_memory(census: Any) -> Census | PersonCensus:
    """The census with every person in memory: the population values are computed on all of
    them. A synthetic census folder is read whole; an office's census read into memory
    (:class:`~migsurvey.inputs.PersonCensus`) is used as it is; a census read lazily through
    DuckDB (larger than :data:`migsurvey.inputs.LAZY_CENSUS_BYTES`) is refused."""
    if isinstance(census, ParquetCensus):
        return census.load()
    if isinstance(census, Census | PersonCensus):
        return census
    raise SurveyError("the simulation needs the whole census in memory, and this census is "
                      "read lazily", argument="frame.census",
                      expected="a census file read into memory (a CSV or Parquet file below "
                               "500 MiB, Stata, SPSS or Excel) or a synthetic census",
                      found=f"{type(census).__name__} (a large file, a Parquet dataset or a "
                            "DuckDB table)",
                      hint="simulate on a sample of the census's EAs written to one Parquet "
                           "file, or on a synthetic census of the same design")


_WORKER: dict = {}


def _init_worker(census: Census, spec: dict) -> None:
    _WORKER["census"], _WORKER["spec"] = census, spec


def _one(args: tuple[int, int]) -> tuple[int, pd.DataFrame | None, str]:
    rep, seed = args
    census, spec = _WORKER["census"], _WORKER["spec"]
    try:
        run = run_survey(spec, census=census, seed=seed)
    except SurveyError as exc:
        return rep, None, f"repetition {rep}: {exc.message}"
    t = run.indicators
    dims = list(dict.fromkeys(c for g in spec["estimation"]["by"] for c in g))
    cols = [*KEY, *dims, "estimate", "se", "ci_low", "ci_high"]
    return rep, t[[c for c in cols if c in t.columns]].assign(rep=rep), ""


def simulate(spec: dict, *, reps: int = 100, seed: int = 1, workers: int = 1,
             census: Census | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Run ``reps`` repetitions of the survey of ``spec`` on its census.

    Parameters
    ----------
    spec : dict
        Checked specification; its census is the population.
    reps : int
        Number of repetitions (≥ 2).
    seed : int
        Repetition ``r`` uses seed ``seed + r`` for selection and fieldwork.
    workers : int
        Processes to use (repetitions are independent).
    census : Census, optional
        Reuse a census in memory.
    progress : callable, optional
        ``progress(done, total)`` after each repetition.
    """
    if not isinstance(reps, int) or reps < 2:
        raise SurveyError("a simulation needs at least 2 repetitions", argument="reps",
                          expected="an integer >= 2", found=repr(reps))
    t0 = time.perf_counter()
    census = census if census is not None else load_census(spec)
    census = _in_memory(census)
    truth = population_values(census, spec)
    _fieldwork_inputs(census, spec)
    jobs = [(r, seed + r) for r in range(reps)]
    frames, failures = [], []
    if workers <= 1:
        _init_worker(census, spec)
        results = map(_one, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(census, spec))
        results = pool.map(_one, jobs, chunksize=4)
    try:
        for done, (_rep, frame, err) in enumerate(results, start=1):
            if frame is None:
                failures.append(err)
            else:
                frames.append(frame)
            if progress is not None:
                progress(done, reps)
    finally:
        if pool is not None:
            pool.shutdown()
        _WORKER.clear()
    if not frames:
        raise SurveyError("every repetition failed", argument="spec",
                          expected="a design that can be selected and weighted",
                          found=failures[0] if failures else "no repetitions")
    est = pd.concat(frames, ignore_index=True)
    summary = summarise(est, truth, spec)
    return SimulationResult(summary=summary, estimates=est, truth=truth, reps=reps,
                            failures=failures, seconds=time.perf_counter() - t0, spec=spec)


def summarise(estimates: pd.DataFrame, truth: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Relative bias, empirical and estimated SE, and CI coverage per measure and domain."""
    dims = [c for c in dict.fromkeys(c for g in spec["estimation"]["by"] for c in g)
            if c in estimates.columns]
    keys = [*KEY, *dims]
    e = estimates.copy()
    for c in dims:
        e[c] = e[c].astype(str)
    t = truth.copy()
    for c in dims:
        t[c] = t[c].astype(str)
    e = e.merge(t, on=keys, how="left")
    covered = ((e["ci_low"] <= e["truth"]) & (e["truth"] <= e["ci_high"])).astype(float)
    e["covered"] = covered.where(e[["ci_low", "ci_high"]].notna().all(axis=1))
    s = coverage_statistics(e, keys)
    return s[[*keys, "truth", "reps", "mean_estimate", "relative_bias", "empirical_se",
              "mean_estimated_se", "se_ratio", "coverage", "coverage_mc_se"]]


SIMULATION_FILES = ("summary.csv", "estimates.parquet", "summary.md")
"""The files :func:`write_simulation` writes into its folder."""


def write_simulation(result: SimulationResult, out: Path) -> list[Path]:
    """Write ``summary.csv``, ``estimates.parquet`` and ``summary.md`` (a Markdown table)."""
    out.mkdir(parents=True, exist_ok=True)
    p1 = out / "summary.csv"
    result.summary.to_csv(p1, index=False)
    p2 = out / "estimates.parquet"
    est = result.estimates.copy()
    for c in [c for c in est.columns if est[c].dtype == object]:  # levels beside "_T"
        est[c] = est[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    est.to_parquet(p2, index=False)
    p3 = out / "summary.md"
    p3.write_text(markdown_summary(result), encoding="utf-8")
    return [p1, p2, p3]


def markdown_summary(result: SimulationResult, rows: pd.DataFrame | None = None) -> str:
    """A Markdown table of the summary (all rows, or ``rows``)."""
    s = result.summary if rows is None else rows
    dims = [c for c in s.columns if c not in (*KEY, "truth", "reps", "mean_estimate",
                                              "relative_bias", "empirical_se",
                                              "mean_estimated_se", "se_ratio", "coverage",
                                              "coverage_mc_se")]
    head = ["indicator", "measure", "domain", "θ", "R", "rel. bias", "SE emp.", "SE est.",
            "ratio", "coverage", "MC SE"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in s.iterrows():
        dom = ", ".join(f"{c}={r[c]}" for c in dims if str(r[c]) != TOTAL) or "total"
        lines.append("| " + " | ".join([
            str(r["indicator"]), str(r["measure"]), dom, f"{r['truth']:.4g}", f"{r['reps']}",
            f"{100 * r['relative_bias']:+.2f} %", f"{r['empirical_se']:.4g}",
            f"{r['mean_estimated_se']:.4g}", f"{r['se_ratio']:.3f}",
            f"{100 * r['coverage']:.1f} %", f"{100 * r['coverage_mc_se']:.1f} %"]) + " |")
    return "\n".join(lines) + "\n"


def coverage_statistics(e: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of ``keys``: truth, repetitions, mean estimate, empirical and mean estimated SE,
    coverage (mean of ``covered``), relative bias, SE ratio and the Monte-Carlo SE of coverage
    :math:`\\sqrt{c(1-c)/R}`, from one row per repetition with ``estimate, se, truth, covered``."""
    g = e.groupby(keys, sort=False)
    s = pd.DataFrame({
        "truth": g["truth"].first(),
        "reps": g["estimate"].count(),
        "mean_estimate": g["estimate"].mean(),
        "empirical_se": g["estimate"].std(ddof=1),
        "mean_estimated_se": g["se"].mean(),
        "coverage": g["covered"].mean(),
    }).reset_index()
    s["relative_bias"] = (s["mean_estimate"] - s["truth"]) / s["truth"]
    s["se_ratio"] = s["mean_estimated_se"] / s["empirical_se"]
    s["coverage_mc_se"] = np.sqrt(s["coverage"] * (1 - s["coverage"]) / s["reps"])
    return s

