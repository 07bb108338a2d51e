"""Independent routes to one number give one number (as R survey's own tests do)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_data import load_data

from estimation import SurveyDesign
from surveycore import SurveyError


def clus1():
    return SurveyDesign(load_data("apiclus1"), ids="dnum", weights="pw", fpc="fpc")


def test_subset_mean_equals_by_mean_equals_ratio_of_totals():
    d = clus1()
    df = d.data
    by = d.mean("api00", by="stype").set_index("stype")
    sub = d.subset(df["stype"] == "H").mean("api00").iloc[0]
    frame = df.assign(y_h=df["api00"] * (df["stype"] == "H"), one_h=(df["stype"] == "H").astype(float))
    ratio = SurveyDesign(frame, ids="dnum", weights="pw", fpc="fpc").ratio("y_h", "one_h").iloc[0]
    for col in ("estimate", "se"):
        np.testing.assert_allclose(sub[col], by.loc["H", col], rtol=1e-12)
        np.testing.assert_allclose(ratio[col], by.loc["H", col], rtol=1e-12)


def test_total_of_indicator_is_proportion_times_population():
    d = clus1()
    df = d.data.assign(yes=(d.data["awards"] == "Yes").astype(float))
    d2 = SurveyDesign(df, ids="dnum", weights="pw", fpc="fpc")
    total = d2.total("yes").iloc[0]["estimate"]
    share = d2.mean("awards").set_index("level").loc["Yes", "estimate"]
    np.testing.assert_allclose(total, share * df["pw"].sum(), rtol=1e-12)


def test_categorical_total_levels_sum_to_population():
    d = clus1()
    out = d.total("stype")
    np.testing.assert_allclose(out["estimate"].sum(), d.data["pw"].sum(), rtol=1e-12)


def test_na_rm_is_a_domain_not_a_deletion():
    df = load_data("apiclus2")
    d = SurveyDesign(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    via_na_rm = d.total("enroll", na_rm=True).iloc[0]
    via_subset = d.subset(df["enroll"].notna().to_numpy()).total("enroll", na_rm=True).iloc[0]
    np.testing.assert_allclose(via_na_rm["se"], via_subset["se"], rtol=1e-12)


def test_deff_of_srs_without_replacement_is_one():
    d = SurveyDesign(load_data("apisrs"), fpc="fpc")
    np.testing.assert_allclose(d.mean(["api00", "enroll"], deff=True)["deff"], 1.0, rtol=1e-10)


def test_many_domains_in_one_pass_match_subsets():
    d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    grid = d.mean(["api00", "enroll"], by=["stype", "awards", "sch.wide"])
    for _, row in grid.sample(5, random_state=1).iterrows():
        mask = (d.data["stype"] == row["stype"]) & (d.data["awards"] == row["awards"]) & (d.data["sch.wide"] == row["sch.wide"])
        sub = d.subset(mask).mean(row["variable"]).iloc[0]
        np.testing.assert_allclose([sub["estimate"], sub["se"]], [row["estimate"], row["se"]], rtol=1e-10)
        assert sub["n"] == row["n"] == mask.sum()


# -- properties ------------------------------------------------------------------------------

frames = st.integers(min_value=0, max_value=10_000)


def _design(df, weights="pw"):
    return SurveyDesign(df, ids="dnum", weights=weights, fpc="fpc")


@given(seed=frames)
def test_zero_weight_equals_removing_the_row_for_point_estimates(seed):
    rng = np.random.default_rng(seed)
    df = load_data("apiclus1")
    drop = rng.choice(len(df), 5, replace=False)
    zeroed = df.assign(pw=np.where(np.isin(np.arange(len(df)), drop), 0.0, df["pw"]))
    a = _design(zeroed).mean(["api00", "enroll"], by="stype")["estimate"].to_numpy()
    b = _design(df.drop(index=drop)).mean(["api00", "enroll"], by="stype")["estimate"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12)


@given(seed=frames)
def test_row_order_does_not_matter(seed):
    df = load_data("apistrat")
    shuffled = df.sample(frac=1.0, random_state=seed)
    a = SurveyDesign(df, strata="stype", weights="pw", fpc="fpc").mean(["api00", "awards"], by="sch.wide")
    b = SurveyDesign(shuffled, strata="stype", weights="pw", fpc="fpc").mean(["api00", "awards"], by="sch.wide")
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


@given(scale=st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_weights_leaves_means_and_ses_unchanged(scale):
    df = load_data("apiclus1")
    a = SurveyDesign(df, ids="dnum", weights="pw").mean(["api00", "enroll"], by="stype")
    b = SurveyDesign(df.assign(pw=df["pw"] * scale), ids="dnum", weights="pw").mean(["api00", "enroll"], by="stype")
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-9)


def test_rows_with_missing_by_values_belong_to_no_domain():
    df = pd.DataFrame(
        {
            "psu": [1, 2, 3, 4, 5, 6],
            "w": [1.0] * 6,
            "y": [1.0, 2, 3, 4, 5, 6],
            "a": ["x", "x", None, "y", "y", "y"],
            "b": [1, 1, 1, 2, np.nan, 2],
        }
    )
    d = SurveyDesign(df, ids="psu", weights="w")
    with pytest.raises(SurveyError, match="domain variables have missing values"):
        d.mean("y", by=["a", "b"])
    two = d.mean("y", by=["a", "b"], na_rm=True)
    assert two[["a", "estimate", "n"]].values.tolist() == [["x", 1.5, 2], ["y", 5.0, 2]]
    one = d.mean("y", by="a", na_rm=True)
    assert one["n"].tolist() == [2, 3]
    # a domain empty in a subset disappears from that subset's table
    assert d.subset((df["a"] == "y").to_numpy()).mean("y", by="a")["a"].tolist() == ["y"]


def test_reported_df_is_the_domain_design_df_or_the_one_asked_for():
    d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    by = d.mean("api00", by="stype").set_index("stype")
    sub = d.subset((d.data["stype"] == "E").to_numpy()).mean("api00").iloc[0]
    assert by.loc["E", "df"] == sub["df"] == 99
    assert d.mean("api00", level=0.9, df=10)["df"].iloc[0] == 10
    c2 = load_data("apiclus2")
    d2 = SurveyDesign(c2, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    via_na_rm = d2.total("enroll", na_rm=True)["df"].iloc[0]
    via_subset = d2.subset(c2["enroll"].notna().to_numpy()).total("enroll", na_rm=True)["df"].iloc[0]
    assert via_na_rm == via_subset


def test_level_is_none_for_numeric_variables_next_to_categorical_ones():
    d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw")
    out = d.mean(["api00", "stype"])
    assert out["level"].iloc[0] is None and out["level"].iloc[1] == "E"
