"""Quantiles and their confidence intervals, all domains in one pass (R ``svyquantile``).

The quantile follows one of R's rules (:mod:`estimation.quantile_rules`, ``qrule="math"`` by
default). Woodruff (1952) interval: estimate ``p̂ = F̂(q̂_p)`` as the weighted mean of
``1{x <= q̂_p}`` with its design standard error ``s``; build an interval ``[p_L, p_U]`` for it and
invert it through the quantile rule, ``[q(p_L), q(p_U)]``; the standard error is the interval
width over ``2c`` (Lumley 2010, §2.4.1; R ``svyquantile(ci=TRUE)``). ``interval_type`` gives the
interval for ``p̂`` as R's ``interval.type``:

* ``"mean"`` — ``p̂ ± c s``;
* ``"xlogit"`` — ``expit(logit p̂ ± c s/(p̂(1 − p̂)))``;
* ``"asin"`` — ``sin²(asin √p̂ ± c s/(2√(p̂(1 − p̂))))``;
* ``"beta"`` — Korn & Graubard's Clopper–Pearson interval with effective sample size
  ``p̂(1 − p̂)/s² · (t_{n−1}/t_ν)²`` (``n`` rows and ``ν`` design degrees of freedom of the domain);
* ``"score"`` — Francisco & Fuller (1991): the values ``θ`` where the score statistic
  ``(P̂(x > θ) − (1 − p))/se`` equals ``±c``, mapped back through the quantile rule at the
  unweighted share of the domain's rows with ``x ≤ θ`` (R's ``ffullerCI``). The statistic is a
  step function of ``θ`` and need not be monotone in a small domain; each end is found by
  Brent's method on R's bracket and tolerance (:mod:`estimation.zeroin`), so where there are
  several sign changes it is the one R's ``uniroot`` finds. R evaluates a subset of a
  calibrated design over all its rows (bracket, tolerance and the share ``x ≤ θ``, which is
  then not the domain's); here they are the domain's, as for any other design;
* ``"quantile"`` (replicate designs) — the quantile recomputed with every replicate weight,
  ``q̂ ± c √v`` with ``v`` the replicate variance.

An end of ``[p_L, p_U]`` outside ``[0, 1]`` gives NaN, as R, with a
:class:`~surveycore.SurveyWarning` and a note. Where ``q̂_p`` is the domain's largest value,
``p̂ = 1`` with variance 0 and every interval type gives ``[q̂_p, q̂_p]`` with SE 0 (R reaches the
same through rounding; exact arithmetic would give 0/0 in the xlogit, asin and beta forms). ``c`` is Student's t with the
domain's design degrees of freedom unless ``df`` says otherwise.

Covariance (``covariance=True``, an :class:`~estimation.contrast.Estimates` frame): with
``interval_type="quantile"`` the replicate covariance of all quantiles of all variables and
domains together, ``scale Σ_r rscales_r (q̂_r − q̄)(q̂_r − q̄)ᵀ`` (R: ``vcov`` of
``withReplicates`` over the quantile rule; contrasts then use the replicates). Otherwise the
variances ``se²`` on the diagonal and NaN — not estimated — elsewhere, exactly R's ``vcov`` of a
``svyquantile`` result; a contrast that combines two such quantiles is NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

from estimation.problems import RatioProblem
from estimation.quantile_rules import RULES, quantile_rule
from estimation.results import critical_value, standard_errors, tidy
from estimation.variables import Columns
from estimation.zeroin import brent_root
from surveycore.checks import check_df, check_level, check_option, check_probabilities
from surveycore.errors import SurveyError, SurveyWarning

INTERVALS = ["mean", "beta", "xlogit", "asin", "score", "quantile"]


def _p_interval(kind, phat, se_p, c, alpha, n_rows, design_df):
    """Interval for ``p̂`` of each (domain, probability): arrays (D, m)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "mean":
            return phat - c * se_p, phat + c * se_p
        if kind == "xlogit":
            sl = se_p / (phat * (1 - phat))
            return special.expit(special.logit(phat) - c * sl), special.expit(special.logit(phat) + c * sl)
        if kind == "asin":
            sa = se_p / (2 * np.sqrt(phat * (1 - phat)))
            a = np.arcsin(np.sqrt(phat))
            return np.sin(a - c * sa) ** 2, np.sin(a + c * sa) ** 2
        ratio = stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, design_df)
        n_eff = phat * (1 - phat) / se_p**2 * (ratio[:, None] ** 2)
        lo = stats.beta.ppf(alpha / 2, n_eff * phat, n_eff * (1 - phat) + 1)
        hi = stats.beta.ppf(1 - alpha / 2, n_eff * phat + 1, n_eff * (1 - phat))
        return lo, hi


