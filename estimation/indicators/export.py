"""Exports of indicator tables: tidy CSV, Parquet, Excel and SDMX-CSV.

Every function takes an :class:`~estimation.indicators.IndicatorTable` (anything with a tidy
``.table`` frame and a ``.metadata`` dict) and never modifies it.

* ``published=True`` (default) writes the *publication* view (:func:`published_table`):
  suppressed cells lose their estimate, SE, CI, CV and counts; so do cells judged too
  unreliable to publish when ``withhold_unreliable=True``.
* SDMX-CSV follows the SDMX-CSV 2.0 field guide (``sdmx-twg/sdmx-csv``): the columns
  ``STRUCTURE, STRUCTURE_ID, ACTION``, then the dimensions, ``OBS_VALUE``, then attributes,
  with the SDMX-ML structure message (data structure definition, code lists) written beside
  it (:mod:`estimation.indicators.sdmx`). Observation status (CL_OBS_STATUS): ``A`` normal
  value, ``U`` low reliability. Confidentiality status (CL_CONF_STATUS): ``F`` free, ``C``
  confidential (``A`` primary, ``D`` secondary when the release publishes statuses). A value
  not published is written ``NaN``. Uncertainty is carried in the attributes ``SE``, ``CV``,
  ``CI_LOWER``, ``CI_UPPER`` and the experimental-statistics marker in ``EXPERIMENTAL``.
  Model-based (small area) rows have ``OBS_STATUS = "E"``, estimated value (override
  with ``obs_status={"model_based": ...}``), and their own ``MEASURE`` code (``SHARE_MODEL``
  beside the direct ``SHARE``), so that no series key holds two observations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.spreadsheet import write_csv, write_excel

_VALUE_COLS = ("estimate", "se", "ci_low", "ci_high", "cv", "n", "n_contributors", "df")

from estimation.indicators.sdmx import (  # noqa: E402
    CONF_STATUS,
    OBS_STATUS,
    area_code,
    default_codes,
    parse_structure_id,
    structure_message,
)

COUNT_COLS = ("n_contributors",)
MODEL_MEASURE_SUFFIX = "_MODEL"
"""Added to the SDMX ``MEASURE`` code of a model-based (small-area) row (``SHARE_MODEL``): the
direct and the model-based estimate of a cell are two series, each key one observation."""
CONFIDENTIAL = "confidential"
"""Status of a suppressed cell in a publication that does not say primary or secondary."""


def published_table(result: Any, *, withhold_unreliable: bool = True) -> pd.DataFrame:
    """The table as it may be published: nothing of a suppressed cell but its status.

    Cells with ``suppressed != ""`` lose every value column (estimate, SE, CI, CV, counts)
    and their quality ``flag`` and ``reliability``; their status reads ``"primary"`` or
    ``"secondary"`` only when the suppression rule publishes statuses
    (``SuppressionRule(publish_status=True)``), else ``"confidential"``. The contributor
    counts column is removed unless the rule publishes counts
    (``SuppressionRule(publish_counts=True)``). Cells with
    ``reliability == "unreliable"`` lose their values too when ``withhold_unreliable``, and so
    do the other measures of the same indicator in the same cell (the count and the share of
    one domain are one estimate on two scales: a share times the census population of a
    calibrated domain gives back its count). Those measures then read ``unreliable`` with the
    flag that withheld the cell.

    Withholding unreliable cells is a quality choice, not disclosure control: a withheld
    cell can be recovered by differencing the published cells of its lines. Confidential
    cells are protected by the suppression of the release (``suppressed``), which assumes
    that every cell it does not suppress is published, unreliable ones included.
    """
    t = result.table.copy()
    rule = result.metadata.get("suppression") or {}
    if withhold_unreliable:
        _tie_unreliable(t, result.metadata.get("by"))
    hide = _hidden(t, withhold_unreliable)
    for c in _VALUE_COLS:
        if c in t.columns:
            t[c] = t[c].astype(float).mask(hide)
    if "suppressed" in t.columns:
        sup = t["suppressed"].astype(str).ne("")
        for c in ("flag", "reliability"):
            if c in t.columns:
                t[c] = t[c].astype(object).mask(sup, "")
        audit = result.metadata.get("suppression_audit") or {}
        shown = {code for code, e in audit.items() if e.get("status_published", False)}
        keep = t["indicator"].isin(shown) if "indicator" in t.columns and rule.get(
            "publish_status", False) else pd.Series(False, index=t.index)
        t["suppressed"] = t["suppressed"].astype(object).mask(sup & ~keep, CONFIDENTIAL)
    if rule and not rule.get("publish_counts", False):
        t = t.drop(columns=[c for c in COUNT_COLS if c in t.columns])
    return t


def _tie_unreliable(t: pd.DataFrame, by: list[str] | None) -> None:
    """Mark every measure of an indicator's cell unreliable when one of them is (in place).

    A cell is the indicator and its disaggregation values (``by``); direct and model-based
    rows (``model_based``) are separate cells, so a model-based estimate stays published
    beside a withheld direct one.
    """
    if "reliability" not in t.columns or "indicator" not in t.columns or by is None:
        return
    dims = [c for c in by if c in t.columns] + (["model_based"] if "model_based" in t.columns
                                                else [])
    bad = t["reliability"].astype(str).eq("unreliable")
    if not bad.any():
        return
    keys = t[["indicator", *dims]].astype(str).agg("\x1f".join, axis=1)
    governing = keys[bad].drop_duplicates()
    tied = keys.isin(governing) & ~bad
    if not tied.any():
        return
    t.loc[tied, "reliability"] = "unreliable"
    if "flag" in t.columns:
        flag_of = pd.Series(t.loc[bad, "flag"].to_numpy(), index=keys[bad].to_numpy())
        flag_of = flag_of[~flag_of.index.duplicated()]
        t.loc[tied, "flag"] = keys[tied].map(flag_of).to_numpy()


def _hidden(t: pd.DataFrame, withhold_unreliable: bool) -> pd.Series:
    hide = pd.Series(False, index=t.index)
    if "suppressed" in t.columns:
        hide |= t["suppressed"].astype(str) != ""
    if withhold_unreliable and "reliability" in t.columns:
        hide |= t["reliability"].astype(str) == "unreliable"
    return hide


def result_warnings(result: Any) -> list[str]:
    """The warnings recorded in ``result.metadata["warnings"]`` (weighting diagnostics and
    other :class:`surveycore.SurveyWarning` messages): every export carries them."""
    return [str(w) for w in (result.metadata.get("warnings") or [])]


def _view(result: Any, published: bool, withhold_unreliable: bool) -> pd.DataFrame:
    if published:
        return published_table(result, withhold_unreliable=withhold_unreliable)
    return result.table.copy()


def _stringify_dims(t: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    for c in by:
        if c in t.columns:
            t[c] = t[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                            else str(v))
    return t


def to_csv(result: Any, path: str | Path, *, published: bool = True,
           withhold_unreliable: bool = True, metadata: bool = True) -> Path:
    """Write the tidy table as CSV (UTF-8), and its metadata beside it as ``<path>.json``
    (with the recorded ``warnings``).

    Returns the CSV path.
    """
    path = Path(path)
    write_csv(_view(result, published, withhold_unreliable), path)
    if metadata:
        path.with_suffix(path.suffix + ".json").write_text(
            json.dumps(result.metadata, indent=2, default=str), encoding="utf-8")
    return path


def to_parquet(result: Any, path: str | Path, *, published: bool = True,
               withhold_unreliable: bool = True) -> Path:
    """Write the tidy table as Parquet (pyarrow); the metadata go in the file's key-value
    metadata under ``b"migsurvey"`` (JSON) and the recorded warnings under ``b"warnings"``
    (a JSON list). Disaggregation columns are written as strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    t = _stringify_dims(_view(result, published, withhold_unreliable),
                        list(result.metadata.get("by", [])))
    table = pa.Table.from_pandas(t, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"migsurvey"] = json.dumps(result.metadata, default=str).encode("utf-8")
    meta[b"warnings"] = json.dumps(result_warnings(result)).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


