"""Design declaration and the SE of a mean from 10⁴ to 10⁷ rows, and a 2,000-domain grid on 10⁷ rows.

Usage (from the repository root)::

    python benchmarks/bench_design_scale.py [--sizes 10000 100000 1000000 10000000] [--no-peer] [--no-grid]

Workload: a two-stage design with finite population corrections at both stages (strata, PSUs
with ``fpc1`` = 400 PSUs per stratum, SSUs with ``fpc2`` = 40 SSUs per PSU), about 200 rows per
PSU and 100 sampled PSUs per stratum (10⁷ rows: 500 strata, 50,000 PSUs, 500,000 SSUs), weights
and an outcome ``y``. For each size one process runs migsurvey and, right after it on the same
machine, one runs ``svy`` (its own virtual environment, ``SVY_PYTHON``, default
``/tmp/svyenv/bin/python``). Each process builds the same data from the same seed (not timed),
then times the design's declaration and the Taylor SE of the mean of ``y`` (wall and CPU
seconds); it reports its peak resident memory (``resource.getrusage``) and the memory held once
the data were built. BLAS is single-threaded in every process.

The grid: on the 10⁷-row design, means and totals of ``y`` with SEs in the 2 × 5 × 10 × 20 =
2,000 cells of four ``by`` variables (the first mean also codes the cells and, when
calibrated, prepares the calibration record; the mean is timed again after the total), with the sampling weights and with weights calibrated
(linear) to the margins of the four variables; one process per case (goal: under 10 s and 6 GB).
Results go to ``benchmarks/results/design_scale.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SVY_PYTHON = os.environ.get("SVY_PYTHON") or (
    sys.executable if importlib.util.find_spec("svy") else "/tmp/svyenv/bin/python"
)
# single-threaded BLAS in every process: on a shared, loaded machine a multi-threaded BLAS
# spins and makes small products hundreds of times slower
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
GRID = ["sex", "age", "region", "country"]


def make_data(rows: int) -> dict[str, np.ndarray]:
    """Columns of the two-stage workload (the same arrays for every package)."""
    rng = np.random.default_rng(20261201)
    n_psu = max(rows // 200, 20)
    n_strata = max(n_psu // 100, 2)
    psu = np.sort(rng.integers(0, n_psu, rows))
    stratum = psu * n_strata // n_psu
    ssu = psu * 10 + rng.integers(0, 10, rows)
    return {
        "stratum": stratum,
        "psu": psu,
        "ssu": ssu,
        "fpc1": np.full(rows, 400.0),
        "fpc2": np.full(rows, 40.0),
        "w": rng.uniform(50, 150, rows),
        "y": rng.normal(50, 10, rows),
        "sex": rng.integers(0, 2, rows),
        "age": rng.integers(0, 5, rows),
        "region": rng.integers(0, 10, rows),
        "country": rng.integers(0, 20, rows),
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ours(rows: int) -> dict:
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from estimation import SurveyDesign

    df = pd.DataFrame(make_data(rows), copy=False)
    loaded = _rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    d = SurveyDesign(df, ids=["psu", "ssu"], strata="stratum", fpc=["fpc1", "fpc2"], weights="w")
    design, design_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    r = d.mean("y")
    se, se_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"pkg": "migsurvey", "rows": rows, "design_seconds": design, "se_seconds": se,
            "design_cpu_seconds": design_cpu, "se_cpu_seconds": se_cpu,
            "estimate": float(r["estimate"].iloc[0]), "se": float(r["se"].iloc[0]),
            "data_rss_mib": loaded, "peak_rss_mib": _rss_mib()}


def worker_svy(rows: int) -> dict:
    import polars as pl
    import svy

    df = pl.DataFrame(make_data(rows))
    loaded = _rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    s = svy.Sample(df, svy.Design(stratum="stratum", psu="psu", ssu="ssu", wgt="w",
                                  pop_size=svy.PopSize(psu="fpc1", ssu="fpc2")))
    design, design_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    r = s.estimation.mean("y").to_polars()
    se, se_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"pkg": "svy", "rows": rows, "design_seconds": design, "se_seconds": se,
            "design_cpu_seconds": design_cpu, "se_cpu_seconds": se_cpu,
            "estimate": float(r["est"][0]), "se": float(r["se"][0]),
            "data_rss_mib": loaded, "peak_rss_mib": _rss_mib()}


def worker_grid(rows: int, calibrated: bool) -> dict:
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from estimation import SurveyDesign
    from weighting import Weights

    df = pd.DataFrame(make_data(rows), copy=False)
    loaded = _rss_mib()
    out = {"pkg": "migsurvey", "rows": rows, "calibrated": calibrated}
    weights = "w"
    if calibrated:
        t0 = time.perf_counter()
        sums = {v: df.groupby(v)["w"].sum() for v in GRID}
        targets = {v: {k: float(t) * (1.0 + 0.02 * (i % 3 - 1)) for i, (k, t) in enumerate(s.items())} for v, s in sums.items()}
        total = sum(targets["sex"].values())
        for v in GRID[1:]:  # the same population total on every margin
            scale = total / sum(targets[v].values())
            targets[v] = {k: t * scale for k, t in targets[v].items()}
        weights = Weights(df, "w").calibrate(targets)
        out["calibration_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    d = SurveyDesign(df, ids=["psu", "ssu"], strata="stratum", fpc=["fpc1", "fpc2"], weights=weights)
    out["design_seconds"] = time.perf_counter() - t0
    for name, fn in (("mean", lambda: d.mean("y", by=GRID)), ("total", lambda: d.total("y", by=GRID)),
                     ("mean_again", lambda: d.mean("y", by=GRID))):
        t0, c0 = time.perf_counter(), time.process_time()
        m = fn()
        out[f"{name}_seconds"], out[f"{name}_cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    out.update(domains=int(len(m)), data_rss_mib=loaded, peak_rss_mib=_rss_mib())
    return out


def _spawn(python: str, args: list[str]) -> dict:
    cmd = [python, str(Path(__file__).resolve()), *args]
    load = os.getloadavg()[0]  # the machine's load average (1 min) when the process starts
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=True, env=ENV)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        return {"error": str(err)[-400:]}
    out = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    out["load_average"] = load
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("--grid-rows", type=int, default=10_000_000)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-grid", action="store_true")
    parser.add_argument("--worker", choices=["ours", "svy", "grid", "grid-calibrated"], help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run = {"ours": lambda: worker_ours(args.rows), "svy": lambda: worker_svy(args.rows),
               "grid": lambda: worker_grid(args.rows, False), "grid-calibrated": lambda: worker_grid(args.rows, True)}
        print(json.dumps(run[args.worker]()))
        return
    results: dict = {"scale": [], "grid": []}
    for rows in args.sizes:
        ours = _spawn(sys.executable, ["--worker", "ours", "--rows", str(rows)])
        print(json.dumps(ours), flush=True)
        row = {"rows": rows, "migsurvey": ours}
        if not args.no_peer:
            peer = _spawn(SVY_PYTHON, ["--worker", "svy", "--rows", str(rows)])
            print(json.dumps(peer), flush=True)
            row["svy"] = peer
            if "error" not in ours and "error" not in peer:
                t_ours = ours["design_seconds"] + ours["se_seconds"]
                t_peer = peer["design_seconds"] + peer["se_seconds"]
                row["time_ratio_svy_over_ours"] = t_peer / t_ours
                row["memory_ratio_svy_over_ours"] = peer["peak_rss_mib"] / ours["peak_rss_mib"]
                print(json.dumps({k: row[k] for k in ("rows", "time_ratio_svy_over_ours", "memory_ratio_svy_over_ours")}), flush=True)
        results["scale"].append(row)
    if not args.no_grid:
        for kind in ("grid", "grid-calibrated"):
            g = _spawn(sys.executable, ["--worker", kind, "--rows", str(args.grid_rows)])
            print(json.dumps(g), flush=True)
            results["grid"].append(g)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "design_scale.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
