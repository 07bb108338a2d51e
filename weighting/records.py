"""Variance records: how a calibration step changes the linearised variance.

A calibrated estimator's linearisation replaces the weighted scores ``x_i = w_i z_i`` by the
residuals of their projection on the calibration variables (Deville & Särndal 1992; Särndal,
Swensson & Wretman 1992, §6.6; Lumley 2010, §7.4), as R survey's ``svyrecvar`` does with the
entries of ``design$postStrata``. Every record is a sequence of linear projections

.. math:: x \\mapsto x - U\\,(L^T x),

with ``U`` and ``L`` two (n × p) matrices (sparse for cell-based steps):

- post-stratification: ``U = psw · 1{h}``, ``L = 1{h} · (oldw/psw) / Σ_{j∈h} oldw_j``
  (``x_i - psw_i Σ_{j∈h} x_j oldw_j/psw_j / Σ_{j∈h} oldw_j``). A row of weight zero before
  and after keeps a zero residual, so it counts as absent (R sets its ``psw`` to one, which
  gives it the residual ``−mean_h``);
- raking: the post-stratification projection of every margin, in turn, ten times (R's
  back-fitting), with ``U_m = psw_m · 1{h_m}`` and ``L_m = 1{h_m} / (psw_m n_{h_m})``;
- GREG-type calibration: ``U = v Q``, ``L = Q / v`` with ``Q`` an orthonormal basis of
  ``X sqrt(d)`` (X averaged within clusters for integrated calibration) and ``v = g sqrt(d)``,
  kept as ``Q = sqrt(d) X_r R_r⁻¹``: ``X_r`` the linearly independent columns of ``X`` and
  ``R_r`` from a pivoted QR of ``X sqrt(d)`` computed without forming that matrix (one row per
  calibration unit, or row blocks), so ``U`` and ``L`` stay as sparse as ``X``.

:class:`ResidualMap` composes the records of a weighting chain. Because the composition is
linear, the residual of any score matrix is ``x − U C`` with ``C`` obtained from the small
products ``Lᵀ x`` alone — which lets the variance engine residualise every domain's scores
(``C`` per domain) without forming one residual vector per domain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from surveycore.groups import Groups

__all__ = ["PostStratificationRecord", "RakingRecord", "CalibrationRecord", "Projection", "ResidualMap", "DomainCells"]

Matrix = np.ndarray | sp.spmatrix


def _as2d(x: np.ndarray) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return x[:, None], True
    return x, False


def _dense(m: Matrix) -> np.ndarray:
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def _cell_matrix(codes: np.ndarray, n_groups: int, values: np.ndarray) -> sp.csr_matrix:
    """Sparse (n × G) matrix with ``values[i]`` in column ``codes[i]`` of row ``i``."""
    n = codes.shape[0]
    return sp.csr_matrix(
        (np.asarray(values, dtype=float), np.asarray(codes, dtype=np.int64), np.arange(n + 1)),
        shape=(n, n_groups),
    )


@dataclass(frozen=True, eq=False)
class Projection:
    """The linear map ``x ↦ x − U (Lᵀ x)``; ``U`` and ``L`` are (n × p), dense or sparse.

    With ``right`` (q × p) the map uses ``U·right`` and ``L·right`` instead: ``U`` and ``L`` are
    then (n × q) and stay as sparse as the calibration variables they hold, while group sums
    and loadings are taken first and multiplied by the small ``right`` after.
    """

    U: Matrix
    L: Matrix
    right: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.U.shape[1] if self.right is None else self.right.shape[1]

    def full_u(self) -> Matrix:
        """``U·right`` (n × p) as one matrix."""
        return self.U if self.right is None else np.asarray(self.U @ self.right)

    def group_u(self, groups: Groups) -> Matrix:
        """Group sums of ``U·right`` (G × p), summed before multiplying by ``right``."""
        t = groups.sum(self.U)
        return t if self.right is None else _dense(t) @ self.right

    def times(self, c: np.ndarray) -> Matrix:
        """``U·right·c`` (n × k) for coefficients ``c`` (p × k)."""
        return self.U @ (c if self.right is None else self.right @ c)

    def loadings(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """``Lᵀ x`` (p × k), or with ``domain`` the products ``Lᵀ x_d`` of every domain's scores.

        ``x_d`` is ``x`` on the rows of domain ``d`` and zero elsewhere; the result is then
        (p × D·k) with column ``d·k + j``, computed in one pass over the non-zeros of ``L``.
        """
        out = self._loadings(x, domain, n_domains)
        return out if self.right is None else self.right.T @ out

    def _loadings(self, x: np.ndarray, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        if domain is None:
            return _dense(self.L.T @ x)
        k = x.shape[1]
        size = self.L.shape[1]
        if sp.issparse(self.L):
            coo = self._coo
            d = domain[coo.row]
            keep = d >= 0
            key = coo.col[keep] * n_domains + d[keep]
            vals, rows = coo.data[keep], coo.row[keep]
            out = np.empty((size * n_domains, k))
            for j in range(k):
                out[:, j] = np.bincount(key, weights=vals * x[rows, j], minlength=size * n_domains)
            return out.reshape(size, n_domains * k)
        groups = Groups(domain, n_domains)
        out = np.empty((size, n_domains, k))
        for j in range(k):  # (D × n) matrix of x_ij at (d(i), i), times L: one pass
            out[:, :, j] = np.asarray(groups.weighted_indicator(x[:, j]) @ self.L).T
        return out.reshape(size, n_domains * k)

    @property
    def _coo(self) -> sp.coo_matrix:
        cache = self.__dict__.setdefault("_cache", {})
        if "coo" not in cache:
            cache["coo"] = self.L.tocoo()
        return cache["coo"]


@dataclass(frozen=True, eq=False)
class DomainCells:
    """Rows grouped into (group, domain) cells, in (group, domain) order.

    Given to :meth:`ResidualMap.u_totals` by a caller that has grouped the rows so already
    (the variance engine's (cluster, domain) pairs): when every domain lies within one
    calibration unit, a group's ``U`` total is a sum over its cells, with no grouping of the
    rows by (group, unit).
    """

    rows: Groups  # rows → cell (rows outside every domain: in no cell)
    group: np.ndarray  # (cells,) group of each cell, non-decreasing
    domain: np.ndarray  # (cells,) domain of each cell
    codes: np.ndarray  # (n,) domain of each row, -1 outside every domain
    n_domains: int


@dataclass(frozen=True, eq=False)
class UnitProjection:
    """A :class:`Projection` whose rows share the variables of their calibration unit.

    ``U = diag(a) X right`` and ``L = diag(λ) X right`` where row ``i`` of ``X`` is
    ``unit_x[unit[i]]`` (m units × q). Nothing of size rows × columns is formed: group sums of
    ``U`` are the (group, unit) sums of ``a`` times ``unit_x``, per-domain loadings the
    (unit, domain) sums of ``λ x`` times ``unit_x``, so a domain's loadings cost a bincount
    over the rows plus ``O(units × domains × q)``.
    """

    unit: np.ndarray  # (n,) unit of each row
    a: np.ndarray  # (n,) row scale of U
    lam: np.ndarray  # (n,) row scale of L
    unit_x: np.ndarray  # (m, q)
    right: np.ndarray  # (q, p)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        return self.right.shape[1]

    def domain_units(self, domain: np.ndarray, n_domains: int) -> np.ndarray | None:
        """The unit of every domain when each domain's rows lie in one unit (as domains at or
        below the calibration cells do), else None; kept for the latest domain codes."""
        hit = self._cache.get("domain_units")
        if hit is not None and hit[0] is domain and hit[1] == n_domains:
            return hit[2]
        inside = domain >= 0
        every = bool(inside.all())
        d = domain if every else domain[inside]
        u = self.unit if every else self.unit[inside]
        units = np.full(n_domains, -1, dtype=np.int64)
        units[d[::-1]] = u[::-1]  # the unit of each domain's first row (written last)
        out = None
        if (units >= 0).all():
            step = 1 << 18  # compared block by block: no row-length temporaries
            same = all(np.array_equal(units[d[s : s + step]], u[s : s + step]) for s in range(0, d.size, step))
            out = units if same else None
        self._cache["domain_units"] = (domain, n_domains, out)
        return out

    @property
    def n_units(self) -> int:
        return self.unit_x.shape[0]

    @property
    def U(self) -> Matrix:  # noqa: N802 - the name of the matrix in the formulas
        """``diag(a) X`` (n × q), formed on demand (chains mixing record kinds)."""
        return _spread(self.unit_x, self.unit, self.a)

    @property
    def L(self) -> Matrix:  # noqa: N802
        """``diag(λ) X`` (n × q), formed on demand."""
        return _spread(self.unit_x, self.unit, self.lam)

    def full_u(self) -> np.ndarray:
        return self.a[:, None] * (self.unit_x @ self.right)[self.unit]

    def group_u(self, groups: Groups, cells: DomainCells | None = None) -> np.ndarray:
        """Group sums of ``U`` (G × p): the (group, unit) sums of ``a`` times ``unit_x right``.

        With ``cells`` whose domains each lie in one unit, the (group, unit) sums are the
        cells' sums of ``a`` (several cells of a group may share a unit: their entries add).
        """
        # every row must lie in a cell: U's totals take every row, also those outside the domains
        if cells is not None and (cells.codes >= 0).all() and (cells.group[1:] >= cells.group[:-1]).all():
            units = self.domain_units(cells.codes, cells.n_domains)
            if units is not None:
                index = np.int32 if max(cells.group.size, self.n_units) < 1 << 31 else np.int64
                indptr = np.zeros(groups.n_groups + 1, dtype=index)
                np.cumsum(np.bincount(cells.group, minlength=groups.n_groups), out=indptr[1:])
                table = sp.csr_matrix((cells.rows.sum(self.a), units.astype(index)[cells.domain], indptr),
                                      shape=(groups.n_groups, self.n_units))
                return table @ (self.unit_x @ self.right)
        pairs, group, unit = Groups.pairs(groups.codes, groups.n_groups, self.unit, self.n_units)
        # the pairs come in (group, unit) order: the compressed rows are built directly
        indptr = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=groups.n_groups))])
        table = sp.csr_matrix((pairs.sum(self.a), unit, indptr), shape=(groups.n_groups, self.n_units))
        return table @ (self.unit_x @ self.right)

    def times(self, c: np.ndarray) -> np.ndarray:
        return self.a[:, None] * (self.unit_x @ (self.right @ c))[self.unit]

    def unit_cross(self, other: UnitProjection) -> np.ndarray:
        """``Lᵀ U_other`` for a projection on the same units: ``rightᵀ Xᵀ diag(Σ λ a') X' right'``."""
        mass = np.bincount(self.unit, weights=self.lam * other.a, minlength=self.n_units)
        return self.right.T @ (self.unit_x.T @ (mass[:, None] * other.unit_x)) @ other.right

    def loadings(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """``Lᵀ x`` (p × k), or per domain (p × D·k) as :meth:`Projection.loadings`."""
        if sp.issparse(x):
            return self.right.T @ _dense(self.L.T @ x)
        lx = x * self.lam[:, None]
        if domain is None:
            sums = Groups(self.unit, self.n_units).sum(lx)
            return self.right.T @ (self.unit_x.T @ sums)
        k = x.shape[1]
        units = self.domain_units(domain, n_domains)
        if units is not None:  # each domain in one unit: its loadings are its sums times its unit's row
            sums = Groups(domain, n_domains).sum(lx)  # (D, k)
            rows = (sums[:, :, None] * self.unit_x[units][:, None, :]).reshape(n_domains * k, -1)
            return self.right.T @ rows.T
        pairs, unit, dom = Groups.pairs(self.unit, self.n_units, domain, n_domains)
        sums = pairs.sum(lx).reshape(-1, k)
        # the pairs come in (unit, domain) order: the compressed rows are built directly
        indptr = np.concatenate([[0], np.cumsum(np.bincount(unit, minlength=self.n_units) * k)])
        cols = (dom[:, None] * k + np.arange(k)).ravel()
        table = sp.csr_matrix((sums.ravel(), cols, indptr), shape=(self.n_units, n_domains * k))
        return self.right.T @ _dense(table.T @ self.unit_x).T


class ResidualMap:
    """The composition of the projections of a chain of records, in chain order.

    With projections ``P_1 … P_K`` applied in the order ``sequence`` (a projection may repeat,
    as raking's margins do), the residual is ``e = x − Σ_l U_l C_l`` where, for each step ``j``
    in turn, ``a = L_jᵀ x − Σ_l (L_jᵀ U_l) C_l`` and ``C_j ← C_j + a``. Only ``Lᵀ x`` depends
    on ``x``, so ``C`` is computed for many score matrices (one per domain) at once.

    Parameters
    ----------
    records : sequence of records
        Each with ``projections()`` and ``sequence`` (the order of its projections).
    """

    def __init__(self, records: Sequence) -> None:
        blocks: list[Projection] = []
        order: list[int] = []
        for record in records:
            start = len(blocks)
            blocks.extend(record.projections())
            order.extend(start + j for j in record.sequence)
        self.blocks = tuple(blocks)
        self.sequence = tuple(order)
        sizes = [b.size for b in blocks]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._cross: dict = {}

    def __bool__(self) -> bool:
        return bool(self.blocks)

    @property
    def size(self) -> int:
        """Total number of columns ``P`` of the stacked ``U``."""
        return int(self.offsets[-1])

    def u_totals(self, groups: Groups, cells: DomainCells | None = None) -> Matrix:
        """Group sums of the stacked ``U`` (G × P): sparse when every block's are, else dense.

        ``cells``: the rows already grouped into (group, domain) cells, which blocks whose
        units contain whole domains sum instead of the rows (:class:`DomainCells`).
        """
        parts = [b.group_u(groups, cells) if isinstance(b, UnitProjection) else b.group_u(groups) for b in self.blocks]
        if all(sp.issparse(t) for t in parts):
            return sp.hstack(parts).tocsr()
        if len(parts) == 1:
            return _dense(parts[0])
        return np.hstack([_dense(t) for t in parts])

    def stacked_u(self) -> Matrix:
        """``U = [U_1 … U_K]`` (n × P), sparse when any block is sparse (computed once)."""
        if "u" not in self._cross:
            us = [b.full_u() for b in self.blocks]
            if any(sp.issparse(u) for u in us):
                self._cross["u"] = sp.hstack([sp.csr_matrix(u) for u in us]).tocsr()
            else:
                self._cross["u"] = np.ascontiguousarray(np.hstack(us))
        return self._cross["u"]

    def _k(self, j: int, l: int) -> Matrix:
        key = (j, l)
        if key not in self._cross:
            bj, bl = self.blocks[j], self.blocks[l]
            if isinstance(bj, UnitProjection) and isinstance(bl, UnitProjection) and bj.unit is bl.unit:
                self._cross[key] = bj.unit_cross(bl)
                return self._cross[key]
            prod = bj.L.T @ bl.U
            if bj.right is not None or bl.right is not None:
                prod = _dense(prod)
                prod = prod if bj.right is None else bj.right.T @ prod
                prod = prod if bl.right is None else prod @ bl.right
            self._cross[key] = prod.tocsr() if sp.issparse(prod) else np.asarray(prod)
        return self._cross[key]

    def coefficients(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """``C`` such that the residual of ``x`` (n × k) is ``x − U C``: (P × k).

        With ``domain`` (codes ``0 .. D−1``, ``-1`` outside), the coefficients of every
        domain's scores ``x_d`` at once: (P × D·k), column ``d·k + j``.
        """
        loads = [b.loadings(x, domain, n_domains) for b in self.blocks]
        m = loads[0].shape[1] if loads else 0
        coef = [np.zeros((b.size, m)) for b in self.blocks]
        touched: list[int] = []
        for j in self.sequence:
            a = loads[j].copy()
            for l in touched:
                a -= self._k(j, l) @ coef[l]
            coef[j] += a
            if j not in touched:
                touched.append(j)
        return np.vstack(coef) if coef else np.zeros((0, m))

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """Residuals ``x − U C`` of a dense (n,) or (n, m) score matrix."""
        x, flat = _as2d(x)
        if not self.blocks:
            return x[:, 0] if flat else x
        coef = self.coefficients(x)
        out = x.copy()
        for b, start, stop in zip(self.blocks, self.offsets[:-1], self.offsets[1:]):
            out -= np.asarray(b.times(coef[start:stop]))
        return out[:, 0] if flat else out


class _Record:
    """Shared behaviour: a record is applied as its :class:`ResidualMap`."""

    sequence: tuple[int, ...] = (0,)

    def projections(self) -> tuple[Projection, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """Residuals of the weighted scores ``x`` (n,) or (n, k) for this record alone."""
        return ResidualMap([self]).residualize(x)


@dataclass(frozen=True, eq=False)
class PostStratificationRecord(_Record):
    """Post-stratification on ``codes`` (n,), from weights ``old`` to ``new``."""

    codes: np.ndarray
    n_groups: int
    old: np.ndarray
    new: np.ndarray
    kind: str = "poststratification"

    def projections(self) -> tuple[Projection, ...]:
        psw = self.new
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(psw > 0, self.old / np.where(psw > 0, psw, 1.0), 0.0)
        den = np.bincount(self.codes, weights=self.old, minlength=self.n_groups)
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        U = _cell_matrix(self.codes, self.n_groups, psw)
        L = _cell_matrix(self.codes, self.n_groups, ratio * inv[self.codes])
        return (Projection(U, L),)


@dataclass(frozen=True, eq=False)
class RakingRecord(_Record):
    """Raking: per margin the level codes and the weights after that margin's last adjustment.

    The weights after margin k are ``base · f_k[cell]``: ``base`` (n,) the weights before
    raking, ``cell`` (n,) the cell of each row and ``factors_after`` one (C,) array of
    cumulative cell factors per margin, from the last sweep.
    """

    codes: tuple[np.ndarray, ...]
    n_levels: tuple[int, ...]
    base: np.ndarray
    cell: np.ndarray
    factors_after: tuple[np.ndarray, ...]
    passes: int = 10
    kind: str = "raking"

    @property
    def weights_after(self) -> tuple[np.ndarray, ...]:
        return tuple(self.base * f[self.cell] for f in self.factors_after)

    @property
    def sequence(self) -> tuple[int, ...]:  # type: ignore[override]
        return tuple(range(len(self.codes))) * self.passes

    def projections(self) -> tuple[Projection, ...]:
        out = []
        for codes, k, psw in zip(self.codes, self.n_levels, self.weights_after):
            cnt = np.maximum(np.bincount(codes, minlength=k), 1).astype(float)
            inv = np.where(psw > 0, 1.0 / np.where(psw > 0, psw, 1.0), 0.0)
            out.append(Projection(_cell_matrix(codes, k, psw), _cell_matrix(codes, k, inv / cnt[codes])))
        return tuple(out)


_QR_BLOCK = 1 << 16  # rows per block of the blocked QR of X sqrt(d)


def _r_factor(blocks) -> np.ndarray:
    """The R factor of the stacked row blocks (each (m_b × p)): QR of every block, then of the
    stacked R factors (a tall-skinny QR; ``RᵀR`` is the cross-product of all rows)."""
    rs = [scipy.linalg.qr(b, mode="r")[0] for b in blocks if b.shape[0]]
    return rs[0] if len(rs) == 1 else np.vstack(rs)


def _spread(unit_x: np.ndarray, unit: np.ndarray | None, scale: np.ndarray) -> Matrix:
    """``diag(scale) X`` with row ``i`` of ``X`` equal to ``unit_x[unit[i]]`` (row ``i`` when
    ``unit`` is None); sparse when ``X`` is, as indicator columns are."""
    if np.count_nonzero(unit_x) * 3 > unit_x.size:
        rows = unit_x if unit is None else unit_x[unit]
        return np.ascontiguousarray(rows * scale[:, None])
    x = sp.csr_matrix(unit_x)
    if unit is not None:
        x = x[unit]
    x = sp.csr_matrix(x, copy=True)
    x.data *= np.repeat(scale, np.diff(x.indptr))
    return x


@dataclass(frozen=True, eq=False)
class CalibrationRecord(_Record):
    """GREG-type calibration: weights before, g-weights, and the calibration variables.

    ``row_x()`` returns the calibration variables of every row (n, p) — for integrated
    calibration the cluster averages — built only when a variance is asked for; ``d`` (n,)
    are the weights before calibration (averaged within clusters for integrated
    calibration) and ``g`` (n,) the g-weights. When the rows share the variables of a
    calibration unit (a cell of the margins, a cluster), ``unit`` (n,) gives each row's unit
    and ``unit_x()`` the variables of every unit (m, p): the basis is then found from one row
    per unit (``Σ_{i∈u} d_i x_u x_uᵀ`` is the units' share of ``X'DX``).

    The projection is ``x ↦ x − U Lᵀ x`` with ``U = diag(g d) X_r R_r⁻¹`` and
    ``L = diag(1/g) X_r R_r⁻¹`` (zero where ``g sqrt(d)`` is not positive), that is ``v Q`` and
    ``Q / v`` for the orthonormal basis ``Q = diag(sqrt d) X_r R_r⁻¹`` of R survey's
    ``qr(X sqrt(d))`` (Lumley 2010, §7.4): ``X_r`` are the columns chosen by a QR of
    ``X sqrt(d)`` with column pivoting, ``R_r`` its leading block (columns whose pivot is below
    ``1e-7`` of the largest are linearly dependent and dropped).
    """

    d: np.ndarray
    g: np.ndarray
    row_x: Callable[[], np.ndarray] = field(repr=False)
    kind: str = "calibration"
    unit: np.ndarray | None = field(default=None, repr=False)
    unit_x: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def _variables(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The calibration variables (units × p, or rows × p) and each row's unit (or None)."""
        if "x" not in self._cache:
            if self.unit is not None and self.unit_x is not None:
                self._cache["x"] = (np.asarray(self.unit_x(), dtype=float), np.asarray(self.unit))
            else:
                self._cache["x"] = (np.asarray(self.row_x(), dtype=float), None)
        return self._cache["x"]

    def _basis(self) -> tuple[np.ndarray, np.ndarray]:
        """Columns kept (in pivot order) and ``R_r⁻¹`` from a pivoted QR of ``X sqrt(d)``."""
        if "basis" not in self._cache:
            x, unit = self._variables()
            if unit is not None:
                mass = np.bincount(unit, weights=self.d, minlength=x.shape[0])
                r = np.sqrt(mass)[:, None] * x
            else:
                root = np.sqrt(self.d)
                r = _r_factor(x[s : s + _QR_BLOCK] * root[s : s + _QR_BLOCK, None] for s in range(0, x.shape[0], _QR_BLOCK))
            r, piv = scipy.linalg.qr(r, mode="r", pivoting=True)
            diag = np.abs(np.diag(r))
            rank = int((diag > diag.max() * 1e-7).sum()) if diag.size else 0
            inv = scipy.linalg.solve_triangular(r[:rank, :rank], np.eye(rank))
            self._cache["basis"] = (piv[:rank], inv)
        return self._cache["basis"]

    def projections(self) -> tuple[Projection | UnitProjection, ...]:
        if "p" not in self._cache:
            keep, right = self._basis()
            x, unit = self._variables()
            gd = self.g * self.d
            inv = np.zeros_like(gd)  # 1/g where g > 0 and d > 0, else zero (one row-length array)
            np.divide(1.0, self.g, out=inv, where=(self.g > 0) & (self.d > 0))
            xr = np.ascontiguousarray(x[:, keep])
            if unit is not None:
                self._cache["p"] = (UnitProjection(unit, gd, inv, xr, right),)
            else:
                self._cache["p"] = (Projection(_spread(xr, None, gd), _spread(xr, None, inv), right),)
        return self._cache["p"]
