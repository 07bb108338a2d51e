"""Option checks shared by the :class:`weighting.Weights` methods (one error template each)."""

from __future__ import annotations

from typing import Any

import numpy as np

from surveycore import SurveyError

_TOL_UNITS = ("relative", "absolute")
_RELATIVE_TO = ("value", "mean", "median")
_REDISTRIBUTE = ("equal", "proportional", "none")
_PROPENSITY = ("inverse", "classes")


def _bounds(bounds: Any, method: str) -> tuple[float, float]:
    if bounds is None:
        lower, upper = -np.inf, np.inf
    else:
        try:
            lower, upper = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise SurveyError(
                "bounds must be a pair (lower, upper) of g-weight limits",
                argument="bounds",
                expected="(lower, upper), e.g. (0.5, 2.0)",
                found=repr(bounds),
            ) from None
    if np.isnan(lower) or np.isnan(upper) or lower >= upper:
        raise SurveyError(
            "bounds must satisfy lower < upper",
            argument="bounds",
            expected="lower < upper",
            found=repr(bounds),
        )
    if method in ("logit", "truncated", "sinh") and not (np.isfinite(lower) and np.isfinite(upper)):
        raise SurveyError(
            f"{method} calibration needs finite bounds",
            argument="bounds",
            expected="(lower, upper) with finite values, lower < 1 < upper",
            found=repr(bounds),
        )
    if method == "logit" and not (lower < 1 < upper):
        raise SurveyError(
            "logit calibration needs lower < 1 < upper",
            argument="bounds",
            expected="lower < 1 < upper",
            found=repr(bounds),
        )
    if method == "raking" and lower < 0:
        lower = max(lower, 0.0)
    return lower, upper


def _refuse_unknown(status: np.ndarray, w: np.ndarray) -> None:
    stranded = (status == 3) & (w > 0)
    if stranded.any():
        raise SurveyError(
            "unknown-eligibility cases still carry weight", argument="disposition",
            expected="adjust_eligibility(...) before the nonresponse adjustment",
            found=f"{int(stranded.sum())} unknown-eligibility cases with positive weight")


def _positive_int(value: Any, argument: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise SurveyError(f"{argument} must be a positive integer", argument=argument,
                          expected="an integer >= 1", found=repr(value))
    return int(value)


def _positive_float(value: Any, argument: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if not np.isfinite(v) or v <= 0:
        raise SurveyError(f"{argument} must be a positive number", argument=argument,
                          expected="a finite number > 0", found=repr(value))
    return v
