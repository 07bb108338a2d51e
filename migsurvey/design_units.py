"""The PSUs and strata the pipeline gives its designs: certainty EAs are self-representing.

An EA selected with certainty (``π₁ = 1``) is a stratum of its own whose PSUs are its
households (:func:`sampling.self_representing`, Kish 1965 §10), so that the variance of a
region made of certainty EAs counts their household subsampling instead of treating each
as a lonely PSU. Every design the pipeline and the command line build on persons, households
or emigrant records takes its ``ids`` and ``strata`` from :func:`design_units`.
"""

from __future__ import annotations

import pandas as pd

from migsurvey.inputs import HH_KEY, household_key
from sampling import self_representing

#: Columns :func:`design_units` adds: the design's PSU and stratum of each row (text), and,
#: when EAs were selected with certainty, the sampling fraction of each row's stratum.
DESIGN_PSU = "design_psu"
DESIGN_STRATUM = "design_stratum"
DESIGN_FPC = "design_fpc"


def design_keywords(units: pd.DataFrame) -> dict:
    """``ids``, ``strata`` and (when :func:`design_units` gave one) ``fpc`` for
    :class:`~estimation.SurveyDesign` on the frame :func:`design_units` returned."""
    kw = {"ids": DESIGN_PSU, "strata": DESIGN_STRATUM}
    if DESIGN_FPC in units.columns:
        kw["fpc"] = DESIGN_FPC
    return kw


def design_units(data: pd.DataFrame, spec: dict) -> tuple[pd.DataFrame, str]:
    """``data`` with the design's PSU and stratum columns, and the note to record.

    The PSU is the EA (``frame.psu``) in its ``stratum``, except in an EA with ``pi1`` = 1,
    whose households (``household_id``, or ``hh_key`` when a PSU holds several EAs) are the
    PSUs of a stratum of its own, one per
    screening class (``screen``, the strata of the household selection); with a ``pi2``
    column their households were drawn without replacement, and the fraction ``π₂`` of each
    such stratum is the design's ``fpc`` (0, with replacement, in the other strata). Use as
    ``SurveyDesign(units, **design_keywords(units), ...)``. ``data`` is not modified.
    """
    psu, frame, household = spec["frame"]["psu"], data, "household_id"
    if psu != "ea_id" or household not in data.columns:
        # a PSU of several EAs: households are unique by EA and number (hh_key)
        household = HH_KEY
        if HH_KEY not in data.columns and {"ea_id", "household_id"} <= set(data.columns):
            frame = data.assign(**{HH_KEY: household_key(data)})
    u = self_representing(frame, psu=psu, stratum="stratum", household=household,
                          substrata="screen" if "screen" in data.columns else None,
                          pi2="pi2" if "pi2" in data.columns else None)
    columns = {DESIGN_PSU: u.ids.to_numpy(), DESIGN_STRATUM: u.strata.to_numpy()}
    if u.fpc is not None:
        columns[DESIGN_FPC] = u.fpc.to_numpy()
    units = data.assign(**columns)
    return units, u.note
