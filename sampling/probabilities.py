"""First-order inclusion probabilities proportional to size, with certainty units.

For a measure of size :math:`x_k \\ge 0` and a sample size :math:`n`,

.. math:: \\pi_k = \\min\\Bigl(1,\\; (n - c)\\, x_k \\big/ \\textstyle\\sum_{j \\notin C} x_j\\Bigr),

where :math:`C` is the set of certainty units (:math:`\\pi_k = 1`) and :math:`c = |C|`. The set
:math:`C` is found iteratively: units whose probability reaches 1 are taken with certainty and the
remaining sample is spread over the others, until no probability exceeds 1 (Tillé 2006, §2.10;
R ``sampling::inclusionprobabilities``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sampling._validate import check_n, check_sizes


def inclusion_probabilities(size: Any, n: int) -> np.ndarray:
    """Inclusion probabilities proportional to ``size`` summing to ``n``; certainty units iterated.

    Parameters
    ----------
    size : array-like
        Measures of size, finite and non-negative (zeros get probability 0).
    n : int
        Sample size; at most the number of units with a positive size.

    Returns
    -------
    numpy.ndarray or pandas.Series
        :math:`\\pi_k \\in [0, 1]` with :math:`\\sum_k \\pi_k = n`; a Series (same index,
        name ``pi``) when ``size`` is a Series.

    Examples
    --------
    >>> inclusion_probabilities([1, 1, 8], 2).tolist()
    [0.5, 0.5, 1.0]
    """
    x = check_sizes(size, "size")
    n = check_n(n, x.size, positive_sizes=int((x > 0).sum()))
    pi = np.zeros_like(x)
    if n == 0:
        return pd.Series(pi, index=size.index, name="pi") if isinstance(size, pd.Series) else pi
    certain = np.zeros(x.size, dtype=bool)
    while True:
        rest = ~certain & (x > 0)
        k = n - int(certain.sum())
        pi[rest] = k * x[rest] / x[rest].sum()
        pi[certain] = 1.0
        new = rest & (pi >= 1.0)
        if not new.any():
            break
        certain |= new
    return pd.Series(pi, index=size.index, name="pi") if isinstance(size, pd.Series) else pi
