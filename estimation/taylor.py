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

The variance is a symmetric bilinear form ``V(a, b)`` of the score columns; the engine
evaluates it on cluster totals (:meth:`TaylorEngine.bilinear`).

Domains are a dimension of the scores. Domain ``d``'s scores ``x_d`` are the scores of its rows
(zero elsewhere). When the weights carry calibration, post-stratification or raking records,
each domain's scores are residualised against every record *before* the variance —
``e_d = x_d − U C_d`` (:class:`weighting.records.ResidualMap`), non-zero outside the domain —
exactly as R's ``svyby`` (a ``subset`` per domain) does. Residualising the pooled scores and
splitting afterwards is wrong. All domains cost one pass: ``C_d`` comes from the per-domain
products ``Lᵀ x_d``, and

.. math:: V(e_d) = V(x_d) − V(x_d, U) C_d − C_d^T V(U, x_d) + C_d^T V(U, U) C_d,

where ``V(x_d)`` uses the (cluster, domain) pairs present and ``V(x_d, U)`` is linear in the
pair totals. With a single domain the residuals are formed explicitly.

PPS without replacement at the first stage: Brewer's approximation uses per-unit
``f_c = 1 - π_c`` in the formula above; Overton's and Hartley–Rao's approximations and a
user-supplied matrix of joint inclusion probabilities use the Horvitz–Thompson form
``X' Δ̌ X`` of the first-stage cluster totals with ``Δ̌_ij = (π_ij − π_i π_j)/π_ij`` (or the
Yates–Grundy form). Later stages add their own variance times the first-stage ``π_i`` — on
scores already expanded by ``1/π_i`` this is ``Σ_i V̂_i/π_i`` (Särndal et al. 1992, result
4.3.1), exactly the later-stage terms of R's multi-stage Brewer design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from estimation.problems import GeneralProblem, RatioProblem
from estimation.structure import Stage
from surveycore.groups import Groups, pair_sums_in_blocks, sums_in_blocks
from weighting.records import DomainCells, ResidualMap

Matrix = np.ndarray | sp.spmatrix
_BLOCK = 1 << 15  # rows per block where a gathered matrix is added in place


def _dense(m: Matrix) -> np.ndarray:
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def _dense_when_small(t: Matrix) -> Matrix:
    """A sparse matrix of at most 2·10⁷ entries as dense: sparse × dense products are much
    cheaper than sparse × sparse."""
    return t.toarray() if sp.issparse(t) and t.shape[0] * t.shape[1] <= 2e7 else t


def _scale_rows(m: Matrix, v: np.ndarray) -> Matrix:
    return sp.diags(v) @ m if sp.issparse(m) else v[:, None] * m


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
    f = stage.fpc_factor()
    n_c = n_h[stage.stratum].astype(float)
    scale = np.where(n_c > 1, f * n_c / np.maximum(n_c - 1, 1), f)
    certain = stage.certain_strata()
    scale = np.where(certain[stage.stratum], 0.0, scale)
    single = (n_h == 1) & ~certain
    mult = np.ones(stage.n_strata)
    centre = np.ones(stage.n_strata, dtype=bool)
    if lonely_psu in ("remove", "certainty"):
        scale = np.where(single[stage.stratum], 0.0, scale)
    elif lonely_psu == "adjust":
        centre = ~single
    elif lonely_psu == "average":
        parents = Groups(stage.parent)
        nstrat = parents.sizes.astype(float)
        nok = parents.sum((~single).astype(float))
        factor = np.divide(nstrat, nok, out=np.zeros_like(nstrat), where=nok > 0)
        mult = np.where(single, 0.0, factor[stage.parent])
        scale = np.where(single[stage.stratum], 0.0, scale)
    return scale, mult, centre


def lonely_strata(stage: Stage) -> np.ndarray:
    """Indices of strata with a single sampled cluster that are not certainty strata."""
    return np.flatnonzero((stage.n_sampled == 1) & ~stage.certain_strata())


