"""Design-based generalised linear models (R ``survey``'s ``svyglm``).

Coefficients solve the weighted score equations ``Σ_i w_i x_i (y_i − μ_i) μ'(η_i)/V(μ_i) = 0``
(fitted by IRLS with weights rescaled to mean one, :mod:`estimation.glm_fit`). Their variance
is the sandwich ``A⁻¹ V(Σ U_i) A⁻¹``: the design's engine receives the influence values
``U_i A⁻¹`` (R's ``svy.varcoef``: ``svyrecvar(estfun %*% Ainv)``; Binder 1983), so calibration,
multistage and replicate designs are handled by the same engines as every other estimator.
Replicate designs refit the model on each replicate (R's ``svyglm.svyrep.design``).

Residual degrees of freedom ``df = degf(design) + 1 − p``; intervals ``β̂ ± t_{df} se`` and
p-values from Student's t with ``df`` (R's ``summary.svyglm``, ``confint.svyglm``).

The covariance of the coefficients is :attr:`GlmResult.covariance` (R ``vcov``); linear and
smooth functions of the coefficients come from :meth:`GlmResult.contrast` and
:meth:`GlmResult.nlcontrast` (R ``svycontrast`` on a ``svyglm``; Stata ``lincom``/``nlcom``
after ``svy: glm``): ``L β̂`` with variance ``L V Lᵀ``, and ``g(β̂)`` by the delta method on
every design, or with ``return_replicates=True`` from the refitted replicate coefficients of a
replicate design (R's ``svyglm(return.replicates=TRUE)``). Intervals are normal unless ``df`` is given, as R's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from estimation.glm_fit import FAMILIES, Family, IrlsFit, fitted_boundary, irls
from estimation.problems import GeneralProblem
from surveycore.checks import check_count, check_level, check_option
from surveycore.errors import SurveyError, SurveyWarning
from surveycore.formula import model_matrices as build_model_matrices


@dataclass(frozen=True)
class GlmResult:
    """A fitted design-based GLM.

    Attributes
    ----------
    terms : list of str
        Coefficient names in R's style (``(Intercept)``, ``stypeH`` …).
    coef : ndarray (p,)
    cov : ndarray (p, p)
        Design-based covariance of the coefficients.
    naive_cov : ndarray (p, p)
        ``(Xᵀ W X)⁻¹`` of the weighted fit (model-based, unscaled).
    df_residual : float
    family : str
    deviance : float
    level : float
        Confidence level of :attr:`table`.
    converged : bool
        Whether IRLS met its stopping rule (R's ``glm.fit`` ``converged``).
    separation : bool
        Whether fitted probabilities (binomial) or rates (Poisson) are numerically 0 or 1 in
        rows with positive weight: the maximum-likelihood estimate may not exist (complete or
        quasi-complete separation), and coefficients and SEs are then meaningless.
    messages : tuple of str
        The warnings issued for this fit (also raised as :class:`~surveycore.SurveyWarning`).
    """

    terms: list[str]
    coef: np.ndarray
    cov: np.ndarray
    naive_cov: np.ndarray
    df_residual: float
    family: str
    deviance: float
    level: float = 0.95
    fit: IrlsFit | None = field(default=None, repr=False)
    converged: bool = True
    separation: bool = False
    messages: tuple[str, ...] = ()
    replicates: np.ndarray | None = field(default=None, repr=False)
    replication: dict | None = field(default=None, repr=False)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))

    @property
    def table(self) -> pd.DataFrame:
        """Tidy coefficient table: ``variable`` (the term), ``estimate, se, ci_low, ci_high,
        statistic, p_value, df``."""
        return self.to_frame()

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        level = self.level if level is None else level
        se = self.se
        df = self.df_residual
        with np.errstate(divide="ignore", invalid="ignore"):
            tval = self.coef / se
        if df > 0:
            crit = stats.t.ppf(1 - (1 - level) / 2, df)
            p = 2 * stats.t.sf(np.abs(tval), df)
            lo, hi = self.coef - crit * se, self.coef + crit * se
        else:
            p = lo = hi = np.full(len(se), np.nan)
        return pd.DataFrame(
            {
                "variable": self.terms,
                "estimate": self.coef,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "statistic": tval,
                "p_value": p,
                "df": float(df),
            }
        )

    @property
    def covariance(self) -> pd.DataFrame:
        """Design-based covariance of the coefficients, named by term (R ``vcov(svyglm)``)."""
        return pd.DataFrame(self.cov, index=self.terms, columns=self.terms)

    def estimates(self):
        """The coefficients as an :class:`~estimation.contrast.Estimates` frame (named by term)."""
        from estimation.contrast import Estimates

        frame = pd.DataFrame({"variable": self.terms, "level": pd.Series([None] * len(self.terms), dtype=object),
                              "estimate": self.coef, "se": self.se})
        return Estimates.build(frame, self.cov, [], replicates=self.replicates, replication=self.replication,
                               level=self.level)

    def contrast(self, coefficients: Any, *, df: float | None = None) -> pd.DataFrame:
        """Linear combinations ``L β̂`` of the coefficients with SE ``√(L V Lᵀ)`` (R ``svycontrast``).

        ``coefficients``: ``{"ell": 1, "meals": -1}`` (term names), one number per term, or
        several named contrasts; see :meth:`estimation.contrast.Estimates.contrast`.
        """
        return self.estimates().contrast(coefficients, df=df)

    def nlcontrast(self, function, *, name: str = "nlcontrast", gradient=None, df: float | None = None,
                   return_replicates: bool = False) -> pd.DataFrame:
        """A smooth function of the coefficients, e.g. ``lambda b: np.exp(b["stypeH"])``, with its
        delta-method SE (R ``svycontrast`` with an expression; Stata ``nlcom``), or on a replicate
        design with ``return_replicates=True`` the SE from the function of every replicate's
        refitted coefficients (R ``svyglm(..., return.replicates=TRUE)`` then ``svycontrast``).

        See :meth:`estimation.contrast.Estimates.nlcontrast`.
        """
        return self.estimates().nlcontrast(function, name=name, gradient=gradient, df=df,
                                           return_replicates=return_replicates)

    def __repr__(self) -> str:
        return f"GlmResult(family={self.family!r}, df_residual={self.df_residual:g})\n{self.to_frame()}"


def model_matrices(data: pd.DataFrame, formula: str, weights: np.ndarray):
    """Response (n,), model matrix (n, p) and R-style term names for ``formula``.

    The formula is parsed by :mod:`surveycore.formula` (columns and a whitelist of
    transformations; never evaluated as code). Rows with a missing value are allowed only where
    the weight is zero (outside a subset).
    """
    mm = build_model_matrices(data, formula)
    if (weights[mm.missing] > 0).any():
        raise SurveyError(
            "model variables have missing values",
            argument="formula",
            expected="no missing values in rows with positive weight",
            found=f"{int((weights[mm.missing] > 0).sum())} rows with missing values",
            hint="subset the design to the complete cases first",
        )
    return mm.y, mm.X, mm.names


def _fit_messages(fit: IrlsFit, family: Family, prior: np.ndarray, max_iter: int) -> list[str]:
    """R's ``glm.fit`` warnings: no convergence; fitted probabilities (rates) 0 or 1."""
    out = []
    if not fit.converged:
        out.append(f"the GLM fit did not converge in {max_iter} iterations; coefficients and "
                   "standard errors are not reliable")
    if fitted_boundary(fit, family, prior):
        what = "probabilities numerically 0 or 1" if family.kind == "binomial" else "rates numerically 0"
        out.append(f"fitted {what} occurred: the model separates the response (the "
                   "maximum-likelihood estimate may not exist)")
    return out


def glm(design: Any, formula: str, *, family: str = "gaussian", level: float = 0.95,
        max_iter: int = 25) -> GlmResult:
    """Fit a design-based GLM.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
    formula : str
        ``"y ~ x1 + x2"`` in R's notation, read by :mod:`surveycore.formula` (never evaluated
        as code): columns, ``C(x)``/``factor(x)`` (string columns too) with treatment
        contrasts, ``I()`` of arithmetic on columns (``I(x == 'Yes')`` builds a 0/1 response),
        ``log``, ``exp``, ``sqrt``, ``poly(x, k)``, ``a:b`` and ``a*b``.
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"}
        Canonical links (identity, logit, log). Coefficients and design-based standard errors do
        not depend on the ``quasi`` choice (as in R).
    level : float
        Confidence level of the table's intervals.
    max_iter : int
        Most IRLS iterations (R's ``glm.control(maxit=25)``).

    Prior weights are the design weights divided by their mean over the rows of the design as R
    holds it: the rows with positive weight (R's ``subset(design, ...)`` drops the other rows),
    or every row when the weights carry a calibration, post-stratification or raking record
    (R's subsets of calibrated designs keep all rows with weight zero). Coefficients and SEs
    do not depend on this scale in exact arithmetic; it fixes IRLS's starting values and so
    its last iterate, to R's. A fit that
    does not converge, or whose fitted probabilities are numerically 0 or 1 (separation),
    raises a :class:`~surveycore.SurveyWarning` and is flagged in ``converged``,
    ``separation`` and ``messages``.

    Returns
    -------
    GlmResult
        ``result.table`` is the tidy coefficient frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import SurveyDesign
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "w": [2.0] * 8,
    ...                    "y": [1, 2, 3, 4, 5, 6, 7, 9],
    ...                    "mig": ["no", "yes", "no", "no", "yes", "yes", "no", "yes"]})
    >>> d = SurveyDesign(df, ids="psu", weights="w")
    >>> d.glm("y ~ I(mig == 'yes')").table[["variable", "estimate", "se"]].round(3)
                  variable  estimate     se
    0          (Intercept)      3.75  1.237
    1  I(mig == 'yes')TRUE      1.75  0.270
    """
    check_option(family, FAMILIES, "family")
    check_level(level)
    max_iter = check_count(max_iter, "max_iter")
    fam = Family(family)
    w_design = np.asarray(design.weights, dtype=float)
    y, X, terms = model_matrices(design.data, formula, w_design)
    fam.check_response(y, w_design)
    # R's svyglm divides the weights by their mean over the rows of the (subset) design: the rows
    # with positive weight, or every row of a calibrated, post-stratified or raked design,
    # whose subsets keep all rows (the start of R's IRLS, and so its last iterate, depends on it)
    rows = design.domain_rows(np.where(w_design > 0, 0, -1), 1)[0]
    prior = w_design / (w_design.sum() / rows)
    full = irls(X, y, prior, fam, max_iter=max_iter)
    messages = _fit_messages(full, fam, prior, max_iter)
    for message in messages:
        warnings.warn(message, SurveyWarning, stacklevel=3)
    naive = full.bread(X)

    unconverged = [0]  # replicate refits that did not converge

    def statistic(weights: np.ndarray) -> np.ndarray:
        if weights is w_design or np.array_equal(weights, w_design):
            return full.coef
        s = weights.sum()
        refit = irls(X, y, weights / s, fam, start=full.coef, max_iter=max_iter)
        unconverged[0] += not refit.converged
        return refit.coef

    def influence(weights: np.ndarray) -> np.ndarray:
        if weights is w_design or np.array_equal(weights, w_design):
            fit, bread = full, naive
        else:
            fit = irls(X, y, weights / weights.mean(), fam)
            bread = fit.bread(X)
        return fit.estfun(X, y, fam) @ bread

    engine = design.engine()
    problem = GeneralProblem(statistic, influence)
    reps = replication = None
    if hasattr(engine, "replicate_general"):
        from estimation.replicates.engine import replicate_covariance

        coef, reps = engine.replicate_general(problem)
        cov = replicate_covariance(reps, coef, engine.scale, engine.rscales, engine.mse)
        replication = {"scale": engine.scale, "rscales": engine.rscales, "mse": engine.mse}
    else:
        coef, cov = engine.solve_general(problem)
    df_resid = float(design.degf()) + 1 - X.shape[1]
    if unconverged[0]:
        messages.append(f"the GLM refit did not converge on {unconverged[0]} replicate(s); "
                        "the replicate standard errors are not reliable")
        warnings.warn(messages[-1], SurveyWarning, stacklevel=2)
    return GlmResult(terms, np.asarray(coef), np.asarray(cov), naive, df_resid, family,
                     full.deviance, level, full, full.converged,
                     fitted_boundary(full, fam, prior), tuple(messages), reps, replication)
