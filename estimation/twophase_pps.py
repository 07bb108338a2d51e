"""Phase 1 of a two-phase design drawn with unequal probabilities without replacement (πps).

The double-expansion total ``t̂ = Σ_{s₂} y_k/(π₁ₖ π₂ₖ)`` has the unbiased variance estimator
(Särndal, Swensson & Wretman 1992, result 9.3.1)

.. math::

    \\hat V = \\sum\\sum_{s_2} \\frac{\\check\\Delta_{1kl}}{\\pi_{2kl}}\\,\\check y_k \\check y_l
            + \\sum\\sum_{s_2} \\check\\Delta_{2kl}\\, \\check y^*_k \\check y^*_l,
    \\qquad \\check y = y/\\pi_1,\\ \\check y^* = y/(\\pi_1\\pi_2),

``Δ̌₁ₖₗ = (π₁ₖₗ − π₁ₖπ₁ₗ)/π₁ₖₗ`` the phase-1 and ``Δ̌₂ₖₗ`` the phase-2 (given phase 1) Horvitz–
Thompson weights; the first term (phase 1) is ``x'(Δ̌₁ − Δ̌₁∘Δ̌₂)x`` and the second (phase 2)
``x'Δ̌₂x`` in the weighted scores ``x = y̌*`` (R ``survey``'s ``twophase2`` form; Lumley 2010,
ch. 8). R's ``twophase`` has no πps phase 1; here phase 1's ``Δ̌₁`` between rows of different
first-stage units ``I ≠ J`` is the πps matrix ``M_IJ``, and within a unit ``M_II + π_I Δ̌_{kl|I}``
(later phase-1 stages, Särndal et al. 1992, result 4.3.1), as :class:`~estimation.SurveyDesign`
with ``pps=`` does for a single phase. ``M`` comes from :mod:`estimation.pps`:

* joint inclusion probabilities ``π_IJ`` (a matrix over all phase-1 PSUs, or one per phase-1
  stratum), ``M_IJ = (π_IJ − π_Iπ_J)/π_IJ`` without truncation: the estimator is then exactly
  design-unbiased;
* Overton's or Hartley–Rao's approximation of ``π_IJ``;
* Brewer's approximation (Brewer 2002, eq. 9.12): ``M`` is the matrix of the quadratic form
  ``Σ_h n_h/(n_h−1) Σ_{I∈h} (1 − π_I)(X_I − X̄_h)²`` of the first-stage unit totals (R's
  ``pps="brewer"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from estimation.pps import HR, pps_dcheck
from estimation.structure import Stage
from estimation.taylor import TaylorVariance, lonely_strata
from surveycore.checks import check_option
from surveycore.errors import SurveyError

PPS_OPTIONS = ["brewer", "overton", "hartley-rao"]


def describe(pps: Any) -> str:
    """The name of the phase-1 variance form (recorded with the design's results)."""
    if isinstance(pps, str):
        return {"brewer": "Brewer's approximation (πps without replacement)",
                "overton": "Overton's approximation of the joint inclusion probabilities",
                "hartley-rao": "Hartley–Rao's approximation of the joint inclusion probabilities"}[pps]
    if isinstance(pps, HR):
        return "Hartley–Rao's approximation of the joint inclusion probabilities"
    return "Horvitz–Thompson with the joint inclusion probabilities of the PSUs"


def _unit_labels(frame: pd.DataFrame, ids: list[str], stage: Stage) -> tuple[np.ndarray, np.ndarray]:
    """The id and stratum label of every first-stage unit (by cluster code)."""
    first = stage.clusters.first_row
    return frame[ids[0]].to_numpy()[first], stage.labels[stage.stratum]


def _labelled(block: Any, ids: np.ndarray, where: str) -> np.ndarray:
    """A square block of ``π_IJ`` for the units ``ids``: a frame labelled by PSU id, or an
    array in the units' order of first appearance."""
    if isinstance(block, pd.DataFrame):
        idx = pd.Index(block.index)
        cols = pd.Index(block.columns)
        missing = [u for u in ids if u not in idx or u not in cols]
        if missing:
            raise SurveyError(
                "the joint inclusion probabilities lack some phase-1 PSUs",
                argument="pps",
                expected=f"rows and columns labelled by every sampled PSU id{where}",
                found="no entry for " + ", ".join(map(repr, missing[:5])),
                hint="label the matrix's rows and columns with the PSU ids of the data",
            )
        return block.loc[list(ids), list(ids)].to_numpy(dtype=float)
    arr = np.asarray(block, dtype=float)
    if arr.shape != (len(ids), len(ids)):
        raise SurveyError(
            "joint inclusion probability matrix has the wrong shape",
            argument="pps",
            expected=f"{len(ids)} × {len(ids)} (one row per sampled PSU{where}, in data order)",
            found=f"shape {arr.shape}",
        )
    return arr


def joint_matrix(pps: Any, frame: pd.DataFrame, ids: list[str], stage: Stage) -> np.ndarray:
    """``π_IJ`` over first-stage units in order of first appearance (as :func:`pps_dcheck` takes it).

    ``pps`` is an array (all PSUs, order of first appearance), a frame labelled by PSU id, or a
    mapping of phase-1 stratum label to either (strata drawn independently: ``π_IJ = π_Iπ_J``
    between strata).
    """
    C = stage.n_clusters
    appear = stage.cluster[np.sort(stage.clusters.first_row)]
    if not ids:
        unit_ids = np.arange(C)
    else:
        unit_ids, _ = _unit_labels(frame, ids, stage)
    if isinstance(pps, Mapping):
        pi_code = np.zeros(C)
        blocks = {}
        for h, label in enumerate(stage.labels):
            members = appear[stage.stratum[appear] == h]  # order of first appearance
            if label not in pps:
                raise SurveyError(
                    "no joint inclusion probabilities for a phase-1 stratum",
                    argument="pps",
                    expected="one matrix per phase-1 stratum label",
                    found=f"none for stratum {label!r}",
                )
            block = _labelled(pps[label], unit_ids[members], f" of stratum {label!r}")
            blocks[h] = (members, block)
            pi_code[members] = np.diag(block)
        full = np.outer(pi_code, pi_code)
        for members, block in blocks.values():
            full[np.ix_(members, members)] = block
        return full[np.ix_(appear, appear)]
    if isinstance(pps, pd.DataFrame):
        if len(pd.unique(unit_ids)) != C:
            raise SurveyError(
                "PSU ids repeat across phase-1 strata",
                argument="pps",
                expected="a mapping of stratum label to that stratum's matrix",
                found="a single frame labelled by ids that restart within strata",
            )
        return _labelled(pps, unit_ids[appear], "")
    return np.asarray(pps, dtype=float)


def phase1_matrix(pps: Any, frame: pd.DataFrame, ids: list[str], stage: Stage, pi: np.ndarray,
                  lonely_psu: str) -> np.ndarray:
    """The phase-1 ``Δ̌`` matrix ``M`` (C × C, by cluster code) of a πps first stage.

    Parameters
    ----------
    pps : str, HR, ndarray, DataFrame or mapping
        ``"brewer"``, ``"overton"``, ``"hartley-rao"``, :class:`~estimation.pps.HR`, or joint
        inclusion probabilities (:func:`joint_matrix`).
    frame : DataFrame
        The phase-1 rows.
    ids : list of str
        Phase-1 cluster id columns.
    stage : Stage
        Phase-1 first stage (built with ``pps=True``: ``π`` in its fpc).
    pi : ndarray (n,)
        First-stage inclusion probability of every phase-1 row.
    lonely_psu : str
    """
    if isinstance(pps, str):
        check_option(pps, PPS_OPTIONS, "pps")
        if pps == "brewer" and lonely_psu == "fail":
            single = lonely_strata(stage)
            if len(single):
                raise SurveyError(
                    "phase-1 stratum with a single PSU (Brewer's approximation)",
                    argument="lonely_psu",
                    expected="at least two phase-1 PSUs per stratum, or a lonely_psu rule",
                    found=f"{len(single)} single-PSU strata: " + ", ".join(map(str, stage.labels[single][:10])),
                    hint="pass lonely_psu='adjust', 'average', 'remove' or 'certainty', or the joint "
                    "inclusion probabilities",
                )
        dcheck = pps_dcheck(pps, pi, stage)
    elif isinstance(pps, HR):
        dcheck = pps_dcheck(pps, pi, stage)
    else:
        pij = joint_matrix(pps, frame, ids, stage)
        first = stage.clusters.first_row
        appear = stage.cluster[np.sort(first)]
        pi_unit = pi[first][appear]
        if pij.shape == (stage.n_clusters, stage.n_clusters):
            off = np.abs(np.diag(pij) - pi_unit) > 1e-8 * np.maximum(pi_unit, 1e-300)
            if off.any():
                i = int(np.flatnonzero(off)[0])
                raise SurveyError(
                    "the joint inclusion probabilities disagree with the phase-1 probabilities",
                    argument="pps",
                    expected="π_II equal to each PSU's inclusion probability (its fpc)",
                    found=f"PSU {i + 1} in order of appearance: π_II = {pij[i, i]:.10g}, "
                    f"inclusion probability {pi_unit[i]:.10g}",
                )
        dcheck = pps_dcheck(pij, pi, stage, tolerance=0.0)
    if dcheck is not None:
        return dcheck
    # Brewer's form as a matrix: the single-stage variance form on unit totals ``I`` (sparse
    # on the left, so that the product stays O(C²))
    form = TaylorVariance([stage], lonely_psu, False)
    C = stage.n_clusters
    return form._bilinear_totals([sp.identity(C, format="csr")], [np.eye(C)])
