"""Multi-stage and two-phase designs, composite measure of size, and the end-to-end chain."""

from __future__ import annotations

import numpy as np
import pytest

from sampling import (
    Frame,
    allocate,
    composite_size,
    prevalence_strata,
    select,
)
from surveycore import SurveyError


@pytest.fixture(scope="module")
def frame_and_listing(census, frame_kwargs):
    fr = Frame.from_microdata(census, **frame_kwargs, strata="region").form_psus(30)
    listing = census.groupby(["ea", "hh"], as_index=False).agg(
        migrant=("foreign_born", "max"), persons=("hh", "size"))
    listing["psu"] = fr.psu_map.set_index("ea").loc[listing["ea"], "psu"].to_numpy()
    return fr, listing


def test_fixed_take_rate_and_self_weighting(frame_and_listing):
    fr, listing = frame_and_listing
    s1 = select(fr, 24, method="pps_systematic", seed=1)
    M = listing.groupby("psu").size()
    s2 = s1.subsample(listing, psu="psu", id="hh", take=10, seed=2)
    assert (s2.units.groupby("psu").size() == 10).all()
    np.testing.assert_allclose(s2.units["pi_2"], 10 / M.loc[s2.units["psu"]].to_numpy())
    np.testing.assert_allclose(s2.units["pi"], s2.units["pi_1"] * s2.units["pi_2"])
    np.testing.assert_allclose(s2.units["weight"], 1 / s2.units["pi"])
    assert s2.design.ids == ["psu", "hh"] and s2.design.fpc == ["fpc_1", "fpc_2"]
    assert s2.design.strata == ["region", None]
    r = s1.subsample(listing, psu="psu", id="hh", rate=0.2, method="srs", seed=3)
    assert (r.units["pi_2"] == 0.2).all()
    f0 = 0.9 * s1.units["pi"].min() * 0.2
    sw = s1.subsample(listing, psu="psu", id="hh", self_weighting=f0, seed=4)
    np.testing.assert_allclose(sw.units["pi"], f0)  # self-weighting: one weight for all
    kw = sw.design.as_kwargs()
    assert kw["ids"] == ["psu", "hh"] and kw["probs"] == "pi" and kw["strata"] == "region"
    # PPS first stage: Brewer's approximation with every stage's fpc (R svydesign(pps="brewer"))
    assert kw["fpc"] == ["fpc_1", "fpc_2"] and kw["pps"] == "brewer"
    eq = select(fr, 24, method="srs", seed=1).subsample(listing, psu="psu", id="hh", take=5, seed=1)
    assert eq.design.as_kwargs()["fpc"] == ["fpc_1", "fpc_2"]
    one = s1.design.as_kwargs()
    assert one["fpc"] == "fpc_1" and one["pps"] == "brewer" and one["ids"] == "psu"


def test_within_psu_frequencies_match_pi2(frame_and_listing):
    fr, listing = frame_and_listing
    s1 = select(fr, 6, method="sampford", seed=5)
    H = int(listing["hh"].max()) + 1
    hits = {m: np.zeros(H) for m in ("systematic", "srs")}
    R = 300
    for r in range(R):
        for m in hits:
            s2 = s1.subsample(listing, psu="psu", id="hh", take=4, method=m, seed=r)
            hits[m][s2.units["hh"].to_numpy()] += 1
    sel = listing[listing["psu"].isin(s1.units["psu"])]
    p = (4 / sel.groupby("psu")["hh"].transform("size")).to_numpy()
    for m, h in hits.items():
        z = (h[sel["hh"].to_numpy()] / R - p) / np.sqrt(p * (1 - p) / R)
        assert np.abs(z).max() < 4.5, m


def test_subsample_refusals(frame_and_listing):
    fr, listing = frame_and_listing
    s1 = select(fr, 10, method="brewer", seed=1)
    with pytest.raises(SurveyError, match="larger than the listing") as e:
        s1.subsample(listing, psu="psu", id="hh", take=10_000)
    assert "(psu, take, listed)" in str(e.value)
    with pytest.raises(SurveyError, match="exactly one"):
        s1.subsample(listing, psu="psu", id="hh", take=3, rate=0.1)
    with pytest.raises(SurveyError, match="exceed 1"):
        s1.subsample(listing, psu="psu", id="hh", self_weighting=0.99)
    with pytest.raises(SurveyError, match="no listed households"):
        s1.subsample(listing.iloc[:0], psu="psu", id="hh", take=2)


