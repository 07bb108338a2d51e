"""The HTML report: one self-contained file that works offline.

The report is built in two steps, as statsmodels separates computing from reporting: a
:class:`ReportContent` holds plain data frames, arrays and metadata (what the pipeline, or an
office's own estimation, produced), and :func:`render_report` formats them and fills the
Jinja2 template ``migsurvey/templates/report.html`` with inline CSS and inline SVG charts
(:mod:`migsurvey.svg`). Nothing is fetched from a network: no CDN, no font, no image file.

A published report (the default) shows no value, flag or count of a suppressed cell: the
indicator table goes through :func:`estimation.indicators.published_table` first. An
internal report (``ReportContent(internal=True)``) shows them and says so on every page.

Sections: survey and design, allocation, frame and sample maps, screening and fieldwork,
the weighting chain (weight distributions per step, g-weights, target vs achieved margins,
convergence), indicator tables with confidence intervals and quality flags, and a plot of each
main indicator with its intervals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from migsurvey import svg

MAX_MAP_POINTS = 6000


@dataclass
class WeightStep:
    """One step of the weighting chain, as the report shows it.

    Attributes
    ----------
    name : str
        Step name (``"base"``, ``"nonresponse"``, ``"rake"``, ``"calibrate"``, ``"trim"``).
    weights : ndarray
        Weights after the step (respondents).
    description : str
        One line on what the step did.
    g : ndarray, optional
        g-weights of a calibration step (final / initial weight).
    margins : DataFrame, optional
        ``variable, level, target, before, after`` for calibration steps.
    convergence : sequence of float, optional
        Largest absolute margin discrepancy after each iteration.
    """

    name: str
    weights: np.ndarray
    description: str = ""
    g: np.ndarray | None = None
    margins: pd.DataFrame | None = None
    convergence: list[float] | None = None


@dataclass
class ReportContent:
    """Everything a report shows, as plain data (no computing happens in the report)."""

    title: str
    subtitle: str = ""
    design: dict[str, Any] = field(default_factory=dict)
    allocation: pd.DataFrame | None = None
    frame: pd.DataFrame | None = None  # ea_id, x, y, stratum, selected, persons
    screening: pd.DataFrame | None = None
    weighting: list[WeightStep] = field(default_factory=list)
    indicators: pd.DataFrame | None = None
    indicator_names: dict[str, str] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)
    spec_text: str = ""
    small_area: pd.DataFrame | None = None  # direct and Fay–Herriot shares by district
    small_area_note: str = ""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    """Metadata of the indicator table (:attr:`IndicatorTable.metadata`): definitions and
    sources (``indicators``), ``quality`` and ``suppression`` rules, ``level``, ``interval``."""
    internal: bool = False
    """Show suppressed values (for the office only); every page is marked internal."""
    version: str = ""
    """Package version shown on the report (default: the installed migsurvey)."""
    run_date: str = ""
    """Date of the run (default: today, UTC)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Readable names of columns and measures, e.g. ``{"age_group": "Age"}``."""
    withhold_unreliable: bool = True
    """Publish no value for estimates too unreliable to publish (``quality.suppress``)."""


LABELS = {
    "indicator": "Indicator", "measure": "Measure", "estimate": "Estimate",
    "se": "Standard error", "cv": "CV (%)", "n": "Sample size", "flag": "Quality",
    "suppressed": "Status", "sex": "Sex", "age_group": "Age group", "region": "Region",
    "urban": "Urban area", "stratum": "Stratum", "psus": "EAs selected", "screen": "Screening",
    "selected": "Selected", "responded": "Responded", "response_rate": "Response rate",
    "mean_base_weight": "Mean base weight", "frame_share": "Share of frame",
    "sample_share": "Share of sample", "variable": "Variable", "level": "Category",
    "target": "Target", "before": "Before", "after": "After", "step": "Step", "what": "What",
    "count": "Count", "share": "Share", "rate": "Rate", "eas": "EAs in frame",
    "households": "Households", "persons": "Persons", "target_group": "Target group",
    "prevalence": "Prevalence", "target_share": "Target share",
    "allocation_deff": "Allocation deff",
    "district": "District", "direct": "Direct (%)", "direct_cv": "Direct CV (%)",
    "direct_flag": "Direct quality", "eblup": "Fay–Herriot (%)", "gamma": "Shrinkage γ",
    "in_sample": "In sample",
}
"""Default readable names of columns, measures and categories."""

UNITS = {"PT": ("per cent", 1), "PER_1000": ("per 1,000", 1), "PS": ("persons", 0),
         "HH": ("households", 0)}
"""unit_measure → (axis label, decimals of the estimate)."""

_ORDER_WORDS = ("very low", "low", "medium", "moderate", "high", "very high")
_TOTAL_WORDS = {"_T", "Total", "total"}
_CONFIDENTIAL_SYMBOL = "x"
_WITHHELD_SYMBOL = ".."


def category_key(value: Any) -> tuple:
    """Sort key that orders categories as readers expect: ordinal words (low < medium <
    high), numbers and age classes by their first number, then text; totals last. Composite
    labels such as ``R1:low`` are ordered part by part."""
    s = str(value)
    parts = re.split(r"\s*[:|×]\s*", s)
    if len(parts) > 1:
        return (1, tuple(category_key(p) for p in parts))
    if s in _TOTAL_WORDS:
        return (9, (0.0, ""))
    low = s.lower()
    for w in sorted(_ORDER_WORDS, key=len, reverse=True):
        if re.search(rf"\b{w}\b", low):
            return (2, (float(_ORDER_WORDS.index(w)), low.replace(w, "")))
    m = re.search(r"(\d+(\.\d+)?)", s)
    if m:
        return (3, (float(m.group(1)), s))
    return (4, (0.0, s))


def _sort_rows(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Rows in reading order: the total first, then each variable's categories in order."""
    cols = [c for c in cols if c in df.columns]
    if not cols or df.empty:
        return df
    vals = df[cols].astype(str)
    def key(i):
        row = vals.loc[i]
        detail = [k for k, c in enumerate(cols) if row[c] != "_T"]
        return (len(detail), detail, tuple(category_key(row[c]) for c in cols))
    return df.loc[sorted(df.index, key=key)]


