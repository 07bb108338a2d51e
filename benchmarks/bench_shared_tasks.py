"""Shared tasks a–d with the design declaration included, against svy and R survey.

Usage (from the repository root, after ``python ../shared/bench/make_bench_data.py bench-data``)::

    python benchmarks/bench_shared_tasks.py [--tasks a b c d] [--repeats 2]

Tasks (1,000,000 rows, 50 strata, 5,000 PSUs): a, the Taylor SE of the weighted mean of ``y``;
b, the same in the 20 domains of ``dom``; c, raking ``w`` to the margins ``m1 … m4``
(tolerance 1e-6); d, 100 bootstrap replicates and their SE of the mean of ``y``. Unlike the
shared peer scripts, the time includes declaring the design (``SurveyDesign``,
``svy.Sample``, ``svydesign``), reported separately too; raking needs no design in migsurvey
(``Weights``) while the peers rake a design. For every task one process runs migsurvey, then
one runs svy (``SVY_PYTHON``, default: this Python when it imports svy), then one runs R
survey, one after the other on the same machine; each process loads the data (not timed),
runs the task ``--repeats`` times and reports its fastest run and its peak resident memory
(``/usr/bin/time``). BLAS runs single-threaded in every process (``OPENBLAS_NUM_THREADS=1``):
on a shared, loaded machine a multi-threaded BLAS spins and makes small products hundreds of
times slower. Results go to ``benchmarks/results/shared_tasks.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
SVY_PYTHON = os.environ.get("SVY_PYTHON") or (
    sys.executable if importlib.util.find_spec("svy") else "/work/svy-venv/bin/python"
)
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _fastest(design, task, repeats: int) -> dict:
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        obj = design()
        t1 = time.perf_counter()
        value = task(obj)
        t2 = time.perf_counter()
        run = {"design_seconds": t1 - t0, "task_seconds": t2 - t1, "seconds": t2 - t0, "value": value}
        if best is None or run["seconds"] < best["seconds"]:
            best = run
    return best


def worker_ours(task: str, repeats: int) -> dict:
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from estimation import SurveyDesign
    from weighting import Weights

    df = pd.read_parquet(DATA / "synth.parquet")
    margins = json.loads((DATA / "margins.json").read_text())["margins"]

    def design():
        return SurveyDesign(df, ids="psu", strata="stratum", weights="w", nest=True)

    tasks = {
        "a": (design, lambda d: float(d.mean("y")["se"].iloc[0])),
        "b": (design, lambda d: int(len(d.mean("y", by="dom")))),
        "c": (lambda: None, lambda _: float(Weights(df, "w").rake(margins, tol=1e-6, max_iter=100).values.sum())),
        "d": (design, lambda d: float(d.replicate("bootstrap", replicates=100, seed=1).mean("y")["se"].iloc[0])),
    }
    return {"pkg": "migsurvey", "task": task, **_fastest(*tasks[task], repeats)}


def worker_svy(task: str, repeats: int) -> dict:
    import polars as pl
    import svy

    df = pl.read_parquet(DATA / "synth.parquet").with_columns(pl.col("dom").cast(pl.String))
    margins = json.loads((DATA / "margins.json").read_text())["margins"]

    def design():
        return svy.Sample(df, svy.Design(stratum="stratum", psu="psu", wgt="w"))

    tasks = {
        "a": lambda s: float(s.estimation.mean("y").to_polars()["se"][0]),
        "b": lambda s: int(s.estimation.mean("y", by="dom").to_polars().height),
        "c": lambda s: float(s.weighting.rake(controls=margins, tol=1e-6, max_iter=100, wgt_name="rk").data["rk"].sum()),
        "d": lambda s: float(s.weighting.create_bs_wgts(n_reps=100, rstate=1)
                             .estimation.mean("y", method="replication").to_polars()["se"][0]),
    }
    return {"pkg": "svy", "task": task, **_fastest(design, tasks[task], repeats)}


def _timed(cmd: list[str]) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: its last JSON line, its peak memory (MiB) and
    the machine's load average (1 min) when it started."""
    load = os.getloadavg()[0]
    try:
        out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT,
                             env=ENV, timeout=3600, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        return {"error": str(getattr(exc, "stderr", "") or exc)[-400:]}
    result = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])
    for ln in out.stderr.splitlines():
        if "Maximum resident set size" in ln:
            result["peak_rss_mib"] = int(ln.split(":")[1]) / 1024
    result["load_average"] = load
    return result


def run_task(task: str, repeats: int) -> dict:
    """migsurvey, svy and R survey on one task, one after the other."""
    me = str(Path(__file__).resolve())
    row = {"task": task}
    row["migsurvey"] = _timed([sys.executable, me, "--worker", "ours", "--task", task, "--repeats", str(repeats)])
    row["svy"] = _timed([SVY_PYTHON, me, "--worker", "svy", "--task", task, "--repeats", str(repeats)])
    row["R survey"] = _timed(["Rscript", str(ROOT / "benchmarks" / "peer_design.R"), str(DATA), task, str(repeats)])
    ours = row["migsurvey"].get("seconds")
    for peer in ("svy", "R survey"):
        theirs = row[peer].get("seconds")
        if ours and theirs:
            row[f"{peer} / migsurvey"] = theirs / ours
        if row[peer].get("peak_rss_mib") and row["migsurvey"].get("peak_rss_mib"):
            row[f"{peer} memory / migsurvey"] = row[peer]["peak_rss_mib"] / row["migsurvey"]["peak_rss_mib"]
    return row


def table(rows: list[dict]) -> str:
    """Markdown table of the results."""
    head = ("| task | migsurvey design + task s (design) | svy s (design) | R survey s (design) "
            "| svy ÷ ours | R ÷ ours | peak MB ours / svy / R |")
    lines = [head, "|---|---|---|---|---|---|---|"]

    def cell(r: dict) -> str:
        if "seconds" not in r:
            return "failed"
        return f"{r['seconds']:.3f} ({r['design_seconds']:.3f})"

    def mem(r: dict) -> str:
        return f"{r['peak_rss_mib']:,.0f}" if "peak_rss_mib" in r else "—"

    for r in rows:
        ratio_svy = f"{r['svy / migsurvey']:.1f}×" if "svy / migsurvey" in r else "—"
        ratio_r = f"{r['R survey / migsurvey']:.0f}×" if "R survey / migsurvey" in r else "—"
        lines.append(f"| {r['task']} | {cell(r['migsurvey'])} | {cell(r['svy'])} | {cell(r['R survey'])} "
                     f"| {ratio_svy} | {ratio_r} | {mem(r['migsurvey'])} / {mem(r['svy'])} / {mem(r['R survey'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["a", "b", "c", "d"], choices=["a", "b", "c", "d"])
    parser.add_argument("--task", choices=["a", "b", "c", "d"], help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", choices=["ours", "svy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = worker_ours if args.worker == "ours" else worker_svy
        print(json.dumps(fn(args.task, args.repeats)))
        return
    rows = []
    for task in args.tasks:
        rows.append(run_task(task, args.repeats))
        print(json.dumps(rows[-1]), flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "shared_tasks.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))


if __name__ == "__main__":
    main()
