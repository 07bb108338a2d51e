"""Reference cases from R `sampling` 2.9 (tests/reference/r_survey_reference.json) at rtol=1e-8."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sampling import inclusion_probabilities, joint_inclusion_probabilities

HERE = Path(__file__).resolve().parents[1]
CASES = {c["id"]: c for c in json.loads((HERE / "reference" / "r_survey_reference.json").read_text())["cases"]}
TOY = np.array([10, 5, 20, 15, 30, 8, 12, 25], dtype=float)


def test_mu284_inclusion_probs():
    case = CASES["mu284_inclusion_probs"]
    mu = pd.read_csv(HERE / "data" / "MU284.csv")
    expected = np.array([v["pi"] for v in case["values"]])
    got = inclusion_probabilities(mu["P75"], 40)
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    assert got.sum() == pytest.approx(40)
    assert (got == 1).sum() == (expected == 1).sum()


def test_toy_pik():
    pik = np.array(CASES["toy_pi2_sampford"]["note"]["pik"])
    np.testing.assert_allclose(inclusion_probabilities(TOY, 3), pik, rtol=1e-8)


@pytest.mark.parametrize("case,method,kwargs", [
    ("toy_pi2_systematic", "systematic", {}),
    ("toy_pi2_sampford", "sampford", {}),
    # R stops the working-probability iteration at sum|change| <= 1e-6; with the same stop the
    # figures agree to 1e-14, and our default (machine precision) is checked just below.
    ("toy_pi2_maxentropy", "conditional_poisson", {"cps_tol": 1e-6}),
    ("toy_pi2_tille", "tille", {}),
])
def test_toy_pi2(case, method, kwargs):
    expected = np.array(CASES[case]["values"][0]["value"])
    got = joint_inclusion_probabilities(inclusion_probabilities(TOY, 3), method, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-15)


def test_maxentropy_exact_vs_r_and_fixed_size_identity():
    pi = inclusion_probabilities(TOY, 3)
    exact = joint_inclusion_probabilities(pi, "maxentropy")
    r = np.array(CASES["toy_pi2_maxentropy"]["values"][0]["value"])
    np.testing.assert_allclose(exact, r, rtol=5e-6)  # R's own error is ~1e-6
    # fixed size n: sum_l pi_kl = n pi_k  (holds to machine precision only for the exact figures)
    np.testing.assert_allclose(exact.sum(axis=1), 3 * pi, rtol=1e-12)
    assert np.abs(r.sum(axis=1) - 3 * pi).max() > 1e-9


@pytest.mark.parametrize("method", ["systematic", "sampford", "conditional_poisson", "tille",
                                    "brewer", "hajek"])
def test_joint_row_sums_and_symmetry(method):
    pi = inclusion_probabilities(TOY, 3)
    p2 = joint_inclusion_probabilities(pi, method)
    np.testing.assert_allclose(p2, p2.T, atol=1e-15)
    np.testing.assert_allclose(np.diag(p2), pi)
    if method not in ("brewer", "hajek"):  # approximations need not satisfy it exactly
        np.testing.assert_allclose(p2.sum(axis=1), 3 * pi, rtol=1e-10)


EXTRA = {c["id"]: c for c in json.loads((HERE / "reference" / "sampling_extra.json").read_text())["cases"]}


def test_extra_inclusion_probabilities():
    c = EXTRA["incl_zeros_certainty"]
    np.testing.assert_allclose(inclusion_probabilities(c["note"]["x"], 6), c["value"], rtol=1e-8)
    mu = pd.read_csv(HERE / "data" / "MU284.csv")
    np.testing.assert_allclose(inclusion_probabilities(mu["RMT85"], 25),
                               EXTRA["incl_mu284_rmt85_n25"]["value"], rtol=1e-8)


@pytest.mark.parametrize("case,method,kwargs", [
    ("mu12_sampford_pi2", "sampford", {}),
    ("mu12_tille_pi2", "tille", {}),
    ("mu12_systematic_pi2", "systematic", {}),
    ("mu12_maxentropy_pi2", "maxentropy", {"cps_tol": 1e-6}),
])
def test_extra_pi2_with_certainty_unit(case, method, kwargs):
    c = EXTRA["mu12_pik"]
    pik = inclusion_probabilities(c["note"]["size"], 4)
    np.testing.assert_allclose(pik, c["value"], rtol=1e-8)
    assert (pik == 1).any()
    got = joint_inclusion_probabilities(pik, method, **kwargs)
    if method == "sampford":  # R's UPsampfordpi2 refuses certainty units: compare the others
        np.testing.assert_allclose(got[:-1, -1], pik[:-1])
        got = got[:-1, :-1]
    expected = np.array(EXTRA[case]["value"])
    if method == "tille":
        # R's UPtillepi2 leaves the certainty unit's column at 0 (its rows then fail
        # sum_l pi_kl = n pi_k); ours holds pi_k there. The rest must agree.
        np.testing.assert_allclose(got[:-1, -1], pik[:-1])
        np.testing.assert_allclose(got.sum(axis=1), 4 * pik, rtol=1e-12)
        got, expected = got[:-1, :-1], expected[:-1, :-1]
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-15)


def test_extra_working_probabilities():
    from sampling import working_odds

    pik = np.array(EXTRA["mu12_pik"]["value"])
    p = pik[pik < 1]
    w = working_odds(p, tol=1e-6)
    np.testing.assert_allclose(w / (1 + w), EXTRA["mu12_maxentropy_piktilde"]["value"], rtol=1e-8)


def test_conditional_poisson_probabilities_with_widely_spread_odds():
    from sampling.conditional_poisson import cps_pi_from_odds, working_odds

    c = EXTRA["cps_wide_odds_pik"]
    w = np.array(c["note"]["w"])
    pik = np.array(c["value"])
    np.testing.assert_allclose(cps_pi_from_odds(w, 100), pik, rtol=1e-9, atol=1e-15)
    back = working_odds(pik)  # odds are defined up to a common factor
    np.testing.assert_allclose(back / back.sum(), w / w.sum(), rtol=1e-8)


def test_joint_refusals():
    from surveycore import SurveyError

    pi = inclusion_probabilities(TOY, 3)
    with pytest.raises(SurveyError, match="no closed-form"):
        joint_inclusion_probabilities(pi, "cube")
    with pytest.raises(SurveyError, match="sum to an integer"):
        joint_inclusion_probabilities(pi * 0.9, "sampford")
    with pytest.raises(SurveyError, match=r"\[0, 1\]"):
        joint_inclusion_probabilities(pi * 2, "poisson")
    with pytest.raises(SurveyError, match="equal inclusion"):
        joint_inclusion_probabilities(pi, "srs")


def test_conditional_poisson_two_routes_and_refusal():
    from sampling.conditional_poisson import _prefix_suffix, _recursion, cps_pi_from_odds
    from surveycore import SurveyError

    rng = np.random.default_rng(1)
    w = np.exp(rng.normal(0, 0.3, 5000))  # similar odds: the recursion is accurate here
    exact = _prefix_suffix(w, 1000)
    rec, bound = _recursion(w, 1000)
    assert bound < 1 and exact.sum() == pytest.approx(1000, rel=1e-12)
    np.testing.assert_allclose(exact, rec, atol=1e-11)
    wide = np.exp(rng.normal(0, 2, 12_000))  # too large for the exact route, recursion unsafe
    with pytest.raises(SurveyError, match="cannot be computed accurately"):
        cps_pi_from_odds(wide, 1000)
