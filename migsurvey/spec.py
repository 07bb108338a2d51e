"""Survey specification: one YAML file describes a whole survey.

The file names the frame, the strata, the sample size and its allocation, the selection at
each stage with its screening, the simulated fieldwork (demo and simulation only), the
weighting chain, the indicators and their disaggregations, and the quality and suppression
rules. :func:`load_spec` reads it, fills in defaults and checks every key against
:data:`SCHEMA`; an error names the file, the line and the column of the offending key, what
was expected and what was found.

Example
-------
>>> spec = parse_spec('''
... name: Test survey
... frame: {synthetic: {persons: 20000}}
... sample: {psus: 20}
... ''')
>>> spec["sample"]["allocation"], spec["selection"]["psu"]["method"]
('power', 'pps_systematic')
>>> parse_spec("sample: {psus: -3}")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
surveycore.errors.SurveyError: invalid survey specification
  argument: <spec>:1:16: sample.psus
  expected: an integer >= 2
...
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from surveycore import SurveyError


@dataclass(frozen=True)
class F:
    """One key of the schema: its type, default, options and children."""

    kind: str  # "str", "int", "float", "bool", "map", "list", "any", "strlist", "dict"
    default: Any = None
    required: bool = False
    options: tuple[str, ...] | None = None
    fields: dict[str, F] | None = None
    items: F | None = None
    minimum: float | None = None
    maximum: float | None = None
    doc: str = ""


def _m(doc: str = "", **fields: F) -> F:
    return F("map", fields=fields, doc=doc)


WEIGHT_STEP = F(
    "dict",
    doc="one step: {nonresponse: {cells: [...]}} | {rake: {margins: [...]}} | "
    "{calibrate: {margins: [...], method:, bounds:}} | {trim: {upper:, lower:}}",
)

#: The whole specification: keys, types, defaults and documentation.
SCHEMA: F = _m(
    "a migrant-targeted household survey",
    name=F("str", "Migration survey", doc="title of the survey and of its report"),
    country=F("str", "POL", doc="reporting country code (ISO 3166-1 alpha-3)"),
    reference_year=F("int", 2025, minimum=1900, maximum=2100, doc="census/survey reference year"),
    seed=F("int", 1, minimum=0, doc="seed of every random step (selection, fieldwork)"),
    frame=_m(
        "where the sampling frame comes from",
        synthetic=_m("generate a synthetic census",
                     persons=F("int", 400_000, minimum=1_000, doc="census size (persons)"),
                     seed=F("int", 1, minimum=0),
                     regions=F("int", 8, minimum=2, maximum=50)),
        census=F("str", None, doc="folder written by `migsurvey frame --out` (Parquet census)"),
        psu=F("str", "ea_id", doc="PSU identifier column of the frame"),
        size=F("str", "households", doc="measure of size of a PSU"),
        prevalence=F("str", "foreign_born", doc="frame count of the target group"),
        population=F("str", "persons", doc="frame count the prevalence is a share of"),
    ),
    strata=_m(
        "explicit strata crossed with prevalence classes",
        by=F("strlist", ["region"], doc="frame columns defining explicit strata"),
        cuts=F("list", [0.05, 0.15], items=F("float", minimum=0, maximum=1),
               doc="prevalence class limits (shares)"),
        labels=F("strlist", ["low", "medium", "high"], doc="names of the prevalence classes"),
        collapse_below=F("int", 2, minimum=1, doc="merge a class with fewer PSUs into the next"),
    ),
    sample=_m(
        "sample size and allocation",
        psus=F("int", 120, minimum=2, doc="number of PSUs to select"),
        allocation=F("str", "power", options=("proportional", "equal", "power", "neyman"),
                     doc="allocation of PSUs to strata (power: n_h ∝ X_h^q, X_h = target "
                         "group count; neyman: n_h ∝ N_h √(P_h(1−P_h)))"),
        power=F("float", 0.5, minimum=0, maximum=1, doc="exponent of the power allocation"),
        min_per_stratum=F("int", 2, minimum=1, doc="fewest PSUs in a stratum"),
    ),
    selection=_m(
        "selection at each stage",
        psu=_m(method=F("str", "pps_systematic", options=("pps_systematic", "sampford",
                                                            "srs", "systematic")),
               size=F("str", "households")),
        household=_m(
            screening=F("str", "migrant_household",
                        doc="household column observed at listing that classifies households"),
            take=F("dict", {"migrant": 12, "other": 4},
                   doc="households selected per PSU in each screening class"),
            method=F("str", "srs", options=("srs", "systematic")),
        ),
    ),
    fieldwork=_m(
        "simulated fieldwork (demo and simulation only)",
        response=_m(base=F("float", 0.9, minimum=0, maximum=1),
                    migrant=F("float", 0.8, minimum=0, maximum=2,
                              doc="response multiplier for migrant households"),
                    urban=F("float", 0.85, minimum=0, maximum=2,
                            doc="response multiplier in urban EAs")),
    ),
    weighting=F("list", [{"nonresponse": {"cells": ["urban", "screen"]}},
                         {"rake": {"margins": ["region", "sex", "age_group"]}}],
                items=WEIGHT_STEP, doc="the weighting chain, applied in order"),
    estimation=_m(
        "designs, indicators and domains",
        indicators=F("strlist", ["MI1.1", "MI1.2", "MI1.3", "MI1.4"]),
        by=F("list", [[], ["sex"], ["age_group"], ["region"]], items=F("any"),
             doc="disaggregations: a list of column lists ([] = national total)"),
        level=F("float", 0.95, minimum=0.5, maximum=0.999),
        variance=F("str", "taylor", options=("taylor", "JKn", "bootstrap"),
                   doc="Taylor linearisation or replicate weights"),
        replicates=F("int", 200, minimum=10, doc="bootstrap replicates"),
        lonely_psu=F("str", "adjust", options=("fail", "adjust", "remove", "certainty",
                                               "average")),
    ),
    quality=_m(
        "quality flags and suppression",
        preset=F("str", "statcan_cchs", doc="quality-rule preset of the estimation layer"),
        suppress=F("bool", True, doc="blank unreliable estimates in published tables"),
        disclosure=F("bool", True, doc="disclosure control (cell suppression); false needs "
                                       "care and warns: confidential cells are published"),
    ),
    output=_m(formats=F("strlist", ["csv"], doc="csv, parquet, xlsx, sdmx")),
)


WEIGHT_STEPS = {
    "nonresponse": _m(cells=F("strlist", ["urban", "screen"])),
    "rake": _m(margins=F("strlist", ["region", "sex", "age_group"]),
               tol=F("float", 1e-8, minimum=0), max_iter=F("int", 100, minimum=1)),
    "calibrate": _m(margins=F("strlist", ["region", "sex", "age_group"]),
                    method=F("str", "linear", options=("linear", "raking", "logit", "truncated")),
                    bounds=F("list", None, items=F("float", minimum=0)),
                    cluster=F("str", None, doc="household id column: integrated calibration "
                                               "(one weight per household)")),
    "trim": _m(upper=F("float", None, minimum=0), lower=F("float", None, minimum=0)),
}


@dataclass(frozen=True)
class _Marks:
    """``dotted.path`` → (line, column), 1-based, for messages."""

    source: str
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: str, *, key: bool = False) -> str:
        if key and path + "#key" in self.marks:
            line, col = self.marks[path + "#key"]
            return f"{self.source}:{line}:{col}: {path}"
        key = path
        while key and key not in self.marks:
            key = key.rpartition(".")[0] if "." in key else ""
        line, col = self.marks.get(key, (0, 0))
        return f"{self.source}:{line}:{col}: {path}" if line else f"{self.source}: {path}"


def _to_python(node: yaml.Node, path: str, marks: dict[str, tuple[int, int]]) -> Any:
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = str(yaml.safe_load(yaml.serialize(k)))
            sub = f"{path}.{key}" if path else key
            marks[sub + "#key"] = (k.start_mark.line + 1, k.start_mark.column + 1)
            out[key] = _to_python(v, sub, marks)
            marks[sub] = (v.start_mark.line + 1, v.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, f"{path}[{i}]", marks) for i, v in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def _fail(marks: _Marks, path: str, message: str, expected: str, found: Any, hint=None,
          key: bool = False):
    raise SurveyError(message, argument=marks.where(path, key=key), expected=expected,
                      found=repr(found), hint=hint)


def _check(value: Any, f: F, path: str, marks: _Marks) -> Any:
    bad = "invalid survey specification"
    if value is None:
        if f.required:
            _fail(marks, path, bad, f"a value ({f.doc or f.kind})", None)
        if f.kind == "map":
            value = {}
        else:
            return copy.deepcopy(f.default)
    if f.kind == "map":
        if not isinstance(value, dict):
            _fail(marks, path, bad, "a mapping of keys", value)
        unknown = [k for k in value if k not in f.fields]
        if unknown:
            sub = f"{path}.{unknown[0]}" if path else unknown[0]
            _fail(marks, sub, "unknown key in survey specification",
                  "one of " + ", ".join(f.fields), unknown[0],
                  hint="check the spelling; `migsurvey design --keys` lists the keys", key=True)
        return {k: _check(value.get(k), sub, f"{path}.{k}" if path else k, marks)
                for k, sub in f.fields.items()}
    if f.kind == "bool":
        if not isinstance(value, bool):
            _fail(marks, path, bad, "true or false", value)
        return value
    if f.kind in ("int", "float"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if f.kind == "float":
            ok = ok or isinstance(value, float)
        if not ok:
            _fail(marks, path, bad, "an integer" if f.kind == "int" else "a number", value)
        if (f.minimum is not None and value < f.minimum) or (f.maximum is not None and value > f.maximum):
            rng = (f">= {f.minimum:g}" if f.maximum is None else
                   f"from {f.minimum:g} to {f.maximum:g}")
            _fail(marks, path, bad, ("an integer " if f.kind == "int" else "a number ") + rng, value)
        return value
    if f.kind == "str":
        if not isinstance(value, str):
            _fail(marks, path, bad, "a text value", value)
        if f.options and value not in f.options:
            _fail(marks, path, bad, "one of " + ", ".join(f.options), value)
        return value
    if f.kind == "strlist":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            _fail(marks, path, bad, "a list of names", value)
        return value
    if f.kind == "list":
        if not isinstance(value, list):
            _fail(marks, path, bad, "a list", value)
        if f.items is WEIGHT_STEP:
            return [_check_step(v, f"{path}[{i}]", marks) for i, v in enumerate(value)]
        return [_check(v, f.items, f"{path}[{i}]", marks) if f.items else v
                for i, v in enumerate(value)]
    if f.kind == "dict":
        if not isinstance(value, dict):
            _fail(marks, path, bad, "a mapping", value)
        return value
    return value


def _check_step(value: Any, path: str, marks: _Marks) -> dict:
    if not isinstance(value, dict) or len(value) != 1:
        _fail(marks, path, "invalid weighting step",
              "a mapping with one key: " + ", ".join(WEIGHT_STEPS), value)
    (name, options), = value.items()
    if name not in WEIGHT_STEPS:
        _fail(marks, f"{path}.{name}", "unknown weighting step",
              "one of " + ", ".join(WEIGHT_STEPS), name, key=True)
    return {name: _check(options, WEIGHT_STEPS[name], f"{path}.{name}", marks)}


def _semantic(spec: dict, marks: _Marks) -> None:
    s = spec["strata"]
    if len(s["labels"]) != len(s["cuts"]) + 1:
        _fail(marks, "strata.labels", "invalid survey specification",
              f"{len(s['cuts']) + 1} labels for {len(s['cuts'])} cuts", s["labels"])
    if sorted(s["cuts"]) != s["cuts"]:
        _fail(marks, "strata.cuts", "invalid survey specification", "increasing cuts", s["cuts"])
    take = spec["selection"]["household"]["take"]
    for k, v in take.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            _fail(marks, f"selection.household.take.{k}", "invalid survey specification",
                  "a number of households >= 0", v)
    by = spec["estimation"]["by"]
    for i, b in enumerate(by):
        if isinstance(b, str):
            by[i] = [b]
        elif not (isinstance(b, list) and all(isinstance(x, str) for x in b)):
            _fail(marks, f"estimation.by[{i}]", "invalid survey specification",
                  "a column name or a list of column names ([] for the total)", b)
    for f in spec["output"]["formats"]:
        if f not in ("csv", "parquet", "xlsx", "sdmx"):
            _fail(marks, "output.formats", "invalid survey specification",
                  "csv, parquet, xlsx or sdmx", f)


def parse_spec(text: str, source: str = "<spec>") -> dict:
    """Parse and validate a specification given as YAML text; return it with defaults."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SurveyError("the specification is not valid YAML", argument=where,
                          expected="YAML text", found=str(getattr(exc, "problem", exc))) from None
    marks: dict[str, tuple[int, int]] = {}
    raw = {} if node is None else _to_python(node, "", marks)
    m = _Marks(source, marks)
    spec = _check(raw, SCHEMA, "", m)
    _semantic(spec, m)
    spec["_source"] = source
    spec["_text"] = text
    return spec


