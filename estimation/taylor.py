"""Taylor-linearisation variance engine: R ``survey``'s ``svyrecvar`` for every domain at once.

For weighted scores ``x_i`` (``w_i`` times the influence value of row ``i``) the variance of
``Σ_i x_i`` under a stratified multi-stage design is computed recursively (Särndal, Swensson &
Wretman 1992, §4.3; Lumley 2010, §2.2 and appendix): at stage ``s``, in stratum ``h`` with
``n_h`` sampled clusters of cluster totals ``X_c``,

.. math::

    V_{sh} = (1 - f_h)\\,\\frac{n_h}{n_h - 1} \\sum_{c \\in h}(X_c - \\bar X_h)(X_c - \\bar X_h)^T,

and the contributions of stage ``s + 1`` are added, multiplied by the sampling fraction
``n/N`` of every ancestor cluster. Without ``fpc`` only the first stage contributes
(with-replacement, "ultimate cluster" variance). Single-cluster strata follow ``lonely_psu``:
``"remove"``/``"certainty"`` contribute nothing, ``"adjust"`` centres at zero instead of the
stratum mean, ``"average"`` replaces them by the average of the other strata's contributions,
``"fail"`` is refused when the design is declared.

Domains: cluster totals are formed per (cluster, domain) pair with one ``bincount``; every
domain's covariance follows from sums over those pairs, so thousands of domains cost one pass.

PPS without replacement (one stage): Brewer's approximation uses per-unit ``f_c = 1 - π_c``
in the formula above; Overton's and Hartley–Rao's approximations and a user-supplied matrix of
joint inclusion probabilities use the Horvitz–Thompson form ``x' Δ̌ x`` with
``Δ̌_ij = (π_ij − π_i π_j)/π_ij`` (or the Yates–Grundy form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from estimation.problems import GeneralProblem, RatioProblem
from estimation.structure import Stage


class ScoreAdjustment(Protocol):
    """A calibration record: replaces scores by their residuals (see ``weighting``)."""

    def residualize(self, x: np.ndarray) -> np.ndarray: ...


def _pair_codes(cluster: np.ndarray, n_clusters: int, domain: np.ndarray | None, n_domains: int):
    """Codes of the (cluster, domain) pairs present, with each pair's cluster and domain.

    Rows outside every domain carry zero scores, so they may be counted in domain 0.
    """
    if domain is None or n_domains == 1:
        return cluster, np.arange(n_clusters), np.zeros(n_clusters, dtype=np.int64)
    key = cluster * n_domains + np.maximum(domain, 0)
    size = n_clusters * n_domains
    if size <= max(4 * len(key), 1 << 20):
        present = np.bincount(key, minlength=size) > 0
        uniq = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        inverse = remap[key]
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
    return inverse, uniq // n_domains, uniq % n_domains


def _group_sum(codes: np.ndarray, x: np.ndarray, size: int) -> np.ndarray:
    out = np.empty((size, x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.bincount(codes, weights=x[:, j], minlength=size)
    return out


def finite_population_factor(stage: Stage) -> np.ndarray:
    """``1 - n_h/N_h`` for each cluster (one when sampled with replacement)."""
    n = stage.n_sampled[stage.stratum].astype(float)
    finite = np.isfinite(stage.popsize)
    out = np.ones(stage.n_clusters)
    out[finite] = (stage.popsize[finite] - n[finite]) / stage.popsize[finite]
    return out


def stratum_factors(stage: Stage, lonely_psu: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cluster scale, per-stratum multiplier and centring flag for one stage.

    Returns
    -------
    scale : ndarray (n_clusters,)
        ``f_c n_h/(n_h - 1)`` (``f_c`` alone for single-cluster strata), zero where the stratum
        is a certainty stratum (all ``f < 1e-7``) or a removed single-cluster stratum.
    stratum_mult : ndarray (n_strata,)
        ``nstrat/nokstrat`` of the stratum's parent for ``lonely_psu="average"`` (else one);
        zero for the single-cluster strata that ``"average"`` leaves out.
    centre : ndarray of bool (n_strata,)
        Whether the stratum is centred at its mean (False only for ``"adjust"`` singletons).
    """
    n_h = stage.n_sampled
    f = finite_population_factor(stage)
    n_c = n_h[stage.stratum].astype(float)
    scale = np.where(n_c > 1, f * n_c / np.maximum(n_c - 1, 1), f)
    # certainty strata: all clusters with f < 1e-7 contribute nothing (and are never "lonely")
    certain = np.ones(stage.n_strata, dtype=bool)
    np.logical_and.at(certain, stage.stratum, f < 1e-7)
    scale = np.where(certain[stage.stratum], 0.0, scale)
    single = (n_h == 1) & ~certain
    mult = np.ones(stage.n_strata)
    centre = np.ones(stage.n_strata, dtype=bool)
    if lonely_psu in ("remove", "certainty"):
        scale = np.where(single[stage.stratum], 0.0, scale)
    elif lonely_psu == "adjust":
        centre = ~single
    elif lonely_psu == "average":
        n_parent = int(stage.parent.max()) + 1
        nstrat = np.bincount(stage.parent, minlength=n_parent).astype(float)
        nok = np.bincount(stage.parent, weights=(~single).astype(float), minlength=n_parent)
        factor = np.divide(nstrat, nok, out=np.zeros_like(nstrat), where=nok > 0)
        mult = np.where(single, 0.0, factor[stage.parent])
        scale = np.where(single[stage.stratum], 0.0, scale)
    return scale, mult, centre


