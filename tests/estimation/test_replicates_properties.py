"""Property tests: replicate methods that are exact for totals equal linearisation, and a zero
weight equals removing the row."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import SurveyDesign
from estimation.replicates import ReplicateDesign


@st.composite
def stratified_sample(draw, psus_per_stratum=None):
    n_strata = draw(st.integers(2, 6))
    rows = []
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    for h in range(n_strata):
        n_psu = psus_per_stratum or draw(st.integers(2, 5))
        for p in range(n_psu):
            for _ in range(int(rng.integers(1, 4))):
                rows.append((f"s{h}", p, rng.uniform(1, 10), rng.normal(10, 3)))
    return pd.DataFrame(rows, columns=["h", "psu", "w", "y"])


@settings(max_examples=25)
@given(stratified_sample())
def test_jkn_total_equals_linearised(df):
    d = SurveyDesign(df, ids="psu", strata="h", weights="w", nest=True)
    lin = d.total("y")["se"].iloc[0]
    np.testing.assert_allclose(d.replicate("JKn").total("y")["se"].iloc[0], lin, rtol=1e-9)


@settings(max_examples=25)
@given(stratified_sample(psus_per_stratum=2))
def test_brr_total_equals_linearised_for_two_psu_strata(df):
    d = SurveyDesign(df, ids="psu", strata="h", weights="w", nest=True)
    lin = d.total("y")["se"].iloc[0]
    np.testing.assert_allclose(d.replicate("BRR").total("y")["se"].iloc[0], lin, rtol=1e-9)
    # Fay's method with any rho gives the same variance for a total
    np.testing.assert_allclose(d.replicate("Fay", rho=0.4).total("y")["se"].iloc[0], lin, rtol=1e-9)


@settings(max_examples=25)
@given(stratified_sample(), st.data())
def test_zero_weight_equals_removing_the_row(df, data):
    d = SurveyDesign(df, ids="psu", strata="h", weights="w", nest=True)
    reps = d.replicate("JKn").replicate_weights()
    full = pd.concat([df, reps], axis=1)
    rs = d.replicate("JKn").rscales
    drop = data.draw(st.sets(st.integers(0, len(df) - 1), max_size=max(len(df) // 3, 1)))
    keep = np.setdiff1d(np.arange(len(df)), sorted(drop))
    if len(keep) < 2:
        return
    zeroed = full.copy()
    zeroed.loc[list(drop), ["w", *reps.columns]] = 0.0
    a = ReplicateDesign(zeroed, weights="w", repweights="rw[0-9]+", type="other", scale=1.0, rscales=rs)
    b = ReplicateDesign(full.iloc[keep], weights="w", repweights="rw[0-9]+", type="other", scale=1.0, rscales=rs)
    ra, rb = a.mean("y"), b.mean("y")
    np.testing.assert_allclose(ra[["estimate", "se"]].to_numpy(), rb[["estimate", "se"]].to_numpy(), rtol=1e-10)
