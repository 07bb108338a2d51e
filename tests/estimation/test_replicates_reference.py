"""Replicate designs against R survey 4.1.

Cases from tests/reference/r_survey_reference.json and tests/reference/replicates_reference.json
(made by tests/reference/replicates_cases.R).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data, reference_case

from estimation import SurveyDesign
from estimation.replicates import PsuLayout, ReplicateDesign, generate

RTOL = 1e-8
REF = Path(__file__).parents[1] / "reference" / "replicates_reference.json"


@cache
def _rep_cases() -> dict:
    return {c["id"]: c for c in json.loads(REF.read_text())["cases"]}


def case(case_id: str) -> dict:
    try:
        return reference_case(case_id)
    except KeyError:
        return _rep_cases()[case_id]


def survey_design(case_id: str) -> SurveyDesign:
    c = case(case_id)
    spec = c["design"]
    return SurveyDesign(
        load_data(c["data"]),
        ids=spec.get("ids"),
        strata=spec.get("strata"),
        weights=spec.get("weights"),
        fpc=spec.get("fpc"),
        probs=None if spec.get("probs") in (None, 1) else spec.get("probs"),
        nest=bool(spec.get("nest", False)),
    )


def check(frame: pd.DataFrame, case_id: str, names: list[str], columns=("estimate", "se")):
    values = case(case_id)["values"]
    assert len(frame) == len(values) == len(names)
    for name, (_, row) in zip(names, frame.iterrows()):
        ref = next(v for v in values if str(v["name"]) == name)
        for col in columns:
            np.testing.assert_allclose(row[col], ref[col], rtol=RTOL, err_msg=f"{case_id} {name} {col}")


# -- generated factor matrices equal R's ------------------------------------------------------
@pytest.mark.parametrize(
    "case_id, type, kw",
    [
        ("factors_clus1_jk1", "JK1", {}),
        ("factors_strat_jkn", "JKn", {}),
        ("factors_nhanes_jkn", "JKn", {}),
        ("factors_syn_brr", "BRR", {}),
        ("factors_syn_fay", "Fay", {"rho": 0.5}),
        ("factors_syn16_brr", "BRR", {}),
    ],
)
def test_factor_matrix_matches_r(case_id, type, kw):
    d = survey_design(case_id)
    layout = PsuLayout.from_stage(d.stages[0])
    rf = generate(layout, type, **kw)
    note = case(case_id)["note"]
    expected = np.array(note["factors"], dtype=float)
    mine = rf.factors[np.argsort(layout.first_row)]  # R lists PSUs in order of appearance
    np.testing.assert_allclose(mine, expected, rtol=RTOL)
    np.testing.assert_allclose(rf.scale, note["scale"], rtol=RTOL)
    np.testing.assert_allclose(rf.rscales, note["rscales"], rtol=RTOL)
    rd = d.replicate(type, **kw)
    assert rd.degf() == note["degf"]


def test_scd_brr_factors_match_r_note():
    d = survey_design("scd_brr_total")
    layout = PsuLayout.from_stage(d.stages[0])
    rf = generate(layout, "BRR")
    expected = np.array(reference_case("scd_brr_total")["note"]["repweights"], dtype=float)
    np.testing.assert_allclose(rf.factors[np.argsort(layout.first_row)], expected)


# -- estimates ----------------------------------------------------------------------------------
def test_clus1_jk1_mean():
    r = survey_design("clus1_jk1_mean").replicate("JK1")
    check(r.mean(["api00", "enroll"]), "clus1_jk1_mean", ["api00", "enroll"])
    note = reference_case("clus1_jk1_mean")["note"]
    np.testing.assert_allclose(r.scale, note["scale"], rtol=RTOL)
    assert r.n_replicates == note["n_replicates"]


def test_clus1_jk1_ratio():
    r = survey_design("clus1_jk1_ratio").replicate("JK1")
    check(r.ratio("api00", "api99"), "clus1_jk1_ratio", ["ratio"])


def test_strat_jkn_mean_and_cross_route():
    d = survey_design("strat_jkn_mean")
    r = d.replicate("JKn")
    out = r.mean("api00")
    check(out, "strat_jkn_mean", ["api00"])
    # JKn of a linear statistic equals the linearised SE (R gives the same number)
    np.testing.assert_allclose(out["se"].iloc[0], d.mean("api00")["se"].iloc[0], rtol=RTOL)
    np.testing.assert_allclose(
        np.unique(np.round(r.rscales, 12)),
        np.sort(reference_case("strat_jkn_mean")["note"]["rscales_unique"]),
        rtol=1e-10,
    )


def test_strat_jkn_by():
    r = survey_design("strat_jkn_by").replicate("JKn")
    check(r.mean("api00", by="awards"), "strat_jkn_by", ["No", "Yes"])


def test_scd_brr_and_fay_total():
    d = survey_design("scd_brr_total")
    check(d.replicate("BRR").total(["arrests", "alive"]), "scd_brr_total", ["arrests", "alive"])
    check(d.replicate("Fay", rho=0.3).total(["arrests", "alive"]), "scd_fay_total", ["arrests", "alive"])
    check(d.replicate("BRR", rho=0.3).total(["arrests", "alive"]), "scd_fay_total", ["arrests", "alive"])


def test_strat_bootstrap_given():
    # R's call passes no scale: svrepdesign's default 1/(R - 1) for type="bootstrap"
    df = load_data("apistrat_bootstrap50")
    r = ReplicateDesign(df, weights="pw", repweights="rw[0-9]+", type="bootstrap")
    check(r.mean(["api00", "enroll"]), "strat_bootstrap_given_mean", ["api00", "enroll"])
    r = ReplicateDesign(df, weights="pw", repweights=[f"rw{i}" for i in range(1, 51)], type="bootstrap", mse=True)
    check(r.mean("api00"), "strat_bootstrap_given_mse", ["api00"])


def test_supplied_equals_generated_jk1():
    d = survey_design("clus1_jk1_mean")
    r = d.replicate("JK1")
    df = pd.concat([load_data("apiclus1"), r.replicate_weights()], axis=1)
    s = ReplicateDesign(df, weights="pw", repweights="rw[0-9]+", type="JK1", scale=r.scale)
    check(s.mean(["api00", "enroll"]), "clus1_jk1_mean", ["api00", "enroll"])
    assert s.degf() == r.degf() == 14
    u = ReplicateDesign(
        df.assign(**{c: df[c] / df["pw"] for c in r.replicate_weights().columns}),
        weights="pw", type="JK1", scale=r.scale, combined_weights=False,
    )
    check(u.mean(["api00", "enroll"]), "clus1_jk1_mean", ["api00", "enroll"])


def test_nhanes_jkn_mean_na_rm():
    r = survey_design("nhanes_jkn_mean").replicate("JKn")
    check(r.mean("HI_CHOL", na_rm=True), "nhanes_jkn_mean", ["HI_CHOL"])


def test_synthetic_brr_fay():
    d = survey_design("factors_syn_brr")
    check(d.replicate("Fay", rho=0.5).total("y"), "syn_fay_total", ["y"])
    by = d.replicate("BRR").mean("y", by="h")
    check(by, "syn_brr_ratio_by", list(by["h"].astype(str)))
    d16 = survey_design("factors_syn16_brr")
    check(d16.replicate("BRR").mean("y"), "syn16_brr_mean", ["y"])


def test_clus1_jk1_domains_and_factor_totals():
    r = survey_design("clus1_jk1_mean").replicate("JK1")
    by = r.mean("api00", by="stype")
    check(by, "clus1_jk1_by", list(by["stype"]))
    tot = r.total("stype")
    check(tot, "clus1_jk1_total_factor", ["stype" + str(v) for v in tot["level"]])
    sub = r.subset(r.data["stype"] == "E").mean("api00")
    check(sub, "clus1_jk1_subset_mean", ["api00"])


def test_strat_jkn_ratio_and_mse():
    d = survey_design("strat_jkn_mean")
    check(d.replicate("JKn").ratio("api00", "api99"), "strat_jkn_ratio", ["ratio"])
    check(d.replicate("JKn", mse=True).mean("api00"), "strat_jkn_mse_mean", ["api00"])


def test_supplied_jkn_with_rscales_and_brr():
    d = survey_design("strat_jkn_mean")
    r = d.replicate("JKn")
    df = pd.concat([load_data("apistrat"), r.replicate_weights()], axis=1)
    s = ReplicateDesign(df, weights="pw", repweights="rw[0-9]+", type="JKn", rscales=r.rscales)
    check(s.mean("api00"), "strat_jkn_mean", ["api00"])
    scd = survey_design("scd_brr_total")
    b = scd.replicate("BRR")
    df = pd.concat([load_data("scd"), b.replicate_weights()], axis=1).assign(one=1.0)
    s = ReplicateDesign(df, weights="one", repweights="rw[0-9]+", type="BRR")
    check(s.total(["arrests", "alive"]), "scd_brr_total", ["arrests", "alive"])


@pytest.mark.parametrize("rule", ["adjust", "average", "remove", "certainty"])
def test_jkn_lonely_psu_rules(rule):
    df = load_data("apiclus1")
    df["str"] = np.where(df["dnum"] == 413, "single", df["stype"])
    d = SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True, lonely_psu=rule)
    r = d.replicate("JKn")
    note = case(f"lonely_jkn_{rule}")["note"]
    assert r.n_replicates == note["n_replicates"]
    if rule != "average":
        np.testing.assert_allclose(r.scale, note["scale"], rtol=RTOL)
        check(r.mean(["api00", "enroll"]), f"lonely_jkn_{rule}", ["api00", "enroll"])
        return
    # "average" means the Taylor engine's stratum average, H/(H − L), in both engines; R's
    # jknweights multiplies by P/R instead: the same replicates, another constant
    H, L = 4, 1
    P = int(d.stages[0].n_clusters)
    np.testing.assert_allclose(r.scale, H / (H - L), rtol=RTOL)
    np.testing.assert_allclose(note["scale"], P / note["n_replicates"], rtol=RTOL)
    got = r.mean(["api00", "enroll"])
    ref = case("lonely_jkn_average")["values"]
    np.testing.assert_allclose(got["estimate"], [v["estimate"] for v in ref], rtol=RTOL)
    np.testing.assert_allclose(got["se"], np.array([v["se"] for v in ref])
                               * np.sqrt(H / (H - L) / note["scale"]), rtol=RTOL)
    taylor = {k: SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True,
                              lonely_psu=k).mean("enroll")["se"].iloc[0] for k in ("average", "remove")}
    replicate = {k: SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True,
                                 lonely_psu=k).replicate("JKn").mean("enroll")["se"].iloc[0]
                 for k in ("average", "remove")}
    assert (taylor["average"] / taylor["remove"]) ** 2 == pytest.approx(H / (H - L), rel=1e-12)
    assert (replicate["average"] / replicate["remove"]) ** 2 == pytest.approx(H / (H - L), rel=1e-12)


def test_sdr_factors_and_se_match_r():
    # the R script builds SDR factors from R's own hadamard(P) and computes the variance with
    # svrepdesign(type="successive-difference") (scale 4/R)
    c = case("strat_sdr")
    d = SurveyDesign(load_data("apistrat"), strata="stype", weights="pw")
    layout = PsuLayout.from_stage(d.stages[0])
    rf = generate(layout, "SDR")
    np.testing.assert_allclose(rf.factors[np.argsort(layout.first_row)], np.array(c["note"]["factors"]), rtol=RTOL)
    np.testing.assert_allclose(rf.scale, c["note"]["scale"], rtol=RTOL)
    r = d.replicate("SDR")
    out = pd.concat([r.mean("api00"), r.total("enroll")], ignore_index=True)
    check(out, "strat_sdr", ["api00", "enroll"])


def test_two_stage_jk1_drops_second_stage_fpc_with_warning():
    d = SurveyDesign(load_data("apiclus2"), ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    with pytest.warns(UserWarning, match="after the first stage"):
        r = d.replicate("JK1")
    np.testing.assert_allclose(r.scale, case("clus2_jk1_mean")["note"]["scale"], rtol=RTOL)
    check(r.mean("api00"), "clus2_jk1_mean", ["api00"])
