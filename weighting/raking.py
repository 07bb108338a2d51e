"""Post-stratification and raking (iterative proportional fitting) on cells.

Raking multiplies the weights of every level of each margin in turn by ``t_l / Σ_{i∈l} w_i``
until every margin is met (Deming & Stephan 1940; Deville, Särndal & Sautory 1993). Rows of
one cell of the margins' cross-classification always receive the same factor, so the
iterations run on the C cell totals (C ≤ product of the numbers of levels), and are mapped back
to rows once. Convergence is judged as R survey's ``rake``: the largest change of any margin
table between two sweeps must fall below ``tol`` (relative to the total weight, or in weight
units). Post-stratification is one margin adjusted once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from surveycore import SurveyError, SurveyWarning
from weighting._arrays import group_sums, times_gathered
from weighting._emptied import refuse_emptied
from weighting._targets import Margin, cell_codes
from weighting.records import CalibrationRecord, PostStratificationRecord, RakingRecord

_REPLAY_RTOL = 1e-6  # replicate margins further off than this are reported
_CELL_HINT = ("collapse the level with a neighbouring one (in the data and the targets), or use "
              "a replicate method that keeps every level in every replicate")


def _level_names(m: Margin) -> list[str]:
    return [f"{m.name}={lv}" for lv in m.levels]


def _check_reachable(margin: Margin, current: np.ndarray) -> None:
    """A level with a positive target needs positive weight in the sample."""
    bad = np.flatnonzero((margin.counts > 0) & ~(current > 0))
    if bad.size:
        lv = [margin.levels[j] for j in bad]
        raise SurveyError(
            f"level{'s' if len(lv) > 1 else ''} of {margin.name} with a positive target "
            "but no positive weight",
            argument="targets",
            expected="positive weight in every level that has a positive target",
            found=", ".join(repr(v) for v in lv),
            hint="collapse the level with a neighbouring one in the data and the targets",
        )


@dataclass(frozen=True, eq=False)
class PostStratifyStep:
    """Post-stratification to the counts of one (possibly cross-classified) margin."""

    margin: Margin

    def factors(self, w: np.ndarray) -> np.ndarray:
        """Per-level factors ``t_l / Σ_{i∈l} w_i`` for every column of ``w`` (n, R)."""
        m = self.margin
        current = group_sums(m.codes, len(m.levels), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(current > 0, m.counts[:, None] / current, 0.0)
        return f

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        m = self.margin
        current = group_sums(m.codes, len(m.levels), w).reshape(len(m.levels), -1)
        refuse_emptied(np.broadcast_to(m.counts[:, None], current.shape), current,
                       _level_names(m), "post-stratum", "rows", _CELL_HINT)
        return times_gathered(w, self.factors(w), m.codes, out)

    def fit(self, w: np.ndarray):
        m = self.margin
        current = np.bincount(m.codes, weights=w, minlength=len(m.levels))
        _check_reachable(m, current)
        new = self.replay(w[:, None])[:, 0]
        record = PostStratificationRecord(m.codes, len(m.levels), w.copy(), new)
        return new, record, current


@dataclass(frozen=True, eq=False)
class RakeStep:
    """Raking to categorical margins with R survey's stopping rule, run on cells."""

    margins: tuple[Margin, ...]
    tol: float
    tol_units: str
    max_iter: int
    sweeps: int | None = None  # fixed number of sweeps once fitted (used by replay)
    cell: np.ndarray | None = None
    cell_levels: np.ndarray | None = None
    variance: str = "regression"

    def _cells(self):
        if self.cell is not None:
            return self.cell, self.cell_levels
        cell, cell_levels = cell_codes(
            [m.codes for m in self.margins], [len(m.levels) for m in self.margins]
        )
        return cell, cell_levels

    def _ipf(self, t0: np.ndarray, cell_levels: np.ndarray, sweeps: int | None, eps: float):
        """IPF on cell totals t0 (C, R). Returns factors, sweeps used, converged, trace, steps."""
        f = np.ones_like(t0)
        n_lv = [len(m.levels) for m in self.margins]

        def tables(t):
            return [group_sums(cell_levels[:, k], n_lv[k], t) for k in range(len(n_lv))]

        old = tables(t0)
        trace: list[float] = []
        after_step: list[np.ndarray] = []
        converged = False
        done = 0
        limit = sweeps if sweeps is not None else self.max_iter
        while done < limit:
            after_step = []
            for k, m in enumerate(self.margins):
                cur = group_sums(cell_levels[:, k], n_lv[k], t0 * f)
                with np.errstate(divide="ignore", invalid="ignore"):
                    fac = np.where(cur > 0, m.counts[:, None] / cur, 0.0)
                f = f * fac[cell_levels[:, k]]
                after_step.append(f.copy())
            done += 1
            new = tables(t0 * f)
            delta = max(float(np.abs(a - b).max()) for a, b in zip(new, old))
            trace.append(delta)
            if sweeps is None and delta < eps:
                converged = True
                break
            old = new
        return f, done, converged, trace, after_step

    def fit(self, w: np.ndarray):
        cell, cell_levels = self._cells()
        n_cells = cell_levels.shape[0]
        t0 = np.bincount(cell, weights=w, minlength=n_cells)[:, None]
        for k, m in enumerate(self.margins):
            _check_reachable(m, group_sums(cell_levels[:, k], len(m.levels), t0[:, 0]))
        eps = self.tol * float(w.sum()) if self.tol_units == "relative" else self.tol
        f, done, converged, trace, after_step = self._ipf(t0, cell_levels, None, eps)
        new = w * f[cell, 0]
        if not converged:
            worst, name = 0.0, ""
            for m in self.margins:
                got = np.bincount(m.codes, weights=new, minlength=len(m.levels))
                rel = np.abs(got - m.counts) / np.maximum(np.abs(m.counts), 1e-300)
                if rel.max() >= worst:
                    worst, name = float(rel.max()), m.name
            raise SurveyError(
                "raking did not converge",
                argument="max_iter",
                expected=f"change between sweeps below {eps:.3g} within {self.max_iter} sweeps",
                found=f"last change {trace[-1]:.3g}; largest relative distance to a target "
                f"{worst:.3g}, on margin {name}",
                hint="raise max_iter; if the distance stays, a level is nearly empty in one "
                "margin and large in another: collapse it",
            )
        if self.variance == "survey":
            record = RakingRecord(
                codes=tuple(m.codes for m in self.margins),
                n_levels=tuple(len(m.levels) for m in self.margins),
                base=w,
                cell=cell,
                factors_after=tuple(fs[:, 0] for fs in after_step),
            )
        else:
            record = CalibrationRecord(d=w, g=f[cell, 0], row_x=self._indicators)
        fitted = RakeStep(
            self.margins, self.tol, self.tol_units, self.max_iter, done, cell, cell_levels, self.variance
        )
        tables = [
            (
                group_sums(cell_levels[:, k], len(m.levels), t0[:, 0]),
                group_sums(cell_levels[:, k], len(m.levels), t0[:, 0] * f[:, 0]),
            )
            for k, m in enumerate(self.margins)
        ]
        return new, record, fitted, converged, trace, tables

    def _indicators(self) -> np.ndarray:
        """Level indicators of every margin (n, Σ levels): the raking's calibration variables."""
        blocks = [np.eye(len(m.levels))[m.codes] for m in self.margins]
        return np.hstack(blocks)

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        cell, cell_levels = self._cells()
        n_cells = cell_levels.shape[0]
        t0 = group_sums(cell, n_cells, w)
        if t0.ndim == 1:
            t0 = t0[:, None]
        for k, m in enumerate(self.margins):
            have = group_sums(cell_levels[:, k], len(m.levels), t0)
            refuse_emptied(np.broadcast_to(m.counts[:, None], have.shape), have,
                           _level_names(m), "raking cell", "rows", _CELL_HINT)
        f, *_ = self._ipf(t0, cell_levels, self.sweeps, 0.0)
        self._warn_unmet(t0 * f, cell_levels)
        return times_gathered(w, f, cell, out)

    def _warn_unmet(self, t: np.ndarray, cell_levels: np.ndarray) -> None:
        """Warn when replicate columns miss a margin after the full sample's sweeps."""
        worst = np.zeros(t.shape[1])
        for k, m in enumerate(self.margins):
            got = group_sums(cell_levels[:, k], len(m.levels), t).reshape(len(m.levels), -1)
            scale = np.where(m.counts > 0, m.counts, 1.0)[:, None]
            worst = np.maximum(worst, (np.abs(got - m.counts[:, None]) / scale).max(axis=0))
        bad = worst > _REPLAY_RTOL
        if bad.any():
            warnings.warn(
                f"raking replayed with the full sample's {self.sweeps} sweeps misses a margin "
                f"by up to {worst.max():.3g} (relative) in {int(bad.sum())} of {bad.size} "
                "weight columns; R survey's rake on replicate designs does the same",
                SurveyWarning, stacklevel=4)
