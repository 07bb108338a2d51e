"""Exports of indicator tables: tidy CSV, Parquet, Excel and SDMX-CSV.

Every function takes an :class:`~estimation.indicators.IndicatorTable` (anything with a tidy
``.table`` frame and a ``.metadata`` dict) and never modifies it.

* ``published=True`` (default) writes the *publication* view (:func:`published_table`):
  suppressed cells lose their estimate, SE, CI, CV and counts; so do cells judged too
  unreliable to publish when ``withhold_unreliable=True``.
* SDMX-CSV follows the SDMX-CSV 2.0 field guide (``sdmx-twg/sdmx-csv``): the columns
  ``STRUCTURE, STRUCTURE_ID, ACTION``, then the dimensions, ``OBS_VALUE``, then attributes.
  Observation status (code list CL_OBS_STATUS): ``A`` normal value, ``E`` estimated value (here:
  use with caution), ``U`` low reliability. Confidentiality status (CL_CONF_STATUS): ``F`` free,
  ``C`` confidential (primary), ``D`` secondary confidentiality set by the sender (``A``,
  "primary confidentiality due to small counts", can be chosen instead of ``C``). Uncertainty
  is carried in the attributes ``SE``, ``CV``, ``CI_LOWER``, ``CI_UPPER`` and the
  experimental-statistics marker in ``EXPERIMENTAL``. Model-based (small area) rows have
  ``OBS_STATUS = "E"`` (override with ``obs_status={"model_based": ...}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError

_VALUE_COLS = ("estimate", "se", "ci_low", "ci_high", "cv", "n", "n_contributors", "df")

OBS_STATUS = {"reliable": "A", "caution": "E", "unreliable": "U"}
"""Default reliability class → SDMX OBS_STATUS code."""

CONF_STATUS = {"": "F", "primary": "C", "secondary": "D"}
"""Default suppression status → SDMX CONF_STATUS code."""


def published_table(result: Any, *, withhold_unreliable: bool = True) -> pd.DataFrame:
    """The table as it may be published: hidden values of suppressed (and unreliable) cells.

    Cells with ``suppressed != ""`` lose every value column (estimate, SE, CI, CV, counts);
    cells with ``reliability == "unreliable"`` lose them too when ``withhold_unreliable``.
    """
    t = result.table.copy()
    hide = _hidden(t, withhold_unreliable)
    for c in _VALUE_COLS:
        if c in t.columns:
            t[c] = t[c].astype(float).mask(hide)
    return t


def _hidden(t: pd.DataFrame, withhold_unreliable: bool) -> pd.Series:
    hide = pd.Series(False, index=t.index)
    if "suppressed" in t.columns:
        hide |= t["suppressed"].astype(str) != ""
    if withhold_unreliable and "reliability" in t.columns:
        hide |= t["reliability"].astype(str) == "unreliable"
    return hide


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
    """Write the tidy table as CSV (UTF-8), and its metadata beside it as ``<path>.json``.

    Returns the CSV path.
    """
    path = Path(path)
    _view(result, published, withhold_unreliable).to_csv(path, index=False)
    if metadata:
        path.with_suffix(path.suffix + ".json").write_text(
            json.dumps(result.metadata, indent=2, default=str), encoding="utf-8")
    return path


def to_parquet(result: Any, path: str | Path, *, published: bool = True,
               withhold_unreliable: bool = True) -> Path:
    """Write the tidy table as Parquet (pyarrow); the metadata go in the file's key-value
    metadata under ``b"migsurvey"`` (JSON). Disaggregation columns are written as strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    t = _stringify_dims(_view(result, published, withhold_unreliable),
                        list(result.metadata.get("by", [])))
    table = pa.Table.from_pandas(t, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"migsurvey"] = json.dumps(result.metadata, default=str).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


def to_excel(result: Any, path: str | Path, *, published: bool = True,
             withhold_unreliable: bool = True) -> Path:
    """Write an Excel workbook (openpyxl) with sheets ``table``, ``indicators`` and
    ``metadata``."""
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
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        t.to_excel(xw, sheet_name="table", index=False)
        inds.to_excel(xw, sheet_name="indicators", index=False)
        flat.to_excel(xw, sheet_name="metadata", index=False)
    return path


