"""Variance of single-stage unequal-probability sampling without replacement.

The Horvitz–Thompson variance of a total is ``Σ_i Σ_j Δ̌_ij y̌_i y̌_j`` with ``y̌ = y/π`` and
``Δ̌_ij = (π_ij − π_i π_j)/π_ij`` (Särndal et al. 1992, eq. 2.8.4). When the joint inclusion
probabilities ``π_ij`` are not known they are approximated (Berger & Tillé 2009):

* Overton (1985): ``π_ij ≈ …`` giving ``Δ̌_ij = 1 − (n − (π_i + π_j)/2)/(n − 1)``;
* Hartley & Rao (1962): ``Δ̌_ij = 1 − (n − π_i − π_j + Σ_k π_k²/n)/(n − 1)``;
* Brewer (2002, eq. 9.12) needs no matrix: it is the with-replacement formula with each unit's
  finite population correction ``1 − π_i`` (handled by the Taylor engine's recursion).

All within strata; ``Δ̌_ii = 1 − π_i``. Entries below a tolerance are set to zero as R does for
a user-supplied matrix (``ppsmat(tolerance=1e-4)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from estimation.structure import Stage
from surveycore.errors import SurveyError


def pps_dcheck(pps: Any, pi: np.ndarray, stage: Stage, tolerance: float = 1e-4) -> np.ndarray | None:
    """The ``Δ̌`` matrix over first-stage units (None for Brewer's approximation)."""
    if isinstance(pps, str) and pps == "brewer":
        return None
    first = np.zeros(stage.n_clusters, dtype=np.int64)
    first[stage.cluster[::-1]] = np.arange(len(stage.cluster) - 1, -1, -1)
    p = pi[first]
    if isinstance(pps, str):
        strat = stage.stratum
        same = strat[:, None] == strat[None, :]
        n = stage.n_sampled[strat].astype(float)
        if pps == "overton":
            fbar = (p[:, None] + p[None, :]) / 2
            D = 1 - (n[:, None] - fbar) / (n[:, None] - 1)
        else:  # hartley-rao
            p2bar = np.bincount(strat, weights=p**2) / stage.n_sampled
            fbar = p[:, None] + p[None, :]
            D = 1 - (n[:, None] - fbar + p2bar[strat][:, None]) / (n[:, None] - 1)
        D[~same | (fbar == 1)] = 0.0
        np.fill_diagonal(D, 1 - p)
        return D
    pij = np.asarray(pps, dtype=float)
    if pij.shape != (stage.n_clusters, stage.n_clusters):
        raise SurveyError(
            "joint inclusion probability matrix has the wrong shape",
            argument="pps",
            expected=f"a square matrix of {stage.n_clusters} × {stage.n_clusters} (one row per PSU, in data order)",
            found=f"shape {pij.shape}",
        )
    if not np.allclose(pij, pij.T) or (pij <= 0).any() or (pij > 1).any():
        raise SurveyError(
            "joint inclusion probabilities must be symmetric and in (0, 1]",
            argument="pps",
            expected="a symmetric matrix with entries in (0, 1]",
            found="asymmetric or out-of-range entries",
        )
    D_user = (pij - np.outer(np.diag(pij), np.diag(pij))) / pij
    D_user[np.abs(D_user) < tolerance] = 0.0
    appear = stage.cluster[np.sort(first)]  # cluster codes in order of first appearance
    D = np.empty_like(D_user)
    D[np.ix_(appear, appear)] = D_user
    return D
