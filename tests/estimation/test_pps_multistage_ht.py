"""Multi-stage designs with Overton's, Hartley–Rao's or a joint-π first stage.

R refuses these designs; the references (tests/reference/pps_multistage_ht.R) compose R's
single-stage first-stage term with R's Brewer later-stage terms, and an enumeration of every
sample of a tiny two-stage design shows the joint-π estimator unbiased for the design variance.
"""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from estimation.pps import HR
from surveycore import SurveyWarning

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "pps_multistage_ht.json").read_text())["cases"]}
JOINT = pd.read_csv(REF / "pps_multistage_jointprob.csv").to_numpy()
PPS = {"overton": "overton", "hr": "hartley-rao", "hr_psum": HR(psum=0.05), "ppsmat": JOINT}


@pytest.fixture(scope="module")
def data():
    df = load_data("apiclus2")
    pps = load_data("apiclus2_pps")
    # an office's file: string district ids with leading zeros, its own column names
    return pd.DataFrame({
        "district": df["dnum"].map("{:04d}".format), "school": df["snum"].astype(str),
        "p_district": pps["pi1"], "p_school": pps["pi2"], "half": pps["st"], "type": df["stype"],
        "score": df["api00"], "score99": df["api99"], "pupils": df["enroll"].fillna(0.0),
    })


def check(case_id, frame):
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.ravel(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.ravel(case["se"]), rtol=1e-8)


@pytest.mark.parametrize(("name", "strata"), [(name, False) for name in PPS] + [("overton", True), ("hr", True)])
def test_first_stage_approximations_against_r(data, name, strata):
    tag = "_strat" if strata else ""
    d = SurveyDesign(data, ids=["district", "school"], strata="half" if strata else None,
                     fpc=["p_district", "p_school"], probs=["p_district", "p_school"], pps=PPS[name])
    check(f"{name}{tag}_total", d.total(["score", "pupils"]))
    check(f"{name}{tag}_mean", d.mean("score"))
    check(f"{name}{tag}_by_mean", d.mean("score", by="type"))


def test_yates_grundy_against_r(data):
    d = SurveyDesign(data, ids=["district", "school"], fpc=["p_district", "p_school"], pps=JOINT, variance="YG")
    check("ppsmat_yg_total", d.total(["score", "pupils"]))


def test_single_stage_design_is_unchanged_by_the_later_stage_rule(data):
    """With one stage the Δ̌ form alone is the variance (no later-stage term is added)."""
    psu = data.drop_duplicates("district")
    one = SurveyDesign(psu, ids="district", fpc="p_district", pps="overton").total("score")
    x = (psu["score"] / psu["p_district"]).to_numpy()
    p = psu["p_district"].to_numpy()
    n = len(p)
    dcheck = 1 - (n - (p[:, None] + p[None, :]) / 2) / (n - 1)
    np.fill_diagonal(dcheck, 1 - p)
    np.testing.assert_allclose(one["se"].iloc[0] ** 2, x @ dcheck @ x, rtol=1e-10)


def _tiny_population():
    """Four PSUs of 3–4 households; a fixed-size (n = 2) first stage with known pair probabilities."""
    y = {"001": [3.0, 7.0, 4.0], "002": [5.0, 2.0, 4.0], "003": [2.0, 9.0, 5.0, 4.0], "004": [2.0, 3.5, 11.5]}
    pairs = list(itertools.combinations(sorted(y), 2))
    p_pair = np.array([0.1, 0.2, 0.15, 0.15, 0.1, 0.3])
    pi = {u: sum(p for pr, p in zip(pairs, p_pair) if u in pr) for u in y}
    pij = {pr: p for pr, p in zip(pairs, p_pair)}
    return y, pairs, p_pair, pi, pij


