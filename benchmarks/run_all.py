"""Run every speed benchmark and its peers one after the other; write a summary table.

Usage (repository root, after ``python ../shared/bench/make_bench_data.py bench-data``)::

    python benchmarks/run_all.py

Runs, in sequence on the same machine: the shared tasks a–d with the design declaration
included and reported separately, each by migsurvey, svy and R survey one after the other with
peak memory (:mod:`bench_shared_tasks`); the 2,000-domain grid; linear calibration with 50
auxiliaries and 100 re-raked bootstrap replicates; the full user path ``SurveyDesign(weights=raked).replicate("bootstrap", replicates=100).mean("y")``;
and the sampling timings. Writes ``benchmarks/results/summary.json`` and prints a Markdown table
of seconds and ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from peers import DATA  # noqa: E402


def run_json(args: list[str]) -> list[dict]:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return [json.loads(ln) for ln in out.stdout.splitlines() if ln.startswith("{")]


def end_to_end() -> dict:
    """Rake to four margins, then 100 bootstrap replicates each re-raked, and the mean's SE."""
    import pandas as pd

    from estimation import SurveyDesign
    from weighting import Weights

    df = pd.read_parquet(DATA / "synth.parquet")
    margins = json.loads((DATA / "margins.json").read_text())["margins"]
    t0 = time.perf_counter()
    w = Weights(df, "w").rake(margins, tol=1e-6, max_iter=100)
    d = SurveyDesign(df, ids="psu", strata="stratum", weights=w, nest=True)
    r = d.replicate("bootstrap", replicates=100, seed=1).mean("y")
    return {"task": "rake + 100 re-raked bootstrap replicates + SE", "seconds": time.perf_counter() - t0, "se": float(r["se"][0])}


def main() -> None:
    from bench_shared_tasks import run_task, table

    shared = []
    for task in ("a", "b", "c", "d"):  # design + task; migsurvey, svy, R survey one after the other
        shared.append(run_task(task, repeats=2))
        print(json.dumps(shared[-1]), flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "shared_tasks.json").write_text(json.dumps(shared, indent=2))  # as bench_shared_tasks writes it
    rows = [{"task": r["task"], "migsurvey": r["migsurvey"].get("seconds"),
             "migsurvey design": r["migsurvey"].get("design_seconds"),
             "R survey": r["R survey"].get("seconds"), "svy": r["svy"].get("seconds"),
             "peak_rss_mib": r["migsurvey"].get("peak_rss_mib"),
             "svy rss_mib": r["svy"].get("peak_rss_mib"), "R survey rss_mib": r["R survey"].get("peak_rss_mib")}
            for r in shared]
    est = run_json(["benchmarks/bench_estimation.py"])
    grid = est[1]
    rows.append({"task": "grid 10M rows x 2,000 domains", "migsurvey": grid["seconds"], "peak_rss_mib": grid["peak_rss_mib"]})
    wt = {r["task"]: r for r in run_json(["benchmarks/bench_weighting.py", "bench-data", "--task", "all"])}
    for key in ("linear50", "boot100"):
        if key in wt:
            rows.append({"task": key, "migsurvey": wt[key]["seconds"]})
    e2e = end_to_end()
    rows.append({"task": e2e["task"], "migsurvey": e2e["seconds"]})
    samp = subprocess.run([sys.executable, "benchmarks/bench_sampling.py"], capture_output=True, text=True, cwd=ROOT)
    (out / "summary.json").write_text(json.dumps({"rows": rows, "sampling": samp.stdout}, indent=2))
    print(table(shared))
    print()
    for r in rows[len(shared):]:
        print(f"| {r['task']} | {r['migsurvey']:.3f} |")
    print(json.dumps(rows, indent=1))
    print(samp.stdout)


if __name__ == "__main__":
    main()
