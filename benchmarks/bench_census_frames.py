"""Frames from a person-level census of 10⁷ or 10⁸ rows, read lazily: DuckDB and PySpark.

Usage (repository root)::

    python benchmarks/bench_census_frames.py --persons 10000000 --engine duckdb
    python benchmarks/bench_census_frames.py --persons 10000000 --engine spark

The census is written once to Parquet by DuckDB (``benchmarks/.census/persons_<N>.parquet``):
EA codes as text with leading zeros, about 4 persons per household, 100 households per EA, a
foreign-born flag with 3 % unknown answers. ``Frame.from_microdata`` then aggregates persons →
households → EAs on the engine named, through the same narwhals code path as pandas; only the
EA-level result (one row per EA) is brought into Python. Prints one JSON line: engine, persons,
EAs, seconds and the peak resident memory of this Python process (the Spark JVM's memory is
bounded by ``spark.driver.memory``, printed too).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sampling import Frame  # noqa: E402

CACHE = ROOT / "benchmarks" / ".census"


def write_census(persons: int) -> Path:
    import duckdb

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"persons_{persons}.parquet"
    if path.exists():
        return path
    duckdb.sql(f"""
        COPY (
          SELECT lpad(CAST(i // 400 AS VARCHAR), 7, '0') AS EA_CODE,
                 CAST((i // 4) % 100 AS INTEGER) AS HH_NO,
                 'R' || CAST((i // 400) % 8 AS VARCHAR) AS REGION,
                 CASE WHEN hash(i) % 100 < 3 THEN NULL
                      WHEN hash(i * 7) % 100 < 9 THEN 1 ELSE 0 END AS FB
          FROM range({persons}) t(i)
        ) TO '{path}' (FORMAT parquet)
    """)
    return path


def build(native) -> int:
    fr = Frame.from_microdata(native, ea="EA_CODE", household="HH_NO", by="REGION",
                              flags={"foreign_born": "FB"}, count_unknown=True)
    return len(fr.data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=10_000_000)
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    ap.add_argument("--driver-memory", default="4g")
    args = ap.parse_args()
    path = write_census(args.persons)
    t0 = time.perf_counter()
    if args.engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.sql("SET memory_limit='4GB'")
        eas = build(con.read_parquet(str(path)))
    else:
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[2]")
                 .config("spark.driver.memory", args.driver_memory)
                 .config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "8").getOrCreate())
        eas = build(spark.read.parquet(str(path)))
        spark.stop()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": args.engine, "persons": args.persons, "eas": eas,
                      "seconds": round(seconds, 2), "python_peak_mb": round(peak),
                      "jvm_memory_bound": args.driver_memory if args.engine == "spark" else None}))


if __name__ == "__main__":
    main()