def _label(name: Any, labels: dict[str, str]) -> str:
    """Readable name of a column or measure."""
    s = str(name)
    return labels.get(s, LABELS.get(s, s.replace("_", " ").capitalize() if s.islower() else s))


def _value_label(value: Any, labels: dict[str, str] | None = None) -> str:
    """Readable category: totals, yes/no, and labels given as ``{"column=value": text}``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = str(value)
    return {"_T": "Total", "True": "Yes", "False": "No"}.get(s, s)


def _column_formatter(values: pd.Series):
    """One number format per column, chosen from its values."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    a = values.to_numpy(dtype=float)
    a = a[np.isfinite(a)]
    if a.size and np.all(a == np.round(a)) and np.abs(a).max() < 1e15:
        return lambda v: f"{int(round(v)):,}"
    top = float(np.abs(a).max()) if a.size else 0.0
    digits = 0 if top >= 1000 else 1 if top >= 10 else 2 if top >= 1 else 3
    return lambda v: _no_negative_zero(f"{v:,.{digits}f}")


def _no_negative_zero(text: str) -> str:
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def frame_view(df: pd.DataFrame | None, labels: dict[str, str] | None = None,
               row_class=None, max_rows: int = 400) -> dict:
    """A data frame as the template's table: readable headers, one format per column."""
    labels = labels or {}
    if df is None or len(df) == 0:
        return {"columns": [], "rows": []}
    df = df.head(max_rows)
    fmts = {c: _column_formatter(df[c]) for c in df.columns}
    columns = [{"label": _label(c, labels), "align": "" if fmts[c] else "l"} for c in df.columns]
    classes = row_class(df) if row_class is not None else [""] * len(df)
    rows = []
    for cls, (_, r) in zip(classes, df.iterrows(), strict=True):
        cells = []
        for c in df.columns:
            v = r[c]
            if fmts[c] is None:
                cells.append(_value_label(v))
            else:
                f = float(v) if v is not None else np.nan
                cells.append(fmts[c](f) if np.isfinite(f) else "")
        rows.append({"cells": cells, "cls": cls})
    return {"columns": columns, "rows": rows}