def load_spec(path: str | Path) -> dict:
    """Read and validate a YAML specification file.

    Raises
    ------
    SurveyError
        With ``argument`` of the form ``file:line:column: key.path``.
    """
    p = Path(path)
    if not p.exists():
        raise SurveyError("specification file not found", argument="spec",
                          expected="a YAML file", found=str(p),
                          hint="write a template with `migsurvey design --template spec.yaml`")
    return parse_spec(p.read_text(encoding="utf-8"), source=str(p))


def default_spec_text() -> str:
    """The demo specification shipped with the package (YAML text)."""
    return (Path(__file__).parent / "specs" / "demo.yaml").read_text(encoding="utf-8")


def describe_schema(f: F = SCHEMA, prefix: str = "") -> list[str]:
    """One line per key: ``path  type  default  doc`` (for ``--help`` and the docs)."""
    out = []
    for k, sub in (f.fields or {}).items():
        path = f"{prefix}.{k}" if prefix else k
        if sub.kind == "map":
            out.append(f"{path}:  {sub.doc}".rstrip())
            out += describe_schema(sub, path)
        else:
            opt = f" (one of {', '.join(sub.options)})" if sub.options else ""
            out.append(f"{path}  [{sub.kind}] default {sub.default!r}{opt}  {sub.doc}".rstrip())
    return out
