"""Design-based GLMs on a domain against R svyglm on subset(design, ...), and the warnings
that non-convergence and separation must raise."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data

from estimation import SurveyDesign
from surveycore import SurveyWarning

RTOL = 1e-8
REF = json.loads((Path(__file__).parents[1] / "reference" / "glm_domain.json").read_text())["cases"]


def _strat():
    df = load_data("apistrat")
    return df, SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")


def _clus1():
    df = load_data("apiclus1")
    return df, SurveyDesign(df, ids="dnum", weights="pw", fpc="fpc")


@pytest.mark.parametrize(
    "case_id, make, mask, formula",
    [
        ("strat_subset_quasibinomial", _strat, lambda df: df["sch.wide"] == "Yes",
         "I(awards == 'Yes') ~ ell + meals"),
        ("strat_subset_quasibinomial_HM", _strat, lambda df: df["stype"] != "E",
         "I(awards == 'Yes') ~ ell + meals"),
        ("clus1_subset_quasibinomial", _clus1, lambda df: df["stype"] == "E",
         "I(sch.wide == 'Yes') ~ ell + meals"),
    ],
)
def test_quasibinomial_glm_on_a_domain_matches_r(case_id, make, mask, formula):
    df, d = make()
    res = d.subset(mask(df).to_numpy()).glm(formula, family="quasibinomial")
    ref = REF[case_id]
    table = res.table
    assert list(table["variable"]) == ref["names"]
    for col, key in [("estimate", "estimate"), ("se", "se"), ("statistic", "statistic"),
                     ("p_value", "p_value")]:
        np.testing.assert_allclose(table[col], ref[key], rtol=RTOL, err_msg=f"{case_id} {col}")
    assert res.df_residual == ref["df_resid"]
    assert res.converged


def _separated():
    x = np.arange(1.0, 41.0)
    return pd.DataFrame({"psu": np.arange(40), "w": np.full(40, 3.0), "x": x,
                         "sep": (x > 20).astype(float)})


def test_separation_warns_and_is_flagged():
    d = SurveyDesign(_separated(), ids="psu", weights="w")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = d.glm("sep ~ x", family="binomial")
    texts = [str(w.message) for w in caught if w.category is SurveyWarning]
    assert any("fitted probabilities" in t for t in texts)
    assert res.separation
    assert any("fitted probabilities" in m for m in res.messages)


def test_non_convergence_warns_and_is_flagged():
    df = _separated()
    d = SurveyDesign(df, ids="psu", weights="w")
    with pytest.warns(SurveyWarning, match="did not converge"):
        res = d.glm("sep ~ x", family="binomial", max_iter=3)
    assert not res.converged


def test_a_well_posed_fit_is_silent():
    df, d = _strat()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurveyWarning)
        res = d.glm("I(awards == 'Yes') ~ ell + meals", family="quasibinomial")
    assert res.converged and not res.separation and res.messages == ()


def test_replicate_refits_that_do_not_converge_are_reported():
    df = _separated()
    r = SurveyDesign(df, ids="psu", weights="w").replicate("JK1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = r.glm("sep ~ x", family="binomial", max_iter=3)
    texts = [str(w.message) for w in caught if w.category is SurveyWarning]
    assert any("replicate" in t for t in texts)
    assert any("replicate" in m for m in res.messages)
