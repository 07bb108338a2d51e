"""Variance records: how a calibration step changes the linearised variance.

A calibrated estimator's linearisation replaces the weighted scores ``x_i = w_i z_i`` by the
residuals of their projection on the calibration variables (Deville & Särndal 1992; Särndal,
Swensson & Wretman 1992, §6.6; Lumley 2010, §7.4). Each record's :meth:`residualize` takes the
(n, k) matrix of weighted scores on all rows and returns the residualised matrix, as R
survey's ``svyrecvar`` does with the entries of ``design$postStrata``:

- post-stratification: ``x_i - psw_i · Σ_{j∈h} x_j oldw_j/psw_j / Σ_{j∈h} oldw_j``;
- raking: the post-stratification projection of every margin, in turn, ten times, with
  unweighted post-stratum means of ``x/psw``;
- GREG-type calibration: ``e = r(A, x/v) · v`` where ``A = X · sqrt(d)`` (X aggregated within
  clusters for integrated calibration), ``v = g · sqrt(d)`` and ``r`` the least-squares residual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from weighting._arrays import group_sums

__all__ = ["PostStratificationRecord", "RakingRecord", "CalibrationRecord"]


def _as2d(x: np.ndarray) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return x[:, None], True
    return x, False


@dataclass(frozen=True, eq=False)
class PostStratificationRecord:
    """Post-stratification on ``codes`` (n,), from weights ``old`` to ``new``."""

    codes: np.ndarray
    n_groups: int
    old: np.ndarray
    new: np.ndarray
    kind: str = "poststratification"

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        psw = np.where((self.new == 0) & (self.old == 0), 1.0, self.new)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(psw > 0, self.old / psw, 0.0)
        num = group_sums(self.codes, self.n_groups, x * ratio[:, None])
        den = np.bincount(self.codes, weights=self.old, minlength=self.n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(den[:, None] > 0, num / den[:, None], 0.0)
        out = x - means[self.codes] * psw[:, None]
        return out[:, 0] if flat else out


@dataclass(frozen=True, eq=False)
class RakingRecord:
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

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        x = x.copy()
        counts = [np.bincount(c, minlength=k) for c, k in zip(self.codes, self.n_levels)]
        after = self.weights_after
        for _ in range(self.passes):
            for codes, k, psw, cnt in zip(self.codes, self.n_levels, after, counts):
                safe = np.where(psw > 0, psw, 1.0)
                ratio = x / safe[:, None]
                ratio[psw <= 0] = 0.0
                means = group_sums(codes, k, ratio) / np.maximum(cnt, 1)[:, None]
                x = x - psw[:, None] * means[codes]
        return x[:, 0] if flat else x


@dataclass(frozen=True, eq=False)
class CalibrationRecord:
    """GREG-type calibration: weights before, g-weights, and the calibration variables.

    ``row_x()`` returns the calibration variables of every row (n, p) — for integrated
    calibration the cluster averages — built only when a variance is asked for; ``d`` (n,)
    are the weights before calibration (averaged within clusters for integrated
    calibration) and ``g`` (n,) the g-weights.
    """

    d: np.ndarray
    g: np.ndarray
    row_x: Callable[[], np.ndarray] = field(repr=False)
    kind: str = "calibration"
    _cache: dict = field(default_factory=dict, repr=False)

    def _basis(self) -> np.ndarray:
        if "q" not in self._cache:
            a = self.row_x() * np.sqrt(self.d)[:, None]
            q, r, _ = scipy.linalg.qr(a, mode="economic", pivoting=True)
            diag = np.abs(np.diag(r))
            rank = int((diag > diag.max() * 1e-7).sum()) if diag.size else 0
            self._cache["q"] = q[:, :rank]
        return self._cache["q"]

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        v = self.g * np.sqrt(self.d)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(v[:, None] > 0, x / v[:, None], 0.0)
        q = self._basis()
        resid = y - q @ (q.T @ y)
        out = resid * v[:, None]
        return out[:, 0] if flat else out
