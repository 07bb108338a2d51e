"""The design's factorised structure: codes as pandas' sorted factorize, read-only arrays."""

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore.groups import Groups


@pytest.mark.parametrize(
    "values",
    [
        np.array([7, -3, 7, 12, 0, -3]),  # narrow range: presence table
        np.array([10**12, 5, 10**12, -(10**11)]),  # wide range: hashed, then sorted
        np.array([True, False, True]),
        pd.Series(["007", "010", "007", "001"]),  # string ids with leading zeros
        pd.Series([2.5, 1.0, 2.5]),
    ],
)
def test_factorize_matches_pandas_sorted(values):
    groups, uniques = Groups.factorize(values)
    codes, expected = pd.factorize(pd.Series(values), sort=True)
    np.testing.assert_array_equal(groups.codes, codes)
    np.testing.assert_array_equal(uniques, np.asarray(expected))
    assert groups.n_groups == len(expected)


def _frame(ids_as_text: bool) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    psu = np.repeat(np.arange(12), 5)
    df = pd.DataFrame(
        {
            "region": np.where(psu < 6, "north", "south"),
            "ea": psu * 1000 + 17,
            "hh": psu * 10 + rng.integers(0, 3, psu.size),
            "n_ea": 40.0,
            "n_hh": 25.0,
            "wt": rng.uniform(10, 30, psu.size),
            "income": rng.normal(100, 20, psu.size),
        }
    )
    if ids_as_text:
        df["ea"] = df["ea"].map(lambda v: f"{v:08d}")
        df["hh"] = df["hh"].map(lambda v: f"{v:06d}")
    return df


def test_text_and_integer_ids_give_the_same_estimate():
    spec = dict(ids=["ea", "hh"], strata="region", fpc=["n_ea", "n_hh"], weights="wt")
    a = SurveyDesign(_frame(False), **spec).mean("income")
    b = SurveyDesign(_frame(True), **spec).mean("income")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)


def test_stage_arrays_and_weights_are_read_only():
    d = SurveyDesign(_frame(False), ids=["ea", "hh"], strata="region", fpc=["n_ea", "n_hh"], weights="wt")
    for stage in d.stages:
        for name in ("cluster", "stratum", "parent", "n_sampled", "popsize", "labels"):
            with pytest.raises(ValueError):
                getattr(stage, name)[0] = 0
    with pytest.raises(ValueError):
        d.weights[0] = 0.0
    assert list(d.stages[0].labels) == ["north", "south"]
