"""Design-based simulation of the demo survey: relative bias, SE ratio and 95 % CI coverage.

Runs ``migsurvey.simulate.simulate`` on the demo specification (synthetic census of
1,000,000 persons; 160 EAs; screening; differential nonresponse; nonresponse adjustment and
integrated raking calibration), by default 500 repetitions on 2 processes, and writes

* ``<out>/summary.csv`` and ``<out>/summary.md`` (every indicator, measure and domain),
* ``<out>/estimates.parquet`` (every repetition),
* ``<out>/coverage.svg`` (coverage of each ratio measure with its Monte-Carlo interval).

Not part of the test suite (it takes several minutes)::

    python benchmarks/simulate_coverage.py --reps 500 --workers 2 --out bench-data/coverage
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from migsurvey import svg
from migsurvey.progress import Progress
from migsurvey.simulate import markdown_summary, simulate, write_simulation
from migsurvey.spec import default_spec_text, parse_spec


def coverage_figure(summary, reps: int) -> str:
    """Coverage of every ratio measure and domain with ± 1.96 Monte-Carlo SE (inline SVG)."""
    ratio = summary[~summary["measure"].isin(["count"])].reset_index(drop=True)
    dims = [c for c in ("sex", "age_group", "urban") if c in ratio.columns]
    labels = [f"{r.indicator} {r.measure} " + (", ".join(f"{c}={r[c]}" for c in dims
                                                          if str(r[c]) != "_T") or "total")
              for _, r in ratio.iterrows()]
    cov = ratio["coverage"].to_numpy() * 100
    mc = ratio["coverage_mc_se"].to_numpy() * 100
    return svg.forest(labels, cov, cov - 1.96 * mc, cov + 1.96 * mc,
                      title=f"95 % CI coverage over {reps} repetitions (± 1.96 Monte-Carlo SE)",
                      xlabel="coverage (%)", reference=(93.0, 95.0, 97.0))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=10_000)
    ap.add_argument("--out", default="bench-data/coverage")
    ap.add_argument("--figure-only", action="store_true",
                    help="redraw coverage.svg from an existing summary.csv in --out")
    args = ap.parse_args(argv)
    if args.figure_only:
        import pandas as pd

        summary = pd.read_csv(Path(args.out) / "summary.csv", keep_default_na=False)
        reps = int(summary["reps"].max())
        (Path(args.out) / "coverage.svg").write_text(coverage_figure(summary, reps),
                                                     encoding="utf-8")
        return 0

    spec = parse_spec(default_spec_text(), source="demo.yaml")
    spec["frame"]["synthetic"]["persons"] = args.persons
    spec["estimation"]["by"] = [[], ["sex"], ["age_group"], ["urban"]]
    prog = Progress("simulate", args.reps)
    t0 = time.perf_counter()
    res = simulate(spec, reps=args.reps, seed=args.seed, workers=args.workers,
                   progress=lambda d, t: prog.update(d))
    out = Path(args.out)
    paths = write_simulation(res, out)
    s = res.summary
    (out / "coverage.svg").write_text(coverage_figure(s, res.reps), encoding="utf-8")
    meta = {"reps": res.reps, "failures": res.failures, "seconds": round(time.perf_counter() - t0, 1),
            "workers": args.workers, "persons": args.persons, "seed": args.seed,
            "python": sys.version.split()[0], "machine": platform.machine(),
            "numpy": np.__version__}
    (out / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    print(markdown_summary(res, s[(s[["age_group", "urban"]] == "_T").all(axis=1)]))
    print(json.dumps(meta))
    for p in [*paths, out / "coverage.svg"]:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
