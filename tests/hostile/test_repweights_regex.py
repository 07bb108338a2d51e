"""``ReplicateDesign(repweights=<pattern>)`` matches column names with RE2: no hang on a nested
quantifier, patterns RE2 cannot read are refused, ordinary patterns select the columns."""

import time

import numpy as np
import pandas as pd
import pytest

from estimation import ReplicateDesign
from surveycore import SurveyError


def _agency_file() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"PWGTP": rng.uniform(50, 150, 30), "AGEP": rng.integers(0, 90, 30).astype(float)})
    for k in range(1, 5):
        df[f"PWGTP{k}"] = df["PWGTP"] * rng.uniform(0.5, 1.5, 30)
    df["a" * 40 + "!"] = 1.0  # a long column name
    return df


def test_nested_quantifier_returns_at_once():
    df = _agency_file()
    start = time.perf_counter()
    with pytest.raises(SurveyError, match="no column matches"):
        ReplicateDesign(df, weights="PWGTP", repweights="(a+)+$", type="bootstrap")
    assert time.perf_counter() - start < 2.0  # Python's re: hours at 40 characters


@pytest.mark.parametrize("pattern", [r"(PWGTP)\1", r"PWGTP(?=\d)", "PWGTP[0-9"])
def test_patterns_re2_cannot_read_are_refused(pattern):
    with pytest.raises(SurveyError, match="RE2"):
        ReplicateDesign(_agency_file(), weights="PWGTP", repweights=pattern, type="bootstrap")


def test_ordinary_pattern_selects_the_replicate_columns():
    df = _agency_file()
    by_pattern = ReplicateDesign(df, weights="PWGTP", repweights=r"PWGTP[0-9]+", type="bootstrap")
    by_list = ReplicateDesign(df, weights="PWGTP", repweights=[f"PWGTP{k}" for k in range(1, 5)], type="bootstrap")
    a, b = by_pattern.mean("AGEP"), by_list.mean("AGEP")
    assert a["se"].iloc[0] == b["se"].iloc[0] > 0
    # by hand: bootstrap variance = Σ (θ_r − θ̄)² / (R − 1) (R's svrepdesign, mse=FALSE)
    reps = np.array([np.average(df["AGEP"], weights=df[f"PWGTP{k}"]) for k in range(1, 5)])
    assert a["se"].iloc[0] == pytest.approx(np.sqrt(np.sum((reps - reps.mean()) ** 2) / 3), rel=1e-10)