# ---------------------------------------------------------------------------------------------
# indicators


def _published(df: pd.DataFrame, meta: dict, withhold_unreliable: bool) -> pd.DataFrame:
    from estimation.indicators import published_table

    return published_table(SimpleNamespace(table=df, metadata=meta),
                           withhold_unreliable=withhold_unreliable)


def _fmt(v: Any, decimals: int) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return ""
    return _no_negative_zero(f"{f:,.{decimals}f}") if np.isfinite(f) else ""


def _domain_label(row: pd.Series, dom_cols: list[str], labels: dict[str, str]) -> str:
    bits = [f"{_label(c, labels)}: {_value_label(row[c])}" for c in dom_cols
            if pd.notna(row[c]) and str(row[c]) not in ("", "_T")]
    return ", ".join(bits) if bits else "Total"


def _indicator_rows(sub: pd.DataFrame, dom_cols: list[str], labels: dict[str, str],
                    level_pct: str, internal: bool) -> dict:
    has_status = "suppressed" in sub.columns and sub["suppressed"].astype(str).ne("").any()
    columns = [{"label": _label(c, labels), "align": "l"} for c in dom_cols]
    columns += [{"label": "Measure", "align": "l"}, {"label": "Estimate", "align": ""},
                {"label": "Standard error", "align": ""},
                {"label": f"{level_pct} confidence interval", "align": ""},
                {"label": "CV (%)", "align": ""}, {"label": "Sample size", "align": ""},
                {"label": "Quality", "align": "l"}]
    if has_status:
        columns.append({"label": "Status", "align": "l"})
    rows = []
    for _, r in sub.iterrows():
        unit = str(r.get("unit_measure", "") or "")
        _, dec = UNITS.get(unit, ("", 1))
        status = str(r.get("suppressed", "") or "")
        hidden = bool(status) and not internal
        est = r.get("estimate", np.nan)
        withheld = not hidden and not np.isfinite(float(est)) and r.get("reliability") == (
            "unreliable")
        symbol = _CONFIDENTIAL_SYMBOL if hidden else _WITHHELD_SYMBOL if withheld else None
        cells = [_value_label(r[c]) for c in dom_cols]
        measure = _label(r["measure"], labels) + (f" ({UNITS[unit][0]})" if unit in UNITS else "")
        if symbol:
            cells += [measure, symbol, "", "", "", "", "" if hidden else str(r.get("flag", ""))]
        else:
            lo, hi = _fmt(r.get("ci_low"), dec), _fmt(r.get("ci_high"), dec)
            cv = r.get("cv", np.nan)
            n = r.get("n", np.nan)
            cells += [measure, _fmt(est, dec), _fmt(r.get("se"), dec + 1),
                      f"{lo} to {hi}" if lo and hi else "",
                      _fmt(100 * float(cv), 1) if cv is not None else "",
                      f"{int(n):,}" if pd.notna(n) else "", str(r.get("flag", "") or "")]
        if has_status:
            cells.append(status)
        total = all(str(r[c]) == "_T" for c in dom_cols)
        cls = "sup" if status else "flag" if r.get("reliability") == "caution" else ""
        rows.append({"cells": cells, "cls": (cls + (" total" if total else "")).strip()})
    return {"columns": columns, "rows": rows}


