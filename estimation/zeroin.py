"""Brent's root finder, step for step, so that a statistic with several sign changes gives
the root R's ``uniroot`` gives.

The Francisco–Fuller score statistic of a quantile is a step function of ``θ`` and need not be
monotone in a small domain; where it changes sign more than once, which change an interval
end falls on depends on the root finder's path. R's ``uniroot`` is Brent's (1973) ``zeroin``
(bisection, secant and inverse quadratic interpolation); this is the same iteration, with the
same stopping rule ``|c − b|/2 ≤ 2 ε |b| + tol/2``, so it visits the same points.

Reference: Brent, R. P. (1973), *Algorithms for Minimization without Derivatives*, ch. 4;
R ``?uniroot``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["brent_root"]

EPSILON = float(np.finfo(float).eps)


def brent_root(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float,
    max_iter: int = 1000,
) -> float | None:
    """A root of ``f`` in ``[lower, upper]`` by Brent's method, or None without a sign change.

    Parameters
    ----------
    f : callable
        The function; evaluated at ``lower``, ``upper`` and then once per iteration.
    lower, upper : float
        The bracket (R ``interval``).
    tol : float
        Absolute tolerance (R ``tol``).
    max_iter : int
        Iterations at most (R ``maxiter``); the last iterate is returned when they run out.
    """
    a, b = float(lower), float(upper)
    fa, fb = f(a), f(b)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa * fb > 0:
        return None
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(max_iter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # b is the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):  # interpolation may be tried
            cb = c - b
            if a == c:  # secant
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:  # inverse quadratic interpolation
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
