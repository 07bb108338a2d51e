"""SDMX codes of the published disaggregation values (``output.sdmx_codes``).

An SDMX code holds letters, digits, ``_``, ``@``, ``$`` and ``-`` only (SDMX 2.1 Technical
Notes, §4.3 "IDType"), so a region labelled ``Région Sud`` cannot be a code of the region's
code list. The specification maps such labels to codes with ``output.sdmx_codes``; sex and
age groups are coded by CL_SEX and CL_AGE. :func:`check_sdmx_codes` refuses, before any file
is written, a value that would reach the SDMX message without a valid code, and proposes
codes made deterministically from the labels (accents removed, other characters ``_``, upper
case) for the user to copy into the specification.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from estimation.indicators.sdmx import CODE_PATTERN, default_codes

TOTAL = "_T"


def suggested_code(value: Any) -> str:
    """A valid SDMX code made from a label: accents removed (NFKD), every other character
    outside ``A-Z 0-9 _ @ $ -`` replaced by ``_``, upper case (``Région Sud`` →
    ``REGION_SUD``)."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    code = re.sub(r"[^A-Za-z0-9_@$\-]+", "_", text).strip("_").upper()
    return code or "V"


def _key(value: Any) -> str:
    return str(value)


def sdmx_value_codes(spec: dict) -> dict[str, dict[str, str]]:
    """``output.sdmx_codes`` with the values as the text the tables hold (``1`` → ``"1"``)."""
    return {col: {_key(v): c for v, c in table.items()}
            for col, table in (spec["output"].get("sdmx_codes") or {}).items()}


def check_sdmx_codes(spec: dict, values: Mapping[str, Iterable[Any]]) -> None:
    """Refuse disaggregation values that would reach an SDMX message without a valid code.

    Parameters
    ----------
    spec : dict
        A checked specification; nothing is checked unless ``output.formats`` has ``sdmx``.
    values : mapping
        Disaggregation column → its values (from the census EAs at ``migsurvey design``,
        from the indicator table before anything is written).

    Raises
    ------
    SurveyError
        Pointing at ``output.sdmx_codes`` (or ``output.formats``) in the specification, with
        the values and a ready-to-copy ``output.sdmx_codes`` entry of suggested codes.
    """
    if "sdmx" not in spec["output"]["formats"]:
        return
    from migsurvey.spec import spec_error

    mapped = sdmx_value_codes(spec)
    for col, vals in values.items():
        table = mapped.get(col, {})
        coder = default_codes(col) if col not in mapped else None
        bad = []
        for v in dict.fromkeys(_key(v) for v in vals if v is not None and v == v):
            if v == TOTAL:
                continue
            code = table.get(v, v) if coder is None else str(coder(v))
            if not CODE_PATTERN.match(code):
                bad.append(v)
        if not bad:
            continue
        entry = ", ".join(f"{v}: {suggested_code(v)}" for v in bad[:6])
        path = f"output.sdmx_codes.{col}" if col in mapped else "output.formats"
        raise spec_error(
            spec, path, f"values of {col} are not valid SDMX codes and have no code in "
            "output.sdmx_codes", "letters, digits, '_', '@', '$' or '-' only (SDMX IDType)",
            f"{col}: " + ", ".join(map(repr, bad[:6]))
            + (f" … ({len(bad)} in all)" if len(bad) > 6 else ""),
            hint=f"give their codes in the specification, e.g. output: {{sdmx_codes: {{{col}: "
                 f"{{{entry}}}}}}} (codes made from the labels; choose your own), or remove "
                 "sdmx from output.formats")