def _indicator_section(content: ReportContent) -> dict:
    meta = content.metadata or {}
    labels = content.labels
    df = content.indicators.copy()
    if not content.internal:
        df = _published(df, meta, content.withhold_unreliable)
    level = float(meta.get("level", 0.95))
    level_pct = f"{100 * level:g} %"
    defs = meta.get("indicators", {})
    ind_col = "indicator" if "indicator" in df.columns else "variable"
    dom_all = [c for c in content.domains if c in df.columns]
    out = []
    for ind, sub in df.groupby(ind_col, sort=False):
        dom_cols = [c for c in dom_all if sub[c].astype(str).ne("_T").any()]
        sub = _sort_rows(sub, dom_cols)
        if "measure" in sub.columns:
            order = {m: k for k, m in enumerate(pd.unique(sub["measure"]))}
            sub = sub.assign(_m=sub["measure"].map(order)).sort_values("_m", kind="stable")
        d = defs.get(str(ind), {})
        charts = []
        for meas, m in (sub.groupby("measure", sort=False) if "measure" in sub.columns
                        else [("", sub)]):
            if "kind" in m.columns and (m["kind"] == "total").all():
                continue
            m = m[np.isfinite(m["estimate"].astype(float))]
            if m.empty:
                continue
            flags = ["caution" if r == "caution" else "" for r in m.get(
                "reliability", pd.Series("", index=m.index))]
            unit = str(m["unit_measure"].iloc[0]) if "unit_measure" in m.columns else ""
            charts.append(Markup(svg.forest(
                [_domain_label(r, dom_cols, labels) for _, r in m.iterrows()], m["estimate"],
                m["ci_low"], m["ci_high"],
                title=f"{ind} {_label(meas, labels).lower()}: estimate and {level_pct} "
                      "confidence interval",
                xlabel=UNITS.get(unit, (unit, 1))[0], flags=flags,
                flag_label="use with caution")))
        out.append({"code": ind, "name": d.get("name") or content.indicator_names.get(str(ind), ""),
                    "definition": d.get("definition", ""), "charts": charts,
                    "table": _indicator_rows(sub, dom_cols, labels, level_pct, content.internal)})
    symbols = [(_CONFIDENTIAL_SYMBOL, "confidential: suppressed to protect respondents"),
               (_WITHHELD_SYMBOL, "too unreliable to be published")]
    for _upper, flag, rel in (meta.get("quality") or {}).get("cv_bands", []):
        if flag and rel == "caution":
            symbols.append((flag, "use with caution"))
    intro = ("Estimates, standard errors, confidence intervals and coefficients of variation; "
             "bold rows are totals, shaded rows need caution. Categories of a variable add up "
             "to its total.")
    if content.internal:
        intro += " Internal view: values of suppressed cells are shown in grey."
    return {"anchor": "indicators", "title": "Indicators", "kind": "indicators",
            "intro": intro, "symbols": symbols, "indicators": out}


