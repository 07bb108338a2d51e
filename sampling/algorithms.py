"""Selection algorithms, each drawing ``draws`` independent samples at once.

Every function takes first-order inclusion probabilities ``pi`` (certainty units already set to
1, zero-size units 0) and returns a boolean matrix ``(draws, N)`` of selected units, so that
repeated-draw checks are vectorised. Algorithms (Tillé 2006, *Sampling Algorithms*):

* :func:`srs` — simple random sampling without replacement (random keys, take the ``n`` smallest).
* :func:`systematic` — (PPS) systematic: start :math:`u \\sim U[0,1)`, select unit :math:`k` when
  an integer lies in :math:`[V_{k-1} - u, V_k - u)`, :math:`V_k = \\sum_{j\\le k}\\pi_j` (Madow 1949).
* :func:`poisson` — independent Bernoulli(:math:`\\pi_k`) draws; random size.
* :func:`brewer` — Brewer (1975): at step :math:`i = 1..n` draw among unselected units with
  probability :math:`\\propto \\pi_k (n - a - \\pi_k)/\\{n - a - \\pi_k (n - i + 1)\\}`,
  :math:`a = \\sum_{selected}\\pi`; exact π, fixed size.
* :func:`sampford` — Sampford (1967), rejective: multinomial form or the equivalent Poisson form
  (first unit with probability :math:`\\pi_k/n`, the others a Poisson sample of size :math:`n-1`
  with odds :math:`\\propto\\lambda_k = \\pi_k/(1-\\pi_k)`), whichever accepts more often.
* :func:`conditional_poisson` — maximum entropy (Hájek 1964; Chen, Dempster & Liu 1994): Poisson
  draws with working probabilities, kept when the size equals :math:`n`.
* :func:`tille` — Tillé (1996) elimination: from :math:`i = N-1` down to :math:`n`, eliminate one
  unit with probability :math:`1 - \\pi_k(i)/\\pi_k(i+1)`.
* :func:`cube` — balanced sampling, cube method (Deville & Tillé 2004) with the fast flight phase
  (Chauvet & Tillé 2006) and landing by dropping balancing variables from the last.
"""

from __future__ import annotations

import numpy as np

from sampling.conditional_poisson import odds_scale, working_odds
from sampling.probabilities import inclusion_probabilities
from surveycore import SurveyError

_EPS = 1e-10


