"""Calibration distance functions (Deville & Särndal 1992; Deville, Särndal & Sautory 1993).

Each method gives the g-weight as a function of ``u = x'λ``: ``g = 1 + F(u)`` and its
derivative ``dF(u)``, with bounds ``L <= g <= U`` on the g-weights:

- ``linear``: ``g = 1 + u`` (GREG); with bounds it is the truncated linear method.
- ``truncated``: ``g = min(max(1 + u, L), U)`` (bounds required).
- ``raking``: ``g = exp(u)`` truncated to the bounds (multiplicative, g > 0).
- ``logit``: ``g = (L(U-1) + U(1-L) e^{Au}) / (U - 1 + (1-L) e^{Au})``, ``A = (U-L)/((U-1)(1-L))``
  (finite bounds with ``L < 1 < U`` required).
- ``sinh``: generalised hyperbolic sine ``g = (p + sqrt(p² + 4))/2``, ``p = asinh(2u)``,
  truncated to the bounds (as R survey's ``cal.sinh``).

These are the functions of R survey's ``cal.linear``, ``cal.raking``, ``cal.logit`` and
``cal.sinh`` (Lumley 2010, §7), written from the published formulas. For truncated raking and
sinh the derivative is taken as zero where g sits on a bound (the derivative of the truncated
function), which keeps Newton's quadratic convergence; the solution is the same.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import expit

Method = Literal["linear", "truncated", "raking", "logit", "sinh"]
METHODS: tuple[str, ...] = ("linear", "truncated", "raking", "logit", "sinh")


def g_and_derivative(
    method: str, u: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(g, dg/du)`` for the calibration ``method`` at ``u`` with bounds on g."""
    inside = (u < upper - 1) & (u > lower - 1)
    if method in ("linear", "truncated"):
        g = np.minimum(np.maximum(u + 1.0, lower), upper)
        return g, inside.astype(float)
    if method == "raking":
        with np.errstate(over="ignore"):
            e = np.exp(u)
        g = np.minimum(np.maximum(e, lower), upper)
        # derivative of the truncated function: zero where g sits on a bound
        return g, np.where((e < upper) & (e > lower), e, 0.0)
    if method == "logit":
        # g = L + (U - L) s with s = 1 / (1 + c e^{-Au}), c = (U-1)/(1-L): the same function
        # as R's cal.logit, written so that it never overflows
        L, U = lower, upper
        A = (U - L) / ((U - 1.0) * (1.0 - L))
        s = expit(A * u - np.log((U - 1.0) / (1.0 - L)))
        return L + (U - L) * s, (U - L) * A * s * (1.0 - s)
    if method == "sinh":
        p = np.arcsinh(2.0 * u)
        m = (p + np.sqrt(p**2 + 4.0)) / 2.0
        g = np.minimum(np.maximum(m, lower), upper)
        dm = 1.0 / np.sqrt(1.0 + (2.0 * u) ** 2) * (1.0 + p / np.sqrt(p**2 + 4.0))
        return g, np.where((m < upper) & (m > lower), dm, 0.0)
    raise ValueError(method)  # pragma: no cover - checked at the boundary
