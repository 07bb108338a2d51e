"""Selected EAs in which nobody was interviewed stay in the design.

An EA is a PSU of the design whether or not any of its selected households had a person to
interview: when every selected household of an EA is vacant or out of scope (AAPOR 4.x), or
did not respond, the EA's totals of every person variable are 0, and the EA still counts among
the ``n_h`` PSUs of its stratum in the variance (Särndal, Swensson & Wretman 1992, §4.3; R
``survey`` keeps such a PSU as rows of weight 0 or score 0). A design built on the person rows
alone would not see it: the stratum loses a PSU with a zero total, so every total is biased up
in its variance, and a region whose every household was ineligible would vanish from the
estimates instead of having an eligible population of 0.

:func:`keep_empty_eas` adds, for each such EA, one household row of base weight 0 with a
disposition "not eligible" (4.0) and one person row of that household with weight 0, every
person variable missing and every 0/1 indicator variable 0 (:data:`EMPTY_EA` marks both). A
weight of 0 keeps the row out of every point estimate, of every calibration total and of
every sample count, and the person row carries the EA's part of the linearised variance
(its households' eligibility and nonresponse adjustments, :mod:`weighting.expand`). A share
whose denominator is then 0 in a domain is not estimable there; it is withheld, not 0
(:func:`migsurvey.pipeline.estimate_indicators`).

A selected EA of a design that samples only some screening classes
(``selection.household.take`` 0 for a class) may have no household of a sampled class at
listing, hence no selected household at all: with the selection file it is known
(:func:`eas_without_covered`) and given a household row of base weight 0
(:func:`with_eas_without_households`), so it too stays a PSU with zero totals.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyWarning

EMPTY_EA = "empty_ea"
"""Column marking the household and person rows that stand for an EA with no person row."""

HOUSEHOLD_PART = "_no_person"
"""Household number of the row standing for such an EA (``<EA>/_no_person``)."""

NONE_SELECTED = "_none_selected"
"""Household number of the row standing for a selected EA that had no household to select
(no household of a sampled screening class at listing)."""


def empty_eas(households: pd.DataFrame, persons: pd.DataFrame, psu: str) -> list:
    """The PSUs of the selected households that no person row belongs to, in file order."""
    if psu not in households.columns or psu not in persons.columns:
        return []
    have = set(pd.unique(persons[psu]))
    return [ea for ea in pd.unique(households[psu]) if ea not in have]


def keep_empty_eas(households: pd.DataFrame, persons: pd.DataFrame, spec: dict,
                   *, key: str = "hh_key") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The households and persons with a row of weight 0 for every EA without a person row.

    Parameters
    ----------
    households : DataFrame
        Every selected household (with ``base_weight``, the disposition and ``responded``).
    persons : DataFrame
        The person rows, with their household's design columns.
    spec : dict
        The checked specification (``frame.psu``, ``interviews.disposition``).
    key : str
        The household key column of both frames.

    Returns
    -------
    households, persons
        New frames (the given ones are not changed); with no such EA, the frames given.
    """
    psu = spec["frame"]["psu"]
    gone = empty_eas(households, persons, psu)
    if not gone:
        return households, persons
    disp = spec.get("interviews", {}).get("disposition", "disposition")
    first = households.drop_duplicates(psu).set_index(psu).loc[gone].reset_index()
    hh = first.assign(**{key: first[psu].astype(str) + "/" + HOUSEHOLD_PART,
                         "base_weight": 0.0, "responded": False, EMPTY_EA: True})
    if "household_id" in hh.columns:
        hh["household_id"] = HOUSEHOLD_PART
    if disp in hh.columns:
        hh[disp] = 4.0
    design = [c for c in hh.columns if c in persons.columns]
    pp = pd.DataFrame({c: pd.Series([None] * len(hh), dtype=object) for c in persons.columns})
    for c in design:
        pp[c] = hh[c].to_numpy()
    for c in persons.columns:
        if c in design:
            continue
        s = persons[c]
        if _is_indicator(s):  # 0/1 variables: 0 (the row counts nowhere)
            pp[c] = pd.Series(np.zeros(len(pp)), index=pp.index).astype(
                s.dtype if s.dtype != object else float)
        elif pd.api.types.is_float_dtype(s):
            pp[c] = np.nan
    for c in _margin_columns(spec):
        if c in persons.columns and c not in design and persons[c].notna().any():
            # a calibration cell is needed on every row; with weight 0 the row adds 0 to it
            pp[c] = sorted(pd.unique(persons[c].dropna()), key=str)[0]
    pp[EMPTY_EA] = True
    names = ", ".join(map(str, gone[:8])) + (f" … ({len(gone)} in all)" if len(gone) > 8 else "")
    warnings.warn(f"{len(gone)} selected EA{'s' if len(gone) > 1 else ''} ({names}) "
                  f"{'have' if len(gone) > 1 else 'has'} no interviewed person (every selected "
                  "household vacant, out of scope or not responding): kept in the design as "
                  "PSUs whose person totals are 0, so that their strata keep every selected "
                  "PSU in the variance", SurveyWarning, stacklevel=3)
    marked = (households[EMPTY_EA].fillna(False).astype(bool) if EMPTY_EA in households.columns
              else False)
    hh_out = pd.concat([households.assign(**{EMPTY_EA: marked}), hh], ignore_index=True)
    pp_out = pd.concat([persons.assign(**{EMPTY_EA: False}), pp[list(persons.columns) + [EMPTY_EA]]],
                       ignore_index=True)
    for c in persons.columns:  # keep the persons' own dtypes where they allow the new rows
        if persons[c].dtype != pp_out[c].dtype and not pd.api.types.is_object_dtype(persons[c]):
            try:
                pp_out[c] = pp_out[c].astype(persons[c].dtype)
            except (TypeError, ValueError):
                pass
    return hh_out, pp_out


