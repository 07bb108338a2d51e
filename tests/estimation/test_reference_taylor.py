"""Linearisation estimates against R survey 4.1 (tests/reference/r_survey_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import load_data, reference_case

from estimation import SurveyDesign
from estimation.pps import HR

RTOL = 1e-8


def design(case_id: str, **override):
    spec = reference_case(case_id)["design"]
    data = reference_case(case_id)["data"]
    df = load_data(data)
    kw = dict(ids=spec.get("ids"), strata=spec.get("strata"), weights=spec.get("weights"), fpc=spec.get("fpc"))
    kw.update(override)
    return SurveyDesign(df, **kw)


def check(frame, case_id: str, key: str = "name", columns=("estimate", "se")):
    values = {str(v["name"]): v for v in reference_case(case_id)["values"]}
    assert len(frame) == len(values)
    for name, row in zip(frame[key], frame.to_dict("records")):
        ref = values[str(name)]
        for col in columns:
            if col in ref:
                np.testing.assert_allclose(row[col], ref[col], rtol=RTOL, err_msg=f"{case_id} {name} {col}")


def names(frame):
    return [f"{v}{lv}" if lv is not None else v for v, lv in zip(frame["variable"], frame["level"])]


@pytest.mark.parametrize(
    "case_id, call",
    [
        ("srs_mean", lambda d: d.mean(["api00", "enroll"], deff=True)),
        ("srs_total", lambda d: d.total("enroll")),
        ("strat_mean", lambda d: d.mean(["api00", "enroll"], deff=True)),
        ("strat_total", lambda d: d.total(["api00", "enroll"])),
        ("strat_nofpc_mean", lambda d: d.mean("api00")),
        ("strat_factor_mean", lambda d: d.mean(["awards", "sch.wide"])),
        ("strat_factor_total", lambda d: d.total("awards")),
        ("clus1_mean", lambda d: d.mean(["api00", "enroll"], deff=True)),
        ("clus1_total", lambda d: d.total("enroll")),
        ("clus2_mean", lambda d: d.mean("api00")),
        ("clus2_total", lambda d: d.total("enroll", na_rm=True)),
    ],
)
def test_means_and_totals(case_id, call):
    out = call(design(case_id)).assign(name=lambda f: names(f))
    check(out, case_id, columns=("estimate", "se", "deff"))


@pytest.mark.parametrize("case_id", ["strat_ratio", "clus1_ratio", "clus2_ratio"])
def test_ratio(case_id):
    out = design(case_id).ratio("api00", "api99").assign(name="ratio")
    check(out, case_id)


def test_scd_ratio():
    d = SurveyDesign(load_data("scd"), ids="ambulance", strata="ESA", probs=None, nest=True)
    check(d.ratio("alive", "arrests").assign(name="ratio"), "scd_taylor_ratio")


@pytest.mark.parametrize(
    "case_id, call, key",
    [
        ("strat_by_mean", lambda d: d.mean("api00", by="sch.wide"), "sch.wide"),
        ("strat_by_total", lambda d: d.total("enroll", by="awards"), "awards"),
        ("clus1_by_mean", lambda d: d.mean("api00", by="stype"), "stype"),
        ("clus2_by_mean", lambda d: d.mean("api00", by="stype"), "stype"),
        ("strat_by_ratio", lambda d: d.ratio("api00", "api99", by="stype"), "stype"),
    ],
)
def test_domains(case_id, call, key):
    check(call(design(case_id)), case_id, key=key)


def test_two_way_domains():
    out = design("strat_by2_mean").mean("api00", by=["stype", "awards"])
    out["name"] = out["stype"] + "." + out["awards"]
    check(out, "strat_by2_mean")


def test_subset_mean():
    d = design("clus1_subset_mean")
    out = d.subset(d.data["stype"] == "E").mean("api00").assign(name="api00")
    check(out, "clus1_subset_mean")


@pytest.mark.parametrize("case_id, variables, probs", [("strat_quantile", ["api00"], [0.25, 0.5, 0.75]), ("clus1_quantile", ["api00", "enroll"], [0.1, 0.5, 0.9])])
def test_quantiles(case_id, variables, probs):
    out = design(case_id).quantile(variables, probs)
    out["name"] = [f"{v}@{q:g}" for v, q in zip(out["variable"], out["quantile"])]
    check(out, case_id, columns=("estimate", "se", "ci_low", "ci_high"))


def test_confint_normal():
    out = design("strat_confint_mean").mean("api00").assign(name="api00")
    check(out, "strat_confint_mean", columns=("ci_low", "ci_high"))


def test_confint_t_with_design_df():
    d = design("clus1_confint_total_df")
    assert d.degf() == reference_case("clus1_confint_total_df")["values"][0]["degf"]
    out = d.total("enroll", df="design").assign(name="enroll")
    check(out, "clus1_confint_total_df", columns=("ci_low", "ci_high"))


def test_cv():
    out = design("strat_cv").mean(["api00", "enroll"]).assign(name=lambda f: f["variable"])
    check(out, "strat_cv", columns=("cv",))


@pytest.mark.parametrize("rule", ["adjust", "average", "remove", "certainty"])
def test_lonely_psu(rule):
    df = load_data("apiclus1")
    df["str"] = np.where(df["dnum"] == 413, "single", df["stype"])
    d = SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True, lonely_psu=rule)
    check(d.mean(["api00", "enroll"]).assign(name=lambda f: f["variable"]), f"lonely_{rule}")


def _election(pps, **kw):
    return SurveyDesign(load_data("election_pps"), fpc="p", pps=pps, **kw)


def test_pps_joint_probabilities():
    pij = np.array(reference_case("election_pps_ht_total")["note"]["jointprob"])
    out = _election(pij).total(["Bush", "Kerry"]).assign(name=lambda f: f["variable"])
    check(out, "election_pps_ht_total")


@pytest.mark.parametrize(
    "pps, case_id",
    [("brewer", "election_pps_brewer_total"),
     (HR(psum=float((load_data("election_pps")["p"] ** 2).sum() / 40)), "election_pps_hartley_rao_total")],
)
def test_pps_approximations(pps, case_id):
    out = _election(pps).total(["Bush", "Kerry"]).assign(name=lambda f: f["variable"])
    check(out, case_id)
