"""select(): inputs, strata, reproducibility, the Sample and its design, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from sampling import Frame, allocate, inclusion_probabilities, select
from surveycore import SurveyError


@pytest.fixture()
def frame_df():
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame({
        "ea": np.arange(n) + 5000,
        "region": rng.choice(["N", "S", "E"], n),
        "urban": rng.integers(0, 2, n),
        "households": rng.integers(10, 300, n),
        "migrants": rng.poisson(5, n),
    })


@pytest.mark.parametrize("method", ["pps_systematic", "brewer", "sampford", "conditional_poisson",
                                    "maxentropy", "tille", "cube", "poisson"])
def test_pps_methods_report_pi_proportional_to_size_within_strata(frame_df, method):
    s = select(frame_df, 30, method=method, size="households", strata="region", id="ea", seed=1)
    u = s.units
    for region, grp in frame_df.groupby("region"):
        n_h = s.stages[0].sizes.set_index("stratum").loc[region, "n"]
        pi = inclusion_probabilities(grp["households"], n_h)
        np.testing.assert_allclose(s.frame_pi.loc[grp["ea"]].to_numpy(), pi)
        if method != "poisson":
            assert (u["region"] == region).sum() == n_h
    np.testing.assert_allclose(u["weight"], 1 / u["pi"])
    np.testing.assert_allclose(u["pi"], u["pi_1"])
    if method == "poisson":  # each unit is its own stratum: the Poisson variance
        assert s.design.strata == ["ea"] and s.design.fpc == ["pi_1"] and s.design.lonely_psu == "adjust"
    else:
        assert s.design.ids == ["ea"] and s.design.strata == ["region"] and s.design.fpc == ["fpc_1"]
        assert s.design.pps == "brewer"


def test_int_n_with_strata_is_allocated_proportionally_to_size(frame_df):
    s = select(frame_df, 300, method="sampford", size="households", strata="region", seed=1)
    sizes = s.stages[0].sizes.set_index("stratum")
    totals = frame_df.groupby("region")["households"].sum()
    exact = 300 * totals / totals.sum()
    assert sizes["n"].sum() == 300 == len(s.units)
    assert (np.abs(sizes["n"] - exact) < 1).all()


def test_reproducible_with_seed_and_accepts_polars_and_frame(frame_df):
    a = select(frame_df, 40, method="conditional_poisson", size="households", seed=9)
    b = select(pl.from_pandas(frame_df), 40, method="conditional_poisson", size="households", seed=9)
    c = select(Frame(frame_df, "ea", size="households"), 40, method="conditional_poisson", seed=9)
    pd.testing.assert_frame_equal(a.units.drop(columns="_row"), b.units.drop(columns="_row"),
                                  check_dtype=False)
    assert a.units["ea"].tolist() == c.units["ea"].tolist()
    d = select(frame_df, 40, method="conditional_poisson", size="households", seed=10)
    assert a.units["ea"].tolist() != d.units["ea"].tolist()
    assert "pi" not in frame_df.columns  # caller's frame untouched


def test_equal_probability_methods_and_strata_mapping(frame_df):
    alloc = allocate(frame_df.groupby("region").size(), 60, "equal")
    for method in ("srs", "systematic"):
        s = select(frame_df, alloc, method=method, strata="region", seed=2)
        counts = s.units.groupby("region").size()
        assert counts.tolist() == alloc.sizes.tolist()
        N_h = frame_df.groupby("region").size()
        np.testing.assert_allclose(s.units["pi"], (alloc.sizes / N_h).loc[s.units["region"]].to_numpy())
    s = select(frame_df, {("N", 0): 3, ("N", 1): 3, ("S", 0): 3, ("S", 1): 3, ("E", 0): 3,
                          ("E", 1): 3}, method="srs", strata=["region", "urban"], seed=1)
    assert len(s.units) == 18 and s.design.strata == ["stratum_1"]


def test_systematic_after_serpentine_sort_spreads_over_the_sort_key(frame_df):
    s = select(frame_df, 40, method="pps_systematic", size="households",
               sort=["region", "urban"], serpentine=True, seed=4)
    share = s.units["region"].value_counts(normalize=True).sort_index()
    expected = (frame_df.groupby("region")["households"].sum() /
                frame_df["households"].sum()).sort_index()
    assert (np.abs(share - expected) <= 1 / 40 + 1e-9).all()  # implicit stratification


def test_certainty_units(frame_df):
    df = frame_df.copy()
    df.loc[0, "households"] = 100_000
    s = select(df, 20, method="sampford", size="households", seed=1)
    assert 5000 in s.units["ea"].tolist()
    assert s.units.set_index("ea").loc[5000, "pi"] == 1.0


def test_refusals(frame_df):
    with pytest.raises(SurveyError, match="larger than the frame"):
        select(frame_df, 401, method="srs")
    with pytest.raises(SurveyError, match="larger than stratum 'N'"):
        select(frame_df, {"N": 1000, "S": 1, "E": 1}, method="srs", strata="region")
    with pytest.raises(SurveyError, match="missing for some strata"):
        select(frame_df, {"N": 1}, method="srs", strata="region")
    bad = frame_df.copy()
    bad.loc[3, "households"] = -1
    with pytest.raises(SurveyError, match="negative"):
        select(bad, 10, method="sampford", size="households")
    bad.loc[3, "households"] = np.nan
    with pytest.raises(SurveyError, match="missing"):
        select(bad, 10, method="sampford", size="households")
    zero = frame_df.copy()
    zero["households"] = 0
    zero.loc[:4, "households"] = 1
    with pytest.raises(SurveyError, match="positive size"):
        select(zero, 6, method="brewer", size="households")
    with pytest.raises(SurveyError, match="needs a measure of size"):
        select(frame_df, 10, method="sampford")
    with pytest.raises(SurveyError, match="equal probabilities"):
        select(frame_df, 10, method="srs", size="households")
    with pytest.raises(SurveyError, match="unknown value"):
        select(frame_df, 10, method="pps_random")
    with pytest.raises(SurveyError, match="whole number"):
        select(frame_df, 10.5, method="srs")


@pytest.mark.parametrize("method", ["pps_systematic", "sampford", "conditional_poisson", "tille",
                                    "srs", "systematic", "poisson"])
def test_sample_joint_probabilities_match_the_full_matrix(method):
    from sampling import joint_inclusion_probabilities

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"ea": np.arange(60) + 100, "households": rng.integers(10, 100, 60),
                       "region": rng.choice(["a", "b"], 60)})
    pps = method not in ("srs", "systematic")
    s = select(df, 12, method=method, size="households" if pps else None, strata="region",
               sort="households" if "systematic" in method else None, id="ea", seed=3)
    P = s.joint_probabilities()
    kind = {"pps_systematic": "systematic"}.get(method, method)
    for region, grp in df.groupby("region"):
        grp = grp.sort_values("households", kind="stable") if "systematic" in method else grp
        n_h = s.stages[0].sizes.set_index("stratum").loc[region, "n"]
        pi = (inclusion_probabilities(grp["households"], n_h).to_numpy() if pps
              else np.full(len(grp), n_h / len(grp)))
        ids = grp["ea"].to_numpy()
        full = pd.DataFrame(joint_inclusion_probabilities(pi, kind), index=ids, columns=ids)
        chosen = s.units.loc[s.units["region"] == region, "ea"].to_numpy()
        np.testing.assert_allclose(P.loc[chosen, chosen], full.loc[chosen, chosen], rtol=1e-9)
    a = s.units["region"] == "a"
    b = ~a
    ea_a, ea_b = s.units.loc[a, "ea"].to_numpy(), s.units.loc[b, "ea"].to_numpy()
    np.testing.assert_allclose(P.loc[ea_a, ea_b],
                               np.outer(s.units.loc[a, "pi"], s.units.loc[b, "pi"]))


def test_sample_joint_probabilities_refuse_methods_without_formula(frame_df):
    s = select(frame_df, 10, method="brewer", size="households", seed=1)
    with pytest.raises(SurveyError, match="no exact joint"):
        s.joint_probabilities()
    P = s.joint_probabilities("brewer")
    assert P.shape == (10, 10)


def test_cube_through_select_balances_on_named_columns(frame_df):
    s = select(frame_df, 60, method="cube", size="households", balance="migrants", seed=4)
    assert len(s.units) == 60
    ht = (s.units["migrants"] / s.units["pi"]).sum()
    assert abs(ht / frame_df["migrants"].sum() - 1) < 0.03
    with pytest.raises(SurveyError, match="cube method"):
        select(frame_df, 60, method="sampford", size="households", balance="migrants")


def test_serpentine_sort_with_two_strata_columns_keeps_strata_apart(frame_df):
    df = frame_df.assign(district=np.arange(len(frame_df)) % 7)
    s = select(df, {(r, u): 2 for r in "NSE" for u in (0, 1)}, method="pps_systematic",
               size="households", strata=["region", "urban"], sort="district", serpentine=True,
               id="ea", seed=1)
    assert s.units.groupby(["region", "urban"]).size().eq(2).all()
    for _, grp in df.groupby(["region", "urban"]):
        pi = inclusion_probabilities(grp["households"], 2)
        np.testing.assert_allclose(s.frame_pi.loc[grp["ea"].to_numpy()], pi)
