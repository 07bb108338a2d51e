"""A Poisson sample declares a design whose variance is the Poisson variance."""

from __future__ import annotations

import numpy as np
from reference_data import load_data

from estimation import SurveyDesign
from sampling import select


def test_poisson_sample_declares_the_poisson_variance():
    mu = load_data("MU284")
    s = select(mu, 40, method="poisson", size="P75", seed=3)
    d = SurveyDesign(s.units, **s.design.as_kwargs())
    out = d.total("RMT85").iloc[0]
    u = s.units
    np.testing.assert_allclose(out["estimate"], (u["RMT85"] / u["pi"]).sum(), rtol=1e-12)
    poisson_var = ((1 - u["pi"]) * u["RMT85"] ** 2 / u["pi"] ** 2).sum()
    np.testing.assert_allclose(out["se"], np.sqrt(poisson_var), rtol=1e-12)
