"""Bad input is refused with a SurveyError naming the argument; the caller's data is untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign, SurveyError


@pytest.fixture
def strat():
    return load_data("apistrat")


def test_missing_column(strat):
    with pytest.raises(SurveyError) as err:
        SurveyDesign(strat, strata="nope", weights="pw")
    assert err.value.argument == "strata" and "nope" in err.value.found


def test_unknown_analysis_variable(strat):
    d = SurveyDesign(strat, strata="stype", weights="pw")
    with pytest.raises(SurveyError) as err:
        d.mean("missing_var")
    assert err.value.argument == "variables"


@pytest.mark.parametrize(
    "bad, fragment",
    [(np.nan, "missing"), (np.inf, "infinite"), (-1.0, "negative")],
)
def test_bad_weights(strat, bad, fragment):
    strat.loc[3, "pw"] = bad
    with pytest.raises(SurveyError) as err:
        SurveyDesign(strat, strata="stype", weights="pw")
    assert err.value.argument == "weights" and fragment in str(err.value)


def test_zero_sum_weights(strat):
    strat["pw"] = 0.0
    with pytest.raises(SurveyError, match="sum to zero"):
        SurveyDesign(strat, strata="stype", weights="pw")


def test_nan_in_analysis_variable_needs_na_rm():
    df = load_data("apiclus2")
    d = SurveyDesign(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    with pytest.raises(SurveyError) as err:
        d.total("enroll")
    assert "na_rm" in err.value.hint
    assert np.isfinite(d.total("enroll", na_rm=True)["se"]).all()


def test_fpc_smaller_than_sample(strat):
    strat["fpc"] = 10
    with pytest.raises(SurveyError, match="smaller than the number"):
        SurveyDesign(strat, strata="stype", weights="pw", fpc="fpc")


def test_probabilities_outside_unit_interval(strat):
    strat["p"] = 1 / strat["pw"]
    strat.loc[0, "p"] = 1.5
    with pytest.raises(SurveyError) as err:
        SurveyDesign(strat, strata="stype", probs="p")
    assert err.value.argument == "probs"


def test_lonely_psu_fail_lists_strata_and_options():
    df = load_data("apiclus1")
    df["str"] = np.where(df["dnum"] == 413, "single", df["stype"])
    with pytest.raises(SurveyError) as err:
        SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True)
    assert "single" in err.value.found
    assert "adjust" in err.value.hint and "certainty" in err.value.hint


def test_psu_repeated_across_strata_needs_nest():
    df = pd.DataFrame({"h": [1, 1, 2, 2], "psu": [1, 2, 1, 2], "w": [1.0] * 4, "y": [1.0, 2, 3, 4]})
    with pytest.raises(SurveyError) as err:
        SurveyDesign(df, ids="psu", strata="h", weights="w")
    assert err.value.argument == "nest"
    SurveyDesign(df, ids="psu", strata="h", weights="w", nest=True)


def test_unknown_option(strat):
    with pytest.raises(SurveyError) as err:
        SurveyDesign(strat, strata="stype", weights="pw", lonely_psu="ignore")
    assert err.value.argument == "lonely_psu"


def test_subset_mask_must_be_aligned(strat):
    d = SurveyDesign(strat, strata="stype", weights="pw")
    with pytest.raises(SurveyError):
        d.subset(np.ones(3, dtype=bool))
    with pytest.raises(SurveyError, match="empty"):
        d.subset(np.zeros(len(strat), dtype=bool))


def test_caller_frame_never_modified(strat):
    before = strat.copy()
    d = SurveyDesign(strat, strata="stype", weights="pw", fpc="fpc")
    d.mean(["api00", "awards"], by="stype", deff=True)
    d.subset(strat["stype"] == "E").total("enroll")
    d.quantile("api00", [0.5], by="awards")
    pd.testing.assert_frame_equal(strat, before)


def test_weights_built_on_other_rows_are_refused():
    from weighting import Weights

    clus1 = load_data("apiclus1")
    w = Weights(clus1, "pw").rake({"stype": {"E": 4421, "H": 755, "M": 1018}})
    SurveyDesign(clus1, ids="dnum", weights=w, fpc="fpc")  # same rows: fine
    shuffled = clus1.sample(frac=1, random_state=3)
    for other in (shuffled, shuffled.reset_index(drop=True), clus1.iloc[:-1]):
        with pytest.raises(SurveyError) as err:
            SurveyDesign(other, ids="dnum", weights=w, fpc="fpc")
        assert err.value.argument == "weights" and "w.data" in err.value.hint
