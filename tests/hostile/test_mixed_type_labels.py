"""A column of codes holding the number 1 and the text "1" is refused wherever codes are formed:
two domains, strata, clusters or classes printed alike would otherwise come out silently."""

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore import SurveyError
from surveycore.checks import check_distinct_labels
from weighting import Weights


def _office_file() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 48
    df = pd.DataFrame({
        "strate": np.repeat(["01", "02", "03"], 16),
        "grappe": np.repeat([f"{i:03d}" for i in range(12)], 4),
        "poids": rng.uniform(1, 5, n),
        "revenu": rng.normal(10, 2, n),
        "zone": pd.Series(["1"] * n, dtype=object),
    })
    df.loc[df.index % 2 == 0, "zone"] = 1  # half typed as a number, half as text
    return df


def _refused(call) -> SurveyError:
    with pytest.raises(SurveyError, match="given twice") as info:
        call()
    return info.value


def test_domains_refused_in_every_estimator():
    df = _office_file()
    d = SurveyDesign(df, ids="grappe", strata="strate", weights="poids")
    err = _refused(lambda: d.mean("revenu", by="zone"))
    assert "'zone'" in str(err) and "'1'" in str(err)
    _refused(lambda: d.total("revenu", by=["strate", "zone"]))
    _refused(lambda: d.quantile("revenu", 0.5, by="zone"))
    _refused(lambda: d.replicate("JKn").mean("revenu", by="zone"))
    _refused(lambda: d.mean("zone"))  # a categorical analysis variable
    _refused(lambda: d.chisq("zone", "strate"))


def test_design_columns_refused():
    df = _office_file()
    _refused(lambda: SurveyDesign(df, ids="grappe", strata="zone", weights="poids"))
    _refused(lambda: SurveyDesign(df, ids="zone", weights="poids"))


def test_weighting_steps_refused():
    df = _office_file()
    _refused(lambda: Weights(df, "poids").poststratify({"zone": {"1": 100.0}}))
    status = pd.Series(np.where(df.index % 3 == 0, 2, 1))
    _refused(lambda: Weights(df.assign(statut=status), "poids").adjust_nonresponse("statut", codes={"respondent": [1], "nonrespondent": [2]}, by="zone"))
    _refused(lambda: Weights(df, "poids").rake({"zone": {"1": 100.0}, "strate": {"01": 30, "02": 30, "03": 40}}))
    _refused(lambda: Weights(df, "poids").calibrate({"zone": {"1": 100.0}}))


def test_one_type_and_distinct_text_pass():
    # all text, all numbers, and numbers beside other text ("01" is not 1) are fine
    check_distinct_labels(np.array(["1", "2"], dtype=object), "g")
    check_distinct_labels(np.array([1, 2], dtype=object), "g")
    check_distinct_labels(np.array([1, "01", "x", None], dtype=object), "g")
    check_distinct_labels(np.array([True, "1", 2.5, "2.50"], dtype=object), "g")
    with pytest.raises(SurveyError, match="given twice"):
        check_distinct_labels(np.array([2.0, "2"], dtype=object), "g")
    df = _office_file().assign(zone=lambda x: x["zone"].astype(str))
    r = SurveyDesign(df, ids="grappe", strata="strate", weights="poids").mean("revenu", by="zone")
    assert len(r) == 1 and r["n"].iloc[0] == 48
