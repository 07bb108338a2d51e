"""One grouping kernel: rows factorised once into groups, then sizes, sums and fractions.

Every layer groups rows the same way — clusters of a sampling stage, strata, domains,
post-strata, raking cells — and needs the same few things from a grouping: how many rows each
group holds, the first row of each group, a sparse indicator matrix, group sums of one or many
columns, and the finite population factor ``1 − n/N``. :class:`Groups` computes each of them once,
lazily, from integer codes (``pandas.factorize`` on the way in).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from surveycore.checks import check_distinct_labels

__all__ = ["Groups", "finite_population_factor", "joined_labels", "sums_in_blocks"]

# rows per block where a pass over the rows is done in blocks: the block's temporaries stay
# in the processor's cache instead of taking fresh memory the size of the data
_BLOCK = 1 << 17


def finite_population_factor(n: np.ndarray, popsize: np.ndarray) -> np.ndarray:
    """``1 − n/N`` elementwise; one where ``N`` is infinite (sampling with replacement).

    Parameters
    ----------
    n : ndarray
        Number of units sampled.
    popsize : ndarray
        Population size ``N`` (``inf`` when no finite population correction applies).
    """
    n = np.asarray(n, dtype=float)
    popsize = np.asarray(popsize, dtype=float)
    finite = np.isfinite(popsize)
    out = np.ones(np.broadcast(n, popsize).shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.copyto(out, (popsize - n) / popsize, where=finite)
    return out


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted codes of integers through a presence table, or None when their range is too wide.

    Values already in order whose every value between the first and the last is present
    (e.g. cluster numbers 1 … C of a file sorted by cluster) are their own codes, found by
    comparing neighbours.
    """
    if values.size > 1 and values[0] < values[-1]:
        if _ordered_steps_of_one(values):
            lo = int(values[0])
            if lo == 0 and values.dtype == np.int64 and not values.flags.writeable:
                codes = values  # already its codes, and nobody can change them (read-only)
            else:
                codes = np.subtract(values, lo, dtype=np.int64)  # a new array, never the caller's
            return codes, np.arange(lo, int(values[-1]) + 1).astype(values.dtype, copy=False)
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span > max(4 * values.size, 1 << 16):
        return None
    shifted = values.astype(np.int64, copy=False) - lo if lo else values.astype(np.int64, copy=False)
    present = np.zeros(span, dtype=bool)
    present[shifted] = True
    seen = np.flatnonzero(present)
    if seen.size == span:  # every value in the range present: the shifted values are the codes
        if shifted is values and values.flags.writeable:  # never share a caller's writable array
            shifted = shifted.copy()
        return shifted, (seen + lo).astype(values.dtype, copy=False)
    rank = np.empty(span, dtype=np.int64)  # only the pages of present values are touched
    rank[seen] = np.arange(seen.size)
    return rank[shifted], (seen + lo).astype(values.dtype, copy=False)


def _ordered_steps_of_one(values: np.ndarray) -> bool:
    """Whether ``values`` never decrease and never jump by more than one (then every value
    between the first and the last is present), checked block by block with an early exit.

    Never decreasing, the values step by exactly one at each change when the number of
    changes equals ``last − first``; only comparisons (no differences that could wrap around
    in unsigned types) and small boolean temporaries.
    """
    changes = 0
    for start in range(0, values.size - 1, _BLOCK):
        block = values[start : start + _BLOCK + 1]
        if (block[1:] < block[:-1]).any():
            return False
        changes += int(np.count_nonzero(block[1:] != block[:-1]))
    return changes == int(values[-1]) - int(values[0])


