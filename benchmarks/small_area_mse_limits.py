"""How close can a Fay–Herriot MSE estimate of district shares come to the empirical MSE?

Same population, sample design (25 households by SRSWOR in each of 42 districts) and direct
estimator (ratio, linearised variance with fpc) as ``simulate_small_area.py``; the samples are
drawn here with a vectorised version of its ``draw``. All figures are on the same samples.

1. ``known_parameters`` — the EBLUP with the *true* parameters: the population's σ²_u (residual
   variance of the true arcsine shares on the auxiliaries), the exact design variances ψ_i of
   ``arcsin √p̂_i`` (variance over ``--pre`` samples) and the population β. Its MSE is known,
   ``g1_i = σ²_u ψ_i/(σ²_u + ψ_i)``; the districts' empirical MSEs are compared with it by the two
   measures (ratio of the averages over districts; average of the per-district ratios), and the
   expected average of the per-district ratios when the area effects are normal and redrawn.
2. ``fixed_vs_redrawn_area_effects`` — REML + Prasad–Rao on the arcsine scale, with the actual
   sampling errors of the design (each sample's ``arcsin √p̂ − E``) added either to the fixed true
   district values (design-based) or to ``x'β + u``, ``u ~ N(0, σ²_u)`` redrawn for every sample
   (the model's own view of the area effects).
3. ``model_holds`` — normal area effects and normal sampling errors with the exact ψ_i: every
   assumption of the model true; Prasad–Rao and the parametric bootstrap.
4. ``variance_functions`` — the design-based simulation with different sampling variances on the
   arcsine scale: the pooled design effect ``deff/(4 n_i)`` (``fay_herriot``'s ``smoothing="all"``),
   a GVF fitted on the transformed scale (``log ψ̂_i = a + b log n_i`` with smearing; Wolter 2007,
   ch. 7), the exact variance of ``arcsin √(X/ñ_i)``, ``X ~ Bin(ñ_i, p̃_i)``, ``ñ_i = n_i/deff``
   and ``p̃_i`` the EBLUP of a first fit, each district's own direct variance
   ``v̂_i/(4 p̂_i(1 − p̂_i))`` (``smoothing="unstable"``, as ``emdi``), and the exact ψ_i. REML,
   Prasad–Rao on the arcsine scale and the parametric bootstrap on the proportion scale (as
   ``fay_herriot``: bias-corrected back-transformation, basic intervals), and the bias-corrected
   bootstrap of Butar & Lahiri (2003) on the arcsine scale (also in 3).
5. ``information_bound`` — for a locally unbiased MSE estimator of district i the Cramér–Rao
   inequality gives ``sd ≥ |∂MSE_i/∂σ²_u| / √I(σ²_u) = (1 − γ_i)²/√I``; reported as a multiple
   of the MSE ``g1_i``.
   The pooled design effect's mean and CV over the samples show how uncertain that ``ψ_i`` is.
6. ``conditional_estimator`` — the design-unbiased estimator of a district's conditional MSE
   ``(1 − γ̂_i)²(y_i − x_i'β̂)² + (2γ̂_i − 1)ψ_i`` (Rivest & Belmonte 2000; Datta, Kubokawa,
   Molina & Rao 2011): its two measures and how often it is negative.

Not part of the test suite::

    python benchmarks/small_area_mse_limits.py --reps 200 --boot 100 --pre 2000 \
        --out benchmarks/results/small_area_mse_limits.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
from scipy import stats

from estimation.small_area.fit import eblup, fit_variance, score_information
from estimation.small_area.gvf import pooled_design_effect
from estimation.small_area.mse import analytic_mse
from estimation.small_area.transform import arcsin_sqrt, bias_corrected_back, naive_back

_spec = importlib.util.spec_from_file_location(
    "simulate_small_area", Path(__file__).with_name("simulate_small_area.py"))
sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sim)


class Sampler:
    """``sim.draw`` for many samples: households of each sampled district in padded arrays."""

    def __init__(self, hh, districts, n_h):
        groups = [hh[hh["district"] == d] for d in districts]
        width = max(len(g) for g in groups)
        self.y = np.zeros((len(groups), width))
        self.x = np.zeros((len(groups), width))
        self.valid = np.zeros((len(groups), width), dtype=bool)
        for i, g in enumerate(groups):
            self.y[i, :len(g)], self.x[i, :len(g)] = g["sum"], g["size"]
            self.valid[i, :len(g)] = True
        self.N = self.valid.sum(axis=1)
        self.n_h = n_h

    def draw(self, rng):
        key = rng.random(self.valid.shape)
        key[~self.valid] = 2.0
        idx = np.argpartition(key, self.n_h, axis=1)[:, :self.n_h]
        y, x = np.take_along_axis(self.y, idx, 1), np.take_along_axis(self.x, idx, 1)
        p = y.sum(1) / x.sum(1)
        s2 = (y - p[:, None] * x).var(axis=1, ddof=1)
        v = (1 - self.n_h / self.N) * s2 / self.n_h / x.mean(1) ** 2
        return p, v, x.sum(1)


def arcsine_binomial(n_eff, p):
    """Mean and variance of ``arcsin √(X/k)``, ``X ~ Bin(k, p)``, linear in non-integer ``k``."""
    lo = np.floor(n_eff)
    out = []
    for k in (lo, lo + 1):
        x = np.arange(int(k.max()) + 1)[None, :]
        pmf = stats.binom.pmf(x, k[:, None], p[:, None])
        g = np.arcsin(np.sqrt(np.minimum(x / k[:, None], 1.0)))
        mu = (pmf * g).sum(1)
        out.append((mu, (pmf * g * g).sum(1) - mu ** 2))
    w = n_eff - lo
    return (1 - w) * out[0][0] + w * out[1][0], (1 - w) * out[0][1] + w * out[1][1]


def measures(mse_hat, sq_err, sel):
    """Ratio of the averages over districts, and average of the per-district ratios."""
    m, e = mse_hat.mean(axis=0)[sel], sq_err.mean(axis=0)[sel]
    return {"ratio_of_averages": round(float(m.mean() / e.mean()), 3),
            "average_ratio": round(float(np.mean(m / e)), 3)}


def fit(y, psi, X, s):
    f = fit_variance(y, X[s], psi, "REML")
    A = float(f.A[0])
    theta, beta, gamma, Q, r = eblup(y[:, None], X[s], X, s, psi, f.A)
    g = np.zeros(len(X))
    g[s] = gamma[:, 0]
    return A, theta[:, 0], beta[0], g, Q[0], r[:, 0]


def g1_g2(X, s, psi, A):
    """``g1_i + g2_i`` of the Prasad–Rao MSE at each value of ``A`` (shape ``(D, len(A))``)."""
    A = np.atleast_1d(A)
    v = 1.0 / (A[None, :] + psi[:, None])
    Q = np.linalg.inv(np.einsum("ir,ip,iq->rpq", v, X[s], X[s]))
    b = np.ones((len(X), len(A)))
    b[s] = psi[:, None] * v
    g1 = np.tile(A, (len(X), 1))
    g1[s] = A[None, :] * psi[:, None] * v
    return g1 + b * b * np.einsum("ip,rpq,iq->ir", X, Q, X)


def bootstrap(X, s, psi, A, beta, B, rng):
    """Parametric bootstrap on the proportion scale, as ``fay_herriot`` (MSE and the 2.5 / 97.5 %
    quantiles of the errors), and, from the same replicates, the bias-corrected bootstrap MSE of
    Butar & Lahiri (2003) on the arcsine scale:
    ``2(g1 + g2)(Â) − E*[(g1 + g2)(Â*)] + E*[(θ̂_i(Â*) − θ̂_i(Â))²]``."""
    D, m = X.shape[0], int(s.sum())
    ts = (X @ beta)[:, None] + rng.normal(0, np.sqrt(A), (D, B))
    ys = ts[s] + rng.normal(0, 1, (m, B)) * np.sqrt(psi)[:, None]
    f = fit_variance(ys, X[s], psi, "REML")
    est, _, gamma, _, _ = eblup(ys, X[s], X, s, psi, f.A)
    g = np.zeros((D, B))
    g[s] = gamma
    err = bias_corrected_back(est, f.A[None, :] * (1 - g)) - naive_back(ts)
    at_a, *_ = eblup(ys, X[s], X, s, psi, np.full(B, A))
    butar_lahiri = (2 * g1_g2(X, s, psi, A)[:, 0] - g1_g2(X, s, psi, f.A).mean(axis=1)
                    + np.mean((est - at_a) ** 2, axis=1))
    return np.mean(err ** 2, axis=1), np.quantile(err, [0.025, 0.975], axis=1), butar_lahiri


def variance_model(name, p, v, n, X, s, psi_exact):
    stable = (p > 0) & (p < 1) & (v > 0)
    deff = pooled_design_effect(p, v, n, stable)
    if name == "pooled design effect":
        return deff / (4 * n)
    if name == "exact":
        return psi_exact
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.where(stable, v / (4 * p * (1 - p)), deff / (4 * n))
    if name == "direct":
        return direct
    if name == "GVF on the arcsine scale":
        Z = np.column_stack([np.ones(int(stable.sum())), np.log(n[stable])])
        coef, *_ = np.linalg.lstsq(Z, np.log(direct[stable]), rcond=None)
        smear = np.mean(np.exp(np.log(direct[stable]) - Z @ coef))
        return np.exp(coef[0] + coef[1] * np.log(n)) * smear
    if name == "arcsine-binomial":
        psi = deff / (4 * n)
        A, theta, *_ = fit(arcsin_sqrt(p), psi, X, s)
        p_smooth = np.clip(naive_back(theta[s]), 1e-3, 1 - 1e-3)
        return arcsine_binomial(n / deff, p_smooth)[1]
    raise KeyError(name)


def run(reps, boot, pre, n_h, seed, aux_noise):
    hh, pop, truth, unsampled = sim.population(seed, aux_noise)
    order = pop["district"].to_numpy()
    s = ~pop["district"].isin(unsampled).to_numpy()
    D, m = len(order), int(s.sum())
    P_true = truth.loc[order].to_numpy()
    T = arcsin_sqrt(P_true)
    X = np.column_stack([np.ones(D), pop[["fb_earlier_asin", "urban_share"]].to_numpy()])
    sampler = Sampler(hh, order[s], n_h)
    rng = np.random.default_rng(seed + 21)
    samples = [sampler.draw(rng) for _ in range(pre)]
    Y = arcsin_sqrt(np.array([q[0] for q in samples]))
    psi_exact = Y.var(axis=0)
    err_design = Y - Y.mean(axis=0)          # the design's own sampling errors, centred
    coef, *_ = np.linalg.lstsq(X[s], T[s], rcond=None)
    u = T[s] - X[s] @ coef
    A0 = float(u @ u / (m - X.shape[1]))
    out = {"reps": reps, "bootstrap_replicates": boot, "prepass_samples": pre,
           "aux_noise": aux_noise, "sampled_districts": m,
           "sigma2_u_population": A0, "mean_exact_psi": float(psi_exact.mean()),
           "mean_sigma2_u_over_psi": float(np.mean(A0 / psi_exact)),
           "arcsine_bias_over_sd": float(np.mean((Y.mean(0) - T[s]) / np.sqrt(psi_exact)))}

    # 1. known parameters
    g = A0 / (A0 + psi_exact)
    g1 = g * psi_exact
    est = g * Y + (1 - g) * (X[s] @ coef)
    emp = np.mean((est - T[s]) ** 2, axis=0)
    z = np.random.default_rng(seed).normal(size=(20000, m))
    out["known_parameters"] = {
        "ratio_of_averages": round(float(g1.mean() / emp.mean()), 3),
        "average_ratio": round(float(np.mean(g1 / emp)), 3),
        "mean_gamma": round(float(g.mean()), 3),
        "expected_average_ratio_normal_area_effects": round(float(np.mean(
            g1 / (g ** 2 * psi_exact + (1 - g) ** 2 * A0 * z ** 2))), 3),
        "coverage_95": round(float(np.mean(np.abs(est - T[s]) <= 1.96 * np.sqrt(g1))), 3),
    }

    # 2. fixed versus redrawn area effects, actual sampling errors
    R2 = min(pre, 1000)
    res2 = {}
    for mode in ("fixed districts", "area effects redrawn"):
        for vname in ("pooled design effect", "exact"):
            e_hat, mse, th, a_hat = (np.zeros((R2, D)), np.zeros((R2, D)), np.zeros((R2, D)),
                                     np.zeros(R2))
            for r in range(R2):
                theta = T if mode == "fixed districts" else X @ coef + rng.normal(0, np.sqrt(A0), D)
                p, v, n = samples[r]
                psi = variance_model(vname, p, v, n, X, s, psi_exact)
                A, t, _, _, Q, _ = fit(theta[s] + err_design[r], psi, X, s)
                e_hat[r], th[r], a_hat[r] = t, theta, A
                mse[r] = analytic_mse(X, s, psi, A, Q, "REML")["mse"]
            res2[f"{mode}, {vname} psi"] = {**measures(mse, (e_hat - th) ** 2, s),
                                            "mean_sigma2_u_hat": float(a_hat.mean())}
    out["fixed_vs_redrawn_area_effects"] = res2

    # 3. the model holds: normal effects and errors, exact psi
    pr, bt, bl, e_hat, th = (np.zeros((reps, D)) for _ in range(5))
    e_p, th_p, a_hat = np.zeros((reps, D)), np.zeros((reps, D)), np.zeros(reps)
    for r in range(reps):
        theta = X @ coef + rng.normal(0, np.sqrt(A0), D)
        y = theta[s] + rng.normal(0, 1, m) * np.sqrt(psi_exact)
        A, t, beta, gam, Q, _ = fit(y, psi_exact, X, s)
        e_hat[r], th[r], a_hat[r] = t, theta, A
        e_p[r], th_p[r] = bias_corrected_back(t, A * (1 - gam)), naive_back(theta)
        pr[r] = analytic_mse(X, s, psi_exact, A, Q, "REML")["mse"]
        bt[r], _, bl[r] = bootstrap(X, s, psi_exact, A, beta, boot, rng)
    out["model_holds"] = {
        "mean_sigma2_u_hat": float(a_hat.mean()), "boundary_fits": int(np.sum(a_hat == 0)),
        "prasad_rao_arcsine_scale": measures(pr, (e_hat - th) ** 2, s),
        "butar_lahiri_bootstrap_arcsine_scale": measures(bl, (e_hat - th) ** 2, s),
        "bootstrap_proportion_scale": measures(bt, (e_p - th_p) ** 2, s),
        "bootstrap_proportion_scale_unsampled": measures(bt, (e_p - th_p) ** 2, ~s)}

    # 4. variance functions, design-based, with 5. the information bound and 6. the
    # conditional estimator (pooled design effect)
    res4 = {}
    for vname in ("pooled design effect", "GVF on the arcsine scale", "arcsine-binomial",
                  "direct", "exact"):
        t0 = time.perf_counter()
        e_t, e_p, pr, bt, bl, cov, cond = (np.zeros((reps, D)) for _ in range(7))
        a_hat, psi_ratio = np.zeros(reps), np.zeros((reps, m))
        for r in range(reps):
            p, v, n = samples[pre - 1 - r]        # not the samples of section 2
            psi = variance_model(vname, p, v, n, X, s, psi_exact)
            psi_ratio[r] = psi / psi_exact
            A, t, beta, gam, Q, res = fit(arcsin_sqrt(p), psi, X, s)
            e_t[r], a_hat[r] = t, A
            e_p[r] = bias_corrected_back(t, A * (1 - gam))
            pr[r] = analytic_mse(X, s, psi, A, Q, "REML")["mse"]
            bt[r], q, bl[r] = bootstrap(X, s, psi, A, beta, boot, rng)
            lo, hi = np.clip(e_p[r] - q[1], 0, 1), np.clip(e_p[r] - q[0], 0, 1)
            cov[r] = (lo <= P_true) & (P_true <= hi)
            cond[r, s] = (1 - gam[s]) ** 2 * res ** 2 + (2 * gam[s] - 1) * psi
        sq_t, sq_p = (e_t - T) ** 2, (e_p - P_true) ** 2
        row = {"psi_over_exact": round(float(np.mean(psi_ratio.mean(0))), 3),
               "mean_sigma2_u_hat": float(a_hat.mean()), "boundary_fits": int(np.sum(a_hat == 0)),
               "true_cv_eblup": round(float(np.mean(np.sqrt(sq_p.mean(0)[s]) / P_true[s])), 3),
               "prasad_rao_arcsine_scale": measures(pr, sq_t, s),
               "butar_lahiri_bootstrap_arcsine_scale": measures(bl, sq_t, s),
               "bootstrap_proportion_scale": measures(bt, sq_p, s),
               "bootstrap_proportion_scale_unsampled": measures(bt, sq_p, ~s),
               "coverage_95_sampled": round(float(cov[:, s].mean()), 3),
               "coverage_95_unsampled": round(float(cov[:, ~s].mean()), 3),
               "seconds": round(time.perf_counter() - t0, 1)}
        if vname == "pooled design effect":
            row["conditional_estimator_arcsine_scale"] = {
                **measures(cond, sq_t, s),
                "share_negative": round(float(np.mean(cond[:, s] < 0)), 3)}
        res4[vname] = row
    out["variance_functions"] = res4
    deffs = np.array([pooled_design_effect(p, v, n, (p > 0) & (p < 1) & (v > 0))
                      for p, v, n in samples])
    out["pooled_design_effect_over_samples"] = {"mean": float(deffs.mean()),
                                                "cv": float(deffs.std() / deffs.mean())}

    # 5. information bound at the population values
    _, info = score_information(np.zeros((m, 1)), X[s], psi_exact, np.array([A0]), "REML")
    bound = (1 - g) ** 2 / np.sqrt(info[0]) / g1
    out["information_bound"] = {
        "sd_sigma2_u_hat_over_sigma2_u": round(float(1 / np.sqrt(info[0]) / A0), 2),
        "min_sd_of_unbiased_mse_estimator_over_mse_mean": round(float(bound.mean()), 2)}
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--boot", type=int, default=100)
    ap.add_argument("--pre", type=int, default=2000)
    ap.add_argument("--households", type=int, default=25)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--aux-noise", type=float, nargs="+", default=[0.04, 0.1])
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    res = {f"aux_noise_{an}": run(a.reps, a.boot, a.pre, a.households, a.seed, an)
           for an in a.aux_noise}
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
