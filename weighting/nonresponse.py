"""Eligibility and nonresponse adjustment from final disposition codes.

Dispositions follow AAPOR's Standard Definitions: respondents (1.x), eligible nonrespondents
(2.x), unknown eligibility (3.x), not eligible (4.x).

- Unknown eligibility: within each class the weight of the unknown-eligibility cases is spread
  over the cases whose eligibility is known, ``f = Σ_all w / Σ_known w`` (Valliant, Dever &
  Kreuter 2018, §13.3).
- Weighting classes: within each class respondents get ``f = Σ_{R∪NR} w / Σ_R w``, eligible
  nonrespondents get 0, ineligible cases keep their weight (Kalton & Flores-Cervantes 2003).
  Classes with fewer than ``min_respondents`` respondents (or a factor above ``max_factor``)
  are merged with the neighbouring class in their sort order; every merge is recorded.
- Response propensity: a logistic model of response among eligible cases, fitted with
  statsmodels (survey-weighted), then either ``f = 1/p̂`` for respondents (inverse propensity)
  or weighting classes formed by quantiles of ``p̂`` (propensity stratification; Little 1986).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import _preview, check_distinct_labels
from surveycore.formula import model_matrices, parse_formula
from weighting._arrays import group_sums
from weighting._emptied import refuse_emptied

RESPONDENT, NONRESPONDENT, INELIGIBLE, UNKNOWN = 0, 1, 2, 3
_CLASS_HINT = ("use coarser classes (by=, min_respondents=), or a replicate method that keeps "
               "every class in every replicate")
CATEGORIES = ("respondent", "nonrespondent", "ineligible", "unknown")
_AAPOR_LEADING = {1: RESPONDENT, 2: NONRESPONDENT, 3: UNKNOWN, 4: INELIGIBLE}


def aapor_classes(values: pd.Series) -> np.ndarray:
    """AAPOR final disposition codes (``1.1``, ``2.11``, ``3.19``, ``4.7`` …) by their leading
    digit: 0 respondent (1.x), 1 nonrespondent (2.x), 2 ineligible (4.x), 3 unknown
    eligibility (3.x); -1 for a value that is not such a code (blank, text, ``5.1``).

    Reference: AAPOR, *Standard Definitions*, final disposition codes.
    """
    out = np.full(len(values), -1, dtype=np.int8)
    num = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    lead = np.floor(num)
    for digit, cat in _AAPOR_LEADING.items():
        out[lead == digit] = cat
    return out


def disposition_classes(
    data: pd.DataFrame, column: str, codes: Mapping[str, Sequence[Any]] | None
) -> np.ndarray:
    """Map a disposition column to 0 respondent, 1 nonrespondent, 2 ineligible, 3 unknown.

    Without ``codes`` the column must hold AAPOR final disposition codes (1.x … 4.x).
    """
    if column not in data.columns:
        raise SurveyError(
            "disposition column not found", argument="disposition", expected="a column",
            found=column,
        )
    values = data[column]
    out = np.full(len(data), -1, dtype=np.int8)
    if codes is None:
        out = aapor_classes(values)
    else:
        unknown_keys = [k for k in codes if k not in CATEGORIES]
        if unknown_keys:
            raise SurveyError(
                "unknown disposition category",
                argument="codes",
                expected="keys among " + ", ".join(CATEGORIES),
                found=_preview(unknown_keys),
            )
        for key, vals in codes.items():
            vals = [vals] if isinstance(vals, str) or not isinstance(vals, Sequence) else vals
            out[values.isin(list(vals)).to_numpy()] = CATEGORIES.index(key)
    if (out < 0).any():
        bad = pd.unique(values[out < 0])
        raise SurveyError(
            "disposition codes without a category",
            argument="codes" if codes is not None else "disposition",
            expected="every code mapped to respondent, nonrespondent, ineligible or unknown"
            + ("" if codes is not None else " (AAPOR codes 1.x-4.x)"),
            found=_preview(list(bad)),
            hint="pass codes={'respondent': [...], 'nonrespondent': [...], ...}",
        )
    return out


def class_codes(data: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[np.ndarray, list]:
    if by is None:
        return np.zeros(len(data), dtype=np.intp), ["(all)"]
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise SurveyError("class column not found", argument="by", expected="columns",
                          found=_preview(missing))
    if data[cols].isna().any().any():
        raise SurveyError("weighting-class variables have missing values", argument="by",
                          expected="a class for every row", found="missing values",
                          hint="give missing values a class of their own")
    for c in cols:
        if data[c].dtype == object:
            check_distinct_labels(pd.unique(data[c]), c, "by")
    keys = data[cols[0]] if len(cols) == 1 else pd.Series(list(zip(*(data[c] for c in cols))))
    codes, levels = pd.factorize(keys, sort=True)
    return codes.astype(np.intp), list(levels)


def collapse_classes(
    codes: np.ndarray, levels: list, status: np.ndarray, w: np.ndarray, min_respondents: int,
    max_factor: float,
) -> tuple[np.ndarray, list[str], list]:
    """Merge small classes with their neighbour in sort order; return new codes and notes."""
    groups = [[j] for j in range(len(levels))]
    notes: list[str] = []
    resp = status == RESPONDENT
    elig = (status == RESPONDENT) | (status == NONRESPONDENT)
    n_resp = np.bincount(codes, weights=resp, minlength=len(levels))
    w_resp = np.bincount(codes, weights=w * resp, minlength=len(levels))
    w_elig = np.bincount(codes, weights=w * elig, minlength=len(levels))
    stats = [[n_resp[j], w_resp[j], w_elig[j]] for j in range(len(levels))]

    def bad(s):
        factor = s[2] / s[1] if s[1] > 0 else np.inf
        return (s[0] < min_respondents or factor > max_factor) and s[2] > 0

    while len(groups) > 1:
        flagged = [k for k, s in enumerate(stats) if bad(s)]
        if not flagged:
            break
        k = flagged[0]
        if k == len(groups) - 1:
            j = k - 1
        elif k == 0:
            j = 1
        else:  # the neighbour with fewer respondents
            j = k - 1 if stats[k - 1][0] <= stats[k + 1][0] else k + 1
        a, b = min(j, k), max(j, k)
        names = lambda g: "+".join(str(levels[i]) for i in g)  # noqa: E731
        s = stats[k]
        notes.append(
            f"class {names(groups[k])} ({int(s[0])} respondents, factor "
            f"{(s[2] / s[1]) if s[1] > 0 else np.inf:.3g}) merged with {names(groups[j])}"
        )
        groups[a] = groups[a] + groups[b]
        stats[a] = [stats[a][i] + stats[b][i] for i in range(3)]
        del groups[b], stats[b]
    if bad(stats[0]) and len(groups) == 1:
        raise SurveyError(
            "too few respondents for a nonresponse adjustment",
            argument="min_respondents",
            expected=f"at least {min_respondents} respondents",
            found=f"{int(stats[0][0])} respondents in all",
        )
    mapping = np.empty(len(levels), dtype=np.intp)
    for g, members in enumerate(groups):
        mapping[members] = g
    labels = ["+".join(str(levels[i]) for i in members) for members in groups]
    return mapping[codes], notes, labels


@dataclass(frozen=True, eq=False)
class EligibilityStep:
    """Spread unknown-eligibility weight over known-eligibility cases within classes."""

    status: np.ndarray
    codes: np.ndarray
    n_classes: int
    labels: tuple = ()

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        known = (self.status != UNKNOWN)[:, None]
        total = group_sums(self.codes, self.n_classes, w)
        k = group_sums(self.codes, self.n_classes, w * known)
        total, k = np.atleast_2d(total.T).T, np.atleast_2d(k.T).T
        refuse_emptied(total - k, k, self.labels, "eligibility adjustment: class",
                       "case of known eligibility", _CLASS_HINT)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(k > 0, total / k, 0.0)
        return np.where(known, w * f[self.codes], 0.0)


@dataclass(frozen=True, eq=False)
class ClassAdjustStep:
    """Nonresponse adjustment within fixed weighting classes."""

    status: np.ndarray
    codes: np.ndarray
    n_classes: int
    labels: tuple = ()

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        resp = (self.status == RESPONDENT)[:, None]
        elig = ((self.status == RESPONDENT) | (self.status == NONRESPONDENT))[:, None]
        e = group_sums(self.codes, self.n_classes, w * elig)
        r = group_sums(self.codes, self.n_classes, w * resp)
        e, r = np.atleast_2d(e.T).T, np.atleast_2d(r.T).T
        refuse_emptied(e - r, r, self.labels, "nonresponse adjustment: class", "respondent",
                       _CLASS_HINT)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(r > 0, e / r, 0.0)
        return np.where(resp, w * f[self.codes], np.where(elig, 0.0, w))


@dataclass(frozen=True, eq=False)
class InversePropensityStep:
    """Respondents' weights divided by fixed estimated response propensities."""

    status: np.ndarray
    propensity: np.ndarray

    def replay(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        resp = (self.status == RESPONDENT)[:, None]
        elig = ((self.status == RESPONDENT) | (self.status == NONRESPONDENT))[:, None]
        p = np.where(self.status == RESPONDENT, self.propensity, 1.0)[:, None]
        return np.where(resp, w / p, np.where(elig, 0.0, w))


def fit_propensity(
    data: pd.DataFrame, status: np.ndarray, w: np.ndarray, formula: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Weighted logistic regression of response on ``formula`` among eligible cases.

    The right-hand side is parsed by :mod:`surveycore.formula` (columns and a whitelist of
    transformations, never evaluated as code); the model is fitted by statsmodels on the
    resulting matrix. Returns p̂ for every row (NaN for ineligible or unknown cases) and the
    warnings to record: a fit that did not converge, or fitted propensities of 0 or 1
    (separation).
    """
    import statsmodels.api as sm

    elig = (status == RESPONDENT) | (status == NONRESPONDENT)
    parsed = parse_formula(formula, list(data.columns), response=False)
    mm = model_matrices(data.loc[elig], parsed, response=False)
    if mm.missing.any():
        raise SurveyError(
            "response propensity variables have missing values",
            argument="formula",
            expected="no missing values among eligible cases",
            found=f"{int(mm.missing.sum())} eligible cases with missing values",
            hint="impute or give missing values a category of their own",
        )
    responded = (status[elig] == RESPONDENT).astype(float)
    model = sm.GLM(responded, mm.X, family=sm.families.Binomial(), var_weights=w[elig])
    try:
        fit = model.fit(tol=1e-12, maxiter=100)
    except Exception as exc:  # singular matrices and perfect separation from statsmodels
        raise SurveyError(
            "the response propensity model could not be fitted",
            argument="formula",
            expected="a model with linearly independent terms and no perfect prediction",
            found=f"{formula!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
        ) from None
    p = np.full(len(data), np.nan)
    p[elig] = np.asarray(fit.predict(mm.X))
    found = []
    if not fit.converged:
        found.append(f"response propensity model {formula!r} did not converge in 100 "
                     "iterations; the propensities are those of the last iteration")
    resp = status == RESPONDENT
    if (p[resp] < 1e-8).any() or (p[elig] > 1 - 1e-8).any():
        found.append(f"response propensity model {formula!r} separates respondents from "
                     "nonrespondents (fitted propensities of 0 or 1); use coarser "
                     "predictors or method='classes'")
    return p, tuple(found)
