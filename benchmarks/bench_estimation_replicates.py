"""Task d of the shared workload: 100 bootstrap replicates and the replicate SE of mean(y).

Usage::

    python /work/shared/bench/make_bench_data.py bench-data      # once (1,000,000 rows)
    python benchmarks/bench_estimation_replicates.py bench-data [REPEATS]

Declares the design (strata ``stratum``, PSUs ``psu`` nested, weights ``w``) outside the timing,
then times ``d.replicate("bootstrap", replicates=100, seed=1).mean("y")`` (factor generation
per PSU, PSU-level aggregation, replicate variance). Prints one JSON line per repeat with the
seconds, the peak resident memory of the process (data included) and the peak memory
allocated by the timed task itself (tracemalloc, which slows it slightly).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from estimation import SurveyDesign


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-data")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    parquet = data / "synth.parquet"
    df = pd.read_parquet(parquet) if parquet.exists() else pd.read_csv(data / "synth.csv")
    t0 = time.perf_counter()
    d = SurveyDesign(df, ids="psu", strata="stratum", weights="w", nest=True)
    declare = time.perf_counter() - t0
    for _ in range(repeats):
        tracemalloc.start()
        t0 = time.perf_counter()
        r = d.replicate("bootstrap", replicates=100, seed=1)
        out = r.mean("y")
        seconds = time.perf_counter() - t0
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "pkg": "migsurvey",
                    "task": "d",
                    "rows": len(df),
                    "est": float(out["estimate"].iloc[0]),
                    "se": float(out["se"].iloc[0]),
                    "seconds": round(seconds, 3),
                    "declare_seconds": round(declare, 3),
                    "peak_rss_mib": round(peak_mib, 1),
                    "task_peak_alloc_mib": round(traced_peak / 2**20, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
