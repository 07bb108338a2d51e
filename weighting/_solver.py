"""Newton solver for the calibration equations, vectorised over weight columns.

Find λ with ``Σ_i d_i g(x_i'λ) x_i = t_x`` (Deville & Särndal 1992, eq. 3.4) by Newton steps
``λ ← λ + (Σ d_i g'(x_i'λ) x_i x_i')⁺ (t_x − Σ d_i g(x_i'λ) x_i)`` from λ = 0, with a
Moore–Penrose inverse (so collinear auxiliaries are harmless), step halving while g is not
finite, and the stopping rule ``max_j |misfit_j| / (1 + |t_j|) < tol`` (as R survey's
``grake``). Every weight column is solved independently; converged columns stop moving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weighting.calfun import g_and_derivative

_PINV_RCOND = 256 * np.finfo(float).eps


@dataclass(frozen=True)
class Solution:
    g: np.ndarray  # (m, R)
    iterations: np.ndarray  # (R,)
    converged: np.ndarray  # (R,) bool
    misfit: np.ndarray  # (p, R) final misfit
    trace: tuple[float, ...]  # max relative misfit of column 0 after each iteration


def solve(
    x,
    d: np.ndarray,
    totals: np.ndarray,
    method: str,
    lower: float,
    upper: float,
    tol: float,
    max_iter: int,
) -> Solution:
    """Solve the calibration equations for every column of ``d`` (m, R).

    ``x`` is a design (:mod:`weighting._design`); ``totals`` is (p,) or, one per column, (p, R).
    """
    m, p = x.shape
    r = d.shape[1]
    totals = np.asarray(totals, dtype=float)
    tcol = totals if totals.ndim == 2 else np.repeat(totals[:, None], r, axis=1)
    eta = np.zeros((p, r))
    g, deriv = g_and_derivative(method, np.zeros((m, r)), lower, upper)
    active = np.ones(r, dtype=bool)
    iterations = np.zeros(r, dtype=int)
    scale = 1.0 + np.abs(tcol)
    trace: list[float] = []
    misfit = tcol - x.rmatvec(d * g)
    failed = np.zeros(r, dtype=bool)
    for it in range(1, max_iter + 1):
        cols = np.flatnonzero(active)
        if cols.size == 0:
            break
        tmat = x.gram(d[:, cols] * deriv[:, cols])
        finite = np.isfinite(tmat).all(axis=(1, 2)) & np.isfinite(misfit[:, cols]).all(axis=0)
        if not finite.all():  # a column that went non-finite cannot be solved: it fails
            active[cols[~finite]] = False
            cols, tmat = cols[finite], tmat[finite]
            if cols.size == 0:
                break
        try:
            pinv = np.linalg.pinv(tmat, rcond=_PINV_RCOND)
        except np.linalg.LinAlgError:
            failed[cols] = True
            active[cols] = False
            break
        step = np.einsum("rpq,qr->pr", pinv, misfit[:, cols])
        new_eta = eta[:, cols] + step
        u = x.matvec(new_eta)
        gn, dn = g_and_derivative(method, u, lower, upper)
        bad = ~(np.isfinite(gn).all(axis=0) & np.isfinite(dn).all(axis=0))
        halvings = 0
        while bad.any() and halvings < 60:
            step[:, bad] /= 2.0
            new_eta[:, bad] = eta[:, cols[bad]] + step[:, bad]
            u_bad = x.matvec(new_eta[:, bad])
            gb, db = g_and_derivative(method, u_bad, lower, upper)
            gn[:, bad], dn[:, bad] = gb, db
            bad_idx = np.flatnonzero(bad)
            ok = np.isfinite(gb).all(axis=0) & np.isfinite(db).all(axis=0)
            bad[bad_idx[ok]] = False
            halvings += 1
        if bad.any():  # no finite step found: these columns fail
            failed[cols[bad]] = True
            active[cols[bad]] = False
            keep = ~bad
            cols, new_eta, gn, dn = cols[keep], new_eta[:, keep], gn[:, keep], dn[:, keep]
        eta[:, cols] = new_eta
        g[:, cols], deriv[:, cols] = gn, dn
        misfit[:, cols] = tcol[:, cols] - x.rmatvec(d[:, cols] * gn)
        iterations[cols] = it
        rel = np.abs(misfit[:, cols]) / scale[:, cols]
        if 0 in cols:
            trace.append(float(rel[:, np.flatnonzero(cols == 0)[0]].max()))
        done = (rel < tol).all(axis=0)
        active[cols[done]] = False
    misfit_ok = np.isfinite(misfit).all(axis=0)
    converged = ~active & ~failed & misfit_ok
    if (~active & ~failed).any():  # columns that stopped: check they really met the rule
        rel_all = np.abs(misfit) / scale
        converged &= (rel_all < tol).all(axis=0)
    return Solution(g, iterations, converged, misfit, tuple(trace))
