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


# -- EAs drawn by a πps method without replacement -----------------------------------------

def test_joint_probabilities_recomputed_from_the_frame_are_the_selections(small_run):
    """phase1_joint rebuilds, from the frame alone, the joint probabilities that the Sampford
    selection itself reports (Sample.joint_probabilities), EA by EA."""
    from migsurvey.twophase import phase1_joint
    from sampling import select

    spec, frame = small_run.spec, small_run.frame
    psu = spec["frame"]["psu"]
    n_h = small_run.allocation.set_index("stratum")["psus"]
    s = select(frame, n_h, method="sampford", size=spec["selection"]["psu"]["size"],
               strata="stratum", id=psu, seed=3)
    hh = s.units.rename(columns={"pi": "pi1"})[[psu, "stratum", "pi1"]]
    got = phase1_joint(frame, hh, spec)
    want = s.joint_probabilities()
    for block in got.values():
        np.testing.assert_allclose(block.to_numpy(), want.loc[block.index, block.columns].to_numpy(),
                                   rtol=1e-12)
    # pairs across strata are independent: π_IJ = π_I π_J
    a, b = (next(iter(got[k].index)) for k in list(got)[:2])
    np.testing.assert_allclose(want.loc[a, b], want.loc[a, a] * want.loc[b, b], rtol=1e-12)
    bad = hh.assign(pi1=hh["pi1"] * 1.01)
    with pytest.raises(SurveyError, match="does not reproduce"):
        phase1_joint(frame, bad, spec)


def test_sampford_screening_is_estimated_as_two_phase_with_the_same_estimates(small_run):
    """The demo (Sampford's πps EAs): the published tables come from the two-phase design with
    exact joint probabilities; estimates and degrees of freedom are those of the
    ultimate-cluster design (the tables published so far), the SEs are not."""
    import warnings

    from migsurvey.pipeline import estimate_indicators
    from surveycore import SurveyWarning

    run, spec = small_run, small_run.spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        one, _ = estimate_indicators(run.persons, run.household_sample, run.weights, spec,
                                     selected=run.households)
    two, objects = run.indicators, run.indicator_table
    for t in objects.values():
        assert t.metadata["design"] == "two-phase"
        assert "exact joint inclusion probabilities" in t.metadata["phase1_variance"]
    assert len(one) == len(two) > 0
    np.testing.assert_array_equal(two["estimate"].to_numpy(), one["estimate"].to_numpy())
    np.testing.assert_array_equal(two["df"].to_numpy(), one["df"].to_numpy())
    np.testing.assert_array_equal(two["se"].isna(), one["se"].isna())
    zero = (one["se"] <= 1e-9 * one["estimate"].abs()).to_numpy()  # calibrated totals, empty cells
    np.testing.assert_array_equal(zero, (two["se"] <= 1e-9 * two["estimate"].abs()).to_numpy())
    keep = ~zero & one["se"].notna().to_numpy()
    ratio = (two["se"] / one["se"]).to_numpy()[keep]
    assert keep.sum() > 0.8 * len(one) and (np.abs(ratio - 1) > 1e-6).mean() > 0.9
    assert 0.7 < np.median(ratio) < 1.3


def test_pipeline_phase1_choice(small_run):
    """Which phase 1 the pipeline declares for each way of selecting EAs."""
    import copy
    import warnings

    from migsurvey.twophase import phase1_choice
    from surveycore import SurveyWarning

    spec, frame, hh = small_run.spec, small_run.frame, small_run.households
    for method, kind in (("sampford", "pps"), ("conditional_poisson", "pps"), ("tille", "pps"),
                         ("brewer", "pps"), ("srs", "fpc1"), ("pps_systematic", None)):
        s = copy.deepcopy(spec)
        s["selection"]["psu"]["method"] = method
        choice, why = phase1_choice(s, hh, frame)
        assert (None if choice is None else next(iter(choice))) == kind, method
        assert why
    assert phase1_choice(spec, hh, None)[0] is None
    assert phase1_choice(spec, hh.drop(columns=["pi2"]), frame)[0] is None
    with pytest.warns(SurveyWarning, match="ultimate-cluster"):
        assert phase1_choice(spec, hh.assign(pi1=hh["pi1"] * 0.9), frame)[0] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurveyWarning)
        assert phase1_choice(spec, hh, frame)[0]["pps"]


def test_brewer_selection_is_estimated_with_brewers_approximation(small_run):
    import copy
    import warnings

    from migsurvey.pipeline import estimate_indicators, run_survey
    from surveycore import SurveyWarning

    spec = copy.deepcopy(small_run.spec)
    spec["selection"]["psu"]["method"] = "brewer"
    spec["estimation"]["indicators"] = ["MI1.1"]
    spec["estimation"]["by"] = [[], ["sex"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        run = run_survey(spec, census=small_run.census, seed=5)
        one, _ = estimate_indicators(run.persons, run.household_sample, run.weights, spec,
                                     selected=run.households)
    t = next(iter(run.indicator_table.values()))
    assert t.metadata["design"] == "two-phase" and "Brewer" in t.metadata["phase1_variance"]
    np.testing.assert_array_equal(run.indicators["estimate"].to_numpy(), one["estimate"].to_numpy())
    assert np.isfinite(run.indicators["se"]).all()


def test_selection_frame_is_built_only_when_joint_probabilities_are_needed(small_run):
    import copy

    from migsurvey.pipeline import selection_frame

    spec = small_run.spec
    frame = selection_frame(small_run.census, spec)
    pd.testing.assert_frame_equal(frame, small_run.frame)
    for method in ("srs", "pps_systematic", "brewer"):
        s = copy.deepcopy(spec)
        s["selection"]["psu"]["method"] = method
        assert selection_frame(small_run.census, s) is None
    assert selection_frame(None, spec) is None
