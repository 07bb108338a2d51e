"""Domains: the cells of the ``by`` variables.

The cells of a set of ``by`` columns are coded once per design (the data never change) and
each estimate only keeps the cells that hold rows of its own domain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveycore.checks import check_columns


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

    def cells(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Code of every row (``-1`` where a ``by`` value is missing) and the sorted cell labels."""
        key = tuple(by)
        if key not in self._cache:
            check_columns(self._data, by, "by")
            frame = self._data[by]
            if len(by) == 1:
                codes, uniques = pd.factorize(frame[by[0]], sort=True)
                labels = pd.DataFrame({by[0]: uniques})
            else:
                grouped = frame.groupby(by, sort=True, observed=True, dropna=True)
                codes = grouped.ngroup().to_numpy()
                codes = np.where(np.isnan(codes.astype(float)), -1, codes)
                labels = grouped.size().reset_index()[by]
            self._cache[key] = (np.asarray(codes, dtype=np.int64), labels.reset_index(drop=True))
        return self._cache[key]

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
        live = np.where(active, codes, -1)
        present = np.bincount(live + 1, minlength=len(labels) + 1)[1:] > 0
        if present.all():
            return live, labels
        remap = np.where(present, np.cumsum(present) - 1, -1)
        out = np.where(live >= 0, remap[np.maximum(live, 0)], -1)
        return out, labels[present].reset_index(drop=True)