@dataclass(frozen=True)
class _StageForm:
    """The quadratic form of one stage: ``Σ_h γ'_h Σ_{c∈h} s_c (X_c − c_h X̄_h)(·)ᵀ``.

    ``weight`` is ``s_c`` times the stratum's carry (ancestors' sampling fractions × the
    ``"average"`` multiplier), ``gamma`` the carry of centred strata (zero otherwise).
    """

    stage: Stage
    scale: np.ndarray  # (C,) s_c
    weight: np.ndarray  # (C,) s_c · carry_h
    carry: np.ndarray  # (H,) carry_h
    gamma: np.ndarray  # (H,) carry_h · centre_h
    s_sum: np.ndarray  # (H,) Σ_{c∈h} s_c
    mult: np.ndarray | None = None  # (H,) the "average" multiplier inside carry_h

    @property
    def clusters(self) -> Groups:
        return self.stage.clusters

    @property
    def strata(self) -> Groups:
        return self.stage.strata

    def bilinear(self, ta: Matrix, tb: Matrix) -> np.ndarray:
        """``V(a, b)`` (a × b) from cluster totals ``ta`` (C × a) and ``tb`` (C × b).

        With ``ta`` sparse (per-domain totals) and ``tb`` dense, the stratum means are moved
        to ``tb``'s side: ``V(a, b) = taᵀ M`` with, for cluster ``c`` of stratum ``h``,
        ``M_c = w_c tb_c − (s_c − S_h/n_h) γ_h T_h/n_h − γ_h B_h/n_h`` (``T_h``, ``B_h`` the
        stratum sums of ``tb`` and ``s ∘ tb``), so that one sparse product remains.
        """
        if sp.issparse(ta) and not sp.issparse(tb):
            return _dense(ta.T @ self.right_factor(tb))
        inv_n = self._inverse_n()
        term = ta.T @ _scale_rows(tb, self.weight)
        ma = _scale_rows(self.strata.sum(ta), inv_n)
        ba = self.strata.sum(_scale_rows(ta, self.scale))
        mb = _scale_rows(self.strata.sum(tb), inv_n * self.gamma)
        bb = _scale_rows(self.strata.sum(_scale_rows(tb, self.scale)), self.gamma)
        left = ba - _scale_rows(ma, self.s_sum)
        return _dense(term) - _dense(left.T @ mb) - _dense(ma.T @ bb)

    def right_factor(self, tb: np.ndarray) -> np.ndarray:
        """``M`` (C × b) such that ``V(a, b) = taᵀ M`` for any cluster totals ``ta`` (see :meth:`bilinear`).

        ``M_c = w_c tb_c − (s_c − S_h/n_h) γ_h T_h/n_h − γ_h B_h/n_h``; when ``s_c`` is one value
        ``σ_h`` within each stratum this is ``w_c tb_c − g_h T_h`` with ``g_h = γ_h σ_h/n_h``.
        """
        inv_n = self._inverse_n()
        h = self.stage.stratum
        sigma = self.stratum_scale
        if sigma is not None:
            m = _scale_rows(tb, self.weight)
            m -= _scale_rows(self.strata.sum(tb), self.gamma * sigma * inv_n)[h]
            return m
        mb = _scale_rows(self.strata.sum(tb), inv_n * self.gamma)[h]
        bb = _scale_rows(self.strata.sum(_scale_rows(tb, self.scale)), self.gamma * inv_n)[h]
        shift = (self.scale - (self.s_sum * inv_n)[h])[:, None]
        return _scale_rows(tb, self.weight) - shift * mb - bb

    @cached_property
    def stratum_scale(self) -> np.ndarray | None:
        """``σ_h`` (H,) when the scale ``s_c`` is one value within each stratum (an fpc per
        stratum, no PPS), else None.

        Then ``B_hd = σ_h S_hd`` and, with ``S_h = n_h σ_h``, a stratum's terms
        ``γ_h (B_hd m_hdᵀ + m_hd B_hdᵀ − S_h m_hd m_hdᵀ)`` reduce to ``g_h S_hd S_hdᵀ`` with
        ``g_h = γ_h σ_h / n_h``: no sums of ``s_c X_cd`` are needed.
        """
        sigma = np.zeros(self.stage.n_strata)
        sigma[self.stage.stratum] = self.scale
        return sigma if np.array_equal(sigma[self.stage.stratum], self.scale) else None

    def _stratum_coef(self) -> np.ndarray:
        """``g_h = γ_h σ_h / n_h`` (H,) for a stage with :attr:`stratum_scale`."""
        return self.gamma * self.stratum_scale * self._inverse_n()

    def domain_diagonal(self, pairs: _Pairs, totals: np.ndarray, domain_lonely: str | None = None,
                        in_domain_singles: bool = True, weight: np.ndarray | None = None) -> np.ndarray:
        """``V(x_d)`` (D, k, k) of every domain from its (cluster, domain) pair totals (pairs × k).

        ``domain_lonely`` (R's ``survey.adjust.domain.lonely``): a stratum where the domain has a
        single cluster is not centred (``"adjust"``), or is left out with the other strata of
        its parent scaled by ``strata present / strata kept`` within the domain (``"average"``).
        With ``in_domain_singles=False`` only the design's own single-cluster strata are left
        out, the scaling still counting the strata present in the domain (R's ``"average"``
        on the subset of a design without calibration, whose rows outside the domain are
        dropped). ``weight`` (C,) replaces ``w_c`` in ``Σ_c w_c X_cd X_cdᵀ`` (a later stage's
        stratum terms folded in, see :meth:`TaylorVariance._folds`; without ``domain_lonely`` only).
        """
        D, k = pairs.n_domains, totals.shape[1]
        cl = pairs.cluster
        if domain_lonely is None:
            if pairs.dense_strata(self.stage):
                return self._dense_domain_diagonal(pairs, totals, weight)
            return self._sparse_domain_diagonal(pairs, totals, weight)
        stratum = self.stage.stratum[cl]
        # only the (stratum, domain) cells that hold a pair: absent cells contribute zero
        key, h, d = Groups.pairs(stratum, self.stage.n_strata, pairs.domain, D)
        cells = h * D + d
        outer = totals[:, :, None] * totals[:, None, :] * self.weight[cl][:, None, None]
        A = key.sum(outer.reshape(-1, k * k)).reshape(-1, k, k)
        B = key.sum(totals * self.scale[cl][:, None]).reshape(-1, k)
        S = key.sum(totals).reshape(-1, k)
        n_rep = self.stage.n_sampled.astype(float)[h][:, None]
        m = np.divide(S, n_rep, out=np.zeros_like(S), where=n_rep > 0)
        g = self.gamma[h][:, None, None]
        s_rep = self.s_sum[h][:, None, None]
        single = None
        if domain_lonely is not None:
            single = (key.sizes == 1) & (n_rep[:, 0] > 1) if in_domain_singles else np.zeros(len(h), dtype=bool)
            if domain_lonely == "adjust":
                g = np.where(single[:, None, None], 0.0, g)
        A -= g * (B[:, :, None] * m[:, None, :] + m[:, :, None] * B[:, None, :] - s_rep * m[:, :, None] * m[:, None, :])
        if domain_lonely == "average" and single is not None:
            H = self.stage.n_strata  # the average works on the full strata × domains layout
            full = np.zeros((H * D, k, k))
            full[cells] = A
            present = np.zeros(H * D, dtype=bool)
            present[cells] = True
            single_full = np.zeros(H * D, dtype=bool)
            single_full[cells] = single
            return self._domain_average(full, present, single_full, D).reshape(H, D, k, k).sum(axis=0)
        return Groups(d, D).sum(A.reshape(-1, k * k)).reshape(D, k, k)

    def _dense_domain_diagonal(self, pairs: _Pairs, totals: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """:meth:`domain_diagonal` with the (stratum, domain) sums laid out as dense (H, D) arrays.

        ``V(x_d) = Σ_c w_c X_cd X_cdᵀ − Σ_h γ_h (B_hd m_hdᵀ + m_hd B_hdᵀ − S_h m_hd m_hdᵀ)``
        with ``B_hd = Σ_{c∈h} s_c X_cd``, ``m_hd = Σ_{c∈h} X_cd / n_h`` and ``S_h = Σ_{c∈h} s_c``
        (absent pairs are zero): the first term is summed over pairs by domain, the stratum
        terms over a (stratum × domain) layout small enough to hold densely — no grouping of
        the pairs by (stratum, domain) cell.
        """
        D, k = pairs.n_domains, totals.shape[1]
        H = self.stage.n_strata
        cell = pairs.strata_cells(self.stage)
        if self.stratum_scale is not None:  # B = σ S: the stratum terms are g_h S_hd S_hdᵀ
            g = self._stratum_coef()
            if k == 1:
                S = cell.sum(totals[:, 0]).reshape(H, D)
                S *= S
                return (self._pair_squares(pairs, totals, weight)[:, 0, 0] - g @ S).reshape(D, 1, 1)
            S = cell.sum(totals).reshape(H, D, k)
            return self._pair_squares(pairs, totals, weight) - np.einsum("h,hdi,hdj->dij", g, S, S)
        inv_n = self._inverse_n()
        if k == 1:
            t = totals[:, 0]
            B = cell.sum(t * self.scale[pairs.cluster]).reshape(H, D)
            S = cell.sum(t).reshape(H, D)
            cross = (self.gamma * inv_n) @ (B * S)
            square = (self.gamma * self.s_sum * inv_n**2) @ (S * S)
            return (self._pair_squares(pairs, totals, weight)[:, 0, 0] - 2 * cross + square).reshape(D, 1, 1)
        B = cell.sum(totals * self.scale[pairs.cluster][:, None]).reshape(H, D, k)
        m = cell.sum(totals).reshape(H, D, k) * inv_n[:, None, None]
        cross = np.einsum("h,hdi,hdj->dij", self.gamma, B, m)
        square = np.einsum("h,hdi,hdj->dij", self.gamma * self.s_sum, m, m)
        return self._pair_squares(pairs, totals, weight) - cross - cross.transpose(0, 2, 1) + square

    def _sparse_domain_diagonal(self, pairs: _Pairs, totals: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """:meth:`domain_diagonal` with the (stratum, domain) sums as sparse products.

        The same formula as :meth:`_dense_domain_diagonal`, for (stratum × domain) layouts
        too large to hold densely (e.g. later stages, whose strata are the earlier clusters):
        ``S = I_h T`` and ``B = I_h diag(s) T`` with ``T`` the sparse (cluster × D·k) pair
        totals and ``I_h`` the (stratum × cluster) indicator; only the cells present are formed.
        """
        k = totals.shape[1]
        tm = pairs.as_matrix(totals)
        S = (self.strata.indicator @ tm).tocsr()
        B = (self.strata.weighted_indicator(self.scale) @ tm).tocsr()
        inv_n = self._inverse_n()
        c1, c2 = self.gamma * inv_n, self.gamma * self.s_sum * inv_n**2
        out = self._pair_squares(pairs, totals, weight)
        for i in range(k):
            for j in range(k):
                Bi, Si, Sj = (B, S, S) if k == 1 else (B[:, i::k], S[:, i::k], S[:, j::k])
                Bj = B if k == 1 else B[:, j::k]
                cross = np.asarray(Bi.multiply(Sj).T @ c1).ravel() + np.asarray(Si.multiply(Bj).T @ c1).ravel()
                out[:, i, j] -= cross - np.asarray(Si.multiply(Sj).T @ c2).ravel()
        return out

    def nested_domain_diagonal(self, pairs: _Pairs, totals: np.ndarray, cells: _Pairs, cell_totals: np.ndarray,
                               x: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """:meth:`domain_diagonal` for a stage whose strata are the previous stage's clusters.

        The (stratum, domain) cells are then the previous stage's (cluster, domain) pairs
        ``cells``, whose totals ``S`` (``cell_totals``) are already known; ``B_hd`` is the
        cells' sum of ``s_c x_i`` over their rows. Same formula as :meth:`_dense_domain_diagonal`.
        """
        D, k = pairs.n_domains, totals.shape[1]
        h = cells.cluster  # the stratum of each cell
        if self.stratum_scale is not None:  # B = σ S: the stratum terms are g_h S_hd S_hdᵀ
            coef = self._stratum_coef()
            by_domain = cells.by_domain
            if k == 1:
                t = cell_totals[:, 0]

                def square(rows: slice) -> np.ndarray:
                    g = coef[h[rows]]
                    g *= t[rows]
                    g *= t[rows]
                    return g

                return self._pair_squares(pairs, totals, weight) - by_domain.sum_blocks(square).reshape(D, 1, 1)
            g = coef[h]
            outer = (g[:, None, None] * cell_totals[:, :, None] * cell_totals[:, None, :]).reshape(-1, k * k)
            return self._pair_squares(pairs, totals, weight) - by_domain.sum(outer).reshape(D, k, k)
        inv_n = self._inverse_n()
        B = cells.totals(x * self.scale[self.stage.cluster][:, None])
        S = cell_totals
        c1 = (self.gamma * inv_n)[h]
        c2 = (self.gamma * self.s_sum * inv_n**2)[h]
        by_domain = Groups(cells.domain, D)
        if k == 1:
            b, t = B[:, 0], S[:, 0]
            corr = by_domain.sum(c1 * 2 * b * t - c2 * t * t)
            return self._pair_squares(pairs, totals, weight) - corr.reshape(D, 1, 1)
        cross = by_domain.sum((c1[:, None, None] * B[:, :, None] * S[:, None, :]).reshape(-1, k * k)).reshape(D, k, k)
        square = by_domain.sum((c2[:, None, None] * S[:, :, None] * S[:, None, :]).reshape(-1, k * k)).reshape(D, k, k)
        return self._pair_squares(pairs, totals, weight) - cross - cross.transpose(0, 2, 1) + square

    def _inverse_n(self) -> np.ndarray:
        n_h = self.stage.n_sampled.astype(float)
        return np.divide(1.0, n_h, out=np.zeros_like(n_h), where=n_h > 0)

    def _pair_squares(self, pairs: _Pairs, totals: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """``Σ_c w_c X_cd X_cdᵀ`` (D, k, k) over the pairs of each domain (``weight`` instead of ``w``)."""
        D, k = pairs.n_domains, totals.shape[1]
        by_domain = pairs.by_domain
        weight = self.weight if weight is None else weight
        if k == 1:  # block by block: no temporary of the pairs' length
            t, cl = totals[:, 0], pairs.cluster

            def square(rows: slice) -> np.ndarray:
                wt = weight[cl[rows]]
                wt *= t[rows]
                wt *= t[rows]
                return wt

            return by_domain.sum_blocks(square).reshape(D, 1, 1)
        wt = totals * weight[pairs.cluster][:, None]
        return by_domain.sum((wt[:, :, None] * totals[:, None, :]).reshape(-1, k * k)).reshape(D, k, k)

    def _domain_average(self, A: np.ndarray, present: np.ndarray, single: np.ndarray, D: int) -> np.ndarray:
        """R's ``"average"`` within each domain: strata kept are scaled by present / kept per parent."""
        st = self.stage
        H = st.n_strata
        lonely = np.repeat((st.n_sampled == 1) & ~st.certain_strata(), D)
        na = present & (single | lonely)
        parent_key = np.repeat(st.parent, D) * D + np.tile(np.arange(D), H)
        size = (int(st.parent.max()) + 1) * D
        nstrat = np.bincount(parent_key, weights=present.astype(float), minlength=size)
        nok = np.bincount(parent_key, weights=(present & ~na).astype(float), minlength=size)
        # no stratum left to average over: no estimate (NaN); no stratum present: nothing to add
        factor = np.divide(nstrat, nok, out=np.where(nstrat > 0, np.nan, 0.0), where=nok > 0)[parent_key]
        mult = np.repeat(self.mult, D) if self.mult is not None else np.ones(H * D)
        base = np.divide(A, mult[:, None, None], out=np.zeros_like(A), where=mult[:, None, None] > 0)
        # a left-out stratum adds nothing, unless its parent's strata in the domain are all left
        # out: then the domain has no variance estimate (R: a zero sum times nstrat/0)
        return np.where((na & np.isfinite(factor))[:, None, None], 0.0, base * factor[:, None, None])


@dataclass(frozen=True)
class _Pairs:
    """The (cluster, domain) pairs present among the rows of one stage.

    The rows' grouping by pair (:attr:`rows`) is given, or formed from ``source`` — the
    stage's clusters and the domain codes — only when a sum over rows asks for it (pairs
    whose totals were summed without it, see :meth:`TaylorVariance.covariance_of_domain_blocks`).
    """

    cluster: np.ndarray  # (pairs,)
    domain: np.ndarray  # (pairs,)
    n_clusters: int
    n_domains: int
    grouped: Groups | None = None  # rows → pair (rows outside every domain: in no pair)
    source: tuple[Groups, np.ndarray] | None = None  # (clusters, domain codes) to group the rows by

    @classmethod
    def build(cls, cluster: Groups, domain: np.ndarray | None, n_domains: int) -> _Pairs:
        C = cluster.n_groups
        if domain is None:
            return cls(np.arange(C), np.zeros(C, dtype=np.int64), C, 1, grouped=cluster)
        rows, pair_cluster, pair_domain = Groups.pairs(cluster.codes, C, domain, n_domains)
        return cls(pair_cluster, pair_domain, C, n_domains, grouped=rows)

    @cached_property
    def rows(self) -> Groups:
        """Rows grouped by pair, in the order of the pairs (rows outside every domain: in no pair)."""
        if self.grouped is not None:
            return self.grouped
        clusters, domain = self.source
        return Groups.pairs(clusters.codes, self.n_clusters, domain, self.n_domains)[0]

    def totals(self, x: np.ndarray) -> np.ndarray:
        return self.rows.sum(x)

    @cached_property
    def by_domain(self) -> Groups:
        """The pairs grouped by domain (built once per pairs, shared by every sum)."""
        return Groups(self.domain, self.n_domains)

    def dense_strata(self, stage: Stage) -> bool:
        """Whether the (stratum × domain) layout of ``stage`` is small enough to hold densely."""
        return stage.n_strata * self.n_domains <= max(4 * len(self.cluster), 1 << 16)

    def strata_cells(self, stage: Stage) -> Groups:
        """The pairs grouped by (stratum, domain) cell ``h·D + d`` of the dense layout (kept per
        stage: shared by the variance and the degrees of freedom)."""
        cache = self.__dict__.setdefault("_strata_cells", {})
        hit = cache.get(id(stage))
        if hit is None or hit[0] is not stage:
            key = stage.stratum[self.cluster]
            key *= self.n_domains
            key += self.domain
            hit = (stage, Groups(key, stage.n_strata * self.n_domains))
            cache[id(stage)] = hit
        return hit[1]

    def as_matrix(self, totals: np.ndarray) -> sp.csr_matrix:
        """Pair totals as a sparse (clusters × D·k) matrix, column ``d·k + j`` (the pairs are
        in (cluster, domain) order, so the compressed rows are built directly)."""
        k = totals.shape[1]
        index = np.int32 if self.n_domains * k < 1 << 31 and totals.size < 1 << 31 else np.int64
        indptr = np.zeros(self.n_clusters + 1, dtype=index)
        np.cumsum(np.bincount(self.cluster, minlength=self.n_clusters) * k, out=indptr[1:])
        cols = self.domain.astype(index) if k == 1 else (self.domain[:, None] * k + np.arange(k)).ravel().astype(index)
        return sp.csr_matrix((totals.ravel(), cols, indptr), shape=(self.n_clusters, self.n_domains * k))


class TaylorVariance:
    """The design's variance form: everything about linearisation that does not depend on the weights.

    Built once per design and shared by its subsets (which only change weights); caches the
    weighting records' ``U`` totals and ``V(U, U)``.

    Parameters
    ----------
    stages : list of Stage
        Factorised design (see :func:`estimation.structure.build_stages`).
    lonely_psu : str
        Treatment of single-cluster strata.
    multistage : bool
        Whether later stages contribute (True when ``fpc`` is given, as in R).
    adjustments : sequence of records
        Calibration, post-stratification and raking records (see :mod:`weighting.records`),
        in chain order.
    dcheck : ndarray (C, C), optional
        The Horvitz–Thompson ``Δ̌`` of a PPS design over first-stage units (None: recursion).
    yates_grundy : bool
        Use the Yates–Grundy form with ``Δ̌``.
    adjust_domain_lonely : bool
        R's ``survey.adjust.domain.lonely``: apply ``lonely_psu`` ("adjust" or "average") to
        strata where a domain (or subset) of a design without weighting records has one cluster.
    """

    def __init__(
        self,
        stages: list[Stage],
        lonely_psu: str,
        multistage: bool,
        adjustments: Sequence = (),
        dcheck: np.ndarray | None = None,
        yates_grundy: bool = False,
        adjust_domain_lonely: bool = False,
    ) -> None:
        self.adjust_domain_lonely = adjust_domain_lonely
        self.stages = stages
        self.lonely_psu = lonely_psu
        self.multistage = multistage
        self.residuals = ResidualMap(adjustments)
        self.dcheck = dcheck
        self.yates_grundy = yates_grundy
        self._forms = self._stage_forms()
        self._u_cache: dict[str, object] = {}
        self._pair_cache: dict[int, tuple] = {}
        # stages whose strata are exactly the previous stage's clusters (no own strata)
        self._strata_are_clusters = {
            id(later): earlier for earlier, later in zip(stages, stages[1:])
            if later.n_strata == earlier.n_clusters and (later.parent == np.arange(later.n_strata)).all()
        }

    def _stage_forms(self) -> list[_StageForm]:
        """One quadratic form per contributing stage.

        ``carry`` is the product of the ancestors' sampling fractions of each stratum, found
        through the strata's parent clusters (a stratum of stage ``s + 1`` lies within one
        cluster of stage ``s``), so no row-level pass is needed.
        """
        forms = []
        stages = self.stages if self.multistage else self.stages[:1]
        anc = np.ones(self.stages[0].n_strata)  # per stratum: product of the ancestors' fractions
        cluster_carry = None  # per cluster of the previous stage: its own fraction times its ancestors'
        for s, stage in enumerate(stages):
            if cluster_carry is not None:
                anc = cluster_carry[stage.parent]
                if not anc.any():
                    break
            cluster_carry = anc[stage.stratum] * stage.sampling_fraction() if s + 1 < len(stages) else None
            if s == 0 and self.dcheck is not None:  # the Δ̌ form is the first stage; later stages carry π
                continue
            scale, mult, centre = stratum_factors(stage, self.lonely_psu)
            st_carry = anc * mult
            forms.append(
                _StageForm(
                    stage=stage,
                    scale=scale,
                    weight=scale * st_carry[stage.stratum],
                    carry=st_carry,
                    gamma=st_carry * centre,
                    s_sum=stage.strata.sum(scale),
                    mult=mult,
                )
            )
        return forms

    def _ht(self, ta: Matrix, tb: Matrix) -> np.ndarray:
        """The first-stage ``Δ̌`` form on cluster totals (Horvitz–Thompson or Yates–Grundy)."""
        out = _dense(ta.T @ _dense(self.dcheck @ tb))
        if self.yates_grundy:
            out = out - _dense(ta.T @ _scale_rows(tb, self._dcheck_colsum()))
        return out

    # -- the bilinear form ------------------------------------------------------------------
    def bilinear(self, a: Matrix, b: Matrix) -> np.ndarray:
        """``V(a, b)``: design covariance of the totals of score columns ``a`` (n × p) and ``b`` (n × q)."""
        groups = [g.clusters for g in self._stage_list()]
        return self._bilinear_totals([g.sum(a) for g in groups], [g.sum(b) for g in groups])

    def _stage_list(self) -> list[Stage]:
        """The stages whose cluster totals enter the variance: the first stage's for a ``Δ̌``
        form, then those of the recursion's forms."""
        return [self.stages[0]] * (self.dcheck is not None) + [f.stage for f in self._forms]

    def _bilinear_totals(self, ta: list[Matrix], tb: list[Matrix]) -> np.ndarray:
        """``V(a, b)`` from the cluster totals of ``a`` and ``b`` at every stage of :meth:`_stage_list`."""
        total = 0.0
        if self.dcheck is not None:
            total = self._ht(ta[0], tb[0])
            ta, tb = ta[1:], tb[1:]
        for form, a, b in zip(self._forms, ta, tb):
            total = total + form.bilinear(a, b)
        return np.asarray(total)

    def _domain_lonely(self) -> str | None:
        """The ``lonely_psu`` rule applied within domains, when R's option would apply it."""
        if self.adjust_domain_lonely and not self.residuals and self.lonely_psu in ("adjust", "average"):
            return self.lonely_psu
        return None

    def _average_over_domain_strata(self) -> bool:
        """Whether ``"average"`` is rescaled within each domain although R's domain option is off.

        R's subset of a design without weighting records drops the rows outside the domain,
        so ``nstrat/nokstrat`` counts the strata present in the domain, and a domain lying only
        in single-cluster strata has no variance estimate (NaN). With weighting records the
        subset keeps every row and the design's own scaling applies. Only designs holding a
        single-cluster stratum are concerned (elsewhere the scaling is one).
        """
        if self.lonely_psu != "average" or self.residuals or self.adjust_domain_lonely:
            return False
        stages = self.stages if self.multistage else self.stages[:1]
        return any(len(lonely_strata(st)) for st in stages)

    def _dcheck_colsum(self) -> np.ndarray:
        return np.asarray(self.dcheck.sum(axis=0)).ravel()

    def pairs(self, stage: Stage, domain: np.ndarray | None, n_domains: int) -> _Pairs:
        """The (cluster, domain) pairs of ``stage`` present among the rows of a domain.

        Kept for the latest read-only domain codes of each stage, so that the variance and
        the degrees of freedom of one estimate (and later estimates on the same ``by`` cells)
        group the rows once.
        """
        if domain is None or domain.flags.writeable:
            return _Pairs.build(stage.clusters, domain, n_domains)
        hit = self._pair_cache.get(id(stage))
        if hit is not None and hit[0] is domain and hit[1] == n_domains:
            return hit[2]
        pairs = _Pairs.build(stage.clusters, domain, n_domains)
        self._pair_cache[id(stage)] = (domain, n_domains, pairs)
        return pairs

    def _domain_diagonal(self, x: np.ndarray | None, domain: np.ndarray | None, n_domains: int, keep: dict | None = None,
                         given: dict | None = None):
        """``V(x_d)`` (D, k, k) for every domain; ``keep`` collects each stage's pairs and pair
        totals (by ``id`` of the stage); ``given`` holds them already summed (then ``x`` is
        None, see :meth:`covariance_of_domain_blocks`)."""
        k = x.shape[1] if given is None else next(iter(given.values()))[1].shape[1]
        total = np.zeros((n_domains, k, k))
        if self.dcheck is not None:
            pairs = self.pairs(self.stages[0], domain, n_domains)
            tot = pairs.totals(x)
            tx = pairs.as_matrix(tot)
            y = _dense(tx.T @ self.dcheck).T  # Δ̌ T (C × D·k); Δ̌ is symmetric
            y_pair = y[pairs.cluster[:, None], pairs.domain[:, None] * k + np.arange(k)]
            outer = tot[:, :, None] * y_pair[:, None, :]
            if self.yates_grundy:
                cs = self._dcheck_colsum()[pairs.cluster]
                outer = outer - cs[:, None, None] * tot[:, :, None] * tot[:, None, :]
            if keep is not None:
                keep[id(self.stages[0])] = (pairs, tot)
            total += Groups(pairs.domain, n_domains).sum(outer.reshape(-1, k * k)).reshape(n_domains, k, k)
        domain_lonely = self._domain_lonely() if domain is not None else None
        in_domain_singles = True
        if domain is not None and domain_lonely is None and self._average_over_domain_strata():
            domain_lonely, in_domain_singles = "average", False
        fold, folded = self._folds() if domain is not None and domain_lonely is None else ({}, set())
        known: dict[int, np.ndarray] = {}  # pair totals of each stage, by id of the stage
        for form in self._forms:
            if given is not None:
                pairs, tot = given[id(form.stage)]
            else:
                pairs = self.pairs(form.stage, domain, n_domains)
                tot = pairs.totals(x)
            known[id(form.stage)] = tot
            weight = form.weight - fold[id(form.stage)] if id(form.stage) in fold else None
            previous = self._strata_are_clusters.get(id(form.stage))
            large = not pairs.dense_strata(form.stage)
            if id(form.stage) in folded:  # its stratum terms are in the previous stage's weights
                total += form._pair_squares(pairs, tot, weight)
            elif domain is not None and domain_lonely is None and previous is not None and large:
                cells = self.pairs(previous, domain, n_domains)
                cell_tot = known[id(previous)] if id(previous) in known else cells.totals(x)
                total += form.nested_domain_diagonal(pairs, tot, cells, cell_tot, x, weight)
            else:
                total += form.domain_diagonal(pairs, tot, domain_lonely, in_domain_singles, weight)
            if keep is not None:
                keep[id(form.stage)] = (pairs, tot)
        return total

    def _folds(self) -> tuple[dict[int, np.ndarray], set[int]]:
        """Stages whose stratum terms fold into the previous stage's pair squares.

        A stage whose strata are the previous stage's clusters and whose scale is one value per
        stratum has stratum terms ``Σ_h g_h S_hd²`` (:attr:`_StageForm.stratum_scale`) whose
        ``S_hd`` are the previous stage's (cluster, domain) pair totals: they are summed with
        that stage's ``Σ_c w_c X_cd²`` as ``Σ_c (w_c − g_c) X_cd²``. Returns the subtrahend
        ``g`` per previous stage (by ``id``) and the ids of the folded stages.
        """
        if "folds" not in self._u_cache:
            ids = {id(f.stage) for f in self._forms}
            fold: dict[int, np.ndarray] = {}
            folded: set[int] = set()
            for form in self._forms:
                previous = self._strata_are_clusters.get(id(form.stage))
                if previous is not None and id(previous) in ids and form.stratum_scale is not None:
                    fold[id(previous)] = form._stratum_coef()
                    folded.add(id(form.stage))
            self._u_cache["folds"] = (fold, folded)
        return self._u_cache["folds"]  # type: ignore[return-value]

    def _cross_u(self, kept: dict, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """``V(x_d, U)`` (D·k × P) from each stage's pairs and pair totals (``kept``).

        When the stages nest (every cluster of a stage lies in one cluster of the finest) and
        ``U``'s totals are dense, the stages' forms are summed on the finest clusters: a
        coarser stage's pair totals are sums of the finest stage's, ``T_s = A_sᵀ T_f`` (``A_s``
        the finest clusters' membership), so ``Σ_s T_sᵀ M_s = T_fᵀ Σ_s A_s M_s`` — one sparse
        product with the finest pair totals instead of one per stage.
        """
        stages = self._stage_list()
        tu = self._u_totals(kept, domain, n_domains)
        m = self._u_right()
        if m is not None:
            pairs, tot = kept[id(stages[-1])]
            return _dense(pairs.as_matrix(tot).T @ m)
        return self._bilinear_totals([pairs.as_matrix(tot) for pairs, tot in (kept[id(st)] for st in stages)], tu)

    def _u_right(self) -> np.ndarray | None:
        """``Σ_s A_s M_s`` (C_f × P) on the finest clusters for ``U``'s totals (see :meth:`_cross_u`),
        so that ``V(a, U) = T_fᵀ M`` for any score columns ``a`` of finest cluster totals
        ``T_f``; None when the stages do not nest, with a ``Δ̌`` form, or sparse totals."""
        if "right" not in self._u_cache:
            tu = self._u_totals()
            anc = self._ancestors()
            m = None
            if anc is not None and self.dcheck is None and not any(sp.issparse(t) for t in tu):
                finest = self._forms[-1]
                spread: list[tuple[np.ndarray, np.ndarray]] = []  # (rows to add, their index per finest cluster)
                if finest.stratum_scale is not None:  # w_c T_c, then − g_h S_h spread below
                    m = _scale_rows(tu[-1], finest.weight)
                    spread.append((-_scale_rows(finest.strata.sum(tu[-1]), finest._stratum_coef()), finest.stage.stratum))
                else:
                    m = finest.right_factor(tu[-1])
                spread += [(form.right_factor(t), a) for form, t, a in zip(self._forms[:-1], tu[:-1], anc[:-1])]
                for rows, index in spread:  # gathered block by block: no temporary of m's size
                    for start in range(0, m.shape[0], _BLOCK):
                        m[start : start + _BLOCK] += rows[index[start : start + _BLOCK]]
            self._u_cache["right"] = m
        return self._u_cache["right"]  # type: ignore[return-value]

    def _ancestors(self) -> list[np.ndarray | None] | None:
        """For each stage of :meth:`_stage_list`, the cluster of every cluster of the last
        (finest) stage (None for the finest itself); None when a stage is not nested in it.

        Stages are factorised nested (:func:`estimation.structure.build_stages`): a later
        stage's clusters lie within one cluster of each earlier stage, which is checked here
        on the first row of each finest cluster's run (rows grouped by finest cluster).
        """
        if "ancestors" not in self._u_cache:
            stages = self._stage_list()
            finest = stages[-1]
            first = finest.clusters.first_row
            out: list[np.ndarray | None] | None = []
            for st in stages[:-1]:
                if st is finest:
                    out.append(None)
                    continue
                a = np.asarray(st.cluster)[first]
                if finest.clusters.varies(st.cluster):  # not nested: one form per stage
                    out = None
                    break
                out.append(a)
            if out is not None:
                out.append(None)
            self._u_cache["ancestors"] = out
        return self._u_cache["ancestors"]  # type: ignore[return-value]

    def _u_totals(self, kept: dict | None = None, domain: np.ndarray | None = None, n_domains: int = 1) -> list[Matrix]:
        """Cluster totals of the records' ``U`` at every stage (summed block by block).

        With nested stages only the finest stage's totals are summed from the rows; a coarser
        stage's are the sums of the finest clusters' totals within each of its clusters.
        ``kept``: the stages' (cluster, domain) pairs of the current estimate, from which
        calibration units holding whole domains are summed (:class:`weighting.records.DomainCells`).
        """
        if "totals" not in self._u_cache:
            stages = self._stage_list()
            anc = self._ancestors()

            def totals_of(st: Stage) -> Matrix:
                hit = None if kept is None else kept.get(id(st))
                cells = None if hit is None else DomainCells(hit[0].rows, hit[0].cluster, hit[0].domain, domain, n_domains)
                return _dense_when_small(self.residuals.u_totals(st.clusters, cells))

            finest = totals_of(stages[-1])
            if anc is None:
                totals = [totals_of(st) for st in stages[:-1]]
            else:
                totals = [finest if a is None else Groups(a, st.n_clusters).sum(finest) for st, a in zip(stages[:-1], anc)]
            self._u_cache["totals"] = [*totals, finest]
        return self._u_cache["totals"]  # type: ignore[return-value]

    def _uu(self) -> np.ndarray:
        if "uu" not in self._u_cache:
            tu = self._u_totals()
            m = self._u_right()  # V(U, U) = T_fᵀ M with the finest stage's totals of U
            self._u_cache["uu"] = self._bilinear_totals(tu, tu) if m is None else tu[-1].T @ m
        return self._u_cache["uu"]  # type: ignore[return-value]

    # -- the narrow waist -------------------------------------------------------------------
    def covariance(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """Covariance of the domain totals of the weighted scores ``x``.

        Parameters
        ----------
        x : ndarray (n, k)
            Weighted scores, each row scored for its own domain.
        domain : ndarray of int (n,), optional
            Domain code per row (``-1``: in no domain; its scores are ignored).
        n_domains : int

        Returns
        -------
        ndarray (n_domains, k, k)
        """
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if domain is not None:
            inside = domain >= 0
            if not inside.all():
                x = np.where(inside[:, None], x, 0.0)
            if n_domains == 1 and not self._domain_lonely() and not self._average_over_domain_strata():
                domain = None
        if not self.residuals:
            cov = self._domain_diagonal(x, domain, n_domains)
        elif domain is None:
            x = self.residuals.residualize(x)
            cov = self._domain_diagonal(x, None, 1)
        else:
            cov = self._calibrated_domains(x, domain, n_domains)
        return self._checked(cov, x, domain, n_domains)

    def _checked(self, cov: np.ndarray, x: np.ndarray, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        """Variances below zero: rounding (set to zero) or, for ``Δ̌`` forms, negative (NaN).

        The recursion is a sum of positive semi-definite terms, so a negative diagonal there is
        rounding. The Horvitz–Thompson and Yates–Grundy forms can be negative (Särndal et al.
        1992, §2.8); a value below ``−1e-12 (Σ_c |X_c|)²`` is reported as NaN, as R does.
        """
        idx = np.arange(cov.shape[1])
        diag = cov[:, idx, idx]
        negative = diag < 0
        if not negative.any():
            return cov
        if self.dcheck is not None:
            groups = Groups(domain if domain is not None else np.zeros(len(x), dtype=np.int64), n_domains)
            size = groups.sum(np.abs(x)) ** 2
            real = negative & (diag < -1e-12 * size)
            diag[real] = np.nan
            negative &= ~real
        diag[negative] = 0.0
        cov[:, idx, idx] = diag
        return cov

    def covariance_of_blocks(self, block, n: int, k: int) -> np.ndarray:
        """Covariance (1, k, k) of the totals of an (n, k) score matrix given block by block.

        For a design without ``Δ̌`` form and without weighting records, and one domain holding
        every row: each stage's cluster totals are summed as the scores are formed
        (:func:`~surveycore.groups.sums_in_blocks`), the same forms as :meth:`covariance`.
        """
        totals = sums_in_blocks([form.stage.clusters for form in self._forms], block, n, k)
        cov = np.zeros((1, k, k))
        for form, tot in zip(self._forms, totals):
            cov += form.domain_diagonal(self.pairs(form.stage, None, 1), tot)
        return self._checked(cov, None, None, 1)

    def domain_blocks_stage(self, n: int, k: int, n_domains: int) -> Stage | None:
        """The stage whose (cluster, domain) totals :meth:`covariance_of_domain_blocks` sums,
        or None when that route does not apply.

        It applies to several domains of a design without ``Δ̌`` form or weighting records
        whose variance has a single stage's form (one stage, or several without ``fpc``),
        when the (cluster × domain) table of the totals is no larger than a few score
        matrices: ``C·(D+1)·(k+1) ≤ max(4n, 2²⁰)``.
        """
        if self.residuals or self.dcheck is not None or len(self._forms) != 1 or n_domains < 2:
            return None
        stage = self._forms[0].stage
        if stage.n_clusters * (n_domains + 1) * (k + 1) > max(4 * n, 1 << 20):
            return None
        return stage

    def covariance_of_domain_blocks(self, block, n: int, k: int, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Covariance (D, k, k) of the domain totals of an (n, k) score matrix given block by
        block (each row scored for its own domain), where :meth:`domain_blocks_stage` applies.

        The (cluster, domain) pair totals are summed as the scores are formed
        (:func:`~surveycore.groups.pair_sums_in_blocks`): neither the score matrix nor the rows'
        grouping by pair is formed. The same pairs and forms as :meth:`covariance`; the pairs
        are kept for the degrees of freedom of the same domains.
        """
        stage = self._forms[0].stage
        pair_cluster, pair_domain, tot = pair_sums_in_blocks(stage.clusters, domain, n_domains, block, n, k)
        pairs = _Pairs(pair_cluster, pair_domain, stage.n_clusters, n_domains, source=(stage.clusters, domain))
        if not domain.flags.writeable:  # shared with later estimates on the same domains (see pairs())
            self._pair_cache[id(stage)] = (domain, n_domains, pairs)
        cov = self._domain_diagonal(None, domain, n_domains, given={id(stage): (pairs, tot)})
        return self._checked(cov, None, domain, n_domains)

    def _calibrated_domains(self, x: np.ndarray, domain: np.ndarray, D: int) -> np.ndarray:
        """``V(x_d − U C_d)`` for every domain without forming the residuals."""
        k = x.shape[1]
        coef = self.residuals.coefficients(x, domain, D)  # (P, D·k)
        kept: dict = {}
        vxx = self._domain_diagonal(x, domain, D, keep=kept)
        vxu = self._cross_u(kept, domain, D)  # (D·k, P)
        P = coef.shape[0]
        c = coef.reshape(P, D, k).transpose(1, 0, 2)  # (D, P, k)
        cross = np.einsum("dkp,dpl->dkl", vxu.reshape(D, k, P), c)
        quad = np.einsum("dpk,dpl->dkl", c, (self._uu() @ coef).reshape(P, D, k).transpose(1, 0, 2))
        return vxx - cross - cross.transpose(0, 2, 1) + quad


class LinearisedSolvers:
    """Ratio and general statistics solved from their scores, for any linearisation engine.

    A subclass provides ``weights`` and ``covariance(scores, domain, n_domains)``; a ratio's
    scores are :math:`(y - \\hat R x)/\\hat X` per domain and a general statistic brings its own
    influence function (Binder 1983; Lumley 2010, §2.6).
    """

    weights: np.ndarray

    def covariance(self, x: np.ndarray, domain: np.ndarray | None = None,
                   n_domains: int = 1) -> np.ndarray:
        raise NotImplementedError

    def solve_ratio(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        est, scores = ratio_scores(problem, self.weights)
        return est, self.covariance(scores, problem.domain, problem.n_domains)

    def solve_general(self, problem: GeneralProblem) -> tuple[np.ndarray, np.ndarray]:
        est = np.asarray(problem.statistic(self.weights), dtype=float)
        infl = np.asarray(problem.influence(self.weights), dtype=float)
        return est, self.covariance(infl)[0]


class TaylorEngine(LinearisedSolvers):
    """:class:`~estimation.problems.VarianceEngine` by linearisation: a variance form and weights.

    Parameters
    ----------
    variance : TaylorVariance
        The design's variance form.
    weights : ndarray (n,)
        Sampling weights (zero outside a subset).
    """

    def __init__(self, variance: TaylorVariance, weights: np.ndarray) -> None:
        self.variance = variance
        self.weights = weights

    def covariance(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """See :meth:`TaylorVariance.covariance`."""
        return self.variance.covariance(x, domain, n_domains)

    def solve_ratio(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and covariance; one domain of every row, in a design without ``Δ̌`` form
        or weighting records, is solved without the (n × k) score matrix
        (:func:`ratio_score_blocks`, :meth:`TaylorVariance.covariance_of_blocks`)."""
        v = self.variance
        n, k = problem.numerator.shape
        if problem.domain is not None:
            if v.domain_blocks_stage(n, k, problem.n_domains) is None:
                return super().solve_ratio(problem)
            est, block = ratio_domain_blocks(problem, self.weights)
            return est, v.covariance_of_domain_blocks(block, n, k, problem.domain, problem.n_domains)
        if v.residuals or v.dcheck is not None:
            return super().solve_ratio(problem)
        est, block = ratio_score_blocks(problem, self.weights)
        return est, v.covariance_of_blocks(block, n, k)


def _block_buffer(k: int):
    """A function returning an (m, k) array for a block of ``m`` rows, the same memory from
    call to call (grown when a longer block is asked for): blocks of scores then take no
    fresh memory, whose first touch costs page faults, after the first."""
    store = [np.empty((0, k))]

    def rows(m: int) -> np.ndarray:
        if store[0].shape[0] < m:
            store[0] = np.empty((m, k))
        return store[0][:m]

    return rows


def ratio_score_blocks(problem: RatioProblem, weights: np.ndarray):
    """Estimates of a one-domain :class:`RatioProblem` and its scores as a function of a row range.

    The same scores as :func:`ratio_scores` (``w_i (a_ij − θ_j b_ij)/B_j``; ``w_i a_ij`` for
    totals), formed only for the rows ``start:stop`` asked for, in a buffer that the next
    call overwrites (use each block before asking for the next).
    """
    a, b, w = problem.numerator, problem.denominator, weights
    buffer = _block_buffer(a.shape[1])
    A = w @ a
    if b is None:
        return A[None, :], lambda start, stop: np.multiply(a[start:stop], w[start:stop, None], out=buffer(stop - start))
    B = np.full(a.shape[1], w.sum()) if problem.per_unit else w @ b
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = A / B

    def block(start: int, stop: int) -> np.ndarray:
        part = buffer(stop - start)
        if problem.per_unit:
            np.subtract(a[start:stop], theta, out=part)
        else:
            np.multiply(theta, b[start:stop], out=part)
            np.subtract(a[start:stop], part, out=part)
        part *= w[start:stop, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            part /= B
        return part

    return theta[None, :], block


def ratio_domain_blocks(problem: RatioProblem, weights: np.ndarray):
    """Estimates of a :class:`RatioProblem` in several domains and its scores as a function of
    a row range.

    The same estimates as :func:`ratio_scores` (the same domain totals, to the last bit) and
    the same scores for the rows in a domain (rows in no domain are left to the caller to
    drop), formed only for the rows ``start:stop`` asked for, in a buffer that the next call
    overwrites (use each block before asking for the next): no fresh memory per block.
    """
    a, b, w = problem.numerator, problem.denominator, weights
    k = a.shape[1]
    domain = problem.domain
    wi = weights if domain.min() >= 0 else np.where(domain >= 0, weights, 0.0)  # a reduction, no mask when every row is in
    A, B = _domain_ratio_totals(problem, wi, Groups(domain, problem.n_domains))
    out = _block_buffer(k)
    if b is None:
        return A, lambda start, stop: np.multiply(a[start:stop], w[start:stop, None], out=out(stop - start))
    per_unit = problem.per_unit
    scale = _block_buffer(1 if per_unit else k)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = A / B
        inv_b = 1.0 / B[:, :1]

    def block(start: int, stop: int) -> np.ndarray:
        d = domain[start:stop]  # rows in no domain (-1) take domain 0's values: dropped by the caller
        part, q = out(stop - start), scale(stop - start)
        np.take(theta, d, axis=0, out=part, mode="clip")
        with np.errstate(divide="ignore", invalid="ignore"):
            if per_unit:  # (a − θ_d) · (w · 1/B_d)
                np.subtract(a[start:stop], part, out=part)
                np.take(inv_b, d, axis=0, out=q, mode="clip")
                q *= w[start:stop, None]
            else:  # (a − θ_d b) · (w / B_d)
                part *= b[start:stop]
                np.subtract(a[start:stop], part, out=part)
                np.take(B, d, axis=0, out=q, mode="clip")
                np.divide(w[start:stop, None], q, out=q)
            part *= q
        return part

    return theta, block


def _domain_ratio_totals(problem: RatioProblem, wi: np.ndarray, groups: Groups) -> tuple[np.ndarray, np.ndarray | None]:
    """The weighted domain totals ``A`` (D, k) of the numerators and ``B`` of the denominators
    ((D, 1) for a mean: the domains' weight totals; None for totals), ``wi`` the weights zero
    outside every domain and ``groups`` the rows grouped by domain; one computation for every
    route, so that they give the same estimates to the last bit."""
    a, b = problem.numerator, problem.denominator
    if b is None:
        return groups.sum(a * wi[:, None]), None
    if problem.per_unit:  # b = 1: no products with b
        A = np.column_stack([groups.sum_blocks(lambda rows, j=j: a[rows, j] * wi[rows]) for j in range(a.shape[1])])
        return A, groups.sum(wi)[:, None]
    return groups.sum(a * wi[:, None]), groups.sum(b * wi[:, None])


def ratio_scores(problem: RatioProblem, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and weighted linearised scores of a :class:`RatioProblem`.

    ``θ_dj = A_dj / B_dj`` with ``A, B`` the weighted domain totals; the score of row ``i`` in
    domain ``d`` is ``w_i (a_ij − θ_dj b_ij) / B_dj`` (zero outside every domain). For totals
    the score is ``w_i a_ij``. Scores are (n, k), each row scored for its own domain.
    """
    a = problem.numerator
    D = problem.n_domains
    b = problem.denominator
    if D == 1:  # one domain: totals are products with the weights inside it
        wi = weights if problem.domain is None else np.where(problem.domain >= 0, weights, 0.0)
        A = (wi @ a)[None, :]
        if b is None:
            return A, a * wi[:, None]
        if problem.per_unit:  # b = 1: B is the weight total, no product with b
            B = np.full((1, a.shape[1]), wi.sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                theta = A / B
                scores = a - theta[0]  # the one array of the rows' size, scaled in place
                scores *= wi[:, None]
                scores /= B[0, 0]
            return theta, scores
        B = (wi @ b)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = A / B
            scores = a - theta[0] * b  # broadcast instead of gathering per row
            scores *= wi[:, None] / B[0]
        return theta, scores
    domain = problem.domain
    inside = domain >= 0
    everywhere = bool(inside.all())
    wi = weights if everywhere else np.where(inside, weights, 0.0)
    groups = Groups(domain, D)
    if b is None:
        weighted = a * wi[:, None]
        return groups.sum(weighted), weighted
    d = domain if everywhere else np.maximum(domain, 0)
    A, B = _domain_ratio_totals(problem, wi, groups)
    if problem.per_unit:  # b = 1: B is the domains' weight total, no products with b
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = A / B
            inv_b = 1.0 / B[:, 0]
            scores = np.empty(a.shape)  # block by block: the scores are the only row-length array
            for start in range(0, len(d), _BLOCK):
                rows = slice(start, start + _BLOCK)
                dr = d[rows]
                np.subtract(a[rows], theta[dr], out=scores[rows])
                scores[rows] *= (wi[rows] * inv_b[dr])[:, None]
        return theta, scores
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = A / B
        scores = a - theta[d] * b
        scores *= wi[:, None] / B[d]
    return theta, scores