def to_sdmx_csv(
    result: Any,
    path: str | Path | None = None,
    *,
    structure_id: str = "MIGSURVEY:DF_MIGRATION(1.0)",
    structure: str = "dataflow",
    action: str = "I",
    dimensions: Mapping[str, str] | None = None,
    dimension_names: Mapping[str, str] | None = None,
    value_codes: Mapping[str, Mapping[Any, str]] | None = None,
    obs_status: Mapping[str, str] | None = None,
    conf_status: Mapping[str, str] | None = None,
    withhold_unreliable: bool = True,
    uncertainty: bool = True,
) -> pd.DataFrame:
    """SDMX-CSV 2.0 data message of the table; written to ``path`` if given.

    Parameters
    ----------
    result : IndicatorTable
        The table.
    path : str or Path, optional
        Where to write the CSV.
    structure_id : str
        ``AGENCY:ID(VERSION)`` of the dataflow (or data structure).
    structure : {"dataflow", "datastructure", "dataprovision"}
        Type of the structure referenced.
    action : {"I", "A", "R", "D"}
        SDMX action (information, append, replace, delete).
    dimensions : mapping, optional
        Fixed dimensions added before the indicator, e.g. ``{"REF_AREA": "XK",
        "TIME_PERIOD": "2024", "FREQ": "A"}``.
    dimension_names : mapping, optional
        Disaggregation column → SDMX dimension id (default: the column name in upper case).
    value_codes : mapping, optional
        Disaggregation column → {value: code}, e.g. ``{"sex": {"F": "F", "M": "M"},
        "foreign_citizen": {True: "FOR", False: "NAT"}}``; unmapped values are written as text
        and the total level stays ``_T``.
    obs_status, conf_status : mapping, optional
        Override :data:`OBS_STATUS` (reliability → code) and :data:`CONF_STATUS` (suppression
        status → code).
    withhold_unreliable : bool
        Leave ``OBS_VALUE`` empty for estimates too unreliable to publish.
    uncertainty : bool
        Add the ``SE, CV, CI_LOWER, CI_UPPER`` attributes.

    Returns
    -------
    pandas.DataFrame
        The message, one row per observation, all values as published.
    """
    if structure not in ("dataflow", "datastructure", "dataprovision"):
        raise SurveyError("unknown SDMX structure type", argument="structure",
                          expected="dataflow, datastructure or dataprovision",
                          found=repr(structure))
    if action not in ("I", "A", "R", "D"):
        raise SurveyError("unknown SDMX action", argument="action",
                          expected="I, A, R or D", found=repr(action))
    obs_map = {**OBS_STATUS, **(obs_status or {})}
    conf_map = {**CONF_STATUS, **(conf_status or {})}
    t = published_table(result, withhold_unreliable=withhold_unreliable)
    meta = result.metadata
    by = list(meta.get("by", []))
    names = {c: c.upper() for c in by}
    names.update(dimension_names or {})
    codes = {k: v["sdmx_code"] for k, v in meta.get("indicators", {}).items()}
    out = pd.DataFrame(index=t.index)
    out["STRUCTURE"] = structure
    out["STRUCTURE_ID"] = structure_id
    out["ACTION"] = action
    for k, v in (dimensions or {}).items():
        out[k] = v
    out["INDICATOR"] = t["indicator"].map(lambda c: codes.get(c, c))
    out["MEASURE"] = t["measure"].astype(str).str.upper()
    codes_for = value_codes or {}
    for c in by:
        col = t[c]
        if c in codes_for:
            col = col.map(lambda v, m=codes_for[c]: m.get(v, v) if v != "_T" else v)
        out[names[c]] = _stringify_dims(col.to_frame(c), [c])[c]
    out["OBS_VALUE"] = t["estimate"]
    rel = t["reliability"].astype(str) if "reliability" in t.columns else "reliable"
    sup = t["suppressed"].astype(str) if "suppressed" in t.columns else pd.Series("", t.index)
    out["OBS_STATUS"] = pd.Series(rel, index=t.index).map(obs_map)
    if "model_based" in t.columns:  # Fay–Herriot rows: "E", estimated value (unless withheld)
        model = t["model_based"].astype(bool) & (pd.Series(rel, index=t.index) != "unreliable")
        out.loc[model, "OBS_STATUS"] = obs_map.get("model_based", "E")
    out.loc[sup != "", "OBS_STATUS"] = ""
    out["CONF_STATUS"] = sup.map(conf_map)
    out["UNIT_MEASURE"] = t["unit_measure"] if "unit_measure" in t.columns else ""
    out["UNIT_MULT"] = 0
    if uncertainty:
        out["SE"] = t["se"]
        out["CV"] = t["cv"]
        out["CI_LOWER"] = t["ci_low"]
        out["CI_UPPER"] = t["ci_high"]
    if "experimental" in t.columns:
        out["EXPERIMENTAL"] = np.where(t["experimental"].astype(bool), "true", "false")
    out = out.reset_index(drop=True)
    if path is not None:
        out.to_csv(Path(path), index=False, encoding="utf-8")
    return out
