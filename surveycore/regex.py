"""Regular expressions from users' files and arguments, matched in linear time.

Patterns are compiled by RE2 (``google-re2``), whose matching time grows linearly with the
text, so a pattern such as ``(a+)+$`` cannot hang on a long column name or answer as Python's
backtracking ``re`` does (Cox 2007, "Regular Expression Matching Can Be Simple And Fast").
Features RE2 does not have (back-references, look-around) are refused.
"""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_PROGRAM_MEMORY = 8 << 20
"""Memory RE2 may use for one compiled pattern (bytes); larger patterns are refused."""


class PatternError(ValueError):
    """A pattern RE2 cannot compile; ``detail`` holds RE2's reason."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@lru_cache(maxsize=256)
def compile_pattern(pattern: str):
    """Compile ``pattern`` with RE2 (linear-time matching, bounded memory).

    Raises :class:`PatternError` with RE2's reason for a pattern it cannot compile.
    """
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_MEMORY
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except Exception as exc:  # re2.error
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(str(detail)) from None
