"""Every plain ```python block in docs/*.md runs.

The blocks of a page run in order in one namespace (a page is one worked example), in a temporary
working directory so that the files an example writes do not land in the checkout. Blocks written as
``>>>`` sessions are doctests and run in ``test_docstring_examples.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def code_blocks(text: str) -> list[str]:
    """The ```python blocks of a page that are plain code (not ``>>>`` doctest sessions)."""
    return [b for b in BLOCK.findall(text) if not b.lstrip().startswith(">>>")]


PAGES = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md") if code_blocks(p.read_text())
)


def test_code_blocks_are_found():
    assert code_blocks("x\n```python\na = 1\n```\n```python\n>>> 1\n1\n```\n") == ["a = 1\n"]
    assert PAGES, "no documentation page with python code blocks"


@pytest.mark.parametrize("page", PAGES)
def test_documentation_code(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(code_blocks((ROOT / page).read_text()), start=1):
        failure = None
        try:
            exec(compile(block, f"{page} [block {number}]", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - report any failure with its location
            failure = f"{page}, block {number}: {type(exc).__name__}: {exc}"
        if failure is not None:
            pytest.fail(failure, pytrace=False)
