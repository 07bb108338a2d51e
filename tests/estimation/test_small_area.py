"""Fay–Herriot estimation from a design's domain estimates: inputs, areas without sample,
bootstrap MSE, proportions on the arcsine scale, smoothed variances, benchmarking, diagnostics
and refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import integrate, stats

from estimation import SurveyDesign, fay_herriot
from estimation.small_area.fit import gls
from estimation.small_area.transform import bias_corrected_back
from surveycore import SurveyError, SurveyWarning


def census(n_dist: int = 24, seed: int = 0) -> pd.DataFrame:
    """District aggregates as a census office publishes them (codes with leading zeros)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "DISTRICT_CODE": [f"{i:03d}" for i in range(1, n_dist + 1)],
        "FB_SHARE_2015": rng.uniform(0.02, 0.30, n_dist).round(4),
        "URBAN": rng.uniform(0.1, 0.9, n_dist).round(3),
        "POP": rng.integers(20_000, 200_000, n_dist),
    })


def survey(cen: pd.DataFrame, sampled: int, seed: int = 1, per_psu: int = 8,
           psus: int = 4) -> pd.DataFrame:
    """A two-stage sample of persons in the first ``sampled`` districts."""
    rng = np.random.default_rng(seed)
    rows = []
    for _, r in cen.head(sampled).iterrows():
        share = np.clip(0.8 * r.FB_SHARE_2015 + 0.02 + rng.normal(0, 0.02), 0.005, 0.9)
        for j in range(psus):
            p = np.clip(share + rng.normal(0, 0.02), 0.001, 0.99)
            rows.append(pd.DataFrame({
                "ea": f"{r.DISTRICT_CODE}-{j}", "DISTRICT_CODE": r.DISTRICT_CODE,
                "wt": rng.uniform(80, 120, per_psu),
                "born_abroad": rng.binomial(1, p, per_psu)}))
    return pd.concat(rows, ignore_index=True)


