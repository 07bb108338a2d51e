"""Boundary checks shared by the sampling layer: sizes, sample sizes, seeds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import check_finite_total, finite_numeric


def as_rng(seed: Any) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int seed, a Generator or ``None``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    raise SurveyError(
        "seed must be an integer or a numpy Generator",
        argument="seed",
        expected="int, numpy.random.Generator or None",
        found=type(seed).__name__,
    )


def check_sizes(size: Any, argument: str = "size", *, allow_zero: bool = True) -> np.ndarray:
    """Measures of size as a float array: finite, not missing, not negative."""
    values = size if isinstance(size, pd.Series) else pd.Series(np.asarray(size, dtype=float))
    arr = finite_numeric(values, argument)
    check_finite_total(arr, argument)
    if (arr < 0).any():
        bad = np.flatnonzero(arr < 0)
        raise SurveyError(
            "measures of size must not be negative",
            argument=argument,
            expected="finite values >= 0",
            found=f"{bad.size} negative values (first at position {bad[0]}: {arr[bad[0]]:g})",
            hint="fix the frame, or drop the units before selection",
        )
    if not allow_zero and (arr == 0).any():
        raise SurveyError(
            "measures of size must be positive",
            argument=argument,
            expected="values > 0",
            found=f"{int((arr == 0).sum())} zero values",
            hint="units with a zero size can never be selected; merge them with neighbours "
            "(Frame.form_psus) or give them a small positive size",
        )
    if arr.size and arr.sum() <= 0:
        raise SurveyError(
            "measures of size sum to zero", argument=argument, expected="a positive total",
            found="all sizes are zero",
        )
    return arr


def check_n(n: Any, population: int, argument: str = "n", *, where: str = "the frame",
            positive_sizes: int | None = None) -> int:
    """A sample size: an integer between 0 and the number of selectable units."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer, float, np.floating)):
        raise SurveyError("sample size must be an integer", argument=argument,
                          expected="an integer >= 0", found=repr(n))
    if float(n) != int(n) or n < 0:
        raise SurveyError("sample size must be a whole number >= 0", argument=argument,
                          expected="an integer >= 0", found=repr(n))
    n = int(n)
    if n > population:
        raise SurveyError(
            f"sample size is larger than {where}",
            argument=argument,
            expected=f"at most {population} units",
            found=f"n = {n}",
            hint="lower n, or merge strata",
        )
    if positive_sizes is not None and n > positive_sizes:
        raise SurveyError(
            f"sample size is larger than the number of units with a positive size in {where}",
            argument=argument,
            expected=f"at most {positive_sizes} units",
            found=f"n = {n}",
            hint="units with a zero measure of size cannot be selected",
        )
    return n


def check_pi(pi: Any, argument: str = "pi") -> np.ndarray:
    """Inclusion probabilities: finite values in [0, 1]."""
    arr = finite_numeric(pd.Series(np.asarray(pi, dtype=float)), argument)
    if ((arr < 0) | (arr > 1 + 1e-12)).any():
        raise SurveyError(
            "inclusion probabilities must lie in [0, 1]",
            argument=argument,
            expected="values in [0, 1]",
            found=f"min {arr.min():g}, max {arr.max():g}",
            hint="turn sizes into probabilities with inclusion_probabilities(size, n)",
        )
    return np.minimum(arr, 1.0)


def fixed_size(pi: np.ndarray, argument: str = "pi", tol: float = 1e-6) -> int:
    """The sample size implied by probabilities that must sum to an integer."""
    total = float(pi.sum())
    n = int(round(total))
    if abs(total - n) > tol:
        raise SurveyError(
            "inclusion probabilities of a fixed-size design must sum to an integer",
            argument=argument,
            expected="sum(pi) = n",
            found=f"sum(pi) = {total:.10g}",
            hint="use method='poisson' for a random sample size",
        )
    return n
