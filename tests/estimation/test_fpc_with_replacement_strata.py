"""A sampling fraction of 0 in ``fpc`` marks a stratum drawn with replacement (R: ``n/0 = ∞``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore import SurveyError


@pytest.fixture
def sample():
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame({"st": np.repeat(["A", "B"], n // 2), "psu": [f"{i:03d}" for i in range(n)],
                         "y": rng.gamma(2.0, 3.0, n), "w": rng.uniform(2, 6, n),
                         "f": np.repeat([0.0, 0.25], n // 2)})


def test_zero_fraction_is_with_replacement(sample):
    mixed = SurveyDesign(sample, ids="psu", strata="st", weights="w", fpc="f").total("y", by="st")
    plain = SurveyDesign(sample, ids="psu", strata="st", weights="w").total("y", by="st")
    # closed form per stratum: v = (1 − f) n/(n − 1) Σ (z − z̄)², z = w y
    z = sample["w"] * sample["y"]
    for h, f in (("A", 0.0), ("B", 0.25)):
        zh = z[sample["st"] == h]
        v = (1 - f) * len(zh) / (len(zh) - 1) * ((zh - zh.mean()) ** 2).sum()
        np.testing.assert_allclose(mixed.set_index("st").loc[h, "se"] ** 2, v, rtol=1e-12)
    np.testing.assert_allclose(mixed.set_index("st").loc["A", "se"], plain.set_index("st").loc["A", "se"], rtol=1e-12)


def test_zero_is_not_a_population_size(sample):
    with pytest.raises(SurveyError, match="fpc must be positive"):
        SurveyDesign(sample.assign(f=np.repeat([0.0, 80.0], 20)), ids="psu", strata="st", weights="w", fpc="f")
    with pytest.raises(SurveyError, match="fpc must be positive"):
        SurveyDesign(sample.assign(f=-0.1), ids="psu", strata="st", weights="w", fpc="f")
