"""A tiny progress printer on standard error (no dependency, silent when asked)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Print ``label [#####     ] done/total  elapsed`` lines to ``stream``.

    Redraws in place on a terminal; prints one line per update (at most every ``every``
    seconds) otherwise, so logs of scripted runs stay short. ``quiet=True`` prints nothing.
    """

    def __init__(self, label: str, total: int, *, quiet: bool = False, stream: TextIO | None = None,
                 every: float = 2.0) -> None:
        self.label, self.total, self.quiet = label, max(int(total), 1), quiet
        self.stream = stream if stream is not None else sys.stderr
        self.start = self._last = time.perf_counter()
        self.every = every
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, done: int, note: str = "") -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        final = done >= self.total
        if not (self.tty or final or now - self._last >= self.every):
            return
        self._last = now
        width = 24
        fill = int(width * min(done, self.total) / self.total)
        line = (f"{self.label} [{'#' * fill}{' ' * (width - fill)}] {done}/{self.total}"
                f"  {now - self.start:6.1f} s {note}")
        end = "\n" if (final or not self.tty) else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()

    def stage(self, name: str, done: int, total: int) -> None:
        """Callback form used by the pipeline: ``progress(stage, done, total)``."""
        self.total = max(total, 1)
        self.update(done, name)
