"""No placeholder text anywhere a user can see: docs, templates, question modules, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from estimation.indicators import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDERS = ("to verify", "todo", "tbd", "project brief", "not confirmed", "lorem ipsum")
USER_FILES = [
    *ROOT.glob("README.md"), *ROOT.glob("docs/*.md"),
    *ROOT.glob("migsurvey/templates/*"), *ROOT.glob("migsurvey/specs/*"),
    *ROOT.glob("questionnaires/modules/**/*.yaml"), *ROOT.glob("questionnaires/data/**/*"),
]


@pytest.mark.parametrize("path", [p for p in USER_FILES if p.is_file()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_user_visible_files_hold_no_placeholder(path):
    text = path.read_text(encoding="utf-8", errors="replace").lower()
    assert not [w for w in PLACEHOLDERS if w in text]


def test_published_indicator_metadata_holds_no_placeholder():
    text = json.dumps({code: ind.describe() for code, ind in REGISTRY.items()},
                      default=str).lower()
    assert not [w for w in PLACEHOLDERS if w in text]
