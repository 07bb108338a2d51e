"""Replicate weights from agencies: calibrated JKn/SDR/BRR files (R references in
tests/reference/replicates_import.R), certainty PSUs, SDR order, and our own exports re-imported."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import ReplicateDesign, SurveyDesign
from surveycore import SurveyError, SurveyWarning

REF = Path(__file__).parents[1] / "reference"
DATA = Path(__file__).parents[1] / "data"
CASES = {c["id"]: c for c in json.loads((REF / "replicates_import.json").read_text())["cases"]}


def check(case_id, frame, se_atol=0.0):
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.atleast_1d(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.atleast_1d(case["se"]), rtol=1e-8, atol=se_atol)


def strat20():
    st = load_data("apistrat")
    return pd.concat([st[st["stype"] == s].head(20) for s in ("E", "H", "M")], ignore_index=True)


@pytest.mark.parametrize("kind", ["jkn", "sdr"])
def test_calibrated_agency_weights(kind):
    st = strat20()
    reps = pd.read_csv(DATA / f"apistrat_{kind}_cal.csv")
    assert (reps["snum"].to_numpy() == st["snum"].to_numpy()).all()
    df = pd.concat([st, reps.drop(columns="snum")], axis=1)
    kw = dict(weights="cal_w", repweights="rw[0-9]+")
    if kind == "jkn":
        kw.update(type="JKn", rscales=CASES["jkn_design"]["rscales"], scale=CASES["jkn_design"]["scale"])
    else:
        kw.update(type="SDR")
    with pytest.raises(SurveyError, match="calibrated=True"):
        ReplicateDesign(df, **kw)
    with pytest.warns(SurveyWarning, match="calibrated"):
        d = ReplicateDesign(df, calibrated=True, **kw)
    assert d.notes and "calibrated" in d.notes[0]
    check(f"{kind}_cal_mean", d.mean(["api00", "enroll"]))
    check(f"{kind}_cal_total", d.total("enroll"))
    check(f"{kind}_cal_by_mean", d.mean("api00", by="awards"))


def test_calibrated_brr():
    scd = load_data("scd")
    reps = pd.read_csv(DATA / "scd_brr_cal.csv")
    df = pd.concat([scd, reps], axis=1)
    with pytest.warns(SurveyWarning):
        d = ReplicateDesign(df, weights="cal_w", repweights="rw[0-9]+", type="BRR", calibrated=True)
    check("brr_cal_mean", d.mean(["alive", "arrests"]), se_atol=1e-9)


def test_structural_checks_still_refuse_calibrated_jackknife():
    st = strat20()
    reps = pd.read_csv(DATA / "apistrat_jkn_cal.csv").drop(columns="snum")
    reps["rw1"] = reps["rw2"]  # a replicate that deletes nobody new: two replicates delete one unit
    df = pd.concat([st, reps], axis=1)
    with pytest.raises(SurveyError, match="more than once"):
        ReplicateDesign(df, weights="cal_w", repweights="rw[0-9]+", type="JKn",
                        rscales=CASES["jkn_design"]["rscales"], calibrated=True)


@pytest.mark.parametrize("type_, options", [
    ("JK1", {}), ("JKn", {}), ("bootstrap", {"replicates": 20, "seed": 3}), ("SDR", {}),
    ("BRR", {}), ("Fay", {"rho": 0.3})])
def test_own_exports_round_trip(type_, options):
    if type_ == "JK1":
        d = SurveyDesign(load_data("apiclus1"), ids="dnum", weights="pw", fpc="fpc")
    elif type_ in ("BRR", "Fay"):
        scd = load_data("scd").assign(strata=[1, 1, 2, 2, 3, 3], psu=[1, 2, 1, 2, 1, 2], w=1.0)
        d = SurveyDesign(scd, ids="psu", strata="strata", nest=True, weights="w")
    else:  # with fpc: SDR and the bootstrap shrink their factors by √(1 − f)
        d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    r = d.replicate(type_, **options)
    weight = "pw" if "pw" in d.data else "w"
    frame = pd.concat([d.data, r.replicate_weights()], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: our own factors follow the patterns exactly
        back = ReplicateDesign(frame, weights=weight, repweights="rw[0-9]+", **r.replicate_spec())
    var = "alive" if type_ in ("BRR", "Fay") else "api00"
    pd.testing.assert_frame_equal(back.mean(var), r.mean(var), rtol=1e-12)


def test_certainty_psus_keep_their_weight():
    scd = load_data("scd").assign(strata=[1, 1, 2, 2, 3, 3], psu=[1, 2, 1, 2, 1, 2], w=1.0)
    r = SurveyDesign(scd, ids="psu", strata="strata", nest=True, weights="w").replicate("BRR")
    extra = scd.iloc[:2].assign(alive=[30, 40], w=1.0)
    rw = r.replicate_weights()
    rows = pd.concat([pd.concat([scd, rw], axis=1),
                      pd.concat([extra.reset_index(drop=True),
                                 pd.DataFrame(1.0, index=range(2), columns=rw.columns)], axis=1)],
                     ignore_index=True)
    rows["certain"] = [False] * 6 + [True] * 2
    with pytest.raises(SurveyError, match="BRR pattern"):
        ReplicateDesign(rows, weights="w", repweights="rw[0-9]+", type="BRR")
    d = ReplicateDesign(rows, weights="w", repweights="rw[0-9]+", type="BRR", certainty="certain")
    # certainty units add a constant to every replicate total: same SE as without them
    assert d.total("alive")["se"].iloc[0] == pytest.approx(r.total("alive")["se"].iloc[0], rel=1e-12)
    bad = rows.assign(rw1=np.where(rows["certain"], 0.5, rows["rw1"]))
    with pytest.raises(SurveyError, match="certainty"):
        ReplicateDesign(bad, weights="w", repweights="rw[0-9]+", type="BRR", certainty="certain")


def test_sdr_follows_an_explicit_order():
    """With R ≥ P + 1 replicates SDR's variance of a total is ½ Σ_h Σ_i (y_i − y_{i−1})², circular
    in the order of the sort column (Fay & Train 1995)."""
    rng = np.random.default_rng(5)
    n = 14
    df = pd.DataFrame({"hh": [f"{i:04d}" for i in range(n)], "region": np.repeat(["A", "B"], n // 2),
                       "serp": rng.permutation(n), "y": rng.gamma(2.0, 3.0, n), "w": 1.0})
    d = SurveyDesign(df, ids="hh", strata="region", weights="w")
    se = d.replicate("SDR", order="serp").total("y")["se"].iloc[0]
    expected = 0.0
    for _, g in df.groupby("region"):
        y = g.sort_values("serp")["y"].to_numpy()
        expected += 0.5 * np.sum((y - np.roll(y, 1)) ** 2)
    assert se**2 == pytest.approx(expected, rel=1e-10)
    row_order = d.replicate("SDR").total("y")["se"].iloc[0]
    assert row_order != pytest.approx(se, rel=1e-6)
    with pytest.raises(SurveyError, match="SDR only"):
        d.replicate("JKn", order="serp")
    with pytest.raises(SurveyError, match="varies within a PSU"):
        SurveyDesign(df.assign(psu=np.repeat(np.arange(7), 2)), ids="psu", weights="w").replicate(
            "SDR", order="serp")