@pytest.mark.parametrize("variance", ["HT", "YG"])
def test_enumeration_joint_probabilities_unbiased(variance):
    """Every sample of a two-stage design (pairs of PSUs, then 2 households by SRS within each):
    the mean of the variance estimates equals the design variance of the estimated total."""
    y, pairs, p_pair, pi, pij = _tiny_population()
    m = 2
    truth = sum(map(sum, y.values()))
    estimates, variances, probs = [], [], []
    for pair, p_s in zip(pairs, p_pair):
        subs = [list(itertools.combinations(range(len(y[u])), m)) for u in pair]
        p_sub = p_s / (len(subs[0]) * len(subs[1]))
        for a, b in itertools.product(*subs):
            rows = [(u, j) for u, pick in zip(pair, (a, b)) for j in pick]
            df = pd.DataFrame({
                "ea": [u for u, _ in rows], "hh": [f"{u}-{j}" for u, j in rows],
                "p1": [pi[u] for u, _ in rows], "p2": [m / len(y[u]) for u, _ in rows],
                "income": [y[u][j] for u, j in rows],
            })
            joint = np.array([[pi[pair[0]], pij[pair]], [pij[pair], pi[pair[1]]]])
            d = SurveyDesign(df, ids=["ea", "hh"], fpc=["p1", "p2"], pps=joint, variance=variance)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SurveyWarning)
                r = d.total("income")
            scores = (df["income"] / (df["p1"] * df["p2"])).to_numpy()[:, None]
            v = float(d._variance().bilinear(scores, scores)[0, 0])  # the form itself, sign kept
            # the result reports the same number, or NaN when the HT form is negative
            se = r["se"].iloc[0]
            assert np.isclose(se**2, v, rtol=1e-10) if v >= 0 else np.isnan(se)
            estimates.append(r["estimate"].iloc[0])
            variances.append(v)
            probs.append(p_sub)
    probs, estimates, variances = map(np.asarray, (probs, estimates, variances))
    np.testing.assert_allclose(probs.sum(), 1.0)
    np.testing.assert_allclose(probs @ estimates, truth, rtol=1e-12)
    design_variance = probs @ (estimates - truth) ** 2
    np.testing.assert_allclose(probs @ variances, design_variance, rtol=1e-10)


@pytest.mark.parametrize("pps", ["overton", "hartley-rao"])
def test_calibrated_domains_equal_subsets(data, pps):
    """by= (residuals formed per domain in one pass) equals subset() (residuals formed
    explicitly) on a calibrated multi-stage design with a Δ̌ first stage."""
    from weighting import Weights

    base = data.assign(w=1 / (data["p_district"] * data["p_school"]))
    w = Weights(base, "w").calibrate({"type": {"E": 4421, "H": 755, "M": 1018}})
    d = SurveyDesign(base, ids=["district", "school"], fpc=["p_district", "p_school"], weights=w, pps=pps)
    by = d.mean(["score", "pupils"], by="type")
    for t in ["E", "H", "M"]:
        one = d.subset(base["type"] == t).mean(["score", "pupils"])
        np.testing.assert_allclose(by.loc[by["type"] == t, "se"], one["se"], rtol=1e-10)
        np.testing.assert_allclose(by.loc[by["type"] == t, "estimate"], one["estimate"], rtol=1e-12)


def test_overton_equals_r_brewer_for_zero_sum_scores(data):
    """Unstratified, the linearised scores of a mean, a domain mean or a ratio sum to zero over
    the sample, and then Overton's form reduces algebraically to Brewer's:
    ``Σ_{i≠j} Δ̌_ij x_i x_j = −Σ_i (1 − (n − π_i)/(n − 1)) x_i²``, so the total is
    ``n/(n − 1) Σ_i (1 − π_i) x_i²``. R computes the multi-stage Brewer design directly."""
    brewer = {c["id"]: c for c in json.loads((REF / "pps_multistage.json").read_text())["cases"]}
    d = SurveyDesign(data, ids=["district", "school"], fpc=["p_district", "p_school"],
                     probs=["p_district", "p_school"], pps="overton")
    for case_id, frame in [("brewer2_mean", d.mean(["score", "score99"])),
                           ("brewer2_by_mean", d.mean("score", by="type")),
                           ("brewer2_ratio", d.ratio("score", "score99"))]:
        np.testing.assert_allclose(frame["estimate"], np.ravel(brewer[case_id]["estimate"]), rtol=1e-10)
        np.testing.assert_allclose(frame["se"], np.ravel(brewer[case_id]["se"]), rtol=1e-8)
    # a total's scores do not sum to zero: there the two forms differ
    overton, brewer_se = d.total("score")["se"].iloc[0], brewer["brewer2_total"]["se"]
    assert abs(overton / np.ravel(brewer_se)[0] - 1) > 1e-3
