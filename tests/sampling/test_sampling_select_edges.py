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


def test_stratum_without_positive_sizes_warns_clearly():
    import warnings

    from sampling import allocate
    from surveycore import SurveyWarning

    frame = pd.DataFrame({"ea": ["1", "2", "3", "4"], "st": ["A", "A", "B", "B"],
                          "hh": [3, 5, 0, 0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = select(frame, 1, method="sampford", size="hh", strata="st", id="ea", seed=1)
    assert [w.category for w in caught] == [SurveyWarning]
    assert "'B'" in str(caught[0].message) and "inclusion probability 0" in str(caught[0].message)
    assert s.stages[0].detail["warnings"] == (str(caught[0].message),)
    assert s.stages[0].sizes["n"].tolist() == [1, 0]
    # a stratum of N_h = 0 has no sampling fraction: NaN, without a numpy warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = allocate({"A": 8, "B": 0}, 1)
    assert np.isnan(a.table.loc["B", "fraction"]) and a.table.loc["A", "fraction"] == 1 / 8
