"""Time the peers (R survey, svy) on the shared workload, one task at a time.

Usage (from the repository root)::

    python benchmarks/peers.py TASK [TASK ...]

Needs the workload in ``bench-data/`` (``python ../shared/bench/make_bench_data.py bench-data``),
``Rscript`` with the survey package, and svy in its own virtual environment (``SVY_PYTHON``,
default ``/work/svy-venv/bin/python``). Prints one JSON line per peer and task; peers that are
not installed are reported as such.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("MIGSURVEY_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
DATA = ROOT / "bench-data"
SVY_PYTHON = os.environ.get("SVY_PYTHON", "/work/svy-venv/bin/python")


def _run(cmd: list[str]) -> dict:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        return {"error": str(exc)[:300]}
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def peer(name: str, task: str) -> dict:
    """Seconds a peer needs for ``task`` (data loading excluded, as in the shared scripts)."""
    if name == "R survey":
        if not shutil.which("Rscript"):
            return {"pkg": name, "task": task, "error": "Rscript not installed"}
        return _run(["Rscript", str(SHARED_BENCH / "peer_r.R"), str(DATA), task])
    if not Path(SVY_PYTHON).exists():
        return {"pkg": name, "task": task, "error": f"{SVY_PYTHON} not found"}
    return _run(["/usr/bin/time", "-f", "MAXRSS %M", SVY_PYTHON, str(SHARED_BENCH / "peer_svy.py"), str(DATA), task])


def peer_memory(name: str, task: str) -> dict:
    """Like :func:`peer` but also the peak resident memory of the whole process (KiB)."""
    script = SHARED_BENCH / ("peer_r.R" if name == "R survey" else "peer_svy.py")
    exe = ["Rscript"] if name == "R survey" else [SVY_PYTHON]
    try:
        out = subprocess.run(["/usr/bin/time", "-v", *exe, str(script), str(DATA), task], capture_output=True, text=True, timeout=1800, check=True)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"pkg": name, "task": task, "error": str(exc)[:300]}
    result = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])
    for ln in out.stderr.splitlines():
        if "Maximum resident set size" in ln:
            result["max_rss_mib"] = int(ln.split(":")[1]) / 1024
    return result


if __name__ == "__main__":
    for task in sys.argv[1:]:
        for name in ("R survey", "svy"):
            print(json.dumps(peer_memory(name, task)))
