"""Quantiles and their Woodruff confidence intervals, all domains in one pass.

Quantile rule (R ``survey`` ``qrule="math"``, Hyndman & Fan type 1 on the weighted CDF): with
values sorted and cumulative weight shares ``F_k``, ``q_p = x_{(k)}`` where ``k`` is the last
index with ``F_k <= p`` if ``F_k = p`` exactly, else ``x_{(k+1)}``.

Woodruff (1952) interval: estimate ``p̂ = F̂(q̂_p)`` as the weighted mean of ``1{x <= q̂_p}``
with its design standard error ``s``; invert the interval ``p̂ ± c s`` through the quantile rule,
``[q(p̂ − c s), q(p̂ + c s)]``; the standard error is the interval width over ``2c`` (Lumley
2010, §2.4.1; R ``svyquantile(ci=TRUE)``). ``c`` is Student's t with the domain's design degrees
of freedom unless ``df`` says otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from estimation.problems import RatioProblem
from estimation.results import critical_value, standard_errors, tidy
from estimation.variables import Columns
from surveycore.checks import check_df, check_level, check_probabilities
from surveycore.errors import SurveyError


def _segments(values: np.ndarray, weights: np.ndarray, domain: np.ndarray, n_domains: int):
    keep = (domain >= 0) & (weights != 0)
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((values[idx], domain[idx]))]
    d_sorted = domain[order]
    bounds = np.searchsorted(d_sorted, np.arange(n_domains + 1))
    return values[order], weights[order], bounds


def quantile_rule(x_sorted: np.ndarray, w_sorted: np.ndarray, p: float) -> float:
    """R's ``qrule_math`` on values already sorted (stable) with their weights."""
    if np.isnan(p) or p < 0 or p > 1:
        return np.nan
    # R accumulates sums in extended precision (LDOUBLE) and rounds each partial sum to double;
    # doing the same keeps exact ties (equal weights) on the same side as R.
    cum_ext = np.cumsum(np.asarray(w_sorted, dtype=np.longdouble))
    cumw = cum_ext.astype(np.float64)
    total = float(cum_ext[-1])
    below = np.flatnonzero(cumw <= p * total)
    # R's ``last()`` gives the first position when no cumulative share is <= p, so a p below
    # the first value's share returns the second value (R survey 4.1, ``qs``)
    pos = below[-1] if len(below) else 0
    nxt = min(pos + 1, len(x_sorted) - 1)
    wlow = p - cumw[pos] / total
    return float(x_sorted[pos] if wlow == 0 else x_sorted[nxt])


def woodruff_quantiles(design, variables, probs, *, by=None, na_rm=False, level=0.95, df="design") -> pd.DataFrame:
    """Quantiles of each variable in each domain with Woodruff intervals and SEs."""
    probs_arr = check_probabilities(probs, "probs")
    level, df = check_level(level), check_df(df)
    cols = design.columns(variables)
    if any(lv is not None for lv in cols.levels):
        raise SurveyError(
            "quantiles need numeric variables",
            argument="variables",
            expected="numeric columns",
            found="a categorical column",
        )
    w = design.weights
    engine = design.engine()
    frames = []
    for j, name in enumerate(cols.variables):
        one = Columns(cols.values[:, [j]], [name], [None], np.isnan(cols.values[:, j]))
        an = design.analysis(one, by, na_rm=na_rm)
        domain, labels, D = an.domain, an.labels, an.n_domains
        x = an.values[:, 0]
        xs, ws, bounds = _segments(x, w, domain, D)
        q = np.empty((D, len(probs_arr)))
        for d in range(D):
            seg = slice(bounds[d], bounds[d + 1])
            for k, p in enumerate(probs_arr):
                q[d, k] = quantile_rule(xs[seg], ws[seg], p)
        row_q = q[np.maximum(domain, 0)]
        indicator = (x[:, None] <= row_q).astype(float)
        problem = RatioProblem(indicator, np.ones_like(indicator), domain, D)
        phat, cov = engine.solve_ratio(problem)
        se_p, notes = standard_errors(np.diagonal(cov, axis1=1, axis2=2), phat)
        if df is None:
            ci_df = np.full(D, np.inf)
        elif isinstance(df, str):
            ci_df = design.domain_degf(domain, D)
        else:
            ci_df = np.full(D, float(df))
        c = np.asarray(critical_value(level, ci_df), dtype=float).reshape(D, 1)
        lo_p, hi_p = phat - c * se_p, phat + c * se_p
        lo = np.full_like(q, np.nan)
        hi = np.full_like(q, np.nan)
        for d in range(D):
            seg = slice(bounds[d], bounds[d + 1])
            for k in range(len(probs_arr)):
                if not np.isnan(lo_p[d, k]) and lo_p[d, k] >= 0:
                    lo[d, k] = quantile_rule(xs[seg], ws[seg], lo_p[d, k])
                if not np.isnan(hi_p[d, k]) and hi_p[d, k] <= 1:
                    hi[d, k] = quantile_rule(xs[seg], ws[seg], hi_p[d, k])
        se = (hi - lo) / (2 * c)
        frames.append(
            tidy(
                labels,
                [name] * len(probs_arr),
                [None] * len(probs_arr),
                q,
                se,
                an.counts,
                design_df=ci_df,
                level=level,
                ci_df=None,
                ci=(lo, hi),
                quantile=list(probs_arr),
                notes=[*an.notes, *notes],
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs["notes"] = list(dict.fromkeys(note for f in frames for note in f.attrs["notes"]))
    return out
