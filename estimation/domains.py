"""Domains: the cells of the ``by`` variables, factorised once per call."""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveycore.checks import check_columns


def factorize_domains(data: pd.DataFrame, by: list[str], active: np.ndarray) -> tuple[np.ndarray | None, pd.DataFrame]:
    """Domain codes for the ``by`` columns.

    Parameters
    ----------
    data : DataFrame
    by : list of str
        Columns defining the domains (empty: one domain).
    active : ndarray of bool (n,)
        Rows that may belong to a domain (positive weight); only cells holding at least one
        active row are domains.

    Returns
    -------
    codes : ndarray of int (n,) or None
        Domain of each row in ``0 .. D-1``; ``-1`` for rows outside every domain (inactive rows
        or a missing ``by`` value). None when ``by`` is empty.
    labels : DataFrame (D, len(by))
        The ``by`` values of each domain, sorted.
    """
    if not by:
        return None, pd.DataFrame(index=[0])
    check_columns(data, by, "by")
    frame = data[by]
    ok = active & frame.notna().all(axis=1).to_numpy()
    codes = np.full(len(frame), -1, dtype=np.int64)
    if len(by) == 1:
        sub_codes, uniques = pd.factorize(frame[by[0]][ok], sort=True)
        codes[ok] = sub_codes
        labels = pd.DataFrame({by[0]: uniques})
    else:
        sub = frame[ok]
        grouped = sub.groupby(by, sort=True, observed=True)
        codes[ok] = grouped.ngroup().to_numpy(np.int64)
        labels = grouped.size().reset_index()[by]
    return codes, labels.reset_index(drop=True)
