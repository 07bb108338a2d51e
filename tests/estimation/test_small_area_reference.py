"""Fay–Herriot fits against independent computations.

* ML: R ``nlme::lme`` with known sampling variances (``tests/reference/fay_herriot_nlme.R``).
* REML: the restricted log-likelihood written here with full matrices and maximised by scipy.
* MSE: the Prasad–Rao / Datta–Lahiri closed forms written here with full matrices.
* R ``sae`` 1.3 ``mseFH`` on the milk data (Arora & Lahiri 1997), the example of its help pages
  (``tests/reference/fay_herriot_sae_milk.R``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from estimation import fay_herriot
from surveycore import SurveyWarning

REF = Path(__file__).resolve().parents[1] / "reference"
NLME = json.loads((REF / "fay_herriot_nlme.json").read_text())
SAE = json.loads((REF / "fay_herriot_sae_milk.json").read_text())


def milk() -> pd.DataFrame:
    """The milk data as an office would hold it: string area codes, a variance column."""
    m = pd.read_csv(REF / "fay_herriot_milk.csv")
    return pd.DataFrame({
        "area_code": [f"{a:02d}" for a in m["SmallArea"]],
        "expenditure": m["yi"],
        "var_direct": m["SD"] ** 2,
        "region_2": (m["MajorArea"] == 2).astype(float),
        "region_3": (m["MajorArea"] == 3).astype(float),
        "region_4": (m["MajorArea"] == 4).astype(float),
    })


def simulated() -> pd.DataFrame:
    return pd.DataFrame(NLME["simulated"]["data"])


MILK_AUX = ["region_2", "region_3", "region_4"]


@pytest.mark.parametrize("case", ["milk", "simulated"])
def test_ml_matches_nlme_lme(case):
    ref = NLME[case]
    if case == "milk":
        fh = fay_herriot(milk(), "expenditure", "var_direct", MILK_AUX, area="area_code",
                         method="ML")
    else:
        fh = fay_herriot(simulated(), "y", "psi", ["x1", "x2"], area="area", method="ML")
    np.testing.assert_allclose(fh.sigma2_u, ref["sigma2_u"], rtol=1e-6)
    np.testing.assert_allclose(fh.beta.to_numpy(), ref["beta"], rtol=1e-6)
    np.testing.assert_allclose(fh.table["eblup"], ref["eblup"], rtol=1e-6)
    np.testing.assert_allclose(fh.metadata["loglik"], ref["loglik"], rtol=1e-6)
    assert fh.table["area"].tolist() == ref["area"]


def _reml_by_hand(y, X, psi):
    """Restricted log-likelihood with full matrices, maximised by bounded Brent."""
    def neg_lr(a):
        V = np.diag(a + psi)
        Vi = np.linalg.inv(V)
        XtViX = X.T @ Vi @ X
        P = Vi - Vi @ X @ np.linalg.inv(XtViX) @ X.T @ Vi
        return 0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(XtViX)[1] + y @ P @ y)

    res = optimize.minimize_scalar(neg_lr, bounds=(0.0, 10 * np.var(y)), method="bounded",
                                   options={"xatol": 1e-14})
    a = res.x
    Vi = np.diag(1 / (a + psi))
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    gamma = a / (a + psi)
    return a, beta, gamma * y + (1 - gamma) * (X @ beta)


@pytest.mark.parametrize("case", ["milk", "simulated"])
def test_reml_maximises_the_restricted_likelihood(case):
    if case == "milk":
        d = milk()
        y, psi = d["expenditure"].to_numpy(), d["var_direct"].to_numpy()
        X = np.column_stack([np.ones(len(d)), d[MILK_AUX].to_numpy()])
        fh = fay_herriot(d, "expenditure", "var_direct", MILK_AUX, area="area_code")
    else:
        d = simulated()
        y, psi = d["y"].to_numpy(), d["psi"].to_numpy()
        X = np.column_stack([np.ones(len(d)), d[["x1", "x2"]].to_numpy()])
        fh = fay_herriot(d, "y", "psi", ["x1", "x2"], area="area", method="REML")
    a, beta, theta = _reml_by_hand(y, X, psi)
    np.testing.assert_allclose(fh.sigma2_u, a, rtol=1e-6)
    np.testing.assert_allclose(fh.beta.to_numpy(), beta, rtol=1e-6)
    np.testing.assert_allclose(fh.table["eblup"], theta, rtol=1e-6)


def _mse_closed_form(X, psi, a, method):
    """g1 + g2 + 2 g3 (− b·B² for ML), with full matrices (Rao & Molina 2015, (6.2.3)–(6.2.11))."""
    V = np.diag(a + psi)
    Vi = np.linalg.inv(V)
    Q = np.linalg.inv(X.T @ Vi @ X)
    gamma = a / (a + psi)
    g1 = gamma * psi
    g2 = np.array([(1 - g) ** 2 * x @ Q @ x for g, x in zip(gamma, X)])
    info = 0.5 * np.trace(Vi @ Vi)               # Fisher information of A
    g3 = psi ** 2 / (a + psi) ** 3 / info
    mse = g1 + g2 + 2 * g3
    if method == "ML":
        bias = np.trace(Q @ X.T @ Vi @ Vi @ X) / (-2 * info)
        mse = mse - bias * (psi / (a + psi)) ** 2
    return mse


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_analytic_mse_equals_the_closed_form(method):
    d = simulated()
    fh = fay_herriot(d, "y", "psi", ["x1", "x2"], area="area", method=method)
    X = np.column_stack([np.ones(len(d)), d[["x1", "x2"]].to_numpy()])
    expected = _mse_closed_form(X, d["psi"].to_numpy(), fh.sigma2_u, method)
    np.testing.assert_allclose(fh.table["mse"], expected, rtol=1e-10)
    assert fh.metadata["mse_method"].startswith("Prasad" if method == "REML" else "Datta")


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_sigma2_u_standard_error_is_the_inverse_fisher_information(method):
    """Diagnostics: SE of σ̂²_u from ½ tr(P²) (REML) or ½ tr(V⁻²) (ML), full matrices here."""
    d = milk()
    fh = fay_herriot(d, "expenditure", "var_direct", MILK_AUX, area="area_code", method=method)
    X = np.column_stack([np.ones(len(d)), d[MILK_AUX].to_numpy()])
    psi = d["var_direct"].to_numpy()
    Vi = np.linalg.inv(np.diag(fh.sigma2_u + psi))
    P = Vi - Vi @ X @ np.linalg.inv(X.T @ Vi @ X) @ X.T @ Vi
    info = 0.5 * np.trace(P @ P) if method == "REML" else 0.5 * np.trace(Vi @ Vi)
    s = fh.diagnostics().summary
    np.testing.assert_allclose(s["sigma2_u_se"], 1 / np.sqrt(info), rtol=1e-10)
    np.testing.assert_allclose(s["mean_sigma2_u_over_psi"], np.mean(fh.sigma2_u / psi),
                               rtol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_sae_milk_example_as_sae_prints_it(method):
    """sae's help-page call with its default PRECISION = 1e-4 (relative change of σ²_u): the
    scoring stops early, so EBLUPs agree to 1e-6 and coefficients and MSEs to 1e-5."""
    pub = SAE[method]
    fh = fay_herriot(milk(), "expenditure", "var_direct", MILK_AUX, area="area_code",
                     method=method)
    np.testing.assert_allclose(fh.beta.to_numpy(), pub["beta"], rtol=1e-5)
    np.testing.assert_allclose(fh.beta_se.to_numpy(), pub["beta_se"], rtol=1e-5)
    np.testing.assert_allclose(fh.table["eblup"], pub["eblup"], rtol=1e-6)
    np.testing.assert_allclose(fh.table["mse"], pub["mse"], rtol=1e-5)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_sae_milk_example_converged(method):
    """The same call with PRECISION = 1e-12: σ²_u, β̂, their SEs, EBLUPs and the Prasad–Rao /
    Datta–Lahiri MSEs of sae::mseFH at 1e-8 (and the ML log-likelihood)."""
    ref = SAE[f"{method}_converged"]
    fh = fay_herriot(milk(), "expenditure", "var_direct", MILK_AUX, area="area_code",
                     method=method)
    np.testing.assert_allclose(fh.sigma2_u, ref["sigma2_u"], rtol=1e-8)
    np.testing.assert_allclose(fh.beta.to_numpy(), ref["beta"], rtol=1e-8)
    np.testing.assert_allclose(fh.beta_se.to_numpy(), ref["beta_se"], rtol=1e-8)
    np.testing.assert_allclose(fh.table["eblup"], ref["eblup"], rtol=1e-8)
    np.testing.assert_allclose(fh.table["mse"], ref["mse"], rtol=1e-8)
    if method == "ML":
        np.testing.assert_allclose(fh.metadata["loglik"], ref["loglik"], rtol=1e-8)


def test_boundary_sets_zero_warns_and_records():
    """Direct estimates scattered less than their sampling variances say: REML at 0."""
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 25)
    d = pd.DataFrame({"a": [f"{i:03d}" for i in range(25)],
                      "y": 1 + 2 * x + rng.normal(0, 0.05, 25), "v": np.full(25, 1.0), "x": x})
    with pytest.warns(SurveyWarning, match="boundary"):
        fh = fay_herriot(d, "y", "v", ["x"], area="a")
    assert fh.sigma2_u == 0.0 and fh.boundary
    assert fh.metadata["boundary"] and any("boundary" in w for w in fh.metadata["warnings"])
    np.testing.assert_allclose(fh.table["eblup"], fh.table["synthetic"])
    assert (fh.table["gamma"] == 0).all()
    # the restricted likelihood decreases from 0: the boundary is the maximum
    X = np.column_stack([np.ones(25), x])
    a, _, _ = _reml_by_hand(d["y"].to_numpy(), X, d["v"].to_numpy())
    assert a < 1e-8


def test_no_warning_inside_the_parameter_space():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SurveyWarning)
        fh = fay_herriot(milk(), "expenditure", "var_direct", MILK_AUX, area="area_code")
    assert fh.sigma2_u > 0 and not fh.boundary and fh.metadata["converged"]
