"""Documents made from a questionnaire: the field workers' reference sheet and DDI Codebook.

* :func:`reference_sheet` — one self-contained HTML page: for each question its label, hint,
  definition (XLSForm ``guidance_hint``), who is asked (``relevant``), accepted answers and
  checks; long country lists are summarised.
* :func:`to_ddi` — DDI Codebook 2.5 XML (namespace ``ddi:codebook:2_5``): ``docDscr``,
  ``stdyDscr`` (citation, instrument, sources), ``dataDscr`` with one ``var`` per question and
  per derived variable (``labl``, ``qstn/qstnLit``, ``ivuInstr``, ``universe``, ``catgry``,
  ``varFormat``; with data, ``catStat`` frequencies and ``sumStat``).
  Reference: DDI Alliance, DDI Codebook 2.5 schema (``codebook.xsd``).
"""

from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from questionnaires.concepts import (
    BACKGROUND_LABELS,
    DERIVED,
    GROUP_LABELS,
    MOBILITY_LABELS,
)
from questionnaires.expressions import Node, parse
from questionnaires.form import Questionnaire, base_type
from surveycore.checks import to_pandas

DDI_NS = "ddi:codebook:2_5"
_LONG_LIST = 30
_REF = re.compile(r"\$\{([^}]+)\}")


def _labels(form: Questionnaire) -> dict[str, str]:
    return {r["name"]: r.get("label", r["name"]) for r in form.survey if r.get("name")}


def describe_expression(form: Questionnaire, text: str) -> str:
    """An expression with each ``${name}`` followed by the question's label, for codebooks."""
    labels = _labels(form)
    return _REF.sub(lambda m: f"[{m.group(1)}: {labels.get(m.group(1), '')}]", text)


_WORDS = {
    "=": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
}


_STRUCTURE = ("note", "begin_group", "end_group", "begin group", "end group", "begin_repeat",
              "end_repeat", "begin repeat", "end repeat")


class _Plain:
    """Plain-language rendering of skip rules for field workers (Q numbers, choice labels)."""

    def __init__(self, form: Questionnaire) -> None:
        self.form = form
        self.numbers: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.lists: dict[str, str] = {}
        number = 0
        for row in form.survey:
            kind, list_name = base_type(row["type"])
            name = row.get("name", "")
            if kind == "calculate":
                calc = row.get("calculation", "")
                if len(calc) >= 2 and calc[0] == calc[-1] and calc[0] in "'\"":
                    self.values[name] = calc[1:-1]
                continue
            if row.get("label"):
                number += 1
                self.numbers[name] = f"Q{number}"
            if list_name:
                self.lists[name] = list_name

    def ref(self, name: str) -> str:
        if name in self.values:
            return self.values[name] or "(not set)"
        return f"{self.numbers.get(name, '')} {name}".strip()

    def literal(self, node: Node, about: Node | None) -> str:
        if node.kind == "str" and about is not None and about.kind == "ref":
            list_name = self.lists.get(about.value)
            if list_name:
                labels = dict(self.form.choice_list(list_name))
                if node.value in labels:
                    return f"“{labels[node.value]}”"
        return self.render(node)

    def render(self, node: Node, parent: str = "") -> str:
        k = node.kind
        if k == "ref":
            return self.ref(node.value)
        if k == "num":
            return f"{node.value:g}"
        if k == "str":
            return f"'{node.value}'"
        if k == "dot":
            return "the answer"
        if k == "neg":
            return "-" + self.render(node.args[0], "neg")
        if k == "binop":
            op = node.value
            a, b = node.args
            if op in ("and", "or"):
                text = f"{self.render(a, op)} {op} {self.render(b, op)}"
                return f"({text})" if parent in ("and", "or") and parent != op else text
            if op in ("=", "!=") and b.kind == "str" and b.value == "":
                return f"{self.render(a)} is {'answered' if op == '!=' else 'not answered'}"
            if op in _WORDS:
                return f"{self.render(a)} {_WORDS[op]} {self.literal(b, a)}"
            return f"{self.render(a, 'arith')} {op} {self.render(b, 'arith')}"
        name, args = node.value, node.args
        if name == "int" and args and args[0].kind == "call" and args[0].value == "format-date":
            fmt = args[0].args[1].value if args[0].args[1].kind == "str" else ""
            when = "today" if args[0].args[0].kind == "call" else self.render(args[0].args[0])
            part = {"%Y": "year", "%n": "month", "%m": "month", "%d": "day", "%e": "day"}.get(fmt)
            if part and when == "today":
                return f"the current {part}"
        if name == "selected" and len(args) == 2:
            return f"{self.render(args[0])} includes {self.literal(args[1], args[0])}"
        if name == "not":
            return f"not ({self.render(args[0])})"
        return f"{name}({', '.join(self.render(a) for a in args)})"


def plain_rule(form: Questionnaire, text: str) -> str:
    """A skip rule or check in words: ``Q2 country_birth is not FRA and …``."""
    return _Plain(form).render(parse(text))


