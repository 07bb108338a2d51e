"""Domains: the cells of the ``by`` variables.

The cells of a set of ``by`` columns are coded once per design (the data never change) and
each estimate only keeps the cells that hold rows of its own domain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveycore.checks import check_columns, check_distinct_labels
from surveycore.groups import Groups


class DomainIndex:
    """Codes of the cross-classification of ``by`` columns, computed once per column set.

    Parameters
    ----------
    data : DataFrame
        The design's data (immutable for the design's lifetime).
    """

    def __init__(self, data: pd.DataFrame) -> None:
        self._data = data
        self._cache: dict[tuple[str, ...], tuple[np.ndarray, pd.DataFrame]] = {}
        self._sizes: dict[tuple[str, ...], np.ndarray] = {}

    def cells(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Code of every row (``-1`` where a ``by`` value is missing) and the sorted cell labels."""
        key = tuple(by)
        if key not in self._cache:
            check_columns(self._data, by, "by")
            small = self._small_integer_cells(by) if len(by) > 1 else None  # one column: coded directly
            if small is not None:
                codes, labels = small
            elif len(by) == 1:
                codes, uniques = self._factorize(self._data[by[0]])
                labels = pd.DataFrame({by[0]: uniques})
            else:
                codes = self._crossed(by)
                first = Groups(codes).first_row
                labels = pd.DataFrame({c: self._data[c].iloc[first].to_numpy() for c in by})
                for c in by:  # keep categorical (and other extension) dtypes of the labels
                    labels[c] = labels[c].astype(self._data[c].dtype)
            codes = np.asarray(codes, dtype=np.int64).view()
            codes.flags.writeable = False  # shared by every estimate of the design
            self._cache[key] = (codes, labels.reset_index(drop=True))
        return self._cache[key]

    def _small_integer_cells(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame] | None:
        """Cells of integer columns of narrow range (a few levels each, as codes of sex, age
        group or country), coded without any pass over the rows in 64-bit keys; None otherwise.

        Each column's values index a table of ranks of its present values (``O(n)``, no sort,
        no hashing), the ranks are combined in mixed radix in 32-bit integers, and the present
        keys are ranked once; their count per key gives the cells' sizes, and the labels are
        decoded from the keys (no row lookup).
        """
        columns = [self._data[c] for c in by]
        if not all(isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" for col in columns):
            return None
        key = None
        space = 1
        levels = []
        for col in columns:
            values = col.to_numpy()
            if not values.size:
                return None
            lo, hi = int(values.min()), int(values.max())
            span = hi - lo + 1
            if span > 1 << 16 or space * span >= 1 << 31:
                return None
            present = np.zeros(span, dtype=bool)
            present[values - lo if lo else values] = True
            seen = np.flatnonzero(present)
            rank = np.zeros(span, dtype=np.int32)
            rank[seen] = np.arange(seen.size, dtype=np.int32)
            codes = rank[values - lo if lo else values]
            if key is None:
                key = codes
            else:
                key *= np.int32(seen.size)
                key += codes
            space *= seen.size
            levels.append((seen + lo).astype(values.dtype, copy=False))
        counts = np.zeros(space, dtype=np.int64)  # counted block by block: no 64-bit copy of the keys
        for start in range(0, key.size, 1 << 20):
            counts += np.bincount(key[start : start + (1 << 20)], minlength=space)
        cells = np.flatnonzero(counts)
        rank = np.zeros(space, dtype=np.int64)
        rank[cells] = np.arange(cells.size)
        codes = rank[key]
        labels = {}
        rest = cells
        for c, lev in zip(reversed(by), reversed(levels)):
            rest, digit = np.divmod(rest, lev.size)
            labels[c] = lev[digit]
        frame = pd.DataFrame({c: labels[c] for c in by})
        for c in by:
            frame[c] = frame[c].astype(self._data[c].dtype)
        sizes = counts[cells].view()
        sizes.flags.writeable = False
        self._sizes[tuple(by)] = sizes
        return codes, frame

    @staticmethod
    def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Sorted codes of a column (``-1`` where missing) and its sorted distinct values."""
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu":
            groups, uniques = Groups.factorize(column)  # integers: a presence table, no hashing
            return groups.codes, uniques
        codes, uniques = pd.factorize(column, sort=True)
        check_distinct_labels(uniques, column.name, "by")
        return codes, uniques

    def sizes(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Rows in each domain; counted once for the cached cell codes themselves."""
        for key, (codes, _) in self._cache.items():
            if domain is codes:
                if key not in self._sizes:
                    sizes = Groups(codes, n_domains).sizes.view()
                    sizes.flags.writeable = False
                    self._sizes[key] = sizes
                return self._sizes[key]
        return Groups(domain, n_domains).sizes

    def _crossed(self, by: list[str]) -> np.ndarray:
        """Codes of the observed cells of several columns, in lexicographic order of their
        sorted levels; ``-1`` where any column is missing.

        The mixed-radix key of the columns' codes is coded once at the end, or earlier
        whenever the key space would grow past 2⁴⁰ (then coded to keep it small).
        """
        n = len(self._data)
        key = None
        space = 1
        missing = None
        for c in by:
            codes, uniques = self._factorize(self._data[c])
            levels = max(len(uniques), 1)
            if (codes < 0).any():
                missing = codes < 0 if missing is None else missing | (codes < 0)
                codes = np.maximum(codes, 0)
            if key is not None and space * levels > 1 << 40:
                groups, _ = Groups.factorize(key)  # sorted: order kept, key small
                key, space = np.asarray(groups.codes), groups.n_groups
            key = np.asarray(codes, dtype=np.int64) if key is None else key * levels + codes
            space *= levels
        if missing is None:
            return np.asarray(Groups.factorize(key)[0].codes, dtype=np.int64)
        out = np.full(n, -1, dtype=np.int64)
        out[~missing] = Groups.factorize(key[~missing])[0].codes
        return out

    def domains(self, by: list[str], active: np.ndarray) -> tuple[np.ndarray | None, pd.DataFrame]:
        """Domain codes for the ``by`` columns among ``active`` rows.

        Parameters
        ----------
        by : list of str
            Columns defining the domains (empty: one domain).
        active : ndarray of bool (n,)
            Rows that may belong to a domain (positive weight, variable observed); only cells
            holding at least one active row are domains.

        Returns
        -------
        codes : ndarray of int (n,) or None
            Domain of each row in ``0 .. D-1``; ``-1`` for rows outside every domain. None when
            ``by`` is empty.
        labels : DataFrame (D, len(by))
            The ``by`` values of each domain, sorted.
        """
        if not by:
            return None, pd.DataFrame(index=[0])
        codes, labels = self.cells(by)
        if active.all() and (len(labels) == 0 or self.sizes(codes, len(labels)).all()):
            return codes, labels  # every row active: the cached codes themselves (read-only)
        live = np.where(active, codes, -1)
        present = np.bincount(live + 1, minlength=len(labels) + 1)[1:] > 0
        if present.all():
            return live, labels
        remap = np.where(present, np.cumsum(present) - 1, -1)
        out = np.where(live >= 0, remap[np.maximum(live, 0)], -1)
        return out, labels[present].reset_index(drop=True)
