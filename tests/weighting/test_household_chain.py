"""One weighting chain from households to persons: eligibility → nonresponse → expand →
post-stratification, linearised (against R's delta method) and replayed on replicates
(against the chain re-run by hand for every replicate)."""

import json

import numpy as np
import pandas as pd
import pytest
from wt_targets import REF

from estimation import SurveyDesign
from surveycore import SurveyError
from weighting import Weights

CASE = json.loads((REF / "household_chain.json").read_text())
POP = {k: v[0] for k, v in CASE["pop"].items()}
R = {v["name"]: v for v in CASE["values"]}


@pytest.fixture(scope="module")
def frames():
    hh = pd.read_csv(REF / "household_chain_households.csv", dtype={"hid": str})
    ps = pd.read_csv(REF / "household_chain_persons.csv", dtype={"hid": str})
    return hh, ps


def chain(hh, ps, base="d"):
    return (Weights(hh, base)
            .adjust_eligibility("disp", by="stratum")
            .adjust_nonresponse("disp", by="cls", min_respondents=1)
            .expand(ps, household="hid", psu="ea")
            .poststratify({"sex": POP}))


def test_chain_weights_equal_the_formulas(frames):
    hh, ps = frames
    w = chain(hh, ps)
    np.testing.assert_allclose(w.values, CASE["weights"], rtol=1e-12)
    assert [h.step for h in w.history] == ["base", "eligibility", "nonresponse", "expand",
                                            "poststratify"]
    assert w.base_values.size == len(hh) and len(w) == len(ps)
    assert w.base_data is not w.data


def test_linearised_se_matches_r_delta_method(frames):
    hh, ps = frames
    d = SurveyDesign(ps, ids="ea", strata="stratum", weights=chain(hh, ps))
    got = {
        "total_y": d.total("y").iloc[0],
        "mean_y": d.mean("y").iloc[0],
    }
    for g in ("F", "M"):
        got[f"mean_y_{g}"] = d.subset(ps["sex"] == g).mean("y").iloc[0]
    sub = d.subset(ps["age"] == "old")
    got["total_y_old"] = sub.total("y").iloc[0]
    got["mean_y_old"] = sub.mean("y").iloc[0]
    # by= gives the same domains (each domain's scores go through the whole chain)
    by_sex = d.mean("y", by="sex").set_index("sex")
    got["by mean_y_F"], got["by mean_y_M"] = by_sex.loc["F"], by_sex.loc["M"]
    got["by total_y_old"] = d.total("y", by="age").set_index("age").loc["old"]
    got["by mean_y_old"] = d.mean("y", by="age").set_index("age").loc["old"]
    for name, row in got.items():
        ref = R[name.removeprefix("by ")]
        assert row["estimate"] == pytest.approx(ref["estimate"], rel=1e-10), name
        assert row["se"] == pytest.approx(ref["se"], rel=1e-8), name


def test_without_the_household_steps_the_se_differs(frames):
    # the nonresponse and eligibility steps change the linearised variance
    hh, ps = frames
    w = chain(hh, ps)
    fixed = Weights(ps.assign(w0=w.history[3].after_values), "w0").poststratify({"sex": POP})
    d = SurveyDesign(ps, ids="ea", strata="stratum", weights=fixed)
    assert abs(d.total("y")["se"].iloc[0] / R["total_y"]["se"] - 1) > 0.01


def _chain_by_hand(hh, ps, d):
    """The chain written out with pandas, for base weights d (one replicate)."""
    h = hh.assign(d=d)
    known = h["disp"] != 3.1
    a = h.groupby("stratum")["d"].transform("sum") / h["d"].where(known, 0).groupby(
        h["stratum"]).transform("sum")
    h["w1"] = np.where(known, h["d"] * a, 0.0)
    elig = h["disp"].isin([1.1, 2.1])
    resp = h["disp"] == 1.1
    f = h["w1"].where(elig, 0).groupby(h["cls"]).transform("sum") / h["w1"].where(
        resp, 0).groupby(h["cls"]).transform("sum")
    h["w2"] = np.where(resp, h["w1"] * f, np.where(elig, 0.0, h["w1"]))
    p = ps.merge(h[["hid", "w2"]], on="hid", how="left")
    tot = p.groupby("sex")["w2"].transform("sum")
    return (p["w2"] * p["sex"].map(POP) / tot).to_numpy()


def test_jkn_replicates_rerun_the_whole_chain(frames):
    hh, ps = frames
    d = SurveyDesign(ps, ids="ea", strata="stratum", weights=chain(hh, ps))
    r = d.replicate("JKn")
    repw = r.replicate_weights().to_numpy()
    # delete-one-EA jackknife within strata, strata and EAs in order of appearance (R's order)
    eas = ps.drop_duplicates("ea")[["ea", "stratum"]]
    cols, rscales = [], []
    for s in eas["stratum"].unique():
        members = eas.loc[eas["stratum"] == s, "ea"].tolist()
        n = len(members)
        for gone in members:
            fac = np.where(hh["stratum"] == s, np.where(hh["ea"] == gone, 0.0, n / (n - 1)), 1.0)
            cols.append(_chain_by_hand(hh, ps, hh["d"].to_numpy() * fac))
            rscales.append((n - 1) / n)
    hand = np.column_stack(cols)
    np.testing.assert_allclose(repw, hand, rtol=1e-10)
    theta = hand.T @ ps["y"].to_numpy()
    se = np.sqrt(np.sum(np.array(rscales) * (theta - theta.mean()) ** 2))
    assert r.total("y")["se"].iloc[0] == pytest.approx(se, rel=1e-10)


