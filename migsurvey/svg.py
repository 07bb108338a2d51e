"""Hand-built inline SVG charts for the self-contained HTML report.

No plotting library, no external file, no script: each function returns one ``<svg>``
string that any browser draws offline. Charts: :func:`scatter` (frame and sample maps),
:func:`histogram` (weight and g-weight distributions), :func:`bars` (allocation),
:func:`forest` (estimates with confidence intervals), :func:`lines` (calibration convergence).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** np.floor(np.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = np.ceil(lo / step) * step
    return np.arange(start, hi + step * 1e-9, step)


def _label(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:.4g}"


class _Canvas:
    """An SVG drawing area with a plot rectangle and linear (or log) scales."""

    def __init__(self, title: str, width: int = 640, height: int = 360, left: int = 60,
                 right: int = 20, top: int = 36, bottom: int = 46) -> None:
        self.w, self.h = width, height
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = top, height - bottom
        self.parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" class="chart">',
            f"<title>{escape(title)}</title>",
            f'<text x="{width / 2}" y="20" text-anchor="middle" class="ct">{escape(title)}</text>',
        ]
        self.xlim = (0.0, 1.0)
        self.ylim = (0.0, 1.0)
        self.ylog = False

    def sx(self, v):
        a, b = self.xlim
        return self.x0 + (np.asarray(v, float) - a) / (b - a) * (self.x1 - self.x0)

    def sy(self, v):
        a, b = self.ylim
        v = np.asarray(v, float)
        if self.ylog:
            v, a, b = np.log10(v), np.log10(a), np.log10(b)
        return self.y1 - (v - a) / (b - a) * (self.y1 - self.y0)

    def axes(self, xlabel: str = "", ylabel: str = "", xticks=True, yticks=True) -> None:
        p = self.parts
        p.append(f'<rect x="{self.x0}" y="{self.y0}" width="{self.x1 - self.x0}" '
                 f'height="{self.y1 - self.y0}" fill="none" stroke="#999"/>')
        if xticks:
            for t in _nice_ticks(*self.xlim):
                x = _fmt(self.sx(t))
                p.append(f'<line x1="{x}" x2="{x}" y1="{self.y1}" y2="{self.y1 + 4}" stroke="#999"/>'
                         f'<text x="{x}" y="{self.y1 + 16}" text-anchor="middle" class="tk">'
                         f"{_label(t)}</text>")
        if yticks:
            if self.ylog:
                lo, hi = np.floor(np.log10(self.ylim[0])), np.ceil(np.log10(self.ylim[1]))
                ticks = 10.0 ** np.arange(lo, hi + 1, max(1, (hi - lo) // 6))
                ticks = ticks[(ticks >= self.ylim[0]) & (ticks <= self.ylim[1])]
                fmt = lambda t: f"1e{int(np.log10(t))}"  # noqa: E731
            else:
                ticks, fmt = _nice_ticks(*self.ylim), _label
            for t in ticks:
                y = _fmt(self.sy(t))
                p.append(f'<line x1="{self.x0 - 4}" x2="{self.x1}" y1="{y}" y2="{y}" stroke="#eee"/>'
                         f'<text x="{self.x0 - 6}" y="{y}" dy="4" text-anchor="end" class="tk">'
                         f"{fmt(t)}</text>")
        if xlabel:
            p.append(f'<text x="{(self.x0 + self.x1) / 2}" y="{self.y1 + 32}" text-anchor="middle" '
                     f'class="al">{escape(xlabel)}</text>')
        if ylabel:
            p.append(f'<text transform="translate(14,{(self.y0 + self.y1) / 2}) rotate(-90)" '
                     f'text-anchor="middle" class="al">{escape(ylabel)}</text>')

    def legend(self, labels: Sequence[str], colors: Sequence[str]) -> None:
        x = self.x1 - 8
        for i, (lab, col) in enumerate(zip(labels, colors, strict=True)):
            y = self.y0 + 12 + 15 * i
            self.parts.append(f'<rect x="{x - 10}" y="{y - 8}" width="10" height="10" fill="{col}"/>'
                              f'<text x="{x - 14}" y="{y + 1}" text-anchor="end" class="tk">'
                              f"{escape(str(lab))}</text>")

    def render(self) -> str:
        return "".join(self.parts) + "</svg>"


def _limits(values, pad: float = 0.05) -> tuple[float, float]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    d = (hi - lo) * pad
    return lo - d, hi + d


def scatter(x, y, groups=None, *, title: str, size=None, highlight=None, order=None,
            width: int = 520,
            height: int = 440, legend_title: str = "") -> str:
    """A map-like scatter of points (EA centroids), coloured by group.

    ``highlight`` (boolean array) draws those points larger with a dark outline (the sample);
    ``order`` lists the groups in legend order (default: sorted as text).
    """
    c = _Canvas(title, width, height, left=20, bottom=20)
    c.xlim, c.ylim = _limits(x), _limits(y)
    c.axes(xticks=False, yticks=False)
    x, y = np.asarray(x, float), np.asarray(y, float)
    groups = np.zeros(len(x), dtype=object) if groups is None else np.asarray(groups, dtype=object)
    levels = list(order) if order is not None else sorted(set(groups.tolist()), key=str)
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(levels)}
    r = np.full(len(x), 1.6) if size is None else 1.0 + 3.0 * np.sqrt(np.asarray(size, float)
                                                                       / max(np.max(size), 1e-12))
    px, py = c.sx(x), c.sy(y)
    hl = np.zeros(len(x), bool) if highlight is None else np.asarray(highlight, bool)
    for i in np.argsort(hl, kind="stable"):
        stroke = ' stroke="#000" stroke-width="1.2"' if hl[i] else ""
        op = "0.95" if hl[i] or highlight is None else "0.35"
        rad = r[i] * (1.8 if hl[i] else 1.0)
        c.parts.append(f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="{rad:.1f}" '
                       f'fill="{colour[groups[i]]}" fill-opacity="{op}"{stroke}/>')
    if len(levels) > 1:
        c.legend([f"{legend_title}{g}" for g in levels], [colour[g] for g in levels])
    return c.render()


def histogram(values, *, title: str, xlabel: str = "", bins: int = 40, color: str = PALETTE[0],
              width: int = 420, height: int = 280, marker: float | None = None) -> str:
    """A histogram; ``marker`` draws a vertical reference line (e.g. g = 1)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    c = _Canvas(title, width, height)
    counts, edges = np.histogram(v, bins=bins) if v.size else (np.zeros(1), np.array([0.0, 1.0]))
    c.xlim = (float(edges[0]), float(edges[-1])) if edges[-1] > edges[0] else (edges[0] - .5, edges[0] + .5)
    c.ylim = (0.0, float(max(counts.max(), 1)) * 1.05)
    c.axes(xlabel=xlabel, ylabel="count")
    for k, n in enumerate(counts):
        if n == 0:
            continue
        x0, x1 = c.sx(edges[k]), c.sx(edges[k + 1])
        y = c.sy(n)
        c.parts.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 0.5, 0.5):.1f}" '
                       f'height="{c.y1 - y:.1f}" fill="{color}"/>')
    if marker is not None and c.xlim[0] <= marker <= c.xlim[1]:
        x = c.sx(marker)
        c.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{c.y0}" y2="{c.y1}" stroke="#d62728" '
                       f'stroke-dasharray="4 3"/>')
    return c.render()


