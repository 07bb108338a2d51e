"""Exact Sampford joint inclusion probabilities against enumeration; Brewer single draws."""

from itertools import combinations

import numpy as np

from sampling import joint_inclusion_probabilities


def _enumerated_sampford_pi2(p: np.ndarray, n: int) -> np.ndarray:
    """π_kl summed over every sample, p(s) ∝ Π_s λ · Σ_s (1 − π) (Sampford 1967)."""
    lam = p / (1 - p)
    N = p.size
    out = np.zeros((N, N))
    total = 0.0
    for s in combinations(range(N), n):
        s = list(s)
        ps = np.prod(lam[s]) * np.sum(1 - p[s])
        total += ps
        out[np.ix_(s, s)] += ps
    return out / total


def test_sampford_pi2_equals_enumeration():
    rng = np.random.default_rng(7)
    x = rng.uniform(1, 6, size=10)
    p = 4 * x / x.sum()
    assert p.max() < 1
    got = joint_inclusion_probabilities(p, "sampford")
    np.testing.assert_allclose(got, _enumerated_sampford_pi2(p, 4), rtol=1e-10)


def test_sampford_pi2_margins_hold_for_a_large_frame():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 5, size=400)
    p = 30 * x / x.sum()
    got = joint_inclusion_probabilities(p, "sampford")
    off = got.sum(axis=1) - np.diag(got)
    np.testing.assert_allclose(off, 29 * p, rtol=1e-10)
    np.testing.assert_allclose(got, got.T, rtol=0, atol=0)
    assert (got[np.triu_indices(400, 1)] > 0).all()


def test_single_brewer_draws_have_the_target_inclusion_probabilities():
    """The one-sample Brewer path (rejection from a fixed proposal) keeps π exactly."""
    from sampling import draw_samples, inclusion_probabilities

    rng = np.random.default_rng(21)
    p = inclusion_probabilities(rng.gamma(0.8, 1, 15) + 0.05, 6)
    draws = 6_000
    hits = np.zeros(p.size)
    for r in range(draws):
        s = draw_samples(p, "brewer", 1, seed=r)[0]
        assert s.sum() == 6
        hits += s
    se = np.sqrt(p * (1 - p) / draws)
    z = np.where(se > 0, (hits / draws - p) / np.where(se > 0, se, 1.0), 0.0)
    assert np.abs(z).max() < 4.0
