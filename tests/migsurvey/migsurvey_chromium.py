"""Open an HTML file in headless Chromium: console messages, final DOM and a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageRun:
    console: list[str]
    dom: str
    screenshot: Path


def open_page(html: Path, screenshot: Path, *, width: int = 1300, height: int = 2400,
              timeout: float = 90) -> PageRun:
    """Load ``html`` twice (DOM dump, then screenshot) and collect console lines of both."""
    binary = chromium_binary()
    assert binary is not None
    url = Path(html).resolve().as_uri()
    console: list[str] = []
    outputs = []
    for extra in (["--dump-dom"], [f"--screenshot={screenshot}", f"--window-size={width},{height}"]):
        with tempfile.TemporaryDirectory() as profile:
            run = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                                 capture_output=True, text=True, timeout=timeout)
        console += [m.group(1) for m in CONSOLE.finditer(run.stderr)]
        outputs.append(run.stdout)
    return PageRun(console=console, dom=outputs[0], screenshot=Path(screenshot))
