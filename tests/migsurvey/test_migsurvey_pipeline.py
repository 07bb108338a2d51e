"""Pipeline stages, fieldwork and simulation checked against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from migsurvey.fieldwork import response_propensity, run_fieldwork
from migsurvey.pipeline import build_frame, census_targets
from migsurvey.simulate import population_values, summarise
from surveycore import SurveyError, SurveyWarning


def test_frame_prevalence_classes(small_run, small_spec):
    f = small_run.frame
    prev = f["foreign_born"] / f["persons"]
    np.testing.assert_allclose(f["prevalence"], prev)
    low = f["prevalence_class"] == "low"
    assert (prev[low] < 0.05).all()
    assert (prev[f["prevalence_class"] == "high"] >= 0.15).all()
    assert f["stratum"].nunique() <= 3 * f["region"].nunique()


def test_small_classes_are_collapsed(small_spec):
    eas = pd.DataFrame({"ea_id": range(6), "households": 100, "persons": 100,
                        "foreign_born": [1, 2, 3, 10, 10, 40], "region": "R1"})
    spec = {**small_spec, "strata": {**small_spec["strata"], "by": ["region"],
                                     "collapse_below": 2}}
    f = build_frame(eas, spec)
    # the single high EA (40 %) joins the medium class of its region
    assert f["prevalence_class"].tolist() == ["low", "low", "low", "medium", "medium", "medium"]


def test_allocation_and_selection_probabilities(small_run):
    a = small_run.allocation
    assert a["psus"].sum() == 60 and (a["psus"] >= 2).all()
    psus = small_run.psus
    assert psus.groupby("stratum").size().reindex(a["stratum"]).tolist() == a["psus"].tolist()
    # second stage: pi2 = m / M within EA × screening class (independent recount)
    hh = small_run.households
    census_hh = small_run.census.households
    listed = census_hh[census_hh["ea_id"].isin(psus["ea_id"])].assign(
        screen=lambda d: np.where(d["migrant_household"], "migrant", "other"))
    M = listed.groupby(["ea_id", "screen"]).size()
    m = hh.groupby(["ea_id", "screen"]).size()
    pi2 = (m / M.reindex(m.index)).rename("pi2_check").reset_index()
    got = hh.merge(pi2, on=["ea_id", "screen"])
    np.testing.assert_allclose(got["pi2"], got["pi2_check"])
    take = {"migrant": 12, "other": 4}
    assert (m <= m.index.get_level_values("screen").map(take)).all()


def test_weights_meet_census_margins_and_household_weights(small_run):
    pp = small_run.persons
    census = small_run.census
    targets = census_targets(census, ["region", "sex", "age_group"])
    for var, tgt in targets.items():
        got = pp.groupby(var)["weight"].sum()
        np.testing.assert_allclose(got.sort_index(), pd.Series(tgt).sort_index(), rtol=1e-8)
    # integrated calibration: one weight per household, shared with MI 1.4's household design
    assert (pp.groupby("household_id")["weight"].nunique() == 1).all()
    hh = small_run.household_sample
    w_first = pp.drop_duplicates("household_id").set_index("household_id")["weight"]
    np.testing.assert_allclose(hh["weight"], w_first.reindex(hh["household_id"]).to_numpy())
    # nonresponse step: respondents' weights sum to all selected households' base weights
    steps = {s.name: s for s in small_run.weight_steps}
    np.testing.assert_allclose(steps["nonresponse"].weights.sum(),
                               small_run.households["base_weight"].sum(), rtol=1e-10)


def test_weighting_is_one_chain_from_households_to_persons(small_run):
    from weighting.linearisation import ExpandRecord

    w = small_run.weights
    assert [h.step for h in w.history][:3] == ["base", "nonresponse", "expand"]
    assert len(w.base_values) == len(small_run.households) and len(w) == len(small_run.persons)
    # the linearised variance applies the calibration, then the household nonresponse step
    assert isinstance(w.variance_records()[-1], ExpandRecord)


def test_estimates_near_census_values(small_run, small_spec):
    truth = population_values(small_run.census, small_spec)
    t = small_run.indicators
    dims = ["sex", "age_group", "region", "urban"]
    tot = t[(t[dims] == "_T").all(axis=1)]
    tr = truth[(truth[dims] == "_T").all(axis=1)]
    both = tot.merge(tr, on=["indicator", "measure"])
    assert len(both) == 7  # MI 1.1, 1.2, 1.3: two measures each; MI 1.4: the count
    # every total-level estimate within 4 SE of the census value (one sample)
    z = (both["estimate"] - both["truth"]).abs() / both["se"]
    assert (z < 4).all(), both[["indicator", "measure", "estimate", "truth", "se"]]


def test_population_values_independent(small_run, small_spec):
    from migsurvey.pipeline import derive_persons

    p = derive_persons(small_run.census.persons, small_spec)
    truth = population_values(small_run.census, small_spec).set_index(
        ["indicator", "measure", "sex", "age_group", "region", "urban"])["truth"]
    T = ("_T",) * 4
    assert truth[("MI1.1", "share", *T)] == pytest.approx(100 * (p["country_birth"] != "POL").mean())
    women = p[p["sex"] == "F"]
    assert truth[("MI1.3", "rate", "F", "_T", "_T", "_T")] == pytest.approx(
        1000 * (women["year_arrival"] == 2025).fillna(False).mean())
    acq = ((p["citizenship_acquired"].isin(["naturalisation", "marriage", "declaration"]))
           & (p["year_citizenship"] == 2025)).sum()
    start = (p["citizenship"] != "POL").sum() + acq
    assert truth[("MI1.2", "rate", *T)] == pytest.approx(100 * acq / start)
    hh = small_run.census.households
    assert truth[("MI1.4", "count", *T)] == hh["emigrants_12m"].sum()


def test_response_propensity_and_fieldwork():
    hh = pd.DataFrame({"household_id": range(4000), "urban": ["urban", "rural"] * 2000,
                       "screen": ["migrant"] * 2000 + ["other"] * 2000})
    rho = response_propensity(hh, base=0.9, migrant=0.8, urban=0.5)
    np.testing.assert_allclose(rho[:2], [0.36, 0.72])
    np.testing.assert_allclose(rho[-2:], [0.45, 0.9])
    persons = pd.DataFrame({"household_id": np.repeat(np.arange(4000), 2), "age": 30})
    fw = run_fieldwork(hh, persons, response={"base": 0.9, "migrant": 0.8, "urban": 0.5}, seed=3)
    rate = fw.households.groupby(["screen", "urban"])["responded"].mean()
    # 1000 households per cell: within 4.5 binomial SEs of the propensity
    for (screen, urban), r in rate.items():
        p = 0.9 * (0.8 if screen == "migrant" else 1) * (0.5 if urban == "urban" else 1)
        assert abs(r - p) < 4.5 * np.sqrt(p * (1 - p) / 1000)
    assert len(fw.persons) == 2 * int(fw.households["responded"].sum())
    assert set(fw.households["disposition"]) == {1.1, 2.1}
    with pytest.raises(SurveyError):
        response_propensity(hh, base=-1, migrant=1, urban=1)


def test_summarise_by_hand():
    est = pd.DataFrame({"indicator": "X", "measure": "share", "sex": "_T",
                        "estimate": [9.0, 11.0, 13.0, 7.0],
                        "se": [1.0, 1.0, 2.0, 1.0],
                        "ci_low": [8.0, 10.5, 9.5, 5.0], "ci_high": [10.5, 12.0, 16.0, 9.0]})
    truth = pd.DataFrame({"indicator": ["X"], "measure": ["share"], "sex": ["_T"],
                          "truth": [10.0]})
    s = summarise(est, truth, {"estimation": {"by": [[], ["sex"]]}}).iloc[0]
    assert s["reps"] == 4 and s["mean_estimate"] == 10.0
    assert s["relative_bias"] == 0.0
    assert s["empirical_se"] == pytest.approx(np.std([9, 11, 13, 7], ddof=1))
    assert s["mean_estimated_se"] == 1.25
    assert s["coverage"] == 0.5  # rows 1 and 3 cover 10
    assert s["coverage_mc_se"] == pytest.approx(0.25)


def test_tiny_simulation_runs(small_spec):
    from migsurvey.simulate import simulate

    spec = {**small_spec, "estimation": {**small_spec["estimation"], "by": [[], ["sex"]]}}
    calls = []
    res = simulate(spec, reps=2, seed=4, progress=lambda d, t: calls.append(d))
    assert calls == [1, 2] and not res.failures
    s = res.summary
    assert {"relative_bias", "se_ratio", "coverage"} <= set(s.columns)
    assert (s["reps"] == 2).all()
    with pytest.raises(SurveyError):
        simulate(spec, reps=1)


def test_jackknife_variance_agrees_with_taylor(small_run, small_spec):
    from migsurvey.pipeline import estimate_indicators

    spec = {**small_spec, "estimation": {**small_spec["estimation"], "variance": "JKn",
                                         "by": [[]], "indicators": ["MI1.1", "MI1.4"]}}
    jk, _ = estimate_indicators(small_run.persons, small_run.household_sample,
                                small_run.weights, spec)
    t = small_run.indicators
    dims = ["sex", "age_group", "region", "urban"]
    taylor = t[(t[dims] == "_T").all(axis=1)].set_index(["indicator", "measure"])
    jk = jk.set_index(["indicator", "measure"])
    for key in [("MI1.1", "share"), ("MI1.4", "count")]:
        assert jk.loc[key, "estimate"] == pytest.approx(taylor.loc[key, "estimate"], rel=1e-9)
        # delete-one-EA jackknife and linearisation: same target, close values
        assert 0.75 < jk.loc[key, "se"] / taylor.loc[key, "se"] < 1.33


def test_parquet_census_gives_the_same_survey(tmp_path, small_spec, small_run):
    """A census streamed to Parquet and read where needed gives the in-memory results."""
    from migsurvey.pipeline import run_survey
    from migsurvey.synthetic import ParquetCensus, write_census

    syn = small_spec["frame"]["synthetic"]
    write_census(tmp_path, syn["persons"], seed=syn["seed"], n_regions=syn["regions"])
    spec = {**small_spec, "frame": {**small_spec["frame"], "census": str(tmp_path)}}
    run = run_survey(spec, seed=11)
    assert isinstance(run.census, ParquetCensus)
    assert run.census.n_persons == len(small_run.census.persons)
    assert run.census.person_counts("sex") == small_run.census.person_counts("sex")
    pd.testing.assert_frame_equal(
        run.indicators.reset_index(drop=True), small_run.indicators.reset_index(drop=True),
        check_dtype=False)


def test_totals_once_and_suppression_switch(small_run, small_spec):
    from migsurvey.pipeline import estimate_indicators

    spec = {**small_spec, "estimation": {**small_spec["estimation"], "by": [["sex"], ["urban"]],
                                         "indicators": ["MI1.1"]},
            "quality": {**small_spec["quality"], "disclosure": False}}
    with pytest.warns(SurveyWarning, match="disclosure"):
        t, _ = estimate_indicators(small_run.persons, small_run.household_sample,
                                   small_run.weights, spec)
    tot = t[(t[["sex", "urban"]] == "_T").all(axis=1)]
    assert sorted(tot["measure"]) == ["count", "share"]  # national totals, once
    assert (t["suppressed"] == "").all()
    assert not t.duplicated(["indicator", "measure", "sex", "urban"]).any()
    # blanking unreliable estimates is a separate setting: disclosure control stays on
    spec = {**spec, "quality": {**small_spec["quality"], "suppress": False}}
    _, objects = estimate_indicators(small_run.persons, small_run.household_sample,
                                     small_run.weights, spec)
    assert all(o.metadata["suppression"] is not None for o in objects.values())
