"""Hadamard matrices for balanced repeated replication (BRR, Fay) and successive differences.

Matrices are returned in 0/1 form (``1`` for ``+1``, ``0`` for ``-1``), first row and column all
ones, and are chosen of the same order as R ``survey``'s ``hadamard(n)`` (Lumley 2010, §2.4.2):

* Sylvester doubling ``H → [[H, H], [H, 1 − H]]`` of the order-4 matrix (orders 4, 8, 16, …);
* Paley's construction of order ``p + 1`` for a prime ``p ≡ 3 (mod 4)`` (Paley 1933): with
  quadratic residues ``Q`` of ``p``, entry ``(i, j)`` of the core is ``+1`` when ``(i + j) mod p``
  is a residue or zero.

R also keeps two tabulated matrices of orders 28 and 36; where R would use them this module uses
the next Sylvester or Paley order instead (more replicates, the same BRR variance for linear
statistics, since every full-orthogonal-balance matrix gives Σ_h (y_h1 − y_h2)² / 4).
"""

from __future__ import annotations

import math

import numpy as np

_R_BASE_SIZES = (4, 16, 28, 36)
_MAX_PRIME = 7919


def _primes_3_mod_4(limit: int = _MAX_PRIME) -> np.ndarray:
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    primes = np.flatnonzero(sieve)
    return primes[primes % 4 == 3]


_PRIMES = _primes_3_mod_4()


def sylvester(order: int) -> np.ndarray:
    """Sylvester Hadamard matrix (0/1 form) of ``order`` (a power of two, at least 2)."""
    h = np.array([[1, 1], [1, 0]], dtype=np.int8)
    while h.shape[0] < order:
        h = double(h)
    return h


def double(h: np.ndarray) -> np.ndarray:
    """Sylvester doubling ``[[H, H], [H, 1 − H]]``."""
    return np.block([[h, h], [h, 1 - h]]).astype(np.int8)


def paley_prime(p: int) -> np.ndarray:
    """Paley type-I Hadamard matrix (0/1 form) of order ``p + 1`` for prime ``p ≡ 3 (mod 4)``."""
    residues = {0} | {(i * i) % p for i in range(1, (p - 1) // 2 + 1)}
    sums = np.add.outer(np.arange(p), np.arange(p)) % p
    core = np.where(np.isin(sums, sorted(residues)), 0, 1).astype(np.int8)
    h = np.ones((p + 1, p + 1), dtype=np.int8)
    h[1:, 1:] = core
    return h


def _paley(n: int, nmax: int | None = None) -> np.ndarray | None:
    """R's choice of a Paley-based matrix with more than ``n`` rows, or ``None``."""
    nmax = 2 * n if nmax is None else nmax
    nceil = nn = n + 4 - (n % 4)
    if (n % 4) + 4 == (n % 8):
        while nn % 8 == 0:
            nn //= 2
        if (nn - 1) in _PRIMES:
            m = paley_prime(nn - 1)
            while nn < nceil:
                m = double(m)
                nn *= 2
            return m
    if n > _MAX_PRIME:
        return None
    p = int(_PRIMES[_PRIMES >= n].min())
    if p + 1 > nceil + 4 and nceil + 4 < nmax:
        return _paley(nceil + 3)
    if p > nmax:
        return None
    return paley_prime(p)


def _smallest_available(n: int) -> np.ndarray:
    """Smallest Sylvester or Paley matrix with more than ``n`` rows."""
    order = 2 ** max(2, math.ceil(math.log2(n + 1)))
    candidates = [sylvester(order)]
    bigger = _PRIMES[_PRIMES + 1 > n]
    if len(bigger):
        p = int(bigger.min())
        if p + 1 < order:
            candidates.append(paley_prime(p))
    return min(candidates, key=lambda h: h.shape[0])


def hadamard(n: int) -> np.ndarray:
    """A Hadamard matrix with at least ``n + 1`` rows, chosen as R ``survey::hadamard(n)``.

    Parameters
    ----------
    n : int
        Number of half-sample pairs (BRR) or rows needed besides the first.

    Returns
    -------
    ndarray of int8, shape (m, m)
        0/1 Hadamard matrix; rows ``2 .. n + 1`` are the ones BRR uses.
    """
    m = n - (n % 4)
    pre = [s for s in _R_BASE_SIZES if m < s <= m + 4]
    if pre:
        size = min(pre)
        return sylvester(size) if size in (4, 16) else _smallest_available(n)
    sizes = np.array(
        [s * 2 ** max(0, math.ceil(math.log2((n + 1) / s))) for s in _R_BASE_SIZES]
    )
    best = int(np.argmin(sizes - n))
    h = None
    if sizes[best] - n > 4:
        h = _paley(n, int(sizes[best]))
    if h is None:
        if _R_BASE_SIZES[best] in (4, 16):
            h = sylvester(int(sizes[best]))
        else:
            h = _smallest_available(n)
    return h


def is_hadamard(h: np.ndarray) -> bool:
    """``True`` when the 0/1 matrix ``h`` has orthogonal ±1 rows."""
    pm = 2.0 * np.asarray(h, dtype=float) - 1.0
    k = pm.shape[0]
    return pm.shape == (k, k) and bool(np.allclose(pm @ pm.T, k * np.eye(k)))
