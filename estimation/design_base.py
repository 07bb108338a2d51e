"""Estimators shared by every design kind.

A design is data, weights and a variance engine (:mod:`estimation.problems`). The estimators
below only build problems — ratios of domain totals or general statistics with their
influence — and hand them to the engine, so linearisation (:class:`~estimation.design.SurveyDesign`)
and replicate designs (:class:`~estimation.replicates.design.ReplicateDesign`) share one
implementation of every estimator (R ``survey``'s design: estimators produce scores, one engine
turns them into variances; Lumley 2010, §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from estimation.domains import DomainIndex
from estimation.problems import RatioProblem, VarianceEngine
from estimation.results import check_finite_estimates, standard_errors, tidy
from estimation.variables import Analysis, Columns, analysis_columns, mask_all, mask_any, mask_count
from surveycore.checks import (
    as_name_list,
    check_by_complete,
    check_denominators,
    check_df,
    check_level,
    check_option,
)
from surveycore.errors import SurveyError
from surveycore.groups import Groups

DfOption = float | int | Literal["design"] | None
DeffOption = bool | Literal["replace"]
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


def check_deff(deff: DeffOption) -> str:
    """``deff``: False, True (against SRS without replacement, R's ``deff=TRUE``) or ``"replace"``."""
    if deff is True or deff is False or (isinstance(deff, (int, np.bool_)) and deff in (0, 1)):
        return "srswor" if deff else "none"
    check_option(deff, ["replace"], "deff")
    return "replace"


class BaseDesign:
    """Data, weights and a variance engine; the public estimators.

    Implements :class:`~estimation.problems.EstimationDesign` (``weights``, ``data``,
    ``engine()``, ``columns()``, ``analysis()``, ``domain_degf()``, ``degf()``), the only
    surface the estimator modules use. Subclasses provide ``_engine()``, ``degf()``,
    ``_domain_degf(domain, D)`` and ``_with_weights(weights)``.
    """

    _data: pd.DataFrame
    _w: np.ndarray

    # -- to be provided by each design kind ---------------------------------------------------
    def _engine(self) -> VarianceEngine:  # pragma: no cover - abstract
        raise NotImplementedError

    def degf(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _domain_degf(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _with_weights(self, weights: np.ndarray) -> BaseDesign:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- common properties ---------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The design's rows, as a copy: changing it changes nothing in the design.

        Under pandas' copy-on-write (pandas ≥ 3) the copy shares memory until either side is
        modified, so reading it costs nothing.
        """
        return self._data.copy(deep=not _COPY_ON_WRITE)

    @property
    def weights(self) -> np.ndarray:
        """Sampling weights (zero outside a subset); a read-only view."""
        view = self._w.view()
        view.flags.writeable = False
        return view

    @property
    def n(self) -> int:
        return len(self._w)

    def __len__(self) -> int:
        return len(self._w)

    def subset(self, mask: Any) -> BaseDesign:
        """A domain as a design: rows outside get weight zero, the full design is kept.

        Keeping every row (rather than dropping those outside) keeps the number of PSUs per
        stratum, so domain standard errors are right (Lumley 2010, §2.3; R's ``subset``).

        Parameters
        ----------
        mask : array-like of bool (n,)
            True for rows in the domain; a boolean Series must share the data's index.
        """
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self._data.index):
                raise SurveyError(
                    "subset mask is not aligned with the design's rows",
                    argument="mask",
                    expected="a boolean Series with the data's index (or an array of length n)",
                    found=f"a Series of length {len(mask)} with another index",
                )
            mask = mask.to_numpy()
        mask = np.asarray(mask)
        if mask.shape != (self.n,) or mask.dtype != bool:
            raise SurveyError(
                "subset needs one boolean per row",
                argument="mask",
                expected=f"{self.n} booleans",
                found=f"shape {mask.shape}, dtype {mask.dtype}",
                hint="build it from the data, e.g. d.subset(df['sex'] == 'F')",
            )
        if not (self._w * mask).sum() > 0:
            raise SurveyError(
                "subset is empty",
                argument="mask",
                expected="at least one row with positive weight",
                found="no row selected",
            )
        return self._with_weights(np.where(mask, self._w, 0.0))

    def _positive(self) -> tuple[np.ndarray, bool]:
        """Rows with positive weight (read-only) and whether that is every row, computed once
        per weights; when every weight is positive (found from their minimum) the mask is one
        value broadcast to every row, taking no memory."""
        cached = self.__dict__.get("_positive_rows")
        if cached is None or cached[0] is not self._w:
            if self._w.size and self._w.min() > 0:
                active = np.broadcast_to(np.True_, self._w.shape)
            else:
                active = self._w > 0
                active.flags.writeable = False
            cached = (self._w, active, mask_all(active))
            self.__dict__["_positive_rows"] = cached
        return cached[1], cached[2]

    # -- the estimator contract (EstimationDesign) ---------------------------------------------
    def engine(self) -> VarianceEngine:
        """The variance engine for this design's weights (Taylor or replicate)."""
        return self._engine()

    def domain_degf(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        """Degrees of freedom of each domain's subset design (R ``degf(subset(d, …))``)."""
        if domain is None:
            return np.array([self.degf()])
        return np.asarray(self._domain_degf(domain, n_domains), dtype=float)

    def domain_rows(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Rows of each domain's subset design (R ``nrow(subset(d, …))``): the domain's rows.

        Used where a formula takes the sample size, as the Korn–Graubard interval of
        :func:`~estimation.proportion.proportion` does.
        """
        inside = domain >= 0
        return np.bincount(domain[inside], minlength=n_domains).astype(float)

    def columns(self, variables: str | Sequence[str], argument: str = "variables") -> Columns:
        """The analysis matrix of ``variables`` (one-hot levels for categorical columns)."""
        return analysis_columns(self._data, as_name_list(variables, argument), argument)

    def analysis(
        self,
        columns: Columns,
        by: str | Sequence[str] | None = None,
        *,
        na_rm: bool = False,
        argument: str = "variables",
        missing: np.ndarray | None = None,
    ) -> Analysis:
        """Domains of ``by`` among the rows with positive weight where the variables are observed.

        Missing values in rows with positive weight are refused unless ``na_rm`` (then those
        rows are outside every domain, never dropped from the design). ``missing`` marks
        further rows to treat as missing (e.g. a ratio's denominator).
        """
        miss = columns.missing if missing is None else (columns.missing | missing)
        active, _ = self._positive()
        if not mask_any(miss):  # nothing missing: the rows with weight are the usable rows
            return self._analysis(columns, by, active, na_rm)
        bad = miss & active
        if bad.any() and not na_rm:
            raise SurveyError(
                f"{argument} has missing values",
                argument=argument,
                expected="no missing values in rows with positive weight",
                found=f"{int(bad.sum())} rows with missing values",
                hint="pass na_rm=True to estimate over the rows where the variable is observed",
            )
        return self._analysis(columns, by, active & ~miss, na_rm, keep_empty=True)

    def _analysis(self, columns: Columns, by, usable: np.ndarray, na_rm: bool, *, keep_empty: bool = False) -> Analysis:
        """The domains of ``by`` among the ``usable`` rows, and the analysis matrix.

        With ``keep_empty`` (values missing under ``na_rm=True``) the domains are those of the
        rows with positive weight, so a domain where the variable is missing everywhere stays
        in the result with ``n = 0`` (its estimate is then reported as not computable).
        """
        active, _ = self._positive()
        check_by_complete(self._data, by, active, na_rm)
        names = as_name_list(by, "by")
        domain, labels = self._domain_index().domains(names, active if keep_empty and names else usable)
        if domain is not None and keep_empty:
            domain = np.where(usable, domain, -1)
            counts = np.bincount(domain + 1, minlength=len(labels) + 1)[1:]
        elif domain is not None:
            counts = self._domain_index().sizes(domain, len(labels))
        if domain is None:
            counts = np.array([mask_count(usable)])
            if counts[0] == len(usable):  # every row in the one domain: code 0 broadcast, no memory
                domain = np.broadcast_to(np.int64(0), (len(usable),))
            else:
                domain = np.where(usable, np.int64(0), np.int64(-1))
        if domain.flags.writeable:  # shared by the estimate's steps (and their caches)
            domain = domain.view()
            domain.flags.writeable = False
        values = columns.values
        if mask_any(columns.missing):  # missing entries enter as zero (their rows are in no domain)
            values = np.where(np.isnan(values), 0.0, values)
        return Analysis(values, columns.variables, columns.levels, domain, labels, counts,
                        tuple(self.__dict__.get("_notes", ())))

    def _domain_index(self) -> DomainIndex:
        """Cached codes of ``by`` cells; shared by designs built on the same data (subsets)."""
        index = self.__dict__.get("_domains_index")
        if index is None:
            index = DomainIndex(self._data)
            self.__dict__["_domains_index"] = index
        return index

    def _deff(self, problem: RatioProblem, estimate: np.ndarray, var: np.ndarray, replace: bool = False) -> np.ndarray:
        """Design effect against SRS without replacement, as R's ``deff=TRUE`` (or with it).

        ``deff = V / V_srs`` with ``V_srs = s²_z N̂² (N̂ − n)/(N̂ n)`` for the linearised variable
        ``z`` of the estimator (``z = y`` for totals, ``(y − θ b)/B̂`` for ratios and means),
        ``s²_z`` its weighted variance with divisor ``n − 1``, ``N̂`` the domain's weight total;
        ``replace=True`` (R's ``deff="replace"``) compares with SRS with replacement,
        ``V_srs = s²_z N̂²/n`` (Kish 1965, §8.2).
        """
        w = self._w
        D = problem.n_domains
        dom = problem.domain if problem.domain is not None else np.zeros(self.n, dtype=np.int64)
        groups = Groups(dom, D)
        d = np.maximum(dom, 0)
        wi = np.where(dom >= 0, w, 0.0)
        a = problem.numerator
        if problem.denominator is None:
            z = a
        else:
            B = groups.sum(problem.denominator * w[:, None])
            z = (a - estimate[d] * problem.denominator) / B[d]
        psum = groups.sum(wi)[:, None]
        nobs = groups.sum((w != 0).astype(float))[:, None]
        zbar = groups.sum(wi[:, None] * z) / psum
        dev = z - zbar[d]
        s2 = groups.sum(wi[:, None] * dev**2) / psum * nobs / (nobs - 1)
        vsrs = s2 * psum**2 / nobs if replace else s2 * psum**2 * (psum - nobs) / (psum * nobs)
        return var / vsrs

    def _solve(self, problem, analysis: Analysis, variables, levels, *, deff, level, df, covariance=False):
        level, df = check_level(level), check_df(df)
        if isinstance(df, str):
            check_option(df, ["design"], "df")
        overflow: list[str] = []
        with np.errstate(over="call", invalid="ignore", call=lambda kind, _: overflow.append(kind)):
            est, cov = self.engine().solve_ratio(problem)  # overflow: refused or reported below
        check_finite_estimates(est, analysis.counts, variables)
        var = np.diagonal(cov, axis1=1, axis2=2)
        if overflow:  # a variance lost to overflow is not computable (never a negative variance)
            var = np.where(np.isnan(var), np.inf, var)
        se, notes = standard_errors(var, est)
        design_df = self.domain_degf(problem.domain, problem.n_domains)
        ci_df = None if df is None else design_df if isinstance(df, str) else float(df)
        out = tidy(
            analysis.labels,
            variables,
            levels,
            est,
            se,
            analysis.counts,
            design_df=design_df if ci_df is None else ci_df,
            level=level,
            ci_df=ci_df,
            deff=self._deff(problem, est, var, replace=check_deff(deff) == "replace") if deff else None,
            notes=[*analysis.notes, *notes],
        )
        if covariance:
            from estimation.contrast import attach_covariance

            return attach_covariance(self, problem, out, list(analysis.labels.columns), level)
        return out

    def _linear(self, variables, by, na_rm, deff, level, df, *, per_unit: bool, covariance: bool = False) -> pd.DataFrame:
        """Means (``per_unit``: denominator one per row) or totals of the analysis columns."""
        a = self.analysis(self.columns(variables), by, na_rm=na_rm)
        values = a.values
        # one domain holding every row: no domain codes to carry (RatioProblem's domain=None)
        domain = None if a.n_domains == 1 and a.counts[0] == self.n else a.domain
        ones = np.broadcast_to(1.0, values.shape) if per_unit else None  # read-only, no memory
        problem = RatioProblem(values, ones, domain, a.n_domains, per_unit=per_unit)
        return self._solve(problem, a, a.variables, a.levels, deff=deff, level=level, df=df, covariance=covariance)

    # -- estimators ----------------------------------------------------------------------------
    def mean(
        self,
        variables: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: DeffOption = False,
        level: float = 0.95,
        df: DfOption = None,
        covariance: bool = False,
    ) -> pd.DataFrame:
        """Weighted means (proportions per level for categorical variables), by domain.

        ``θ_d = Σ_{i∈d} w_i y_i / Σ_{i∈d} w_i``; linearised score ``w_i (y_i − θ_d)/N̂_d``
        (Särndal et al. 1992, §5.6; R ``svymean``/``svyby``).

        Parameters
        ----------
        variables : str or list of str
        by : str or list of str, optional
            Domain variables; every domain is estimated in one pass.
        na_rm : bool
            Treat rows where a variable is missing as outside the domain (never dropped from
            the design). Without it, missing values are refused.
        deff : bool or "replace"
            Add the design effect ``deff`` and its square root ``deft`` against SRS without
            replacement (True, R's ``deff=TRUE``) or with replacement (``"replace"``, R's
            ``deff="replace"``; Stata's ``estat effects``).
        level : float
            Confidence level.
        df : None, number or "design"
            Interval from the normal distribution (None, R's default), Student t with the given
            degrees of freedom, or with the design's degrees of freedom.
        covariance : bool
            Return an :class:`~estimation.contrast.Estimates` frame that also holds the
            covariance of all its estimates across variables and domains (R
            ``svyby(covmat=TRUE)``), with ``contrast()`` and ``nlcontrast()``.
        """
        return self._linear(variables, by, na_rm, deff, level, df, per_unit=True, covariance=covariance)

    def total(
        self,
        variables: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: DeffOption = False,
        level: float = 0.95,
        df: DfOption = None,
        covariance: bool = False,
    ) -> pd.DataFrame:
        """Horvitz–Thompson totals (counts per level for categorical variables), by domain.

        ``t̂_d = Σ_{i∈d} w_i y_i`` with score ``w_i y_i`` (R ``svytotal``). Parameters as
        :meth:`mean`.
        """
        return self._linear(variables, by, na_rm, deff, level, df, per_unit=False, covariance=covariance)

    def ratio(
        self,
        numerator: str | Sequence[str],
        denominator: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: DeffOption = False,
        level: float = 0.95,
        df: DfOption = None,
        covariance: bool = False,
    ) -> pd.DataFrame:
        """Ratios of totals ``R̂ = t̂_y / t̂_x`` for every numerator × denominator pair, by domain.

        Score ``w_i (y_i − R̂ x_i)/t̂_x`` (Särndal et al. 1992, §5.6; R ``svyratio``). The
        ``variable`` column reads ``"y/x"``.
        """
        num = self.columns(numerator, "numerator")
        den = self.columns(denominator, "denominator")
        if any(lv is not None for lv in num.levels + den.levels):
            raise SurveyError(
                "ratio needs numeric variables",
                argument="numerator" if any(lv is not None for lv in num.levels) else "denominator",
                expected="numeric columns",
                found="a categorical column",
                hint="use mean() for shares of categories",
            )
        an = self.analysis(num, by, na_rm=na_rm, argument="numerator", missing=den.missing)
        a = an.values
        b = np.nan_to_num(den.values)
        ii = np.repeat(np.arange(a.shape[1]), b.shape[1])
        jj = np.tile(np.arange(b.shape[1]), a.shape[1])
        problem = RatioProblem(a[:, ii], b[:, jj], an.domain, an.n_domains)
        totals = Groups(an.domain, an.n_domains).sum(b * self._w[:, None])
        observed = np.asarray(an.counts) > 0  # a domain with no observed row is reported as NaN
        check_denominators(np.where(observed[:, None], totals, np.nan), an.labels, den.variables)
        names = [f"{num.variables[i]}/{den.variables[j]}" for i, j in zip(ii, jj)]
        return self._solve(problem, an, names, [None] * len(names), deff=deff, level=level, df=df,
                           covariance=covariance)

    def var(
        self,
        variables: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        level: float = 0.95,
        df: DfOption = None,
        covariance: bool = False,
    ) -> pd.DataFrame:
        """Population variance of each variable, by domain, with its SE (R ``svyvar``; see
        :mod:`estimation.svyvar`); ``covariance=True`` adds their covariance matrix.

        ``S²_d = n_d/(n_d − 1) · Σ_{i∈d} w_i (y_i − ȳ_d)² / Σ_{i∈d} w_i``, with ``n_d`` counted as
        R counts it: under ``na_rm=True`` a linearisation design counts the domain's rows with
        positive weight *including* those with a missing value (R ``svyvar.survey.design``), a
        replicate design only the complete ones (R ``svyvar.svyrep.design``)."""
        from estimation.svyvar import survey_variance

        return survey_variance(self, variables, by=by, na_rm=na_rm, level=level, df=df, covariance=covariance)

    def quantile(
        self,
        variables: str | Sequence[str],
        probs: float | Sequence[float] = 0.5,
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        level: float = 0.95,
        df: DfOption = "design",
        qrule: str = "math",
        interval_type: str = "mean",
        covariance: bool = False,
    ) -> pd.DataFrame:
        """Quantiles with Woodruff (or replicate) confidence intervals (see :mod:`estimation.quantile`).

        ``qrule`` is one of R's rules (``"math"``, ``"school"``, ``"shahvaish"``, ``"hf1"`` …
        ``"hf9"``); ``interval_type`` one of ``"mean"``, ``"beta"``, ``"xlogit"``, ``"asin"``,
        ``"score"`` or, on replicate designs, ``"quantile"`` (R's ``interval.type``).
        ``covariance=True`` returns an :class:`~estimation.contrast.Estimates` frame: the full
        replicate covariance with ``interval_type="quantile"``, else the variances on the
        diagonal and NaN elsewhere (R's ``vcov`` of ``svyquantile``).
        """
        from estimation.quantile import woodruff_quantiles

        return woodruff_quantiles(self, variables, probs, by=by, na_rm=na_rm, level=level, df=df,
                                  qrule=qrule, interval_type=interval_type, covariance=covariance)

    def proportion(self, variable: str, *, method: str = "logit", by=None, level: float = 0.95, df=None, na_rm: bool = False,
                   covariance: bool = False) -> pd.DataFrame:
        """Proportions of each level with R ``svyciprop`` intervals (see :mod:`estimation.proportion`)."""
        from estimation.proportion import proportion

        return proportion(self, variable, method=method, by=by, level=level, df=df, na_rm=na_rm, covariance=covariance)

    def chisq(self, row: str, col: str, *, statistic: str = "F"):
        """Rao–Scott test of independence in a two-way table (see :mod:`estimation.chisq`)."""
        from estimation.chisq import chisq

        return chisq(self, row, col, statistic=statistic)

    def glm(self, formula: str, *, family: str = "gaussian", **options: Any):
        """Design-based generalised linear model (see :mod:`estimation.glm`)."""
        from estimation.glm import glm

        return glm(self, formula, family=family, **options)
