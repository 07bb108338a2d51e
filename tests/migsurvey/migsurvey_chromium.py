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


LAYOUT_CHECK = """<script>
(function () {
  var wide = [];
  document.querySelectorAll("section, .scroll").forEach(function (el) {
    if (el.scrollWidth > el.clientWidth + 1 && !el.classList.contains("scroll")) {
      wide.push(el.id || el.className);
    }
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1) { wide.push("page"); }
  document.body.setAttribute("data-overflow", wide.join(" ") || "none");
})();
</script>"""
"""Marks ``<body data-overflow="...">`` with every card (section) wider than its box."""


def open_page(html: Path, screenshot: Path, *, width: int = 1400, height: int = 2400,
              timeout: float = 90, layout_check: bool = True) -> PageRun:
    """Load ``html`` twice at ``width`` px (DOM dump, then screenshot) and collect the console
    lines of both; with ``layout_check`` the dumped DOM says which cards overflow."""
    binary = chromium_binary()
    assert binary is not None, "chromium is needed for the report tests (.ci/run installs it)"
    page = Path(html)
    if layout_check:
        text = page.read_text(encoding="utf-8").replace("</body>", LAYOUT_CHECK + "</body>")
        page = Path(screenshot).with_suffix(".check.html")
        page.write_text(text, encoding="utf-8")
    url = page.resolve().as_uri()
    console: list[str] = []
    outputs = []
    size = f"--window-size={width},{height}"
    for extra in (["--dump-dom", size], [f"--screenshot={screenshot}", size]):
        with tempfile.TemporaryDirectory() as profile:
            run = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                                 capture_output=True, text=True, timeout=timeout)
        console += [m.group(1) for m in CONSOLE.finditer(run.stderr)]
        outputs.append(run.stdout)
    return PageRun(console=console, dom=outputs[0], screenshot=Path(screenshot))