def test_bootstrap_replicates_rerun_the_household_steps(frames):
    hh, ps = frames
    d = SurveyDesign(ps, ids="ea", strata="stratum", weights=chain(hh, ps))
    r = d.replicate("bootstrap", replicates=20, seed=5)
    repw = r.replicate_weights().to_numpy()
    # the factors of each EA, read back from one respondent household per EA, re-run by hand
    base = chain(hh, ps).base_values
    full = d.replicate("bootstrap", replicates=20, seed=5)
    assert np.allclose(full.replicate_weights().to_numpy(), repw)
    from estimation.replicates.factors import PsuLayout, bootstrap
    st = d.stages[0]
    rf = bootstrap(PsuLayout.from_stage(st), 20, 5)
    ea_code = pd.Series(st.cluster, index=ps.index).groupby(ps["ea"]).first()
    fac = rf.factors[ea_code.reindex(hh["ea"]).to_numpy()]
    hand = np.column_stack([_chain_by_hand(hh, ps, base * fac[:, j]) for j in range(20)])
    np.testing.assert_allclose(repw, hand, rtol=1e-10)


def test_expand_refusals(frames):
    hh, ps = frames
    nr = (Weights(hh, "d").adjust_eligibility("disp", by="stratum")
          .adjust_nonresponse("disp", by="cls", min_respondents=1))
    with pytest.raises(SurveyError, match="psu"):
        nr.expand(ps, household="hid")
    with pytest.raises(SurveyError, match="not in the household frame"):
        nr.expand(ps.assign(hid=ps["hid"].str.lstrip("0")), household="hid", psu="ea")
    with pytest.raises(SurveyError, match="repeat"):
        Weights(pd.concat([hh, hh.iloc[:1]]), "d").expand(ps, household="hid")
    with pytest.raises(SurveyError, match="disagree"):
        nr.expand(ps.assign(ea="EA001"), household="hid", psu="ea")
    # without class steps, households without members need no PSU
    plain = Weights(hh, "d").expand(ps, household="hid")
    assert np.array_equal(plain.values, hh.set_index("hid")["d"].reindex(ps["hid"]).to_numpy())


def test_replicate_that_empties_a_nonresponse_class_is_refused():
    # class x: its only respondent is in PSU a, a nonrespondent in PSU b; deleting a leaves
    # x with weight to spread and nobody to take it
    hh = pd.DataFrame({"hid": ["01", "02", "03", "04", "05", "06"],
                       "psu": ["a", "a", "b", "b", "c", "c"],
                       "cls": ["x", "y", "x", "y", "y", "y"],
                       "disp": [1.1, 1.1, 2.1, 1.1, 2.1, 1.1], "d": [1.0] * 6})
    ps = hh.loc[hh["disp"] == 1.1, ["hid", "psu"]].reset_index(drop=True)
    w = (Weights(hh, "d").adjust_nonresponse("disp", by="cls", min_respondents=1)
         .expand(ps, household="hid", psu="psu"))
    d = SurveyDesign(ps.assign(y=1.0), ids="psu", weights=w)
    with pytest.raises(SurveyError, match="class .x. is empty in replicate 1"):
        d.replicate("JK1")


@pytest.mark.parametrize("step", ["poststratify", "rake", "calibrate"])
def test_replicate_that_empties_a_post_stratum_is_refused(step):
    # level "z" of sex lives in PSU p1 only: the jackknife replicate deleting p1 has no row
    # of it, and a factor 0 would report its population count as 0
    df = pd.DataFrame({"psu": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4"],
                       "sex": ["z", "F", "F", "M", "M", "F", "M", "F"],
                       "age": ["a", "b", "a", "b", "a", "b", "a", "b"],
                       "y": np.arange(8.0), "w": 2.0})
    targets = {"sex": {"z": 3.0, "F": 7.0, "M": 6.0}}
    if step == "poststratify":
        w = Weights(df, "w").poststratify(targets)
    elif step == "rake":
        w = Weights(df, "w").rake({**targets, "age": {"a": 8.0, "b": 8.0}})
    else:
        w = Weights(df, "w").calibrate({**targets, "age": {"a": 8.0, "b": 8.0}}, method="linear")
    d = SurveyDesign(df, ids="psu", weights=w)
    with pytest.raises(SurveyError, match="'sex=z' is empty in replicate 1"):
        d.replicate("JK1")


def test_linearisation_order_is_the_chain_rule(frames):
    from weighting.linearisation import ClassAdjustmentRecord, ExpandRecord
    from weighting.records import PostStratificationRecord, RakingRecord

    hh, ps = frames
    w = chain(hh, ps).rake({"sex": POP, "age": {"young": 6000, "old": 4100}}, variance="survey")
    kinds = [type(r) for r in w.variance_records()]
    # calibration records keep chain order (as R); the household chain comes last
    assert kinds == [PostStratificationRecord, RakingRecord, ExpandRecord]
    inner = w.variance_records()[-1].inner
    assert [type(r) for r in inner] == [ClassAdjustmentRecord, ClassAdjustmentRecord]
    assert inner[0].source.sum() < inner[1].source.sum()  # nonresponse first, then eligibility
    # replay of the full-sample base weights gives the chain's weights, into an out array
    out = np.empty(len(ps))
    assert w.replay(w.base_values, out=out) is out
    np.testing.assert_allclose(out, w.values, rtol=1e-10)
