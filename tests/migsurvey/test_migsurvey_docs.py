"""The examples of the user guide and of the migsurvey modules run as doctests."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["getting-started.md", "survey-design.md", "guide-estimation.md", "specification.md"]


@pytest.mark.parametrize("page", PAGES)
def test_user_guide_examples(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("module", ["migsurvey.spec", "migsurvey.io", "migsurvey.synthetic"])
def test_module_examples(module):
    import importlib

    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
