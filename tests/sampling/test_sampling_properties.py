"""Property tests (hypothesis): probabilities, joint probabilities and allocations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import allocate, inclusion_probabilities, joint_inclusion_probabilities

sizes = st.lists(st.floats(0.1, 1000, allow_nan=False), min_size=3, max_size=25)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(sizes, st.data())
def test_inclusion_probabilities_properties(x, data):
    n = data.draw(st.integers(1, len(x)))
    pi = inclusion_probabilities(x, n)
    assert np.isclose(pi.sum(), n) and (pi <= 1).all() and (pi > 0).all()
    order = np.argsort(x, kind="stable")
    assert (np.diff(pi[order]) >= -1e-12).all()  # monotone in size
    free = pi < 1
    if free.sum() > 1:  # proportional to size among the non-certainty units
        r = pi[free] / np.asarray(x)[free]
        assert np.allclose(r, r[0])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.5, 100, allow_nan=False), min_size=4, max_size=9), st.data())
def test_exact_joint_probabilities_fixed_size_identities(x, data):
    n = data.draw(st.integers(2, len(x) - 1))
    pi = inclusion_probabilities(x, n)
    for method in ("systematic", "sampford", "conditional_poisson", "tille"):
        p2 = joint_inclusion_probabilities(pi, method)
        assert np.allclose(p2.sum(axis=1), n * pi, atol=1e-9), method
        assert (p2 >= -1e-12).all() and (p2 <= np.minimum.outer(pi, pi) + 1e-9).all(), method


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=12), st.data())
def test_allocation_keeps_total_and_bounds(pop, data):
    total = sum(pop)
    n = data.draw(st.integers(0, total))
    lo = data.draw(st.integers(0, 3))
    popd = {f"s{i}": v for i, v in enumerate(pop)}
    if sum(min(lo, v) for v in pop) > n or any(lo > v for v in pop):
        return
    a = allocate(popd, n, minimum=lo)
    assert a.sizes.sum() == n
    assert (a.sizes >= lo).all() and (a.sizes.to_numpy() <= np.array(pop)).all()
