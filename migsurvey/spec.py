"""Survey specification: one YAML file describes a whole survey.

The file names the census and the interview files with a ``columns:`` mapping to the
package's standard names, the frame, the strata, the sample size and its allocation, the
selection at each stage with its screening, the simulated fieldwork (demo and simulation
only), the weighting chain, the indicators and their disaggregations, the weighting
diagnostics, and the quality and suppression rules.

The specification is a typed model (:class:`Spec`, pydantic) checked before anything runs:
unknown keys, wrong types, NaN and infinity, numbers out of range, unknown countries,
indicators and quality presets are refused, and every key gets its default, so no later step
meets a missing key. The YAML is read safely: duplicate keys, anchors/aliases and explicit tags
are refused and the text is capped at :data:`MAX_SPEC_BYTES`. An error names the file, the line
and the column of the offending key, what was expected and what was found.

:func:`parse_spec` returns the checked specification as a plain ``dict`` (the model's dump),
which the pipeline reads.

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
  expected: an integer from 2 to 10,000,000
...
"""

from __future__ import annotations

import datetime
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from surveycore import SurveyError
from surveycore.safe_yaml import flatten_merges, too_deep

MAX_SPEC_BYTES = 1_000_000
"""Largest specification accepted (bytes of YAML text)."""

BAD = "invalid survey specification"


