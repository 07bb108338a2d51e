"""Joint (second-order) inclusion probabilities π_kl of the selection methods.

Exact formulas
--------------
* ``srs``: :math:`\\pi_{kl} = n(n-1)/\\{N(N-1)\\}`.
* ``poisson``: :math:`\\pi_{kl} = \\pi_k \\pi_l` (independent draws).
* ``systematic`` (also PPS systematic, units in the order given): the random start
  :math:`u \\sim U[0,1)` selects unit :math:`k` when an integer lies in
  :math:`[V_{k-1} - u, V_k - u)`, :math:`V_k = \\sum_{j \\le k} \\pi_j`; the breakpoints
  :math:`\\operatorname{frac}(V_k)` cut :math:`[0,1)` into intervals on which the sample is constant, so
  :math:`\\pi_{kl} = \\sum_t |I_t|\\, a_{tk} a_{tl}` (Madow 1949; Tillé 2006, §7.2).
* ``sampford``: the design is :math:`p(s) = K \\prod_{j\\in s}\\lambda_j \\sum_{j\\in s}(1-\\pi_j)`,
  :math:`\\lambda_j = \\pi_j/(1-\\pi_j)` (Sampford 1967), so
  :math:`\\pi_{kl} = K\\lambda_k\\lambda_l\\{(2-\\pi_k-\\pi_l)\\,e_{n-2}(A) + g_{n-2}(A)\\}`, with
  :math:`A = U\\setminus\\{k,l\\}`, :math:`e_m` the elementary symmetric polynomial of the
  :math:`\\lambda` and :math:`g_m(A) = \\sum_{s\\subset A,|s|=m}\\prod_s\\lambda\\sum_s(1-\\pi)`,
  both computed exactly by products of dual-number polynomials :math:`1 + (\\lambda_j + \\varepsilon\\pi_j)z`.
* ``conditional_poisson`` (maximum entropy): see :mod:`sampling.conditional_poisson`.
* ``tille`` (elimination procedure, Tillé 1996): at step :math:`i = N-1, \\dots, n` unit :math:`k` is
  eliminated with probability :math:`r_{ki} = 1 - \\pi_k(i)/\\pi_k(i+1)`, where :math:`\\pi(i)` are
  the π-ps probabilities for sample size :math:`i`; hence
  :math:`\\pi_{kl} = \\prod_{i=n}^{N-1}(1 - r_{ki} - r_{li})`.

Approximations (no closed form exists for the method)
-----------------------------------------------------
* ``hajek``: :math:`\\pi_{kl} \\approx \\pi_k\\pi_l\\{1 - (1-\\pi_k)(1-\\pi_l)/d\\}`,
  :math:`d = \\sum_j \\pi_j(1-\\pi_j)` (Hájek 1964), for high-entropy designs (Brewer, cube).
* ``brewer``: Brewer & Donadio (2003, eq. 18),
  :math:`\\pi_{kl} \\approx \\pi_k\\pi_l(c_k + c_l)/2`,
  :math:`c_k = (n-1)/\\{n - (2n-1)\\pi_k/(n-1) + \\sum_j\\pi_j^2/(n-1)\\}`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from sampling._validate import check_pi, fixed_size
from sampling.conditional_poisson import pairwise_from_odds, working_odds
from sampling.probabilities import inclusion_probabilities
from surveycore import SurveyError
from surveycore.checks import check_option

JointMethod = Literal[
    "srs", "poisson", "systematic", "sampford", "conditional_poisson", "tille", "hajek", "brewer"
]
JOINT_METHODS = ("srs", "poisson", "systematic", "sampford", "conditional_poisson",
                 "maxentropy", "tille", "hajek", "brewer", "pps_systematic")
_EXACT_LIMIT = 4e9  # work units (N^2 n / 2) above which exact Sampford/Tillé pi2 refuse


def joint_inclusion_probabilities(
    pi: Any, method: JointMethod = "conditional_poisson", *, cps_tol: float | None = None
) -> np.ndarray:
    """Matrix of joint inclusion probabilities :math:`\\pi_{kl}` (diagonal :math:`\\pi_k`).

    Parameters
    ----------
    pi : array-like
        First-order inclusion probabilities, in [0, 1]; for fixed-size methods they must sum to
        the sample size. For ``systematic`` the units must be in selection order.
    method : str
        ``systematic`` (alias ``pps_systematic``), ``sampford``, ``conditional_poisson`` (alias
        ``maxentropy``), ``tille``, ``srs`` and ``poisson`` are exact; ``hajek`` and ``brewer`` are
        approximations (for Brewer's method and the cube method, which have no closed form).
    cps_tol : float, optional
        Conditional Poisson only: ``None`` (default) solves the working probabilities to machine
        precision; a number stops Tillé's iteration there, as R ``sampling::UPmaxentropypi2``
        does with ``1e-6`` (use it to reproduce R's figures).

    Returns
    -------
    numpy.ndarray
        Symmetric ``N × N`` matrix.
    """
    if method == "cube":
        raise SurveyError("the cube method has no closed-form joint probabilities",
                          argument="method", expected="an exact method or an approximation",
                          found="'cube'", hint="use method='hajek' (Hájek's approximation)")
    method = check_option(method, JOINT_METHODS, "method")
    method = {"maxentropy": "conditional_poisson", "pps_systematic": "systematic"}.get(method, method)
    p = check_pi(pi)
    if method == "poisson":
        out = np.outer(p, p)
        np.fill_diagonal(out, p)
        return out
    n = fixed_size(p)
    if method == "systematic":
        return _systematic(p)
    if method == "srs":
        if not np.allclose(p, p[0]):
            raise SurveyError("srs needs equal inclusion probabilities", argument="pi",
                              expected="all pi equal to n/N", found=f"range {p.min():g}–{p.max():g}")
        N = p.size
        out = np.full((N, N), n * (n - 1) / (N * (N - 1)) if N > 1 else 0.0)
        np.fill_diagonal(out, p)
        return out
    return _with_certainty(p, n, method, cps_tol)


def _with_certainty(p: np.ndarray, n: int, method: str, cps_tol: float | None = None) -> np.ndarray:
    """Apply a method to the units with 0 < π < 1; certainty units pair with π_l."""
    N = p.size
    out = np.zeros((N, N))
    one = p >= 1 - 1e-12
    mid = (p > 1e-15) & ~one
    idx = np.flatnonzero(mid)
    m = n - int(one.sum())
    q = p[idx]
    if idx.size:
        if method == "conditional_poisson":
            sub = _cps(q, m, cps_tol)
        else:
            sub = {"sampford": _sampford, "tille": _tille, "hajek": _hajek,
                   "brewer": _brewer}[method](q, m)
        out[np.ix_(idx, idx)] = sub
    out[one, :] = p[None, :]
    out[:, one] = p[:, None]
    np.fill_diagonal(out, p)
    return out


def _systematic(p: np.ndarray) -> np.ndarray:
    V = np.cumsum(p)
    V = np.r_[0.0, V]
    cuts = np.unique(np.r_[0.0, np.mod(V, 1.0), 1.0])
    cuts = cuts[(cuts >= 0) & (cuts <= 1)]
    length = np.diff(cuts)
    keep = length > 1e-14
    mid = ((cuts[:-1] + cuts[1:]) / 2)[keep]
    length = length[keep]
    A = (np.ceil(V[None, 1:] - mid[:, None]) - np.ceil(V[None, :-1] - mid[:, None]))
    A = (A > 0).astype(float)
    out = A.T @ (A * length[:, None])
    np.fill_diagonal(out, p)
    return out


def _times_linear(E: np.ndarray, G: np.ndarray, lam: float, eps: float) -> None:
    """Multiply dual polynomials ``(E, G)`` (coefficients on the last axis) by
    :math:`1 + (\\lambda + \\varepsilon\\,e) z`, truncated at their degree, in place."""
    G[..., 1:] += lam * G[..., :-1] + eps * E[..., :-1]
    E[..., 1:] += lam * E[..., :-1]


def _pair_polys(lam: np.ndarray, eps: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """For every pair k<l (``np.triu_indices`` order): coefficient ``degree`` of the dual
    polynomial :math:`\\prod_{j\\notin\\{k,l\\}} (1 + (\\lambda_j + \\varepsilon\\,e_j) z)`.

    The product over :math:`U\\setminus\\{k,l\\}` is split as (units before ``l`` except ``k``)
    × (units after ``l``). Sweeping ``l`` upwards, the first factor of every ``k < l`` is updated by
    one multiplication and the suffix products are tabulated once, so the cost is
    :math:`O(N^2 n)` with only sums of products of positive terms (no polynomial division, hence no
    cancellation).
    """
    N = lam.size
    d = degree
    # suffix[l] = prod over j > l, coefficients 0..d (E and G parts)
    sufE = np.zeros((N, d + 1))
    sufG = np.zeros((N, d + 1))
    runE = np.zeros(d + 1)
    runG = np.zeros(d + 1)
    runE[0] = 1.0
    for l in range(N - 1, -1, -1):
        sufE[l] = runE
        sufG[l] = runG
        _times_linear(runE, runG, lam[l], eps[l])
    # Q rows k < l hold prod over j < l, j != k; row l is set to prod over j < l when l is passed
    QE = np.zeros((N, d + 1))
    QG = np.zeros((N, d + 1))
    preE = np.zeros(d + 1)
    preG = np.zeros(d + 1)
    preE[0] = 1.0
    outE = np.empty(N * (N - 1) // 2)
    outG = np.empty_like(outE)
    # triu_indices order is row k, then l; fill column l of every row k < l
    row_start = np.r_[0, np.cumsum(np.arange(N - 1, 0, -1))]
    for l in range(N):
        if l > 0:
            revE = sufE[l, ::-1]
            revG = sufG[l, ::-1]
            e = QE[:l] @ revE
            g = QG[:l] @ revE + QE[:l] @ revG
            pos = row_start[:l] + (l - np.arange(l) - 1)
            outE[pos] = e
            outG[pos] = g
            _times_linear(QE[:l], QG[:l], lam[l], eps[l])
        QE[l] = preE
        QG[l] = preG
        _times_linear(preE, preG, lam[l], eps[l])
    return outE, outG


def _full_poly(lam: np.ndarray, eps: np.ndarray, degree: int) -> tuple[float, float]:
    E = np.zeros(degree + 1)
    G = np.zeros(degree + 1)
    E[0] = 1.0
    for j in range(lam.size):
        G[1:] = G[1:] + lam[j] * G[:-1] + eps[j] * E[:-1]
        E[1:] = E[1:] + lam[j] * E[:-1]
    return E[degree], G[degree]


def _check_exact_cost(N: int, n: int, method: str) -> None:
    if N ** 2 * max(n, 1) / 2 > _EXACT_LIMIT:
        raise SurveyError(
            f"exact {method} joint probabilities are too costly for this many units",
            argument="pi",
            expected=f"N^2·n/2 below {_EXACT_LIMIT:.0e}",
            found=f"N = {N}, n = {n}",
            hint="use method='hajek' or 'brewer' (approximations), or conditional Poisson, whose "
            "exact formula is O(N^2)",
        )


def _sampford(p: np.ndarray, n: int) -> np.ndarray:
    N = p.size
    if n <= 1:
        out = np.zeros((N, N))
        np.fill_diagonal(out, p)
        return out
    _check_exact_cost(N, n, "Sampford")
    lam = p / (1 - p)
    c = 1.0 / lam.max()  # homogeneous scaling keeps the products finite
    lam_c = lam * c
    eps = p * c  # lambda_j (1 - pi_j) = pi_j
    _, g_n = _full_poly(lam_c, eps, n)
    E, G = _pair_polys(lam_c, eps, n - 2)
    k, l = np.triu_indices(N, 1)
    val = lam_c[k] * lam_c[l] * ((2 - p[k] - p[l]) * E + G) / g_n
    out = np.zeros((N, N))
    out[k, l] = val
    out[l, k] = val
    np.fill_diagonal(out, p)
    return out


def _cps(p: np.ndarray, n: int, tol: float | None = None) -> np.ndarray:
    if n <= 1:
        out = np.zeros((p.size, p.size))
        np.fill_diagonal(out, p)
        return out
    w = working_odds(p, tol=tol)
    return pairwise_from_odds(p, w, n)


def _tille(p: np.ndarray, n: int) -> np.ndarray:
    N = p.size
    _check_exact_cost(N, 1, "Tillé")
    out = np.ones((N, N))
    upper = np.ones(N)
    for i in range(N - 1, n - 1, -1):
        lower = inclusion_probabilities(p, i)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(upper > 0, 1.0 - lower / upper, 0.0)
        out *= 1.0 - r[:, None] - r[None, :]
        upper = lower
    np.fill_diagonal(out, p)
    return np.clip(out, 0.0, 1.0)


def _hajek(p: np.ndarray, n: int) -> np.ndarray:
    d = float(np.sum(p * (1 - p)))
    out = np.outer(p, p) * (1 - np.outer(1 - p, 1 - p) / d)
    np.fill_diagonal(out, p)
    return np.clip(out, 0.0, 1.0)


def _brewer(p: np.ndarray, n: int) -> np.ndarray:
    if n <= 1:
        out = np.zeros((p.size, p.size))
        np.fill_diagonal(out, p)
        return out
    c = (n - 1) / (n - (2 * n - 1) * p / (n - 1) + np.sum(p ** 2) / (n - 1))
    out = np.outer(p, p) * (c[:, None] + c[None, :]) / 2
    np.fill_diagonal(out, p)
    return np.clip(out, 0.0, 1.0)


def joint_among(pi: np.ndarray, idx: np.ndarray, method: str) -> np.ndarray:
    """π_kl among the units ``idx`` of one population whose units have probabilities ``pi``.

    Cheaper than the full matrix where the method allows: systematic needs one column per
    selected unit, conditional Poisson the working odds of all units and the pairwise formula
    for the selected ones, Hájek and Brewer only population sums.
    """
    method = {"maxentropy": "conditional_poisson", "pps_systematic": "systematic"}.get(method, method)
    p = check_pi(pi)
    idx = np.asarray(idx, dtype=int)
    q = p[idx]
    if method == "poisson":
        out = np.outer(q, q)
    elif method == "systematic":
        V = np.r_[0.0, np.cumsum(p)]
        cuts = np.unique(np.r_[0.0, np.mod(V, 1.0), 1.0])
        length = np.diff(cuts)
        keep = length > 1e-14
        mid = ((cuts[:-1] + cuts[1:]) / 2)[keep]
        A = (np.ceil(V[None, idx + 1] - mid[:, None]) - np.ceil(V[None, idx] - mid[:, None])) > 0
        A = A.astype(float)
        out = A.T @ (A * length[keep][:, None])
    elif method == "srs":
        n, N = fixed_size(p), p.size
        out = np.full((idx.size, idx.size), n * (n - 1) / (N * (N - 1)) if N > 1 else 0.0)
    elif method in ("hajek", "brewer"):
        n = fixed_size(p)
        if method == "hajek":
            d = float(np.sum(p * (1 - p)))
            out = np.outer(q, q) * (1 - np.outer(1 - q, 1 - q) / d) if d > 0 else np.outer(q, q)
        else:
            c = (n - 1) / (n - (2 * n - 1) * q / (n - 1) + np.sum(p ** 2) / (n - 1)) if n > 1 \
                else np.zeros_like(q)
            out = np.outer(q, q) * (c[:, None] + c[None, :]) / 2
        out = np.clip(out, 0.0, 1.0)
        one = q >= 1 - 1e-12
        out[one, :] = q[None, :]
        out[:, one] = q[:, None]
    elif method == "conditional_poisson":
        n = fixed_size(p)
        one = p >= 1 - 1e-12
        midmask = (p > 1e-15) & ~one
        m = n - int(one.sum())
        out = np.outer(q, q)
        sel_mid = midmask[idx]
        if m >= 2 and sel_mid.any():
            mid_idx = np.flatnonzero(midmask)
            w = working_odds(p[mid_idx])
            where = np.searchsorted(mid_idx, idx[sel_mid])  # positions among the 0<π<1 units
            rows = pairwise_from_odds(p[mid_idx], w, m, rows=where)[:, where]
            out[np.ix_(sel_mid, sel_mid)] = (rows + rows.T) / 2
        elif sel_mid.any():
            out[np.ix_(sel_mid, sel_mid)] = 0.0
        sel_one = one[idx]
        out[sel_one, :] = q[None, :]
        out[:, sel_one] = q[:, None]
    else:
        out = joint_inclusion_probabilities(p, method)[np.ix_(idx, idx)]
    np.fill_diagonal(out, q)
    return out
