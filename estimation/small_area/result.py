"""The result of :func:`~estimation.small_area.fay_herriot`: what was estimated and how."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FittedModel:
    """Model-scale quantities kept for benchmarking and diagnostics (not for display)."""

    X: np.ndarray            # (M, p)
    sampled: np.ndarray      # (M,) bool
    y: np.ndarray            # (m,) direct estimates on the model scale
    psi: np.ndarray          # (m,) sampling variances on the model scale
    theta: np.ndarray        # (M,) EBLUPs on the model scale
    residuals: np.ndarray    # (m,) y − x'β̂
    Q: np.ndarray            # (p, p) (X'V⁻¹X)⁻¹
    frame: pd.DataFrame      # area-level columns (auxiliaries, weights, groups)
    transformation: str


@dataclass(frozen=True)
class FayHerriotResult:
    """Fay–Herriot EBLUPs with their MSE, the fitted model and its record.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per area: ``area, n, direct, direct_se, direct_cv, eblup, mse, se, cv, ci_low,
        ci_high, gamma, synthetic, in_sample, variance_smoothed, model_based`` (and
        ``eblup_unbenchmarked, mse_unbenchmarked`` after :meth:`benchmark`). ``gamma`` is the
        weight of the direct estimate, ``γ_i = σ²_u/(σ²_u + ψ_i)`` (0 for areas without
        sample); ``cv = √mse / eblup``.
    sigma2_u : float
        Estimated area variance (on the model scale; 0 when the estimate is on the boundary).
    beta : pandas.Series
        Regression coefficients (on the model scale), ``beta_se`` their standard errors.
    metadata : dict
        Method, MSE method, convergence, boundary, smoothing, transformation, seed, warnings.
    """

    table: pd.DataFrame
    sigma2_u: float
    beta: pd.Series
    beta_se: pd.Series
    metadata: dict = field(default_factory=dict)
    model: FittedModel | None = field(default=None, repr=False)

    @property
    def boundary(self) -> bool:
        """Whether σ²_u was estimated on the boundary (0): EBLUPs are then synthetic."""
        return bool(self.metadata.get("boundary", False))

    def diagnostics(self):
        """See :func:`estimation.small_area.diagnostics.diagnostics`."""
        from estimation.small_area.diagnostics import diagnostics

        return diagnostics(self)

    def benchmark(self, target: Any, **options) -> FayHerriotResult:
        """See :func:`estimation.small_area.benchmark.benchmark`."""
        from estimation.small_area.benchmark import benchmark

        return benchmark(self, target, **options)
