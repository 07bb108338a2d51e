"""Variance of unequal-probability sampling without replacement at the first (or only) stage.

The Horvitz–Thompson variance of a total is ``Σ_i Σ_j Δ̌_ij y̌_i y̌_j`` with ``y̌ = y/π`` and
``Δ̌_ij = (π_ij − π_i π_j)/π_ij`` (Särndal et al. 1992, eq. 2.8.4). When the joint inclusion
probabilities ``π_ij`` are not known they are approximated (Berger & Tillé 2009):

* Overton (1985): ``Δ̌_ij = 1 − (n − (π_i + π_j)/2)/(n − 1)``;
* Hartley & Rao (1962): ``Δ̌_ij = 1 − (n − π_i − π_j + Σ_{k∈U} π_k²/n)/(n − 1)``. The population
  sum ``Σ_U π_k²/n`` is given as ``HR(psum=…)`` (R's ``HR(psum)``) or, by default, estimated by
  the mean of the sample ``π`` (``E Σ_s π_k = Σ_U π_k²``; R's ``HR()``);
* Brewer (2002, eq. 9.12) needs no matrix: it is the with-replacement formula with each unit's
  finite population correction ``1 − π_i`` (handled by the Taylor engine's recursion).

In a multi-stage design ``Δ̌`` concerns the PSUs and each later stage adds ``Σ_i V̂_i/π_i``
(:mod:`estimation.taylor`; Särndal et al. 1992, result 4.3.1).

All within strata; ``Δ̌_ii = 1 − π_i``; ``Δ̌_ij = 0`` between strata and between two certainty
units (``π = 1``). Entries below a tolerance are set to zero as R does for a user-supplied
matrix (``ppsmat(tolerance=1e-4)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from estimation.structure import Stage
from surveycore.errors import SurveyError


@dataclass(frozen=True)
class HR:
    """Hartley–Rao approximation of the joint inclusion probabilities (R's ``HR(psum)``).

    Parameters
    ----------
    psum : float, mapping of stratum → float, or None
        The population value ``Σ_{k∈U} π_k² / n`` (one number, or one per stratum label). None
        estimates it by the mean of the sample inclusion probabilities in each stratum.

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import SurveyDesign
    >>> from estimation.pps import HR
    >>> df = pd.DataFrame({"p": [0.15, 0.35, 0.6, 0.8], "y": [1.0, 2.0, 4.0, 3.0]})
    >>> d = SurveyDesign(df, fpc="p", pps=HR(psum=0.45))
    >>> round(float(d.total("y")["se"].iloc[0]), 4)
    2.9281
    """

    psum: float | Mapping[Any, float] | None = None

    def p2bar(self, stage: Stage, p: np.ndarray) -> np.ndarray:
        """``Σ_U π²/n`` per stratum (n_strata,)."""
        strata = stage.strata
        if self.psum is None:
            return strata.mean(p)
        if isinstance(self.psum, Mapping):
            missing = [lab for lab in stage.labels if lab not in self.psum]
            if missing:
                raise SurveyError(
                    "HR(psum=…) has no value for some strata",
                    argument="pps",
                    expected="one value of Σπ²/n per stratum label",
                    found="no value for " + ", ".join(map(repr, missing[:5])),
                )
            values = np.array([float(self.psum[lab]) for lab in stage.labels])
        else:
            values = np.full(stage.n_strata, float(self.psum))
        if not np.isfinite(values).all() or (values <= 0).any() or (values > 1).any():
            raise SurveyError(
                "HR psum must be Σπ²/n of the population, a number in (0, 1]",
                argument="pps",
                expected="0 < psum <= 1",
                found=repr(self.psum),
            )
        return values


def pps_dcheck(pps: Any, pi: np.ndarray, stage: Stage, tolerance: float = 1e-4) -> np.ndarray | None:
    """The ``Δ̌`` matrix over first-stage units (None for Brewer's approximation)."""
    if isinstance(pps, str) and pps == "brewer":
        return None
    if isinstance(pps, str) and pps == "hartley-rao":
        pps = HR()
    p = pi[stage.clusters.first_row]
    if isinstance(pps, (str, HR)):
        strat = stage.stratum
        same = strat[:, None] == strat[None, :]
        n = stage.n_sampled[strat].astype(float)
        if isinstance(pps, HR):
            p2bar = pps.p2bar(stage, p)[strat]
            D = 1 - (n[:, None] - p[:, None] - p[None, :] + p2bar[:, None]) / (n[:, None] - 1)
        else:  # overton
            D = 1 - (n[:, None] - (p[:, None] + p[None, :]) / 2) / (n[:, None] - 1)
        certain = p >= 1
        D[~same | (certain[:, None] & certain[None, :])] = 0.0
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
    appear = stage.cluster[np.sort(stage.clusters.first_row)]  # cluster codes in order of first appearance
    D = np.empty_like(D_user)
    D[np.ix_(appear, appear)] = D_user
    return D