def bars(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str,
         ylabel: str = "", width: int = 640, height: int = 300) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    labels = [str(v) for v in labels]
    c = _Canvas(title, width, height, bottom=70)
    allv = np.concatenate([np.asarray(s, float) for s in series.values()]) if series else np.zeros(1)
    c.xlim = (0.0, float(len(labels)))
    c.ylim = (0.0, float(np.nanmax(allv)) * 1.1 if np.nanmax(allv) > 0 else 1.0)
    c.axes(ylabel=ylabel, xticks=False)
    k = max(len(series), 1)
    slot = (c.x1 - c.x0) / max(len(labels), 1)
    bw = slot * 0.8 / k
    for j, (name, vals) in enumerate(series.items()):
        for i, v in enumerate(np.asarray(vals, float)):
            if not np.isfinite(v):
                continue
            x = c.x0 + i * slot + slot * 0.1 + j * bw
            y = c.sy(v)
            c.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{c.y1 - y:.1f}" '
                           f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} '
                           f"{escape(labels[i])}: {v:g}</title></rect>")
    for i, lab in enumerate(labels):
        x = c.x0 + (i + 0.5) * slot
        c.parts.append(f'<text transform="translate({x:.1f},{c.y1 + 10}) rotate(40)" class="tk">'
                       f"{escape(lab)}</text>")
    if len(series) > 1:
        c.legend(list(series), [PALETTE[j % len(PALETTE)] for j in range(len(series))])
    return c.render()