def _choices_html(form: Questionnaire, list_name: str) -> str:
    items = form.choice_list(list_name)
    if len(items) > _LONG_LIST:
        special = [
            f"<code>{html.escape(n)}</code> {html.escape(lab)}"
            for n, lab in items
            if n.startswith("XX")
        ]
        return (
            f"<p>{len(items)} codes: ISO 3166-1 alpha-3 countries (e.g. <code>FRA</code> France, "
            f"<code>MAR</code> Morocco)" + ("; " + "; ".join(special) if special else "") + ".</p>"
        )
    rows = "".join(
        f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(lab)}</td></tr>"
        for n, lab in items
    )
    return f"<table class='choices'><tr><th>code</th><th>answer</th></tr>{rows}</table>"


def reference_sheet(
    form: Questionnaire, path: str | os.PathLike[str] | None = None, *, language: str | None = None
) -> str:
    """Write (optionally) and return the HTML reference sheet for field workers."""
    form = form.localised(language)
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(form.title)} — reference sheet</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "section{border-top:1px solid #ccc;padding:.6em 0}h2{font-size:1.05em;margin:.2em 0}"
        ".name{font-family:monospace;color:#555}.def{background:#f4f4f4;padding:.4em}"
        "table.choices{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px}</style>",
        "</head><body>",
        f"<h1>{esc(form.title)}</h1>",
        f"<p>Module <b>{esc(form.name)}</b>, version {esc(form.version)}"
        + (f", reporting country <b>{esc(form.country)}</b>" if form.country else "")
        + f". {esc(form.description)}</p>",
    ]
    number = 0
    for row in form.survey:
        kind, list_name = base_type(row["type"])
        if kind == "calculate" or not row.get("label"):
            continue
        number += 1
        parts.append("<section>")
        parts.append(
            f"<h2>Q{number}. {esc(row['label'])} <span class='name'>({esc(row['name'])})</span></h2>"
        )
        if row.get("hint"):
            parts.append(f"<p><i>Hint:</i> {esc(row['hint'])}</p>")
        if row.get("guidance_hint"):
            parts.append(f"<p class='def'><b>Definition:</b> {esc(row['guidance_hint'])}</p>")
        asked = ("if " + plain_rule(form, row["relevant"])) if row.get("relevant") else "everyone"
        parts.append(f"<p><b>Ask:</b> {esc(asked)}</p>")
        answer = {
            "integer": "a whole number",
            "decimal": "a number",
            "text": "text",
            "date": "a date",
        }
        if list_name:
            parts.append(
                "<p><b>Answer:</b> "
                + ("one" if kind == "select_one" else "one or more")
                + " of</p>"
                + _choices_html(form, list_name)
            )
        else:
            parts.append(f"<p><b>Answer:</b> {esc(answer.get(kind, kind))}</p>")
        if row.get("constraint"):
            parts.append(
                f"<p><b>Check:</b> {esc(row.get('constraint_message') or row['constraint'])}</p>"
            )
        if row.get("required", "").lower() in ("yes", "true", "true()"):
            parts.append("<p><b>Required.</b></p>")
        parts.append("</section>")
    if form.sources:
        parts.append("<h2>Sources</h2><ul>")
        parts.extend(f"<li>{esc(s)}</li>" for s in form.sources)
        parts.append("</ul>")
    parts.append("</body></html>")
    text = "\n".join(parts)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{DDI_NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


_DERIVED_CODES = {
    "birth_citizenship_group": GROUP_LABELS,
    "parental_background": BACKGROUND_LABELS,
    "temporary_mobility": MOBILITY_LABELS,
}


def to_ddi(
    form: Questionnaire,
    path: str | os.PathLike[str] | None = None,
    *,
    data: Any = None,
    language: str | None = None,
) -> str:
    """DDI Codebook 2.5 XML for a dataset collected with ``form`` (and derived variables).

    With ``data`` (a frame of answers, optionally with derived columns), categories carry
    frequencies (``catStat``) and numeric variables valid/invalid counts and min/max/mean.
    """
    form = form.localised(language)
    ET.register_namespace("", DDI_NS)
    frame = to_pandas(data, "data") if data is not None else None
    root = ET.Element(
        f"{{{DDI_NS}}}codeBook", {"version": "2.5", "ID": form.settings.get("form_id", form.name)}
    )
    doc = _sub(root, "docDscr")
    citation = _sub(doc, "citation")
    _sub(_sub(citation, "titlStmt"), "titl", f"Codebook: {form.title}")
    prod = _sub(citation, "prodStmt")
    _sub(prod, "prodDate", date.today().isoformat())
    _sub(prod, "software", "migsurvey questionnaires", version=form.version)
    study = _sub(root, "stdyDscr")
    scit = _sub(study, "citation")
    title = _sub(scit, "titlStmt")
    _sub(title, "titl", form.title)
    _sub(title, "IDNo", form.settings.get("form_id", form.name))
    _sub(_sub(scit, "verStmt"), "version", form.version)
    info = _sub(study, "stdyInfo")
    _sub(info, "abstract", form.description or form.title)
    if form.country:
        _sub(_sub(info, "sumDscr"), "nation", form.country, abbr=form.country)
    method = _sub(study, "method")
    coll = _sub(method, "dataColl")
    _sub(coll, "resInstru", f"XLSForm questionnaire, module {form.name} version {form.version}")
    if form.sources:
        sources = _sub(coll, "sources")
        for s in form.sources:
            _sub(sources, "dataSrc", s)
    if frame is not None:
        _sub(_sub(root, "fileDscr", ID="F1"), "fileTxt").append(_file_dims(frame))
    ddesc = _sub(root, "dataDscr")
    for i, row in enumerate(form.survey, start=1):
        kind, list_name = base_type(row["type"])
        if kind in _STRUCTURE or not row.get("name"):
            continue
        attrs = {"ID": f"V{i}", "name": row["name"]}
        if frame is not None:
            attrs["files"] = "F1"
        var = _sub(ddesc, "var", **attrs)
        # element order of the DDI 2.5 schema: labl, qstn, universe, sumStat, txt, catgry,
        # codInstr, derivation, varFormat
        _sub(var, "labl", row.get("label", row["name"]))
        if kind != "calculate":
            q = _sub(var, "qstn")
            _sub(q, "qstnLit", row.get("label", ""))
            instructions = " ".join(x for x in (row.get("hint"), row.get("guidance_hint")) if x)
            if instructions:
                _sub(q, "ivuInstr", instructions)
        if row.get("relevant"):
            _sub(var, "universe", describe_expression(form, row["relevant"]))
        values = frame[row["name"]] if frame is not None and row["name"] in frame else None
        numeric = kind in ("integer", "decimal", "range")
        if values is not None:
            _sum_stats(var, values, numeric=numeric)
        if row.get("guidance_hint"):
            _sub(var, "txt", row["guidance_hint"])
        if list_name:
            items = form.choice_list(list_name)
            counts = values.astype(str).value_counts() if values is not None else None
            for code, label in items:
                if counts is not None and len(items) > _LONG_LIST and code not in counts:
                    continue  # long country lists: only the codes that occur
                _category(var, code, label, counts)
        if kind == "calculate":
            drv = _sub(var, "derivation")
            _sub(drv, "drvdesc", "Calculated in the form")
            _sub(drv, "drvcmd", row.get("calculation", ""), syntax="XLSForm")
        _sub(var, "varFormat", type="numeric" if numeric else "character")
    for d in DERIVED.values():
        if frame is not None and d.name not in frame:
            continue
        attrs = {"ID": f"D_{d.name}", "name": d.name}
        if frame is not None:
            attrs["files"] = "F1"
        var = _sub(ddesc, "var", **attrs)
        _sub(var, "labl", d.label)
        _sub(var, "universe", d.universe)
        values = frame[d.name] if frame is not None else None
        if values is not None:
            _sum_stats(var, values, numeric=d.kind == "integer")
        _sub(var, "txt", d.definition)
        codes = (
            [("True", "yes"), ("False", "no")]
            if d.kind == "boolean"
            else [(c, _DERIVED_CODES.get(d.name, {}).get(c, c)) for c in d.categories]
        )
        counts = values.astype(object).astype(str).value_counts() if values is not None else None
        for code, label in codes:
            _category(var, code, label, counts)
        drv = _sub(var, "derivation")
        _sub(drv, "drvdesc", d.definition)
        _sub(
            drv,
            "drvcmd",
            "questionnaires.derive(df, ['"
            + d.name
            + "'], ...) from "
            + ", ".join(d.requires + d.optional),
            syntax="Python",
        )
        _sub(var, "varFormat", type="numeric" if d.kind == "integer" else "character")
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=True)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _category(var: ET.Element, code: str, label: str, counts: pd.Series | None) -> None:
    cat = _sub(var, "catgry")
    _sub(cat, "catValu", code)
    _sub(cat, "labl", label)
    if counts is not None:
        _sub(cat, "catStat", str(int(counts.get(code, 0))), type="freq")


def _file_dims(frame: pd.DataFrame) -> ET.Element:
    dims = ET.Element(f"{{{DDI_NS}}}dimensns")
    _sub(dims, "caseQnty", str(len(frame)))
    _sub(dims, "varQnty", str(frame.shape[1]))
    return dims


def _sum_stats(var: ET.Element, values: pd.Series, *, numeric: bool) -> None:
    valid = values.notna() & (values.astype(object).astype(str) != "")
    _sub(var, "sumStat", str(int(valid.sum())), type="vald")
    _sub(var, "sumStat", str(int((~valid).sum())), type="invd")
    if numeric and valid.any():
        x = pd.to_numeric(values[valid], errors="coerce").dropna()
        if len(x):
            _sub(var, "sumStat", f"{x.min():g}", type="min")
            _sub(var, "sumStat", f"{x.max():g}", type="max")
            _sub(var, "sumStat", f"{x.mean():.6g}", type="mean")