def lonely_strata(stage: Stage) -> np.ndarray:
    """Indices of strata with a single sampled cluster that are not certainty strata."""
    f = finite_population_factor(stage)
    certain = np.ones(stage.n_strata, dtype=bool)
    np.logical_and.at(certain, stage.stratum, f < 1e-7)
    return np.flatnonzero((stage.n_sampled == 1) & ~certain)


class TaylorEngine:
    """Variance by linearisation for a :class:`~estimation.structure.Stage` list.

    Parameters
    ----------
    stages : list of Stage
        Factorised design (see :func:`estimation.structure.build_stages`).
    weights : ndarray (n,)
        Sampling weights (zero outside a subset).
    lonely_psu : str
        Treatment of single-cluster strata.
    multistage : bool
        Whether later stages contribute (True when ``fpc`` is given, as in R).
    adjustments : sequence of ScoreAdjustment
        Calibration records applied to the scores before the recursion.
    pps : None, "brewer", or ndarray (n, n)
        ``None``/``"brewer"`` use the recursion; a matrix is the Horvitz–Thompson ``Δ̌``
        (already built from joint probabilities or an approximation).
    pps_yates_grundy : bool
        Use the Yates–Grundy form with ``Δ̌``.
    """

    def __init__(
        self,
        stages: list[Stage],
        weights: np.ndarray,
        lonely_psu: str,
        multistage: bool,
        adjustments: Sequence[ScoreAdjustment] = (),
        dcheck: np.ndarray | None = None,
        yates_grundy: bool = False,
    ) -> None:
        self.stages = stages
        self.weights = weights
        self.lonely_psu = lonely_psu
        self.multistage = multistage
        self.adjustments = tuple(adjustments)
        self.dcheck = dcheck
        self.yates_grundy = yates_grundy
        self._factors = [stratum_factors(st, lonely_psu) for st in stages]
        self._fractions = [st.sampling_fraction() for st in stages]

    # -- the narrow waist -------------------------------------------------------------------
    def covariance(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """Covariance of the domain totals of the weighted scores ``x``.

        Parameters
        ----------
        x : ndarray (n, k)
            Weighted scores on every row of the design.
        domain : ndarray of int (n,), optional
            Domain code per row (``-1``: in no domain).
        n_domains : int

        Returns
        -------
        ndarray (n_domains, k, k)
        """
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        for record in self.adjustments:
            x = np.asarray(record.residualize(x), dtype=float)
        if self.dcheck is not None:
            return self._pps_matrix(x, domain, n_domains)
        k = x.shape[1]
        total = np.zeros((n_domains, k, k))
        stages = self.stages if self.multistage else self.stages[:1]
        carry = np.ones(len(x))  # product of ancestors' sampling fractions, per row
        for s, stage in enumerate(stages):
            total += self._stage(stage, s, x, carry, domain, n_domains)
            if s + 1 < len(stages):
                carry = carry * self._fractions[s][stage.cluster]
                if not carry.any():
                    break
        return total

    def _stage(self, stage, s, x, carry, domain, n_domains):
        scale, mult, centre = self._factors[s]
        k = x.shape[1]
        codes, pair_cluster, pair_domain = _pair_codes(stage.cluster, stage.n_clusters, domain, n_domains)
        T = _group_sum(codes, x, len(pair_cluster))  # (pairs, k)
        # ancestors' fraction is constant within a cluster: take it per cluster
        cl_carry = np.zeros(stage.n_clusters)
        cl_carry[stage.cluster] = carry
        stratum = stage.stratum[pair_cluster]
        weight = scale[pair_cluster]
        H = stage.n_strata
        key = stratum * n_domains + pair_domain
        size = H * n_domains
        # sums over the clusters of each (stratum, domain): Σ s T T', Σ s T, Σ T
        A = np.zeros((size, k, k))
        outer = T[:, :, None] * T[:, None, :] * weight[:, None, None]
        for a in range(k):
            for b in range(k):
                A[:, a, b] = np.bincount(key, weights=outer[:, a, b], minlength=size)
        B = _group_sum(key, T * weight[:, None], size)
        Ssum = _group_sum(key, T, size)
        # Σ_c s_c over *all* clusters of the stratum (zero totals included)
        S_all = np.bincount(stage.stratum, weights=scale, minlength=H)
        n_strat = stage.n_sampled.astype(float)
        m = Ssum / np.repeat(n_strat, n_domains)[:, None]
        cen = np.repeat(centre, n_domains)[:, None, None]
        S_rep = np.repeat(S_all, n_domains)[:, None, None]
        cov = A - cen * (B[:, :, None] * m[:, None, :] + m[:, :, None] * B[:, None, :] - S_rep * m[:, :, None] * m[:, None, :])
        # multiply by the ancestors' sampling fractions (constant within stratum) and mult
        st_first_cluster = np.zeros(H, dtype=np.int64)
        st_first_cluster[stage.stratum[::-1]] = np.arange(stage.n_clusters - 1, -1, -1)
        st_carry = cl_carry[st_first_cluster] * mult
        cov = cov * np.repeat(st_carry, n_domains)[:, None, None]
        return cov.reshape(H, n_domains, k, k).sum(axis=0)

    def _pps_matrix(self, x, domain, n_domains):
        stage = self.stages[0]
        k = x.shape[1]
        out = np.zeros((n_domains, k, k))
        D = self.dcheck
        for d in range(n_domains):
            xd = x if domain is None else np.where((domain == d)[:, None], x, 0.0)
            T = _group_sum(stage.cluster, xd, stage.n_clusters)
            V = T.T @ (D @ T)
            if self.yates_grundy:
                V = V - np.einsum("j,ja,jb->ab", np.asarray(D.sum(axis=0)).ravel(), T, T)
            out[d] = V
        return out

    # -- VarianceEngine ---------------------------------------------------------------------
    def solve_ratio(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        est, scores = ratio_scores(problem, self.weights)
        return est, self.covariance(scores, problem.domain, problem.n_domains)

    def solve_general(self, problem: GeneralProblem) -> tuple[np.ndarray, np.ndarray]:
        est = np.asarray(problem.statistic(self.weights), dtype=float)
        infl = np.asarray(problem.influence(self.weights), dtype=float)
        return est, self.covariance(infl)[0]


def _domain_rows(domain: np.ndarray | None, weights: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Domain index per row (outside rows put in domain 0) and weights zeroed outside."""
    if domain is None:
        return None, weights
    inside = domain >= 0
    return np.where(inside, domain, 0), np.where(inside, weights, 0.0)


def domain_totals(values: np.ndarray, weights: np.ndarray, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
    """Weighted totals ``Σ w_i v_ij`` per domain: shape (n_domains, k); rows with domain -1 excluded."""
    d, wi = _domain_rows(domain, weights)
    if d is None or n_domains == 1:
        return (wi @ values)[None, :]
    return _group_sum(d, values * wi[:, None], n_domains)


def ratio_scores(problem: RatioProblem, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and weighted linearised scores of a :class:`RatioProblem`.

    ``θ_dj = A_dj / B_dj`` with ``A, B`` the weighted domain totals; the score of row ``i`` in
    domain ``d`` is ``w_i (a_ij − θ_dj b_ij) / B_dj`` (zero outside every domain). For totals
    the score is ``w_i a_ij``. Scores are (n, k), each row scored for its own domain.
    """
    a = problem.numerator
    D = problem.n_domains
    d, wi = _domain_rows(problem.domain, weights)
    A = _group_sum(d, a * wi[:, None], D) if D > 1 else (wi @ a)[None, :]
    if problem.denominator is None:
        return A, a * wi[:, None]
    b = problem.denominator
    B = _group_sum(d, b * wi[:, None], D) if D > 1 else (wi @ b)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = A / B
        if D == 1:
            scores = (a - theta[0] * b) * (wi[:, None] / B[0])
        else:
            scores = (a - theta[d] * b) * (wi[:, None] / B[d])
    return theta, scores
