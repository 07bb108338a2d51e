"""Domain estimates from (cluster, domain) totals summed block by block, against a direct formula.

Means, totals and ratios in several domains of a design without weighting records take a
route that never forms the row × domain scores nor the rows' grouping by pair
(:meth:`estimation.taylor.TaylorVariance.covariance_of_domain_blocks`). Here they are checked
against the textbook stratified cluster variance written out with pandas groupby (Särndal,
Swensson & Wretman 1992, result 4.3.1; Lumley 2010, §2.3 for domains as subsets), and against
the general route on the same design; blocks are made a few dozen rows long so that clusters
and pairs cross block edges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import estimation.taylor as taylor
import surveycore.groups as groups
from estimation import SurveyDesign


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(groups, "_BLOCK", 37)


def office_frame(seed: int = 11) -> pd.DataFrame:
    """Households in enumeration areas (ids "0007" … with leading zeros, restarting in each
    district), an area-level population count, a country-of-birth domain that some districts
    never hold, a domain held by a single area, a single-area district, and missing incomes."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, n_areas in enumerate([4, 3, 1, 5, 2, 6]):
        for a in range(n_areas):
            m = int(rng.integers(3, 25))
            birth = rng.choice(["PHL", "IND", "NPL"] if s % 2 else ["PHL", "IND"], m)
            if s == 3 and a == 0:
                birth[: max(m // 3, 1)] = "LKA"  # the one area holding this domain
            rows.append(pd.DataFrame({
                "district": f"D{s}", "ea": f"{a + 7:04d}", "birth": birth,
                "wgt": rng.uniform(20, 200, m), "income": rng.gamma(2.0, 300.0, m),
                "hours": rng.uniform(10, 60, m), "N_ea": float(3 * n_areas + 2),
            }))
    df = pd.concat(rows, ignore_index=True)
    df.loc[rng.choice(len(df), 9, replace=False), "income"] = np.nan
    return df


def direct_se(df: pd.DataFrame, num: str, den: str | None, mean: bool, fpc: bool, lonely: str) -> pd.Series:
    """Taylor SE per domain: scores ``z_i = w_i (y_i − θ_d x_i)/X̂_d`` (``w_i y_i`` for totals)
    on the domain's rows, zero elsewhere; PSU totals within strata; ``Σ_h (1 − f_h) n_h/(n_h − 1)
    Σ_c (z_c − z̄_h)²``, a single-PSU stratum dropped (``"remove"``) or centred at zero
    (``"adjust"``)."""
    out = {}
    ok = df[num].notna()
    for dom in sorted(df["birth"].unique()):
        inside = ok & (df["birth"] == dom)
        w, y = df["wgt"].where(inside, 0.0), df[num].fillna(0.0)
        x = 1.0 if mean else (df[den] if den else None)
        if x is None:
            z = w * y
        else:
            total_x = (w * x).sum()
            theta = (w * y).sum() / total_x
            z = w * (y - theta * x) / total_x
        psu = z.groupby([df["district"], df["ea"]]).sum()
        var = 0.0
        for h, zc in psu.groupby(level=0):
            n_h = len(zc)
            f = n_h / df.loc[df["district"] == h, "N_ea"].iloc[0] if fpc else 0.0
            if n_h == 1:
                var += 0.0 if lonely == "remove" else (1 - f) * float(zc.iloc[0]) ** 2
            else:
                var += (1 - f) * n_h / (n_h - 1) * float(((zc - zc.mean()) ** 2).sum())
        out[dom] = np.sqrt(var)
    return pd.Series(out)


def blocks_used(monkeypatch) -> list:
    calls = []
    original = taylor.TaylorVariance.covariance_of_domain_blocks

    def spy(self, *args, **kwargs):
        calls.append(args[-1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(taylor.TaylorVariance, "covariance_of_domain_blocks", spy)
    return calls


@pytest.mark.parametrize("fpc", [False, True])
@pytest.mark.parametrize("lonely", ["remove", "adjust"])
@pytest.mark.parametrize("kind", ["mean", "total", "ratio"])
def test_domain_se_equals_direct_formula(monkeypatch, fpc, lonely, kind):
    df = office_frame()
    calls = blocks_used(monkeypatch)
    d = SurveyDesign(df, ids="ea", strata="district", weights="wgt", nest=True,
                     fpc="N_ea" if fpc else None, lonely_psu=lonely)
    if kind == "mean":
        got = d.mean("income", by="birth", na_rm=True)
    elif kind == "total":
        got = d.total("income", by="birth", na_rm=True)
    else:
        got = d.ratio("income", "hours", by="birth", na_rm=True)
    assert calls == [4]  # the block route, for the four domains
    want = direct_se(df, "income", "hours" if kind == "ratio" else None, kind == "mean", fpc, lonely)
    # a mean in the domain held by one area has SE zero in theory: rounding, far below its estimate
    scale = np.abs(got["estimate"].to_numpy())
    np.testing.assert_allclose(got["se"].to_numpy(), want.to_numpy(), rtol=1e-10, atol=1e-12 * scale.max())
    ok = df["income"].notna()
    w, y = df["wgt"].where(ok, 0.0), df["income"].fillna(0.0)
    totals = (w * y).groupby(df["birth"]).sum()
    expected = {"mean": totals / w.groupby(df["birth"]).sum(), "total": totals,
                "ratio": totals / (w * df["hours"]).groupby(df["birth"]).sum()}[kind]
    np.testing.assert_allclose(got["estimate"].to_numpy(), expected.to_numpy(), rtol=1e-12)


def general_route(monkeypatch, run):
    """``run()`` with the block route switched off: the scores formed row by row."""
    with monkeypatch.context() as m:
        m.setattr(taylor.TaylorVariance, "domain_blocks_stage", lambda self, n, k, D: None)
        return run()


@pytest.mark.parametrize("lonely", ["average", "adjust", "certainty"])
@pytest.mark.parametrize("adjust_domain_lonely", [False, True])
def test_block_route_equals_general_route(monkeypatch, lonely, adjust_domain_lonely):
    """Every lonely-PSU rule (within domains too), categorical shares (k > 1), a subset (rows
    of zero weight in no domain), degrees of freedom and intervals."""
    df = office_frame(5)
    d = SurveyDesign(df, ids="ea", strata="district", weights="wgt", nest=True, fpc="N_ea",
                     lonely_psu=lonely, adjust_domain_lonely=adjust_domain_lonely)
    sub = d.subset(df["hours"].to_numpy() > 25)
    runs = [lambda: d.mean("income", by="birth", na_rm=True, df="design"),
            lambda: d.mean("district", by="birth"),
            lambda: d.total(["income", "hours"], by="birth", na_rm=True),
            lambda: sub.ratio("income", "hours", by="birth", na_rm=True),
            lambda: sub.mean("hours", by="birth", df="design")]
    calls = blocks_used(monkeypatch)
    for run in runs:
        fast, slow = run(), general_route(monkeypatch, run)
        pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-11, atol=1e-13)
    assert len(calls) == len(runs)


def test_row_order_and_unsorted_clusters_change_nothing(monkeypatch):
    """Rows shuffled (clusters no longer in runs: blocks as long as the pair table)."""
    df = office_frame(8)
    shuffled = df.sample(frac=1.0, random_state=3)
    calls = blocks_used(monkeypatch)
    results = [SurveyDesign(f, ids="ea", strata="district", weights="wgt", nest=True, lonely_psu="adjust")
               .mean("income", by="birth", na_rm=True) for f in (df, shuffled)]
    pd.testing.assert_frame_equal(results[0], results[1], check_exact=False, rtol=1e-12)
    assert len(calls) == 2


def test_sorted_integer_ids_need_no_row_codes():
    """Sorted area numbers 101 … (a file sorted by area): the design groups rows by their runs
    and forms no array of codes; codes asked for later equal pandas' factorisation."""
    rng = np.random.default_rng(2)
    sizes = rng.integers(1, 30, 40)
    df = pd.DataFrame({"area": np.repeat(np.arange(101, 141), sizes), "w": rng.uniform(1, 5, sizes.sum()),
                       "y": rng.normal(size=sizes.sum())})
    df["stratum"] = (df["area"] - 101) // 8
    d = SurveyDesign(df, ids="area", strata="stratum", weights="w", nest=True)
    d.mean("y")
    clusters = d.stages[0].clusters
    # none formed from a column nobody can change (copy-on-write frames)
    assert (clusters._codes is None) == (not df["area"].to_numpy().flags.writeable)
    np.testing.assert_array_equal(d.stages[0].cluster, pd.factorize(df["area"], sort=True)[0])
    assert not d.stages[0].cluster.flags.writeable
