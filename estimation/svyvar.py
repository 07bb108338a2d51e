"""Population variance of a variable estimated from the sample (R ``svyvar``), by domain.

``S²_d = n_d/(n_d − 1) · Σ_{i∈d} w_i (y_i − ȳ_d)² / Σ_{i∈d} w_i`` with ``ȳ_d`` the weighted
domain mean and ``n_d`` the number of rows of the domain's design, counted as R counts them:

* linearisation (``SurveyDesign``, two-phase designs): the rows of the domain with positive
  weight, **including** rows whose value is missing under ``na_rm=True`` (R
  ``svyvar.survey.design`` takes ``n = sum(weights != 0)`` before ``svymean(na.rm=TRUE)`` drops
  them);
* replicate designs: the rows of the domain with positive weight and no missing value (R
  ``svyvar.svyrep.design`` drops the incomplete rows first, and a subset of a replicate design
  has only the domain's rows).

With no missing values both are the domain's rows with positive weight. Its standard error is that
of the weighted mean of ``z_i = n_d/(n_d − 1)(y_i − ȳ_d)²``: the derivative with respect to ``ȳ_d``
vanishes, so ``ȳ_d`` may be held fixed in the linearisation (Lumley 2010, §2.4; R
``svyvar.survey.design``). Replicate designs recompute ``ȳ_d`` with every replicate weight, as
R's ``svyvar.svyrep.design``.

``covariance=True`` returns an :class:`~estimation.contrast.Estimates` frame with the covariance
of the variances across variables and domains (R ``vcov(svyvar(...))`` restricted to the
variances; ``svyby(..., svyvar, covmat=TRUE)`` on replicate designs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from estimation.problems import GeneralProblem, RatioProblem
from estimation.results import standard_errors, tidy
from surveycore.checks import check_option
from surveycore.errors import SurveyError


def _domain_sums(d: np.ndarray, inside: np.ndarray, values: np.ndarray, D: int) -> np.ndarray:
    out = np.empty((D, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(d[inside], weights=values[inside, j], minlength=D)
    return out


def _rows_before_missing(design: Any, cols: Any, by, labels: pd.DataFrame) -> np.ndarray:
    """Rows with positive weight in each domain, those with a missing value included (R's
    ``svyvar.survey.design`` counts ``n`` on the design before ``na.rm`` drops rows)."""
    every = replace(cols, missing=np.zeros_like(cols.missing))
    full = design.analysis(every, by, na_rm=True)
    counts = np.bincount(full.domain[full.domain >= 0], minlength=full.n_domains).astype(float)
    if not labels.shape[1]:
        return counts
    keys = list(labels.columns)
    table = full.labels.reset_index(drop=True).assign(_rows=counts)
    return labels.reset_index(drop=True).merge(table, on=keys, how="left")["_rows"].to_numpy(dtype=float)


def survey_variance(design: Any, variables: str | Sequence[str], *, by=None, na_rm: bool = False,
                    level: float = 0.95, df=None, covariance: bool = False) -> pd.DataFrame:
    """Estimated population variance of each variable in each domain, with its standard error."""
    if not 0 < level < 1:
        raise SurveyError("level must be in (0, 1)", argument="level", expected="0 < level < 1",
                          found=repr(level), hint="95 % is level=0.95")
    cols = design.columns(variables)
    if any(lv is not None for lv in cols.levels):
        raise SurveyError(
            "var needs numeric variables",
            argument="variables",
            expected="numeric columns",
            found="a categorical column",
            hint="the variance of a category's indicator is p(1 − p): use mean() or proportion()",
        )
    an = design.analysis(cols, by, na_rm=na_rm)
    domain, labels, D = an.domain, an.labels, an.n_domains
    n, k = cols.values.shape
    inside = domain >= 0
    d = np.maximum(domain, 0)
    y = an.values
    w = design.weights
    engine = design.engine()
    replicate = hasattr(engine, "replicate_ratios")
    n_d = np.bincount(d[inside & (w > 0)], minlength=D).astype(float)
    if (n_d == 1).any():  # a domain with no observed row (na_rm=True) is reported as NaN
        raise SurveyError(
            "a domain has fewer than two observations for a variance",
            argument="by",
            expected="at least two rows with positive weight in every domain",
            found=f"{int((n_d == 1).sum())} domain(s) with one row",
        )
    empty = n_d == 0
    if na_rm and cols.missing.any() and not replicate:
        n_d = _rows_before_missing(design, cols, by, labels)
    n_d = np.where(empty, np.nan, n_d)
    if replicate:
        factor = (n_d / (n_d - 1))[:, None]

        def statistic(wt: np.ndarray) -> np.ndarray:
            wi = np.where(inside, wt, 0.0)[:, None]
            tot = _domain_sums(d, inside, wi * np.ones((n, 1)), D)
            with np.errstate(invalid="ignore", divide="ignore"):  # a domain without rows: NaN
                mean = _domain_sums(d, inside, wi * y, D) / tot
                dev = _domain_sums(d, inside, wi * (y - mean[d]) ** 2, D) / tot
            return (factor * dev).ravel()

        from estimation.replicates.engine import replicate_covariance

        est, reps = engine.replicate_general(GeneralProblem(statistic, None))
        full_cov = replicate_covariance(reps, est, engine.scale, engine.rscales, engine.mse)
        est = est.reshape(D, k)
        var = np.diagonal(full_cov).reshape(D, k)
    else:
        wi = np.where(inside, w, 0.0)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):  # a domain without rows: NaN
            mean = _domain_sums(d, inside, wi * y, D) / _domain_sums(d, inside, wi * np.ones((n, 1)), D)
        z = (n_d / (n_d - 1))[d][:, None] * (y - mean[d]) ** 2
        problem = RatioProblem(z, np.ones_like(z), domain, D)
        est, cov = engine.solve_ratio(problem)
        var = np.diagonal(cov, axis1=1, axis2=2)
    se, notes = standard_errors(var, est)
    design_df = design.domain_degf(domain, D)
    if isinstance(df, str):
        check_option(df, ["design"], "df")
    ci_df = None if df is None else design_df if isinstance(df, str) else float(df)
    out = tidy(labels, cols.variables, cols.levels, est, se, an.counts,
               design_df=design_df if ci_df is None else ci_df, level=level, ci_df=ci_df, notes=[*an.notes, *notes])
    if not covariance:
        return out
    from estimation.contrast import Estimates, attach_covariance

    by_cols = list(labels.columns)
    if replicate:
        replication = {"scale": engine.scale, "rscales": engine.rscales, "mse": engine.mse}
        return Estimates.build(out, full_cov, by_cols, replicates=reps, replication=replication, level=level)
    return attach_covariance(design, problem, out, by_cols, level)
