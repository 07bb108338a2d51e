"""Files a run writes: the HTML report, indicator tables (CSV, Parquet, Excel, SDMX-CSV),
the questionnaire (XLSForm) and the weighted microdata."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from migsurvey.overwrite import Named, refuse_overwrite
from migsurvey.pipeline import TOTAL, SurveyRun
from migsurvey.report import write_report
from migsurvey.summary import indicator_output, report_content
from surveycore import SurveyError
from surveycore.spreadsheet import write_csv

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}


def combined_table(table: pd.DataFrame, objects: dict, spec: dict,
                   warnings: list[str] | tuple[str, ...] = ()) -> Any:
    """One :class:`estimation.indicators.IndicatorTable` holding every unit and grouping;
    its ``metadata["warnings"]`` holds the warnings recorded on the units' tables and
    ``warnings`` (the weighting diagnostics …), which every export carries."""
    from estimation.indicators import IndicatorTable
    from migsurvey.warning_log import merge

    dims = list(dict.fromkeys(c for g in spec["estimation"]["by"] for c in g if c in table.columns))
    meta: dict = {}
    for obj in objects.values():
        for k, v in obj.metadata.items():
            if k == "indicators":
                meta.setdefault(k, {}).update(v)
            elif k == "structural_relations":  # each unit's: persons and households
                meta.setdefault(k, []).extend(v)
            elif k not in ("by", "by_per_indicator", "design", "suppression_audit"):
                meta.setdefault(k, v)
    meta["by"] = dims
    meta["total_label"] = TOTAL
    meta["warnings"] = merge(*(o.metadata.get("warnings") for o in objects.values()),
                             warnings)
    t = table.copy()
    for c in dims:
        t[c] = t[c].astype(str)
    return IndicatorTable(table=t, metadata=meta)


def write_indicators(table: pd.DataFrame, objects: dict, out: Path, spec: dict, *,
                     warnings: list[str] | tuple[str, ...] = (),
                     protect: Sequence[Named] = ()) -> list[Path]:
    """Write the indicator table to a file (by suffix) or to a folder (formats of the spec).

    ``.sdmx.csv`` (or ``sdmx`` in ``output.formats``) writes an SDMX-CSV 2.0 message with its
    structure; every format holds the published table (nothing of a suppressed cell) and
    carries the recorded ``warnings`` in its metadata (SDMX dataflow annotations, the Excel
    ``notes`` sheet, Parquet key-value metadata, the ``<file>.json`` beside a CSV file).
    No file is written over one of ``protect`` (the inputs:
    :func:`migsurvey.overwrite.refuse_overwrite`).
    """
    result = combined_table(table, objects, spec, warnings)
    name = out.name.lower()
    if not name.endswith(".sdmx.csv") and out.suffix and out.suffix.lower() not in SUFFIXES:
        raise SurveyError("unsupported output format", argument="--out",
                          expected="a folder, or .csv, .parquet, .xlsx, .sdmx.csv", found=out.name)
    folder = out.parent if out.suffix else out
    folder.mkdir(parents=True, exist_ok=True)
    # written to a temporary folder beside the release and moved there when every file is
    # written: a failure leaves no partial release
    with staged(folder, protect) as stage:
        if name.endswith(".sdmx.csv"):
            _write_sdmx(result, stage / out.name, spec, {"sdmx"})
        elif out.suffix:
            _write(result, stage / out.name, out.suffix.lower(), spec["quality"]["suppress"])
        else:
            for fmt in spec["output"]["formats"]:
                if fmt == "sdmx":
                    _write_sdmx(result, stage / "indicators.sdmx.csv", spec)
                else:
                    _write(result, stage / f"indicators.{fmt}", f".{fmt}",
                           spec["quality"]["suppress"])
    if out.suffix:
        return [out]
    return [out / ("indicators.sdmx.csv" if fmt == "sdmx" else f"indicators.{fmt}")
            for fmt in spec["output"]["formats"]]


def _write_sdmx(result: Any, path: Path, spec: dict, formats: set | None = None) -> None:
    """The SDMX-CSV message and its structure, the disaggregation values coded by
    ``output.sdmx_codes`` (checked first: :func:`migsurvey.sdmx_codes.check_sdmx_codes`)."""
    from migsurvey.sdmx_codes import check_sdmx_codes, sdmx_value_codes

    by = result.metadata.get("by", [])
    check = spec if formats is None else {**spec, "output": {**spec["output"],
                                                              "formats": sorted(formats)}}
    check_sdmx_codes(check, {c: result.table[c].unique() for c in by if c in result.table})
    result.to_sdmx_csv(path, dimensions={"REF_AREA": spec["country"],
                                         "TIME_PERIOD": str(spec["reference_year"]),
                                         "FREQ": "A"},
                       value_codes=sdmx_value_codes(spec),
                       withhold_unreliable=spec["quality"]["suppress"])


@contextmanager
def staged(folder: Path, protect: Sequence[Named] = ()):
    """A temporary folder inside ``folder`` whose files are moved into ``folder`` when the
    block succeeds, and removed with it when the block fails (no partial release).

    Nothing is moved when a file would replace one of ``protect`` (the command's inputs,
    :func:`migsurvey.overwrite.refuse_overwrite`)."""
    stage = Path(tempfile.mkdtemp(prefix=".migsurvey-", dir=folder))
    try:
        yield stage
        refuse_overwrite([("--out", folder / f.relative_to(stage))
                          for f in sorted(stage.rglob("*")) if not f.is_dir()], protect)
        _move_into(stage, folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_into(source: Path, target: Path) -> None:
    """Move the files of ``source`` into ``target``, folder by folder (files replaced)."""
    for f in sorted(source.iterdir()):
        if f.is_dir():
            (target / f.name).mkdir(exist_ok=True)
            _move_into(f, target / f.name)
        else:
            os.replace(f, target / f.name)


def _write(result: Any, path: Path, suffix: str, withhold: bool = True) -> Path:
    """The published table (nothing of a suppressed cell) in the format of ``suffix``."""
    if suffix == ".csv":  # the metadata (and warnings) beside it when there are warnings
        return result.to_csv(path, withhold_unreliable=withhold,
                             metadata=bool(result.metadata.get("warnings")))
    if suffix == ".parquet":
        return result.to_parquet(path, withhold_unreliable=withhold)
    return result.to_excel(path, withhold_unreliable=withhold)


def write_questionnaire(path: Path, *, module: str = "core", country: str | None = None) -> Path:
    """Export a questionnaire module as an XLSForm workbook."""
    from questionnaires import load

    q = load(module, country=country) if country else load(module)
    path.parent.mkdir(parents=True, exist_ok=True)
    return q.to_xlsform(path)


def write_run_outputs(run: SurveyRun, folder: Path, *, questionnaire: bool = True,
                      report_name: str = "report.html",
                      warnings: list[str] | tuple[str, ...] = (),
                      protect: Sequence[Named] = ()) -> list[Path]:
    """Write ``report.html``, ``indicators.csv`` (the published table with flags), the formats
    of ``output.formats`` (SDMX-CSV with its structure …) and ``questionnaire.xlsx``; the
    files are moved into ``folder`` only when all are written (:func:`staged`)."""
    folder.mkdir(parents=True, exist_ok=True)
    with staged(folder, protect) as stage:
        paths = _write_run_outputs(run, stage, questionnaire=questionnaire,
                                   report_name=report_name, warnings=warnings)
    return [folder / p.relative_to(stage) for p in paths]


def _write_run_outputs(run: SurveyRun, folder: Path, *, questionnaire: bool,
                       report_name: str, warnings: list[str] | tuple[str, ...]) -> list[Path]:
    spec = run.spec
    paths = [write_report(report_content(run), folder / report_name)]
    # every file of a run is a publication: nothing of a suppressed cell is written
    from migsurvey.warning_log import merge

    result = combined_table(run.indicators, run.indicator_table, spec,
                            merge(run.diagnostics, warnings))
    withhold = spec["quality"]["suppress"]
    ind = indicator_output(run)
    pub = result.published(withhold_unreliable=withhold)
    p = folder / "indicators.csv"
    write_csv(pub[[c for c in ind.columns if c in pub.columns]], p)
    paths.append(p)
    for fmt in spec["output"]["formats"]:
        if fmt == "csv":
            continue
        if fmt == "sdmx":
            p = folder / "indicators.sdmx.csv"
            _write_sdmx(result, p, spec)
        else:
            p = _write(result, folder / f"indicators.{fmt}", f".{fmt}", withhold)
        paths.append(p)
    if questionnaire:
        paths.append(write_questionnaire(folder / "questionnaire.xlsx",
                                         country=spec["country"]))
    return paths


# ------------------------------------------------------------------------------ replicate weights

REPLICATE_PREFIX = "rw_"


def replicate_meta_path(out: Path) -> Path:
    """The file of replicate constants beside a weighted file (``<file>.replicates.json``)."""
    return out.with_name(out.name + ".replicates.json")


def replicate_columns(weighted: Any, spec: dict) -> tuple[pd.DataFrame, dict]:
    """The weighted persons with replicate weights ``rw_1 … rw_R`` and their constants.

    The replicates are those of ``estimation.variance`` (``JKn`` or ``bootstrap``) on the
    person design, each re-weighted through the recorded chain, so
    ``ReplicateDesign(file, weights="weight", repweights="rw_[0-9]+", **constants)`` gives the
    SEs of ``SurveyDesign(...).replicate(...)`` in the API.
    """
    from estimation import SurveyDesign
    from migsurvey.design_units import design_keywords, design_units

    est = spec["estimation"]
    if est["variance"] == "taylor":
        raise SurveyError("replicate weights need a replication method",
                          argument="estimation.variance", expected="JKn or bootstrap",
                          found="taylor", hint="set estimation.variance: JKn (or bootstrap)")
    persons = weighted.persons
    units, _note = design_units(persons, spec)  # certainty EAs: households are the PSUs
    d = SurveyDesign(units, **design_keywords(units),
                     weights=weighted.weights, lonely_psu=est["lonely_psu"])
    from migsurvey.replication import replicate

    r = replicate(d, spec)
    rw = r.replicate_weights()
    rw.columns = [f"{REPLICATE_PREFIX}{i + 1}" for i in range(rw.shape[1])]
    meta = {"type": r.type, "scale": float(r.scale), "rscales": [float(x) for x in r.rscales],
            "mse": bool(r.mse), "columns": list(rw.columns)}
    out = pd.concat([persons.reset_index(drop=True), rw.reset_index(drop=True)], axis=1)
    return out, meta


def write_replicate_meta(meta: dict, out: Path) -> Path:
    """Write the replicate constants beside the weighted file (``<file>.replicates.json``)."""
    import json

    p = replicate_meta_path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return p


def read_replicate_design(persons: pd.DataFrame, path: Path) -> Any:
    """A :class:`estimation.replicates.ReplicateDesign` from a weighted file with replicate
    weights and its ``.replicates.json``; ``None`` when the file has none."""
    import json

    meta_path = replicate_meta_path(path)
    cols = [c for c in persons.columns if str(c).startswith(REPLICATE_PREFIX)]
    if not meta_path.exists() or not cols:
        return None
    from estimation.replicates import ReplicateDesign

    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        kw = {"type": str(meta["type"]), "scale": float(meta["scale"]),
              "rscales": [float(x) for x in meta["rscales"]], "mse": bool(meta["mse"])}
        names = [str(c) for c in meta["columns"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SurveyError("the replicate description cannot be read", argument=str(meta_path),
                          expected="the JSON written by `migsurvey weight --replicates`",
                          found=str(exc)) from None
    # every replicate was re-weighted through the chain, so its factors no longer follow the
    # pattern of the replication method: the variance is the method's formula
    # scale · Σ rscale_r (θ_r − θ̄)² with its constants (type "other")
    kw["type"] = "other"
    return ReplicateDesign(persons, weights="weight", repweights=names, **kw)


# ------------------------------------------------------------------------------ real fieldwork


def write_interview_outputs(spec: dict, census: Any, interviews: Any, weighted: Any,
                            table: pd.DataFrame, objects: dict, folder: Path, *,
                            report_name: str = "report.html",
                            warnings: list[str] | tuple[str, ...] = (),
                            protect: Sequence[Named] = ()) -> list[Path]:
    """Write the report of a survey from its interview files, ``indicators.csv`` and the
    formats of ``output.formats``; the files are moved into ``folder`` only when all are
    written (:func:`staged`)."""
    folder.mkdir(parents=True, exist_ok=True)
    with staged(folder, protect) as stage:
        paths = _write_interview_outputs(spec, census, interviews, weighted, table, objects,
                                         stage, report_name=report_name, warnings=warnings)
    return [folder / p.relative_to(stage) for p in paths]


def _write_interview_outputs(spec: dict, census: Any, interviews: Any, weighted: Any,
                             table: pd.DataFrame, objects: dict, folder: Path, *,
                             report_name: str, warnings: list[str] | tuple[str, ...]
                             ) -> list[Path]:
    from migsurvey.summary import interview_report_content, tidy_indicators

    content = interview_report_content(spec, census, interviews, weighted, table, objects)
    paths = [write_report(content, folder / report_name)]
    # every file of a run is a publication: nothing of a suppressed cell is written
    from migsurvey.warning_log import merge

    warnings = merge(weighted.diagnostics, warnings)
    pub = combined_table(table, objects, spec, warnings).published(
        withhold_unreliable=spec["quality"]["suppress"])
    ind = tidy_indicators(table, spec)
    p = folder / "indicators.csv"
    write_csv(pub[[c for c in ind.columns if c in pub.columns]], p)
    paths.append(p)
    formats = [f for f in spec["output"]["formats"] if f != "csv"]
    if formats:
        sub = {**spec, "output": {**spec["output"], "formats": formats}}
        paths += write_indicators(table, objects, folder, sub, warnings=warnings)
    return paths
