"""SDMX codes and the data structure definition of an indicator table.

Codes follow the SDMX cross-domain code lists (SDMX Global Registry, agency ``SDMX``):

* ``CL_OBS_STATUS`` — ``A`` normal value, ``U`` low reliability (``E`` means *estimated*, which
  every survey value is, so it is not used for reliability);
* ``CL_CONF_STATUS`` — ``F`` free, ``C`` confidential, ``A`` primary confidentiality due to
  small counts, ``D`` secondary confidentiality set by the sender;
* ``CL_SEX`` — ``F``, ``M``, ``_T`` total, ``_U`` unknown;
* ``CL_AGE`` — ranges ``Y0T14`` (0 to 14 years), open classes ``Y_GE65`` (65 and over),
  ``_T`` total;
* ``REF_AREA`` — ISO 3166-1 alpha-3, or alpha-2 on request.

:func:`structure_message` builds the SDMX-ML 2.1 structure message (concept scheme, code
lists, data structure definition, dataflow) with the ``sdmx1`` package, so that any SDMX tool
(e.g. ``sdmx.read_sdmx(csv, structure=dataflow)``) reads the SDMX-CSV data message.

References: SDMX Content-Oriented Guidelines, Annex 1 (cross-domain concepts) and the code
lists CL_OBS_STATUS 2.2, CL_CONF_STATUS 1.3, CL_SEX 2.1, CL_AGE 1.0; SDMX-CSV 2.0 field guide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

import pandas as pd

from surveycore import SurveyError

OBS_STATUS = {"reliable": "A", "caution": "U", "unreliable": "U"}
"""Reliability class → SDMX OBS_STATUS."""

CONF_STATUS = {"": "F", "primary": "A", "secondary": "D", "confidential": "C"}
"""Suppression status (as published) → SDMX CONF_STATUS."""

CODE_NAMES = {
    "OBS_STATUS": {"A": "Normal value", "U": "Low reliability"},
    "CONF_STATUS": {"F": "Free (free for publication)", "C": "Confidential statistical "
                    "information", "A": "Primary confidentiality due to small counts",
                    "D": "Secondary confidentiality set by the sender, not for publication"},
    "SEX": {"F": "Female", "M": "Male", "_T": "Total", "_U": "Unknown", "_Z": "Not applicable"},
}

_SEX = {"f": "F", "female": "F", "woman": "F", "women": "F", "m": "M", "male": "M", "man": "M",
        "men": "M", "unknown": "_U", "_t": "_T"}
_RANGE = re.compile(r"^\s*(\d+)\s*[-–]\s*(\d+)\s*$")
_OPEN = re.compile(r"^\s*(\d+)\s*\+\s*$")
_ID = re.compile(r"^[A-Za-z0-9_@$\-]+$")
CODE_PATTERN = _ID
"""What an SDMX code (an identifier of a code list) may hold: letters, digits, ``_@$-``."""


def age_code(label: object) -> str:
    """SDMX CL_AGE code of an age-class label: ``"0-14"`` → ``Y0T14``, ``"65+"`` →
    ``Y_GE65``; ``_T`` and codes already in that form are kept."""
    s = str(label)
    if m := _RANGE.match(s):
        return f"Y{int(m.group(1))}T{int(m.group(2))}"
    if m := _OPEN.match(s):
        return f"Y_GE{int(m.group(1))}"
    return s


def sex_code(label: object) -> str:
    """SDMX CL_SEX code (``F``, ``M``, ``_T``, ``_U``) of a sex label; others are kept."""
    s = str(label)
    return _SEX.get(s.strip().lower(), s)


@cache
def _alpha2() -> dict[str, str]:
    path = resources.files("questionnaires") / "data" / "iso3166_alpha3.csv"
    with path.open(encoding="utf-8") as fh:
        t = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return dict(zip(t["alpha3"], t["alpha2"]))


def area_code(code: str, form: str = "alpha3") -> str:
    """A country code for REF_AREA: ISO 3166-1 ``alpha3`` (as given) or ``alpha2``."""
    if form == "alpha3":
        return code
    if form != "alpha2":
        raise SurveyError("unknown country code form", argument="ref_area",
                          expected="'alpha3' or 'alpha2'", found=repr(form))
    table = _alpha2()
    if code in table:
        return table[code]
    if code in table.values():
        return code
    raise SurveyError("REF_AREA is not an ISO 3166-1 country code", argument="dimensions",
                      expected="an ISO 3166-1 alpha-3 code such as 'KEN'", found=repr(code))


def default_codes(column: str) -> object | None:
    """The code function for a disaggregation column by its name (age, sex), else None."""
    name = column.lower()
    if name in ("sex", "gender") or name.startswith("sex_"):
        return sex_code
    if name.startswith("age"):
        return age_code
    return None


def parse_structure_id(structure_id: str) -> tuple[str, str, str]:
    """``AGENCY:ID(VERSION)`` → (agency, id, version)."""
    m = re.fullmatch(r"([A-Za-z0-9_@$\-.]+):([A-Za-z0-9_@$\-]+)\(([0-9.]+)\)", structure_id)
    if not m:
        raise SurveyError("malformed SDMX structure id", argument="structure_id",
                          expected="AGENCY:ID(VERSION), e.g. 'MIGSURVEY:DF_MIGRATION(1.0)'",
                          found=repr(structure_id))
    return m.group(1), m.group(2), m.group(3)


def structure_message(message: pd.DataFrame, *, structure_id: str, dimensions: list[str],
                      attributes: list[str], names: Mapping[str, str] | None = None,
                      warnings: Sequence[str] = ()):
    """The SDMX-ML structure message (``sdmx.message.StructureMessage``) of a data message.

    Every dimension gets a code list of the codes found in ``message`` (named from
    :data:`CODE_NAMES` where SDMX names them); ``TIME_PERIOD`` is the time dimension.
    ``OBS_STATUS`` and ``CONF_STATUS`` are coded attributes, the others free text/number.
    Each of ``warnings`` becomes an annotation of the dataflow (``WARNING_1`` … of type
    ``WARNING``), which SDMX readers keep with the structure.
    """
    import sdmx
    from sdmx.message import StructureMessage
    from sdmx.model import common, v21

    agency_id, flow_id, version = parse_structure_id(structure_id)
    agency = common.Agency(id=agency_id)
    kw = {"maintainer": agency, "version": version, "is_final": True}
    base = flow_id.removeprefix("DF_")
    concepts = common.ConceptScheme(id=f"CS_{base}", name="Concepts", **kw)
    msg = StructureMessage()
    names = dict(names or {})

    def concept(cid: str):
        c = common.Concept(id=cid, name=names.get(cid, cid.replace("_", " ").capitalize()))
        concepts.append(c)
        return c

    def codelist(cid: str, values) -> object:
        cl = common.Codelist(id=f"CL_{cid}", name=f"Codes of {cid}", **kw)
        for v in sorted(set(map(str, values))):
            if not _ID.match(v):
                raise SurveyError(
                    "a value is not a valid SDMX code", argument="value_codes",
                    expected="codes of letters, digits, '_', '@', '$' or '-'",
                    found=f"{cid}: {v!r}",
                    hint=f"map the values of {cid} to codes with value_codes={{...}}")
            cl.append(common.Code(id=v, name=CODE_NAMES.get(cid, {}).get(v, v)))
        msg.codelist[cl.id] = cl
        return cl

    dsd = v21.DataStructureDefinition(id=f"DSD_{base}", name=f"Data structure of {flow_id}",
                                      **kw)
    for k, d in enumerate(dimensions):
        rep = None if d == "TIME_PERIOD" else common.Representation(
            enumerated=codelist(d, message[d]))
        cls = v21.TimeDimension if d == "TIME_PERIOD" else v21.Dimension
        dsd.dimensions.append(cls(id=d, concept_identity=concept(d), local_representation=rep,
                                  order=k + 1))
    dsd.measures.getdefault("OBS_VALUE", concept_identity=concept("OBS_VALUE"))
    for a in attributes:
        rep = None
        if a in ("OBS_STATUS", "CONF_STATUS"):
            values = set(message[a].dropna().astype(str)) - {""}
            rep = common.Representation(enumerated=codelist(a, values | set(CODE_NAMES[a])))
        dsd.attributes.getdefault(a, concept_identity=concept(a), local_representation=rep,
                                  usage_status=common.UsageStatus.conditional,
                                  related_to=v21.PrimaryMeasureRelationship())
    flow = v21.DataflowDefinition(id=flow_id, name=f"Dataflow {flow_id}", structure=dsd, **kw)
    for i, text in enumerate(warnings):
        flow.annotations.append(v21.Annotation(id=f"WARNING_{i + 1}", type="WARNING",
                                               text=str(text)))
    msg.concept_scheme[concepts.id] = concepts
    msg.structure[dsd.id] = dsd
    msg.dataflow[flow.id] = flow
    return msg, sdmx
