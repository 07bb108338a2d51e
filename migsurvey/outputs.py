"""Files a run writes: the HTML report, indicator tables (CSV, Parquet, Excel, SDMX-CSV),
the questionnaire (XLSForm) and the weighted microdata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from migsurvey.pipeline import TOTAL, SurveyRun
from migsurvey.report import write_report
from migsurvey.summary import indicator_output, report_content
from surveycore import SurveyError
from surveycore.spreadsheet import write_csv

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}


def combined_table(table: pd.DataFrame, objects: dict, spec: dict) -> Any:
    """One :class:`estimation.indicators.IndicatorTable` holding every unit and grouping."""
    from estimation.indicators import IndicatorTable

    dims = list(dict.fromkeys(c for g in spec["estimation"]["by"] for c in g if c in table.columns))
    meta: dict = {}
    for obj in objects.values():
        for k, v in obj.metadata.items():
            if k == "indicators":
                meta.setdefault(k, {}).update(v)
            elif k not in ("by", "by_per_indicator", "design", "suppression_audit"):
                meta.setdefault(k, v)
    meta["by"] = dims
    meta["total_label"] = TOTAL
    t = table.copy()
    for c in dims:
        t[c] = t[c].astype(str)
    return IndicatorTable(table=t, metadata=meta)


def write_indicators(table: pd.DataFrame, objects: dict, out: Path, spec: dict) -> list[Path]:
    """Write the indicator table to a file (by suffix) or to a folder (formats of the spec).

    ``.sdmx.csv`` (or ``sdmx`` in ``output.formats``) writes an SDMX-CSV 2.0 message of the
    published values; the other formats hold the full table with flags (analysts' view).
    """
    result = combined_table(table, objects, spec)
    dims_fixed = {"REF_AREA": spec["country"], "TIME_PERIOD": str(spec["reference_year"]),
                  "FREQ": "A"}
    name = out.name.lower()
    if name.endswith(".sdmx.csv"):
        result.to_sdmx_csv(out, dimensions=dims_fixed)
        return [out]
    if out.suffix.lower() in SUFFIXES:
        out.parent.mkdir(parents=True, exist_ok=True)
        return [_write(result, out, out.suffix.lower())]
    if out.suffix:
        raise SurveyError("unsupported output format", argument="--out",
                          expected="a folder, or .csv, .parquet, .xlsx, .sdmx.csv", found=out.name)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in spec["output"]["formats"]:
        if fmt == "sdmx":
            p = out / "indicators.sdmx.csv"
            result.to_sdmx_csv(p, dimensions=dims_fixed)
            paths.append(p)
        else:
            paths.append(_write(result, out / f"indicators.{fmt}", f".{fmt}"))
    return paths


def _write(result: Any, path: Path, suffix: str) -> Path:
    if suffix == ".csv":
        write_csv(result.table, path)
        return path
    if suffix == ".parquet":
        return result.to_parquet(path, published=False)
    return result.to_excel(path, published=False)


def write_questionnaire(path: Path, *, module: str = "core", country: str | None = None) -> Path:
    """Export a questionnaire module as an XLSForm workbook."""
    from questionnaires import load

    q = load(module, country=country) if country else load(module)
    path.parent.mkdir(parents=True, exist_ok=True)
    return q.to_xlsform(path)


def write_run_outputs(run: SurveyRun, folder: Path, *, questionnaire: bool = True,
                      report_name: str = "report.html") -> list[Path]:
    """Write ``report.html``, ``indicators.csv`` (full table with flags), the formats of
    ``output.formats`` (SDMX-CSV of published values …) and ``questionnaire.xlsx``."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = run.spec
    paths = [write_report(report_content(run), folder / report_name)]
    ind = indicator_output(run)
    p = folder / "indicators.csv"
    write_csv(ind, p)
    paths.append(p)
    result = combined_table(run.indicators, run.indicator_table, spec)
    for fmt in spec["output"]["formats"]:
        if fmt == "csv":
            continue
        if fmt == "sdmx":
            p = folder / "indicators.sdmx.csv"
            result.to_sdmx_csv(p, dimensions={"REF_AREA": spec["country"],
                                              "TIME_PERIOD": str(spec["reference_year"]),
                                              "FREQ": "A"})
        else:
            p = _write(result, folder / f"indicators.{fmt}", f".{fmt}")
        paths.append(p)
    if questionnaire:
        paths.append(write_questionnaire(folder / "questionnaire.xlsx",
                                         country=spec["country"]))
    return paths
