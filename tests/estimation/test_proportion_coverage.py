"""Design-based simulation: proportion intervals and replicate SEs over repeated cluster samples
from a known synthetic population."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign

N_CLUSTERS, CLUSTER_SIZE, N_SAMPLED, N_SIMS = 400, 20, 40, 200


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(2024)
    cluster = np.repeat(np.arange(N_CLUSTERS), CLUSTER_SIZE)
    # cluster-level migrant share (intra-cluster correlation), overall about 0.2
    share = rng.beta(2, 8, N_CLUSTERS)
    migrant = rng.random(len(cluster)) < share[cluster]
    return pd.DataFrame({"cluster": cluster, "migrant": migrant.astype(float)})


def _samples(population, seed):
    rng = np.random.default_rng(seed)
    for _ in range(N_SIMS):
        chosen = rng.choice(N_CLUSTERS, N_SAMPLED, replace=False)
        s = population[population["cluster"].isin(chosen)].copy()
        s["w"] = N_CLUSTERS / N_SAMPLED
        s["fpc"] = N_CLUSTERS
        yield s


@pytest.mark.parametrize("method", ["logit", "beta", "likelihood"])
def test_ciprop_coverage(population, method):
    truth = population["migrant"].mean()
    hits = 0
    for s in _samples(population, 7):
        d = SurveyDesign(s, ids="cluster", weights="w", fpc="fpc")
        row = d.proportion("migrant", method=method).iloc[0]
        hits += row["ci_low"] <= truth <= row["ci_high"]
    coverage = hits / N_SIMS
    # nominal 95 %; 200 samples give a binomial s.e. of about 1.5 points
    assert 0.90 <= coverage <= 0.99, coverage


def test_jk1_and_bootstrap_se_track_the_true_sampling_sd(population):
    estimates, jk, boot = [], [], []
    for i, s in enumerate(_samples(population, 8)):
        if i >= 120:
            break
        d = SurveyDesign(s, ids="cluster", weights="w", fpc="fpc")
        estimates.append(d.mean("migrant")["estimate"].iloc[0])
        jk.append(d.replicate("JK1").mean("migrant")["se"].iloc[0])
        boot.append(d.replicate("bootstrap", replicates=50, seed=i).mean("migrant")["se"].iloc[0])
    sd = np.std(estimates, ddof=1)
    assert np.mean(jk) == pytest.approx(sd, rel=0.15)
    assert np.mean(boot) == pytest.approx(sd, rel=0.15)
    assert abs(np.mean(estimates) - population["migrant"].mean()) < 3 * sd / np.sqrt(len(estimates))
