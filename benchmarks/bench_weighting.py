"""Speed of the weighting package on the shared 1,000,000-row workload.

Usage: python benchmarks/bench_weighting.py [DATADIR] [--task c|linear50|boot100|all]
[--svy SVY_PYTHON PEER_SVY_SCRIPT]. DATADIR defaults to bench-data, made by
``make_bench_data.py bench-data`` of the shared workload. With ``--svy`` (a Python that has svy
installed and the shared ``peer_svy.py``) task c is timed three times in each package, every
run a fresh process, alternating, and the ratio of the medians is printed.
Prints one JSON line per task:

- ``c``: raking ``w`` to the four margins m1..m4 (tolerance 1e-6, relative) — task c of the
  shared workload, comparable with ``peer_svy.py DATADIR c``;
- ``linear50``: linear calibration to 50 auxiliary columns (m1 plus 48 numeric columns and
  their totals);
- ``boot100``: 100 bootstrap replicates (Rao–Wu, PSUs resampled within strata), each re-raked
  to the four margins by ``Weights.replay``.

Data loading and the making of auxiliary columns are not timed.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from weighting import Weights
from weighting._arrays import times_gathered


def _time(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.perf_counter() - t0, time.process_time() - c0)


def compare_svy(datadir: str, svy_python: str, peer_script: str) -> None:
    import statistics
    import subprocess

    ours, theirs = [], []
    for _ in range(3):
        run = subprocess.run([svy_python, peer_script, datadir, "c"], capture_output=True,
                             text=True, check=True)
        theirs.append(json.loads(run.stdout.strip().splitlines()[-1])["seconds"])
        run = subprocess.run([sys.executable, __file__, datadir, "--task", "c"],
                             capture_output=True, text=True, check=True)
        ours.append(json.loads(run.stdout.strip().splitlines()[-1])["seconds"])
    print(json.dumps({"task": "c", "svy_seconds": theirs, "migsurvey_seconds": ours,
                      "speedup_median": statistics.median(theirs) / statistics.median(ours)}))


def main(datadir: str = "bench-data", task: str = "all") -> None:
    df = pd.read_parquet(f"{datadir}/synth.parquet")
    margins = json.load(open(f"{datadir}/margins.json"))["margins"]

    w, secs = _time(lambda: Weights(df, "w").rake(margins, tol=1e-6, max_iter=100))
    print(json.dumps({"pkg": "migsurvey", "task": "c", "seconds": secs[0], "cpu_seconds": secs[1],
                      "sweeps": w.history[-1].iterations, "sum_w": float(w.values.sum()),
                      "min_w": float(w.values.min()), "max_w": float(w.values.max())}))
    if task == "c":
        return

    rng = np.random.default_rng(1)
    n = len(df)
    aux = {f"x{j}": rng.gamma(2.0 + j % 5, 1.0 + j % 3, n) for j in range(48)}
    big = pd.concat([df, pd.DataFrame(aux, index=df.index)], axis=1)
    wv = df["w"].to_numpy()
    targets = {"m1": margins["m1"]}
    scale = sum(margins["m1"].values()) / wv.sum()
    for j, (name, col) in enumerate(aux.items()):
        targets[name] = float(col @ wv) * scale * (1 + 0.01 * np.sin(j))
    c, secs = _time(lambda: Weights(big, "w").calibrate(targets, method="linear"))
    print(json.dumps({"pkg": "migsurvey", "task": "linear50", "seconds": secs[0], "cpu_seconds": secs[1],
                      "n_aux": c.history[-1].targets.shape[0],
                      "max_rel_error": float(np.abs(c.history[-1].targets.rel_error).max())}))

    def boot():
        strata = df["stratum"].to_numpy()
        psu_codes, psu_ids = pd.factorize(df["psu"], sort=True)
        psu_stratum = np.zeros(psu_ids.size, dtype=np.int64)
        psu_stratum[psu_codes] = strata
        factors = np.zeros((psu_ids.size, 100))
        for h in np.unique(psu_stratum):  # 50 strata: Rao–Wu (n_h - 1) resampling
            members = np.flatnonzero(psu_stratum == h)
            n_h = members.size
            draws = rng.integers(0, n_h, size=(n_h - 1, 100))
            counts = np.zeros((n_h, 100))
            np.add.at(counts, (draws, np.arange(100)[None, :]), 1.0)
            factors[members] = counts * n_h / (n_h - 1)
        base = times_gathered(np.broadcast_to(w.base_values[:, None], (n, 100)), factors,
                              psu_codes)
        reps = w.replay(base, out=base)  # the replicate bases are ours: write in place
        return reps

    reps, secs = _time(boot)
    print(json.dumps({"pkg": "migsurvey", "task": "boot100", "seconds": secs[0], "cpu_seconds": secs[1],
                      "replicates": reps.shape[1],
                      "max_margin_error": float(
                          np.abs(pd.DataFrame(reps).groupby(df["m4"].to_numpy()).sum().to_numpy()
                                 - np.array([[margins["m4"][k]] for k in sorted(margins["m4"])])
                                 ).max())}))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datadir", nargs="?", default="bench-data")
    parser.add_argument("--task", default="all", choices=["all", "c"])
    parser.add_argument("--svy", nargs=2, metavar=("SVY_PYTHON", "PEER_SVY_SCRIPT"))
    args = parser.parse_args()
    if args.svy:
        compare_svy(args.datadir, *args.svy)
    else:
        main(args.datadir, args.task)
