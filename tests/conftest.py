"""Shared test fixtures: the bundled data sets and R reference cases."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

TESTS = Path(__file__).parent
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("ci")


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


@pytest.fixture
def api():
    """The API samples keyed by name (fresh copies)."""
    return {n: load_data(n) for n in ("apisrs", "apistrat", "apiclus1", "apiclus2")}