def _split(pi: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    sure = pi >= 1 - 1e-12
    mid = np.flatnonzero((pi > 1e-15) & ~sure)
    n = int(round(pi.sum())) - int(sure.sum())
    return sure, mid, n


def _assemble(sure: np.ndarray, mid: np.ndarray, sub: np.ndarray, draws: int) -> np.ndarray:
    out = np.zeros((draws, sure.size), dtype=bool)
    out[:, sure] = True
    out[:, mid] = sub
    return out


def srs(pi: np.ndarray, rng: np.random.Generator, draws: int = 1) -> np.ndarray:
    """Simple random sampling without replacement of ``n = sum(pi)`` units (π all equal)."""
    N = pi.size
    n = int(round(pi.sum()))
    out = np.zeros((draws, N), dtype=bool)
    if n == 0:
        return out
    if draws == 1:
        out[0, rng.choice(N, n, replace=False)] = True
        return out
    keys = rng.random((draws, N))
    idx = np.argpartition(keys, n - 1, axis=1)[:, :n]
    np.put_along_axis(out, idx, True, axis=1)
    return out


def systematic(pi: np.ndarray, rng: np.random.Generator, draws: int = 1) -> np.ndarray:
    """(PPS) systematic selection in the given order; fixed size when ``sum(pi)`` is whole."""
    V = np.cumsum(pi)
    V0 = np.r_[0.0, V[:-1]]
    u = rng.random(draws)[:, None]
    if draws == 1:
        hits = np.ceil(V - u[0]) - np.ceil(V0 - u[0]) > 0
        return hits[None, :]
    return (np.ceil(V[None, :] - u) - np.ceil(V0[None, :] - u)) > 0


def poisson(pi: np.ndarray, rng: np.random.Generator, draws: int = 1) -> np.ndarray:
    """Poisson sampling: independent draws, random sample size."""
    return rng.random((draws, pi.size)) < pi[None, :]


def _pick(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row with probability proportional to the row's non-negative weights."""
    c = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * c[:, -1]
    idx = (c < u[:, None]).sum(axis=1)
    return np.minimum(idx, weights.shape[1] - 1)


def _brewer_single(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """One Brewer sample by exact rejection from a fixed proposal, :math:`O(n \\log N)` steps.

    Brewer's step-:math:`i` weights are :math:`w_k = p_k f(p_k)` with
    :math:`f(p) = (c - p)/(c - m p)`, :math:`c = n - a`, :math:`m = n - i + 1`, which increases
    with :math:`p` while :math:`c - m p > 0`. Proposing unit :math:`k` with probability
    :math:`\\propto p_k` (one cumulative sum for all steps) and accepting it when it is still
    free with probability :math:`f(p_k)/f(p_{\\max})` (:math:`p_{\\max}` the largest free
    :math:`p`) draws exactly from :math:`w`; when proposals keep failing (a step where
    :math:`f` is steep) the step falls back to the direct draw over all free units.
    """
    N = p.size
    cum = np.cumsum(p)
    total = cum[-1]
    order = np.argsort(-p, kind="stable")
    top = 0
    free = np.ones(N, dtype=bool)
    sel = np.zeros(N, dtype=bool)
    a = 0.0
    batch = 32
    for i in range(1, n + 1):
        m = n - i + 1.0
        c = n - a
        while not free[order[top]]:
            top += 1
        p_max = p[order[top]]
        k = -1
        if c - m * p_max > 0:
            f_max = (c - p_max) / (c - m * p_max)
            for _ in range(4):
                prop = np.minimum(np.searchsorted(cum, rng.random(batch) * total, side="right"),
                                  N - 1)
                pk = p[prop]
                ok = free[prop] & (rng.random(batch) * f_max * (c - m * pk) < (c - pk))
                if ok.any():
                    k = int(prop[np.argmax(ok)])
                    break
        if k < 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                w = np.where(free, p * (c - p) / (c - m * p), 0.0)
            w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
            cw = np.cumsum(w)
            k = int(min(np.searchsorted(cw, rng.random() * cw[-1], side="right"), N - 1))
        free[k] = False
        sel[k] = True
        a += p[k]
    return sel


def brewer(pi: np.ndarray, rng: np.random.Generator, draws: int = 1) -> np.ndarray:
    """Brewer's (1975) draw-by-draw method with exact inclusion probabilities.

    One sample (``draws=1``, what :func:`select` asks) is drawn by exact rejection from a fixed
    proposal (:func:`_brewer_single`), so a step costs :math:`O(\\log N)` instead of
    :math:`O(N)`. Many samples at once are drawn step by step for all of them together, reusing
    preallocated buffers: the selected total :math:`a` is carried from step to step and selected
    units are masked by a 0/1 factor.
    """
    sure, mid, n = _split(pi)
    p = pi[mid]
    N = p.size
    sel = np.zeros((draws, N), dtype=bool)
    if n == 0 or N == 0:
        return _assemble(sure, mid, sel, draws)
    if draws == 1:
        return _assemble(sure, mid, _brewer_single(p, n, rng)[None, :], 1)
    rows = np.arange(draws)
    free = np.ones((draws, N))  # 1 while a unit is still available
    a = np.zeros((draws, 1))
    w = np.empty((draws, N))
    cum = np.empty((draws, N))
    u = rng.random((n, draws))
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(1, n + 1):
            c = n - a
            np.subtract(c, p, out=w)
            w *= p  # numerator p (n - a - p)
            np.multiply(p, -(n - i + 1.0), out=cum)
            cum += c  # denominator n - a - p (n - i + 1)
            np.divide(w, cum, out=w)
            w *= free
            np.cumsum(w, axis=1, out=cum)
            if not np.isfinite(cum[:, -1]).all() or (w < 0).any():
                # a zero denominator or a negative weight (only at the boundary of a valid
                # design): those units weigh nothing at this step
                np.fmax(w, 0.0, out=w)
                w[np.isinf(w)] = 0.0
                np.cumsum(w, axis=1, out=cum)
            target = u[i - 1] * cum[:, -1]
            if draws == 1:
                k = np.searchsorted(cum[0], target, side="right")
            else:
                k = (cum <= target[:, None]).sum(axis=1)
            k = np.minimum(k, N - 1)
            sel[rows, k] = True
            free[rows, k] = 0.0
            a[:, 0] += p[k]
    return _assemble(sure, mid, sel, draws)


def sampford(pi: np.ndarray, rng: np.random.Generator, draws: int = 1,
             max_tries: int = 20_000_000) -> np.ndarray:
    """Sampford's method (exact, rejective).

    The design is :math:`p(s) \\propto \\sum_{k\\in s}\\pi_k\\prod_{j\\in s\\setminus k}\\lambda_j`.
    Two equivalent rejective forms are used, whichever accepts more often:
    *multinomial* — one unit with probability :math:`\\pi_k/n`, :math:`n-1` with replacement with
    probability :math:`\\propto\\lambda_k`, accepted when all are distinct (Sampford 1967);
    *Poisson* — one unit :math:`k` with probability :math:`\\pi_k/n` and a Poisson sample with
    odds :math:`c\\lambda_j`, accepted when it has :math:`n-1` units and misses :math:`k`. Given
    acceptance both have exactly the Sampford design, whose inclusion probabilities are
    :math:`\\pi`.
    """
    sure, mid, n = _split(pi)
    p = pi[mid]
    N = p.size
    if n == 0 or n == N:
        return _assemble(sure, mid, np.full((draws, N), n > 0), draws)
    lam = p / (1 - p)
    first_p = p / p.sum()
    q = lam / lam.sum()
    acc_mult = np.exp(-((n - 1) * (n - 2) / 2) * np.sum(q ** 2) - (n - 1) * np.sum(first_p * q))
    pq = poisson_scale(lam, n - 1) if n > 1 else np.zeros(N)
    d = float(np.sum(pq * (1 - pq)))
    acc_pois = (1.0 / np.sqrt(2 * np.pi * max(d, 0.25))) * (1 - float(np.sum(first_p * pq)))
    c1 = np.cumsum(first_p)
    c2 = np.cumsum(q)
    sel_parts: list[np.ndarray] = []
    have = 0
    tried = 0
    while have < draws:
        if tried >= max_tries:
            raise SurveyError(
                "Sampford's rejective algorithm accepts too rarely for these probabilities",
                argument="method",
                expected="inclusion probabilities far enough from 1",
                found=f"{have} accepted samples in {tried} tries",
                hint="use method='conditional_poisson' (maximum entropy) or 'brewer'",
            )
        need = draws - have
        if acc_mult >= acc_pois:
            batch = int(min(max(2 * need / max(acc_mult, 1e-12), 16), max(4e6 // n, 16)))
            f = np.searchsorted(c1, rng.random((batch, 1)), side="right")
            rest = np.searchsorted(c2, rng.random((batch, n - 1)), side="right")
            idx = np.minimum(np.concatenate([f, rest], axis=1), N - 1)
            idx.sort(axis=1)
            ok = (np.diff(idx, axis=1) > 0).all(axis=1)
            if ok.any():
                s = np.zeros((int(ok.sum()), N), dtype=bool)
                np.put_along_axis(s, idx[ok], True, axis=1)
                sel_parts.append(s)
        else:
            batch = int(min(max(2 * need / max(acc_pois, 1e-12), 16), max(2e7 // N, 16)))
            f = np.minimum(np.searchsorted(c1, rng.random(batch), side="right"), N - 1)
            s = rng.random((batch, N)) < pq[None, :]
            rows = np.arange(batch)
            ok = (s.sum(axis=1) == n - 1) & ~s[rows, f]
            if ok.any():
                s = s[ok]
                s[np.arange(s.shape[0]), f[ok]] = True
                sel_parts.append(s)
        tried += batch
        have = sum(part.shape[0] for part in sel_parts)
    return _assemble(sure, mid, np.concatenate(sel_parts)[:draws], draws)


def poisson_scale(w: np.ndarray, n: int) -> np.ndarray:
    """Poisson probabilities ``c w / (1 + c w)`` summing to ``n`` (same conditional design)."""
    cw = w * odds_scale(w, n)
    return cw / (1.0 + cw)


def conditional_poisson(pi: np.ndarray, rng: np.random.Generator, draws: int = 1,
                        odds: np.ndarray | None = None) -> np.ndarray:
    """Conditional Poisson (maximum entropy) sampling by rejection of Poisson samples."""
    sure, mid, n = _split(pi)
    p = pi[mid]
    if n == 0 or n == p.size:
        return _assemble(sure, mid, np.full((draws, p.size), n > 0), draws)
    w = working_odds(p) if odds is None else odds
    q = poisson_scale(w, n)
    d = float(np.sum(q * (1 - q)))
    accept = 1.0 / np.sqrt(2 * np.pi * max(d, 0.25))
    got: list[np.ndarray] = []
    have = 0
    while have < draws:
        batch = int(min(max(2 * (draws - have) / accept, 16), max(2e7 // p.size, 16)))
        s = rng.random((batch, p.size)) < q
        s = s[s.sum(axis=1) == n]
        if s.shape[0]:
            got.append(s)
            have += s.shape[0]
    return _assemble(sure, mid, np.concatenate(got)[:draws], draws)


TILLE_MAX_WORK = 4e8


def tille(pi: np.ndarray, rng: np.random.Generator, draws: int = 1) -> np.ndarray:
    """Tillé's (1996) elimination procedure."""
    sure, mid, n = _split(pi)
    p = pi[mid]
    N = p.size
    if N * (N - n) > TILLE_MAX_WORK:
        raise SurveyError(
            "Tillé's elimination is too slow for this frame",
            argument="method",
            expected=f"N·(N − n) up to {TILLE_MAX_WORK:.0e} (each of the N − n steps costs O(N))",
            found=f"N = {N} non-certainty units, n = {n}",
            hint="use 'conditional_poisson' or 'sampford': the same inclusion probabilities, "
            "fixed size, and they scale to large frames",
        )
    alive = np.ones((draws, N), dtype=bool)
    rows = np.arange(draws)
    upper = np.ones(N)
    for i in range(N - 1, n - 1, -1):
        lower = inclusion_probabilities(p, i)
        r = np.clip(1.0 - lower / upper, 0.0, 1.0)
        k = _pick(alive * r[None, :], rng)
        alive[rows, k] = False
        upper = lower
    return _assemble(sure, mid, alive, draws)


def _null_vectors(M: np.ndarray) -> np.ndarray:
    """A unit vector of the null space of each ``(q, q+1)`` matrix in the batch ``M``."""
    if M.shape[1] == 0:
        return np.ones((M.shape[0], M.shape[2]))
    _, _, vh = np.linalg.svd(M, full_matrices=True)
    return vh[:, -1, :]


def cube(pi: np.ndarray, rng: np.random.Generator, draws: int = 1,
         balance: np.ndarray | None = None) -> np.ndarray:
    """Balanced sampling by the cube method: :math:`\\sum_{k\\in s} x_k/\\pi_k \\approx \\sum_k x_k`.

    ``balance`` is an ``N × p`` matrix of balancing variables; the inclusion probabilities are
    always added as the first variable, so the sample size is fixed when ``sum(pi)`` is whole.
    The flight phase is exact (a martingale, so π is respected); the landing phase drops
    balancing variables from the last until the sample is complete.
    """
    sure, mid, _ = _split(pi)
    p = pi[mid]
    N = p.size
    if N == 0:  # every unit is certain or out: nothing left to draw
        return _assemble(sure, mid, np.zeros((draws, 0), dtype=bool), draws)
    X = p[:, None] if balance is None else np.column_stack([p, np.asarray(balance, dtype=float)[mid]])
    A = X / p[:, None]
    A = A / np.maximum(np.abs(A).max(axis=0), 1e-300)
    q = A.shape[1]
    perm = np.argsort(rng.random((draws, N)), axis=1)
    P = p[perm]
    rows_all = np.arange(draws)
    for _ in range(4 * N + 10):
        open_ = (P > _EPS) & (P < 1 - _EPS)
        count = open_.sum(axis=1)
        if not count.any():
            break
        order = np.argsort(~open_, axis=1, kind="stable")
        for c in np.unique(np.minimum(count[count > 0], q + 1)):
            rows = rows_all[np.minimum(count, q + 1) == c]
            cols = order[rows, :c]
            units = perm[rows[:, None], cols]
            M = np.transpose(A[units][:, :, : c - 1], (0, 2, 1))
            u = _null_vectors(M)
            pv = P[rows[:, None], cols]
            with np.errstate(divide="ignore", invalid="ignore"):
                up = np.where(u > 1e-12, (1 - pv) / u, np.where(u < -1e-12, pv / -u, np.inf))
                dn = np.where(u > 1e-12, pv / u, np.where(u < -1e-12, (1 - pv) / -u, np.inf))
            l1 = up.min(axis=1)
            l2 = dn.min(axis=1)
            go_up = rng.random(rows.size) < l2 / (l1 + l2)
            step = np.where(go_up, l1, -l2)[:, None] * u
            new = pv + step
            new[new < _EPS] = 0.0
            new[new > 1 - _EPS] = 1.0
            P[rows[:, None], cols] = new
    sel = np.zeros((draws, N), dtype=bool)
    np.put_along_axis(sel, perm, P > 0.5, axis=1)
    return _assemble(sure, mid, sel, draws)


DRAWERS = {
    "srs": srs,
    "systematic": systematic,
    "pps_systematic": systematic,
    "poisson": poisson,
    "brewer": brewer,
    "sampford": sampford,
    "conditional_poisson": conditional_poisson,
    "tille": tille,
    "cube": cube,
}


def draw_samples(pi, method: str, draws: int = 1, *, seed=None, balance=None) -> np.ndarray:
    """Draw ``draws`` independent samples with inclusion probabilities ``pi`` at once.

    Parameters
    ----------
    pi : array-like
        Inclusion probabilities in [0, 1] (from :func:`inclusion_probabilities`); fixed-size
        methods need them to sum to an integer. For ``srs`` and ``systematic`` they must be equal.
    method : str
        One of ``srs``, ``systematic``, ``pps_systematic``, ``brewer``, ``sampford``,
        ``conditional_poisson`` (``maxentropy``), ``poisson``, ``tille``, ``cube``.
    draws : int
        Number of samples.
    seed : int or numpy.random.Generator, optional
    balance : array-like, optional
        ``N × p`` balancing variables (cube method).

    Returns
    -------
    numpy.ndarray
        Boolean matrix ``(draws, N)``; row ``r`` marks the units of sample ``r``.
    """
    from sampling._validate import as_rng, check_pi, fixed_size
    from surveycore.checks import check_option

    method = check_option(method, (*DRAWERS, "maxentropy"), "method")
    method = "conditional_poisson" if method == "maxentropy" else method
    p = check_pi(pi)
    if method != "poisson":
        fixed_size(p)
    if method in ("srs", "systematic") and not np.allclose(p, p[0]):
        raise SurveyError(f"{method} needs equal inclusion probabilities", argument="pi",
                          expected="all pi equal", found=f"range {p.min():g}–{p.max():g}",
                          hint="use pps_systematic or another PPS method")
    if not isinstance(draws, (int, np.integer)) or draws < 1:
        raise SurveyError("draws must be a positive integer", argument="draws",
                          expected="an int >= 1", found=repr(draws))
    rng = as_rng(seed)
    if method == "cube":
        B = None if balance is None else np.asarray(balance, dtype=float).reshape(p.size, -1)
        return cube(p, rng, int(draws), balance=B)
    return DRAWERS[method](p, rng, int(draws))
