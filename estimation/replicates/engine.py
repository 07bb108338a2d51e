"""Replicate variance engine: every replicate method reduces to one formula.

.. math:: V(\\hat\\theta) = \\text{scale} \\sum_{r=1}^{R} \\text{rscales}_r
          (\\hat\\theta_r - \\bar\\theta)(\\hat\\theta_r - \\bar\\theta)^T

with ``θ̄`` the mean of the replicates with positive ``rscales`` or, when ``mse=True``, the
full-sample estimate ``θ̂`` (Wolter 2007, ch. 3–4; R ``survey``'s ``svrVar``).

Replicate weights come either *generated* — ``w_ir = w_i f_{p(i) r}`` with a ``(P, R)`` factor
matrix — or *supplied* as an ``(n, R)`` matrix. Ratio problems with generated weights are first
aggregated to (PSU × domain) totals and then multiplied by the factor matrix, so no ``n × R``
matrix is formed; general statistics are recomputed on one replicate weight vector at a time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from estimation.problems import GeneralProblem, RatioProblem
from surveycore.groups import Groups


def replicate_covariance(
    thetas: np.ndarray,
    estimate: np.ndarray,
    scale: float,
    rscales: np.ndarray,
    mse: bool,
) -> np.ndarray:
    """Covariance ``scale Σ_r rscales_r (θ_r − c)(θ_r − c)ᵀ`` over the first axis.

    Parameters
    ----------
    thetas : ndarray, shape (R, ..., k)
        Replicate estimates.
    estimate : ndarray, shape (..., k)
        Full-sample estimate (the centre when ``mse``).
    scale : float
    rscales : ndarray, shape (R,)
    mse : bool

    Returns
    -------
    ndarray, shape (..., k, k)
    """
    thetas = np.asarray(thetas, dtype=float)
    rscales = np.asarray(rscales, dtype=float)
    if mse:
        centre = np.asarray(estimate, dtype=float)
    else:
        centre = thetas[rscales > 0].mean(axis=0)
    dev = thetas - centre
    return scale * np.einsum("r,r...k,r...l->...kl", rscales, dev, dev)


def _rank(mat: np.ndarray, tol: float) -> int:
    """Numerical rank: singular values above ``tol`` times the largest."""
    gram = mat.T @ mat if mat.shape[0] >= mat.shape[1] else mat @ mat.T
    s = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))
    if not s.size or s.max() == 0:
        return 0
    return int((s > tol * s.max()).sum())


def _factor_rank(F: np.ndarray, tol: float, dense_limit: int = 300) -> int:
    """Numerical rank of a factor matrix ``F = 1 + D`` whose deviations ``D`` are sparse.

    Jackknife factors deviate from one only within the deleted PSU's stratum, so ``D`` is
    block diagonal after grouping PSUs and replicates by the connected components of its
    non-zero pattern. ``rank(D)`` is summed over blocks (one small SVD each) and the rank-one
    update ``D + 1 1ᵀ`` follows Meyer (1973): ``+1`` when ``1`` lies in neither the column nor
    the row space of ``D``, ``−1`` when it lies in both and ``1 + 1ᵀ D⁺ 1 = 0``, else ``+0``.
    Dense deviations (bootstrap, BRR, SDR) or small matrices use :func:`_rank` directly.
    """
    P, R = F.shape
    D = F - 1.0
    nz = np.abs(D) > 1e-12
    if min(P, R) <= dense_limit or nz.mean() > 0.2:
        return _rank(F, tol)
    from scipy.sparse.csgraph import connected_components

    ri, ci = np.nonzero(nz)
    graph = sp.coo_matrix((np.ones(len(ri)), (ri, P + ci)), shape=(P + R, P + R))
    _, labels = connected_components(graph, directed=False)
    row_lab, col_lab = labels[:P], labels[P:]
    in_col = not (~nz.any(axis=1)).any()  # an all-zero row of D: 1 is not in its column space
    in_row = not (~nz.any(axis=0)).any()
    rank_d = 0
    s = 0.0
    order_r = np.argsort(row_lab, kind="stable")
    order_c = np.argsort(col_lab, kind="stable")
    comps = np.intersect1d(row_lab[nz.any(axis=1)], col_lab[nz.any(axis=0)])
    r_bounds = np.searchsorted(row_lab[order_r], comps), np.searchsorted(row_lab[order_r], comps, side="right")
    c_bounds = np.searchsorted(col_lab[order_c], comps), np.searchsorted(col_lab[order_c], comps, side="right")
    for i in range(len(comps)):  # one block per stratum of replicates
        rows = order_r[r_bounds[0][i] : r_bounds[1][i]]
        cols = order_c[c_bounds[0][i] : c_bounds[1][i]]
        u, sv, vt = np.linalg.svd(D[np.ix_(rows, cols)], full_matrices=False)
        k = int((sv > tol * sv.max()).sum())
        rank_d += k
        uk, sk, vk = u[:, :k], sv[:k], vt[:k]
        one_r, one_c = np.ones(len(rows)), np.ones(len(cols))
        pu, pv = uk.T @ one_r, vk @ one_c
        in_col &= np.linalg.norm(one_r - uk @ pu) < 1e-8 * np.sqrt(len(rows))
        in_row &= np.linalg.norm(one_c - vk.T @ pv) < 1e-8 * np.sqrt(len(cols))
        s += float(pv @ (pu / sk))
    if not in_col and not in_row:
        return rank_d + 1
    if in_col and in_row and abs(1.0 + s) < 1e-8:
        return rank_d - 1
    return rank_d


def _domain_keys(domain: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if domain is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    domain = np.asarray(domain)
    return np.maximum(domain, 0).astype(np.int64), domain >= 0


class ReplicateEngine:
    """:class:`~estimation.problems.VarianceEngine` for replicate weights.

    Parameters
    ----------
    weights : ndarray (n,)
        Full-sample weights (zero outside a subset).
    scale : float
    rscales : ndarray (R,)
    mse : bool
        Centre at the full-sample estimate instead of the replicate mean.
    psu : ndarray of int (n,), optional
        PSU code of each row (generated replicates).
    factors : ndarray (P, R), optional
        Replicate factors per PSU (generated replicates).
    repweights : ndarray (n, R), optional
        Replicate weights (supplied or re-weighted replicates), already combined with the
        sampling weights.
    """

    def __init__(
        self,
        weights: np.ndarray,
        scale: float,
        rscales: np.ndarray,
        mse: bool = False,
        *,
        psu: np.ndarray | None = None,
        factors: np.ndarray | None = None,
        repweights: np.ndarray | None = None,
    ) -> None:
        if (factors is None) == (repweights is None):
            raise ValueError("give either factors (with psu) or repweights")
        self.weights = np.asarray(weights, dtype=float)
        self.scale = float(scale)
        self.rscales = np.asarray(rscales, dtype=float)
        self.mse = bool(mse)
        self.psu = None if psu is None else np.asarray(psu, dtype=np.int64)
        self.factors = None if factors is None else np.asarray(factors, dtype=float)
        self.repweights = None if repweights is None else np.asarray(repweights, dtype=float)

    @property
    def n_replicates(self) -> int:
        return len(self.rscales)

    def replicate_weights(self, r: int) -> np.ndarray:
        """Weight vector of replicate ``r`` (length n)."""
        if self.repweights is not None:
            return self.repweights[:, r]
        return self.weights * self.factors[self.psu, r]

    def replicate_matrix(self) -> np.ndarray:
        """All replicate weights as an (n, R) matrix (for export; memory n × R)."""
        if self.repweights is not None:
            return self.repweights
        return self.weights[:, None] * self.factors[self.psu]

    # -- totals ------------------------------------------------------------------------------
    def _totals(self, values: np.ndarray, domain: np.ndarray | None, n_domains: int):
        """Full-sample (D, k) and replicate (R, D, k) weighted domain totals of ``values``."""
        n, k = values.shape
        dkey, inside = _domain_keys(domain, n)
        wv = values * np.where(inside, self.weights, 0.0)[:, None]
        if self.factors is not None:
            p = self.factors.shape[0]
            # (PSU × domain) totals by one sparse group sum, then one product with the (P, R)
            # factor matrix: no n × R matrix is formed
            cells = Groups(np.where(inside, self.psu * n_domains + dkey, -1), p * n_domains)
            psu_dom = np.asarray(cells.sum(wv)).reshape(p, n_domains * k)
            full = psu_dom.sum(axis=0).reshape(n_domains, k)
            reps = (self.factors.T @ psu_dom).reshape(-1, n_domains, k)
        else:
            # (D·k × n) matrix of a_ij on row (domain, j), times the (n, R) weights
            idx = np.flatnonzero(inside)
            rows = (dkey[idx, None] * k + np.arange(k)).ravel()
            cols = np.repeat(idx, k)
            group = sp.csr_matrix((values[idx].ravel(), (rows, cols)), shape=(n_domains * k, n))
            reps = np.asarray(group @ self.repweights).T.reshape(self.n_replicates, n_domains, k)
            full = np.asarray(Groups(np.where(inside, dkey, -1), n_domains).sum(wv)).reshape(n_domains, k)
        return full, reps

    # -- VarianceEngine ----------------------------------------------------------------------
    def solve_ratio(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        """Estimates (D, k) and covariances (D, k, k) of ratios of domain totals."""
        est, reps = self.replicate_ratios(problem)
        return est, replicate_covariance(reps, est, self.scale, self.rscales, self.mse)

    def replicate_ratios(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        """Full-sample (D, k) and replicate (R, D, k) estimates of a ratio problem."""
        a = np.asarray(problem.numerator, dtype=float)
        D = problem.n_domains
        if problem.denominator is None:
            return self._totals(a, problem.domain, D)
        b = np.asarray(problem.denominator, dtype=float)
        k = a.shape[1]
        if k > 1 and (b == b[:, :1]).all():  # one shared denominator (means, shares)
            b = b[:, :1]
        full, reps = self._totals(np.hstack([a, b]), problem.domain, D)
        with np.errstate(divide="ignore", invalid="ignore"):
            return full[:, :k] / full[:, k:], reps[:, :, :k] / reps[:, :, k:]

    def solve_ratio_transformed(self, problem: RatioProblem, transform) -> tuple[np.ndarray, np.ndarray]:
        """Estimate and covariance of ``transform(θ)`` from transformed replicates.

        Replicate methods need no derivative: ``g(θ̂_r)`` are the replicates of ``g(θ̂)``.
        """
        est, reps = self.replicate_ratios(problem)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_est = transform(est)
            g_reps = transform(reps)
        return g_est, replicate_covariance(g_reps, g_est, self.scale, self.rscales, self.mse)

    def solve_general(self, problem: GeneralProblem) -> tuple[np.ndarray, np.ndarray]:
        """Estimate (m,) and covariance (m, m) by recomputing the statistic per replicate."""
        est, thetas = self.replicate_general(problem)
        return est, replicate_covariance(thetas, est, self.scale, self.rscales, self.mse)

    def replicate_general(self, problem: GeneralProblem) -> tuple[np.ndarray, np.ndarray]:
        """Full-sample estimate (m,) and replicate estimates (R, m) of a general statistic."""
        est = np.atleast_1d(np.asarray(problem.statistic(self.weights), dtype=float))
        thetas = np.empty((self.n_replicates, est.size))
        for r in range(self.n_replicates):  # general statistics must be recomputed
            thetas[r] = np.atleast_1d(problem.statistic(self.replicate_weights(r)))
        return est, thetas

    def degf_psus(self, used: np.ndarray, tol: float = 1e-5) -> int:
        """Rank minus one of the factor rows of the PSUs in ``used`` (boolean, length P)."""
        if not used.any():
            return 0
        return max(_factor_rank(self.factors[used], tol) - 1, 0)

    def degf(self, rows: np.ndarray | None = None, tol: float = 1e-5) -> int:
        """Rank of the replicate weights minus one (R ``degf.svyrep.design``).

        Only rows with positive weight (and in ``rows``, a boolean mask, when given) count, as
        R's subsets of replicate designs drop the other rows. The rank is read from the singular
        values of the Gram matrix of the smaller side; for a tall supplied matrix an evenly
        spaced subset of about ``20 R`` rows is tried first (full column rank there implies
        full column rank of the whole).
        """
        active = self.weights > 0
        if rows is not None:
            active = active & rows
        if not active.any():
            return 0
        if self.factors is not None:
            used = np.zeros(self.factors.shape[0], dtype=bool)
            used[self.psu[active]] = True
            return self.degf_psus(used, tol)
        mat = self.repweights[active]
        n, r = mat.shape
        if n > 40 * r:
            sub = mat[:: n // (20 * r)]
            if _rank(sub, tol) == r:
                return r - 1
        return max(_rank(mat, tol) - 1, 0)