def _segments(values: np.ndarray, weights: np.ndarray, domain: np.ndarray, n_domains: int):
    keep = (domain >= 0) & (weights != 0)
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((values[idx], domain[idx]))]
    d_sorted = domain[order]
    bounds = np.searchsorted(d_sorted, np.arange(n_domains + 1))
    return values[order], weights[order], bounds


def woodruff_quantiles(design, variables, probs, *, by=None, na_rm=False, level=0.95, df="design",
                       qrule="math", interval_type="mean", covariance=False) -> pd.DataFrame:
    """Quantiles of each variable in each domain with Woodruff (or replicate) intervals and SEs."""
    check_option(qrule, RULES, "qrule")
    check_option(interval_type, INTERVALS, "interval_type")
    if interval_type == "quantile" and not hasattr(design.engine(), "replicate_weights"):
        raise SurveyError(
            "interval_type='quantile' needs a replicate design",
            argument="interval_type",
            expected="'mean', 'beta', 'xlogit' or 'asin' for a linearisation design",
            found="'quantile'",
            hint="convert with d.replicate('bootstrap') or use a Woodruff interval",
        )
    level, df = check_level(level), check_df(df)
    if not 0 < level < 1:
        raise SurveyError("level must be in (0, 1)", argument="level", expected="0 < level < 1",
                          found=repr(level), hint="95 % is level=0.95")
    probs_arr = check_probabilities(probs, "probs")
    if not np.isfinite(probs_arr).all() or ((probs_arr < 0) | (probs_arr > 1)).any() or len(probs_arr) == 0:
        raise SurveyError(
            "quantile probabilities must lie in [0, 1]",
            argument="probs",
            expected="numbers between 0 and 1",
            found=repr(list(probs_arr)),
        )
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
    replicates = []  # (R, D·m) per variable, for the joint replicate covariance
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
                q[d, k] = quantile_rule(xs[seg], ws[seg], p, qrule)
        if df is None:
            ci_df = np.full(D, np.inf)
        elif isinstance(df, str):
            ci_df = design.domain_degf(domain, D)
        else:
            ci_df = np.full(D, float(df))
        c = np.asarray(critical_value(level, ci_df), dtype=float).reshape(D, 1)
        notes: list[str] = []
        if interval_type == "quantile":
            lo, hi, se, reps = _replicate_interval(design, x, domain, D, probs_arr, q, c, qrule)
            replicates.append(reps.reshape(reps.shape[0], -1))
        elif interval_type == "score":
            lo, hi = _score_interval(design, x, domain, D, probs_arr, c, qrule)
            se = (hi - lo) / (2 * c)
        else:
            row_q = q[np.maximum(domain, 0)]
            indicator = (x[:, None] <= row_q).astype(float)
            problem = RatioProblem(indicator, np.ones_like(indicator), domain, D)
            phat, cov = engine.solve_ratio(problem)
            se_p, notes = standard_errors(np.diagonal(cov, axis1=1, axis2=2), phat)
            n_rows = np.asarray(design.domain_rows(domain, D), dtype=float)
            lo_p, hi_p = _p_interval(interval_type, phat, se_p, c, 1 - level, n_rows,
                                     np.asarray(design.domain_degf(domain, D), dtype=float))
            lo = np.full_like(q, np.nan)
            hi = np.full_like(q, np.nan)
            for d in range(D):
                seg = slice(bounds[d], bounds[d + 1])
                for k in range(len(probs_arr)):
                    if bounds[d + 1] > bounds[d] and xs[bounds[d + 1] - 1] <= q[d, k]:
                        # the quantile is the domain's largest value: F̂(q̂) = 1 with variance 0,
                        # and every interval type collapses on it (R: [max, max], SE 0)
                        lo_p[d, k] = hi_p[d, k] = 1.0
                    if not np.isnan(lo_p[d, k]) and lo_p[d, k] >= 0:
                        lo[d, k] = quantile_rule(xs[seg], ws[seg], lo_p[d, k], qrule)
                    if not np.isnan(hi_p[d, k]) and hi_p[d, k] <= 1:
                        hi[d, k] = quantile_rule(xs[seg], ws[seg], hi_p[d, k], qrule)
            se = (hi - lo) / (2 * c)
        notes += _undefined_ends(lo, hi, interval_type)
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
    if covariance:
        return _with_covariance(engine, out, replicates, list(labels.columns), level)
    return out


def _undefined_ends(lo: np.ndarray, hi: np.ndarray, interval_type: str) -> list[str]:
    """Warn about interval ends that could not be computed and return the note to record."""
    missing = int(np.isnan(lo).sum() + np.isnan(hi).sum())
    if not missing:
        return []
    reason = {
        "score": "the score statistic does not cross the critical value inside the domain's "
        "range (a quantile near the domain's edge)",
        "quantile": "the replicate variance could not be computed",
    }.get(interval_type, "the interval for F̂(q̂) extends beyond [0, 1], as R")
    note = f"{missing} quantile interval end(s) not computed ({interval_type}): {reason}; reported as NaN"
    warnings.warn(note, SurveyWarning, stacklevel=4)
    return [note]