def _changes(values: np.ndarray, limit: int) -> np.ndarray | None:
    """Rows ``i ≥ 1`` where ``values[i] ≠ values[i − 1]``, found block by block; None as soon
    as there are more than ``limit`` of them."""
    found, count = [], 0
    for start in range(0, values.size - 1, _BLOCK):
        block = values[start : start + _BLOCK + 1]
        at = np.flatnonzero(block[1:] != block[:-1])
        count += at.size
        if count > limit:
            return None
        found.append(at + (start + 1))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _key_codes(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0 .. G−1`` of non-negative ``key`` in the order of its distinct values, and
    those values (sorted); ``key`` is overwritten.

    When the key and the row number fit together in 63 bits, both are packed in one integer
    and sorted by value (a vectorised sort, several times faster than an indirect one), and
    the sorted array is read block by block — codes scattered to the rows, distinct keys
    collected — so that nothing else of the rows' length is formed; otherwise an indirect
    stable sort.
    """
    n = key.size
    shift = max(int(n - 1).bit_length(), 1)
    top = int(key.max()) if n else 0
    codes = np.empty(n, dtype=np.int64)
    if top.bit_length() + shift > 63:
        order = np.argsort(key, kind="stable")
        key = key[order]
        new = np.empty(n, dtype=bool)
        if n:
            new[0] = True
            np.not_equal(key[1:], key[:-1], out=new[1:])
        rank = np.cumsum(new, dtype=np.int64)
        rank -= 1
        codes[order] = rank
        return codes, key[new]
    packed = key
    packed <<= shift
    for start in range(0, n, _BLOCK):  # the row numbers in the low bits
        packed[start : start + _BLOCK] |= np.arange(start, min(start + _BLOCK, n), dtype=np.int64)
    packed.sort()
    mask = (1 << shift) - 1
    parts = []
    count, last = 0, -1
    for start in range(0, n, _BLOCK):
        block = packed[start : start + _BLOCK]
        k = block >> shift
        new = np.empty(k.size, dtype=bool)
        new[0] = k[0] != last
        np.not_equal(k[1:], k[:-1], out=new[1:])
        rank = np.cumsum(new, dtype=np.int64)
        rank += count - 1
        codes[block & mask] = rank
        parts.append(k[new])
        count, last = int(rank[-1]) + 1, int(k[-1])
    return codes, np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class Groups:
    """Rows ``0 .. n−1`` grouped by integer codes ``0 .. G−1``.

    Parameters
    ----------
    codes : ndarray of int (n,)
        Group of each row; ``-1`` marks a row in no group (left out of sums and sizes).
    n_groups : int, optional
        Number of groups (default: ``max(codes) + 1``).

    Examples
    --------
    >>> import numpy as np
    >>> g = Groups(np.array([1, 0, 1, -1]))
    >>> g.sizes.tolist(), g.first_row.tolist(), g.sum(np.array([1.0, 2.0, 3.0, 4.0])).tolist()
    ([1, 2], [1, 0], [2.0, 4.0])
    """

    def __init__(self, codes: np.ndarray, n_groups: int | None = None) -> None:
        codes = np.asarray(codes, dtype=np.int64).view()  # a read-only view, the caller's array untouched
        codes.flags.writeable = False
        self.codes = codes
        self.n_groups = int(codes.max()) + 1 if n_groups is None and codes.size else int(n_groups or 0)

    @classmethod
    def factorize(cls, values: object, *, sort: bool = True) -> tuple[Groups, np.ndarray]:
        """Group rows by the distinct values of ``values`` (missing values: in no group).

        Integers whose range is at most a few times the number of rows are coded through a
        presence table (``O(n)``, no hashing, codes already in sorted order); other values are
        hashed once (``pandas.factorize``) and, with ``sort``, only the distinct values are sorted.
        """
        array = values.to_numpy() if (
            isinstance(values, pd.Series) and isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub"
        ) else values
        if isinstance(array, np.ndarray) and array.dtype.kind in "iub" and array.size:
            dense = _dense_codes(array)
            if dense is not None:
                return cls(dense[0], len(dense[1])), dense[1]
        codes, uniques = pd.factorize(pd.Series(values), sort=False)
        check_distinct_labels(uniques, getattr(values, "name", None))
        if sort and len(uniques) > 1:
            try:
                order = np.argsort(np.asarray(uniques), kind="stable")
            except TypeError:  # values of mixed types: pandas' ordering
                codes, uniques = pd.factorize(pd.Series(values), sort=True)
            else:
                rank = np.empty(len(order), dtype=np.int64)
                rank[order] = np.arange(len(order))
                codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1) if (codes < 0).any() else rank[codes]
                uniques = np.asarray(uniques)[order]
        return cls(codes, len(uniques)), np.asarray(uniques)

    @classmethod
    def pairs(cls, first: np.ndarray, n_first: int, second: np.ndarray, n_second: int) -> tuple[Groups, np.ndarray, np.ndarray]:
        """Group rows by the pairs ``(first, second)`` present (rows with ``second < 0``: in no group).

        Codes follow the lexicographic order of the pairs. A small key space
        ``n_first × n_second`` is coded through a presence table (``O(n)``); a large one by
        one sort of the keys with the row number packed into their low bits (no hashing, no
        indirect sort), see :func:`_key_codes`.

        Returns
        -------
        groups : Groups
            Rows grouped by pair.
        first, second : ndarray of int (G,)
            The pair of each group.
        """
        first = np.asarray(first, dtype=np.int64)
        second = np.asarray(second, dtype=np.int64)
        inside = second >= 0
        rows = np.flatnonzero(inside) if not inside.all() else None
        a = first if rows is None else first[rows]
        b = second if rows is None else second[rows]
        size = n_first * n_second
        if size <= max(2 * a.size, 1 << 20):  # small key space: presence table
            key = a * n_second + b
            present = np.zeros(size, dtype=bool)
            present[key] = True
            uniq = np.flatnonzero(present)
            rank = np.empty(size, dtype=np.int64)  # only the pages of present keys are touched
            rank[uniq] = np.arange(uniq.size)
            codes = rank[key]
            pair_first, pair_second = np.divmod(uniq, n_second)
        else:
            key = a * np.int64(n_second)
            key += b
            codes, pair_first = _key_codes(key)
            del key
            pair_second = pair_first % n_second
            pair_first //= n_second
        if rows is not None:
            full = np.full(first.size, -1, dtype=np.int64)
            full[rows] = codes
            codes = full
        return cls(codes, pair_first.size), pair_first, pair_second

    @property
    def n(self) -> int:
        return self.codes.shape[0]

    @cached_property
    def _inside(self) -> np.ndarray | None:
        if not self.codes.size or self.codes.min() >= 0:  # a reduction, no mask of the rows
            return None
        return self.codes >= 0

    @cached_property
    def run_starts(self) -> np.ndarray | None:
        """First row of each group when the rows are sorted by group and every group holds
        rows (then a group is a run of consecutive rows, e.g. clusters of a file sorted by
        cluster); None otherwise. Found in one comparison of neighbouring codes."""
        c, G = self.codes, self.n_groups
        if G == 0 or c.size == 0 or c[0] != 0 or c[-1] != G - 1:
            return None
        probe = c[:: max(c.size // 64, 1)]  # rows out of order are usually seen in a sample
        if (probe[1:] < probe[:-1]).any():
            return None
        starts = _changes(c, G - 1)
        if starts is None or starts.size != G - 1 or not (c[starts] == np.arange(1, G)).all():
            return None
        out = np.concatenate([[0], starts])
        out.flags.writeable = False
        return out

    @cached_property
    def sizes(self) -> np.ndarray:
        """Number of rows in each group (G,)."""
        if self.run_starts is not None:
            return np.diff(self.run_starts, append=self.n)
        codes = self.codes if self._inside is None else self.codes[self._inside]
        return np.bincount(codes, minlength=self.n_groups)

    @cached_property
    def first_row(self) -> np.ndarray:
        """Index of the first row of each group (G,); ``-1`` for an empty group."""
        if self.run_starts is not None:
            return self.run_starts
        out = np.full(self.n_groups, -1, dtype=np.int64)
        # blocks from the last to the first, each scattered backwards, so that the first row of
        # a group is written last; blocks keep the temporaries small (no array of n row numbers)
        everywhere = self._inside is None
        for stop in range(self.n, 0, -_BLOCK):
            start = max(stop - _BLOCK, 0)
            rows = np.arange(stop - 1, start - 1, -1)
            codes = self.codes[stop - 1 : start - 1 if start else None : -1]
            if everywhere:
                out[codes] = rows
            else:
                keep = codes >= 0
                out[codes[keep]] = rows[keep]
        return out

    @cached_property
    def indicator(self) -> sp.csc_matrix:
        """Sparse (G × n) indicator matrix: entry ``(g, i)`` is one when row ``i`` is in ``g``."""
        return self.weighted_indicator(np.ones(self.n))

    def weighted_indicator(self, values: np.ndarray) -> sp.csc_matrix:
        """Sparse (G × n) matrix with ``values[i]`` at ``(g(i), i)`` (column-compressed, no sort)."""
        inside = self.codes >= 0
        indptr = np.concatenate([[0], np.cumsum(inside)]).astype(np.int64)
        return sp.csc_matrix(
            (np.asarray(values, dtype=float)[inside], self.codes[inside], indptr), shape=(self.n_groups, self.n)
        )

    def sum(self, values: np.ndarray | sp.spmatrix) -> np.ndarray | sp.spmatrix:
        """Group sums of ``values`` (n,), (n, k) or sparse (n, k): (G,), (G, k) or sparse (G, k)."""
        if sp.issparse(values):
            return (self.indicator @ values).tocsr()
        if values.ndim == 2 and not values.flags.c_contiguous:
            values = np.ascontiguousarray(values)
        values = np.asarray(values, dtype=float)
        if values.ndim == 2 and values.shape[1] == 1:  # one column: its sums as a column (no copy)
            return self.sum(values[:, 0])[:, None]
        if self.run_starts is not None and values.ndim == 1:  # runs: sums of consecutive rows
            return np.add.reduceat(values, self.run_starts)
        if values.ndim == 1:
            codes, v = self._rows(values)
            return np.bincount(codes, weights=v, minlength=self.n_groups)
        if values.shape[1] <= 4:
            codes, v = self._rows(values)
            out = np.empty((self.n_groups, values.shape[1]))
            for j in range(values.shape[1]):
                out[:, j] = np.bincount(codes, weights=v[:, j], minlength=self.n_groups)
            return out
        return np.asarray(self.indicator @ values)

    def _rows(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._inside is None:
            return self.codes, values
        return self.codes[self._inside], values[self._inside]

    def sum_blocks(self, values: Callable[[slice], np.ndarray]) -> np.ndarray:
        """Group sums (G,) of a row-length vector produced block by block: ``values(rows)``
        returns the values of the rows in the slice ``rows`` (see :func:`sums_in_blocks`).

        Products of several row-length arrays are summed without forming them at full length,
        each block's temporaries staying in cache.
        """
        return sums_in_blocks([self], lambda start, stop: values(slice(start, stop))[:, None], self.n, 1)[0][:, 0]

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Unweighted group means (zero for an empty group)."""
        s = self.sum(values)
        n = self.sizes.astype(float)
        n = n if np.ndim(s) == 1 else n[:, None]
        return np.divide(s, n, out=np.zeros_like(s), where=n > 0)

    def varies(self, values: np.ndarray) -> bool:
        """Whether ``values`` (n,) differ between rows of one group (every row in a group).

        When the groups are runs of rows (:attr:`run_starts`), ``values`` may change only
        where a run starts: one comparison of neighbouring values, no gather.
        """
        starts = self.run_starts
        if starts is not None:
            change = _changes(values, starts.size - 1)
            if change is None:  # more changes than runs have boundaries
                return True
            at = np.minimum(np.searchsorted(starts, change), starts.size - 1)
            return bool((starts[at] != change).any())
        first = values[self.first_row]
        for start in range(0, self.n, _BLOCK):  # in blocks: no gathered copy of the rows
            stop = start + _BLOCK
            if (first[self.codes[start:stop]] != values[start:stop]).any():
                return True
        return False

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Whether each group holds at least one row where ``mask`` is true (G,) bool."""
        codes, m = self._rows(np.asarray(mask, dtype=bool))
        return np.bincount(codes[m], minlength=self.n_groups) > 0

    def all(self, mask: np.ndarray) -> np.ndarray:
        """Whether every row of each group has ``mask`` true (empty groups: True)."""
        return ~self.any(~np.asarray(mask, dtype=bool))

    def fpc(self, popsize: np.ndarray) -> np.ndarray:
        """``1 − n_g/N_g`` per group for population sizes ``popsize`` (G,), see
        :func:`finite_population_factor`."""
        return finite_population_factor(self.sizes, popsize)

    def count_distinct(self, other: np.ndarray, n_other: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Number of distinct ``other`` codes among the rows of each group (where ``mask``).

        Pairs ``(group, other)`` are counted in a presence table when ``G × n_other`` is small,
        else by sorting their keys once and counting changes (no hashing).
        """
        keep = self.codes >= 0
        if mask is not None:
            keep &= np.asarray(mask, dtype=bool)
        key = self.codes[keep] * np.int64(n_other) + np.asarray(other, dtype=np.int64)[keep]
        if key.size == 0:
            return np.zeros(self.n_groups, dtype=np.int64)
        size = self.n_groups * n_other
        if size <= max(4 * key.size, 1 << 20):  # small key space: presence table
            present = np.bincount(key, minlength=size).reshape(self.n_groups, n_other) > 0
            return present.sum(axis=1)
        key.sort()
        new = np.empty(key.size, dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        return np.bincount(key[new] // n_other, minlength=self.n_groups)


def sums_in_blocks(groupings: list[Groups], block: Callable[[int, int], np.ndarray], n: int, k: int) -> list[np.ndarray]:
    """Group sums of a matrix that is only ever formed ``_BLOCK`` rows at a time.

    ``block(start, stop)`` returns rows ``start:stop`` of an (n, k) matrix (e.g. linearised
    scores); each grouping's (G, k) sums are accumulated block by block, so the matrix never
    takes memory the size of the data. Rows with code ``-1`` are in no group. Rows sorted by
    group are summed run by run (``reduceat``); otherwise a block counts only the codes it
    holds (``bincount`` over their range).
    """
    outs = [np.zeros((g.n_groups, k)) for g in groupings]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        values = np.asarray(block(start, stop), dtype=float)
        for g, out in zip(groupings, outs):
            runs = g.run_starts
            if runs is not None:  # the runs starting in the block, and the one it begins inside
                first, last = np.searchsorted(runs, [start, stop])
                local = runs[first:last] - start
                if not local.size or local[0]:
                    local = np.concatenate([[0], local])
                out[g.codes[start + local]] += np.add.reduceat(values, local, axis=0)
                continue
            codes, rows = g.codes[start:stop], values
            if g._inside is not None:  # rows in no group left out
                keep = codes >= 0
                codes, rows = codes[keep], values[keep]
                if not codes.size:
                    continue
            lo, hi = int(codes.min()), int(codes.max())
            local = codes - lo if lo else codes
            for j in range(k):
                out[lo : hi + 1, j] += np.bincount(local, weights=rows[:, j], minlength=hi - lo + 1)
    return outs


def joined_labels(frame: pd.DataFrame, columns: list[str], sep: str) -> pd.Series:
    """One text label per row joining the values of ``columns`` with ``sep`` (e.g. a stratum
    label ``"North:urban"``), built once per distinct combination instead of once per row.

    Each column is factorised, the combination codes are made unique, and only the distinct
    combinations are joined as text, so the cost is that of a factorisation, not of a
    row-by-row string operation.
    """
    factorised = [pd.factorize(frame[c].astype(str), sort=False) for c in columns]
    codes = np.zeros(len(frame), dtype=np.int64)
    for col_codes, col_uniques in factorised:
        codes = codes * len(col_uniques) + col_codes
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    text = np.array([sep.join(str(u[rc[i]]) for rc, u in factorised) for i in first],
                    dtype=object)
    return pd.Series(text[inverse.ravel()], index=frame.index)