def test_screening_phase(frame_and_listing):
    fr, listing = frame_and_listing
    s2 = select(fr, 20, method="pps_systematic", seed=1).subsample(
        listing, psu="psu", id="hh", take=20, seed=2)
    s3 = s2.screen("migrant", {True: 1.0, False: 0.25}, seed=3)
    u = s3.units
    assert u.loc[u["migrant"], "pi_3"].eq(1.0).all() and u.loc[~u["migrant"], "pi_3"].eq(0.25).all()
    np.testing.assert_allclose(u["pi"], u["pi_1"] * u["pi_2"] * u["pi_3"])
    # every screened migrant household is kept
    ph1 = s3.phase1
    assert ph1.loc[ph1["migrant"], "in_phase2"].all()
    assert ph1["in_phase2"].sum() == len(u)
    assert s3.design.phases["phase2_strata"] == ["psu", "migrant"]
    with pytest.raises(SurveyError, match="no rate"):
        s2.screen("migrant", {True: 1.0})
    with pytest.raises(SurveyError, match=r"\[0, 1\]"):
        s2.screen("migrant", {True: 1.0, False: 1.5})


def test_end_to_end_weights_sum_to_frame_totals_in_expectation(census, frame_kwargs):
    """Census microdata → frame → PSUs → prevalence strata → allocation → PPS of PSUs →
    households within PSU → migrant screening → Sample; repeated draws."""
    fr = Frame.from_microdata(census, **frame_kwargs, strata="region").form_psus(25)
    fr = prevalence_strata(fr, "migrant_households", "households", n_strata=3)
    fr = fr.with_data(fr.data, strata=("prevalence_stratum",))
    N_h = fr.data.groupby("prevalence_stratum").size()
    mig = fr.data.groupby("prevalence_stratum")["migrant_households"].sum()
    alloc = allocate(N_h, 30, "power", measure=mig, power=0.5, minimum=6)
    assert alloc.sizes.sum() == 30 and alloc.deff > 1
    listing = census.groupby(["ea", "hh"], as_index=False).agg(
        migrant=("foreign_born", "max"), persons=("hh", "size"))
    listing["psu"] = fr.psu_map.set_index("ea").loc[listing["ea"], "psu"].to_numpy()
    totals = np.array([len(listing), listing["migrant"].sum(), listing["persons"].sum()])
    R = 150
    est = np.empty((R, 3))
    for r in range(R):
        s = (select(fr, alloc, method="pps_systematic", sort="region", seed=r)
             .subsample(listing, psu="psu", id="hh", take=8, seed=10_000 + r)
             .screen("migrant", {True: 1.0, False: 0.3}, seed=20_000 + r))
        w = s.units["weight"].to_numpy()
        est[r] = [w.sum(), (w * s.units["migrant"]).sum(), (w * s.units["persons"]).sum()]
    z = (est.mean(axis=0) - totals) / (est.std(axis=0, ddof=1) / np.sqrt(R))
    assert np.abs(z).max() < 4.0, z
    # and the migrant share of the sample is far above the population's (oversampling works)
    assert s.units["migrant"].mean() > 2 * listing["migrant"].mean()


