"""Weighting diagnostics warn: extreme g-weights, Kish deff, a key estimate moved by more than
its SE, sparse calibration cells, calibration cells whose sample totals are imprecise (each a
SurveyWarning and a message for the report)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from migsurvey.diagnostics import kish_deff, weighting_diagnostics
from migsurvey.report import WeightStep
from migsurvey.spec import parse_spec
from surveycore import SurveyWarning
from weighting import Weights


def test_kish_deff_by_hand():
    assert kish_deff([1, 1, 1, 1]) == 1.0
    # n Σw² / (Σw)² = 4 (1 + 1 + 1 + 9) / 36
    assert kish_deff([1, 1, 1, 3]) == pytest.approx(48 / 36)
    assert kish_deff([2, 0, 2]) == 1.0  # zero weights are not respondents


def _sample():
    """30 calibration cells: 3 with 10 respondents (the foreign-born), 27 with 4."""
    sizes = np.r_[[10] * 3, [4] * 27]
    cell = np.repeat(np.arange(30), sizes)
    n = cell.size
    return pd.DataFrame({
        "ea_id": [f"{i // 6:03d}" for i in range(n)],
        "stratum": np.where(np.arange(n) // 6 < n // 12, "a", "b"),
        "household_weight": 10.0,
        "cell": cell,
        "foreign_born": (cell < 3).astype(float),
    })


def test_all_five_diagnostics_warn():
    persons = _sample()
    # the census has 10 times more persons in the first three cells than the sample implies
    counts = persons.groupby("cell").size() * 10.0
    counts[:3] *= 10
    w = Weights(persons, "household_weight").calibrate({"cell": counts.to_dict()})
    steps = [WeightStep("calibrate", w.values, g=w.values / 10.0)]
    spec = parse_spec("weighting:\n  - calibrate: {margins: [cell], cluster: household}\n"
                      "diagnostics: {kish_deff: 2}\n")
    with pytest.warns(SurveyWarning) as caught:
        msgs = weighting_diagnostics(persons.assign(weight=w.values), w, steps, spec)
    assert len(msgs) == 5 and len(caught) == 5
    text = " ".join(msgs)
    assert "extreme g-weights" in text and "g from 1 to 10" in text
    assert "Kish" in text
    assert "integrated calibration (weighting[0]) has 27 of 30 cells" in text
    assert "moves the estimate of foreign_born" in text
    assert "whose sample totals have a CV above 10 %" in text


def test_quiet_when_the_weights_are_fine():
    persons = _sample()
    counts = persons.groupby("cell").size() * 10.0
    w = Weights(persons, "household_weight").calibrate({"cell": counts.to_dict()})
    steps = [WeightStep("calibrate", w.values, g=w.values / 10.0)]
    spec = parse_spec("weighting:\n  - calibrate: {margins: [cell]}\n"
                      "diagnostics: {sparse_cell: 3, cell_cv: 2}\n")
    assert weighting_diagnostics(persons.assign(weight=w.values), w, steps, spec) == []
