"""Estimation speed: tasks a and b of the shared workload, and a 2,000-domain grid.

Usage (from the repository root)::

    python benchmarks/bench_estimation.py [--peers] [--grid-rows 10000000]

Task a: Taylor SE of the weighted mean of ``y`` (strata, PSUs, weights); task b: the same in the
20 domains of ``dom``. Seconds exclude data loading and design declaration, as the peers'
scripts do (the declaration is timed separately). With ``--peers`` R survey and svy run right
after, on the same machine, and the ratios are printed. The grid task builds a 10,000,000-row
frame with four domain variables (2 × 5 × 10 × 20 = 2,000 domains) and times mean and SE of
``y`` in every domain, with the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from estimation import SurveyDesign  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def shared_tasks() -> dict:
    df = pd.read_parquet(ROOT / "bench-data" / "synth.parquet")
    t0 = time.perf_counter()
    d = SurveyDesign(df, ids="psu", strata="stratum", weights="w", nest=True)
    declare = time.perf_counter() - t0
    a = d.mean("y")
    return {
        "declare_seconds": declare,
        "a": {"seconds": best_of(lambda: d.mean("y")), "estimate": float(a["estimate"][0]), "se": float(a["se"][0])},
        "b": {"seconds": best_of(lambda: d.mean("y", by="dom")), "n_domains": int(len(d.mean("y", by="dom")))},
    }


def grid(rows: int) -> dict:
    rng = np.random.default_rng(7)
    n_psu = 20_000
    psu = np.sort(rng.integers(0, n_psu, rows))
    frame = pd.DataFrame(
        {
            "stratum": psu // 200,
            "psu": psu,
            "w": rng.uniform(50, 150, rows),
            "y": rng.normal(50, 10, rows),
            "sex": rng.integers(0, 2, rows),
            "age": rng.integers(0, 5, rows),
            "region": rng.integers(0, 10, rows),
            "country": rng.integers(0, 20, rows),
        }
    )
    t0 = time.perf_counter()
    d = SurveyDesign(frame, ids="psu", strata="stratum", weights="w", nest=True)
    declare = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = d.mean("y", by=["sex", "age", "region", "country"])
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "domains": int(len(out)), "declare_seconds": declare, "seconds": seconds, "peak_rss_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", action="store_true", help="also time R survey and svy (same machine, right after)")
    parser.add_argument("--grid-rows", type=int, default=10_000_000)
    parser.add_argument("--no-grid", action="store_true")
    args = parser.parse_args()
    result = {"migsurvey": shared_tasks()}
    print(json.dumps(result["migsurvey"]), flush=True)
    if args.peers:
        from peers import peer_memory

        for task in ("a", "b"):
            for name in ("R survey", "svy"):
                r = peer_memory(name, task)
                result.setdefault("peers", []).append(r)
                if "seconds" in r:
                    r["ratio"] = r["seconds"] / result["migsurvey"][task]["seconds"]
                print(json.dumps(r), flush=True)
    if not args.no_grid:
        result["grid"] = grid(args.grid_rows)
        print(json.dumps(result["grid"]), flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "estimation.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
