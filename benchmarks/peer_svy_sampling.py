"""Brewer and PPS systematic selection in svy (its Rao–Sampford gives up after 1,000 tries
on these sizes), timed on the shapes of bench_sampling.py.

Run with svy's own interpreter (svy installs in its own virtual environment):
``/path/to/svy-venv/bin/python benchmarks/peer_svy_sampling.py`` -> one JSON line per task.
"""

import json
import time

import numpy as np
import polars as pl
import svy


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


rng = np.random.default_rng(2024)
x6 = rng.integers(20, 400, 1_000_000)
frame6 = pl.DataFrame({"ea": np.arange(x6.size), "households": x6})
frame5 = frame6.head(100_000)


def s6():
    return svy.Sample(frame6, svy.Design(mos="households"))


def s5():
    return svy.Sample(frame5, svy.Design(mos="households"))


for task, fn in (
    ("pps_systematic n=5000 of 1e6",
     lambda: s6().sampling.pps_sys(n=5000, rstate=1, certainty_threshold=1.0)),
    ("brewer n=1000 of 1e5", lambda: s5().sampling.pps_brewer(n=1000, rstate=1,
                                                             certainty_threshold=1.0)),
):
    print(json.dumps({"task": task, "svy": timed(fn)}))