def to_excel(result: Any, path: str | Path, *, published: bool = True,
             withhold_unreliable: bool = True) -> Path:
    """Write an Excel workbook (openpyxl) with sheets ``table``, ``indicators`` and
    ``metadata``, and ``notes`` (one recorded warning per row) when there are warnings."""
    path = Path(path)
    t = _view(result, published, withhold_unreliable)
    meta = result.metadata
    inds = pd.DataFrame(
        [
            {
                "code": d["code"],
                "name": d["name"],
                "experimental": d["experimental"],
                "unit": d["unit"],
                "measures": "; ".join(
                    f"{m['name']} ({m['kind']}: {m['numerator']}"
                    + (f" / {m['denominator']}" if m["denominator"] else "")
                    + (f", universe {m['universe']}" if m["universe"] else "")
                    + ")"
                    for m in d["measures"]
                ),
                "definition": d["definition"],
                "source": d["source"],
            }
            for d in meta.get("indicators", {}).values()
        ]
    )
    flat = pd.DataFrame(
        [(k, json.dumps(v, default=str) if not isinstance(v, str) else v)
         for k, v in meta.items() if k != "indicators"],
        columns=["key", "value"],
    )
    sheets = {"table": t, "indicators": inds, "metadata": flat}
    if result_warnings(result):
        sheets["notes"] = pd.DataFrame({"warning": result_warnings(result)})
    write_excel(path, sheets)
    return path