def forest(labels: Sequence[str], estimate, low, high, *, title: str, xlabel: str = "",
           flags: Sequence[str] | None = None, width: int = 640,
           reference: Sequence[float] = (), flag_label: str = "flagged: use with caution",
           interval_label: str = "confidence interval") -> str:
    """Point estimates with confidence intervals, one row per label (a forest plot).

    Rows with a non-empty flag are drawn hollow and grey, and a legend under the axis says
    so (``flag_label``); ``reference`` values are drawn as dashed vertical lines.
    """
    labels = [str(v) for v in labels]
    est, lo, hi = (np.asarray(a, float) for a in (estimate, low, high))
    legend = flags is not None and any(flags)
    height = 60 + 22 * max(len(labels), 1) + (24 if legend else 0)
    left = min(20 + 7 * max((len(s) for s in labels), default=4), 260)
    c = _Canvas(title, width, height, left=left, top=30, bottom=60 if legend else 36)
    c.xlim = _limits(np.concatenate([est, lo, hi, np.asarray(reference, float)]))
    c.ylim = (0.0, float(len(labels)))
    c.axes(xlabel=xlabel, yticks=False)
    for ref in reference:
        if c.xlim[0] <= ref <= c.xlim[1]:
            x = c.sx(ref)
            c.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{c.y0}" y2="{c.y1}" '
                           f'stroke="#d62728" stroke-dasharray="4 3"/>')
    for i, lab in enumerate(labels):
        y = c.y0 + (i + 0.5) * (c.y1 - c.y0) / max(len(labels), 1)
        flagged = bool(flags is not None and flags[i])
        col = "#999" if flagged else PALETTE[0]
        c.parts.append(f'<text x="{c.x0 - 6}" y="{y:.1f}" dy="4" text-anchor="end" class="tk">'
                       f"{escape(lab)}</text>")
        if np.isfinite(lo[i]) and np.isfinite(hi[i]):
            c.parts.append(f'<line x1="{c.sx(lo[i]):.1f}" x2="{c.sx(hi[i]):.1f}" y1="{y:.1f}" '
                           f'y2="{y:.1f}" stroke="{col}" stroke-width="2"/>')
        if np.isfinite(est[i]):
            fill = "#fff" if flagged else col
            c.parts.append(f'<circle cx="{c.sx(est[i]):.1f}" cy="{y:.1f}" r="4" fill="{fill}" '
                           f'stroke="{col}" stroke-width="1.5"><title>{escape(lab)}: '
                           f"{est[i]:.4g} [{lo[i]:.4g}, {hi[i]:.4g}]</title></circle>")
    if legend:
        y = height - 6
        x = c.x0
        col = PALETTE[0]
        c.parts.append(
            f'<circle cx="{x + 5}" cy="{y - 4}" r="4" fill="{col}" stroke="{col}"/>'
            f'<text x="{x + 14}" y="{y}" class="tk">estimate</text>'
            f'<circle cx="{x + 85}" cy="{y - 4}" r="4" fill="#fff" stroke="#999" '
            f'stroke-width="1.5"/><text x="{x + 94}" y="{y}" class="tk">'
            f"{escape(flag_label)}</text>"
            f'<line x1="{x + 290}" x2="{x + 316}" y1="{y - 4}" y2="{y - 4}" stroke="{col}" '
            f'stroke-width="2"/><text x="{x + 322}" y="{y}" class="tk">'
            f"{escape(interval_label)}</text>")
    return c.render()


def lines(series: dict[str, Sequence[float]], *, title: str, xlabel: str = "", ylabel: str = "",
          log: bool = False, width: int = 420, height: int = 280) -> str:
    """Line chart of one or more series against their index (e.g. raking iterations)."""
    c = _Canvas(title, width, height)
    arrays = {k: np.asarray(v, float) for k, v in series.items()}
    n = max((len(a) for a in arrays.values()), default=1)
    c.xlim = (0.0, float(max(n - 1, 1)))
    allv = np.concatenate(list(arrays.values())) if arrays else np.ones(1)
    allv = allv[np.isfinite(allv)]
    if log:
        allv = allv[allv > 0]
        c.ylog = True
        c.ylim = (float(allv.min()) / 2, float(allv.max()) * 2) if allv.size else (1e-12, 1.0)
    else:
        c.ylim = _limits(allv) if allv.size else (0.0, 1.0)
    c.axes(xlabel=xlabel, ylabel=ylabel)
    for j, (_name, a) in enumerate(arrays.items()):
        keep = np.isfinite(a) & ((a > 0) if log else True)
        xs, ys = c.sx(np.arange(len(a))[keep]), c.sy(a[keep])
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        col = PALETTE[j % len(PALETTE)]
        c.parts.append(f'<polyline points="{pts}" fill="none" stroke="{col}" stroke-width="2"/>')
        c.parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{col}"/>'
                       for x, y in zip(xs, ys, strict=True))
    if len(arrays) > 1:
        c.legend(list(arrays), [PALETTE[j % len(PALETTE)] for j in range(len(arrays))])
    return c.render()
