"""Pure parts of replicate designs: Hadamard matrices, bootstrap and SDR factors, the variance
formula, calibrated replicates, replicate quantiles, and refusals of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_data, reference_case
from test_replicates_reference import case, check, survey_design

from estimation import SurveyDesign
from estimation.replicates import PsuLayout, ReplicateDesign, generate, replicate_covariance
from estimation.replicates.hadamard import hadamard, is_hadamard, paley_prime, sylvester
from surveycore.errors import SurveyError

RTOL = 1e-8


# -- Hadamard matrices --------------------------------------------------------------------------
def test_hadamard_orders_match_r_except_tabulated_28_and_36():
    note = case("hadamard_orders")["note"]
    for n, order in zip(note["n"], note["order"]):
        h = hadamard(n)
        assert is_hadamard(h) and h.shape[0] > n
        assert (h[0] == 1).all() and (h[:, 0] == 1).all()
        if order % 28 and order % 36:  # R's tabulated orders 28, 36 (and doublings) are not built
            assert h.shape[0] == order, n
    for m in note["matrices"]:
        np.testing.assert_array_equal(hadamard(m["n"]), np.array(m["h"]))


def test_sylvester_and_paley_are_hadamard():
    assert is_hadamard(sylvester(32))
    for p in (3, 7, 11, 19, 23, 31, 43):
        assert is_hadamard(paley_prime(p))


# -- variance formula -------------------------------------------------------------------------
def test_replicate_covariance_formula():
    rng = np.random.default_rng(0)
    thetas = rng.normal(size=(30, 2))
    est = np.array([0.1, -0.2])
    rs = rng.uniform(0.5, 1.5, 30)
    v = replicate_covariance(thetas, est, 0.7, rs, mse=False)
    dev = thetas - thetas.mean(axis=0)
    np.testing.assert_allclose(v, 0.7 * (dev * rs[:, None]).T @ dev, rtol=1e-13)
    v = replicate_covariance(thetas, est, 0.7, rs, mse=True)
    dev = thetas - est
    np.testing.assert_allclose(v, 0.7 * (dev * rs[:, None]).T @ dev, rtol=1e-13)
    # replicates with rscale 0 do not enter the mean
    rs0 = rs.copy()
    rs0[0] = 0.0
    v = replicate_covariance(thetas, est, 1.0, rs0, mse=False)
    dev = thetas - thetas[1:].mean(axis=0)
    np.testing.assert_allclose(v, (dev * rs0[:, None]).T @ dev, rtol=1e-13)


# -- bootstrap --------------------------------------------------------------------------------
def test_bootstrap_factors_rescaled_per_stratum_and_reproducible():
    d = survey_design("strat_mean")
    layout = PsuLayout.from_stage(d.stages[0])
    a = generate(layout, "bootstrap", replicates=40, seed=3)
    b = generate(layout, "bootstrap", replicates=40, seed=3)
    c = generate(layout, "bootstrap", replicates=40, seed=4)
    np.testing.assert_array_equal(a.factors, b.factors)
    assert not np.array_equal(a.factors, c.factors)
    assert a.factors.shape == (200, 40) and (a.factors >= 0).all()
    assert a.scale == pytest.approx(1 / 39)
    # Rao–Wu: in every replicate the factors of a stratum sum to n_h
    n_h = layout.n_per_stratum()
    sums = np.stack([a.factors[layout.stratum == h].sum(axis=0) for h in range(layout.n_strata)])
    np.testing.assert_allclose(sums, n_h[:, None] * np.ones((1, 40)), rtol=1e-12)


def test_bootstrap_without_fpc_matches_linearisation_on_average():
    # Rao–Wu with m_h = n_h − 1 is unbiased for the with-replacement variance of a total
    df = load_data("apistrat")
    d = SurveyDesign(df, strata="stype", weights="pw")
    lin = d.total("enroll")["se"].iloc[0]
    r = d.replicate("bootstrap", replicates=4000, seed=11)
    assert r.total("enroll")["se"].iloc[0] == pytest.approx(lin, rel=0.04)
    # with fpc the rescaling includes sqrt(1 - f_h)
    dfpc = survey_design("strat_mean")
    lin = dfpc.total("enroll")["se"].iloc[0]
    rf = dfpc.replicate("bootstrap", replicates=4000, seed=12)
    assert rf.total("enroll")["se"].iloc[0] == pytest.approx(lin, rel=0.04)


def test_bootstrap_generated_equals_supplied_route():
    d = survey_design("clus1_mean")
    r = d.replicate("bootstrap", replicates=30, seed=5)
    df = pd.concat([load_data("apiclus1"), r.replicate_weights()], axis=1)
    s = ReplicateDesign(df, weights="pw", repweights="rw[0-9]+", type="bootstrap")
    a = r.mean(["api00", "enroll"], by="stype")
    b = s.mean(["api00", "enroll"], by="stype")
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-12)
    assert r.degf() == s.degf()


# -- SDR --------------------------------------------------------------------------------------
def _sdr_identity(d: SurveyDesign, y: np.ndarray) -> float:
    """½ Σ_h Σ_i (t_hi − t_h,i−1)² over PSU totals in order of appearance (circular)."""
    st = d.stages[0]
    layout = PsuLayout.from_stage(st)
    t = np.bincount(st.cluster, weights=d.weights * y, minlength=st.n_clusters)
    order = layout.appearance_order()
    v = 0.0
    for h in range(layout.n_strata):
        th = t[order][layout.stratum[order] == h]
        v += 0.5 * np.sum((th - np.roll(th, 1)) ** 2)
    return float(np.sqrt(v))


def test_sdr_reproduces_successive_differences():
    df = load_data("apistrat")
    d = SurveyDesign(df, strata="stype", weights="pw")
    r = d.replicate("SDR")
    assert r.scale == pytest.approx(4 / r.n_replicates)
    assert r.n_replicates >= 201
    se = r.total("enroll")["se"].iloc[0]
    assert se == pytest.approx(_sdr_identity(d, df["enroll"].to_numpy(float)), rel=1e-10)
    c = survey_design("clus1_total")
    rc = c.replicate("SDR")
    # the first-stage fpc shrinks the differences by (1 − f)
    f = 15 / 757
    np.testing.assert_allclose(
        rc.total("enroll")["se"].iloc[0],
        np.sqrt(1 - f) * _sdr_identity(c, c.data["enroll"].to_numpy(float)),
        rtol=1e-10,
    )
    values = np.unique(np.round(r.replicate_weights().to_numpy() / df["pw"].to_numpy()[:, None], 12))
    np.testing.assert_allclose(values, [1 - 2**-0.5, 1, 1 + 2**-0.5])


def test_sdr_supplied_weights():
    df = load_data("apistrat")
    d = SurveyDesign(df, strata="stype", weights="pw")
    r = d.replicate("SDR")
    full = pd.concat([df, r.replicate_weights()], axis=1)
    s = ReplicateDesign(full, weights="pw", repweights="rw[0-9]+", type="SDR")
    np.testing.assert_allclose(s.mean("api00")["se"], r.mean("api00")["se"], rtol=1e-12)


# -- calibrated replicates (the weighting chain replayed on every replicate) ----------------------
def test_clus1_jk1_rake_mean():
    from weighting import Weights

    df = load_data("apiclus1")
    margins = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    # R's rake default control: epsilon = 1 (weight units), maxit = 10
    w = Weights(df, "pw").rake(margins, tol=1, tol_units="absolute", max_iter=10, variance="survey")
    r = SurveyDesign(df, ids="dnum", weights=w, fpc="fpc").replicate("JK1")
    values = reference_case("clus1_jk1_rake_mean")["values"][0]
    out = r.mean("api00").iloc[0]
    np.testing.assert_allclose([out["estimate"], out["se"]], [values["estimate"], values["se"]], rtol=RTOL)
    # every replicate hits the margins
    rw = r.replicate_weights().to_numpy()
    totals = pd.DataFrame(rw).groupby(df["stype"].to_numpy()).sum()
    np.testing.assert_allclose(totals.loc["E"], 4421, rtol=1e-3)


# -- replicate quantiles (R's default interval.type="mean") ------------------------------------------
def test_clus1_jk1_quantile():
    r = survey_design("clus1_mean").replicate("JK1")
    out = r.quantile("api00", [0.25, 0.5])
    check(out, "clus1_jk1_quantile", ["0.25", "0.5"])


# -- refusals ---------------------------------------------------------------------------------
def _with_reps(df, mat, prefix="rw"):
    return pd.concat([df, pd.DataFrame(mat, columns=[f"{prefix}{i + 1}" for i in range(mat.shape[1])], index=df.index)], axis=1)


def test_refuses_replicates_that_do_not_match_type():
    scd = load_data("scd").assign(one=1.0)
    brr = survey_design("scd_brr_total").replicate("BRR").replicate_weights().to_numpy()
    ok = ReplicateDesign(_with_reps(scd, brr), weights="one", type="BRR")
    assert ok.n_replicates == 4
    bad = brr.copy()
    bad[0, 0] = 1.5
    with pytest.raises(SurveyError, match="BRR pattern"):
        ReplicateDesign(_with_reps(scd, bad), weights="one", type="BRR")
    with pytest.raises(SurveyError, match="Fay pattern"):
        ReplicateDesign(_with_reps(scd, brr), weights="one", type="Fay", rho=0.3)
    with pytest.raises(SurveyError, match="rho"):
        ReplicateDesign(_with_reps(scd, brr), weights="one", type="Fay")
    with pytest.raises(SurveyError, match="rho"):
        ReplicateDesign(_with_reps(scd, brr), weights="one", type="BRR", rho=0.5)
    with pytest.raises(SurveyError, match="fixes scale"):
        ReplicateDesign(_with_reps(scd, brr), weights="one", type="BRR", scale=0.5)

    df = load_data("apiclus1")
    jk = survey_design("clus1_mean").replicate("JK1").replicate_weights().to_numpy()
    ReplicateDesign(_with_reps(df, jk), weights="pw", type="JK1")
    no_zero = jk.copy()
    no_zero[:, 2] = df["pw"].to_numpy()
    with pytest.raises(SurveyError, match="without a deleted unit"):
        ReplicateDesign(_with_reps(df, no_zero), weights="pw", type="JK1")
    twice = jk.copy()
    twice[:, 3] = jk[:, 4]
    with pytest.raises(SurveyError, match="more than once"):
        ReplicateDesign(_with_reps(df, twice), weights="pw", type="JK1")
    two_psus = jk.copy()
    two_psus[:, 0] = np.where(jk[:, 1] == 0, 0.0, jk[:, 0])
    two_psus[:, 1] = jk[:, 0]  # replicate 2 now deletes nothing new but is fine; replicate 1 deletes two
    with pytest.raises(SurveyError):
        ReplicateDesign(_with_reps(df, two_psus), weights="pw", type="JK1")
    with pytest.raises(SurveyError, match="JK1 pattern"):
        ReplicateDesign(_with_reps(df, jk[:, :10]), weights="pw", type="JK1")
    with pytest.raises(SurveyError, match="rscales"):
        ReplicateDesign(_with_reps(df, jk), weights="pw", type="JKn")
    with pytest.raises(SurveyError, match="one value per replicate"):
        ReplicateDesign(_with_reps(df, jk), weights="pw", type="JKn", rscales=[0.9] * 3)
    with pytest.raises(SurveyError, match="successive-difference"):
        ReplicateDesign(_with_reps(df, jk), weights="pw", type="SDR")
    with pytest.raises(SurveyError, match="needs scale"):
        ReplicateDesign(_with_reps(df, jk), weights="pw", type="other")
    with pytest.raises(SurveyError, match="type"):
        ReplicateDesign(_with_reps(df, jk), weights="pw", type="jackknife")
    with pytest.raises(SurveyError, match="no column matches"):
        ReplicateDesign(df, weights="pw", repweights="repw[0-9]+")
    neg = jk.copy()
    neg[0, 0] = -1.0
    with pytest.raises(SurveyError, match="negative"):
        ReplicateDesign(_with_reps(df, neg), weights="pw", type="bootstrap")
    nan = jk.copy()
    nan[0, 0] = np.nan
    with pytest.raises(SurveyError, match="missing"):
        ReplicateDesign(_with_reps(df, nan), weights="pw", type="bootstrap")


def test_refuses_impossible_conversions():
    strat = survey_design("strat_mean")
    clus = survey_design("clus1_mean")
    with pytest.raises(SurveyError, match="unstratified"):
        strat.replicate("JK1")
    for kind in ("JKn", "BRR"):
        with pytest.raises(SurveyError, match="stratified"):
            clus.replicate(kind)
    with pytest.raises(SurveyError, match="odd number"):
        survey_design("nhanes_jkn_mean").replicate("BRR")
    with pytest.raises(SurveyError, match="two replicates"):
        clus.replicate("bootstrap", replicates=1)
    with pytest.raises(SurveyError, match="rho"):
        survey_design("scd_brr_total").replicate("Fay")
    with pytest.raises(SurveyError, match="replicates applies"):
        clus.replicate("JK1", replicates=10)
    with pytest.raises(SurveyError, match="type"):
        clus.replicate("half-sample")


def test_design_data_untouched_and_subset_keeps_replicates():
    df = load_data("apiclus1")
    before = df.copy()
    r = SurveyDesign(df, ids="dnum", weights="pw", fpc="fpc").replicate("JK1")
    r.mean("api00", by="stype")
    pd.testing.assert_frame_equal(df, before)
    sub = r.subset(r.data["stype"] == "H")
    assert sub.n_replicates == 15 and sub.degf() == 7 and r.degf() == 14  # R: rank of the subset's weights − 1
    # a domain by `by` equals the subset
    a = r.mean("api00", by="stype")
    b = sub.mean("api00")
    np.testing.assert_allclose(a.loc[a["stype"] == "H", ["estimate", "se"]].to_numpy()[0], b[["estimate", "se"]].to_numpy()[0], rtol=1e-12)


def test_degf_is_rank_minus_one_for_tall_supplied_weights():
    from estimation.replicates import ReplicateEngine

    rng = np.random.default_rng(2)
    w = rng.uniform(1, 2, 5000)
    full = w[:, None] * rng.uniform(0.5, 1.5, (5000, 10))
    assert ReplicateEngine(w, 1.0, np.ones(10), repweights=full).degf() == 9
    dup = np.column_stack([full[:, :6], full[:, :4]])  # rank 6 (subset test fails, exact path)
    assert ReplicateEngine(w, 1.0, np.ones(10), repweights=dup).degf() == 5


def test_polars_input_and_repr():
    pl = pytest.importorskip("polars")
    df = load_data("apistrat_bootstrap50")
    a = ReplicateDesign(pl.from_pandas(df), weights="pw", repweights="rw[0-9]+", type="bootstrap")
    b = ReplicateDesign(df, weights="pw", repweights="rw[0-9]+", type="bootstrap")
    np.testing.assert_allclose(a.mean("api00")["se"], b.mean("api00")["se"], rtol=1e-14)
    assert "50 supplied replicates" in repr(a)
    assert "generated" in repr(survey_design("clus1_mean").replicate("JK1"))


@pytest.mark.parametrize("rule", ["fail", "adjust", "average", "remove", "certainty"])
def test_blockwise_rank_of_jackknife_factors_equals_dense_rank(rule):
    from estimation.replicates.engine import _factor_rank, _rank

    if rule == "fail":
        designs = [survey_design("strat_mean"), survey_design("nhanes_jkn_mean")]
    else:
        df = load_data("apiclus1")
        df["str"] = np.where(df["dnum"] == 413, "single", df["stype"])
        designs = [SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True, lonely_psu=rule)]
    rng = np.random.default_rng(0)
    for d in designs:
        F = generate(PsuLayout.from_stage(d.stages[0]), "JKn", lonely_psu=d._lonely).factors
        for rows in [np.arange(F.shape[0]), np.sort(rng.choice(F.shape[0], F.shape[0] // 3, replace=False))]:
            assert _factor_rank(F[rows], 1e-5, dense_limit=0) == _rank(F[rows], 1e-5)


def test_sdr_with_fewer_replicates_reuses_rows():
    d = survey_design("strat_mean")
    r = d.replicate("SDR", replicates=80)
    assert r.n_replicates == 80 and r.scale == pytest.approx(4 / 80)
    full = d.replicate("SDR").mean("api00")["se"].iloc[0]
    assert r.mean("api00")["se"].iloc[0] == pytest.approx(full, rel=0.3)
    with pytest.raises(SurveyError, match="Hadamard"):
        d.replicate("SDR", replicates=30)


def test_bootstrap_follows_lonely_psu():
    df = load_data("apiclus1")
    df["str"] = np.where(df["dnum"] == 413, "single", df["stype"])

    def design(rule):
        return SurveyDesign(df, ids="dnum", strata="str", weights="pw", nest=True, lonely_psu=rule)

    with pytest.raises(SurveyError, match="bootstrap cannot resample"):
        design("adjust").replicate("bootstrap", replicates=20, seed=1)
    se = {k: design(k).replicate("bootstrap", replicates=40, seed=3).mean("enroll")["se"].iloc[0]
          for k in ("remove", "certainty", "average")}
    assert se["remove"] == se["certainty"]
    # the single PSU keeps factor 1 and "average" adds the mean stratum contribution, H/(H − L)
    assert (se["average"] / se["remove"]) ** 2 == pytest.approx(4 / 3, rel=1e-12)
    from estimation.replicates.factors import PsuLayout, bootstrap
    with pytest.raises(SurveyError, match="only one PSU"):
        bootstrap(PsuLayout.from_stage(design("remove").stages[0]), 20, 1, "fail")
