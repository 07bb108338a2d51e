"""Integrated household-person calibration and re-weighted replicates against R survey 4.1.

Cases made by tests/reference/weighting_cases.R (R's calibrate(..., aggregate.stage=1) and
calibrate/postStratify on svrep designs), compared at rtol 1e-8.
"""

import json

import numpy as np
import pandas as pd
import pytest
from wt_targets import POP_CAL, POP_TYPES, REF
from wt_variance import mean_and_se, total_and_se

from weighting import Weights

RTOL = 1e-8
CASES = {c["id"]: c for c in json.loads((REF / "weighting_cases.json").read_text())["cases"]}


def _value(case, name):
    return next(v for v in case["values"] if v["name"] == name)


def _integrated(eusilc, case):
    t = case["note"]["targets"]
    lo, hi = (float(b) for b in case["note"]["bounds"])
    method = case["id"].rsplit("_", 1)[1]
    df = eusilc.assign(hh_one=1.0)
    return Weights(df, "rb050").calibrate(
        {"rb090": t["rb090"], "db040": t["db040"], "age": t["age"]},
        cluster="db030",
        cluster_targets={"hh_one": t["households"]},
        method=method,
        bounds=None if method != "logit" else (lo, hi),
        tol=1e-12,
        max_iter=100,
    )


@pytest.mark.parametrize("method", ["linear", "raking", "logit"])
def test_integrated_calibration_matches_r(eusilc, method):
    case = CASES[f"weighting_eusilc_integrated_{method}"]
    w = _integrated(eusilc, case)
    note = case["note"]
    g = w.values / w.base_values
    first = ~eusilc.db030.duplicated().to_numpy()
    np.testing.assert_allclose(eusilc.db030[first][:200], note["household_ids"])
    np.testing.assert_allclose(g[first][:200], note["household_g"], rtol=RTOL)
    np.testing.assert_allclose([g.min(), g.max()], note["g_range"], rtol=RTOL)
    np.testing.assert_allclose(g[first].sum(), note["g_sum_hh"], rtol=RTOL)
    np.testing.assert_allclose((g[first] ** 2).sum(), note["g_sumsq_hh"], rtol=RTOL)
    np.testing.assert_allclose(w.values.sum(), note["weights_sum"], rtol=RTOL)
    rec = w.variance_records()
    inf = np.full(len(eusilc), np.inf)
    est, se = mean_and_se(eusilc, w.values, "eqIncome", eusilc.db040, eusilc.db030, inf, rec)
    ref = _value(case, "eqIncome")
    np.testing.assert_allclose([est, se], [ref["estimate"], ref["se"]], rtol=RTOL)
    est, se = total_and_se(eusilc, w.values, "eqIncome", eusilc.db040, eusilc.db030, inf, rec)
    ref = _value(case, "total_eqIncome")
    np.testing.assert_allclose([est, se], [ref["estimate"], ref["se"]], rtol=RTOL)


def test_integrated_weights_equal_within_household_and_totals_hit(eusilc):
    case = CASES["weighting_eusilc_integrated_logit"]
    w = _integrated(eusilc, case)
    spread = pd.Series(w.values).groupby(eusilc.db030.to_numpy()).agg(np.ptp)
    assert spread.max() <= 1e-10 * w.values.max()
    t = case["note"]["targets"]
    for var in ("rb090", "db040"):
        got = pd.Series(w.values).groupby(eusilc[var].to_numpy()).sum()
        for level, total in t[var].items():
            np.testing.assert_allclose(got[level], total, rtol=1e-8)
    first = ~eusilc.db030.duplicated().to_numpy()
    np.testing.assert_allclose(w.values[first].sum(), t["households"], rtol=1e-8)
    np.testing.assert_allclose(w.values @ eusilc.age.to_numpy(), t["age"], rtol=1e-8)


def _jk1_se(df, w, reps, y, scale):
    yv = df[y].to_numpy()
    theta = reps.T @ yv / reps.sum(axis=0) if y == "api00" else reps.T @ yv
    return np.sqrt(scale * ((theta - theta.mean()) ** 2).sum())