class _Model(BaseModel):
    """Strict, closed models: no coercion of text to numbers, no unknown keys, no NaN."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=False)


# ------------------------------------------------------------------------------ columns


class ColumnCodes(_Model):
    """A mapped column whose codes differ from the standard ones, e.g. sex 1/2 → F/M."""

    column: str = Field(description="column of the file")
    codes: dict[int | str, str] = Field(
        default_factory=dict,
        description="file code → standard code (e.g. {1: M, 2: F}); codes not listed are "
                    "refused when the file is read")
    unknown: list[int | str] = Field(
        default_factory=list,
        description="the file's codes for 'not known' or 'not stated' (e.g. [999] for an age, "
                    "[9999] for a year, [99, DK]): read as unknown, never as a number or a "
                    "category")


ColumnMap = dict[str, str | ColumnCodes]


# ------------------------------------------------------------------------------ sections


class Synthetic(_Model):
    """Generate a synthetic census (demo, simulation)."""

    persons: int = Field(400_000, ge=1_000, le=200_000_000, description="census size (persons)")
    seed: int = Field(1, ge=0)
    regions: int = Field(8, ge=2, le=50)


class FrameSpec(_Model):
    """Where the sampling frame comes from."""

    census: str | None = Field(None, description="census: one person-level file (csv, parquet, "
                               "dta, sav, xlsx), a folder of Parquet files (a dataset), a "
                               ".duckdb database (with `table`), or the three-table folder "
                               "written by `migsurvey frame --synthetic`")
    table: str | None = Field(None, description="table of a .duckdb census")
    synthetic: Synthetic = Field(default_factory=Synthetic,
                                 description="synthetic census (when `census` is not given)")
    psu: str = Field("ea_id", description="PSU (enumeration area) column, a standard name")
    size: str = Field("households", description="measure of size of a PSU")
    prevalence: str = Field("foreign_born", description="frame count of the target group")
    population: str = Field("persons", description="frame count the prevalence is a share of")
    age_breaks: list[Annotated[int, Field(ge=0, le=120)]] = Field(
        [0, 15, 30, 45, 60], description="lower limits of the age groups (`age_group`)")


class Strata(_Model):
    """Explicit strata crossed with prevalence classes."""

    by: list[str] = Field(["region"], description="frame columns defining explicit strata")
    cuts: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        [0.05, 0.15], description="prevalence class limits (shares); "
        "a share equal to a limit belongs to the class above it")
    labels: list[str] = Field(["low", "medium", "high"], description="names of the classes")
    collapse_below: int = Field(2, ge=1, description="merge a class with fewer PSUs into the next")


class DomainMinimum(_Model):
    """Fewest PSUs in every domain of publication (a domain is made of whole strata)."""

    by: str | list[str] = Field(description="frame column(s) of the domains, among strata.by")
    psus: int = Field(ge=1, le=10_000_000, description="fewest PSUs in every domain")


class Sample(_Model):
    """Sample size and allocation."""

    psus: int = Field(120, ge=2, le=10_000_000, description="number of PSUs to select")
    allocation: Literal["proportional", "equal", "power", "neyman"] = Field(
        "power", description="allocation of PSUs to strata (power: n_h ∝ X_h^q, X_h = target "
        "group count; neyman: n_h ∝ N_h √(P_h(1−P_h)))")
    power: float = Field(0.5, ge=0, le=1, description="exponent of the power allocation")
    min_per_stratum: int = Field(2, ge=1, description="fewest PSUs in a stratum")
    min_per_domain: DomainMinimum | None = Field(
        None, description="fewest PSUs in every domain of publication made of whole strata "
        "(e.g. {by: region, psus: 20}): a published region needs enough PSUs for its design "
        "degrees of freedom (PSUs minus strata)")


class PsuSelection(_Model):
    method: Literal["pps_systematic", "sampford", "brewer", "conditional_poisson", "tille", "srs",
                    "systematic"] = Field(
        "pps_systematic", description="selection of PSUs within strata: πps without replacement "
        "(pps_systematic, sampford, brewer, conditional_poisson, tille) or equal probabilities "
        "(srs, systematic)")
    size: str = Field("households", description="measure of size of the PPS selection")


class HouseholdSelection(_Model):
    screening: str = Field("migrant_household", description="household column observed at "
                           "listing that classifies households (true: migrant)")
    take: dict[str, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        {"migrant": 12, "other": 4}, description="households selected per PSU in each class: "
        "migrant, other, and unknown (default: as migrant); a class with 0 is not covered")
    method: Literal["srs", "systematic"] = "srs"


class Selection(_Model):
    """Selection at each stage."""

    psu: PsuSelection = Field(default_factory=PsuSelection)
    household: HouseholdSelection = Field(default_factory=HouseholdSelection)


class Response(_Model):
    base: float = Field(0.9, ge=0, le=1)
    migrant: float = Field(0.8, ge=0, le=2, description="response multiplier, migrant households")
    urban: float = Field(0.85, ge=0, le=2, description="response multiplier in urban EAs")


class FieldworkSpec(_Model):
    """Simulated fieldwork (demo and simulation only)."""

    response: Response = Field(default_factory=Response)


class Interviews(_Model):
    """The interview files of real fieldwork."""

    households: str | None = Field(None, description="households file: the selected households "
                                   "(output of `migsurvey select`) with their AAPOR disposition")
    persons: str | None = Field(None, description="persons file: one row per interviewed person")
    emigrants: str | None = Field(None, description="emigrant roster: one row per former "
                                  "household member now abroad (the data of MI 1.4)")
    usual_residents: bool = Field(False, description="the persons file lists the usual "
                                  "residents of each household (the roster applied the "
                                  "residence rule): usual_member is yes for every person "
                                  "without an answer of their own")
    empty_completes: Literal["refuse", "nonresponse"] = Field(
        "refuse", description="a household with a 1.x disposition and no person in the persons "
        "file: refuse (its persons are unknown, never zero), or treat it as an eligible "
        "nonrespondent (2.0) whose weight goes to the respondents of its class, with a warning")
    selection: str | None = Field(None, description="the selection file of `migsurvey "
                                  "select`: the selected EAs (--psus) or the selected "
                                  "households (--out); every EA in it must be in the "
                                  "households file (an EA left out would vanish from the "
                                  "design)")
    disposition: str = Field("disposition", description="AAPOR final disposition column (1.x "
                             "respondent, 2.x nonrespondent, 3.x unknown eligibility, 4.x not "
                             "eligible)")
    columns: ColumnMap | None = Field(None, description="the keys of `columns` that differ "
                                      "for the interview files (other names or codes)")


Margin = str | list[str]


class EligibilityOptions(_Model):
    cells: list[str] = Field([], description="classes of the unknown-eligibility adjustment")


class NonresponseOptions(_Model):
    cells: list[str] = Field(["urban", "screen"], description="weighting classes")
    min_respondents: int = Field(20, ge=1, description="merge smaller classes")


_POPULATION = ("census population of the margins: all persons, or covered: only the persons "
               "of the households the design covers (their screening class at listing has a "
               "take above 0), for a design whose selection.household.take gives a class 0")


class RakeOptions(_Model):
    margins: list[Margin] = Field(["region", "sex", "age_group"],
                                  description="margins; a list of names is a crossed margin")
    tol: float = Field(1e-8, gt=0, le=0.1)
    max_iter: int = Field(100, ge=1, le=100_000)
    population: Literal["all", "covered"] = Field("all", description=_POPULATION)


class CalibrateOptions(_Model):
    margins: list[Margin] = Field(["region", "sex", "age_group"],
                                  description="margins; a list of names is a crossed margin, "
                                  "e.g. [[region, sex, age_group]]")
    method: Literal["linear", "raking", "logit", "truncated"] = "linear"
    bounds: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, min_length=2, max_length=2, description="[L, U] bounds on the g-weights")
    cluster: str | None = Field(None, description="household id column: integrated calibration "
                                "(one weight per household); `household` for the household")
    population: Literal["all", "covered"] = Field("all", description=_POPULATION)


class TrimOptions(_Model):
    upper: float | None = Field(None, gt=0)
    lower: float | None = Field(None, ge=0)


WEIGHT_STEPS: dict[str, type[_Model]] = {
    "eligibility": EligibilityOptions,
    "nonresponse": NonresponseOptions,
    "rake": RakeOptions,
    "calibrate": CalibrateOptions,
    "trim": TrimOptions,
}
HOUSEHOLD_STEPS = ("eligibility", "nonresponse")


class Estimation(_Model):
    """Designs, indicators and domains."""

    indicators: list[str] = Field(["MI1.1", "MI1.2", "MI1.3", "MI1.4"],
                                  description="indicator codes of the estimation registry")
    by: list[str | list[str]] = Field([[], ["sex"], ["age_group"], ["region"]],
                                      description="disaggregations: column lists ([] = total)")
    level: float = Field(0.95, ge=0.5, le=0.999)
    variance: Literal["taylor", "JKn", "bootstrap"] = Field(
        "taylor", description="Taylor linearisation or replicate weights")
    replicates: int = Field(200, ge=10, le=10_000, description="bootstrap replicates")
    lonely_psu: Literal["fail", "adjust", "remove", "certainty", "average"] = "adjust"


class Diagnostics(_Model):
    """Weighting diagnostics that warn (console, report, metadata)."""

    g_min: float = Field(0.2, gt=0, le=1, description="warn when a g-weight is below")
    g_max: float = Field(5.0, ge=1, description="warn when a g-weight is above")
    kish_deff: float = Field(5.0, ge=1, description="warn when Kish's 1 + CV² of the weights "
                             "is above")
    key_variables: list[str] = Field(["foreign_born"], description="variables whose estimate "
                                     "must not move by more than its SE through calibration")
    sparse_cell: int = Field(10, ge=1, description="a calibration cell with fewer respondents "
                             "is sparse")
    sparse_share: float = Field(0.2, ge=0, le=1, description="warn when more than this share "
                                "of the cells of a calibration is sparse")
    cell_cv: float = Field(0.1, gt=0, description="warn when the sample total of a "
                           "calibration cell has a larger CV (calibrated ratios are biased by "
                           "about CV² and their linearised SEs are too small)")


class Quality(_Model):
    """Quality flags and suppression."""

    preset: str = Field("statcan_cchs", description="quality-rule preset of the estimation layer")
    caution_df: int | None = Field(
        None, ge=1, le=10_000, description="flag with caution (the preset's caution flag) every "
        "estimate whose variance has fewer design degrees of freedom (PSUs minus strata in its "
        "domain); 8 follows the NCHS data presentation standards for proportions")
    suppress: bool = Field(True, description="blank unreliable estimates in published tables; "
                          "a quality choice, not disclosure control: a blanked cell can be "
                          "recovered by differencing its margins (confidential cells are "
                          "protected by quality.disclosure)")
    disclosure: bool = Field(True, description="disclosure control (cell suppression); false "
                             "needs care and warns: confidential cells are published")


class Output(_Model):
    formats: list[Literal["csv", "parquet", "xlsx", "sdmx"]] = ["csv"]
    sdmx_codes: dict[str, dict[int | str, str]] = Field(
        default_factory=dict,
        description="SDMX codes of the values of a disaggregation column of estimation.by, "
        "e.g. {region: {Île-de-Nord: R1, Région Sud: R2}}: an SDMX code holds letters, digits, "
        "'_', '@', '$' or '-' only, so labels with spaces or accents need one (sex and "
        "age_group are coded by CL_SEX and CL_AGE)")


class Spec(_Model):
    """A migrant-targeted household survey: the whole specification."""

    name: str = Field("Migration survey", description="title of the survey and of its report")
    country: str = Field("POL", description="reporting country (ISO 3166-1 alpha-3)")
    reference_year: int = Field(2025, ge=1900, le=2100, description="census/survey year")
    reference_date: datetime.date | str | None = Field(None, description="reference date YYYY-MM-DD of the "
                                       "survey (default: 31 December of reference_year); "
                                       "periods such as 'the last 12 months' end there")
    seed: int = Field(1, ge=0, description="seed of every random step (selection, fieldwork)")
    columns: ColumnMap = Field(default_factory=dict, description="standard name → column of "
                               "the census and interview files (or {column:, codes:})")
    frame: FrameSpec = Field(default_factory=FrameSpec)
    strata: Strata = Field(default_factory=Strata)
    sample: Sample = Field(default_factory=Sample)
    selection: Selection = Field(default_factory=Selection)
    fieldwork: FieldworkSpec = Field(default_factory=FieldworkSpec)
    interviews: Interviews = Field(default_factory=Interviews)
    weighting: list[dict[str, Any]] = Field(
        [{"nonresponse": {"cells": ["urban", "screen"]}},
         {"rake": {"margins": ["region", "sex", "age_group"]}}],
        description="the weighting chain, applied in order: eligibility, nonresponse, rake, "
                    "calibrate, trim")
    estimation: Estimation = Field(default_factory=Estimation)
    diagnostics: Diagnostics = Field(default_factory=Diagnostics)
    quality: Quality = Field(default_factory=Quality)
    output: Output = Field(default_factory=Output)

    @field_validator("reference_date")
    @classmethod
    def _date(cls, v: datetime.date | str | None) -> str | None:
        if isinstance(v, datetime.date):
            return v.isoformat()
        if v is not None:
            try:
                return datetime.date.fromisoformat(v).isoformat()
            except ValueError:
                raise ValueError("a date YYYY-MM-DD such as 2025-06-30") from None
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        from questionnaires.countries import iso_alpha3

        if v not in iso_alpha3():
            raise ValueError("an ISO 3166-1 alpha-3 country code such as KEN or POL")
        return v


# ------------------------------------------------------------------------------ YAML reading


@dataclass(frozen=True)
class _Marks:
    """``dotted.path`` → (line, column), 1-based, for messages."""

    source: str
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: str, *, key: bool = False) -> str:
        if key and path + "#key" in self.marks:
            line, col = self.marks[path + "#key"]
            return f"{self.source}:{line}:{col}: {path}"
        probe = path
        while probe and probe not in self.marks:
            probe = _parent(probe)
        line, col = self.marks.get(probe, (0, 0))
        return f"{self.source}:{line}:{col}: {path}" if line else f"{self.source}: {path}"


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _refuse(source: str, node_or_mark, message: str, expected: str, found: str, hint=None):
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    raise SurveyError(message, argument=where, expected=expected, found=found, hint=hint)


def _check_events(text: str, source: str) -> tuple | None:
    """The first anchor, alias or explicit tag of the text: ``(mark, expected, found, hint)``.

    Nesting deeper than :data:`surveycore.safe_yaml.MAX_DEPTH` is refused here, as the events
    are read, before the document is composed (recursively)."""
    first, depth = None, 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                deep = too_deep(ev, depth, source)
                if deep is not None:
                    raise deep
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
            if first is not None:
                continue
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                first = (ev.start_mark, "plain YAML without anchors (&) or aliases (*)",
                         "an anchor or alias", "write the values out where they are used")
                continue
            tag = getattr(ev, "tag", None)
            implicit = getattr(ev, "implicit", True)
            explicit = tag is not None and not (implicit is True or (
                isinstance(implicit, tuple) and any(implicit)))
            if explicit:
                first = ev.start_mark, "plain YAML without tags (!)", f"the tag {tag}", None
        return first
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        _refuse(source, mark, "the specification is not valid YAML", "YAML text",
                str(getattr(exc, "problem", exc)))
    return None


def _key_at(node: yaml.Node | None, mark) -> str:
    """The key path whose key comes last before ``mark`` (each node visited once, so shared
    nodes cost nothing)."""
    best, seen = ("", (-1, -1)), set()
    target = (mark.line, mark.column)
    stack = [(node, "")]
    while stack:
        n, path = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                label = k.value if isinstance(k, yaml.ScalarNode) else "(a key that is not text)"
                sub = f"{path}.{label}" if path else str(label)
                pos = (k.start_mark.line, k.start_mark.column)
                if best[1] < pos <= target:
                    best = (sub, pos)
                stack.append((v, sub))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(n.value))
    return best[0]


def _scalar(node: yaml.ScalarNode, source: str, path: str = "") -> Any:
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, float) and not math.isfinite(value):
        line, col = _mark(node)
        raise SurveyError(BAD, argument=f"{source}:{line}:{col}: {path}".rstrip(": "),
                          expected="a finite number", found=repr(value),
                          hint="NaN and infinity are not values of a specification")
    return value


def _to_python(node: yaml.Node, path: str, marks: dict[str, tuple[int, int]],
               source: str) -> Any:
    marks.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                _refuse(source, k, BAD, "a plain key", "a mapping or list used as a key")
            key = _scalar(k, source, path)
            label = str(key)
            sub = f"{path}.{label}" if path else label
            if key in out:
                line, col = _mark(k)
                raise SurveyError(BAD, argument=f"{source}:{line}:{col}: {sub}",
                                  expected="each key once", found=f"a second {label!r}",
                                  hint=f"{sub} is already given at line "
                                       f"{marks[sub + '#key'][0]}")
            marks[sub + "#key"] = _mark(k)
            out[key] = _to_python(v, sub, marks, source)
            marks[sub] = _mark(v)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, f"{path}[{i}]", marks, source) for i, v in enumerate(node.value)]
    return _scalar(node, source, path)


def _loc_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "list[str]", "ColumnCodes", "date", "function-after[_country(), str]"):
            continue  # union member names pydantic adds to a location
        else:
            out += f".{part}" if out else str(part)
    return out


def _expected(err: dict) -> str:
    t, ctx = err["type"], err.get("ctx") or {}
    num = "an integer" if isinstance(err.get("input"), int) else "a number"
    if t in ("int_type", "int_parsing", "int_from_float"):
        return "an integer"
    if t in ("float_type", "float_parsing"):
        return "a number"
    if t == "finite_number":
        return "a finite number"
    if t == "greater_than_equal":
        return f"{num} >= {ctx['ge']}"
    if t == "greater_than":
        return f"{num} > {ctx['gt']}"
    if t == "less_than_equal":
        return f"{num} <= {ctx['le']}"
    if t == "less_than":
        return f"{num} < {ctx['lt']}"
    if t == "bool_type":
        return "true or false"
    if t in ("string_type",):
        return "a text value"
    if t == "list_type":
        return "a list"
    if t in ("dict_type", "model_type", "model_attributes_type"):
        return "a mapping of keys"
    if t == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace("'", "")
    if t in ("too_short", "too_long"):
        return f"{ctx.get('min_length', ctx.get('max_length'))} values"
    if t == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


def _raise_validation(exc: ValidationError, marks: _Marks, prefix: str = "") -> None:
    errors = exc.errors(include_url=False)
    # the most specific error first: prefer a plain member failure over union noise
    err = min(errors, key=lambda e: (e["type"] in ("string_type", "list_type", "model_type")
                                     and len(errors) > 1, -len(e["loc"])))
    path = _loc_path(err["loc"])
    path = f"{prefix}.{path}" if prefix and path else (prefix or path)
    if err["type"] == "extra_forbidden":
        parent = _parent(path)
        allowed = _allowed_keys(parent)
        raise SurveyError("unknown key in survey specification", argument=marks.where(path, key=True),
                          expected="one of " + ", ".join(allowed) if allowed else "no further keys",
                          found=repr(path.rsplit(".", 1)[-1]),
                          hint="check the spelling; `migsurvey design --keys` lists the keys")
    found = err.get("input")
    raise SurveyError(BAD, argument=marks.where(path), expected=_expected_with_range(err, path),
                      found=repr(found) if not isinstance(found, dict) else "a mapping")


def _expected_with_range(err: dict, path: str) -> str:
    f = _field_at(path)
    base = _expected(err)
    if err["type"] in ("greater_than_equal", "less_than_equal") and f is not None:
        lo = hi = None
        for m in f.metadata:
            lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
            hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
        kind = "an integer" if f.annotation is int else "a number"
        if lo is not None and hi is not None:
            return f"{kind} from {_num(lo)} to {_num(hi)}"
        if lo is not None:
            return f"{kind} >= {_num(lo)}"
        return f"{kind} <= {_num(hi)}"
    return base


def _num(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:g}"


def _field_at(path: str):
    model: Any = Spec
    parts = [p for p in path.replace("[", ".[").split(".") if p]
    f = None
    for p in parts:
        if p.startswith("["):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and p in model.model_fields:
            f = model.model_fields[p]
            model = f.annotation
        elif p in WEIGHT_STEPS:
            model = WEIGHT_STEPS[p]
        else:
            return None
    return f


def _allowed_keys(parent: str) -> list[str]:
    model: Any = Spec
    for p in [p for p in parent.replace("[", ".[").split(".") if p]:
        if p.startswith("["):
            continue
        if p in WEIGHT_STEPS:
            model = WEIGHT_STEPS[p]
            continue
        f = model.model_fields.get(p) if isinstance(model, type) and issubclass(
            model, BaseModel) else None
        if f is None:
            return []
        model = f.annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


# ------------------------------------------------------------------------------ semantic checks


def _fail(marks: _Marks, path: str, message: str, expected: str, found: Any, hint=None,
          key: bool = False):
    raise SurveyError(message, argument=marks.where(path, key=key), expected=expected,
                      found=repr(found), hint=hint)


def _check_steps(steps: list, marks: _Marks) -> list[dict]:
    out = []
    person_seen = None
    for i, value in enumerate(steps):
        path = f"weighting[{i}]"
        if not isinstance(value, dict) or len(value) != 1:
            _fail(marks, path, "invalid weighting step",
                  "a mapping with one key: " + ", ".join(WEIGHT_STEPS), value)
        (name, options), = value.items()
        if name not in WEIGHT_STEPS:
            _fail(marks, f"{path}.{name}", "unknown weighting step",
                  "one of " + ", ".join(WEIGHT_STEPS), name, key=True)
        if name in HOUSEHOLD_STEPS and person_seen is not None:
            _fail(marks, f"{path}.{name}", "household steps come before person steps",
                  "eligibility and nonresponse before rake, calibrate and trim",
                  f"{name} after {person_seen}", key=True)
        if name not in HOUSEHOLD_STEPS:
            person_seen = name
        try:
            model = WEIGHT_STEPS[name].model_validate(options or {})
        except ValidationError as exc:
            _raise_validation(exc, marks, prefix=f"{path}.{name}")
        out.append({name: model.model_dump()})
    return out


def standard_columns() -> dict[str, str]:
    """Standard names a ``columns:`` mapping may use, with what each holds."""
    from questionnaires.inputs import EMIGRANT_INPUTS, INPUTS

    base = {
        "ea_id": "enumeration area (PSU) code; text codes with leading zeros are kept",
        "household_id": "household number (unique within its EA, or overall)",
        "line": "person line number within the household",
        "region": "region (first-level area)",
        "district": "district",
        "urban": "urban/rural classification of the EA",
        "sex": "sex, F or M after recoding",
        "age": "age in completed years",
        "age_group": "age group (made from age with frame.age_breaks when absent)",
        "weight": "final weight (weighted files)",
        "base_weight": "design weight 1/(π₁π₂) of a selected household",
        "stratum": "design stratum",
        "disposition": "AAPOR final disposition code of a household",
        "emigrants_12m": "former members who emigrated in the last 12 months (households)",
    }
    base.update({k: v.description for k, v in INPUTS.items()})
    base.update({k: f"emigrant roster: {v.description}" for k, v in EMIGRANT_INPUTS.items()})
    return base


def _semantic(spec: dict, marks: _Marks) -> None:
    s = spec["strata"]
    if len(s["labels"]) != len(s["cuts"]) + 1:
        _fail(marks, "strata.labels", BAD,
              f"{len(s['cuts']) + 1} labels for {len(s['cuts'])} cuts", s["labels"])
    if sorted(s["cuts"]) != s["cuts"]:
        _fail(marks, "strata.cuts", BAD, "increasing cuts", s["cuts"])
    _check_domain_minimum(spec, marks)
    breaks = spec["frame"]["age_breaks"]
    if not breaks or breaks[0] != 0 or sorted(set(breaks)) != breaks:
        _fail(marks, "frame.age_breaks", BAD, "increasing lower limits starting at 0", breaks)
    by = spec["estimation"]["by"]
    spec["estimation"]["by"] = [[b] if isinstance(b, str) else b for b in by]
    from estimation.indicators import REGISTRY
    from estimation.indicators.quality import PRESETS

    for i, code in enumerate(spec["estimation"]["indicators"]):
        if code not in REGISTRY:
            _fail(marks, f"estimation.indicators[{i}]", BAD,
                  "one of " + ", ".join(REGISTRY), code)
    if spec["quality"]["preset"] not in PRESETS:
        _fail(marks, "quality.preset", BAD, "one of " + ", ".join(PRESETS),
              spec["quality"]["preset"])
    _check_take(spec["selection"]["household"]["take"], marks)
    _check_coverage(spec, marks)
    std = standard_columns()
    for group, mapping in (("columns", spec["columns"]),
                           ("interviews.columns", spec["interviews"]["columns"] or {})):
        for name, target in mapping.items():
            if name not in std:
                _fail(marks, f"{group}.{name}", "unknown standard name in a column mapping",
                      "one of " + ", ".join(std), name, key=True,
                      hint="map the package's standard names to your columns: "
                           "{standard_name: YOUR_COLUMN}")
            if isinstance(target, dict) and target.get("codes"):
                for code, std_code in target["codes"].items():
                    if name == "sex" and std_code not in ("F", "M"):
                        _fail(marks, f"{group}.{name}.codes.{code}", BAD,
                              "F or M for sex", std_code)
    _check_sdmx_codes(spec, marks)
    steps = spec["weighting"]
    for i, st in enumerate(steps):
        (name, opt), = st.items()
        if name == "calibrate" and opt["bounds"] is not None:
            lo, hi = opt["bounds"]
            if not lo < 1 < hi:
                _fail(marks, f"weighting[{i}].calibrate.bounds", BAD,
                      "[L, U] with L < 1 < U", opt["bounds"])
        if name == "trim" and opt["upper"] is None and opt["lower"] is None:
            _fail(marks, f"weighting[{i}].trim", BAD, "upper or lower", opt)
        if name == "trim" and None not in (opt["upper"], opt["lower"]) \
                and opt["lower"] >= opt["upper"]:
            _fail(marks, f"weighting[{i}].trim.lower", BAD, "lower < upper", opt["lower"])


def _check_sdmx_codes(spec: dict, marks: _Marks) -> None:
    """``output.sdmx_codes``: columns of ``estimation.by``, valid and distinct SDMX codes."""
    from estimation.indicators.sdmx import CODE_PATTERN

    by = {c for g in spec["estimation"]["by"] for c in g}
    for col, table in spec["output"]["sdmx_codes"].items():
        if col not in by:
            _fail(marks, f"output.sdmx_codes.{col}", "SDMX codes for a column that is not "
                  "a disaggregation", "a column of estimation.by (" + ", ".join(sorted(by))
                  + ")", col, key=True)
        seen: dict[str, Any] = {}
        for value, code in table.items():
            if not CODE_PATTERN.match(code) or code == "_T":
                _fail(marks, f"output.sdmx_codes.{col}.{value}", "not a valid SDMX code",
                      "letters, digits, '_', '@', '$' or '-' (and not _T, the total)", code)
            if code in seen:
                _fail(marks, f"output.sdmx_codes.{col}.{value}", "two values with one SDMX "
                      "code", "a code of its own for every value",
                      f"{code!r} for {seen[code]!r} and {value!r}")
            seen[code] = value


def _check_domain_minimum(spec: dict, marks: _Marks) -> None:
    """``sample.min_per_domain``: domains made of whole strata, a minimum within the sample."""
    sm = spec["sample"]
    dm = sm.get("min_per_domain")
    if dm is None:
        return
    if isinstance(dm["by"], str):
        dm["by"] = [dm["by"]]
    strata_by = spec["strata"]["by"]
    outside = [c for c in dm["by"] if c not in strata_by]
    if not dm["by"] or outside:
        _fail(marks, "sample.min_per_domain.by", "the domains of sample.min_per_domain must be "
              "made of whole strata", "frame columns among strata.by " + repr(strata_by),
              dm["by"], hint="add the column to strata.by, so that every stratum lies in one "
              "domain")
    if dm["psus"] > sm["psus"]:
        _fail(marks, "sample.min_per_domain.psus", BAD,
              f"at most sample.psus = {sm['psus']}", dm["psus"])


SCREENING_CLASSES = ("migrant", "other", "unknown")
"""The classes of the household screening (``selection.household.screening`` true: migrant,
false: other, missing: unknown); ``take.unknown`` is optional and defaults to ``take.migrant``."""


def _check_take(take: dict, marks: _Marks) -> None:
    """``selection.household.take`` names a number for each screening class, and only them."""
    from questionnaires.inputs import close_names

    for name in take:
        if name not in SCREENING_CLASSES:
            near = close_names(str(name), list(SCREENING_CLASSES))
            _fail(marks, f"selection.household.take.{name}", "unknown screening class in "
                  "selection.household.take", "the screening classes "
                  + ", ".join(SCREENING_CLASSES), name, key=True,
                  hint=(f"did you mean {near[0]!r}? " if near else "")
                  + "screening sorts the listed households into migrant (the screening column "
                  "is true), other (false) and unknown (missing)")
    missing = [c for c in SCREENING_CLASSES[:2] if c not in take]
    if missing:
        _fail(marks, "selection.household.take", "a screening class has no number of "
              "households in selection.household.take",
              "a number for each of " + ", ".join(SCREENING_CLASSES[:2]), take, key=True,
              hint=f"add {missing[0]}: N (0 to select none of them)")


def uncovered_classes(spec: dict) -> list[str]:
    """The screening classes of which ``selection.household.take`` selects no household.

    Their households have a zero probability of selection: the sample does not cover them."""
    take = spec["selection"]["household"]["take"]
    return [c for c in SCREENING_CLASSES if take.get(c, take.get("migrant")) == 0]


def covered_universe(spec: dict) -> str:
    """The population the design covers, in words (the ``universe`` of the indicator tables)."""
    out = uncovered_classes(spec)
    if not out:
        return "all persons (households) of the frame"
    kept = [c for c in SCREENING_CLASSES if c not in out]
    return ("persons (households) of the households screened " + " or ".join(kept)
            + " at listing; " + ", ".join(f"selection.household.take.{c}: 0" for c in out)
            + " gives the others no chance of selection")


def _check_coverage(spec: dict, marks: _Marks) -> None:
    """Refuse the calibration of a sample that leaves a screening class out to census margins
    of the whole population: the households of a class with ``take: 0`` have a zero inclusion
    probability, so no weighting of the sample can represent them, and calibration to margins
    that include them would make the covered households stand for everyone."""
    out = uncovered_classes(spec)
    if not out:
        return
    for i, step in enumerate(spec["weighting"]):
        (name, _opt), = step.items()
        if name in ("rake", "calibrate") and _opt.get("population", "all") != "covered":
            _fail(marks, f"weighting[{i}].{name}", "the sample covers only part of the "
                  "population: it cannot be calibrated to census margins of all persons",
                  "no rake or calibrate step when selection.household.take gives a "
                  "screening class 0",
                  f"{name} with " + ", ".join(f"selection.household.take.{c}: 0" for c in out),
                  key=True, hint="households of a class with take 0 have no chance of selection "
                  "and the census margins count their members; calibrate to the covered "
                  f"population's census counts with population: covered in weighting[{i}]."
                  f"{name}, remove the step (the base and nonresponse-adjusted weights "
                  "estimate the covered population), or give "
                  + " and ".join(out) + " a take above 0"
                  + (" (the default chain rakes: give weighting: without rake)"
                     if "weighting" not in marks.marks else ""))


def check_column_map(columns: dict, key: str = "columns") -> dict:
    """A column mapping given in Python, checked as ``columns:`` of a specification is:
    standard names only, a column name or ``{column:, codes:}`` for each, sex coded F/M."""
    try:
        model = Spec.model_validate({"columns": columns})
    except ValidationError as exc:
        _raise_validation(exc, _Marks("columns="), prefix="")
    checked = model.model_dump()["columns"]
    std = standard_columns()
    for name, target in checked.items():
        if name not in std:
            raise SurveyError("unknown standard name in a column mapping",
                              argument=f"{key}.{name}", expected="one of " + ", ".join(std),
                              found=repr(name), hint="map the package's standard names to your "
                              "columns: {standard_name: YOUR_COLUMN}")
        if isinstance(target, dict) and name == "sex":
            bad = [v for v in (target.get("codes") or {}).values() if v not in ("F", "M")]
            if bad:
                raise SurveyError(BAD, argument=f"{key}.sex.codes", expected="F or M for sex",
                                  found=repr(bad[0]))
    return checked


def parse_spec(text: str, source: str = "<spec>") -> dict:
    """Parse and check a specification given as YAML text; return it with every default.

    Raises
    ------
    SurveyError
        With ``argument`` of the form ``source:line:column: key.path``.
    """
    if not isinstance(text, str):
        raise SurveyError("a specification is YAML text", argument="spec", expected="text",
                          found=type(text).__name__)
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise SurveyError(BAD, argument=source, expected=f"at most {MAX_SPEC_BYTES:,} bytes",
                          found=f"{len(text.encode('utf-8', 'replace')):,} bytes")
    forbidden = _check_events(text, source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        _refuse(source, getattr(exc, "problem_mark", None), "the specification is not valid YAML",
                "YAML text", str(getattr(exc, "problem", exc)))
    if forbidden is not None:
        mark, expected, found, hint = forbidden
        key = _key_at(node, mark)
        raise SurveyError(BAD, argument=f"{source}:{mark.line + 1}:{mark.column + 1}"
                          + (f": {key}" if key else ""), expected=expected, found=found,
                          hint=hint)
    flatten_merges(node, source)
    marks: dict[str, tuple[int, int]] = {}
    raw = {} if node is None else _to_python(node, "", marks, source)
    m = _Marks(source, marks)
    if not isinstance(raw, dict):
        # the file's content is not echoed: it may be any file, not a specification
        _fail(m, "", BAD, "a mapping of keys (name:, frame:, sample: …)",
              f"a YAML {type(raw).__name__} ({len(text):,} characters), not a mapping")
    try:
        model = Spec.model_validate(raw)
    except ValidationError as exc:
        _raise_validation(exc, m)
    spec = model.model_dump()
    spec["weighting"] = _check_steps(spec["weighting"], m)
    _semantic(spec, m)
    spec["_source"] = source
    spec["_text"] = text
    spec["_marks"] = m
    return spec


def load_spec(path: str | Path) -> dict:
    """Read and check a YAML specification file.

    The keys, values and bounds are checked here; the columns the specification names are
    checked against the headers of its input files by
    :func:`migsurvey.inputs.check_spec_inputs` (every command of the command line calls it
    right after this, before anything runs).

    Raises
    ------
    migsurvey.io.InputFileError
        The file does not exist or cannot be read.
    SurveyError
        With ``argument`` of the form ``file:line:column: key.path``.
    """
    from migsurvey.io import InputFileError

    p = Path(path)
    if p.exists() and not p.is_file():
        raise InputFileError("the specification must be a regular file", argument="--spec",
                             expected="a YAML file", found=f"{p}: a folder, device or pipe",
                             hint="give the specification's file name")
    if not p.is_file():
        raise InputFileError("specification file not found", argument="--spec",
                             expected="a YAML file", found=str(p),
                             hint="write a template with `migsurvey design --template spec.yaml`")
    if p.stat().st_size > MAX_SPEC_BYTES:
        raise SurveyError(BAD, argument=str(p), expected=f"at most {MAX_SPEC_BYTES:,} bytes",
                          found=f"{p.stat().st_size:,} bytes")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SurveyError("the specification is not UTF-8 text", argument=str(p),
                          expected="a UTF-8 YAML file", found=str(exc)) from None
    spec = parse_spec(text, source=str(p))
    _resolve_paths(spec, p.parent)
    return spec


def _resolve_paths(spec: dict, folder: Path) -> None:
    """Relative file names of a specification file are relative to its folder."""
    for section, key in (("frame", "census"), ("interviews", "households"),
                         ("interviews", "persons"), ("interviews", "emigrants"),
                         ("interviews", "selection")):
        value = spec[section][key]
        if value and not Path(value).is_absolute():
            spec[section][key] = str(folder / value)


def spec_error(spec: dict, path: str, message: str, expected: str, found: Any,
               hint: str | None = None, *, key: bool = False) -> SurveyError:
    """A :class:`SurveyError` that points at ``path`` in the specification file."""
    marks = spec.get("_marks") or _Marks(spec.get("_source", "<spec>"))
    return SurveyError(message, argument=marks.where(path, key=key), expected=expected,
                       found=str(found), hint=hint)


def default_spec_text() -> str:
    """The demo specification shipped with the package (YAML text)."""
    return (Path(__file__).parent / "specs" / "demo.yaml").read_text(encoding="utf-8")


def describe_schema(model: type[BaseModel] = Spec, prefix: str = "") -> list[str]:
    """One line per key: ``path  [type]  default  doc`` (for ``--keys`` and the docs)."""
    out = []
    for k, f in model.model_fields.items():
        path = f"{prefix}.{k}" if prefix else k
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            doc = f.description or ((ann.__doc__ or "").strip().splitlines() or [""])[0]
            out.append(f"{path}:  {doc}".rstrip())
            out += describe_schema(ann, path)
            continue
        default = ("required" if f.is_required()
                   else f"default {f.get_default(call_default_factory=True)!r}")
        tname = getattr(ann, "__name__", None) or str(ann)
        for noise in ("typing.", "migsurvey.spec.", "datetime."):
            tname = tname.replace(noise, "")
        out.append(f"{path}  [{tname}] {default}  {f.description or ''}".rstrip())
        nested = [a for a in typing.get_args(ann) if isinstance(a, type)
                  and issubclass(a, BaseModel)]  # an optional section: X | None
        for sub in nested:
            out += describe_schema(sub, path)
        if k == "weighting" and model is Spec:
            for name, sm in WEIGHT_STEPS.items():
                out += describe_schema(sm, f"weighting[].{name}")
    return out


#: Top-level sections of the specification (for documentation and tests).
SECTIONS = tuple(Spec.model_fields)