def to_sdmx_csv(
    result: Any,
    path: str | Path | None = None,
    *,
    structure_id: str = "MIGSURVEY:DF_MIGRATION(1.0)",
    action: str = "I",
    dimensions: Mapping[str, str] | None = None,
    dimension_names: Mapping[str, str] | None = None,
    value_codes: Mapping[str, Mapping[Any, str]] | None = None,
    obs_status: Mapping[str, str] | None = None,
    conf_status: Mapping[str, str] | None = None,
    ref_area: str = "alpha3",
    withhold_unreliable: bool = True,
    uncertainty: bool = True,
    structure: bool = True,
) -> pd.DataFrame:
    """SDMX-CSV 2.0 data message of the published table; written to ``path`` if given, with
    its SDMX-ML structure message beside it.

    Parameters
    ----------
    result : IndicatorTable
        The table.
    path : str or Path, optional
        Where to write the CSV; the structure goes to ``<path without .csv>.structure.xml``.
    structure_id : str
        ``AGENCY:ID(VERSION)`` of the dataflow.
    action : {"I", "A", "R", "D"}
        SDMX action (information, append, replace, delete).
    dimensions : mapping, optional
        Fixed dimensions added before the indicator, e.g. ``{"REF_AREA": "KEN",
        "TIME_PERIOD": "2024", "FREQ": "A"}``.
    dimension_names : mapping, optional
        Disaggregation column → SDMX dimension id (default: the column name in upper case;
        ``age_group`` → ``AGE``).
    value_codes : mapping, optional
        Disaggregation column → {value: code}; by default sexes are coded by CL_SEX (``F``,
        ``M``) and age classes by CL_AGE (``0-14`` → ``Y0T14``, ``65+`` → ``Y_GE65``); the
        total level is ``_T``.
    obs_status, conf_status : mapping, optional
        Override :data:`~estimation.indicators.sdmx.OBS_STATUS` (reliability → code) and
        :data:`~estimation.indicators.sdmx.CONF_STATUS` (published status → code).
    ref_area : {"alpha3", "alpha2"}
        ISO 3166-1 form of ``REF_AREA``.
    withhold_unreliable : bool
        Publish no value for estimates too unreliable to publish (``OBS_STATUS=U``).
    uncertainty : bool
        Add the ``SE, CV, CI_LOWER, CI_UPPER`` attributes.
    structure : bool
        Write the structure message beside the data (when ``path`` is given).

    Returns
    -------
    pandas.DataFrame
        The message, one row per observation, all values as published (``NaN`` where no value
        is published).
    """
    if action not in ("I", "A", "R", "D"):
        raise SurveyError("unknown SDMX action", argument="action",
                          expected="I, A, R or D", found=repr(action))
    parse_structure_id(structure_id)
    obs_map = {**OBS_STATUS, **(obs_status or {})}
    conf_map = {**CONF_STATUS, **(conf_status or {})}
    t = published_table(result, withhold_unreliable=withhold_unreliable)
    meta = result.metadata
    by = list(meta.get("by", []))
    names = {c: ("AGE" if c.lower() in ("age_group", "age_class") else c.upper()) for c in by}
    names.update(dimension_names or {})
    codes = {k: v.get("sdmx_code", k) for k, v in meta.get("indicators", {}).items()}
    fixed = dict(dimensions or {})
    if "REF_AREA" in fixed:
        fixed["REF_AREA"] = area_code(str(fixed["REF_AREA"]), ref_area)
    out = pd.DataFrame(index=t.index)
    out["STRUCTURE"] = "dataflow"
    out["STRUCTURE_ID"] = structure_id
    out["ACTION"] = action
    for k, v in fixed.items():
        out[k] = str(v)
    out["INDICATOR"] = t["indicator"].map(lambda c: codes.get(c, c))
    out["MEASURE"] = t["measure"].astype(str).str.upper()
    if "model_based" in t.columns:  # its own series: one observation per key
        out.loc[t["model_based"].astype(bool), "MEASURE"] += MODEL_MEASURE_SUFFIX
    codes_for = value_codes or {}
    for c in by:
        col = _stringify_dims(t[[c]].copy(), [c])[c]
        if c in codes_for:
            col = col.map(lambda v, m=codes_for[c]: v if v == "_T" else m.get(v, v))
        elif (f := default_codes(c)) is not None:
            col = col.map(lambda v, f=f: v if v == "_T" else f(v))
        out[names[c]] = col
    dims = [*fixed, "INDICATOR", "MEASURE", *(names[c] for c in by)]
    out["OBS_VALUE"] = t["estimate"]
    rel = t["reliability"].astype(str) if "reliability" in t.columns else pd.Series(
        "reliable", index=t.index)
    sup = t["suppressed"].astype(str) if "suppressed" in t.columns else pd.Series("", t.index)
    out["OBS_STATUS"] = rel.map(obs_map).fillna("")
    if "model_based" in t.columns:  # Fay–Herriot rows: "E", estimated value (unless withheld)
        model = t["model_based"].astype(bool) & (pd.Series(rel, index=t.index) != "unreliable")
        out.loc[model, "OBS_STATUS"] = obs_map.get("model_based", "E")
    out.loc[sup != "", "OBS_STATUS"] = ""
    out["CONF_STATUS"] = sup.map(conf_map)
    out["UNIT_MEASURE"] = t["unit_measure"].astype(str) if "unit_measure" in t.columns else ""
    out["UNIT_MULT"] = "0"
    if uncertainty:
        out["SE"] = t["se"]
        out["CV"] = t["cv"]
        out["CI_LOWER"] = t["ci_low"]
        out["CI_UPPER"] = t["ci_high"]
    if "experimental" in t.columns:
        out["EXPERIMENTAL"] = np.where(t["experimental"].astype(bool), "true", "false")
    out = out.reset_index(drop=True)
    repeated = out.duplicated(dims)
    if repeated.any():
        raise SurveyError("two observations under one SDMX series key",
                          argument="result", expected="one row per indicator, measure and cell",
                          found=", ".join(out.loc[repeated, dims].astype(str)
                                          .agg(":".join, axis=1).head(3)))
    if path is not None:
        path = Path(path)
        xml = None
        if structure:  # built first: data whose structure is refused is not written either
            attrs = [c for c in out.columns[out.columns.get_loc("OBS_VALUE") + 1:]]
            msg, sdmx = structure_message(out, structure_id=structure_id, dimensions=dims,
                                          attributes=attrs, warnings=result_warnings(result))
            xml = sdmx.to_xml(msg, pretty_print=True)
        write_csv(out, path, encoding="utf-8", na_rep="NaN")
        if xml is not None:
            sdmx_structure_path(path).write_bytes(xml)
    return out


def sdmx_structure_path(path: str | Path) -> Path:
    """Where :func:`to_sdmx_csv` writes the structure message of the data at ``path``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".csv") + ".structure.xml")
