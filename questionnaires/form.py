"""``Questionnaire``: a question module (versioned YAML) and what it produces.

A module is a YAML file in ``questionnaires/modules`` (``core``, ``screening``)::

    module: core            # name used by load()
    version: "1.0.0"        # semantic version, written to the XLSForm settings
    title: ...
    form_id: ...
    choices:
      yes_no_dk: [["yes", "Yes"], ["no", "No"], ["dk", "Don't know"]]
      countries: {source: iso3166}                   # ISO 3166-1 alpha-3 + XXX unknown
      citizenships: {source: iso3166, stateless: true}   # + XXA stateless
    questions:
      - name: birth_year
        type: integer
        label: ...
        hint: ...           # shown to the respondent
        definition: ...     # for field workers (XLSForm guidance_hint)
        relevant: ...       # XLSForm expressions
        constraint: ...
        required: true

``{country}`` in an expression is replaced by the reporting country given to :func:`load`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from questionnaires import xlsform
from questionnaires.countries import choice_rows, iso_alpha3
from questionnaires.expressions import parse, references
from surveycore import SurveyError
from surveycore.safe_yaml import load_yaml

COUNTRY_PLACEHOLDER = "{country}"


def _ask_country(row: dict[str, str]) -> dict[str, str]:
    """The reporting-country row as a required question when no country was given."""
    asked = {k: v for k, v in row.items() if k != "calculation"}
    asked.update(
        type="select_one countries",
        label="In which country does this survey take place (the reporting country)?",
        required="yes",
        appearance="autocomplete",
    )
    return asked


DATA_TYPES = (
    "integer",
    "decimal",
    "range",
    "text",
    "select_one",
    "select_multiple",
    "date",
    "time",
    "datetime",
    "barcode",
)
STRUCTURE_TYPES = (
    "begin_group",
    "end_group",
    "begin group",
    "end group",
    "begin_repeat",
    "end_repeat",
    "begin repeat",
    "end repeat",
    "note",
    "calculate",
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "audit",
    "hidden",
    "acknowledge",
    "geopoint",
    "geotrace",
    "geoshape",
    "image",
    "audio",
    "video",
    "file",
    "rank",
    "select_one_from_file",
    "select_multiple_from_file",
    "xml-external",
    "background-audio",
    "phonenumber",
    "email",
)
_YAML_KEYS = {"definition": "guidance_hint"}
TRANSLATABLE = (
    "label",
    "hint",
    "guidance_hint",
    "constraint_message",
    "required_message",
    "image",
    "audio",
    "video",
)


def base_type(type_text: str) -> tuple[str, str | None]:
    """Split an XLSForm type into (type, list name): ``"select_one countries"``."""
    parts = type_text.split()
    if not parts:
        return "", None
    head = parts[0].lower()
    if head in ("select_one", "select_multiple", "rank") and len(parts) > 1:
        return head, parts[1]
    if len(parts) > 1 and " ".join(parts[:2]).lower() in (
        "begin group",
        "end group",
        "begin repeat",
        "end repeat",
    ):
        return " ".join(parts[:2]).lower(), None
    return head, None


@dataclass(frozen=True)
class Questionnaire:
    """A question module: XLSForm rows plus module metadata.

    Build one with :func:`load` (versioned YAML shipped with the package) or
    :func:`read_xlsform`. It is immutable; :meth:`with_country` returns a new one.
    """

    survey: tuple[dict[str, str], ...]
    choices: tuple[dict[str, str], ...]
    settings: dict[str, str]
    name: str = ""
    description: str = ""
    sources: tuple[str, ...] = ()
    country: str | None = None
    _template: tuple[dict[str, str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_form(self)

    # ---------------------------------------------------------------- descriptive
    @property
    def version(self) -> str:
        return self.settings.get("version", "")

    @property
    def title(self) -> str:
        return self.settings.get("form_title", self.name)

    @property
    def questions(self) -> list[dict[str, str]]:
        """Rows that hold an answer in the data (integer, select_one, text, ...)."""
        return [r for r in self.survey if base_type(r["type"])[0] in DATA_TYPES]

    @property
    def calculations(self) -> list[dict[str, str]]:
        return [r for r in self.survey if base_type(r["type"])[0] == "calculate"]

    def question(self, name: str) -> dict[str, str]:
        for row in self.survey:
            if row.get("name") == name:
                return dict(row)
        raise SurveyError(
            "no such question",
            argument="name",
            expected="one of " + ", ".join(r["name"] for r in self.questions),
            found=repr(name),
        )

    def choice_list(self, list_name: str) -> list[tuple[str, str]]:
        """(name, label) pairs of one choice list."""
        return [
            (c["name"], c.get("label", "")) for c in self.choices if c.get("list_name") == list_name
        ]

    def __repr__(self) -> str:
        return (
            f"Questionnaire({self.name!r}, version={self.version!r}, "
            f"{len(self.questions)} questions, country={self.country!r})"
        )

    # ---------------------------------------------------------------- transforms
    @property
    def languages(self) -> list[str]:
        """Languages of translated columns (``label::French (fr)`` → ``French (fr)``)."""
        found: list[str] = []
        for row in (*self.survey, *self.choices):
            for key in row:
                if "::" in key and key.split("::", 1)[0] in TRANSLATABLE:
                    lang = key.split("::", 1)[1]
                    if lang not in found:
                        found.append(lang)
        return found

    def localised(self, language: str | None = None) -> Questionnaire:
        """A copy whose plain ``label``, ``hint`` … columns hold one language's texts.

        ``language`` is a name as in the XLSForm columns (``"French (fr)"``) or its code
        (``"fr"``); default the form's ``default_language``, else the first language.
        """
        langs = self.languages
        if not langs:
            return self
        wanted = language or self.settings.get("default_language") or langs[0]
        match = [lang for lang in langs if lang == wanted or lang.endswith(f"({wanted})")]
        if not match:
            raise SurveyError(
                "language not in the form",
                argument="language",
                expected="one of " + ", ".join(langs),
                found=repr(language),
            )
        lang = match[0]

        def pick(row: dict[str, str]) -> dict[str, str]:
            out = dict(row)
            for col in TRANSLATABLE:
                text = row.get(f"{col}::{lang}", "")
                if text:
                    out[col] = text
            return out

        return replace(
            self,
            survey=tuple(pick(r) for r in self.survey),
            choices=tuple(pick(c) for c in self.choices),
            _template=tuple(pick(r) for r in self._template),
        )

    def with_country(self, country: str) -> Questionnaire:
        """A copy with the reporting country set in the skip logic (``{country}``)."""
        if not isinstance(country, str) or country not in iso_alpha3():
            raise SurveyError(
                "unknown reporting country code",
                argument="country",
                expected="an ISO 3166-1 alpha-3 code, e.g. 'FRA'",
                found=repr(country),
            )
        template = self._template or self.survey
        survey = tuple(
            {k: v.replace(COUNTRY_PLACEHOLDER, country) for k, v in row.items()} for row in template
        )
        return replace(self, survey=survey, country=country, _template=template)

    # ---------------------------------------------------------------- outputs
    def xlsform_sheets(self) -> dict[str, pd.DataFrame]:
        """The survey, choices and settings sheets as data frames of text.

        Without a reporting country (``load(..., country=None)``) the skip logic cannot be
        fixed in advance, so the form asks for it: the calculated ``reporting_country`` becomes
        a required question on the country list, never a placeholder that would treat every
        respondent as born abroad.
        """
        survey = list(self.survey)
        if self.country is None:
            survey = [_ask_country(row) if COUNTRY_PLACEHOLDER in row.get("calculation", "") else row for row in survey]
        return xlsform.sheets(survey, list(self.choices), dict(self.settings))

    def to_xlsform(self, path: str | os.PathLike[str]) -> Path:
        """Write the XLSForm workbook (sheets survey, choices, settings); return its path.

        The workbook converts with ``pyxform`` (ODK, KoboToolbox, SurveyCTO).
        """
        xlsform.write(path, self.xlsform_sheets())
        return Path(path)

    def validate(self, data: Any, *, reference_date: date | str | None = None) -> Any:
        """Edit checks of collected data against the form; see :func:`questionnaires.validate`."""
        from questionnaires.validate import validate

        return validate(self, data, reference_date=reference_date)

    def reference_sheet(
        self, path: str | os.PathLike[str] | None = None, *, language: str | None = None
    ) -> str:
        """HTML reference sheet for field workers (labels, hints, definitions, skip rules)."""
        from questionnaires.documents import reference_sheet

        return reference_sheet(self, path, language=language)

    def to_ddi(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        data: Any = None,
        language: str | None = None,
    ) -> str:
        """DDI Codebook 2.5 XML describing the dataset (variables, categories, universes)."""
        from questionnaires.documents import to_ddi

        return to_ddi(self, path, data=data, language=language)


def _check_form(form: Questionnaire) -> None:
    names: set[str] = set()
    lists = {c.get("list_name") for c in form.choices}
    seen_choice: set[tuple[str, str]] = set()
    for c in form.choices:
        key = (c.get("list_name", ""), c.get("name", ""))
        if not key[0] or not key[1]:
            raise SurveyError(
                "a choice row lacks list_name or name", argument="choices", found=str(c)
            )
        if key in seen_choice:
            raise SurveyError(
                "duplicate choice name in a list",
                argument="choices",
                expected="unique names within each list_name",
                found=f"{key[0]}: {key[1]!r}",
            )
        seen_choice.add(key)
    for row in form.survey:
        kind, list_name = base_type(row.get("type", ""))
        if kind not in DATA_TYPES and kind not in STRUCTURE_TYPES:
            raise SurveyError(
                "unknown question type",
                argument="survey",
                expected="an XLSForm type (integer, decimal, text, select_one <list>, date, calculate ...)",
                found=f"{row.get('name', '?')}: {row.get('type')!r}",
            )
        name = row.get("name", "")
        if kind not in ("end_group", "end group", "end_repeat", "end repeat"):
            if not name:
                raise SurveyError("a survey row has no name", argument="survey", found=str(row))
            if name in names:
                raise SurveyError("duplicate question name", argument="survey", found=repr(name))
        if kind in ("select_one", "select_multiple") and list_name not in lists:
            raise SurveyError(
                "a select question uses a choice list that does not exist",
                argument="choices",
                expected="a list_name in the choices sheet",
                found=f"{name}: {list_name!r}",
            )
        for column in ("relevant", "constraint", "calculation", "required"):
            text = row.get(column, "")
            if not text or (
                column == "required"
                and text.lower() in ("yes", "no", "true", "false", "true()", "false()")
            ):
                continue
            try:
                tree = parse(text)
            except SurveyError as err:
                raise SurveyError(
                    f"bad {column} expression in question {name!r}",
                    argument=column,
                    expected="an XLSForm expression",
                    found=f"{text!r} ({err.message})",
                ) from None
            unknown = references(tree) - names - ({name} if column == "constraint" else set())
            if unknown:
                raise SurveyError(
                    f"{column} of {name!r} reads questions that are not asked before it",
                    argument=column,
                    expected="${name} of an earlier question",
                    found=", ".join(sorted(unknown)),
                )
        if name:
            names.add(name)


def _modules_folder() -> Path:
    return Path(str(resources.files("questionnaires") / "modules"))


def _module_path(name: str) -> Path:
    return _modules_folder() / f"{name}.yaml"


def _versions(name: str) -> dict[str, Path]:
    """Shipped versions of a module: ``name.yaml`` (current) and ``name@X.Y.Z.yaml`` (earlier)."""
    out = {}
    for path in sorted(_modules_folder().glob(f"{name}*.yaml")):
        if path.stem == name or path.stem.startswith(f"{name}@"):
            spec = load_yaml(path.read_text(encoding="utf-8"), str(path))
            out[str(spec["version"])] = path
    return out


def available_modules() -> pd.DataFrame:
    """The question modules shipped with the package.

    One row per module (its current version): name, version, earlier versions still
    loadable with ``load(name, version=...)``, title, number of questions.
    """
    rows = []
    for path in sorted(_modules_folder().glob("*.yaml")):
        if "@" in path.stem:
            continue
        spec = load_yaml(path.read_text(encoding="utf-8"), str(path))
        earlier = [v for v in _versions(path.stem) if v != str(spec["version"])]
        rows.append(
            {
                "name": spec["module"],
                "version": str(spec["version"]),
                "earlier_versions": " ".join(earlier),
                "title": spec["title"],
                "questions": len(spec["questions"]),
            }
        )
    return pd.DataFrame(rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def from_spec(spec: dict[str, Any], origin: str) -> Questionnaire:
    """Build a :class:`Questionnaire` from a parsed YAML module."""
    if not isinstance(spec, dict):
        raise SurveyError(
            "a question module must be a mapping",
            argument="module",
            expected="a YAML mapping with keys module, version, title, questions (and choices)",
            found=f"{origin}: {'an empty file' if spec is None else type(spec).__name__}",
            hint="see the shipped modules (questionnaires.available_modules()) for the layout",
        )
    for key in ("module", "version", "title", "questions"):
        if key not in spec:
            raise SurveyError(
                "a question module lacks a required key",
                argument="module",
                expected="keys module, version, title, questions (and choices)",
                found=f"{origin}: no {key!r}",
            )
    questions = spec["questions"]
    if not isinstance(questions, list) or not all(isinstance(q, dict) for q in questions):
        raise SurveyError(
            "the questions of a module must be a list of mappings",
            argument="module",
            expected="questions: [{name: ..., type: ..., label: ...}, ...]",
            found=f"{origin}: {type(questions).__name__}",
            hint="write each question as a mapping under questions:, one '- name: ...' per question",
        )
    languages = {str(k): _text(v) for k, v in (spec.get("languages") or {}).items()}

    def cells(key: str, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            return {key: _text(value)}
        if key not in TRANSLATABLE:
            raise SurveyError(
                f"{key} cannot be translated",
                argument="module",
                expected="translations only for " + ", ".join(TRANSLATABLE[:5]),
                found=where,
            )
        unknown = [code for code in value if str(code) not in languages]
        if unknown:
            raise SurveyError(
                "a translation uses a language the module does not declare",
                argument="languages",
                expected="codes declared under languages: " + (", ".join(languages) or "none"),
                found=f"{where}: {', '.join(map(str, unknown))}",
                hint="add e.g. languages: {en: English, fr: French} at the top of the module",
            )
        return {f"{key}::{languages[str(c)]} ({c})": _text(t) for c, t in value.items()}

    choices: list[dict[str, str]] = []
    for list_name, items in (spec.get("choices") or {}).items():
        if isinstance(items, dict):
            if items.get("source") != "iso3166":
                raise SurveyError(
                    "unknown choice source",
                    argument="choices",
                    expected="{source: iso3166, stateless: true|false}",
                    found=f"{list_name}: {items}",
                )
            choices.extend(choice_rows(list_name, stateless=bool(items.get("stateless", False))))
            continue
        for item in items:
            name, label = (item["name"], item["label"]) if isinstance(item, dict) else item
            choices.append(
                {"list_name": list_name, "name": _text(name)}
                | cells("label", label, f"choice {list_name}/{name}")
            )
    survey = []
    for q in spec["questions"]:
        row: dict[str, str] = {}
        for key, value in q.items():
            row |= cells(_YAML_KEYS.get(key, key), value, f"question {q.get('name', '?')}")
        survey.append(row)
    settings = {
        "form_title": _text(spec["title"]),
        "form_id": _text(spec.get("form_id", spec["module"])),
        "version": _text(spec["version"]),
    }
    if languages:
        first = next(iter(languages))
        settings["default_language"] = f"{languages[first]} ({first})"
    return Questionnaire(
        survey=tuple(survey),
        choices=tuple(choices),
        settings=settings,
        name=_text(spec["module"]),
        description=_text(spec.get("description", "")),
        sources=tuple(_text(s) for s in spec.get("sources", ())),
    )


def load(module: str, *, version: str | None = None, country: str | None = None) -> Questionnaire:
    """Load a question module by name (``"core"``, ``"screening"``) or from a YAML path.

    Parameters
    ----------
    module : str
        Name of a shipped module (see :func:`available_modules`) or a path to a YAML file.
    version : str, optional
        A shipped version (current ``name.yaml`` or an earlier ``name@version.yaml``); default
        the current one.
    country : str, optional
        ISO alpha-3 code of the reporting country, written into the skip logic.
    """
    path = Path(module)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        path = _module_path(str(module))
        if not path.exists():
            raise SurveyError(
                "unknown question module",
                argument="module",
                expected="one of " + ", ".join(available_modules()["name"]) + " or a YAML path",
                found=repr(module),
            )
    if not path.is_file():  # a device or a pipe would be read forever
        raise SurveyError("a question module must be a regular file", argument="module",
                          expected="a YAML file", found=f"{path}: not a regular file",
                          hint="copy the module into a file and give its name")
    spec = load_yaml(path.read_text(encoding="utf-8"), str(path))
    form = from_spec(spec, str(path))
    if version is not None and form.version != str(version):
        shipped = _versions(str(module)) if path.parent == _modules_folder() else {}
        if str(version) not in shipped:
            raise SurveyError(
                "module version not available",
                argument="version",
                expected="one of " + ", ".join(shipped or [form.version]),
                found=repr(version),
            )
        spec = load_yaml(shipped[str(version)].read_text(encoding="utf-8"), str(shipped[str(version)]))
        form = from_spec(spec, str(shipped[str(version)]))
    return form.with_country(country) if country is not None else form


def read_xlsform(path: str | os.PathLike[str]) -> Questionnaire:
    """Read an XLSForm workbook (sheets survey, choices, settings) into a :class:`Questionnaire`."""
    survey, choices, settings = xlsform.read(path)
    country = None
    for row in survey:
        if row.get("name") == "reporting_country":
            text = row.get("calculation", "").strip("'\"")
            country = text if text in iso_alpha3() else None
    return Questionnaire(
        survey=tuple(survey),
        choices=tuple(choices),
        settings=settings,
        name=settings.get("form_id", Path(path).stem),
        country=country,
    )
