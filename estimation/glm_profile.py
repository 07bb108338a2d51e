"""Profile-likelihood confidence limits with a design-effect correction (Rao–Scott scaling).

Used by :func:`estimation.proportion.proportion` (``method="likelihood"``), following R
``survey``'s ``confint.svyglm(method="likelihood")``: the signed root deviance
``z(b) = sign(b − β̂) √((D(b) − D(β̂)) / φ̂)`` is tabulated on a grid of ``b`` (steps of
``z_max/5`` standard errors, at most 9 per side), interpolated with Forsythe–Malcolm–Moler's
cubic spline on ``3 × (points)`` equally spaced values, and inverted linearly at
``± t_{α/2, df} √λ`` where ``λ`` is the ratio of the design variance to the model-based
variance of ``β̂`` (Lumley & Scott 2014; Venables & Ripley 2002, §8.4 for the profile).
"""

from __future__ import annotations

import numpy as np


def fmm_coefficients(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cubic spline coefficients with Forsythe, Malcolm & Moler's (1977) end conditions.

    The third derivative at each end equals that of the cubic through the four nearest points.
    On ``[x_i, x_{i+1}]``: ``s(u) = y_i + b_i h + c_i h² + d_i h³`` with ``h = u − x_i``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        return b, c, d
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    nm1 = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[n - 2]
    c[0] = 0.0
    c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[nm1] = c[nm1] / b[nm1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[n - 2]
    return b, c, d


def fmm_spline(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Values of the FMM spline through ``(x, y)`` at ``n_out`` equally spaced points."""
    order = np.argsort(x, kind="stable")
    x = np.asarray(x, dtype=float)[order]
    y = np.asarray(y, dtype=float)[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):  # ties: mean of y
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    b, c, d = fmm_coefficients(x, y)
    xout = np.linspace(x[0], x[-1], n_out)
    i = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, len(x) - 1)
    h = xout - x[i]
    return xout, y[i] + h * (b[i] + h * (c[i] + h * d[i]))


def invert_linear(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``y`` at ``at`` along ``x`` (ties averaged, NaN outside)."""
    order = np.argsort(x, kind="stable")
    x = x[order]
    y = y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    out = np.interp(at, x, y)
    return np.where((at < x[0]) | (at > x[-1]), np.nan, out)


def profile_limits(deviance, beta: float, se: float, dispersion: float, zmax: float, cutoff: np.ndarray, max_steps: int = 10) -> np.ndarray:
    """Limits of ``β`` where the signed root deviance crosses ``cutoff`` (R's profile + spline).

    Parameters
    ----------
    deviance : callable
        ``deviance(b)`` with the parameter fixed at ``b``.
    beta, se : float
        Estimate and its (design) standard error; steps are ``zmax / 5`` standard errors.
    dispersion : float
        ``φ̂`` dividing the deviance difference.
    zmax : float
        Profiling stops once ``|z| >= zmax`` (or after ``max_steps − 1`` steps).
    cutoff : ndarray (2,)
        Values of ``z`` at the lower and upper limits.

    Returns
    -------
    ndarray (2,)
        The limits; NaN where the profile does not reach the cutoff, and both NaN when a
        point of the profile has a smaller deviance than the estimate (R's "profiling has found
        a better solution"; the caller reports it with a warning).
    """
    d0 = deviance(beta)
    delta = zmax / 5.0
    zs = [0.0]
    bs = [beta]
    for sgn in (-1.0, 1.0):
        step = 0
        z = 0.0
        while True:
            step += 1
            if not (step < max_steps and abs(z) < zmax):
                break
            b = beta + sgn * step * delta * se
            zz = (deviance(b) - d0) / dispersion
            if zz > -0.001:
                zz = max(zz, 0.0)
            else:  # the estimate is not the maximum (R stops): no interval, the caller warns
                return np.full(2, np.nan)
            z = sgn * np.sqrt(zz)
            zs.append(z)
            bs.append(b)
    zs_arr = np.asarray(zs)
    bs_arr = np.asarray(bs)
    order = np.argsort(zs_arr, kind="stable")
    gx, gy = fmm_spline(bs_arr[order], zs_arr[order], 3 * len(zs_arr))
    return invert_linear(gy, gx, np.asarray(cutoff, dtype=float))
