"""Properties of the Fay–Herriot variance fit: the estimate is the maximum of the (restricted)
likelihood over A ≥ 0, boundary included, and fitting many responses at once equals fitting
each alone (the bootstrap relies on it)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation.small_area.fit import fit_variance, loglik


@settings(max_examples=30)
@given(seed=st.integers(0, 10_000), m=st.integers(6, 40), a=st.sampled_from([0.0, 0.05, 1.0, 20.0]),
       method=st.sampled_from(["REML", "ML"]), spread=st.floats(0.0, 3.0))
def test_estimate_is_the_maximum_over_the_half_line(seed, m, a, method, spread):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(m), rng.normal(size=m)])
    psi = np.exp(rng.uniform(-spread, spread, m))
    y = X @ [1.0, 0.5] + rng.normal(0, np.sqrt(a), m) + rng.normal(0, np.sqrt(psi))
    fit = fit_variance(y, X, psi, method)
    A = fit.A[0]
    assert A >= 0 and fit.converged[0]
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 100 * (np.var(y) + psi.max()), 400)])
    ll = loglik(np.repeat(y[:, None], len(grid), axis=1), X, psi, grid, method)
    best = loglik(y[:, None], X, psi, np.array([A]), method)[0]
    assert best >= ll.max() - 1e-9 * max(1.0, abs(ll.max()))
    assert fit.boundary[0] == (A == 0.0)


def test_vectorised_fit_equals_column_by_column():
    rng = np.random.default_rng(4)
    m, R = 25, 60
    X = np.column_stack([np.ones(m), rng.uniform(size=m)])
    psi = rng.uniform(0.5, 2, m)
    Y = 2 + rng.normal(0, 1, (m, R)) + rng.normal(0, 1, (m, R)) * np.sqrt(psi)[:, None]
    for method in ("REML", "ML"):
        all_at_once = fit_variance(Y, X, psi, method).A
        one_by_one = np.array([fit_variance(Y[:, j], X, psi, method).A[0] for j in range(R)])
        np.testing.assert_allclose(all_at_once, one_by_one, rtol=1e-12, atol=0)
