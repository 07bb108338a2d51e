"""Horvitz–Thompson quadratic forms ``x' Δ̌ x`` for nested stratified designs, without an n × n matrix.

For a design sampled in ``S`` nested stages, each stage by stratified SRS without replacement of
clusters, R ``survey`` (``Dcheck_multi``) builds the row-level matrix

.. math::

    \\check\\Delta = 1 - \\prod_{s=1}^{S} (1 - \\check\\Delta_s), \\qquad
    \\check\\Delta_{s,ij} = \\begin{cases} 1 - \\pi_{s,i} & i, j \\text{ in the same stage-}s\\text{ cluster}\\\\
    -(1 - \\pi_{s,i})/(n_{s,h} - 1) & \\text{other clusters of the same stratum } h \\\\
    0 & \\text{otherwise,}\\end{cases}

with ``π_s`` the stage-``s`` sampling fraction of the row's cluster (``Δ̌_ij = 1 − π_iπ_j/π_ij``
for SRS; Särndal, Swensson & Wretman 1992, §4.3 and §9.3). Because strata and clusters are
nested, a pair ``(i, j)`` that shares clusters down to stage ``L`` (and not ``L + 1``) has

.. math::

    \\check\\Delta_{ij} = 1 - c_{L,i} + c_{L,i}\\, b_{L+1,i}\\,1\\{i, j \\text{ in one stage-}(L+1)\\text{ stratum}\\},
    \\qquad c_{L,i} = \\prod_{s \\le L} (1 - a_{s,i}),

``a = 1 − π``, ``b = −(1 − π)/(n_h − 1)``. The quadratic form then telescopes into sums of
cluster and stratum totals (:meth:`Hierarchy.quadratic`, ``O(n k²)``); explicit entries are
built only for small blocks (:meth:`Hierarchy.entries`) where two such matrices are multiplied
element-wise (the two-phase ``Δ̌₁ ∘ Δ̌₂``).

A first stage drawn with unequal probabilities without replacement (πps) has no constant
between-cluster entry: its ``Δ̌`` over first-stage units is a matrix ``M`` (``Δ̌_IJ = (π_IJ −
π_I π_J)/π_IJ`` from joint inclusion probabilities, or the matrix of an approximation such as
Brewer's; :mod:`estimation.pps`). Then ``Δ̌_ij = M_IJ`` for rows of different first-stage units
``I ≠ J`` and ``M_II + π_I Δ̌_{ij|I}`` within a unit (Särndal et al. 1992, result 4.3.1), i.e. the
nested form with ``b₁ = 0`` plus the excess ``E = M − diag(1 − π)`` between the rows' first-stage
units (:attr:`Hierarchy.first`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


def _compact(key: np.ndarray) -> np.ndarray:
    return pd.factorize(key)[0]


def domain_group_totals(codes: np.ndarray, x: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """For every row, the total of ``x`` over the rows sharing its group code and its domain."""
    key = _compact(codes.astype(np.int64) * (int(dom.max()) + 1) + dom)
    size = int(key.max()) + 1
    tot = np.empty((size, x.shape[1]))
    for j in range(x.shape[1]):
        tot[:, j] = np.bincount(key, weights=x[:, j], minlength=size)
    return tot[key]


def accumulate(y: np.ndarray, t: np.ndarray, dom: np.ndarray, n_domains: int) -> np.ndarray:
    """``out[d] = Σ_{i ∈ d} y_i t_iᵀ`` for every domain, shape (D, k, k)."""
    k = y.shape[1]
    out = np.empty((n_domains, k, k))
    for a in range(k):
        for b in range(k):
            out[:, a, b] = np.bincount(dom, weights=y[:, a] * t[:, b], minlength=n_domains)
    return out


@dataclass(frozen=True)
class Hierarchy:
    """Nested stratified stages of one design (or phase), as row-level arrays.

    Attributes
    ----------
    clusters, strata : ndarray of int, shape (S, n)
        Cluster and stratum code of every row at each stage (nested in the previous stage).
    a : ndarray, shape (S, n)
        ``1 − π`` of the row's cluster at each stage (its same-cluster entry).
    b : ndarray, shape (S, n)
        ``−(1 − π)/(n_h − 1)`` (zero with replacement or when ``n_h = 1``): the entry between
        the row's cluster and another cluster of its stratum.
    first : ndarray, shape (C, C), optional
        Excess ``E = M − diag(1 − π)`` of a first stage with a general ``Δ̌`` matrix ``M`` over
        first-stage units (indexed by the codes in ``clusters[0]``), added to the entry of every
        pair of rows by their first-stage units; ``b[0]`` is then zero.
    """

    clusters: np.ndarray
    strata: np.ndarray
    a: np.ndarray
    b: np.ndarray
    first: np.ndarray | None = None

    @classmethod
    def identity(cls, n: int) -> Hierarchy:
        """``Δ̌ = I`` (R's phase-1 matrix for a with-replacement phase sampled with probability 1)."""
        rows = np.arange(n, dtype=np.int64)[None, :]
        return cls(rows, np.zeros_like(rows), np.ones((1, n)), np.zeros((1, n)))

    @classmethod
    def from_fractions(
        cls,
        clusters: list[np.ndarray],
        strata: list[np.ndarray],
        prob: list[np.ndarray],
        n_sampled: list[np.ndarray],
        with_replacement: bool,
    ) -> Hierarchy:
        """Stages given per row: cluster, stratum, sampling fraction ``π`` and clusters sampled ``n_h``."""
        a = np.vstack([1.0 - p for p in prob])
        b = np.zeros_like(a)
        if not with_replacement:
            for s, (p, nh) in enumerate(zip(prob, n_sampled)):
                nh = np.asarray(nh, dtype=float)
                b[s] = np.where(nh > 1, -(1.0 - p) / np.where(nh > 1, nh - 1.0, 1.0), 0.0)
        return cls(np.vstack(clusters), np.vstack(strata), a, b)

    def with_first_stage(self, matrix: np.ndarray) -> Hierarchy:
        """The same stages with the first stage's ``Δ̌`` given by ``matrix`` (C × C) over first-stage units.

        ``matrix`` replaces the constant between-unit entry ``b₁`` and the within-unit entry
        ``1 − π_I`` of the first stage; later stages keep their factor ``π_I``.
        """
        m = np.asarray(matrix, dtype=float)
        C = m.shape[0]
        diag = np.zeros(C)
        diag[self.clusters[0]] = self.a[0]  # 1 − π_I of the units that hold rows
        excess = m - np.diag(np.where(np.isin(np.arange(C), self.clusters[0]), diag, np.diag(m)))
        b = self.b.copy()
        b[0] = 0.0
        return Hierarchy(self.clusters, self.strata, self.a, b, excess)

    @property
    def n_stages(self) -> int:
        return self.clusters.shape[0]

    def _c(self) -> np.ndarray:
        """``c_L`` for ``L = 0 .. S`` (shape (S + 1, n))."""
        one_minus = 1.0 - self.a
        return np.vstack([np.ones(self.a.shape[1]), np.cumprod(one_minus, axis=0)])

    def restrict(self, rows: np.ndarray) -> Hierarchy:
        """The same design on a subset of rows (indices or mask)."""
        return Hierarchy(self.clusters[:, rows], self.strata[:, rows], self.a[:, rows], self.b[:, rows],
                         self.first)

    def quadratic(self, x: np.ndarray, dom: np.ndarray, n_domains: int) -> np.ndarray:
        """``x_dᵀ Δ̌ x_d`` for each domain ``d`` (``x_d``: ``x`` on the domain's rows, zero elsewhere).

        Parameters
        ----------
        x : ndarray (n, k)
        dom : ndarray of int (n,)
            Domain of each row in ``0 .. D − 1`` (rows outside every domain must carry ``x = 0``).
        n_domains : int

        Returns
        -------
        ndarray (D, k, k)
        """
        S = self.n_stages
        c = self._c()
        out = np.zeros((n_domains, x.shape[1], x.shape[1]))
        totals = [domain_group_totals(self.clusters[s], x, dom) for s in range(S)]
        for L in range(1, S + 1):  # pairs sharing clusters down to stage L exactly
            nxt = totals[L] if L < S else 0.0
            out += accumulate(x * (1.0 - c[L])[:, None], totals[L - 1] - nxt, dom, n_domains)
        for L in range(S):  # other clusters of the same stage-(L+1) stratum
            g = c[L] * self.b[L]
            if not g.any():
                continue
            u = domain_group_totals(self.strata[L], x, dom)
            out += accumulate(x * g[:, None], u - totals[L], dom, n_domains)
        if self.first is not None:
            out += self._first_quadratic(x, dom, n_domains)
        return out

    def _first_quadratic(self, x: np.ndarray, dom: np.ndarray, n_domains: int) -> np.ndarray:
        """``Σ_d X_dᵀ E X_d`` with ``X_d`` the first-stage unit totals of ``x`` in domain ``d``."""
        C, k = self.first.shape[0], x.shape[1]
        key = self.clusters[0].astype(np.int64) * n_domains + dom
        X = np.empty((C * n_domains, k))
        for j in range(k):
            X[:, j] = np.bincount(key, weights=x[:, j], minlength=C * n_domains)
        X = X.reshape(C, n_domains * k)
        # the excess lies within phase-1 strata: sparse when there are many units
        Y = (sp.csr_matrix(self.first) @ X) if C > 500 else self.first @ X
        return np.einsum("cda,cdb->dab", X.reshape(C, n_domains, k), Y.reshape(C, n_domains, k))

    def entries(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Entries ``Δ̌_ij`` for broadcastable row-index arrays ``i`` and ``j``."""
        S = self.n_stages
        c = self._c()
        same = np.ones(np.broadcast_shapes(i.shape, j.shape), dtype=bool)
        depth = np.zeros(same.shape, dtype=np.int64)
        for s in range(S):
            same &= self.clusters[s][i] == self.clusters[s][j]
            depth += same
        cl = c[depth, i]
        out = 1.0 - cl
        below = np.minimum(depth, S - 1)
        same_stratum = (depth < S) & (self.strata[below, i] == self.strata[below, j])
        out = out + np.where(same_stratum, cl * self.b[below, i], 0.0)
        if self.first is not None:
            out = out + self.first[self.clusters[0][i], self.clusters[0][j]]
        return out


def blockwise_product_quadratic(
    first: Hierarchy,
    second: Hierarchy,
    block: np.ndarray,
    x: np.ndarray,
    dom: np.ndarray,
    n_domains: int,
    max_entries: int = 4_000_000,
) -> np.ndarray:
    """``x_dᵀ (Δ̌₁ ∘ Δ̌₂) x_d`` per domain, where the product is zero between different ``block`` codes.

    Blocks (with the domain) are grouped by size and evaluated in batches of dense
    ``m × m`` entries, at most ``max_entries`` at a time; a block larger than that is split
    into row chunks.
    """
    k = x.shape[1]
    out = np.zeros((n_domains, k, k))
    key = _compact(block.astype(np.int64) * (int(dom.max()) + 1) + dom)
    order = np.argsort(key, kind="stable")
    sizes = np.bincount(key)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for m in np.unique(sizes):
        groups = np.flatnonzero(sizes == m)
        idx = order[starts[groups][:, None] + np.arange(m)[None, :]]  # (g, m) row indices
        per_batch = max(1, max_entries // (m * m))
        for lo in range(0, len(groups), per_batch):
            rows = idx[lo : lo + per_batch]
            d = dom[rows[:, 0]]
            step = max(1, max_entries // m) if len(rows) == 1 else m
            for r0 in range(0, m, step):
                ii = rows[:, r0 : r0 + step, None]
                jj = rows[:, None, :]
                e = first.entries(ii, jj) * second.entries(ii, jj)  # (g, p, m)
                ex = np.einsum("gpm,gmb->gpb", e, x[rows])
                contrib = np.einsum("gpa,gpb->gab", x[rows[:, r0 : r0 + step]], ex)
                np.add.at(out, d, contrib)
    return out
