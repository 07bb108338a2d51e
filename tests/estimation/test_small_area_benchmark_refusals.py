"""Benchmarking refuses what it cannot do: a group whose weights are all 0, a ratio factor that
is not positive and of sensible size, a target that is not a number; a large factor is kept
with a warning; otherwise the benchmarked estimates add to the target (closed form)."""

import numpy as np
import pandas as pd
import pytest

from estimation import fay_herriot
from surveycore import SurveyError, SurveyWarning


def _districts(m: int = 20, seed: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, m)
    psi = rng.uniform(0.5, 2, m)
    y = 10 + 2 * x + rng.normal(0, 1, m) + rng.normal(0, np.sqrt(psi))
    d = pd.DataFrame({"district": [f"{i:03d}" for i in range(m)], "y": y, "v": psi, "x": x})
    return d, x


def test_zero_weight_group_is_refused():
    d, x = _districts()
    pop = pd.DataFrame({"district": [f"{i:03d}" for i in range(23)], "x": np.r_[x, 0.2, 0.5, 0.9],
                        "pop": np.r_[np.ones(20), 0, 0, 0], "region": ["N"] * 10 + ["S"] * 10 + ["E"] * 3})
    fh = fay_herriot(d, "y", "v", ["x"], area="district", population=pop)
    with pytest.raises(SurveyError, match="no weight") as info:
        fh.benchmark({"N": 12, "S": 12, "E": 12}, weights="pop", by="region")
    assert "'E'" in str(info.value)


@pytest.mark.parametrize("target", [1.0, -1.0, 0.0])
def test_ratio_factor_near_zero_sum_or_other_sign_is_refused(target):
    d, _ = _districts()
    d = d.assign(y=d["y"] - d["y"].mean() + 0.002)  # EBLUPs summing to about 0
    fh = fay_herriot(d, "y", "v", ["x"], area="district")
    with pytest.raises(SurveyError, match="ratio benchmarking would multiply") as info:
        fh.benchmark(target, method="ratio")
    assert "difference" in str(info.value)
    # the difference method is defined here and hits the target exactly
    b = fh.benchmark(target, method="difference")
    assert b.table["eblup"].sum() == pytest.approx(target, abs=1e-9)


def test_large_ratio_factor_warns_and_is_recorded():
    d, _ = _districts()
    fh = fay_herriot(d, "y", "v", ["x"], area="district")
    s = float(fh.table["eblup"].sum())
    with pytest.warns(SurveyWarning, match="factor of two"):
        b = fh.benchmark(3 * s, method="ratio")
    np.testing.assert_allclose(b.table["eblup"], 3 * fh.table["eblup"], rtol=1e-12)
    assert b.metadata["benchmark"]["warnings"]
    quiet = fh.benchmark(1.1 * s, method="ratio")
    assert quiet.metadata["benchmark"]["warnings"] == []


def test_target_that_is_not_a_number_is_refused():
    d, _ = _districts()
    fh = fay_herriot(d, "y", "v", ["x"], area="district")
    for bad in ("abc", None, [1, 2]):
        with pytest.raises(SurveyError):
            fh.benchmark(bad)


@pytest.mark.parametrize("make", [
    lambda m: pd.Series(pd.date_range("2015-01-01", periods=m, freq="D")),
    lambda m: pd.Series(pd.to_timedelta(np.arange(m), unit="D")),
    lambda m: pd.Series(pd.Categorical(np.where(np.arange(m) % 2, "urban", "rural"))),
])
def test_auxiliary_that_is_not_numeric_is_named(make):
    d, _ = _districts()
    d["census_date"] = make(len(d)).array
    with pytest.raises(SurveyError, match="'census_date' is not numeric"):
        fay_herriot(d, "y", "v", ["x", "census_date"], area="district")
