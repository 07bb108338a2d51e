"""Score (Francisco–Fuller) intervals of domain quantiles equal R's ``svyquantile``.

R script and output: ``tests/reference/quantile_score_domains.{R,json}``. In these small domains
the score statistic changes sign more than once, so the interval end depends on the root
finder's path: Brent's method with R's bracket and tolerance lands where R's ``uniroot`` does.
Where R stops (no sign change on the bracket) the end is NaN here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from estimation import SurveyDesign
from estimation.zeroin import brent_root

TESTS = Path(__file__).parents[1]
CASES = json.loads((TESTS / "reference" / "quantile_score_domains.json").read_text())["cases"]


@pytest.fixture(scope="module")
def design():
    df = pd.read_csv(TESTS / "data" / "score_domains.csv", dtype={"psu": str, "sex": str})
    return SurveyDesign(df, ids="psu", strata="st", weights="w")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_score_interval_by_domain(design, case):
    rule, region, p = case["id"].split("_")
    got = design.quantile("y", [float(p)], by="reg", qrule=rule, interval_type="score").query("reg == @region")
    if not isinstance(case["estimate"], float):  # R stops: no sign change on its bracket
        assert got[["ci_low", "ci_high"]].isna().to_numpy().any()
        return
    for col in ("estimate", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(got[col], case[col], rtol=1e-8, err_msg=col)


def test_subset_equals_by(design):
    by = design.quantile("y", [0.5], by="reg", qrule="school", interval_type="score").query("reg == 'a'")
    sub = design.subset(design.data["reg"] == "a").quantile("y", [0.5], qrule="school", interval_type="score")
    np.testing.assert_allclose(sub[["ci_low", "ci_high"]].to_numpy(), by[["ci_low", "ci_high"]].to_numpy(), rtol=1e-12)


def test_brent_root_agrees_with_scipy_on_smooth_functions():
    for f, lo, hi in [(lambda t: t**3 - 2 * t - 5, 2.0, 3.0), (np.cos, 0.0, 3.0), (lambda t: np.exp(t) - 10, -1.0, 5.0)]:
        root = brent_root(f, lo, hi, tol=1e-12)
        np.testing.assert_allclose(root, optimize.brentq(f, lo, hi, xtol=1e-14), atol=1e-11)
    assert brent_root(lambda t: t * t + 1, -1.0, 1.0, tol=1e-8) is None  # no sign change
    assert brent_root(lambda t: t, 0.0, 1.0, tol=1e-8) == 0.0  # a root at an end
