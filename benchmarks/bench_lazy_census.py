"""Peak memory of an office census read lazily (DuckDB) against the in-memory route.

Usage (repository root)::

    python benchmarks/bench_lazy_census.py --persons 4000000

A census with office column names (``EA_CODE`` text with leading zeros, ``HH_NO``, ``SEX``
1/2, ``AGE``, ``COB``, ``REGION``) is written once with numpy to a folder of Parquet parts and
to one Parquet file (``benchmarks/.census/office_<N>``). Each route then runs in a fresh
process: read the census through the ``columns:`` mapping, build the EA frame, select 200 EAs
and list their households, and count the census by region × sex × age group (calibration
targets). The folder is read lazily through DuckDB (:mod:`migsurvey.io_census`); the single
file is read into pandas (:class:`migsurvey.inputs.PersonCensus`). Prints one JSON line per
route: persons, seconds and the peak resident memory of the process; writes them to
``benchmarks/results/lazy_census.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".census"

SPEC = """\
country: KEN
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
frame: {census: CENSUS}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 200}
weighting:
  - nonresponse: {cells: [screen]}
  - calibrate: {margins: [[region, sex, age_group]], method: raking}
estimation: {indicators: [MI1.1], by: [[], [sex]]}
"""


def write_census(persons: int) -> Path:
    import numpy as np
    import pandas as pd

    folder = CACHE / f"office_{persons}"
    if (folder / "one.parquet").exists():
        return folder
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    n_hh = persons // 4
    n_ea = max(n_hh // 100, 10)
    hh_ea = np.sort(rng.integers(0, n_ea, n_hh))
    size = rng.integers(1, 8, n_hh)
    size = np.maximum(1, np.round(size * persons / size.sum())).astype(int)
    p_hh = np.repeat(np.arange(n_hh), size)
    ea = hh_ea[p_hh]
    prevalence = np.where(rng.random(n_ea) < 0.2, 0.3, 0.02)
    codes = np.array([f"{i:06d}" for i in range(1, n_ea + 1)])
    df = pd.DataFrame({
        "EA_CODE": codes[ea], "HH_NO": p_hh + 1,
        "REGION": ea % 8 + 1, "SEX": rng.integers(1, 3, p_hh.size),
        "AGE": rng.integers(0, 95, p_hh.size),
        "COB": np.where(rng.random(p_hh.size) < prevalence[ea], "UGA", "KEN"),
    })
    for i, part in enumerate(np.array_split(np.arange(len(df)), 8)):
        df.iloc[part].to_parquet(folder / "parts" / f"part-{i}.parquet", index=False)
    df.to_parquet(folder / "one.parquet", index=False)
    return folder


RUN = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from migsurvey.spec import parse_spec
from migsurvey.pipeline import load_census, build_frame, allocate_sample, select_sample, census_targets
spec = parse_spec({spec!r})
t = time.perf_counter()
c = load_census(spec)
frame = build_frame(c.eas, spec)
psus, hh = select_sample(frame, allocate_sample(frame, spec), c, spec, np.random.default_rng(1))
targets = census_targets(c, [["region", "sex", "age_group"]])
print(json.dumps({{"route": {route!r}, "persons": {persons}, "eas": len(c.eas),
                   "households_selected": len(hh),
                   "seconds": round(time.perf_counter() - t, 2),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                        / 1024, 1)}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=4_000_000)
    args = ap.parse_args()
    folder = write_census(args.persons)
    rows = []
    for route, census in (("lazy (Parquet folder, DuckDB)", folder / "parts"),
                          ("in memory (one Parquet file, pandas)", folder / "one.parquet")):
        code = RUN.format(root=str(ROOT), spec=SPEC.replace("CENSUS", str(census)),
                          route=route, persons=args.persons)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    (ROOT / "benchmarks" / "results" / "lazy_census.json").write_text(
        json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
