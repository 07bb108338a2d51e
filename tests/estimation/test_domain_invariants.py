"""One invariant suite over every estimator × every weighting record × both variance engines.

A domain estimate must not depend on how the domain is asked for: ``by=`` equals ``subset()``
(which keeps the full design and every weighting record, as R's ``svyby``), and a mean equals
the ratio of the domain's totals. Neither may depend on the order of the rows, and a row of
weight zero must count as absent. These routes share no domain code: ``subset`` estimates one
domain with the scores residualised explicitly, ``by=`` all domains at once from per-domain
coefficients (see :mod:`estimation.taylor`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from domain_cases import chains, office_sample

from estimation import SurveyDesign
from weighting import Weights

DF = office_sample()
CHAINS = chains(DF)
BY = "region"
LEVELS = sorted(DF[BY].unique())


def _design(df, weights, engine):
    if engine == "JK1":
        return SurveyDesign(df, ids="psu_id", weights=weights).replicate("JK1")
    d = SurveyDesign(df, ids="psu_id", strata="strat_code", weights=weights)
    return d.replicate("JKn") if engine == "JKn" else d


ESTIMATORS = {
    "mean": lambda d, by: d.mean(["income", "migrant"], by=by),
    "total": lambda d, by: d.total(["income", "one"], by=by),
    "ratio": lambda d, by: d.ratio("income", "hours", by=by),
    "proportion": lambda d, by: d.proportion("migrant", by=by, method="logit"),
    "quantile": lambda d, by: d.quantile("income", [0.25, 0.5], by=by),
}
NUMBERS = ["estimate", "se", "ci_low", "ci_high", "df"]


def _close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal to 1e-10; an SE that is zero in theory may differ by 1e-8 of its estimate."""
    for col in NUMBERS:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        scale = np.abs(a["estimate"].to_numpy(float)) if col == "se" else np.abs(y).max()
        tol = 1e-10 * np.abs(y) + (1e-8 if col == "se" else 1e-10) * scale
        bad = ~((np.abs(x - y) <= tol) | (np.isnan(x) & np.isnan(y)))
        assert not bad.any(), f"{col}: {x[bad]} != {y[bad]}"


@pytest.fixture(scope="module", params=["taylor", "JKn", "JK1"])
def engine(request):
    return request.param


@pytest.mark.parametrize("record", list(CHAINS))
def test_by_equals_subset(record, engine):
    d = _design(DF, CHAINS[record], engine)
    for name, fn in ESTIMATORS.items():
        by = fn(d, BY)
        for level in LEVELS:
            sub = fn(d.subset(DF[BY] == level), None).reset_index(drop=True)
            got = by[by[BY] == level].drop(columns=BY).reset_index(drop=True)
            try:
                _close(got, sub)
            except AssertionError as err:  # name the case in the failure
                raise AssertionError(f"{name} in {level}: {err}") from None


@pytest.mark.parametrize("record", list(CHAINS))
def test_mean_equals_ratio_of_domain_totals(record, engine):
    d = _design(DF, CHAINS[record], engine)
    mean = d.mean("income", by=BY)
    ratio = d.ratio("income", "one", by=BY)
    _close(mean, ratio)
    tot = d.total(["income", "one"], by=BY)
    est = tot.pivot(index=BY, columns="variable", values="estimate")
    np.testing.assert_allclose(mean["estimate"], (est["income"] / est["one"]).to_numpy(), rtol=1e-12)


def test_taylor_by_equals_subset_two_stage_and_lonely_psu():
    """Multi-stage with fpc, crossed domains and a single-PSU stratum ("adjust", "average")."""
    df = DF.copy()
    df["hh_pop"] = df.groupby("psu_id")["hh_id"].transform("nunique") * 3.0
    lonely = df[(df.strat_code != "C03") | (df.psu_id == df.psu_id[df.strat_code == "C03"].iloc[0])]
    for data, lonely_psu in ((df, "fail"), (lonely, "adjust"), (lonely, "average")):
        w = chains(data)["chain"]
        d = SurveyDesign(data, ids=["psu_id", "hh_id"], strata="strat_code", fpc=["psu_pop", "hh_pop"],
                         weights=w, lonely_psu=lonely_psu)
        by = d.mean(["income", "migrant"], by=["sex", "agegrp"])
        for (sex, age), got in by.groupby(["sex", "agegrp"]):
            sub = d.subset((data["sex"] == sex).to_numpy() & (data["agegrp"] == age).to_numpy())
            _close(got.drop(columns=["sex", "agegrp"]).reset_index(drop=True), sub.mean(["income", "migrant"]))


@pytest.mark.parametrize("record", ["rake-survey", "calibrate-logit", "integrated", "chain"])
def test_row_order_does_not_matter(record, engine):
    order = np.random.default_rng(3).permutation(len(DF))
    shuffled = DF.iloc[order]
    w_shuffled = chains(shuffled)[record]
    a = _design(DF, CHAINS[record], engine)
    b = _design(shuffled, w_shuffled, engine)
    for fn in ESTIMATORS.values():
        _close(fn(a, BY), fn(b, BY))


@pytest.mark.parametrize("record", ["poststratify", "rake-survey", "calibrate-linear", "chain"])
def test_zero_weight_row_counts_as_absent(record, engine):
    extra = DF.iloc[[5, 17]].copy()
    extra.index = ["z1", "z2"]
    extra["d_wt"] = 0.0
    extra["hh_id"] = ["new-1", "new-2"]
    extra["income"] = [1e7, -5.0]
    padded = pd.concat([DF, extra])
    a = _design(DF, CHAINS[record], engine)
    b = _design(padded, chains(padded)[record], engine)
    for name, fn in ESTIMATORS.items():
        ra, rb = fn(a, BY), fn(b, BY)
        if name == "quantile":  # n counts rows with positive weight only in both
            ra, rb = ra.drop(columns="n"), rb.drop(columns="n")
        _close(ra, rb)


def test_taylor_by_equals_subset_pps_calibrated():
    """Horvitz–Thompson and Yates–Grundy forms with a calibration record, in domains."""
    df = load_data_election()
    counts = df.groupby("big")["wt"].sum() * np.array([1.04, 0.97])
    bush = float((df["wt"] * df["Bush"]).sum() * 1.02)
    w = Weights(df, "wt").calibrate({"big": counts.to_dict(), "Bush": bush})
    for pps, variance in (("hartley-rao", "HT"), ("overton", "YG")):
        d = SurveyDesign(df, fpc="p", pps=pps, variance=variance, weights=w)
        by = d.mean(["Kerry", "big"], by="half")
        for level, got in by.groupby("half"):
            sub = d.subset((df["half"] == level).to_numpy()).mean(["Kerry", "big"])
            _close(got.drop(columns="half").reset_index(drop=True), sub)


def load_data_election() -> pd.DataFrame:
    from reference_data import load_data

    df = load_data("election_pps")
    df["wt"] = 1.0 / df["p"]
    df["big"] = np.where(df["p"] > df["p"].median(), "yes", "no")
    df["half"] = np.where(np.arange(len(df)) % 2 == 0, "even", "odd")
    return df