def _is_indicator(s: pd.Series) -> bool:
    """A 0/1 (or boolean) column: a derived indicator variable."""
    if pd.api.types.is_bool_dtype(s):
        return True
    if not pd.api.types.is_numeric_dtype(s):
        return False
    v = pd.unique(s.dropna())
    return len(v) > 0 and set(np.asarray(v, dtype=float).tolist()) <= {0.0, 1.0}


def _margin_columns(spec: dict) -> list[str]:
    """The person columns of the calibration margins of ``weighting``."""
    out: list[str] = []
    for step in spec.get("weighting", []):
        (name, opt), = step.items()
        if name in ("rake", "calibrate"):
            for m in opt["margins"]:
                out += [c for c in ([m] if isinstance(m, str) else m) if c not in out]
    return out


def real_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that are households or persons of the files (without the rows of
    weight 0 that stand for EAs with no person or no selected household)."""
    if EMPTY_EA not in frame.columns:
        return frame
    marked = frame[EMPTY_EA].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    return frame.loc[~marked]


def eas_without_covered(census: Any, spec: dict) -> list:
    """The EAs of the census whose listing has no household of a screening class with a take
    above 0 (none when every class is sampled, or when the census lists no households)."""
    from migsurvey.spec import uncovered_classes

    households = getattr(census, "households", None)
    if not uncovered_classes(spec) or not isinstance(households, pd.DataFrame):
        return []
    from migsurvey.coverage import covered_households

    psu = spec["frame"]["psu"]
    if psu not in households.columns:
        return []
    covered = pd.Series(covered_households(households, spec)).groupby(
        households[psu].astype(str).to_numpy()).any()
    return list(covered.index[~covered.to_numpy()])


def with_eas_without_households(households: pd.DataFrame, eas: list, selection: Any,
                                census: Any, spec: dict) -> pd.DataFrame:
    """The households with one row of base weight 0 and disposition 4.0 for each selected EA
    that had no household to select (no household of a sampled screening class at listing):
    such an EA is a PSU with zero totals, kept in the design by
    :func:`migsurvey.empty_eas.keep_empty_eas`. Its stratum and ``pi1`` come from the
    selection file, its region (and the other EA columns) from the census frame."""
    from migsurvey.interview_design import read_selection

    psu = spec["frame"]["psu"]
    sel = read_selection(spec, selection)
    rows = sel.loc[sel[psu].isin(eas)].copy()
    frame = census.eas.assign(_ea=census.eas[psu].astype(str)).drop_duplicates("_ea")
    for c in ("region", "district", "urban", *spec["strata"]["by"]):
        if c in frame.columns and c in households.columns and c not in rows.columns:
            rows[c] = rows[psu].map(frame.set_index("_ea")[c]).to_numpy()
    disp = spec["interviews"]["disposition"]
    rows = rows.assign(household_id=NONE_SELECTED, base_weight=0.0, **{disp: 4.0})
    if "ea_id" in households.columns and "ea_id" not in rows.columns:
        rows["ea_id"] = rows[psu]
    rows["hh_key"] = rows[psu].astype(str) + "/" + NONE_SELECTED
    if "responded" in households.columns:
        rows["responded"] = False
    rows[EMPTY_EA] = True
    warnings.warn(f"{len(rows)} selected EA{'s' if len(rows) > 1 else ''} "
                  f"({', '.join(map(str, rows[psu][:8]))}) had no household of a sampled "
                  "screening class at listing: kept in the design as PSUs with zero totals",
                  SurveyWarning, stacklevel=3)
    return pd.concat([households, rows], ignore_index=True)
