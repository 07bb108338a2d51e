"""Small-area fits say when they rest on too little: fewer than 10 areas, a pooled design
effect below 1 (floored at 1 by default), direct variances on very few PSUs per area, and a
boundary fit (σ̂²_u = 0), whose model-based rows are never flagged better than caution."""

import numpy as np
import pandas as pd
import pytest

from estimation import SmallArea, SurveyDesign, fay_herriot, indicator_table
from estimation.indicators.variables import indicator_variables
from surveycore import SurveyError, SurveyWarning


def _shares(m: int, seed: int = 4):
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 120, m).astype(float)
    x = rng.uniform(0.05, 0.3, m)
    p = np.clip(x + rng.normal(0, 0.04, m), 0.02, 0.9)
    y = rng.binomial(n.astype(int), p) / n
    return pd.DataFrame({"comarca": [f"{i:03d}" for i in range(m)], "y": y, "n": n, "x": x})


def test_fewer_than_ten_areas_warn():
    d = _shares(7).assign(v=lambda f: f.y * (1 - f.y) / f.n)
    with pytest.warns(SurveyWarning, match="only 7 areas"):
        fh = fay_herriot(d, "y", "v", ["x"], area="comarca")
    assert any("only 7 areas" in w for w in fh.metadata["warnings"])


def test_pooled_design_effect_below_one_is_floored_and_said():
    d = _shares(30)
    d["v"] = 0.4 * d.y * (1 - d.y) / d.n  # direct variances 0.4 of binomial: deff 0.4
    with pytest.warns(SurveyWarning, match="pooled design effect"):
        fh = fay_herriot(d, "y", "v", ["x"], area="comarca", n="n", transformation="arcsin",
                         smoothing="all", mse="analytic")
    rec = fh.metadata["variance_function"]
    assert rec["deff_estimated"] == pytest.approx(0.4, rel=1e-12)
    assert rec["deff"] == 1.0
    np.testing.assert_allclose(fh.model.psi, 1 / (4 * d["n"].to_numpy()), rtol=1e-12)  # ψ = 1/(4n)
    with pytest.warns(SurveyWarning, match="used as it is"):
        raw = fay_herriot(d, "y", "v", ["x"], area="comarca", n="n", transformation="arcsin",
                          smoothing="all", mse="analytic", min_deff=None)
    np.testing.assert_allclose(raw.model.psi, 0.4 / (4 * d["n"].to_numpy()), rtol=1e-12)
    assert (raw.table["mse"] < fh.table["mse"]).all()
    with pytest.raises(SurveyError, match="min_deff"):
        fay_herriot(d, "y", "v", ["x"], area="comarca", min_deff=-1)


def test_direct_variances_on_few_psus_warn():
    d = _shares(30).assign(v=lambda f: f.y * (1 - f.y) / f.n, psu_df=1.0)
    with pytest.warns(SurveyWarning, match="fewer than 5 degrees of freedom"):
        fay_herriot(d, "y", "v", ["x"], area="comarca", df="psu_df")


def _flat_survey():
    """Every EA has exactly 6 foreign-born persons of 40, equal weights: no area effect."""
    census = pd.DataFrame({"district": [f"{i:03d}" for i in range(1, 31)],
                           "fb_share_2015": np.linspace(0.05, 0.25, 30), "urban": np.random.default_rng(8).uniform(0.1, 0.9, 30)})
    rows = []
    for dist in census["district"].head(24):
        for ea in range(3):
            rows.append(pd.DataFrame({"ea": f"{dist}-{ea}", "district": dist, "weight": 100.0,
                                      "born_abroad": np.r_[np.ones(6), np.zeros(34)]}))
    persons = pd.concat(rows, ignore_index=True)
    persons["foreign_born"] = persons["born_abroad"].astype(bool)
    persons["foreign_citizen"] = persons["foreign_born"]
    persons["hh"] = np.arange(len(persons))
    persons["age"] = 30
    persons["usual_resident"] = True
    return census, SurveyDesign(indicator_variables(persons, age="age", household="hh"), ids="ea", weights="weight")


def test_boundary_fit_rows_are_flagged_caution_at_best():
    census, d = _flat_survey()
    spec = SmallArea(area="district", auxiliaries=["fb_share_2015", "urban"], population=census,
                     transformation="arcsin", mse="analytic")
    with pytest.warns(SurveyWarning, match="boundary"):
        tab = indicator_table(d, "MI1.1", by=["district"], small_area=spec, quality="statcan_cchs")
    fits = tab.metadata["small_area"]["fits"]
    key = next(k for k in fits if "share" in k)
    assert fits[key]["boundary"] and fits[key]["sigma2_u"] == 0
    assert "caution" in fits[key]["flags"]
    mb = tab.table[tab.table["model_based"] & tab.table["measure"].eq("share")]
    # the CVs alone would make these reliable (flag ""), by the rule written here
    assert (mb["cv"] <= 0.165).all()
    assert set(mb["reliability"]) == {"caution"} and set(mb["flag"]) == {"E"}
