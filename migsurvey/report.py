"""The HTML report: one self-contained file that works offline.

The report is built in two steps, as statsmodels separates computing from reporting: a
:class:`ReportContent` holds plain data frames and arrays (what the pipeline produced), and
:func:`render_report` turns it into HTML with inline CSS and inline SVG charts
(:mod:`migsurvey.svg`). Nothing is fetched from a network: no CDN, no font, no image file.

Sections: survey and design, allocation, frame and sample maps, screening and fieldwork,
the weighting chain (weight distributions per step, g-weights, target vs achieved margins,
convergence), indicator tables with confidence intervals and quality flags, and a plot of each
main indicator with its intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3b57;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 32px;background:#e8eef4;font-size:14px}nav a{margin-right:14px;color:#1f3b57}
main{padding:8px 32px 40px;max-width:1280px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 20px;margin:16px 0;
overflow-x:auto}
h2{color:#1f3b57;font-size:20px;border-bottom:1px solid #eee;padding-bottom:4px}
h3{font-size:16px;margin:14px 0 6px}
table.t{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
table.t th,table.t td{border:1px solid #ddd;padding:3px 8px;text-align:right}
table.t th{background:#f0f3f6}table.t td.l,table.t th.l{text-align:left}
tr.flag td{color:#8a6d00;background:#fff8e1}tr.sup td{color:#999;background:#f5f5f5}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;max-width:100%;height:auto}
.ct{font-size:14px;font-weight:600}.tk{font-size:11px;fill:#444}.al{font-size:12px;fill:#333}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:14px}
dl.kv dt{font-weight:600}pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}
.note{font-size:13px;color:#555}
"""


