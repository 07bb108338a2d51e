"""Domain variances of a two-stage design with fpc against the textbook formula computed here.

The engine sums the (stratum, domain) terms of each stage on a dense layout when it is small
and as sparse products when it is large (the second stage, whose strata are the PSUs, with
many domains). Both are checked against the two-stage variance of each domain's total written
out with pandas (Särndal et al. 1992, result 4.3.1; R ``svyrecvar``):

``V = Σ_h (1 − n_h/N_h) n_h/(n_h − 1) Σ_{c∈h} (X_c − X̄_h)²
    + Σ_c (n_h/N_h) (1 − m_c/M_c) m_c/(m_c − 1) Σ_{j∈c} (Y_j − Ȳ_c)²``

with ``X_c`` the PSU totals and ``Y_j`` the SSU totals of ``w·y`` on the domain's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign


def _office_file(seed: int = 7, n_psu: int = 2000, domains: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_psu * 10
    psu = np.repeat(np.arange(n_psu), 10)
    hh = rng.integers(0, 6, rows)
    order = rng.permutation(rows)  # rows in no particular order, ids as text with leading zeros
    return pd.DataFrame({
        "REGION": [f"R{h:02d}" for h in (psu * 20 // n_psu)],
        "EA": [f"{p:05d}" for p in psu],
        "HH": [f"{p:05d}-{s}" for p, s in zip(psu, hh)],
        "HH_TYPE": np.where(hh % 2 == 0, "mixed", "native"),
        "N_EA": 400.0,
        "N_HH": 30.0,
        "WGT": rng.uniform(20, 80, rows),
        "income": rng.gamma(2.0, 500.0, rows),
        "status": rng.choice(["citizen", "migrant", "refugee"], rows),
        "district": rng.integers(0, domains, rows),
    }).iloc[order].reset_index(drop=True)


def _textbook_variance(df: pd.DataFrame, score: np.ndarray, stage2: str) -> np.ndarray:
    """Two-stage variance of the total of ``score`` in every district, written out; the
    households are stratified by ``stage2`` within each EA (strata of one household add
    nothing, as with ``lonely_psu="remove"``)."""
    data = df.assign(x=score)
    # PSU and SSU totals of each district's scores (zero where the district has no rows)
    psu = data.pivot_table(index=["REGION", "EA"], columns="district", values="x", aggfunc="sum", fill_value=0.0)
    ssu = data.pivot_table(index=["REGION", "EA", stage2, "HH"], columns="district", values="x", aggfunc="sum", fill_value=0.0)
    region = psu.index.get_level_values("REGION")
    n_h = pd.Series(region).map(pd.Series(region).value_counts()).to_numpy()[:, None]
    dev = psu - psu.groupby(level="REGION").transform("mean")
    v1 = ((1 - n_h / 400.0) * n_h / (n_h - 1) * dev**2).sum(axis=0)
    cell = pd.Series(list(zip(ssu.index.get_level_values("EA"), ssu.index.get_level_values(stage2))))
    m_c = cell.map(cell.value_counts()).to_numpy()[:, None]
    dev2 = ssu - ssu.groupby(level=["EA", stage2]).transform("mean")
    n_of = pd.Series(ssu.index.get_level_values("REGION")).map(pd.Series(region).value_counts()).to_numpy()[:, None]
    term = np.where(m_c > 1, (1 - m_c / 30.0) * m_c / np.maximum(m_c - 1, 1) * dev2**2, 0.0)
    v2 = (n_of / 400.0 * term).sum(axis=0)
    return (v1 + v2).to_numpy()


@pytest.fixture(scope="module")
def office_file():
    return _office_file()


def _design(df: pd.DataFrame, stage2: str) -> SurveyDesign:
    strata = "REGION" if stage2 == "ONE" else ["REGION", stage2]
    return SurveyDesign(df, ids=["EA", "HH"], strata=strata, fpc=["N_EA", "N_HH"], weights="WGT", lonely_psu="remove")


# "ONE": the EAs are the household strata (their (stratum, district) cells are the EAs' pairs);
# "HH_TYPE": households stratified within EAs (a large layout summed as sparse products)
STAGE2 = ["ONE", "HH_TYPE"]


@pytest.mark.parametrize("stage2", STAGE2)
def test_domain_totals_equal_the_textbook_two_stage_variance(office_file, stage2):
    df = office_file.assign(ONE="all")
    got = _design(df, stage2).total("income", by="district")
    want = _textbook_variance(df, df["WGT"] * df["income"], stage2)
    np.testing.assert_allclose(got["se"].to_numpy() ** 2, want, rtol=1e-10)


@pytest.mark.parametrize("stage2", STAGE2)
def test_categorical_domain_totals_equal_the_textbook_variance_per_level(office_file, stage2):
    df = office_file.assign(ONE="all")
    got = _design(df, stage2).total("status", by="district")
    for level in ("citizen", "migrant", "refugee"):
        want = _textbook_variance(df, df["WGT"] * (df["status"] == level), stage2)
        np.testing.assert_allclose(got.loc[got["level"] == level, "se"].to_numpy() ** 2, want, rtol=1e-10)


def test_domain_means_equal_their_subsets_and_keep_the_degrees_of_freedom(office_file):
    df = office_file
    d = _design(df, "HH_TYPE")
    by = d.mean("income", by="district")
    again = d.mean("income", by="district")  # cached pairs give the same answer
    pd.testing.assert_frame_equal(by, again)
    for k in (0, 17, 49):
        sub = d.subset((df["district"] == k).to_numpy()).mean("income")
        row = by[by["district"] == k].iloc[0]
        np.testing.assert_allclose([row["estimate"], row["se"]], [sub["estimate"].iloc[0], sub["se"].iloc[0]], rtol=1e-10)
        inside = df[df["district"] == k]
        assert row["df"] == inside["EA"].nunique() - inside["REGION"].nunique()
