"""Conditional Poisson (maximum entropy) sampling: working probabilities and exact π, π_kl.

A conditional Poisson design of size :math:`n` with working odds :math:`w_k` gives
:math:`p(s) \\propto \\prod_{k \\in s} w_k` for :math:`|s| = n`. Its inclusion probabilities obey
the recursion (Chen, Dempster & Liu 1994; Tillé 2006, Result 5.x)

.. math:: \\pi_k(m) = m\\, \\frac{w_k\\,(1 - \\pi_k(m-1))}{\\sum_j w_j\\,(1 - \\pi_j(m-1))},
          \\qquad \\pi_k(0) = 0,

and its joint inclusion probabilities are exact (Aires 1999; Tillé 2006, Expression 5.x)

.. math:: \\pi_{kl} = \\frac{\\pi_k w_l - \\pi_l w_k}{w_l - w_k}, \\quad w_k \\neq w_l,

with pairs of equal odds found from :math:`\\sum_{l \\neq k} \\pi_{kl} = (n - 1)\\pi_k`.
Given target probabilities the working odds are found by the fixed point of Tillé (2006,
Algorithm 5.x) on the logit scale: :math:`\\log w \\leftarrow \\log w + \\operatorname{logit}\\pi
- \\operatorname{logit}\\pi(w)`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from surveycore import SurveyError

_STABLE_LIMIT = 10_000_000  # N·(n+1) cells (80 MB) for the exact prefix/suffix computation


def odds_scale(w: np.ndarray, n: float) -> float:
    """The factor :math:`c` with :math:`\\sum_k c w_k/(1 + c w_k) = n` (same conditional design)."""
    lw = np.log(w[w > 0])
    if n <= 0 or n >= lw.size:
        return 1.0
    f = lambda t: np.sum(1.0 / (1.0 + np.exp(-(lw + t)))) - n  # noqa: E731
    t = brentq(f, -lw.max() - 50, -lw.min() + 50, xtol=1e-12)
    return float(np.exp(t))


def _recursion(w: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """Chen–Dempster–Liu recursion; also returns log10 of a bound on its error amplification."""
    pi = np.zeros_like(w)
    log_amp = 0.0
    for m in range(1, n + 1):
        a = w * (1.0 - pi)
        S = a.sum()
        log_amp += max(0.0, float(np.log10(m * w.max() / S)) if S > 0 else np.inf)
        pi = m * a / S
        np.clip(pi, 0.0, 1.0, out=pi)
    return pi, log_amp


def _prefix_suffix(w: np.ndarray, n: int) -> np.ndarray:
    """Exact π_k = w_k e_{n-1}(U∖k)/e_n(U) from prefix and suffix products (all additions).

    Each partial product of :math:`(1 + w_i z)` is kept to degree ``n`` and scaled by its largest
    coefficient (log scale tracked), so no cancellation, overflow or underflow of the terms that
    matter can occur.
    """
    N = w.size
    w = w * odds_scale(w, n)  # π is unchanged; the partial products now peak near degree n
    suf = np.zeros((N + 1, n + 1))
    suf_log = np.zeros(N + 1)
    suf[N, 0] = 1.0
    for k in range(N - 1, -1, -1):
        u = suf[k + 1].copy()
        u[1:] += w[k] * suf[k + 1, :-1]
        top = u.max()
        suf[k] = u / top
        suf_log[k] = suf_log[k + 1] + np.log(top)
    # e_{n-1}(U∖k) = sum_a pre_k[a] * suf[k+1][n-1-a], with pre_k = prod_{i<k} (1 + w_i z)
    excl = np.empty(N)
    pre = np.zeros(n + 1)
    pre[0] = 1.0
    pre_log = 0.0
    for k in range(N):
        excl[k] = pre[:n] @ suf[k + 1, n - 1::-1]
        v = pre.copy()
        v[1:] += w[k] * pre[:-1]
        top = v.max()
        pre = v / top
        pre_log_k = pre_log
        pre_log += np.log(top)
        excl[k] = np.log(max(excl[k], 1e-300)) + pre_log_k + suf_log[k + 1]
    log_en = np.log(pre[n]) + pre_log
    return np.clip(np.exp(np.log(w) + excl - log_en), 0.0, 1.0)


def cps_pi_from_odds(w: np.ndarray, n: int) -> np.ndarray:
    """Inclusion probabilities of the conditional Poisson design of size ``n`` with odds ``w``.

    Exact prefix/suffix products of :math:`\\prod(1 + w_i z)` when ``N·(n+1)`` is at most ten
    million; above, the recursion of the module documentation, refused when its error bound
    exceeds :math:`10^{-8}` (odds spread over many orders of magnitude).
    """
    w = np.asarray(w, dtype=float)
    if n == 0:
        return np.zeros_like(w)
    if w.size * (n + 1) <= _STABLE_LIMIT:
        return _prefix_suffix(w, n)
    pi, log_amp = _recursion(w, n)
    if log_amp > 8:
        raise SurveyError(
            "conditional Poisson probabilities cannot be computed accurately for this design",
            argument="pi",
            expected=f"N·(n+1) <= {_STABLE_LIMIT} or inclusion probabilities of similar size",
            found=f"N = {w.size}, n = {n}, error bound 1e{log_amp - 16:.0f}",
            hint="select within smaller strata, or use method='sampford' or 'brewer'",
        )
    return pi


def working_odds(pi: np.ndarray, *, tol: float | None = None, max_iter: int = 5000) -> np.ndarray:
    """Working odds :math:`w_k` whose conditional Poisson design has inclusion probabilities ``pi``.

    ``pi`` must lie strictly between 0 and 1 and sum to an integer. For :math:`n = 1` the odds
    are :math:`w_k = \\pi_k` and for :math:`n = N - 1` they are :math:`w_k = 1/(1 - \\pi_k)`
    (closed forms: the design of size 1 is :math:`p(\\{k\\}) = w_k/\\sum_j w_j`; the fixed
    point below oscillates for :math:`N = 2`). Otherwise, with ``tol=None`` the
    iteration runs on the logit scale to machine precision. With a number, Tillé's (2006)
    iteration on the probability scale, :math:`\\tilde p \\leftarrow \\tilde p + \\pi -
    \\pi(\\tilde p)`, stops once :math:`\\sum_k |\\Delta \\tilde p_k| \\le` ``tol`` (R
    ``sampling::UPMEpiktildefrompik`` uses ``tol = 1e-6``, so its π_kl carry errors of that order).
    """
    pi = np.asarray(pi, dtype=float)
    n = int(round(pi.sum()))
    if n == 0:
        return np.zeros_like(pi)
    if n == 1:  # p({k}) = w_k / Σ w = π_k: the odds are π itself
        return pi / pi.max()
    if n == pi.size - 1:  # the unit left out is a size-1 design with odds 1/w_k ∝ 1 - π_k
        w = 1.0 / (1.0 - pi)
        return w / w.max()
    if tol is not None:
        pt = pi.copy()
        for _ in range(max_iter):
            new = pt + pi - cps_pi_from_odds(pt / (1 - pt), n)
            change = np.sum(np.abs(new - pt))
            pt = new
            if change <= tol:
                return pt / (1 - pt)
        _no_convergence(pi, pt, max_iter)
    target = np.log(pi) - np.log1p(-pi)
    logw = target.copy()
    best = np.inf
    for _ in range(max_iter):
        got = cps_pi_from_odds(np.exp(logw - logw.max()), n)
        got = np.clip(got, 1e-300, 1 - 1e-16)
        err = float(np.max(np.abs(got - pi)))
        if err < 1e-14 or (err < 1e-11 and err >= 0.5 * best):  # converged or at rounding level
            return np.exp(logw - logw.max())
        best = min(best, err)
        logw += target - (np.log(got) - np.log1p(-got))
    _no_convergence(pi, got, max_iter)


def _no_convergence(pi: np.ndarray, got: np.ndarray, max_iter: int) -> None:  # pragma: no cover
    raise SurveyError(
        "conditional Poisson working probabilities did not converge",
        argument="pi",
        expected="inclusion probabilities not too close to 0 or 1",
        found=f"max error {np.max(np.abs(got - pi)):.3g} after {max_iter} iterations",
    )


def _group_ties(w: np.ndarray, rtol: float) -> np.ndarray:
    order = np.argsort(w, kind="stable")
    ws = w[order]
    new = np.r_[True, np.diff(ws) > rtol * np.maximum(ws[1:], 1e-300)]
    groups = np.empty(w.size, dtype=int)
    groups[order] = np.cumsum(new) - 1
    return groups


def pairwise_from_odds(pi: np.ndarray, w: np.ndarray, n: int, *, rows: np.ndarray | None = None,
                       tie_rtol: float = 1e-7) -> np.ndarray:
    """Exact π_kl of the conditional Poisson design from its π and odds (formula in module doc).

    With ``rows``, only those rows (against every unit) are computed; the values for pairs of
    tied odds need the whole row, :math:`\\sum_{l \\neq k}\\pi_{kl} = (n-1)\\pi_k`.
    """
    N = pi.size
    full = rows is None
    rows = np.arange(N) if full else np.asarray(rows, dtype=int)
    groups = _group_ties(w, tie_rtol)
    g_r = groups[rows]
    same = g_r[:, None] == groups[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = (pi[rows, None] * w[None, :] - pi[None, :] * w[rows, None]) / (
            w[None, :] - w[rows, None])
    p2[same] = 0.0
    size = np.bincount(groups)
    tied = size[g_r] > 1
    if tied.any():
        c = ((n - 1) * pi[rows] - p2.sum(axis=1)) / np.maximum(size[g_r] - 1, 1)
        p2 = np.where(same, c[:, None], p2)
    p2[np.arange(rows.size), rows] = pi[rows]
    if full:
        p2 = (p2 + p2.T) / 2
    return np.clip(p2, 0.0, 1.0)
