"""Run every speed benchmark and its peers one after the other; write a summary table.

Usage (repository root, after ``python ../shared/bench/make_bench_data.py bench-data``)::

    python benchmarks/run_all.py

Runs, in sequence on the same machine: tasks a, b (and the 2,000-domain grid) with R survey and
svy; task d (100 bootstrap replicates) with both peers and peak memory; task c (raking) with
both peers, linear calibration with 50 auxiliaries and 100 re-raked bootstrap replicates; the
full user path ``SurveyDesign(weights=raked).replicate("bootstrap", replicates=100).mean("y")``;
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

from peers import DATA, peer_memory  # noqa: E402


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
    rows = []
    est = run_json(["benchmarks/bench_estimation.py"])
    ours = est[0]
    for task in ("a", "b"):
        peers = {p["pkg"]: p for p in (peer_memory(n, task) for n in ("R survey", "svy"))}
        rows.append({"task": task, "migsurvey": ours[task]["seconds"], **{k: v.get("seconds") for k, v in peers.items()}})
    grid = est[1]
    rows.append({"task": "grid 10M rows x 2,000 domains", "migsurvey": grid["seconds"], "peak_rss_mib": grid["peak_rss_mib"]})
    d = run_json(["benchmarks/bench_estimation_replicates.py", "bench-data", "3"])
    best = min(d, key=lambda r: r["seconds"])
    peers = {p["pkg"]: p for p in (peer_memory(n, "d") for n in ("R survey", "svy"))}
    rows.append({"task": "d", "migsurvey": best["seconds"], "peak_rss_mib": best.get("peak_rss_mib"),
                 **{k: v.get("seconds") for k, v in peers.items()},
                 **{f"{k} rss_mib": v.get("max_rss_mib") for k, v in peers.items()}})
    wt = {r["task"]: r for r in run_json(["benchmarks/bench_weighting.py", "bench-data", "--task", "all"])}
    peers = {p["pkg"]: p for p in (peer_memory(n, "c") for n in ("R survey", "svy"))}
    rows.append({"task": "c", "migsurvey": wt["c"]["seconds"], **{k: v.get("seconds") for k, v in peers.items()}})
    for key in ("linear50", "boot100"):
        if key in wt:
            rows.append({"task": key, "migsurvey": wt[key]["seconds"]})
    e2e = end_to_end()
    rows.append({"task": e2e["task"], "migsurvey": e2e["seconds"]})
    samp = subprocess.run([sys.executable, "benchmarks/bench_sampling.py"], capture_output=True, text=True, cwd=ROOT)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"rows": rows, "sampling": samp.stdout}, indent=2))
    print("| task | migsurvey s | R survey s | svy s | R / migsurvey | svy / migsurvey |")
    print("|---|---|---|---|---|---|")
    def ratio(peer_seconds, ours_seconds):
        return f"{peer_seconds / ours_seconds:.0f}×" if peer_seconds and ours_seconds else ""

    for r in rows:
        m, rs, sv = r.get("migsurvey"), r.get("R survey"), r.get("svy")
        print(f"| {r['task']} | {m:.3f} | {rs or ''} | {sv or ''} | {ratio(rs, m)} | {ratio(sv, m)} |")
    print(json.dumps(rows, indent=1))
    print(samp.stdout)


if __name__ == "__main__":
    main()
