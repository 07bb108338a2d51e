"""Inclusion frequencies over 20,000 draws against the reported π, for every selection method.

Fixed seeds. With N units the largest |z| of N independent normal deviates rarely exceeds 4;
the figures observed with these seeds are stated beside each method (run with ``-s`` to print).
"""

from __future__ import annotations

import numpy as np
import pytest

from sampling import draw_samples, inclusion_probabilities, joint_inclusion_probabilities, select

R = 20_000
rng0 = np.random.default_rng(7)
SIZE = np.round(rng0.gamma(1.5, 10, 20) + 1, 1)
SIZE[4] = 400.0  # a certainty unit
N, n = SIZE.size, 6
PI = inclusion_probabilities(SIZE, n)
EQUAL = np.full(N, n / N)

METHODS = ["srs", "systematic", "pps_systematic", "brewer", "sampford", "conditional_poisson",
           "poisson", "tille", "cube"]
FIXED = {"srs", "systematic", "pps_systematic", "brewer", "sampford", "conditional_poisson",
         "tille", "cube"}


def _z(freq: np.ndarray, p: np.ndarray) -> np.ndarray:
    se = np.sqrt(p * (1 - p) / R)
    return np.where(se > 0, (freq - p) / np.where(se > 0, se, 1), 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_inclusion_frequencies_match_pi(method):
    p = EQUAL if method in ("srs", "systematic") else PI
    kw = {"balance": SIZE[:, None] ** 0.5} if method == "cube" else {}
    S = draw_samples(p, method, R, seed=11, **kw)
    assert S.shape == (R, N)
    z = _z(S.mean(axis=0), p)
    print(f"{method}: largest |z| = {np.abs(z).max():.2f}")
    assert np.abs(z).max() < 4.0
    if method != "poisson":
        assert (S[:, p == 1]).all()
    sizes = S.sum(axis=1)
    if method in FIXED:
        assert (sizes == n).all()
    else:
        # Poisson: random size with mean n and variance sum pi(1-pi)
        assert abs(sizes.mean() - n) < 4 * np.sqrt(np.sum(p * (1 - p)) / R)


@pytest.mark.parametrize("method", ["systematic", "sampford", "conditional_poisson", "tille"])
def test_pair_frequencies_match_exact_pi2(method):
    draw = "pps_systematic" if method == "systematic" else method
    S = draw_samples(PI, draw, R, seed=3).astype(float)
    P2 = S.T @ S / R
    E = joint_inclusion_probabilities(PI, method)
    se = np.sqrt(E * (1 - E) / R)
    z = np.where(se > 0, (P2 - E) / np.where(se > 0, se, 1), 0.0)
    print(f"{method} pairs: largest |z| = {np.abs(z).max():.2f}")
    assert np.abs(z).max() < 4.5
    assert np.all(P2[E == 0] == 0)  # impossible pairs never occur


def test_cube_balances_the_auxiliary_total():
    rng = np.random.default_rng(2)
    size = rng.gamma(2, 10, 300) + 1
    x = size * rng.uniform(0.5, 1.5, 300)  # correlated with size, not proportional
    pi = inclusion_probabilities(size, 40)
    cube = draw_samples(pi, "cube", 1_000, seed=5, balance=x[:, None])
    cps = draw_samples(pi, "conditional_poisson", 1_000, seed=5)
    ht_cube = (cube * (x / pi)).sum(axis=1) / x.sum() - 1
    ht_cps = (cps * (x / pi)).sum(axis=1) / x.sum() - 1
    assert np.abs(ht_cube).max() < 0.02  # balanced up to the landing phase
    assert np.std(ht_cube) < 0.2 * np.std(ht_cps)
    assert (cube.sum(axis=1) == 40).all()


def test_select_reports_true_pi_over_repeated_draws():
    """The public select() path: 1,000 Sampford draws in two strata match the π it reports."""
    import pandas as pd

    df = pd.DataFrame({"ea": range(N), "households": SIZE, "region": ["a"] * 10 + ["b"] * 10})
    counts = np.zeros(N)
    reported = None
    draws = 1_000
    for r in range(draws):
        s = select(df, {"a": 3, "b": 3}, method="sampford", size="households", strata="region",
                   id="ea", seed=r)
        counts[s.units["ea"].to_numpy()] += 1
        reported = s.frame_pi.to_numpy()
        assert len(s.units) == 6
    se = np.sqrt(reported * (1 - reported) / draws)
    z = np.where(se > 0, (counts / draws - reported) / np.where(se > 0, se, 1), 0.0)
    assert np.abs(z).max() < 4.0
