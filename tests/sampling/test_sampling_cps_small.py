"""Conditional Poisson (maximum entropy) designs of size 1 and N − 1, two-unit strata and
strata reduced to two units by certainty units: closed forms, R sampling's UPmaxentropypi2
(tests/reference/cps_small.R) and inclusion frequencies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sampling import draw_samples, joint_inclusion_probabilities, select

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "cps_small.json")
                 .read_text())


@pytest.mark.parametrize("case", REF, ids=lambda c: str(c["pik"]))
def test_joint_probabilities_against_r_and_closed_forms(case):
    pik = np.array(case["pik"])
    r = np.array(case["pi2"])
    got = joint_inclusion_probabilities(pik, "maxentropy")
    n = round(pik.sum())
    if n == 1:  # one unit drawn: no pair is ever together; R exact here
        closed = np.diag(pik)
        np.testing.assert_allclose(got, r, rtol=1e-8, atol=1e-15)
    else:  # n = N - 1: one unit left out, pi_kl = pi_k + pi_l - 1
        closed = pik[:, None] + pik[None, :] - 1
        np.fill_diagonal(closed, pik)
        np.testing.assert_allclose(got, r, rtol=0, atol=5e-6)  # R stops its working odds at 1e-6
    np.testing.assert_allclose(got, closed, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), n * pik, rtol=1e-12)


@pytest.mark.parametrize("pik", [[0.2, 0.8], [0.2, 0.8, 1.0], [0.5, 0.7, 0.8]])
def test_inclusion_frequencies(pik):
    pik = np.array(pik)
    draws = 20_000
    s = draw_samples(pik, "conditional_poisson", draws, seed=11)
    assert (s.sum(axis=1) == round(pik.sum())).all()
    freq = s.mean(axis=0)
    se = np.sqrt(pik * (1 - pik) / draws)
    assert np.all(np.abs(freq - pik) <= 4 * se + 1e-12)
    pairs = (s[:, :, None] & s[:, None, :]).mean(axis=0)
    pi2 = joint_inclusion_probabilities(pik, "maxentropy")
    assert np.all(np.abs(pairs - pi2) <= 4 * np.sqrt(pi2 * (1 - pi2) / draws) + 1e-12)


def test_select_two_unit_strata_and_a_stratum_left_with_two_units():
    frame = pd.DataFrame({"ea": ["0001", "0002", "0101", "0102", "0103"],
                          "prov": ["A", "A", "B", "B", "B"], "hh": [7, 29, 3, 50, 10]})
    s = select(frame, {"A": 1, "B": 2}, method="maxentropy", size="hh", id="ea", strata="prov",
               seed=3).units
    pi = dict(zip(s["ea"], s["pi"]))
    # A: 7/36, 29/36; B: 0102 is a certainty unit, then 3/13 and 10/13 for one draw
    expected = {"0001": 7 / 36, "0002": 29 / 36, "0101": 3 / 13, "0102": 1.0, "0103": 10 / 13}
    assert len(s) == 3 and "0102" in pi
    for k, v in pi.items():
        assert v == pytest.approx(expected[k], rel=1e-12)
