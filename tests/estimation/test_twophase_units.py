"""Two-phase design: Δ̌ kernels against joint probabilities from first principles, and input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign, TwoPhaseDesign
from estimation.twophase_dcheck import Hierarchy, blockwise_product_quadratic
from surveycore import SurveyError


def two_stage(seed=3):
    """Stratified two-stage SRS: strata with 2, 3 and 4 sampled PSUs, 2–4 units per PSU."""
    rng = np.random.default_rng(seed)
    rows = []
    for h, (n_psu, N_psu) in enumerate([(2, 5), (3, 7), (4, 4)]):
        for c in range(n_psu):
            m, M = rng.integers(2, 5), 6
            for u in range(m):
                rows.append((f"S{h}", f"S{h}-P{c:02d}", f"S{h}-P{c:02d}-{u}", n_psu / N_psu, m / M, m))
    return pd.DataFrame(rows, columns=["stratum", "psu", "unit", "p1", "p2", "m"])


def joint_dcheck(df):
    """``Δ̌_ij = 1 − π_i π_j / π_ij`` with ``π_ij`` of stratified SRS of PSUs then SRS of units."""
    n = len(df)
    st, psu, p1, p2, m = (df[c].to_numpy() for c in ["stratum", "psu", "p1", "p2", "m"])
    n_h = df.groupby("stratum")["psu"].transform("nunique").to_numpy()
    N_h = n_h / p1
    M = m / p2
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            pi_i, pi_j = p1[i] * p2[i], p1[j] * p2[j]
            if i == j:
                pij = pi_i
            elif psu[i] == psu[j]:
                pij = p1[i] * m[i] * (m[i] - 1) / (M[i] * (M[i] - 1))
            elif st[i] == st[j]:
                pij = n_h[i] * (n_h[i] - 1) / (N_h[i] * (N_h[i] - 1)) * p2[i] * p2[j]
            else:
                pij = pi_i * pi_j
            out[i, j] = 1 - pi_i * pi_j / pij
    return out


def hierarchy_of(df):
    st = pd.factorize(df["stratum"])[0]
    psu = pd.factorize(df["psu"])[0]
    unit = np.arange(len(df))
    n_h = df.groupby("stratum")["psu"].transform("nunique").to_numpy()
    return Hierarchy.from_fractions([psu, unit], [st, psu], [df["p1"].to_numpy(), df["p2"].to_numpy()],
                                    [n_h, df["m"].to_numpy()], False)


def test_entries_equal_first_principles():
    df = two_stage()
    h = hierarchy_of(df)
    idx = np.arange(len(df))
    np.testing.assert_allclose(h.entries(idx[:, None], idx[None, :]), joint_dcheck(df), atol=1e-12)


def test_quadratic_form_equals_dense_by_domain():
    df = two_stage()
    h = hierarchy_of(df)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(len(df), 2))
    dom = rng.integers(0, 3, len(df))
    dense = joint_dcheck(df)
    got = h.quadratic(x, dom, 3)
    for d in range(3):
        xd = np.where((dom == d)[:, None], x, 0.0)
        np.testing.assert_allclose(got[d], xd.T @ dense @ xd, rtol=1e-10)


def test_blockwise_product_equals_dense():
    df = two_stage()
    h1 = hierarchy_of(df)
    # a second design: units of each stratum split in two phase-2 strata, SRS of half
    st2 = pd.factorize(df["stratum"] + (np.arange(len(df)) % 2).astype(str))[0]
    n2 = np.bincount(st2)[st2]
    h2 = Hierarchy.from_fractions([np.arange(len(df))], [st2], [np.full(len(df), 0.5)], [n2], False)
    idx = np.arange(len(df))
    dense = h1.entries(idx[:, None], idx[None, :]) * h2.entries(idx[:, None], idx[None, :])
    x = np.random.default_rng(2).normal(size=(len(df), 1))
    dom = np.zeros(len(df), dtype=np.int64)
    got = blockwise_product_quadratic(h1, h2, st2, x, dom, 1, max_entries=7)
    np.testing.assert_allclose(got[0], x.T @ dense @ x, rtol=1e-10)


def office_frame():
    """An office's file: string ids with leading zeros, phase-2 answers missing outside phase 2."""
    rng = np.random.default_rng(7)
    n = 60
    df = pd.DataFrame({
        "EA_CODE": [f"{i // 10:04d}" for i in range(n)],
        "HH_ID": [f"{i:06d}" for i in range(n)],
        "MIG_STATUS": rng.choice(["migrant", "non-migrant"], n, p=[0.3, 0.7]),
    })
    df["STRATUM2"] = df["EA_CODE"] + "/" + df["MIG_STATUS"]
    df["SELECTED"] = (df["MIG_STATUS"] == "migrant") | (rng.random(n) < 0.4)
    first = df.groupby("STRATUM2").cumcount() < 2  # at least two per phase-2 stratum
    df.loc[first, "SELECTED"] = True
    df["INCOME"] = np.where(df["SELECTED"], rng.gamma(3, 200, n), np.nan)
    df["EA_N"] = 50
    return df


