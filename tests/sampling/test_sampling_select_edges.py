"""Selection edge cases: every unit a certainty unit (cube too), sizes for strata that are not
in the frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sampling import draw_samples, select
from surveycore import SurveyError

METHODS = ["pps_systematic", "brewer", "sampford", "conditional_poisson", "tille", "cube"]


@pytest.mark.parametrize("method", METHODS)
def test_every_positive_unit_certain(method):
    frame = pd.DataFrame({"ea": ["0001", "0002", "0003"], "hh": [5, 0, 9], "x": [1.0, 2.0, 3.0]})
    kw = {"balance": "x"} if method == "cube" else {}
    u = select(frame, 2, method=method, size="hh", id="ea", seed=1, **kw).units
    assert u["ea"].tolist() == ["0001", "0003"]
    np.testing.assert_array_equal(u["pi"], 1.0)
    np.testing.assert_array_equal(u["weight"], 1.0)
    s = draw_samples(np.array([1.0, 0.0, 1.0]), method, 3, seed=1)
    np.testing.assert_array_equal(s, np.tile([True, False, True], (3, 1)))


def test_sizes_for_a_stratum_not_in_the_frame_are_refused():
    frame = pd.DataFrame({"ea": ["001", "002", "003", "004", "005", "006"],
                          "st": ["A", "A", "A", "B", "B", "B"]})
    with pytest.raises(SurveyError, match="not in the frame") as info:
        select(frame, {"A": 1, "B": 1, "C": 3}, method="srs", strata="st", id="ea", seed=1)
    assert info.value.argument == "n" and "'C'" in str(info.value)
    with pytest.raises(SurveyError, match="not in the frame"):
        select(frame, {"A": 1, "B ": 1, "B": 1}, method="srs", strata="st", id="ea", seed=1)
    with pytest.raises(SurveyError, match="missing for some strata"):
        select(frame, {"A": 1}, method="srs", strata="st", id="ea", seed=1)
    assert len(select(frame, {"A": 1, "B": 2}, method="srs", strata="st", id="ea",
                      seed=1).units) == 3