def _about_section(content: ReportContent, version: str, run_date: str) -> dict:
    meta = content.metadata or {}
    blocks = []
    defs = meta.get("indicators", {})
    if defs:
        rows = [{"cells": [c, d.get("name", ""), d.get("definition", ""), d.get("source", "")],
                 "cls": ""} for c, d in defs.items()]
        blocks.append({"title": "Definitions", "paragraphs": [], "table": {
            "columns": [{"label": "Code", "align": "l"}, {"label": "Indicator", "align": "l"},
                        {"label": "Definition", "align": "l w"},
                        {"label": "Source", "align": "l w"}], "rows": rows}})
    q = meta.get("quality") or {}
    if q:
        rows, lower = [], 0.0
        for upper, flag, rel in q.get("cv_bands", []):
            hi = "and over" if not np.isfinite(float(upper)) else f"to {100 * float(upper):g} %"
            rows.append({"cells": [f"CV {100 * lower:g} % {hi}", flag or "(none)", rel],
                         "cls": ""})
            lower = float(upper)
        for minimum, flag, rel in q.get("n_bands", []):
            rows.append({"cells": [f"fewer than {minimum} sample observations", flag, rel],
                         "cls": ""})
        blocks.append({"title": "Quality of the estimates", "paragraphs": [
            f"Rule {q.get('name', '')}: {q.get('source', '')}".strip(),
            "The coefficient of variation (CV) is the standard error divided by the estimate, "
            "in per cent."], "table": {
            "columns": [{"label": "When", "align": "l"}, {"label": "Quality", "align": "l"},
                        {"label": "Meaning", "align": "l"}], "rows": rows}})
    sup = meta.get("suppression")
    paragraphs = []
    if sup:
        rule = str(sup.get("rule", "")).removeprefix("suppress cells with ")
        paragraphs.append(f"Cells are suppressed when {rule}. Further cells "
                          "are suppressed so that no suppressed cell can be recovered, or "
                          f"narrowed to within {100 * float(sup.get('protection', 0)):g} % of "
                          "its value, from the published cells, margins and the rule itself.")
        paragraphs.append("Suppressed cells are marked " + (
            "primary (too few contributors) or secondary (hidden to protect a primary cell)."
            if sup.get("publish_status") else "confidential, without saying why."))
    else:
        paragraphs.append("Disclosure control was switched off for this run: the tables may "
                          "disclose confidential cells.")
    blocks.append({"title": "Disclosure control", "paragraphs": paragraphs, "table": None})
    level = float(meta.get("level", 0.95))
    blocks.append({"title": "Confidence intervals", "paragraphs": [
        f"{100 * level:g} % confidence intervals; "
        + (meta.get("interval") or "logit for shares, log for counts and rates")
        + ". They stay within the possible range of each measure."], "table": None})
    blocks.append({"title": "This report", "paragraphs": [
        f"Made with migsurvey {version} on {run_date}."], "table": None})
    return {"anchor": "about", "title": "About these statistics", "kind": "about",
            "blocks": blocks}


def _weighting_blocks(steps: list[WeightStep], labels: dict[str, str]) -> list[dict]:
    if not steps:
        return [{"title": "", "table": None, "charts": []}]
    rows, charts, extra = [], [], []
    for s in steps:
        w = np.asarray(s.weights, float)
        pos = w[w > 0]
        kish = len(pos) * (pos ** 2).sum() / pos.sum() ** 2 if pos.size else np.nan
        rows.append({"step": s.name, "what": s.description, "n": int(pos.size), "sum": w.sum(),
                     "min": pos.min() if pos.size else np.nan,
                     "max": pos.max() if pos.size else np.nan,
                     "max/min": pos.max() / pos.min() if pos.size else np.nan,
                     "Kish deff (1+CV²)": kish})
        charts.append(Markup(svg.histogram(pos, title=f"Weights after {s.name}",
                                           xlabel="weight")))
        if s.g is not None:
            charts.append(Markup(svg.histogram(s.g, title=f"g-weights of {s.name}",
                                               xlabel="g = w / w₀", color=svg.PALETTE[2],
                                               marker=1.0)))
        if s.convergence:
            charts.append(Markup(svg.lines({"criterion": s.convergence},
                                           title=f"Convergence of {s.name}", xlabel="iteration",
                                           ylabel="convergence criterion", log=True)))
        if s.margins is not None and len(s.margins):
            m = _sort_rows(s.margins, [c for c in ("variable", "level") if c in s.margins])
            extra.append({"title": f"Margins of {s.name}: target and achieved",
                          "table": frame_view(m, labels), "charts": []})
    lab = {"n": "Respondents", "sum": "Sum of weights", "min": "Smallest", "max": "Largest",
           "max/min": "Largest / smallest", **labels}
    return [{"title": "", "table": frame_view(pd.DataFrame(rows), lab), "charts": charts},
            *extra]


def _maps(frame: pd.DataFrame, seed: int = 0) -> list:
    f = frame
    if len(f) > MAX_MAP_POINTS:
        rng = np.random.default_rng(seed)
        keep = f["selected"].to_numpy(bool) | (rng.random(len(f)) < MAX_MAP_POINTS / len(f))
        f = f[keep]
    size = f["persons"] if "persons" in f else None
    group = f["stratum"].astype(str) if "stratum" in f else None
    order = sorted(set(group), key=category_key) if group is not None else None
    return [Markup(svg.scatter(f["x"], f["y"], group, size=size, order=order,
                               title=f"Frame: {len(frame):,} EAs by stratum")),
            Markup(svg.scatter(f["x"], f["y"], group, size=size, highlight=f["selected"],
                               order=order,
                               title=f"Sample: {int(frame['selected'].sum()):,} selected EAs"))]


