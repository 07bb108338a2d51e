"""Small vectorised helpers shared by the weighting steps (group sums, weight summaries)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from surveycore.groups import Groups


def indicator(codes: np.ndarray, n_groups: int) -> sp.csc_matrix:
    """Sparse (G × n) indicator matrix of ``codes`` (see :class:`surveycore.groups.Groups`).

    Column-compressed: the product with a row-major (n, R) matrix then adds whole rows.
    """
    return Groups(codes, n_groups).indicator


def group_sums(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (n,) or (n, R) within groups: returns (G,) or (G, R)."""
    return Groups(codes, n_groups).sum(values)


def as_matrix(base: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``base`` as a float (n, R) matrix and whether it was one-dimensional."""
    arr = np.asarray(base, dtype=float)
    if arr.ndim == 1:
        return arr[:, None], True
    return arr, False


def weight_summary(w: np.ndarray) -> dict[str, float]:
    """Summary of one weight vector: n, sum, min, max, mean, CV, Kish deff and n_eff.

    Kish's design effect due to unequal weighting is ``1 + CV² = n Σw² / (Σw)²`` and the
    effective sample size is ``(Σw)² / Σw²`` (Kish 1965, §11.7), over rows with positive weight.
    """
    pos = w[w > 0]
    n = pos.size
    total = float(pos.sum())
    if n == 0:
        return {"n": 0, "n_positive": 0, "sum": 0.0}
    mean = total / n
    sd = float(pos.std(ddof=0))
    sumsq = float((pos**2).sum())
    return {
        "n": int(w.size),
        "n_positive": int(n),
        "sum": total,
        "min": float(pos.min()),
        "max": float(pos.max()),
        "mean": mean,
        "cv": sd / mean,
        "ratio_max_min": float(pos.max() / pos.min()),
        "deff_kish": n * sumsq / total**2,
        "n_eff": total**2 / sumsq,
    }


def times_gathered(
    w: np.ndarray, f: np.ndarray, codes: np.ndarray, out: np.ndarray | None = None,
    chunk: int = 16384,
) -> np.ndarray:
    """``w * f[codes]`` for (n, R) ``w`` and (G, R) ``f``, by blocks of rows (cache friendly).

    ``out`` (which may be ``w`` itself) receives the result when given.
    """
    if w.ndim == 1 or w.shape[0] <= chunk:
        if out is None:
            return w * f[codes]
        np.multiply(w, f[codes], out=out)
        return out
    if out is None:
        out = np.empty(w.shape)
    for start in range(0, w.shape[0], chunk):
        stop = start + chunk
        np.multiply(w[start:stop], f[codes[start:stop]], out=out[start:stop])
    return out