def test_point_estimates_are_double_expansion():
    df = office_frame()
    before = df.copy()
    d = TwoPhaseDesign(df, ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None),
                       subset="SELECTED")
    pd.testing.assert_frame_equal(df, before)  # never mutates the caller's frame
    sel = df[df["SELECTED"]]
    n2 = sel.groupby("STRATUM2").size()
    N2 = df.groupby("STRATUM2").size()
    w = (50 / 6) * (N2 / n2).reindex(sel["STRATUM2"]).to_numpy()
    expected = np.sum(w * sel["INCOME"]) / w.sum()
    for method in ("full", "approx"):
        d = TwoPhaseDesign(df, ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None),
                           subset="SELECTED", method=method)
        assert d.mean("INCOME")["estimate"].iloc[0] == pytest.approx(expected, rel=1e-12)
        by = d.mean("INCOME", by="MIG_STATUS")
        sub = d.subset(d.data["MIG_STATUS"] == "migrant").mean("INCOME")
        assert by["se"].iloc[0] == pytest.approx(sub["se"].iloc[0], rel=1e-10)


def test_phase1_census_equals_single_phase_stratified_design():
    """With phase 1 the whole population (π₁ = 1), phase 2 is a stratified SRS: same SE as SurveyDesign."""
    df = office_frame()
    df["ONE"] = 1.0
    sel = df[df["SELECTED"]].copy()
    sel["N2"] = df.groupby("STRATUM2")["HH_ID"].transform("size")[df["SELECTED"]]
    one = SurveyDesign(sel, ids="HH_ID", strata="STRATUM2", fpc="N2")
    for method in ("full", "approx"):
        d2 = TwoPhaseDesign(df, ids=("HH_ID", "HH_ID"), strata=(None, "STRATUM2"), fpc=("ONE", None),
                            subset="SELECTED", method=method)
        a, b = d2.total("INCOME"), one.total("INCOME")
        assert a["estimate"].iloc[0] == pytest.approx(b["estimate"].iloc[0], rel=1e-12)
        assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-10)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(ids="HH_ID"), "ids"),
        (dict(ids=("EA_CODE", "HH_ID"), method="exact"), "method"),
        (dict(ids=("EA_CODE", "HH_ID"), subset="NOPE"), "subset"),
        (dict(ids=("EA_CODE", "HH_ID"), subset=np.zeros(60, bool)), "subset"),
        (dict(ids=("EA_CODE", "HH_ID"), probs=("P", None)), "probs"),
    ],
)
def test_refuses_bad_declarations(kwargs, argument):
    df = office_frame()
    base = dict(strata=(None, "STRATUM2"), subset="SELECTED")
    base.update(kwargs)
    with pytest.raises(SurveyError) as info:
        TwoPhaseDesign(df, **base)
    assert info.value.argument == argument


def test_calibration_meets_phase1_totals_and_needs_complete_variables():
    df = office_frame()
    df["SIZE"] = np.random.default_rng(3).integers(1, 8, len(df)).astype(float)
    d = TwoPhaseDesign(df, ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None),
                       subset="SELECTED")
    dc = d.calibrate(variables=["SIZE", "MIG_STATUS"])
    # phase-2 weights given phase 1 reproduce the phase-1 sample totals
    w2 = dc.weights * 6 / 50  # six EAs of 50 at phase 1
    assert np.dot(w2, dc.data["SIZE"]) == pytest.approx(df["SIZE"].sum(), rel=1e-9)
    with pytest.raises(SurveyError):
        d.calibrate(variables=["INCOME"])
    with pytest.raises(SurveyError):
        d.calibrate()


def test_joint_covariance_of_domains():
    df = office_frame()
    d = TwoPhaseDesign(df, ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None),
                       subset="SELECTED")
    b = d.mean("INCOME", by="MIG_STATUS", covariance=True)
    np.testing.assert_allclose(np.sqrt(np.diag(b.covariance)), b["se"], rtol=1e-10)
    diff = b.contrast({"migrant": 1, "non-migrant": -1})
    v = b.covariance.to_numpy()
    assert diff["se"].iloc[0] == pytest.approx(np.sqrt(v[0, 0] + v[1, 1] - 2 * v[0, 1]), rel=1e-12)
    approx = TwoPhaseDesign(df, ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None),
                            subset="SELECTED", method="approx")
    with pytest.raises(SurveyError, match="method='full'"):
        approx.mean("INCOME", by="MIG_STATUS", covariance=True)
    cal = approx.calibrate(variables=["MIG_STATUS"])
    bc = cal.mean("INCOME", by="EA_CODE", covariance=True)
    # one EA's variance is zero up to rounding (about 1e-15 against variances of 100 to 800):
    # the two routes' rounding differs there, so the variances agree to 1e-12 of the largest
    var = bc["se"].to_numpy() ** 2
    np.testing.assert_allclose(np.diag(bc.covariance), var, rtol=1e-10, atol=1e-12 * var.max())


def test_approximate_method_refuses_single_psu_phase2_strata():
    df = office_frame()
    # one non-migrant household kept out of several in an EA: a phase-2 stratum with one PSU
    stratum = df.loc[df["MIG_STATUS"] == "non-migrant", "STRATUM2"].iloc[0]
    rows = np.flatnonzero(df["STRATUM2"] == stratum)
    df.loc[rows, "SELECTED"] = False
    df.loc[rows[0], "SELECTED"] = True
    kw = dict(ids=("EA_CODE", "HH_ID"), strata=(None, "STRATUM2"), fpc=("EA_N", None), subset="SELECTED")
    with pytest.raises(SurveyError, match="single PSU") as info:
        TwoPhaseDesign(df, method="approx", **kw)
    assert info.value.argument == "lonely_psu"
    TwoPhaseDesign(df, method="approx", lonely_psu="certainty", **kw)
    TwoPhaseDesign(df, method="full", **kw)
