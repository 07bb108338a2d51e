"""Proportions with confidence intervals that stay inside [0, 1] (R ``survey``'s ``svyciprop``).

For each level of a categorical variable (or the 1s of a 0/1 variable) and each domain,
``p̂ = Σ w y / Σ w`` with design variance ``v(p̂)``; the interval follows ``method``:

* ``"logit"`` — Wald interval for ``β = logit p`` from an intercept-only quasi-binomial
  design-based GLM, back-transformed: ``expit(β̂ ± t_{df} se(β̂))``. Under linearisation
  ``se(β̂) = se(p̂)/(p̂(1 − p̂))``; replicate designs use the replicates of ``logit p̂_r``
  (as R refits the model per replicate).
* ``"likelihood"`` — Rao–Scott scaled profile likelihood of that GLM
  (:mod:`estimation.glm_profile`).
* ``"xlogit"`` — delta-method interval on the logit scale, back-transformed.
* ``"asin"`` — the same on the ``arcsin √p`` scale.
* ``"beta"`` — Korn & Graubard (1998): Clopper–Pearson with effective sample size
  ``n* = p̂(1 − p̂)/v(p̂) · (t_{n−1}/t_{df})²``, ``n`` the rows of the domain's design (all rows
  of a calibrated design, whose subsets keep every row, as R).
* ``"mean"`` — ``p̂ ± t_{df} se(p̂)``.

At ``p̂ = 0`` or ``1`` (variance 0) the logit and mean intervals collapse on ``p̂``; the xlogit,
asin and beta forms are 0/0 there and give NaN, as R does. Every interval end that cannot be
computed (those, an infinite replicate logit, a profile that fails) is NaN with a
:class:`~surveycore.SurveyWarning` and a note in ``result.attrs["notes"]``. The likelihood
profile evaluates the deviance with R's bounded inverse logit link (``μ`` kept within
``[ε/(1+ε), 1/(1+ε)]`` beyond ``|η| > 30``), so far-reaching profiles of small domains stay finite.

``df`` defaults to the design's degrees of freedom (per domain), as R's ``degf(design)``;
``method="beta"`` always uses the design degrees of freedom, as R does. References: Korn &
Graubard (1998), Survey Methodology 24; Lumley (2010), §2.3.1.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from estimation.glm_fit import Family, irls
from estimation.glm_profile import profile_limits
from estimation.problems import RatioProblem
from estimation.results import standard_errors, tidy
from surveycore.checks import check_df, check_level, check_option
from surveycore.errors import SurveyError, SurveyWarning

METHODS = ["logit", "likelihood", "beta", "mean", "xlogit", "asin"]


def _t(q: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(df), stats.norm.ppf(q), stats.t.ppf(q, np.where(df > 0, df, np.nan)))


def _logit_variance(engine: Any, problem: RatioProblem, p: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Design variance of ``logit p̂``: replicates of the logit, or the delta method."""
    transformed = getattr(engine, "solve_ratio_transformed", None)
    if transformed is not None:
        _, cov = transformed(problem, special.logit)
        return np.diagonal(cov, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return var / (p * (1 - p)) ** 2


def _likelihood_ci(y, w, p, var_logit, ddf, level, m=None):
    """R's ``confint.svyglm(method="likelihood")`` for an intercept-only logistic model.

    ``y`` and ``w`` are the domain's rows with positive weight; ``m`` is the number of rows
    of the domain's design (R ``nrow``: every row for a subset of a calibrated design, whose
    rows outside the domain have weight 0). As in R, the prior weights are the weights over
    their mean on those ``m`` rows and the profile's F quantile has ``m - 1`` degrees of
    freedom, while the dispersion (R ``svyvar`` of the Pearson residuals) counts the rows with
    positive weight.
    """
    m = len(y) if m is None else int(m)
    if m < 2 or len(y) < 2 or not 0 < p < 1 or not np.isfinite(var_logit):
        return np.nan, np.nan
    wt = w / (w.sum() / m)
    # R fits the intercept-only quasi-binomial GLM by IRLS: its last working weights give the
    # model-based variance, its estimate the centre of the profile
    fit = irls(np.ones((len(y), 1)), y, wt, Family("quasibinomial"))
    beta = float(fit.coef[0])
    mu = float(fit.mu[0])
    se = np.sqrt(var_logit)
    naive = 1.0 / fit.working_weights.sum()
    lam = var_logit / naive
    q = (1 - level) / 2
    crit = stats.norm.ppf(q) if np.isinf(ddf) else stats.t.ppf(q, ddf)
    alpha = stats.norm.cdf(crit * np.sqrt(lam)) / 2
    # R: sqrt(qf(alpha, 1, n - p, lower.tail = FALSE)); as |t_{n-p}| at alpha / 2, which stays
    # finite where alpha is far below the F distribution's tail accuracy
    zmax = stats.t.isf(alpha / 2, m - 1)
    # R's residuals.svyglm: Pearson residuals without the sampling weights
    resid = (y - mu) / np.sqrt(mu * (1 - mu))
    rbar = np.sum(w * resid) / w.sum()
    n_pos = len(y)
    dispersion = np.sum(w * (resid - rbar) ** 2 * n_pos / (n_pos - 1)) / w.sum()

    family = Family("quasibinomial")

    def deviance(b: float) -> float:
        # R's glm.fit with the parameter as offset: its inverse link keeps μ inside
        # [ε/(1+ε), 1/(1+ε)] (|η| > 30), so the deviance stays finite far in the tails
        mu = family.linkinv(np.array([b]))
        return float(family.deviance_residuals(y, mu, wt).sum())

    cutoff = np.array([stats.norm.ppf(2 * alpha), stats.norm.isf(2 * alpha)])
    lo, hi = profile_limits(deviance, beta, se, dispersion, zmax, cutoff)
    return special.expit(lo), special.expit(hi)


def _undefined_ends(p: np.ndarray, lo: np.ndarray, hi: np.ndarray, method: str) -> list[str]:
    """Warn about interval ends that could not be computed next to an estimate; return the note."""
    bad = np.isfinite(p) & (np.isnan(lo) | np.isnan(hi))
    if not bad.any():
        return []
    edge = bad & ((p == 0) | (p == 1))
    reasons = []
    if edge.any():
        reasons.append(f"{int(edge.sum())} at p̂ = 0 or 1, where the {method} interval is undefined "
                       "(variance 0; the logit and mean intervals collapse on p̂)")
    if (bad & ~edge).any():
        reasons.append(f"{int((bad & ~edge).sum())} where the variance, its transformation or the "
                       "likelihood profile could not be computed (a domain empty in some replicate, a "
                       "replicate proportion of 0 or 1, or too few degrees of freedom)")
    note = f"{method} interval not computed for {int(bad.sum())} proportion(s): " + "; ".join(reasons) + "; reported as NaN"
    warnings.warn(note, SurveyWarning, stacklevel=4)
    return [note]


def proportion(
    design: Any,
    variable: str,
    *,
    method: str = "logit",
    by: str | list[str] | None = None,
    level: float = 0.95,
    df: float | None = None,
    na_rm: bool = False,
    covariance: bool = False,
) -> pd.DataFrame:
    """Proportion of each level of ``variable`` with an interval from ``method``, by domain.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    variable : str
        A categorical column (one row per level) or a 0/1 (boolean) column (one row, the
        proportion of 1s).
    method : {"logit", "likelihood", "beta", "mean", "xlogit", "asin"}
    by : str or list of str, optional
        Domains, all estimated in one pass (the likelihood interval profiles each domain).
    level : float
    df : float or "design", optional
        Degrees of freedom of the interval; default (or ``"design"``) the design's, per domain,
        as R.
    na_rm : bool
        Rows with a missing value are outside every domain (kept in the design).
    covariance : bool
        Also return the covariance of all the proportions across levels and domains
        (:class:`~estimation.contrast.Estimates`, with ``contrast()`` and ``nlcontrast()``).

    Returns
    -------
    DataFrame
        ``by`` columns, ``variable, level, estimate, se, ci_low, ci_high, cv, df, n``.

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import SurveyDesign
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "w": [2.0] * 8,
    ...                    "mig": ["no", "yes", "no", "no", "yes", "yes", "no", "yes"]})
    >>> d = SurveyDesign(df, ids="psu", weights="w")
    >>> d.proportion("mig", method="logit")[["level", "estimate", "ci_low", "ci_high", "df"]].round(3)
      level  estimate  ci_low  ci_high   df
    0    no       0.5   0.069    0.931  3.0
    1   yes       0.5   0.069    0.931  3.0
    """
    check_option(method, METHODS, "method")
    level, df = check_level(level), check_df(df)
    if not isinstance(variable, str):
        raise SurveyError(
            "proportion takes one variable",
            argument="variable",
            expected="a column name",
            found=repr(variable),
        )
    if not 0 < level < 1:
        raise SurveyError("level must be in (0, 1)", argument="level", expected="0 < level < 1", found=repr(level))
    cols = design.columns(variable, "variable")
    an = design.analysis(cols, by, na_rm=na_rm, argument="variable")
    domain, labels, D = an.domain, an.labels, an.n_domains
    y = an.values
    inside = domain >= 0
    if cols.levels[0] is None:
        vals = y[inside, 0]
        if not np.isin(vals, [0.0, 1.0]).all():
            raise SurveyError(
                "a numeric variable for proportion must be 0/1",
                argument="variable",
                expected="values 0 and 1 (or a categorical or boolean column)",
                found="values such as " + ", ".join(f"{v:g}" for v in np.unique(vals[~np.isin(vals, [0.0, 1.0])])[:5]),
                hint="build the indicator first, e.g. df['x'] == 'Yes'",
            )
    k = y.shape[1]
    problem = RatioProblem(y, np.ones_like(y), domain, D)
    engine = design.engine()
    p, cov = engine.solve_ratio(problem)
    var = np.diagonal(cov, axis1=1, axis2=2)
    se, notes = standard_errors(var, p)
    notes = list(notes)
    design_df = design.domain_degf(domain, D)
    ddf = design_df if df is None or df == "design" else np.full(D, float(df))
    q = 1 - (1 - level) / 2
    crit = _t(q, ddf)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            lo, hi = p - crit * se, p + crit * se
        elif method == "xlogit":
            sl = se / (p * (1 - p))
            lo, hi = special.expit(special.logit(p) - crit * sl), special.expit(special.logit(p) + crit * sl)
        elif method == "asin":
            sa = se / (2 * np.sqrt(p * (1 - p)))
            a = np.arcsin(np.sqrt(p))
            lo, hi = np.sin(a - crit * sa) ** 2, np.sin(a + crit * sa) ** 2
        elif method == "logit":
            sl = np.sqrt(_logit_variance(engine, problem, p, var))
            lo, hi = special.expit(special.logit(p) - crit * sl), special.expit(special.logit(p) + crit * sl)
            # a domain where every row is (or none is) in the class: R's fitted logit diverges
            # and its interval collapses on p, when the variance (0) could be computed
            edge = ((p == 0) | (p == 1)) & np.isfinite(var)
            lo, hi = np.where(edge, p, lo), np.where(edge, p, hi)
        elif method == "beta":
            alpha = 1 - level
            n_rows = design.domain_rows(domain, D)
            n_eff = p * (1 - p) / var
            n_eff = n_eff * (_t(alpha / 2, n_rows - 1) / _t(alpha / 2, design_df))[:, None] ** 2
            lo = np.where(p > 0, stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1), 0.0)
            hi = np.where(p < 1, stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)), 1.0)
        else:  # likelihood
            var_l = _logit_variance(engine, problem, p, var)
            lo = np.full((D, k), np.nan)
            hi = np.full((D, k), np.nan)
            w = design.weights
            n_rows = design.domain_rows(domain, D)
            for d in range(D):  # one profile per domain and level
                rows = (domain == d) & (w > 0)
                for j in range(k):
                    lo[d, j], hi[d, j] = _likelihood_ci(y[rows, j], w[rows], p[d, j], var_l[d, j],
                                                        ddf[d], level, m=n_rows[d])
    if method in ("xlogit", "asin", "beta"):
        # p̂ = 0 or 1 has variance 0: these forms are 0/0 there (R returns NaN as well)
        edge = (p == 0) | (p == 1)
        lo, hi = np.where(edge, np.nan, lo), np.where(edge, np.nan, hi)
    notes += _undefined_ends(p, lo, hi, method)
    out = tidy(
        labels,
        cols.variables,
        cols.levels,
        p,
        se,
        an.counts,
        design_df=ddf,
        level=level,
        ci_df=None,
        ci=(lo, hi),
        notes=[*an.notes, *notes],
    )
    if covariance:
        from estimation.contrast import attach_covariance

        return attach_covariance(design, problem, out, list(labels.columns), level)
    return out
