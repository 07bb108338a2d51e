"""Numbers that cannot be computed are NaN with a SurveyWarning and a note, never 0 with SE 0:
a variable missing everywhere under ``na_rm=True`` (overall or in one domain), and weighted
sums beyond double precision (weights refused when their squares overflow)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from estimation.indicators.quality import flag_quality
from surveycore import SurveyError, SurveyWarning
from weighting import Weights


def _office_file() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 48
    return pd.DataFrame({
        "strate": np.repeat(["01", "02", "03"], 16),
        "grappe": np.repeat([f"{i:03d}" for i in range(12)], 4),
        "poids": rng.uniform(1, 5, n),
        "revenu": rng.normal(10, 2, n),
        "sexe": np.tile(["F", "M"], 24),
    })


def test_variable_missing_everywhere_is_not_computable():
    df = _office_file().assign(revenu=np.nan)  # a question nobody answered
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    for call in (d.mean, d.total):
        with pytest.warns(SurveyWarning, match="no observed row") as rec:
            r = call("revenu", na_rm=True)
        assert r["n"].tolist() == [0]
        assert np.isnan(r[["estimate", "se", "ci_low", "ci_high", "cv"]].to_numpy()).all()
        assert any("no observed row" in note for note in r.attrs["notes"])
        assert len(rec) >= 1
        flagged = flag_quality(r, "statcan")
        assert flagged["reliability"].tolist() == ["unreliable"]


def test_domain_missing_everywhere_stays_in_by_output():
    df = _office_file()
    df["revenu"] = df["revenu"].where(df["sexe"] == "F")  # a question not asked of men
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    f = df[df["sexe"] == "F"]
    total_f = float((f["poids"] * f["revenu"]).sum())  # by hand
    mean_f = total_f / float(f["poids"].sum())
    for rep in (d, d.replicate("JKn")):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            t = rep.total("revenu", by="sexe", na_rm=True)
            m = rep.mean("revenu", by="sexe", na_rm=True)
            q = rep.quantile("revenu", 0.5, by="sexe", na_rm=True)
            v = rep.var("revenu", by="sexe", na_rm=True)
        assert not [w for w in rec if issubclass(w.category, RuntimeWarning)]
        assert sum(issubclass(w.category, SurveyWarning) for w in rec) >= 4
        for r in (t, m, q, v):
            assert r["sexe"].tolist() == ["F", "M"]
            assert r["n"].tolist() == [24, 0]
            assert np.isfinite(r["se"].iloc[0]) and r["se"].iloc[0] > 0
            assert np.isnan(r[["estimate", "se", "cv"]].iloc[1].to_numpy(dtype=float)).all()
        assert t["estimate"].iloc[0] == pytest.approx(total_f, rel=1e-12)
        assert m["estimate"].iloc[0] == pytest.approx(mean_f, rel=1e-12)
        assert flag_quality(m, "statcan")["reliability"].iloc[1] == "unreliable"


@pytest.mark.parametrize("big", [1e200, 1e308])
def test_weights_whose_squares_overflow_are_refused(big):
    df = _office_file()
    df.loc[3, "poids"] = big  # a typo or an overflowed export
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning as the only signal
        with pytest.raises(SurveyError, match="too large"):
            SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
        with pytest.raises(SurveyError, match="too large"):
            Weights(df, "poids")
        with pytest.raises(SurveyError, match="too large"):
            SurveyDesign(df.assign(p=1 / df["poids"]), ids="grappe", strata="strate", probs="p")
        with pytest.raises(SurveyError, match="too large"):
            SurveyDesign(df, ids="grappe", strata="strate", weights=df["poids"])


def test_values_overflowing_a_weighted_sum_are_refused():
    df = _office_file().assign(revenu=lambda x: x["revenu"] * 1e306)
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(SurveyError, match="not a finite number"):
            d.total("revenu")


def test_variance_beyond_double_precision_is_nan_and_unreliable():
    df = _office_file().assign(revenu=lambda x: x["revenu"] * 1e160)  # squares overflow
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(SurveyWarning, match="not finite numbers"):
            r = d.total("revenu")
    assert np.isnan(r[["estimate", "se", "cv"]].to_numpy()).all()
    assert any("not finite" in note for note in r.attrs["notes"])
    assert flag_quality(r, "statcan")["reliability"].tolist() == ["unreliable"]


def test_categorical_variable_missing_everywhere_is_refused():
    df = _office_file().assign(pays=pd.Series([None] * 48, dtype=object))
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    with pytest.raises(SurveyError, match="no observed value"):
        d.mean("pays", na_rm=True)
