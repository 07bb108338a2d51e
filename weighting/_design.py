"""The calibration design matrix X, dense or held as columns.

With many rows and numeric auxiliaries X is kept as its columns and the products the solver
needs (``X'diag(w)X``, ``Xλ``, ``X'v``) are formed block by block of rows, so the n × p matrix
is never built unless a variance record asks for it.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 32768


def _gram_block(xs: np.ndarray, wd: np.ndarray) -> np.ndarray:
    """Σ_i wd_i x_i x_i' for one block of rows; ``A'A`` with ``A = x·sqrt(wd)`` when wd ≥ 0."""
    if (wd >= 0).all():
        a = xs * np.sqrt(wd)[:, None]
        return a.T @ a
    return (xs * wd[:, None]).T @ xs


class DenseDesign:
    """X held as an (m, p) array (cells, clusters, or small row-level problems)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = np.asfortranarray(x, dtype=float)
        self.shape = self.x.shape

    def dense(self) -> np.ndarray:
        return self.x

    def gram(self, wd: np.ndarray) -> np.ndarray:
        m, p = self.shape
        r = wd.shape[1]
        if r > 1 and m * p * p * r <= 2e8:
            return np.einsum("ip,ir,iq->rpq", self.x, wd, self.x, optimize=True)
        out = np.zeros((r, p, p))
        for j in range(r):
            for start in range(0, m, _BLOCK):
                out[j] += _gram_block(self.x[start : start + _BLOCK], wd[start : start + _BLOCK, j])
        return out

    def matvec(self, eta: np.ndarray) -> np.ndarray:
        return self.x @ eta

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        return self.x.T @ v

    def select(self, keep: np.ndarray) -> DenseDesign:
        return self if keep.all() else DenseDesign(self.x[:, keep])

    def signed_sums(self, du: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Σ du·max(x, 0), Σ du·min(x, 0))`` per column."""
        return (np.clip(self.x, 0, None).T @ du, np.clip(self.x, None, 0).T @ du)


class ColumnDesign:
    """X held as a list of n-vectors (one per auxiliary), processed in blocks of rows."""

    def __init__(self, columns: list[np.ndarray]) -> None:
        self.columns = [c if c.dtype.kind == "f" else c.astype(float) for c in columns]
        self.shape = (columns[0].shape[0], len(columns))

    def _block(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, len(self.columns)), order="F")
        for j, c in enumerate(self.columns):
            out[:, j] = c[start:stop]
        return out

    def dense(self) -> np.ndarray:
        return self._block(0, self.shape[0])

    def gram(self, wd: np.ndarray) -> np.ndarray:
        m, p = self.shape
        r = wd.shape[1]
        out = np.zeros((r, p, p))
        for start in range(0, m, _BLOCK):
            xs = self._block(start, min(start + _BLOCK, m))
            for j in range(r):
                out[j] += _gram_block(xs, wd[start : start + _BLOCK, j])
        return out

    def matvec(self, eta: np.ndarray) -> np.ndarray:
        out = np.zeros((self.shape[0], eta.shape[1]))
        for j, c in enumerate(self.columns):
            if eta.shape[1] == 1:
                out[:, 0] += c * eta[j, 0]
            else:
                out += np.multiply.outer(c, eta[j])
        return out

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        if v.ndim == 2 and v.shape[1] == 1:
            v1 = np.ascontiguousarray(v[:, 0])
            return np.array([[np.dot(c, v1)] for c in self.columns])
        return np.stack([c @ v for c in self.columns])

    def select(self, keep: np.ndarray) -> ColumnDesign:
        if keep.all():
            return self
        return ColumnDesign([c for c, k in zip(self.columns, keep) if k])

    def signed_sums(self, du: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.array([np.clip(c, 0, None) @ du for c in self.columns])
        neg = np.array([np.clip(c, None, 0) @ du for c in self.columns])
        return pos, neg
