"""Bundled data sets and R reference cases for the tests (the tests never read ../shared)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

TESTS = Path(__file__).parent


@cache
def _cases() -> dict:
    data = json.loads((TESTS / "reference" / "r_survey_reference.json").read_text())
    return {c["id"]: c for c in data["cases"]}


def reference_case(case_id: str) -> dict:
    """One case of the R survey reference file (values, design, note)."""
    return _cases()[case_id]


@cache
def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(TESTS / "data" / f"{name}.csv")


def load_data(name: str) -> pd.DataFrame:
    """A fresh copy of a bundled data set (``tests/data/<name>.csv``)."""
    return _data(name).copy()


APICLUS1_TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
APICLUS1_SCHWIDE = {"No": 1072.0, "Yes": 5122.0}


@cache
def apiclus1_design(record: str, engine: str = "taylor"):
    """apiclus1 (``ids=dnum``, ``fpc``) with the weighting records of the R scripts:
    ``none``, ``cal`` (``calibrate(~sch.wide + api99)``), ``ps`` (``postStratify(~stype)``)
    and ``rake`` (R's ``rake`` on stype and sch.wide, its back-fitting record); ``engine``
    ``"jk1"`` gives R's ``as.svrepdesign(type = "JK1")``."""
    from estimation import SurveyDesign
    from weighting import Weights

    df = load_data("apiclus1")
    w = Weights(df, "pw")
    if record == "cal":
        w = w.calibrate({"sch.wide": APICLUS1_SCHWIDE, "api99": 3914069.0})
    elif record == "ps":
        w = w.poststratify({"stype": APICLUS1_TYPES})
    elif record == "rake":
        w = w.rake({"stype": APICLUS1_TYPES, "sch.wide": APICLUS1_SCHWIDE}, tol=1,
                   tol_units="absolute", variance="survey")
    d = SurveyDesign(df, ids="dnum", weights=w, fpc="fpc")
    return d.replicate("JK1") if engine == "jk1" else d
