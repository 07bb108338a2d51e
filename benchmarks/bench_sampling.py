"""Timing of the sampling layer's selection (run: python benchmarks/bench_sampling.py [--peers]).

Targets: PPS systematic from a 1,000,000-EA frame under 1 s; Sampford or conditional Poisson
with n = 1,000 from N = 100,000 under 5 s; Brewer at least as fast as svy; exact Sampford joint
probabilities at least as fast as R ``sampling``'s ``UPsampfordpi2`` and feasible for N = 2,000,
n = 50. With ``--peers`` the same tasks run in R ``sampling`` (``benchmarks/peer_sampling.R``)
right after, on the same machine, and a table of seconds and ratios is printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sampling import (
    draw_samples,
    inclusion_probabilities,
    joint_inclusion_probabilities,
    select,
)

HERE = Path(__file__).resolve().parent


def timed(label: str, fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<70s} {best:8.3f} s")
    return best


def peer_tasks() -> dict[str, float]:
    """Selection tasks shared with ``peer_sampling.R``: seconds per task (best of 3 or 1)."""
    rng = np.random.default_rng(2024)
    x6 = rng.integers(20, 400, 1_000_000)
    pik6 = inclusion_probabilities(x6, 5_000)
    pik5 = inclusion_probabilities(x6[:100_000], 1_000)
    p500 = inclusion_probabilities(rng.gamma(2, 1, 500) + 0.1, 50)
    p2000 = inclusion_probabilities(rng.gamma(2, 1, 2_000) + 0.1, 50)
    return {
        "pps_systematic n=5000 of 1e6": timed("pps_systematic n = 5,000 of 10^6",
                                              lambda: draw_samples(pik6, "pps_systematic", 1, seed=1)),
        "brewer n=1000 of 1e5": timed("brewer n = 1,000 of 10^5",
                                      lambda: draw_samples(pik5, "brewer", 1, seed=1)),
        "sampford n=1000 of 1e5": timed("sampford n = 1,000 of 10^5",
                                        lambda: draw_samples(pik5, "sampford", 1, seed=1)),
        "conditional_poisson n=1000 of 1e5": timed(
            "conditional Poisson n = 1,000 of 10^5 (incl. working probabilities)",
            lambda: draw_samples(pik5, "conditional_poisson", 1, seed=1), repeat=1),
        "sampford pi2 N=500 n=50": timed(
            "exact Sampford pi_kl, N = 500, n = 50",
            lambda: joint_inclusion_probabilities(p500[p500 < 1], "sampford"), repeat=1),
        "sampford pi2 N=2000 n=50": timed(
            "exact Sampford pi_kl, N = 2,000, n = 50",
            lambda: joint_inclusion_probabilities(p2000[p2000 < 1], "sampford"), repeat=1),
    }


def compare_with_r(ours: dict[str, float]) -> None:
    out = subprocess.run(["Rscript", str(HERE / "peer_sampling.R")], capture_output=True,
                         text=True, check=True)
    peer = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            if "R sampling" in row:
                peer[row["task"]] = row["R sampling"]
            else:
                print(f"R sampling could not run {row['task']}: {row['R error']}")
    print("\n| task | migsurvey s | R sampling s | R / migsurvey |\n|---|---|---|---|")
    for task, sec in ours.items():
        r = peer.get(task)
        ratio = f"{r / sec:.1f}×" if r else ""
        print(f"| {task} | {sec:.3f} | {'' if r is None else f'{r:.3f}'} | {ratio} |")


def main() -> None:
    if "--peers" in sys.argv:
        compare_with_r(peer_tasks())
        return
    rng = np.random.default_rng(2024)
    N = 1_000_000
    frame = pd.DataFrame({
        "ea": np.arange(N),
        "region": rng.integers(0, 20, N),
        "district": rng.integers(0, 500, N),
        "households": rng.integers(20, 400, N),
    })
    timed("pps_systematic, N = 1,000,000 EAs, n = 2,000, no strata",
          lambda: select(frame, 2_000, method="pps_systematic", size="households", seed=1))
    timed("pps_systematic, N = 1,000,000, n = 2,000, 20 strata, sorted by district",
          lambda: select(frame, 2_000, method="pps_systematic", size="households",
                         strata="region", sort="district", seed=1))
    small = frame.iloc[:100_000]
    timed("sampford, N = 100,000, n = 1,000 (select)",
          lambda: select(small, 1_000, method="sampford", size="households", seed=1))
    timed("conditional_poisson, N = 100,000, n = 1,000 (select, incl. working probs)",
          lambda: select(small, 1_000, method="conditional_poisson", size="households", seed=1),
          repeat=1)
    pi = inclusion_probabilities(small["households"], 1_000)
    timed("brewer, N = 100,000, n = 1,000 (draw_samples)",
          lambda: draw_samples(pi, "brewer", 1, seed=1), repeat=1)
    toy = inclusion_probabilities(rng.gamma(2, 10, 20) + 1, 6)
    for method in ("sampford", "conditional_poisson", "tille", "brewer", "cube"):
        timed(f"{method}: 20,000 draws of n = 6 from N = 20 (draw_samples)",
              lambda m=method: draw_samples(toy, m, 20_000, seed=1), repeat=1)


if __name__ == "__main__":
    main()
