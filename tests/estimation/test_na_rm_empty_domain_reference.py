"""``by=`` with ``na_rm=True`` when a domain has no observed value, against R
(``tests/reference/na_rm_empty_domain.R``): the observed domain equals R's ``svyby`` at 1e-8;
the empty domain, which R reports as 0 with SE 0, is kept with n = 0 and NaN (not computable)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore import SurveyWarning

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "na_rm_empty_domain.json").read_text())["cases"]}


def _rows() -> pd.DataFrame:
    i = np.arange(48)
    df = pd.DataFrame({"strate": np.array(["01", "02", "03"])[i // 16], "grappe": [f"{k // 4:03d}" for k in i],
                       "poids": 1 + (i * 7) % 5 + 0.25 * (i % 3), "revenu": 10 + ((i * 11) % 17) / 4,
                       "sexe": np.array(["F", "M"])[i % 2]})
    df["revenu_f"] = df["revenu"].where(df["sexe"] == "F")
    return df


@pytest.mark.parametrize("estimator, case", [("mean", "by_mean"), ("total", "by_total")])
def test_empty_domain_against_r(estimator, case):
    d = SurveyDesign(_rows(), ids="grappe", strata="strate", weights="poids")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = getattr(d, estimator)("revenu_f", by="sexe", na_rm=True)
    ref = CASES[case]
    np.testing.assert_allclose(r["estimate"].iloc[0], ref["estimate"][0], rtol=1e-8)
    np.testing.assert_allclose(r["se"].iloc[0], ref["se"][0], rtol=1e-8)
    assert ref["estimate"][1] == 0 and ref["se"][1] == 0  # R: a plausible-looking 0 ± 0
    assert r["sexe"].tolist() == ["F", "M"] and r["n"].tolist() == [24, 0]
    assert np.isnan(r["estimate"].iloc[1]) and np.isnan(r["se"].iloc[1])
    assert any(issubclass(w.category, SurveyWarning) and "no observed row" in str(w.message) for w in rec)
    sub = d.subset(_rows()["sexe"].eq("F").to_numpy()).mean("revenu_f", na_rm=True)
    np.testing.assert_allclose(sub["estimate"].iloc[0], CASES["subset_mean_F"]["estimate"], rtol=1e-8)
