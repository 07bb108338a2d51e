"""Where does the Fay–Herriot MSE estimate of district shares depart from the empirical MSE?

Same population, sampling and direct estimator as ``simulate_small_area.py``; on every sample
several MSE estimators are computed for the same fits, so that their ratios to the empirical MSE
can be compared without simulation noise between configurations:

* arcsine scale, pooled-deff variances (the ``smoothing="all"`` default of ``SmallArea``):
  Prasad–Rao MSE on the arcsine scale (compared with the empirical arcsine-scale MSE), the same
  back-transformed by the delta method ``sin²(2θ̂)·mse``, the parametric bootstrap on the
  proportion scale (as ``fay_herriot``), and the bootstrap on the arcsine scale;
* arcsine scale with the *true* design variances of ``arcsin √p̂`` (``oracle``, from a pre-pass
  of samples): separates the effect of the variance function from the rest;
* arcsine scale with each district's own direct variance (``smoothing="unstable"``);
* untransformed shares, Prasad–Rao;
* optionally (``--hall-maiti B2``) the bias-corrected double bootstrap of Hall & Maiti (2006).

It also reports the ratio of the bootstrap MSE to the actual squared error in the samples whose
σ̂²_u is on the boundary, below and above the median of the positive estimates; the
finite-population analogue of σ²_u (residual variance of the true arcsine shares on the
auxiliaries), the mean REML estimate, the variance function's bias, and the conditional
(fixed-area) MSE of each district versus the model (unconditional) MSE. Not part of the test
suite (each command runs both auxiliary settings)::

    python benchmarks/diagnose_small_area_mse.py --reps 300 --pre 300 --boot 200
    python benchmarks/diagnose_small_area_mse.py --reps 150 --pre 300 --boot 100 --hall-maiti 50

(``benchmarks/results/small_area_mse_diagnosis.json`` holds both runs for both auxiliaries).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import numpy as np

from estimation.small_area.fit import eblup, fit_variance
from estimation.small_area.gvf import pooled_design_effect, unstable_areas
from estimation.small_area.mse import analytic_mse
from estimation.small_area.transform import arcsin_sqrt, bias_corrected_back, naive_back

_spec = importlib.util.spec_from_file_location(
    "simulate_small_area", Path(__file__).with_name("simulate_small_area.py"))
sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sim)


def fit(y, psi, X_all, s):
    f = fit_variance(y, X_all[s], psi, "REML")
    A = f.A
    theta, beta, gamma, Q, _ = eblup(y[:, None], X_all[s], X_all, s, psi, A)
    return float(A[0]), bool(f.boundary[0]), theta[:, 0], beta[0], gamma[:, 0], Q[0]


def boot(X_all, s, psi, A, beta, B, rng):
    """Parametric bootstrap; returns the MSE on the proportion scale (bias-corrected
    back-transformation, as fay_herriot) and on the arcsine scale, from the same draws."""
    M = X_all.shape[0]
    th = X_all @ beta
    theta_star = th[:, None] + rng.normal(0, np.sqrt(A), (M, B))
    y_star = theta_star[s] + rng.normal(0, 1, (int(s.sum()), B)) * np.sqrt(psi)[:, None]
    f = fit_variance(y_star, X_all[s], psi, "REML")
    est, _, gamma, _, _ = eblup(y_star, X_all[s], X_all, s, psi, f.A)
    g = np.zeros((M, B))
    g[s] = gamma
    est_p = bias_corrected_back(est, f.A[None, :] * (1 - g))
    mse_p = np.mean((est_p - naive_back(theta_star)) ** 2, axis=1)
    mse_t = np.mean((est - theta_star) ** 2, axis=1)
    return mse_p, mse_t


def hall_maiti(X_all, s, psi, A, beta, B1, B2, rng):
    """Double parametric bootstrap with the bias correction of Hall & Maiti (2006):
    ``2 M1 − M2`` when ``M1 ≥ M2``, else ``M1 exp((M1 − M2)/M2)``; ``M1`` the first-level
    bootstrap MSE, ``M2`` the mean of the second-level MSEs (each first-level replicate's fit
    used as the truth of its own bootstrap). Both scales, as :func:`boot`."""
    M, m = X_all.shape[0], int(s.sum())
    Xs = X_all[s]

    def level(A_cols, beta_cols, reps):
        R = A_cols.size * reps
        Ar, br = np.repeat(A_cols, reps), np.repeat(beta_cols, reps, axis=0)
        th = np.einsum("ip,rp->ir", X_all, br) + rng.normal(0, 1, (M, R)) * np.sqrt(Ar)
        y = th[s] + rng.normal(0, 1, (m, R)) * np.sqrt(psi)[:, None]
        f = fit_variance(y, Xs, psi, "REML")
        est, bt, gamma, _, _ = eblup(y, Xs, X_all, s, psi, f.A)
        g = np.zeros((M, R))
        g[s] = gamma
        ep = bias_corrected_back(est, f.A[None, :] * (1 - g))
        et = (est - th) ** 2
        epp = (ep - naive_back(th)) ** 2
        return f.A, bt, et.reshape(M, A_cols.size, reps).mean(2), \
            epp.reshape(M, A_cols.size, reps).mean(2)

    th1 = X_all @ beta
    theta1 = th1[:, None] + rng.normal(0, np.sqrt(A), (M, B1))
    y1 = theta1[s] + rng.normal(0, 1, (m, B1)) * np.sqrt(psi)[:, None]
    f1 = fit_variance(y1, Xs, psi, "REML")
    est1, beta1, gamma1, _, _ = eblup(y1, Xs, X_all, s, psi, f1.A)
    g1 = np.zeros((M, B1))
    g1[s] = gamma1
    m1_t = np.mean((est1 - theta1) ** 2, axis=1)
    m1_p = np.mean((bias_corrected_back(est1, f1.A[None, :] * (1 - g1))
                    - naive_back(theta1)) ** 2, axis=1)
    _, _, m2_t, m2_p = level(f1.A, beta1, B2)
    out = []
    for m1, m2 in ((m1_p, m2_p.mean(1)), (m1_t, m2_t.mean(1))):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out.append(np.where(m1 >= m2, 2 * m1 - m2, m1 * np.exp((m1 - m2) / m2)))
    return out[0], out[1]


def run(reps: int, n_h: int, seed: int, aux_noise: float, B: int, pre: int,
        hm: int = 0) -> dict:
    hh, pop, truth, unsampled = sim.population(seed, aux_noise)
    order = pop["district"].to_numpy()
    D = len(order)
    s = ~pop["district"].isin(unsampled).to_numpy()
    P = truth.loc[order].to_numpy()
    T = arcsin_sqrt(P)
    X_all = np.column_stack([np.ones(D), pop[["fb_earlier_asin", "urban_share"]].to_numpy()])
    X_lin = np.column_stack([np.ones(D), pop[["fb_earlier", "urban_share"]].to_numpy()])
    rng = np.random.default_rng(seed + 7)
    # pre-pass: the design variance of arcsin √p̂ and the bias of the direct estimator
    ys = np.zeros((pre, int(s.sum())))
    for r in range(pre):
        smp = sim.draw(hh, unsampled, n_h, rng)
        ys[r] = arcsin_sqrt(smp.set_index("district").loc[order[s], "p"].to_numpy())
    psi_oracle = ys.var(axis=0)
    jensen_bias = ys.mean(axis=0) - T[s]
    # finite-population analogue of σ²_u: residual variance of the truth on the auxiliaries
    Xs = X_all[s]
    coef, *_ = np.linalg.lstsq(Xs, T[s], rcond=None)
    u_true = T[s] - Xs @ coef
    sigma2_pop = float(u_true @ u_true / (s.sum() - Xs.shape[1]))

    names = ["pooled_deff", "oracle_psi", "direct_psi"]
    est_t = {k: np.zeros((reps, D)) for k in names}
    est_p = {k: np.zeros((reps, D)) for k in names}
    mse_pr_t = {k: np.zeros((reps, D)) for k in names}
    A_hat = {k: np.zeros(reps) for k in names}
    bnd = {k: 0 for k in names}
    boot_p = np.zeros((reps, D))
    boot_t = np.zeros((reps, D))
    hm_p = np.zeros((reps, D))
    hm_t = np.zeros((reps, D))
    psi_deff = np.zeros((reps, int(s.sum())))
    lin_est = np.zeros((reps, D))
    lin_mse = np.zeros((reps, D))
    t0 = time.perf_counter()
    for r in range(reps):
        smp = sim.draw(hh, unsampled, n_h, rng).set_index("district").loc[order[s]]
        p, v, n = (smp[c].to_numpy() for c in ("p", "v", "n"))
        y = arcsin_sqrt(p)
        unstable = unstable_areas(p, v, n, min_n=2, proportion=True)
        deff = pooled_design_effect(p, v, n, ~unstable)
        psis = {"pooled_deff": deff / (4 * n), "oracle_psi": psi_oracle}
        with np.errstate(divide="ignore", invalid="ignore"):
            ne = np.where(unstable, n / deff, p * (1 - p) / v)
        psis["direct_psi"] = 1 / (4 * ne)
        psi_deff[r] = psis["pooled_deff"]
        for k in names:
            A, b, th, beta, gam, Q = fit(y, psis[k], X_all, s)
            g = np.zeros(D)
            g[s] = gam
            est_t[k][r] = th
            est_p[k][r] = bias_corrected_back(th, A * (1 - g))
            mse_pr_t[k][r] = analytic_mse(X_all, s, psis[k], A, Q, "REML")["mse"]
            A_hat[k][r] = A
            bnd[k] += b
            if k == "pooled_deff":
                boot_p[r], boot_t[r] = boot(X_all, s, psis[k], A, beta, B, rng)
                if hm:
                    hm_p[r], hm_t[r] = hall_maiti(X_all, s, psis[k], A, beta, B, hm, rng)
        # untransformed shares, unstable variances from the log-linear function are not needed
        # here: areas with p̂ = 0 get the pooled-deff variance p̄(1−p̄)deff/n
        vl = np.where(unstable, deff * max(p.mean(), 1e-6) * (1 - p.mean()) / n, v)
        A, b, th, beta, gam, Q = fit(p, vl, X_lin, s)
        lin_est[r] = th
        lin_mse[r] = analytic_mse(X_lin, s, vl, A, Q, "REML")["mse"]
    seconds = time.perf_counter() - t0

    def summary(est, mse, target):
        emp = np.mean((est - target) ** 2, axis=0)
        mean_mse = mse.mean(axis=0)
        out = {}
        for name, sel in (("sampled", s), ("unsampled", ~s)):
            out[name] = {"ratio_of_averages": float(mean_mse[sel].mean() / emp[sel].mean()),
                         "average_ratio": float(np.mean(mean_mse[sel] / emp[sel]))}
        return out, emp

    res = {"reps": reps, "bootstrap_replicates": B, "prepass_samples": pre,
           "aux_noise": aux_noise, "seconds": round(seconds, 1),
           "sigma2_u_population": sigma2_pop,
           "mean_sigma2_u_hat": {k: float(A_hat[k].mean()) for k in names},
           "boundary_fits": bnd,
           "psi_pooled_deff_over_oracle_mean": float(np.mean(psi_deff.mean(axis=0) / psi_oracle)),
           "psi_pooled_deff_over_oracle_range": [float(np.min(psi_deff.mean(axis=0) / psi_oracle)),
                                                 float(np.max(psi_deff.mean(axis=0) / psi_oracle))],
           "direct_arcsine_bias_over_sd_mean": float(np.mean(jensen_bias / np.sqrt(psi_oracle))),
           "estimators": {}}
    E = res["estimators"]
    for k in names:
        E[f"{k}: Prasad-Rao, arcsine scale"], emp_t = summary(est_t[k], mse_pr_t[k], T)
        delta = np.sin(2 * np.clip(est_t[k], 0, np.pi / 2)) ** 2 * mse_pr_t[k]
        E[f"{k}: Prasad-Rao, delta back-transformed"], _ = summary(est_p[k], delta, P)
    E["pooled_deff: bootstrap, proportion scale (fay_herriot)"], emp_p = summary(
        est_p["pooled_deff"], boot_p, P)
    E["pooled_deff: bootstrap, arcsine scale"], emp_t = summary(est_t["pooled_deff"], boot_t, T)
    if hm:
        E["pooled_deff: Hall-Maiti bootstrap, proportion scale"], _ = summary(
            est_p["pooled_deff"], hm_p, P)
        E["pooled_deff: Hall-Maiti bootstrap, arcsine scale"], _ = summary(
            est_t["pooled_deff"], hm_t, T)
    E["untransformed: Prasad-Rao"], _ = summary(lin_est, lin_mse, P)
    # the MSE estimate follows Â, the actual error much less: sums over the samples of each
    # group (Â on the boundary; positive Â below / above the median of the positive ones)
    a = A_hat["pooled_deff"]
    pos_med = np.median(a[a > 0]) if np.any(a > 0) else 0.0
    groups = {"boundary": a == 0, "positive_below_median": (a > 0) & (a <= pos_med),
              "positive_above_median": a > pos_med}
    sq_p = (est_p["pooled_deff"] - P) ** 2
    sq_t = (est_t["pooled_deff"] - T) ** 2
    res["by_sigma2_u_hat"] = {
        g: {"samples": int(sel.sum()),
            "mean_sigma2_u_hat": float(a[sel].mean()) if sel.any() else None,
            "bootstrap_p_mse_over_squared_error": float(boot_p[sel][:, s].sum() / sq_p[sel][:, s].sum()) if sel.any() else None,
            "prasad_rao_arcsine_mse_over_squared_error": float(mse_pr_t["pooled_deff"][sel][:, s].sum() / sq_t[sel][:, s].sum()) if sel.any() else None}
        for g, sel in groups.items()}
    # conditional (fixed-area) MSE: the realised area effect u_i enters as u_i², the model MSE
    # averages it as σ²_u; ratio emp_i / mean mse_i against u_i² / σ²_u
    emp_ts = emp_t[s]
    mse_ts = mse_pr_t["pooled_deff"].mean(axis=0)[s]
    ratio = mse_ts / emp_ts
    res["conditional"] = {
        "corr_log_ratio_vs_u2": float(np.corrcoef(np.log(ratio), u_true ** 2)[0, 1]),
        "average_ratio_districts_u2_below_median": float(np.mean(ratio[u_true ** 2 <= np.median(u_true ** 2)])),
        "average_ratio_districts_u2_above_median": float(np.mean(ratio[u_true ** 2 > np.median(u_true ** 2)])),
    }
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--households", type=int, default=25)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--aux-noise", type=float, nargs="+", default=[0.04, 0.1])
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--pre", type=int, default=2000)
    ap.add_argument("--hall-maiti", type=int, default=0,
                    help="second-level replicates of the Hall–Maiti double bootstrap (0: off)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    res = {f"aux_noise_{an}": run(a.reps, a.households, a.seed, an, a.boot, a.pre, a.hall_maiti)
           for an in a.aux_noise}
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
