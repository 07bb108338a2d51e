"""R survey 4.1 references on an office-like file (tests/reference/office_fixes.{R,json,csv}).

Nonlinear contrasts by the delta method (and R's replicate form on request), likelihood intervals
whose profile reaches R's bounded inverse link, ``var(na_rm=True)``'s ``n``, quantiles at a
domain's largest value, zero weights on a calibrated design, and quasibinomial GLMs on domains
of a calibrated design.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore.errors import SurveyError, SurveyWarning
from weighting import Weights

HERE = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((HERE / "office_fixes.json").read_text())
TOTALS = {"SEX": {"F": 2200, "M": 2800}, "AGEGRP": {"15-29": 1300, "30-59": 2800, "60+": 900}, "HHSIZE": 20500}
RTOL = 1e-8


def nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


@pytest.fixture(scope="module")
def office() -> pd.DataFrame:
    return pd.read_csv(HERE / "office_fixes.csv", dtype={"REGION": str, "EA": str, "HH": str})


def design(df: pd.DataFrame, weights="W") -> SurveyDesign:
    return SurveyDesign(df, ids="EA", strata="REGION", weights=weights, fpc="N_EA", nest=True)


def test_office_file_is_office_like(office):
    assert office["EA"].str.startswith("00").any() and office["INCOME"].isna().any()
    assert not pd.api.types.is_numeric_dtype(office["REGION"])


# -- 1. nonlinear contrasts ------------------------------------------------------------------------
def ratio(e):
    return e["citizen"] / e["refugee"]


@pytest.mark.parametrize("kind", ["taylor", "jkn", "jkncal"])
def test_nlcontrast_is_the_delta_method_by_default(office, kind):
    if kind == "taylor":
        d = design(office).subset(office["INCOME"].notna().to_numpy())
    elif kind == "jkn":
        d = design(office).replicate("JKn")
    else:
        d = design(office, Weights(office, "W").calibrate(TOTALS)).replicate("JKn")
    b = d.mean("INCOME", by="STATUS", na_rm=True, covariance=True)
    ref = REF[f"nlcon_{kind}"]
    out = b.nlcontrast(ratio)
    np.testing.assert_allclose(out[["estimate", "se"]].iloc[0], [ref["delta"]["estimate"], ref["delta"]["se"]], rtol=RTOL)
    # the same number as the delta method on the reported covariance, by hand
    e = dict(zip(b["STATUS"], b["estimate"]))
    names = b.names
    grad = np.zeros(len(names))
    grad[names.index("citizen:INCOME")] = 1 / e["refugee"]
    grad[names.index("refugee:INCOME")] = -e["citizen"] / e["refugee"] ** 2
    np.testing.assert_allclose(out["se"].iloc[0], np.sqrt(grad @ b.covariance.to_numpy() @ grad), rtol=1e-12)
    if kind == "taylor":
        with pytest.raises(SurveyError, match="no replicate estimates"):
            b.nlcontrast(ratio, return_replicates=True)
        return
    rep = b.nlcontrast(ratio, return_replicates=True)
    np.testing.assert_allclose(rep[["estimate", "se"]].iloc[0],
                               [ref["replicates"]["estimate"], ref["replicates"]["se"]], rtol=RTOL)
    assert rep.attrs["replicates"].shape == (d.n_replicates,)


def test_nlcontrast_of_replicate_glm(office):
    g = design(office).replicate("JKn").glm("SENDS01 ~ HHSIZE", family="quasibinomial")
    ref = REF["nlcon_glm_jkn"]
    out = g.nlcontrast(lambda b: np.exp(b["HHSIZE"]))
    np.testing.assert_allclose(out[["estimate", "se"]].iloc[0], [ref["delta"]["estimate"], ref["delta"]["se"]], rtol=RTOL)
    rep = g.nlcontrast(lambda b: np.exp(b["HHSIZE"]), return_replicates=True)
    np.testing.assert_allclose(rep["se"].iloc[0], ref["replicates"]["se"], rtol=RTOL)


# -- 2. likelihood intervals -----------------------------------------------------------------------
def test_likelihood_profile_through_the_bounded_link(office):
    """The refugee domain's profile steps beyond η = 37, where expit rounds to 1: R's inverse
    link keeps μ below 1 − ε, and so does the package (before, the deviance was NaN there and
    the profile raised "profiling found a better solution")."""
    out = design(office).proportion("SENDS01", method="likelihood", by="STATUS")
    ref = REF["likelihood_by"]
    assert list(out["STATUS"]) == ref["domain"]
    np.testing.assert_allclose(out["se"], ref["se"], rtol=RTOL)
    np.testing.assert_allclose(out["ci_low"], ref["ci_low"], rtol=RTOL)
    np.testing.assert_allclose(out["ci_high"], ref["ci_high"], rtol=RTOL)
    # R's estimate is expit of its IRLS coefficient, equal to p̂ to IRLS precision
    np.testing.assert_allclose(out["estimate"], ref["estimate"], rtol=1e-8)


def test_likelihood_on_a_jkn_design_by_domain(office):
    """R returns NA here (its replicate svyglm has no usable dispersion); the package profiles
    with the replicate variance of logit p̂ in every domain, without an exception. In the refugee
    domain a replicate's proportion is 1 (its one "no" deleted), so logit p̂_r is infinite and no
    interval exists: NaN, with a warning and a note."""
    r = SurveyDesign(office, ids="EA", strata="REGION", weights="W", nest=True).replicate("JKn")  # no fpc
    with pytest.warns(SurveyWarning, match="likelihood interval not computed for 2"):
        out = r.proportion("SENDS", method="likelihood", by="STATUS")
    assert any("likelihood interval not computed" in n for n in out.attrs["notes"])
    ok = out[out["STATUS"] != "refugee"]
    assert np.isfinite(ok[["ci_low", "ci_high"]].to_numpy()).all()
    assert ((ok["ci_low"] < ok["estimate"]) & (ok["estimate"] < ok["ci_high"])).all()
    refugee = out[out["STATUS"] == "refugee"]
    assert refugee[["ci_low", "ci_high"]].isna().all().all() and np.isfinite(refugee["se"]).all()


def test_profile_better_solution_gives_nan_not_an_exception():
    from estimation.glm_profile import profile_limits

    out = profile_limits(lambda b: (b - 1.0) ** 2, 0.0, 1.0, 1.0, 3.0, np.array([-2.0, 2.0]))
    assert np.isnan(out).all()


# -- 3. var(na_rm=True) ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["taylor", "cal", "jkn"])
def test_var_counts_n_as_r(office, kind):
    d = design(office, Weights(office, "W").calibrate(TOTALS) if kind == "cal" else "W")
    if kind == "jkn":
        d = d.replicate("JKn")
    out = d.var("INCOME", na_rm=True)
    np.testing.assert_allclose(out[["estimate", "se"]].iloc[0], [REF[f"var_{kind}"]["estimate"], REF[f"var_{kind}"]["se"]],
                               rtol=RTOL)
    by = d.var("INCOME", by="STATUS", na_rm=True)
    ref = REF[f"var_{kind}_by"]
    assert list(by["STATUS"]) == ref["domain"]
    np.testing.assert_allclose(by["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(by["se"], ref["se"], rtol=RTOL)
    # each domain through subset() gives the same
    sub = d.subset((office["STATUS"] == "migrant").to_numpy()).var("INCOME", na_rm=True)
    np.testing.assert_allclose(sub["estimate"].iloc[0], ref["estimate"][1], rtol=RTOL)


def test_var_two_variables(office):
    out = design(office).var(["INCOME", "HHSIZE"], na_rm=True)
    np.testing.assert_allclose(out["estimate"], REF["var_taylor_two"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(out["se"], REF["var_taylor_two"]["se"], rtol=RTOL)


# -- 4. quantiles at a domain's edge ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["mean", "beta", "xlogit", "asin"])
def test_quantile_at_the_domain_maximum(office, kind):
    w = Weights(office, "W").poststratify({"AGEGRP": {"15-29": 1300, "30-59": 2800, "60+": 900}})
    d = design(office, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        out = d.quantile("INCOME", [0.5, 0.99], by="STATUS", na_rm=True, interval_type=kind)
    out = out[out["STATUS"] == "refugee"].reset_index(drop=True)
    ref = REF[f"quantile_edge_{kind}"]
    np.testing.assert_allclose(out["estimate"], ref["estimate"], rtol=RTOL)
    # the median: as R, NaN ends included
    np.testing.assert_allclose(out.loc[0, ["ci_low", "ci_high", "se"]].to_numpy(dtype=float),
                               nan([ref["ci_low"][0], ref["ci_high"][0], ref["se"][0]]), rtol=RTOL)
    # p = 0.99 is the domain's largest value: F̂(q̂) = 1 with variance 0, the interval collapses
    # on it with SE 0 in every type (R's "mean" type; R's other types give NaN or the same
    # collapsed interval depending on whether F̂(q̂) rounds below or above 1)
    top = office.loc[office["STATUS"] == "refugee", "INCOME"].max()
    assert out.loc[1, "estimate"] == top
    assert out.loc[1, "ci_low"] == top and out.loc[1, "ci_high"] == top and out.loc[1, "se"] == 0
    if kind == "mean":
        assert ref["ci_low"][1] == top and ref["ci_high"][1] == top and ref["se"][1] == 0


def test_quantile_nan_ends_are_warned_and_noted(office):
    d = design(office)
    with pytest.warns(SurveyWarning, match="quantile interval end"):
        out = d.quantile("INCOME", [0.5], by="STATUS", na_rm=True, interval_type="mean")
    assert any("quantile interval end" in n for n in out.attrs["notes"])


@pytest.mark.parametrize("kind", ["BRR", "Fay", "bootstrap", "JKn"])
def test_proportion_at_zero_is_the_same_on_every_replicate_type(kind):
    """A domain where nobody answers yes: p̂ = 0 with variance 0 on every replicate type; the
    logit and mean intervals collapse on 0, the xlogit, asin and beta forms are 0/0 (NaN, as R)
    with a warning and a note."""
    rows = []
    for h in ("Norte", "Sur"):
        for i in range(2):
            for j in range(3):
                rows.append({"REGION": h, "EA": f"{i + 1:03d}", "W": 10.0 + j,
                             "STATUS": "refugee" if j == 0 else "citizen", "SENDS01": float(j == 2)})
    df = pd.DataFrame(rows)
    d = SurveyDesign(df, ids="EA", strata="REGION", weights="W", nest=True)
    options = {"Fay": {"rho": 0.3}, "bootstrap": {"replicates": 20, "seed": 3}}.get(kind, {})
    r = d.replicate(kind, **options)
    for method in ("logit", "mean"):
        out = r.proportion("SENDS01", method=method, by="STATUS").set_index("STATUS")
        assert out.loc["refugee", ["estimate", "se", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    for method in ("xlogit", "asin", "beta"):
        with pytest.warns(SurveyWarning, match="p̂ = 0 or 1"):
            out = r.proportion("SENDS01", method=method, by="STATUS")
        row = out.set_index("STATUS").loc["refugee"]
        assert row["estimate"] == 0 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
        assert any("p̂ = 0 or 1" in n for n in out.attrs["notes"])


# -- 5. a zero weight equals removing the row (calibrated design) ---------------------------------
def test_zero_weight_equals_removed_row_for_likelihood_and_beta(office):
    drop = [0, 10, 30, 31]
    zero = office.copy()
    zero.loc[drop, "W"] = 0.0
    removed = office.drop(index=drop).reset_index(drop=True)
    dz = design(zero, Weights(zero, "W").calibrate(TOTALS))
    dr = design(removed, Weights(removed, "W").calibrate(TOTALS))
    cols = ["estimate", "se", "ci_low", "ci_high", "df"]
    for method in ("likelihood", "beta"):
        for by in (None, "STATUS"):
            a = dz.proportion("SENDS01", method=method, by=by)
            b = dr.proportion("SENDS01", method=method, by=by)
            np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-10)
            ref = REF[f"removed_rows_{method}" + ("_by" if by else "")]
            np.testing.assert_allclose(a["ci_low"], ref["ci_low"], rtol=RTOL)
            np.testing.assert_allclose(a["ci_high"], ref["ci_high"], rtol=RTOL)


# -- 6. quasibinomial GLM on domains of a calibrated design ---------------------------------------
@pytest.mark.parametrize("status", ["citizen", "migrant"])
def test_glm_on_a_domain_of_a_calibrated_design(office, status):
    d = design(office, Weights(office, "W").calibrate(TOTALS))
    g = d.subset((office["STATUS"] == status).to_numpy()).glm("SENDS01 ~ HHSIZE + SEX", family="quasibinomial")
    ref = REF[f"glm_cal_{status}"]
    assert list(g.table["variable"]) == ref["terms"]
    np.testing.assert_allclose(g.table["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(g.table["se"], ref["se"], rtol=RTOL)


@pytest.mark.parametrize("kind", ["bootstrap", "JKn"])
def test_proportion_at_zero_without_a_variance_is_not_collapsed(kind):
    """A domain in a single PSU is empty in some replicate: its variance cannot be computed, so
    its interval is NaN (warned and noted), not the collapsed [0, 0] of a variance-0 estimate."""
    rows = [{"REGION": h, "EA": f"{i + 1:03d}", "W": 10.0 + j,
             "STATUS": "refugee" if (h, i, j) == ("Norte", 0, 0) else "citizen", "SENDS01": float(j == 2)}
            for h in ("Norte", "Sur") for i in range(3) for j in range(3)]
    d = SurveyDesign(pd.DataFrame(rows), ids="EA", strata="REGION", weights="W", nest=True)
    r = d.replicate(kind, **({"replicates": 30, "seed": 2} if kind == "bootstrap" else {}))
    with pytest.warns(SurveyWarning, match="logit interval not computed"):
        out = r.proportion("SENDS01", method="logit", by="STATUS")
    row = out.set_index("STATUS").loc["refugee"]
    assert row["estimate"] == 0 and np.isnan(row["se"]) and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