def test_from_a_design_table_with_unsampled_districts():
    cen = census()
    d = SurveyDesign(survey(cen, 18), ids="ea", weights="wt")
    direct = d.mean("born_abroad", by="DISTRICT_CODE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        fh = fay_herriot(direct, auxiliaries=["FB_SHARE_2015", "URBAN"], population=cen)
    t = fh.table
    assert t["area"].tolist() == cen["DISTRICT_CODE"].tolist()
    assert t["in_sample"].sum() == 18 and t["model_based"].all()
    out = t[~t["in_sample"]]
    # areas without sample: synthetic x'β̂, MSE = σ̂²_u + x'Qx (REML), no direct estimate
    np.testing.assert_allclose(out["eblup"], out["synthetic"])
    X = np.column_stack([np.ones(len(cen)), cen[["FB_SHARE_2015", "URBAN"]].to_numpy()])
    Xo = X[~t["in_sample"].to_numpy()]
    np.testing.assert_allclose(out["mse"], fh.sigma2_u + np.einsum(
        "ip,pq,iq->i", Xo, fh.model.Q, Xo), rtol=1e-12)
    assert out["direct"].isna().all() and (out["gamma"] == 0).all() and (out["n"] == 0).all()
    inn = t[t["in_sample"]].set_index("area")
    dd = direct.set_index("DISTRICT_CODE")
    np.testing.assert_allclose(inn["direct"], dd.loc[inn.index, "estimate"])
    np.testing.assert_allclose(inn["direct_se"], dd.loc[inn.index, "se"])


def test_replicate_design_table_is_accepted():
    cen = census()
    d = SurveyDesign(survey(cen, 18), ids="ea", weights="wt")
    direct = d.replicate("JK1").mean("born_abroad", by="DISTRICT_CODE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        fh = fay_herriot(direct, auxiliaries=["FB_SHARE_2015"], population=cen)
    np.testing.assert_allclose(fh.table.loc[fh.table["in_sample"], "direct_se"].to_numpy(),
                               direct["se"].to_numpy())


def _areas(m=40, seed=5, a=0.01):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, m)
    psi = rng.uniform(0.001, 0.01, m)
    theta = 0.1 + 0.3 * x + rng.normal(0, np.sqrt(a), m)
    return pd.DataFrame({"code": [f"{i:02d}" for i in range(m)], "x": x, "psi": psi,
                         "y": theta + rng.normal(0, np.sqrt(psi)), "n": rng.integers(20, 80, m)})


def test_bootstrap_is_seeded_and_close_to_analytic():
    d = _areas()
    an = fay_herriot(d, "y", "psi", ["x"], area="code")
    b1 = fay_herriot(d, "y", "psi", ["x"], area="code", mse="bootstrap", replicates=2000, seed=7)
    b2 = fay_herriot(d, "y", "psi", ["x"], area="code", mse="bootstrap", replicates=2000,
                     seed=np.random.default_rng(7))
    np.testing.assert_array_equal(b1.table["mse"], b2.table["mse"])
    assert b1.metadata["seed"] == 7 and b1.metadata["replicates"] == 2000
    np.testing.assert_array_equal(b1.table["eblup"], an.table["eblup"])
    ratio = b1.table["mse"] / an.table["mse"]
    assert 0.85 < ratio.mean() < 1.15


def test_bias_corrected_backtransformation_is_the_expectation():
    mu = np.array([0.3, 0.05, 1.5, 0.8, 0.0])
    sd = np.array([0.1, 0.2, 0.3, 0.01, 0.5])
    expected = [integrate.quad(lambda x, m=m, s=s: np.sin(np.clip(x, 0, np.pi / 2)) ** 2
                               * stats.norm.pdf(x, m, s), m - 12 * s, m + 12 * s,
                               points=[0, np.pi / 2], limit=200)[0] for m, s in zip(mu, sd)]
    np.testing.assert_allclose(bias_corrected_back(mu, sd ** 2), expected, rtol=1e-10)
    np.testing.assert_allclose(bias_corrected_back(mu, 0 * sd), np.sin(mu) ** 2)


def test_arcsin_analytic_mse_is_the_delta_method_of_the_arcsine_scale_mse():
    """mse_p = sin²(2θ̂)·mse_θ with mse_θ the Prasad–Rao MSE of the arcsine-scale fit (the
    same fit on arcsin √p with ψ = 1/(4ñ) given directly), intervals sin²(θ̂ ± z√mse_θ)."""
    rng = np.random.default_rng(8)
    m = 36
    n = rng.integers(40, 120, m)
    x = rng.uniform(0, 1, m)
    p = rng.binomial(n, np.clip(0.04 + 0.25 * x + rng.normal(0, 0.03, m), 0.01, 0.9)) / n
    d = pd.DataFrame({"code": [f"D{i:03d}" for i in range(m)], "share": p,
                      "v": 1.6 * p * (1 - p) / n, "size": n, "x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        fh = fay_herriot(d, "share", "v", ["x"], area="code", n="size",
                         transformation="arcsin", mse="analytic", smoothing="all")
    deff = fh.metadata["variance_function"]["deff"]
    on_scale = fay_herriot(d.assign(t=np.arcsin(np.sqrt(p)), psi=deff / (4 * n)), "t", "psi",
                           ["x"], area="code")
    theta, mse_t = on_scale.table["eblup"].to_numpy(), on_scale.table["mse"].to_numpy()
    np.testing.assert_allclose(fh.table["mse"], np.sin(2 * theta) ** 2 * mse_t, rtol=1e-10)
    half = stats.norm.ppf(0.975) * np.sqrt(mse_t)
    np.testing.assert_allclose(fh.table["ci_low"], np.sin(np.clip(theta - half, 0, None)) ** 2)
    np.testing.assert_allclose(fh.table["ci_high"], np.sin(theta + half) ** 2)
    assert fh.metadata["mse_method"] == "Prasad-Rao (REML) on the arcsine scale, delta method"
    assert ((fh.table["ci_low"] <= fh.table["eblup"]) & (fh.table["eblup"] <= fh.table["ci_high"])).all()


def test_arcsin_proportions_with_zero_variance_areas():
    cen = census(30, seed=2)
    d = SurveyDesign(survey(cen, 30, seed=4, per_psu=3, psus=3), ids="ea", weights="wt")
    direct = d.mean("born_abroad", by="DISTRICT_CODE")
    zero = direct["estimate"].eq(0) | direct["se"].eq(0)
    assert zero.any()  # small samples: some districts with no migrant in sample
    with pytest.warns(SurveyWarning, match="generalised variance function"):
        fh = fay_herriot(direct, auxiliaries=["FB_SHARE_2015"], population=cen,
                         transformation="arcsin", replicates=200, seed=3)
    t = fh.table.set_index("area")
    smoothed = t["variance_smoothed"]
    assert smoothed.loc[direct.loc[zero, "DISTRICT_CODE"]].all()
    assert fh.metadata["variance_function"]["deff"] > 0
    assert fh.metadata["mse_method"].startswith("parametric bootstrap")
    assert ((t["eblup"] > 0) & (t["eblup"] < 1)).all()
    assert ((t["ci_low"] <= t["eblup"]) & (t["eblup"] <= t["ci_high"])).all()
    # the point estimate is the bias-corrected back-transformation of the EBLUP
    g = t["gamma"].to_numpy()
    np.testing.assert_allclose(t["eblup"], bias_corrected_back(
        fh.model.theta, fh.sigma2_u * (1 - g)))
    # the sampling variance on the arcsine scale is 1/(4 ñ)
    keep = ~smoothed.loc[direct["DISTRICT_CODE"]].to_numpy()
    p, v = direct["estimate"].to_numpy()[keep], direct["se"].to_numpy()[keep] ** 2
    np.testing.assert_allclose(fh.model.psi[keep], v / (4 * p * (1 - p)))


def test_loglinear_variance_function_for_unstable_means():
    d = _areas()
    d.loc[[3, 7], "psi"] = [0.0, np.nan]
    d.loc[11, "n"] = 1
    with pytest.warns(SurveyWarning, match="3 of 40"):
        fh = fay_herriot(d, "y", "psi", ["x"], area="code", n="n")
    rec = fh.metadata["variance_function"]
    st = ~d.index.isin([3, 7, 11])
    b, a = np.polyfit(np.log(d.loc[st, "n"]), np.log(d.loc[st, "psi"]), 1)
    np.testing.assert_allclose([rec["a"], rec["b"]], [a, b], rtol=1e-8)
    smear = np.mean(np.exp(np.log(d.loc[st, "psi"]) - a - b * np.log(d.loc[st, "n"])))
    np.testing.assert_allclose(fh.model.psi[[3, 7, 11]],
                               np.exp(a + b * np.log(d.loc[[3, 7, 11], "n"])) * smear)
    assert fh.metadata["smoothed_areas"] == ["03", "07", "11"]
    with pytest.raises(SurveyError, match="unusable"):
        fay_herriot(d, "y", "psi", ["x"], area="code", n="n", smoothing="none")


@pytest.mark.parametrize("method", ["difference", "ratio"])
def test_benchmarking_hits_the_target_and_adds_mse(method):
    d = _areas()
    d["share"] = np.linspace(1, 2, len(d)) / np.linspace(1, 2, len(d)).sum()
    d["region"] = np.where(np.arange(len(d)) < 20, "N", "S")
    fh = fay_herriot(d, "y", "psi", ["x"], area="code")
    bm = fh.benchmark(0.3, weights="share", method=method)
    t = bm.table
    np.testing.assert_allclose((t["eblup"] * d["share"]).sum(), 0.3, rtol=1e-12)
    assert (t["mse"] >= t["mse_unbenchmarked"]).all()
    np.testing.assert_array_equal(t["eblup_unbenchmarked"], fh.table["eblup"])
    reg = fh.benchmark({"N": 0.25, "S": 0.35}, weights="share", by="region", method=method)
    for g, v in (("N", 0.25), ("S", 0.35)):
        k = d["region"].eq(g).to_numpy()
        w = d["share"][k] / d["share"][k].sum()
        np.testing.assert_allclose((reg.table["eblup"][k] * w).sum(), v, rtol=1e-12)
    assert bm.metadata["benchmark"]["method"] == method


def test_benchmark_mse_term_is_the_variance_of_the_adjustment():
    """g4 (Steorts & Ghosh 2013) against a Monte Carlo of the BLUP adjustment at known σ²_u:
    Var(Σ w_j B_j r_j) and no correlation with the BLUP error."""
    d = _areas(m=30, seed=9)
    w = np.full(30, 1 / 30)
    fh = fay_herriot(d, "y", "psi", ["x"], area="code")
    a = fh.sigma2_u
    X = np.column_stack([np.ones(30), d["x"].to_numpy()])
    psi = d["psi"].to_numpy()
    rng = np.random.default_rng(11)
    R = 40_000
    theta = (X @ fh.beta.to_numpy())[:, None] + rng.normal(0, np.sqrt(a), (30, R))
    y = theta + rng.normal(0, 1, (30, R)) * np.sqrt(psi)[:, None]
    _, r, _, _ = gls(y, X, psi, np.full(R, a))
    B = psi / (a + psi)
    D = (w * B) @ r
    blup_err = (y - r) + (1 - B)[:, None] * r - theta
    bm = fh.benchmark(float(w @ d["y"]), weights=None, method="difference")
    # weights=None: every w = 1 and Σw = 30, so the added g4/(Σw)² is Var(D) with w = 1/30
    g4 = (bm.table["mse"] - fh.table["mse"]).to_numpy()[0]
    np.testing.assert_allclose(g4, D.var(), rtol=0.03)
    corr = np.corrcoef(blup_err[0], D)[0, 1]
    assert abs(corr) < 0.02


def test_diagnostics():
    d = _areas()
    fh = fay_herriot(d, "y", "psi", ["x"], area="code")
    dg = fh.diagnostics()
    A = fh.sigma2_u
    res = (d["y"] - fh.model.X @ fh.beta.to_numpy()) / np.sqrt(A + d["psi"])
    np.testing.assert_allclose(dg.areas["std_residual"], res)
    np.testing.assert_allclose(dg.areas["shrinkage"], d["psi"] / (A + d["psi"]))
    s = dg.summary
    assert s["sigma2_u_positive"] and not s["boundary"]
    assert 0 <= s["share_cv_reduced"] <= 1 and s["shapiro_residuals"]["p_value"] > 0
    np.testing.assert_allclose(s["aic"], -2 * fh.metadata["loglik"] + 6)


def test_inputs_are_not_modified():
    d = _areas()
    before = d.copy()
    fay_herriot(d, "y", "psi", ["x"], area="code")
    pd.testing.assert_frame_equal(d, before)


@pytest.mark.parametrize("change, match", [
    (lambda d: pd.concat([d, d.head(1)]), "once"),
    (lambda d: d.assign(x=d["x"].where(d.index != 2)), "known for every area"),
    (lambda d: d.assign(x=d["x"].astype(str) + "a"), "numeric"),
    (lambda d: d.assign(x2=2 * d["x"]), "collinear"),
    (lambda d: d.head(3), "too few"),
    (lambda d: d.assign(y=d["y"].where(d.index != 4, np.inf)), "finite"),
])
def test_refusals(change, match):
    d = change(_areas())
    aux = ["x", "x2"] if "x2" in d.columns else ["x"]
    with pytest.raises(SurveyError, match=match):
        fay_herriot(d, "y", "psi", aux, area="code")


def test_refusals_of_options_and_tables():
    d = _areas()
    with pytest.raises(SurveyError, match=r"\[0, 1\]"):
        fay_herriot(d.assign(y=d["y"] * 100), "y", "psi", ["x"], area="code",
                    transformation="arcsin")
    with pytest.raises(SurveyError, match="unknown value for method"):
        fay_herriot(d, "y", "psi", ["x"], area="code", method="FH")
    for bad in (dict(level=95), dict(min_n=-1), dict(mse="bootstrap", replicates=10),
                dict(mse="bootstrap", seed=-3), dict(mse="bootstrap", seed=1.5)):
        with pytest.raises(SurveyError):
            fay_herriot(d, "y", "psi", ["x"], area="code", **bad)
    with pytest.raises(SurveyError, match="target"):
        fay_herriot(d, "y", "psi", ["x"], area="code").benchmark(float("nan"))
    cen = census()
    pop = cen.assign(DISTRICT_CODE=cen["DISTRICT_CODE"].str.lstrip("0"))
    des = SurveyDesign(survey(cen, 18), ids="ea", weights="wt")
    two = des.mean(["born_abroad", "wt"], by="DISTRICT_CODE")
    with pytest.raises(SurveyError, match="several variables"):
        fay_herriot(two, auxiliaries=["URBAN"], population=cen)
    with pytest.raises(SurveyError, match="leading zeros"):
        fay_herriot(des.mean("born_abroad", by="DISTRICT_CODE"), auxiliaries=["URBAN"],
                    population=pop)


def test_ml_unsampled_areas_carry_the_bias_term():
    d = _areas()
    pop = pd.concat([d[["code", "x"]], pd.DataFrame({"code": ["90", "91"], "x": [0.2, 0.9]})],
                    ignore_index=True)
    fh = fay_herriot(d, "y", "psi", ["x"], area="code", population=pop, method="ML")
    A, Q = fh.sigma2_u, fh.model.Q
    X = np.column_stack([np.ones(len(d)), d["x"]])
    v = 1 / (A + d["psi"].to_numpy())
    b = -np.trace(Q @ (X.T * v ** 2) @ X) / np.sum(v ** 2)
    xo = np.array([[1, 0.2], [1, 0.9]])
    np.testing.assert_allclose(fh.table["mse"].to_numpy()[-2:],
                               A + np.einsum("ip,pq,iq->i", xo, Q, xo) - b, rtol=1e-12)


def test_polars_input_and_arcsin_benchmark():
    cen = census(30, seed=2)
    d = SurveyDesign(survey(cen, 30, seed=4), ids="ea", weights="wt")
    direct = d.mean("born_abroad", by="DISTRICT_CODE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        fh = fay_herriot(pl.from_pandas(direct), auxiliaries=["FB_SHARE_2015"],
                         population=pl.from_pandas(cen), transformation="arcsin",
                         replicates=100, seed=1)
    bm = fh.benchmark(0.12, weights="POP", method="difference")
    w = cen["POP"] / cen["POP"].sum()
    np.testing.assert_allclose((bm.table["eblup"] * w).sum(), 0.12, rtol=1e-12)
    assert (bm.table["mse"] >= fh.table["mse"]).all()