def _districts_section(df: pd.DataFrame | None, note: str, labels: dict[str, str]) -> dict:
    """CV of the direct and Fay–Herriot district shares (bars), the model-based estimates with
    their intervals (forest plot), and the table."""
    charts = []
    if df is not None and len(df):
        charts = [
            Markup(svg.bars(list(df["district"]), {"direct CV": df["direct_cv"],
                                                   "Fay–Herriot CV": df["cv"]},
                            title="Coefficient of variation by district (%), published values",
                            width=900)),
            Markup(svg.forest(list(df["district"]), df["eblup"], df["ci_low"], df["ci_high"],
                              title="Fay–Herriot estimate and 95 % interval",
                              xlabel="per cent")),
        ]
    return {"anchor": "districts",
            "title": "Districts: direct and model-based (small area) estimates",
            "kind": "blocks",
            "blocks": [{"title": "", "note": note, "charts": charts,
                        "table": frame_view(df, labels) if df is not None and len(df)
                        else None}]}


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("migsurvey", "templates"),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("migsurvey")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "(source tree)"


def render_report(content: ReportContent) -> str:
    """Render a :class:`ReportContent` as one self-contained HTML page (a string)."""
    env = _environment()
    labels = content.labels
    version = content.version or _version()
    run_date = content.run_date or datetime.now(UTC).strftime("%Y-%m-%d")
    sections = []
    design = dict(content.design)
    if content.timings:
        design["run time"] = ", ".join(f"{k} {v:.1f} s" for k, v in content.timings.items())
    sections.append({"anchor": "design", "title": "Survey and design", "kind": "design",
                     "pairs": [(k[:1].upper() + k[1:], v) for k, v in design.items()],
                     "notes": content.notes})
    if content.allocation is not None:
        a = _sort_rows(content.allocation, ["stratum"])
        charts = []
        num = [c for c in a.columns if c in ("frame_share", "sample_share")]
        if num and "stratum" in a.columns:
            charts.append(Markup(svg.bars(a["stratum"], {_label(c, labels): a[c] for c in num},
                                          title="Share of the frame and of the sample by "
                                                "stratum", ylabel="share")))
        sections.append({"anchor": "allocation", "title": "Stratification and allocation",
                         "kind": "blocks",
                         "blocks": [{"title": "", "table": frame_view(a, labels),
                                     "charts": charts}]})
    if content.frame is not None and {"x", "y", "selected"} <= set(content.frame.columns):
        sections.append({"anchor": "maps", "title": "Frame and sample", "kind": "blocks",
                         "blocks": [{"title": "", "table": None,
                                     "charts": _maps(content.frame)}]})
    if content.screening is not None:
        sc = _sort_rows(content.screening, list(content.screening.columns[:2]))
        sections.append({"anchor": "fieldwork", "title": "Screening and fieldwork",
                         "kind": "blocks",
                         "blocks": [{"title": "", "table": frame_view(sc, labels),
                                     "charts": []}]})
    if content.weighting:
        sections.append({"anchor": "weighting", "title": "Weighting chain", "kind": "blocks",
                         "blocks": _weighting_blocks(content.weighting, labels)})
    if content.indicators is not None:
        sections.append(_indicator_section(content))
    if (content.small_area is not None and len(content.small_area)) or content.small_area_note:
        sections.append(_districts_section(content.small_area, content.small_area_note, labels))
    sections.append(_about_section(content, version, run_date))
    if content.spec_text:
        sections.append({"anchor": "spec", "title": "Specification", "kind": "spec",
                         "text": content.spec_text})
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(
        title=content.title, subtitle=content.subtitle, version=version, run_date=run_date,
        internal=content.internal, sections=sections, css=Markup(css))


def write_report(content: ReportContent, path: str | Path) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(content), encoding="utf-8")
    return p
