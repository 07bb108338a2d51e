"""Shared fixtures: a small survey specification and one run of it."""

from __future__ import annotations

import pytest
from migsurvey_support import small_spec_text

from migsurvey.spec import parse_spec


@pytest.fixture(scope="session")
def small_spec():
    return parse_spec(small_spec_text(), source="small.yaml")


@pytest.fixture(scope="session")
def small_run(small_spec):
    from migsurvey.pipeline import run_survey

    return run_survey(small_spec, seed=11)