def test_composite_measure_of_size(census, frame_kwargs):
    fr = Frame.from_microdata(census, **frame_kwargs)
    df = fr.data.assign(natives=fr.data["persons"] - fr.data["foreign_born"])
    fr = fr.with_data(df)
    cm = composite_size(fr, {"foreign_born": 300, "natives": 600}, m=40,
                        response_rates={"foreign_born": 0.75})
    N_d = df[["foreign_born", "natives"]].sum()
    np.testing.assert_allclose(cm.rates, [400 / N_d["foreign_born"], 600 / N_d["natives"]])
    assert cm.workload == pytest.approx(1000 / 40)
    s = select(cm.frame, 40, method="sampford", seed=2)
    within = cm.within_rates(s)
    pi = s.units["pi_1"].to_numpy()
    for d in ("foreign_born", "natives"):  # self-weighting in every domain
        np.testing.assert_allclose(pi * within[f"rate_{d}"], cm.rates[d])
    free = pi < 1
    np.testing.assert_allclose(within.loc[free, "workload"], cm.workload)  # equal workloads
    # expected domain samples over the frame: Σ_i π_i f_{d|i} N_id = n_d
    frame_pi = s.frame_pi.loc[cm.frame.data[cm.frame.id]].to_numpy()
    for d, n_d in cm.domain_n.items():
        expected = np.sum(frame_pi * (cm.rates[d] / frame_pi) * cm.frame.data[d])
        assert expected == pytest.approx(n_d)
    assert set(cm.infeasible.columns) >= {"rate_foreign_born", "rate_natives"}
    with pytest.raises(SurveyError, match="larger than the domain"):
        composite_size(fr, {"foreign_born": 10**7}, m=10)


@pytest.mark.parametrize("first", ["srs", "pps_systematic"])
def test_screening_declares_a_two_phase_design(frame_and_listing, first):
    """The screened sample is estimated as two-phase: same weights, hence the same estimates."""
    from estimation import SurveyDesign, TwoPhaseDesign

    fr, listing = frame_and_listing
    s2 = select(fr, 12, method=first, seed=11).subsample(listing, psu="psu", id="hh", take=16, seed=12)
    s3 = s2.screen("migrant", {True: 1.0, False: 0.25}, seed=13)
    kw = s3.design.two_phase_kwargs()
    assert kw["subset"] == "in_phase2" and kw["probs"][1] == "pi_3"
    assert kw["method"] == ("full" if first == "srs" else "approx")
    answers = s3.units[["hh", "persons"]].rename(columns={"persons": "answered_persons"})
    phase1 = s3.phase1.merge(answers, on="hh", how="left")
    d = TwoPhaseDesign(phase1, **kw)
    np.testing.assert_allclose(d.weights, s3.units.set_index("hh").loc[d.data["hh"], "weight"], rtol=1e-12)
    one = SurveyDesign(s3.units, **s3.design.as_kwargs())
    a, b = d.mean("answered_persons"), one.mean("persons")
    assert a["estimate"].iloc[0] == pytest.approx(b["estimate"].iloc[0], rel=1e-12)
    assert 0 < a["se"].iloc[0] < 10 * b["se"].iloc[0]
    with pytest.raises(SurveyError, match="screening phase"):
        s2.design.two_phase_kwargs()


def test_screening_after_a_sampford_first_stage_is_two_phase_with_its_joint_probabilities(
        frame_and_listing):
    """A πps first stage without replacement declared as such: the first stage's joint
    probabilities (or Brewer's approximation) and its inclusion probabilities as phase-1 fpc."""
    from estimation import SurveyDesign, TwoPhaseDesign

    fr, listing = frame_and_listing
    s1 = select(fr, 12, method="sampford", seed=11)
    s3 = s1.subsample(listing, psu="psu", id="hh", take=16, seed=12).screen(
        "migrant", {True: 1.0, False: 0.25}, seed=13)
    answers = s3.units[["hh", "persons"]].rename(columns={"persons": "answered_persons"})
    phase1 = s3.phase1.merge(answers, on="hh", how="left")
    one = SurveyDesign(s3.units, **s3.design.as_kwargs()).mean("persons")
    for pps in (s1.joint_probabilities(), "brewer"):
        kw = s3.design.two_phase_kwargs(pps=pps)
        assert kw["method"] == "full" and kw["fpc"][0] == list(s3.design.fpc)
        d = TwoPhaseDesign(phase1, **kw)
        a = d.mean("answered_persons")
        assert a["estimate"].iloc[0] == pytest.approx(one["estimate"].iloc[0], rel=1e-12)
        assert 0 < a["se"].iloc[0] < 10 * one["se"].iloc[0]
