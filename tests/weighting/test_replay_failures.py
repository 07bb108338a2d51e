"""Replicates that a bounded calibration cannot reach are refused with a SurveyError."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import load_data

from estimation import SurveyDesign, SurveyError
from weighting import Weights
from weighting.calfun import g_and_derivative

TARGETS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}


@pytest.mark.parametrize("kind, options", [("JK1", {}), ("bootstrap", {"replicates": 20, "seed": 1})])
def test_tight_logit_bounds_on_replicates_are_refused(kind, options):
    df = load_data("apiclus1")
    w = Weights(df, "pw").calibrate(TARGETS, method="logit", bounds=(0.7, 1.7))
    with pytest.raises(SurveyError) as err:
        SurveyDesign(df, ids="dnum", weights=w, fpc="fpc").replicate(kind, **options)
    assert err.value.argument == "bounds" and "widen" in err.value.hint


def test_logit_distance_is_finite_for_any_argument():
    u = np.array([-1e6, -50.0, 0.0, 50.0, 1e6])
    g, d = g_and_derivative("logit", u, 0.7, 1.7)
    assert np.isfinite(g).all() and np.isfinite(d).all()
    np.testing.assert_allclose(g[[0, 2, 4]], [0.7, 1.0, 1.7])
    # R's cal.logit closed form where it does not overflow
    L, U, A = 0.7, 1.7, (1.7 - 0.7) / (0.7 * 0.3)
    x = np.linspace(-0.5, 0.5, 11)
    e = np.exp(A * x)
    np.testing.assert_allclose(g_and_derivative("logit", x, L, U)[0], (L * (U - 1) + U * (1 - L) * e) / (U - 1 + (1 - L) * e), rtol=1e-13)


def test_targets_given_as_text_are_refused():
    df = load_data("apiclus1")
    with pytest.raises(SurveyError) as err:
        Weights(df, "pw").calibrate({"api99": "3914069"})
    assert "3914069" in err.value.found
    with pytest.raises(SurveyError):
        Weights(df, "pw").rake({"stype": {"E": "4421", "H": 755, "M": 1018}})
