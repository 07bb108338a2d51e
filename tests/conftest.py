"""Test-wide settings: a deterministic hypothesis profile and shared fixtures."""

from __future__ import annotations

import pytest
from hypothesis import settings
from reference_data import load_data

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("ci")


@pytest.fixture
def api():
    """The API samples keyed by name (fresh copies)."""
    return {n: load_data(n) for n in ("apisrs", "apistrat", "apiclus1", "apiclus2")}
