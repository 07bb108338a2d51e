"""Tillé's elimination refuses frames where its O(N²) cost would not finish, with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from sampling import inclusion_probabilities, select
from surveycore import SurveyError


def test_large_frame_is_refused_with_a_faster_method_suggested():
    size = np.random.default_rng(1).gamma(2.0, 50.0, 100_000)
    frame = {"id": np.arange(size.size), "size": size}
    import pandas as pd

    with pytest.raises(SurveyError) as err:
        select(pd.DataFrame(frame), 1_000, method="tille", size="size", id="id", seed=1)
    assert "conditional_poisson" in err.value.hint
    pi = inclusion_probabilities(size[:500], 20)
    assert np.isclose(pi.sum(), 20)