def _table(df: pd.DataFrame, *, digits: int = 4, row_class=None, max_rows: int = 400) -> str:
    """A plain HTML table; text columns left-aligned, numbers rounded."""
    if df is None or len(df) == 0:
        return '<p class="note">(empty)</p>'
    df = df.head(max_rows)
    cols = list(df.columns)
    text_cols = {c for c in cols if not pd.api.types.is_numeric_dtype(df[c])
                 or pd.api.types.is_bool_dtype(df[c])}
    out = ['<table class="t"><thead><tr>']
    out += [f'<th class="{"l" if c in text_cols else ""}">{escape(str(c))}</th>' for c in cols]
    out.append("</tr></thead><tbody>")
    classes = row_class(df) if row_class is not None else [""] * len(df)
    for cls, row in zip(classes, df.itertuples(index=False), strict=True):
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        for c, v in zip(cols, row, strict=True):
            if c in text_cols:
                s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                out.append(f'<td class="l">{escape(s)}</td>')
            else:
                out.append(f"<td>{_num(v, digits)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _num(v: Any, digits: int) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return escape(str(v))
    if not np.isfinite(f):
        return ""
    if f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 10 ** digits:
        return f"{f:,.0f}"
    return f"{f:.{digits}g}"


def _flag_rows(df: pd.DataFrame) -> list[str]:
    out = []
    for _, r in df.iterrows():
        sup = any(bool(r.get(c)) for c in ("suppressed", "suppress") if c in df.columns)
        flag = "flag" in df.columns and isinstance(r["flag"], str) and r["flag"] not in ("", "ok")
        out.append("sup" if sup else ("flag" if flag else ""))
    return out


def _kv(d: dict[str, Any]) -> str:
    return '<dl class="kv">' + "".join(
        f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in d.items()) + "</dl>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _maps(frame: pd.DataFrame, seed: int = 0) -> str:
    f = frame
    if len(f) > MAX_MAP_POINTS:
        rng = np.random.default_rng(seed)
        keep = f["selected"].to_numpy(bool) | (rng.random(len(f)) < MAX_MAP_POINTS / len(f))
        f = f[keep]
    size = f["persons"] if "persons" in f else None
    group = f["stratum"].astype(str) if "stratum" in f else None
    frame_map = svg.scatter(f["x"], f["y"], group, size=size,
                            title=f"Frame: {len(frame):,} EAs by stratum")
    sample_map = svg.scatter(f["x"], f["y"], group, size=size, highlight=f["selected"],
                             title=f"Sample: {int(frame['selected'].sum()):,} selected EAs")
    return f'<div class="charts">{frame_map}{sample_map}</div>'


def _weighting(steps: list[WeightStep]) -> str:
    if not steps:
        return '<p class="note">No weighting steps.</p>'
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
        charts.append(svg.histogram(pos, title=f"Weights after {s.name}", xlabel="weight"))
        if s.g is not None:
            charts.append(svg.histogram(s.g, title=f"g-weights of {s.name}", xlabel="g = w / w₀",
                                        color=svg.PALETTE[2], marker=1.0))
        if s.convergence:
            charts.append(svg.lines({"criterion": s.convergence},
                                    title=f"Convergence of {s.name}", xlabel="iteration",
                                    ylabel="convergence criterion", log=True))
        if s.margins is not None and len(s.margins):
            extra.append(f"<h3>Margins of {escape(s.name)}: target vs achieved</h3>"
                         + _table(s.margins, digits=8))
    return (_table(pd.DataFrame(rows)) + f'<div class="charts">{"".join(charts)}</div>'
            + "".join(extra))


def _indicators(df: pd.DataFrame, names: dict[str, str], domains: list[str]) -> str:
    """Per indicator: a forest plot of each ratio measure (share, rate) over its domains,
    then the table of every measure."""
    parts = []
    ind_col = "indicator" if "indicator" in df.columns else "variable"
    dom_cols = [c for c in domains if c in df.columns]
    for ind, sub in df.groupby(ind_col, sort=False):
        label = names.get(str(ind), "")
        parts.append(f"<h3>{escape(str(ind))}{': ' + escape(label) if label else ''}</h3>")
        sub = sub.reset_index(drop=True)
        charts = []
        measures = sub.groupby("measure", sort=False) if "measure" in sub.columns else [("", sub)]
        for meas, m in measures:
            if "kind" in m.columns and (m["kind"] == "total").all():
                continue
            if not {"estimate", "ci_low", "ci_high"} <= set(m.columns):
                continue
            labels = [_domain_label(r, dom_cols) for _, r in m.iterrows()]
            flags = None
            if "flag" in m.columns:
                flags = ["" if not isinstance(f, str) or f in ("", "ok") else f for f in m["flag"]]
            unit = str(m["unit_measure"].iloc[0]) if "unit_measure" in m.columns else ""
            charts.append(svg.forest(labels, m["estimate"], m["ci_low"], m["ci_high"],
                                     title=f"{ind} {meas}: estimate and {_level(m)} CI",
                                     xlabel=_UNIT_LABELS.get(unit, unit), flags=flags))
        parts.append(f'<div class="charts">{"".join(charts)}</div>')
        parts.append(_table(sub, digits=4, row_class=_flag_rows))
    return "".join(parts)


def _districts(df: pd.DataFrame, note: str) -> str:
    """CV of the direct and Fay–Herriot district shares (bars), the model-based estimates with
    their intervals (forest plot), and the table."""
    charts = [
        svg.bars(list(df["district"]), {"direct CV": df["direct_cv"], "Fay–Herriot CV": df["cv"]},
                 title="Coefficient of variation by district", width=900),
        svg.forest(list(df["district"]), df["eblup"], df["ci_low"], df["ci_high"],
                   title="Fay–Herriot estimate and 95 % interval", xlabel="per cent"),
    ]
    return (f"<p>{escape(note)}</p>" + f'<div class="charts">{"".join(charts)}</div>'
            + _table(df, digits=4))


_UNIT_LABELS = {"PT": "per cent", "PER_1000": "per 1 000", "PS": "persons", "HH": "households"}


def _domain_label(row: pd.Series, dom_cols: list[str]) -> str:
    bits = [f"{c}={row[c]}" for c in dom_cols
            if pd.notna(row[c]) and str(row[c]) not in ("", "_T")]
    return ", ".join(bits) if bits else "total"


_ESTIMATE_COLUMNS = {"variable", "level", "estimate", "se", "ci_low", "ci_high", "cv", "df", "n",
                     "deff", "flag", "suppressed", "unit", "quantile", "n_unweighted",
                     "estimate_type", "label", "denominator", "note"}


def _level(sub: pd.DataFrame) -> str:
    return "95 %" if "conf_level" not in sub.columns else f"{100 * sub['conf_level'].iloc[0]:g} %"


def render_report(content: ReportContent) -> str:
    """Render a :class:`ReportContent` as one self-contained HTML page (a string)."""
    sections = []
    design = dict(content.design)
    if content.timings:
        design["run time"] = ", ".join(f"{k} {v:.1f} s" for k, v in content.timings.items())
    sections.append(("design", "Survey and design", _kv(design)
                     + "".join(f'<p class="note">{escape(n)}</p>' for n in content.notes)))
    if content.allocation is not None:
        a = content.allocation
        body = _table(a)
        num = [c for c in a.columns if c in ("frame_share", "sample_share")]
        if num and "stratum" in a.columns:
            body += svg.bars(a["stratum"], {c: a[c] for c in num},
                             title="Share of the frame and of the sample by stratum",
                             ylabel="share")
        sections.append(("allocation", "Stratification and allocation", body))
    if content.frame is not None and {"x", "y", "selected"} <= set(content.frame.columns):
        sections.append(("maps", "Frame and sample", _maps(content.frame)))
    if content.screening is not None:
        sections.append(("fieldwork", "Screening and fieldwork", _table(content.screening)))
    if content.weighting:
        sections.append(("weighting", "Weighting chain", _weighting(content.weighting)))
    if content.indicators is not None:
        sections.append(("indicators", "Indicators",
                         '<p class="note">Rows in yellow carry a quality flag; grey rows are '
                         "suppressed for publication.</p>"
                         + _indicators(content.indicators, content.indicator_names,
                                       content.domains)))
    if content.small_area is not None and len(content.small_area):
        sections.append(("districts", "Districts: direct and model-based (small area) estimates",
                         _districts(content.small_area, content.small_area_note)))
    elif content.small_area_note:
        sections.append(("districts", "Districts: direct and model-based (small area) estimates",
                         f"<p>{escape(content.small_area_note)}</p>"))
    if content.spec_text:
        sections.append(("spec", "Specification", f"<pre>{escape(content.spec_text)}</pre>"))
    nav = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(_section(a, t, b) for a, t, b in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(content.title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(content.title)}</h1><p>{escape(content.subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        '<script>document.body.setAttribute("data-ready","1");</script></body></html>'
    )


def write_report(content: ReportContent, path: str | Path) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(content), encoding="utf-8")
    return p
