"""Carry household weights to the household members: one chain from households to persons.

``Weights(households, ...).adjust_nonresponse(...).expand(persons, household="hh_id")`` gives
each person row the weight of its household; later steps (calibration, trimming) run on the
persons. The chain keeps the household steps, so replicate replay re-runs them from the
household base weights, and the linearised variance includes them
(:mod:`weighting.linearisation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import _preview, check_columns
from weighting.linearisation import ExpandBoundary


@dataclass(frozen=True, eq=False)
class ExpandStep:
    """Person row ``p`` takes the weight of household row ``member_of[p]``."""

    member_of: np.ndarray

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is not None and out.shape == (self.member_of.size,) + w.shape[1:]:
            return np.take(w, self.member_of, axis=0, out=out)
        return w[self.member_of]


def _ids(frame: pd.DataFrame, column: str, argument: str) -> pd.Series:
    ids = frame[column]
    if ids.isna().any():
        raise SurveyError(f"the household identifier {column!r} has missing values",
                          argument=argument, expected="an identifier on every row",
                          found=f"{int(ids.isna().sum())} missing")
    return ids


def _id_rank(ids: pd.Series) -> np.ndarray:
    """The rank of every household identifier in sorted order (text order for mixed types)."""
    values = ids.to_numpy()
    try:
        order = np.argsort(values, kind="stable")
    except TypeError:
        order = np.argsort(values.astype(str), kind="stable")
    rank = np.empty(len(values), dtype=np.intp)
    rank[order] = np.arange(len(values))
    return rank


def _canonical_rows(psu: np.ndarray, household_rank: np.ndarray) -> pd.Series:
    """Per PSU, a person row of its household with the smallest identifier.

    A household without member rows (a nonrespondent) keeps its part of the linearised
    variance on this row: the same household whatever the order of the rows, so a design
    whose units are finer than the PSU (households of a self-representing EA, the second
    phase of a screening) gives the same standard errors for any order of the files.
    """
    order = np.lexsort((np.arange(len(psu)), household_rank))
    return pd.Series(order).groupby(psu[order], sort=True).first()


def expansion(households: pd.DataFrame, persons: pd.DataFrame, household: str,
              psu: str | None, needs_anchor: np.ndarray) -> tuple[np.ndarray, ExpandBoundary, str]:
    """Match person rows to household rows; the boundary record and a note for the history.

    ``needs_anchor`` (households,) marks households whose linearised adjustment must be kept
    in the variance (those a weighting-class step gave weight to before the expansion).
    """
    check_columns(households, [household], "household")
    check_columns(persons, [household], "household")
    hh_ids = _ids(households, household, "household")
    dup = hh_ids.duplicated()
    if dup.any():
        raise SurveyError("household identifiers repeat in the household frame",
                          argument="household", expected="one row per household",
                          found=f"repeated: {_preview(list(pd.unique(hh_ids[dup])))}")
    p_ids = _ids(persons, household, "household")
    member_of = pd.Index(hh_ids).get_indexer(p_ids)
    if (member_of < 0).any():
        stray = list(pd.unique(p_ids[member_of < 0]))
        raise SurveyError(
            "person rows whose household is not in the household frame",
            argument="household",
            expected=f"every {household} of the persons among the households",
            found=f"{len(stray)} unmatched, e.g. {_preview(stray)} "
            f"(persons: {p_ids.dtype}, households: {hh_ids.dtype})",
            hint="identifiers are matched exactly: give both columns the same type "
            "(text identifiers keep their leading zeros)",
        )
    member_of = member_of.astype(np.intp)
    n_hh, n_p = len(households), len(persons)
    anchor = np.full(n_hh, -1, dtype=np.intp)
    anchor[member_of[::-1]] = np.arange(n_p, dtype=np.intp)[::-1]  # first member row
    empty = anchor < 0
    if psu is not None:
        check_columns(households, [psu], "psu")
        check_columns(persons, [psu], "psu")
        hp = households[psu].to_numpy()
        pp = persons[psu].to_numpy()
        moved = pd.Series(hp[member_of] != pp)
        if moved.any():
            raise SurveyError(f"persons and their household disagree on {psu}",
                              argument="psu", expected="members in their household's PSU",
                              found=f"{int(moved.sum())} person rows")
        first_in_psu = _canonical_rows(pp, _id_rank(hh_ids)[member_of])
        place = pd.Index(first_in_psu.index).get_indexer(hp[empty])
        found = place >= 0
        anchor[np.flatnonzero(empty)[found]] = first_in_psu.to_numpy()[place[found]]
    lost = (anchor < 0) & needs_anchor
    if lost.any():
        if psu is None:
            raise SurveyError(
                "households without member rows were weighted by an eligibility or "
                "nonresponse adjustment",
                argument="psu",
                expected="the PSU column, so their part of the linearised variance stays in "
                "their PSU",
                found=f"{int(lost.sum())} such households, e.g. "
                f"{_preview(list(hh_ids[lost][:5]))}",
                hint=f"expand(persons, household={household!r}, psu='<PSU column>')",
            )
        raise SurveyError(
            "PSUs without any person row hold households weighted by an eligibility or "
            "nonresponse adjustment",
            argument="psu",
            expected="at least one person row in every PSU of the household sample",
            found=f"PSUs {_preview(list(pd.unique(households[psu].to_numpy()[lost])))}",
            hint="a design on the persons cannot see these PSUs: collapse them with a "
            "neighbouring PSU of the same stratum, or estimate from a household design",
        )
    note = (f"{n_hh} households → {n_p} person rows; "
            f"{int(empty.sum())} households without member rows")
    return member_of, ExpandBoundary(member_of, anchor, n_hh), note
