"""The screening sample as a two-phase design (migsurvey.twophase, pipeline.indicator_designs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign, TwoPhaseDesign
from migsurvey.pipeline import indicator_designs
from migsurvey.twophase import listed_counts, screening_design
from surveycore import SurveyError
from weighting import Weights

sys.path.insert(0, str(Path(__file__).parent))
from screening_data import listing, persons  # noqa: E402

REF = Path(__file__).parents[1] / "reference"
SPEC = {"frame": {"psu": "ea"}, "estimation": {"lonely_psu": "fail"},
        "selection": {"psu": {"method": "srs"}}}


@pytest.fixture(scope="module")
def survey():
    lst = listing()
    pp = persons(lst)
    # the tables the R reference reads are these
    stored_l = pd.read_csv(REF / "twophase_screening_listing.csv", dtype={"ea": str, "hh": str})
    stored_p = pd.read_csv(REF / "twophase_screening_persons.csv", dtype={"hh": str, "line": str})
    pd.testing.assert_frame_equal(lst, stored_l, check_dtype=False)
    pd.testing.assert_frame_equal(pp, stored_p, check_dtype=False)
    sel = lst.loc[lst["selected"]].rename(columns={"region": "stratum"})
    rows = pp.merge(sel[["hh", "ea", "stratum", "screen", "pi1", "pi2"]], on="hh")
    rows["base_weight"] = 1.0 / (rows["pi1"] * rows["pi2"])
    rows.index = rows.index + 100  # the design keeps the rows' own index
    return sel, rows, json.loads((REF / "twophase_screening.json").read_text())


def test_listed_households_are_recovered_from_the_selection(survey):
    sel, _rows, _ref = survey
    lst = listing()
    cells = listed_counts(sel, "ea", "hh").set_index(["ea", "screen"])["M"]
    want = lst.groupby(["ea", "screen"]).size()
    pd.testing.assert_series_equal(cells, want, check_names=False)


def test_two_phase_design_matches_r_twophase(survey):
    sel, rows, ref = survey
    d = screening_design(rows, sel, "base_weight", SPEC, key="hh", fpc1=True)
    assert isinstance(d, TwoPhaseDesign)
    assert len(d.phase1) == ref["phase1_rows"] and d.n == ref["phase2_rows"]
    t = d.total("born_abroad").iloc[0]
    np.testing.assert_allclose([t["estimate"], t["se"]],
                               [ref["total_born_abroad"]["estimate"],
                                np.ravel(ref["total_born_abroad"]["se"])[0]], rtol=1e-8)
    m = d.mean("income").iloc[0]
    np.testing.assert_allclose([m["estimate"], m["se"]],
                               [ref["mean_income"]["estimate"],
                                np.ravel(ref["mean_income"]["se"])[0]], rtol=1e-8)
    by = d.total("born_abroad", by="sex")
    np.testing.assert_allclose(by["estimate"], ref["total_by_sex"]["estimate"], rtol=1e-8)
    np.testing.assert_allclose(by["se"], ref["total_by_sex"]["se"], rtol=1e-8)
    mb = d.mean("born_abroad", by="sex")
    np.testing.assert_allclose(mb["estimate"], ref["mean_by_sex"]["estimate"], rtol=1e-8)
    np.testing.assert_allclose(mb["se"], ref["mean_by_sex"]["se"], rtol=1e-8)


def test_point_estimates_are_those_of_the_single_phase_design(survey):
    sel, rows, _ref = survey
    d2 = screening_design(rows, sel, "base_weight", SPEC, key="hh", fpc1=True)
    d1 = SurveyDesign(rows, ids="ea", strata="stratum", weights="base_weight")
    for f in (lambda d: d.total("born_abroad", by="sex"), lambda d: d.mean("income"),
              lambda d: d.ratio("born_abroad", "base_weight")):
        np.testing.assert_allclose(f(d2)["estimate"], f(d1)["estimate"], rtol=1e-12)


def test_weighting_chain_linearises_both_phases(survey):
    """Post-stratified to population counts by sex: the chain's variance is the variance of
    the residuals e = y − ȳ_sex with the final weights held fixed (closed form)."""
    sel, rows, _ref = survey
    w = Weights(rows, "base_weight").poststratify({"sex": {"F": 260.0, "M": 240.0}})
    d = screening_design(rows, sel, w, SPEC, key="hh", fpc1=True)
    fixed = rows.assign(wf=w.values)
    ybar = fixed.groupby("sex").apply(lambda g: np.average(g["income"], weights=g["wf"]),
                                      include_groups=False)
    fixed["e"] = fixed["income"] - fixed["sex"].map(ybar)
    plain = screening_design(fixed, sel, "wf", SPEC, key="hh", fpc1=True)
    got = d.total("income")
    np.testing.assert_allclose(got["estimate"], (fixed["wf"] * fixed["income"]).sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(got["se"], plain.total("e")["se"], rtol=1e-10)
    # domain first: the residual of a domain is not zero outside it
    mask = (fixed["screen"] == "migrant").to_numpy()
    yb = fixed.assign(yd=fixed["income"] * mask).groupby("sex").apply(
        lambda g: np.average(g["yd"], weights=g["wf"]), include_groups=False)
    fixed["ed"] = fixed["income"] * mask - fixed["sex"].map(yb)
    plain = screening_design(fixed, sel, "wf", SPEC, key="hh", fpc1=True)
    np.testing.assert_allclose(d.subset(mask).total("income")["se"],
                               plain.total("ed")["se"], rtol=1e-10)


def test_population_count_after_poststratification_has_no_variance(survey):
    sel, rows, _ref = survey
    rows = rows.assign(one=1.0)
    w = Weights(rows, "base_weight").poststratify({"sex": {"F": 260.0, "M": 240.0}})
    d = screening_design(rows, sel, w, SPEC, key="hh", fpc1=True)
    t = d.total("one")
    np.testing.assert_allclose(t["estimate"], 500.0, rtol=1e-12)
    assert abs(float(t["se"].iloc[0])) < 1e-8


def test_pipeline_declares_the_screening_as_two_phase_only_with_known_phase1_fractions(survey):
    sel, rows, _ref = survey
    sel, rows = sel.assign(hh_key=sel["hh"]), rows.assign(hh_key=rows["hh"])
    w = Weights(rows, "base_weight")
    spec = {**SPEC, "estimation": {"lonely_psu": "adjust"}}
    got = indicator_designs(rows, None, w, spec, selected=sel)
    assert got["person"][1] == "two-phase"
    pps = {**spec, "selection": {"psu": {"method": "sampford"}}}
    got = indicator_designs(rows, None, w, pps, selected=sel)
    assert got["person"][1] == "ultimate cluster"
    # without the screening description the single-phase design is the only one
    got = indicator_designs(rows, None, w, spec, selected=sel.drop(columns=["pi2"]))
    assert got["person"][1] == "ultimate cluster"


def test_refuses_a_selection_whose_listing_cannot_be_recovered(survey):
    sel, rows, _ref = survey
    bad = sel.assign(pi2=sel["pi2"] * 0.97)
    with pytest.raises(SurveyError, match="listed households"):
        screening_design(rows, bad, "base_weight", SPEC, key="hh")
    with pytest.raises(SurveyError, match="pi2"):
        screening_design(rows, sel.assign(pi2=np.where(sel["ea"] == sel["ea"].iloc[0], np.nan,
                                                       sel["pi2"])), "base_weight", SPEC, key="hh")
    with pytest.raises(SurveyError, match="pi1 must lie"):
        screening_design(rows, sel.assign(pi1=1.5), "base_weight", SPEC, key="hh")
    with pytest.raises(SurveyError, match="not selected"):
        screening_design(rows.assign(hh="9" + rows["hh"]), sel, "base_weight", SPEC, key="hh")


def test_reweight_refuses_weights_of_other_rows(survey):
    sel, rows, _ref = survey
    d = screening_design(rows, sel, "base_weight", SPEC, key="hh", fpc1=True)
    with pytest.raises(SurveyError, match="phase-2 rows"):
        d.reweight(Weights(rows.reset_index(drop=True), "base_weight"))
    with pytest.raises(SurveyError, match="one weight per phase-2 row"):
        d.reweight(np.ones(3))
    with pytest.raises(SurveyError, match="weighting chain"):
        d.reweight(Weights(rows, "base_weight")).calibrate(variables=["screen"])


def test_pipeline_with_equal_probability_eas_publishes_the_two_phase_design(small_run):
    """The pipeline with EAs by simple random sampling: the indicator tables come from the
    two-phase design, with the point estimates of the ultimate-cluster design."""
    import copy
    import warnings

    from migsurvey.pipeline import estimate_indicators, run_survey
    from surveycore import SurveyWarning

    spec = copy.deepcopy(small_run.spec)
    spec["selection"]["psu"]["method"] = "srs"
    spec["estimation"]["indicators"] = ["MI1.1", "MI1.4"]
    spec["estimation"]["by"] = [[], ["sex"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        run = run_survey(spec, census=small_run.census, seed=5, estimate=False)
        two, objects = estimate_indicators(run.persons, run.household_sample, run.weights, spec,
                                           selected=run.households)
        one, _ = estimate_indicators(run.persons, run.household_sample, run.weights, spec)
    assert {u: t.metadata["design"] for (u, _g), t in objects.items()} == {
        "person": "two-phase", "household": "two-phase"}
    key = ["unit", "indicator", "measure", "sex"]
    m = two.merge(one, on=key, suffixes=("", "_uc"))
    assert len(m) == len(two) > 0
    np.testing.assert_allclose(m["estimate"], m["estimate_uc"], rtol=1e-10)
    assert (m["se"] > 0).all() and np.isfinite(m["se"]).all()
