"""Newton solver for the calibration equations, vectorised over weight columns.

Find λ with ``Σ_i d_i g(x_i'λ) x_i = t_x`` (Deville & Särndal 1992, eq. 3.4) by Newton steps
``λ ← λ + α (Σ d_i g'(x_i'λ) x_i x_i')⁺ (t_x − Σ d_i g(x_i'λ) x_i)`` from λ = 0, with a
Moore–Penrose inverse (so collinear auxiliaries are harmless). The step is damped: ``α``
starts at 1 and is halved while g is not finite or the scaled misfit ``‖misfit / s‖₂`` does
not decrease (a backtracking line search, Dennis & Schnabel 1983, §6.3; without it the
Newton iterates of bounded distances — logit, truncated raking — can cycle between the
saturated ends of g). When no halving decreases the misfit the full step is taken.

Stopping rule: ``max_j |misfit_j| / s_j < tol`` with the scale-free ``s_j = |t_j|`` (or
``Σ_i d_i |x_ij|`` for a zero total, 1 if that is zero too). R survey's ``grake`` divides
by ``1 + |t_j|``, which stops at once when the totals are small (e.g. population shares of
order 1e-12). Every weight column is solved independently; converged columns stop moving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from weighting.calfun import g_and_derivative

_PINV_RCOND = 256 * np.finfo(float).eps
_MAX_HALVINGS = 30


def _scale(x, d: np.ndarray, tcol: np.ndarray) -> np.ndarray:
    """Scale-free denominators of the stopping rule, (p, R): ``|t_j|``, else ``Σ d |x_j|``."""
    size = np.abs(tcol)
    if (size == 0).any():
        pos, neg = x.signed_sums(d[:, 0])
        magnitude = np.asarray(pos - neg, dtype=float).reshape(-1)
        fallback = np.where(magnitude > 0, magnitude, 1.0)[:, None]
        size = np.where(size > 0, size, fallback)
    return size


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
    scale = _scale(x, d, tcol)
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
            cols, step, new_eta, gn, dn = (cols[keep], step[:, keep], new_eta[:, keep],
                                           gn[:, keep], dn[:, keep])
        new_mis = tcol[:, cols] - x.rmatvec(d[:, cols] * gn)
        old_norm = np.linalg.norm(misfit[:, cols] / scale[:, cols], axis=0)
        worse = ~(np.linalg.norm(new_mis / scale[:, cols], axis=0) < old_norm)
        if worse.any():  # kept in case no damped step does better
            w0 = np.flatnonzero(worse)
            full = (new_eta[:, w0].copy(), gn[:, w0].copy(), dn[:, w0].copy(),
                    new_mis[:, w0].copy())
        for _ in range(_MAX_HALVINGS):
            if not worse.any():
                break
            idx = np.flatnonzero(worse)
            step[:, idx] /= 2.0
            new_eta[:, idx] = eta[:, cols[idx]] + step[:, idx]
            gb, db = g_and_derivative(method, x.matvec(new_eta[:, idx]), lower, upper)
            mb = tcol[:, cols[idx]] - x.rmatvec(d[:, cols[idx]] * gb)
            gn[:, idx], dn[:, idx], new_mis[:, idx] = gb, db, mb
            better = np.linalg.norm(mb / scale[:, cols[idx]], axis=0) < old_norm[idx]
            worse[idx[better]] = False
        if worse.any():  # no decrease along the Newton direction: take the full step
            back = worse[w0]
            new_eta[:, w0[back]], gn[:, w0[back]] = full[0][:, back], full[1][:, back]
            dn[:, w0[back]], new_mis[:, w0[back]] = full[2][:, back], full[3][:, back]
        eta[:, cols] = new_eta
        g[:, cols], deriv[:, cols] = gn, dn
        misfit[:, cols] = new_mis
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