def _with_covariance(engine, out: pd.DataFrame, replicates: list, by: list[str], level: float):
    """The frame with the covariance of its rows (see the module notes)."""
    from estimation.contrast import Estimates
    from estimation.replicates.engine import replicate_covariance

    est = out["estimate"].to_numpy(dtype=float)
    if replicates:
        reps = np.hstack(replicates)
        cov = replicate_covariance(reps, est, engine.scale, engine.rscales, engine.mse)
        replication = {"scale": engine.scale, "rscales": engine.rscales, "mse": engine.mse}
        return Estimates.build(out, cov, by, replicates=reps, replication=replication, level=level)
    cov = np.full((len(out), len(out)), np.nan)
    np.fill_diagonal(cov, out["se"].to_numpy(dtype=float) ** 2)
    return Estimates.build(out, cov, by, level=level)


def _replicate_interval(design, x, domain, D, probs_arr, q, c, qrule):
    """R's ``interval.type="quantile"``: the quantile on every replicate, ``q̂ ± c √v``."""
    from estimation.replicates.engine import replicate_covariance

    engine = design.engine()
    R = engine.n_replicates
    reps = np.empty((R, D, len(probs_arr)))
    for r in range(R):
        wr = engine.replicate_weights(r)
        xs, ws, bounds = _segments(x, wr, domain, D)
        for d in range(D):
            seg = slice(bounds[d], bounds[d + 1])
            for k, p in enumerate(probs_arr):
                reps[r, d, k] = quantile_rule(xs[seg], ws[seg], p, qrule)
    var = np.empty_like(q)
    for k in range(len(probs_arr)):
        var[:, k] = replicate_covariance(reps[:, :, k:k + 1], q[:, k:k + 1], engine.scale, engine.rscales,
                                         engine.mse)[:, 0, 0]
    se = np.sqrt(var)
    return q - c * se, q + c * se, se, reps


class _ShareAbove:
    """``P̂(x > θ)`` in one domain with its standard error; a step function of ``θ``, cached by
    the number of distinct domain values at or below ``θ``."""

    def __init__(self, engine, x: np.ndarray, rows: np.ndarray) -> None:
        self.engine, self.x = engine, x
        self.values = np.unique(x[rows])
        self.domain = np.where(rows, 0, -1).astype(np.int64)
        self.cache: dict[int, tuple[float, float]] = {}

    def __call__(self, theta: float) -> tuple[float, float]:
        step = int(np.searchsorted(self.values, theta, side="right"))
        if step not in self.cache:
            ind = (self.x > theta).astype(float)[:, None]
            est, cov = self.engine.solve_ratio(RatioProblem(ind, np.ones_like(ind), self.domain, 1))
            self.cache[step] = (float(est[0, 0]), float(np.sqrt(max(cov[0, 0, 0], 0.0))))
        return self.cache[step]


def _score_interval(design, x, domain, D, probs_arr, c, qrule):
    """Francisco–Fuller score interval of each (domain, probability), as R's ``ffullerCI``.

    Each end is the root of ``(P̂(x > θ) − (1 − p))/se ∓ c`` found by Brent's method on
    ``[min x + IQR/100, max x − IQR/100]`` with tolerance ``1/(100 √n)`` (the same path as R's
    ``uniroot``, so the same sign change where there are several), mapped back through the
    quantile rule at the unweighted share of the domain's rows with ``x ≤ θ``.
    """
    engine = design.engine()
    w = design.weights
    lo = np.full((D, len(probs_arr)), np.nan)
    hi = np.full((D, len(probs_arr)), np.nan)
    for d in range(D):
        rows = domain == d
        xd = x[rows]
        q75, q25 = np.percentile(xd, [75, 25])
        iqr = q75 - q25
        lower_t, upper_t = xd.min() + iqr / 100, xd.max() - iqr / 100
        tol = 1 / (100 * np.sqrt(xd.size))
        order = np.argsort(xd, kind="stable")
        xs, ws = xd[order], w[rows][order]
        share = _ShareAbove(engine, x, rows)
        for k, p in enumerate(probs_arr):
            for target, out in ((float(c[d, 0]), lo), (-float(c[d, 0]), hi)):

                def statistic(theta: float, p: float = p, target: float = target, share=share) -> float:
                    est, se = share(theta)
                    return (est - (1 - p)) / se - target

                root = brent_root(statistic, lower_t, upper_t, tol)
                if root is not None:
                    out[d, k] = quantile_rule(xs, ws, np.mean(xd <= root), qrule)
    return lo, hi