@pytest.mark.parametrize("method, bounds", [("linear", None), ("logit", (0.4, 3))])
def test_jk1_recalibrated_replicates(apiclus1, method, bounds):
    case = CASES[f"weighting_clus1_jk1_calibrate_{method}"]
    w = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds, tol=1e-12,
                                          max_iter=100)
    codes, uniq = pd.factorize(apiclus1.dnum)
    n = uniq.size
    factors = np.full((len(apiclus1), n), n / (n - 1))
    factors[np.arange(len(apiclus1)), codes] = 0.0
    reps = w.replay(w.base_values[:, None] * factors)
    scale = case["note"]["scale"]
    ref = _value(case, "api00")
    est = w.values @ apiclus1.api00.to_numpy() / w.values.sum()
    np.testing.assert_allclose(est, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(_jk1_se(apiclus1, w, reps, "api00", scale), ref["se"], rtol=RTOL)
    if method == "linear":
        ref = _value(case, "enroll")
        np.testing.assert_allclose(_jk1_se(apiclus1, w, reps, "enroll", scale), ref["se"],
                                   rtol=RTOL)


def test_jkn_poststratified_replicates(apistrat):
    case = CASES["weighting_strat_jkn_poststratify"]
    w = Weights(apistrat, "pw").poststratify(POP_TYPES)
    strata = apistrat.stype.to_numpy()
    n = len(apistrat)
    cols, rscales = [], []
    for h in pd.unique(strata):
        rows = np.flatnonzero(strata == h)
        n_h = rows.size
        big_n = apistrat.fpc.to_numpy()[rows[0]]
        for j in rows:
            f = np.ones(n)
            f[rows] = n_h / (n_h - 1)
            f[j] = 0.0
            cols.append(f)
            rscales.append((n_h - 1) / n_h * (1 - n_h / big_n))
    reps = w.replay(w.base_values[:, None] * np.column_stack(cols))
    rscales = np.array(rscales)
    np.testing.assert_allclose(np.sort(rscales), np.sort(case["note"]["rscales"]), rtol=1e-12)
    for y in ("api00", "enroll"):
        yv = apistrat[y].to_numpy()
        theta = reps.T @ yv / reps.sum(axis=0)
        se = np.sqrt((rscales * (theta - theta.mean()) ** 2).sum())
        ref = _value(case, y)
        np.testing.assert_allclose(w.values @ yv / w.values.sum(), ref["estimate"], rtol=RTOL)
        np.testing.assert_allclose(se, ref["se"], rtol=RTOL)


@pytest.mark.parametrize("method", ["linear", "logit"])
def test_integrated_jk1_replicates_match_r(eusilc, method):
    """R: calibrate(as.svrepdesign(d, 'JK1'), ..., aggregate.index=~db030) on Burgenland."""
    case = CASES[f"weighting_eusilc_burgenland_jk1_integrated_{method}"]
    pop = case["note"]["population"]
    bg = eusilc[eusilc.db040 == "Burgenland"].assign(hh_one=1.0)
    targets = {"rb090": {"female": pop["(Intercept)"] - pop["rb090male"],
                         "male": pop["rb090male"]},
               "age": pop["age"]}
    w = Weights(bg, "rb050").calibrate(
        targets, cluster="db030", cluster_targets={"hh_one": pop["hhinv"]}, method=method,
        bounds=(0.3, 3) if method == "logit" else None, tol=1e-12, max_iter=100)
    codes, uniq = pd.factorize(bg.db030)
    n = uniq.size
    factors = np.full((len(bg), n), n / (n - 1))
    factors[np.arange(len(bg)), codes] = 0.0
    reps = w.replay(w.base_values[:, None] * factors)
    y = bg.eqIncome.to_numpy()
    theta = reps.T @ y / reps.sum(axis=0)
    se = np.sqrt(case["note"]["scale"] * ((theta - theta.mean()) ** 2).sum())
    ref = case["values"][0]
    np.testing.assert_allclose(w.values @ y / w.values.sum(), ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(se, ref["se"], rtol=RTOL)
    # one weight per household in every replicate
    first = np.zeros(n, dtype=int)
    first[codes[::-1]] = np.arange(len(bg))[::-1]
    assert np.abs(reps - reps[first[codes]]).max() <= 1e-9 * reps.max()
