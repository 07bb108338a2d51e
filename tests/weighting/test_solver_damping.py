"""Calibration solver: scale-free stopping rule and damped Newton steps."""

import numpy as np
import pandas as pd
import pytest

from weighting import Weights


def test_raking_calibration_meets_margins_at_any_scale(apiclus1):
    pop = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}
    base = Weights(apiclus1, "pw").calibrate(pop, method="raking")
    for s in (1e-12, 1e-6, 1e6):
        small = {"stype": {k: v * s for k, v in pop["stype"].items()}, "api99": pop["api99"] * s}
        w = Weights(apiclus1, apiclus1.pw.to_numpy() * s).calibrate(small, method="raking")
        for level, total in small["stype"].items():
            assert w.values[apiclus1.stype.to_numpy() == level].sum() == pytest.approx(total, rel=1e-9)
        assert w.values @ apiclus1.api99.to_numpy() == pytest.approx(small["api99"], rel=1e-9)
        # the g-weights do not depend on the unit of the weights
        np.testing.assert_allclose(w.values / (apiclus1.pw.to_numpy() * s),
                                   base.values / apiclus1.pw.to_numpy(), rtol=1e-8)


def test_zero_total_uses_the_data_scale():
    df = pd.DataFrame({"x": [-2.0, -1.0, 1.0, 3.0] * 5, "d": [1.0, 2.0, 1.5, 1.0] * 5})
    w = Weights(df, "d").calibrate({"x": 0.0}, method="raking")
    assert abs(w.values @ df.x.to_numpy()) < 1e-9 * (df.d * df.x.abs()).sum()


def _skewed_case(seed):
    rng = np.random.default_rng(seed)
    n = 300
    x = rng.lognormal(0, 1.2, n)
    c = rng.choice(list("abcd"), n)
    d = rng.uniform(1, 5, n)
    tot = {"c": {k: d[c == k].sum() * rng.uniform(0.4, 2.5) for k in "abcd"},
           "x": (d * x).sum() * rng.uniform(0.4, 2.5)}
    return pd.DataFrame({"x": x, "c": c, "d": d}), tot


@pytest.mark.parametrize("seed", [230, 244])
def test_logit_and_bounded_raking_solve_what_sinh_solves(seed):
    # g-weights far from 1 (factors up to 2.5 on the margins); the undamped Newton iterates
    # of logit and bounded raking cycle between the saturated ends of g
    df, tot = _skewed_case(seed)
    sinh = Weights(df, "d").calibrate(tot, method="sinh", bounds=(0.5, 8))
    g = sinh.values / df.d.to_numpy()
    assert 0.55 < g.min() and g.max() < 7.5  # well inside the bounds
    for method in ("logit", "raking"):
        w = Weights(df, "d").calibrate(tot, method=method, bounds=(0.5, 8))
        g = w.values / df.d.to_numpy()
        assert 0.5 <= g.min() and g.max() <= 8
        for level, total in tot["c"].items():
            assert w.values[df.c.to_numpy() == level].sum() == pytest.approx(total, rel=1e-9)
        assert w.values @ df.x.to_numpy() == pytest.approx(tot["x"], rel=1e-9)
