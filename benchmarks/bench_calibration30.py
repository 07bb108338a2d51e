"""Linear calibration to 30 totals on the shared 10⁶-row workload: migsurvey, then R ``survey``.

Usage (repository root)::

    python benchmarks/bench_calibration30.py [DATADIR] [--peer]

The totals are the 2 levels of ``m1`` and 28 numeric auxiliaries drawn from gamma laws (their
weighted totals scaled to the population and moved by up to 1 %). With ``--peer`` the same
problem (its own draws of the same laws) runs right after in R ``survey``'s ``calibrate``
(``benchmarks/peer_calibration30.R``, with the design declaration timed apart). Prints one
JSON line per package; the data loading and the making of the auxiliaries are not timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from weighting import Weights  # noqa: E402


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    datadir = args[0] if args else "bench-data"
    df = pd.read_parquet(f"{datadir}/synth.parquet")
    margins = json.loads(Path(f"{datadir}/margins.json").read_text())["margins"]
    rng = np.random.default_rng(1)
    n = len(df)
    aux = {f"x{j}": rng.gamma(2.0 + j % 5, 1.0 + j % 3, n) for j in range(28)}
    big = pd.concat([df, pd.DataFrame(aux, index=df.index)], axis=1)
    wv = df["w"].to_numpy()
    targets = {"m1": margins["m1"]}
    scale = sum(margins["m1"].values()) / wv.sum()
    for j, (name, col) in enumerate(aux.items()):
        targets[name] = float(col @ wv) * scale * (1 + 0.01 * np.sin(j))
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        c = Weights(big, "w").calibrate(targets, method="linear")
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"pkg": "migsurvey", "task": "linear calibration, 30 totals",
                      "calibration_seconds": round(best, 4),
                      "totals": int(c.history[-1].targets.shape[0]),
                      "max_rel_error": float(np.abs(c.history[-1].targets.rel_error).max())}),
          flush=True)
    if "--peer" in sys.argv:
        out = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "peer_calibration30.R"), datadir],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
