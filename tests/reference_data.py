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
