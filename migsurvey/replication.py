"""Replicate designs of ``estimation.variance`` (JKn, bootstrap), refused in the words of the
specification.

The estimation layer names its own arguments (``type``, ``lonely_psu``, ``replicates``); a
user of the command line set ``estimation.variance``, ``estimation.lonely_psu`` and
``estimation.replicates`` instead, so its refusals are pointed at those keys (with their
line in the specification) and its hints at options of the specification.
"""

from __future__ import annotations

from typing import Any

from surveycore import SurveyError

_KEYS = {"lonely_psu": "estimation.variance", "replicates": "estimation.replicates",
         "type": "estimation.variance"}


def replicate(design: Any, spec: dict) -> Any:
    """``design.replicate(estimation.variance)`` with the options of the specification:
    ``replicates`` and ``seed`` for the bootstrap (Rao–Wu rescaling), none for JKn (the
    delete-one-PSU jackknife within strata, Wolter 2007 ch. 4)."""
    est = spec["estimation"]
    opts = ({"replicates": est["replicates"], "seed": spec["seed"]}
            if est["variance"] == "bootstrap" else {})
    try:
        return design.replicate(est["variance"], **opts)
    except SurveyError as exc:
        raise replication_error(spec, exc) from None


def replication_error(spec: dict, exc: SurveyError) -> SurveyError:
    """A refusal of the replication, pointed at the specification key that chose it."""
    from migsurvey.spec import spec_error

    est = spec["estimation"]
    key = _KEYS.get(exc.argument or "", "estimation.variance")
    if exc.argument == "lonely_psu" and est["variance"] == "bootstrap":
        return spec_error(
            spec, key, f"{exc.message} (estimation.variance: bootstrap with "
            f"estimation.lonely_psu: {est['lonely_psu']})",
            "at least two PSUs in every stratum for the bootstrap, or an option that handles "
            "a single-PSU stratum", exc.found or "",
            hint="set estimation.variance: JKn (its single-PSU strata follow "
                 "estimation.lonely_psu, 'adjust' as R does) or taylor; or keep the bootstrap "
                 "with estimation.lonely_psu: certainty (an EA taken with certainty adds no "
                 "stage-1 variance), average or remove; or merge the stratum with a neighbour "
                 "(strata.collapse_below, strata.by)")
    inner = f" ({exc.argument})" if exc.argument and exc.argument not in _KEYS else ""
    return spec_error(spec, key, exc.message + inner, exc.expected or "", exc.found or "",
                      exc.hint)
