"""Timing of the sampling layer's selection (run: python benchmarks/bench_sampling.py).

Targets: PPS systematic from a 1,000,000-EA frame under 1 s; Sampford or conditional Poisson
with n = 1,000 from N = 100,000 under 5 s.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from sampling import draw_samples, inclusion_probabilities, select


def timed(label: str, fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<70s} {best:8.3f} s")
    return best


def main() -> None:
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
