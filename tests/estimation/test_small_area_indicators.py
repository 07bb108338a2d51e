"""indicator_table(..., small_area=SmallArea(...)): model-based rows beside the direct ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from estimation import SmallArea, SurveyDesign, fay_herriot, indicator_table
from estimation.indicators.variables import indicator_variables
from surveycore import SurveyError, SurveyWarning


def make_survey(seed: int = 8, n_psu: int = 60, m: int = 12):
    """Persons in EAs of 15 districts (codes with leading zeros); 3 census districts unsampled."""
    rng = np.random.default_rng(seed)
    n = n_psu * m
    psu = np.repeat(np.arange(n_psu), m)
    dist_of_psu = np.arange(n_psu) % 15
    level = rng.uniform(0.03, 0.3, 18)
    df = pd.DataFrame({"psu": psu, "district": [f"D{d:02d}" for d in dist_of_psu[psu]],
                       "hh": np.arange(n) // 3})
    df["w"] = np.repeat(rng.uniform(50, 150, n // 3), 3)
    df["sex"] = rng.choice(["F", "M"], n)
    df["age"] = rng.integers(0, 90, n)
    df["foreign_born"] = rng.random(n) < level[dist_of_psu[psu]]
    df["foreign_citizen"] = df["foreign_born"] & (rng.random(n) < 0.6)
    df["usual_resident"] = True
    df = indicator_variables(df, age="age", household="hh")
    census = pd.DataFrame({"district": [f"D{d:02d}" for d in range(18)],
                           "fb_2015": (0.9 * level + rng.normal(0, 0.01, 18)).round(4)})
    return df, census


def test_model_based_rows_beside_direct_ones():
    df, census = make_survey()
    d = SurveyDesign(df, ids="psu", weights="w")
    spec = SmallArea(area="district", auxiliaries=["fb_2015"], population=census,
                     transformation="none", smoothing="unstable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        res = indicator_table(d, "MI1.1", by=["district", "sex"], small_area=spec,
                              suppression=None)
    t = res.table
    mb = t[t["model_based"]]
    assert set(mb["measure"]) == {"share"}            # totals stay direct
    assert mb["district"].nunique() == 18 and (mb["sex"] == "_T").all()
    assert (mb.loc[~mb["district"].isin(df["district"]), "n"] == 0).all()
    # the model-based rows are the Fay–Herriot fit of the direct district shares
    direct = t[~t["model_based"] & t["measure"].eq("share") & t["sex"].eq("_T")
               & t["district"].ne("_T")]
    areas = pd.DataFrame({"district": direct["district"], "y": direct["estimate"] / 100,
                          "v": (direct["se"] / 100) ** 2, "n": direct["n"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        fh = fay_herriot(areas, "y", "v", ["fb_2015"], area="district", population=census,
                         n="n")
    got = mb.set_index("district").loc[fh.table["area"]]
    np.testing.assert_allclose(got["estimate"], 100 * fh.table["eblup"].to_numpy())
    np.testing.assert_allclose(got["se"], 100 * np.sqrt(fh.table["mse"].to_numpy()))
    np.testing.assert_allclose(got["cv"], fh.table["cv"].to_numpy())
    assert res.metadata["small_area"]["fits"]["MI1.1/share"]["method"] == "REML"
    # SDMX: model-based observations are estimated values, in their own series (SHARE_MODEL):
    # a loader keeping one observation per series key loses neither the direct nor the EBLUP
    sd = res.to_sdmx_csv()
    key = [c for c in ("INDICATOR", "MEASURE", "SEX", "DISTRICT") if c in sd.columns]
    assert not sd.duplicated(key).any()
    cells = sd["SEX"].eq("_T") & sd["DISTRICT"].ne("_T")
    assert int((cells & sd["MEASURE"].eq("SHARE")).sum()) == len(direct)
    rows = sd[cells & sd["MEASURE"].eq("SHARE_MODEL")]
    assert len(rows) == 18
    status = rows["OBS_STATUS"].value_counts()
    assert status.get("E", 0) >= int((mb["reliability"] != "unreliable").sum())


def test_area_must_be_a_disaggregation():
    df, census = make_survey()
    d = SurveyDesign(df, ids="psu", weights="w")
    spec = SmallArea(area="district", auxiliaries=["fb_2015"], population=census)
    with pytest.raises(SurveyError, match="add 'district' to by="):
        indicator_table(d, "MI1.1", by=["sex"], small_area=spec)


def test_default_spec_models_shares_on_the_arcsine_scale():
    df, census = make_survey()
    d = SurveyDesign(df, ids="psu", weights="w")
    spec = SmallArea(area="district", auxiliaries=["fb_2015"], population=census,
                     replicates=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        res = indicator_table(d, "MI1.1", by=["district"], small_area=spec)
    fit = res.metadata["small_area"]["fits"]["MI1.1/share"]
    assert fit["transformation"] == "arcsin" and fit["mse_method"].startswith("parametric")
    assert np.isfinite(fit["sigma2_u_se"]) and fit["sigma2_u_se"] > 0
    mb = res.table[res.table["model_based"]]
    assert ((mb["estimate"] > 0) & (mb["estimate"] < 100)).all()
    assert (mb["ci_low"] <= mb["estimate"]).all() and (mb["estimate"] <= mb["ci_high"]).all()


def test_model_based_row_of_a_suppressed_district_is_suppressed():
    """EBLUP = γ·direct + (1 − γ)·x'β with β, σ²_u and the MSE published would give a
    suppressed direct value back: the model-based row is suppressed with it."""
    from estimation.indicators import SuppressionRule

    df, census = make_survey()
    df = df[~(df["district"].eq("D03") & (df.index % 12 > 1))]  # two rows left in D03
    d = SurveyDesign(df, ids="psu", weights="w")
    spec = SmallArea(area="district", auxiliaries=["fb_2015"], population=census)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        t = indicator_table(d, "MI1.1", by=["district"], small_area=spec,
                            suppression=SuppressionRule()).table
    share = t[t["measure"].eq("share") & t["district"].ne("_T")]
    direct = share[~share["model_based"]].set_index("district")["suppressed"]
    model = share[share["model_based"]].set_index("district")["suppressed"]
    hidden = direct[direct.ne("")].index
    assert len(hidden) > 0
    assert model.reindex(hidden).ne("").all()
    assert model.drop(hidden, errors="ignore").eq("").all()
