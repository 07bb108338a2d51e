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
from estimation.results import tidy
from estimation.variables import Columns, analysis_columns
from surveycore.checks import (
    as_name_list,
    check_by_complete,
    check_denominators,
    check_df,
    check_level,
    check_option,
)
from surveycore.errors import SurveyError

DfOption = float | int | Literal["design"] | None


def _domain_totals(values: np.ndarray, w: np.ndarray, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
    """Weighted totals of each column of ``values`` in each domain, shape (D, k)."""
    wv = values * w[:, None]
    if domain is None:
        return wv.sum(axis=0)[None, :]
    inside = domain >= 0
    return np.stack([np.bincount(domain[inside], weights=wv[inside, j], minlength=n_domains)
                     for j in range(values.shape[1])], axis=1)


class BaseDesign:
    """Data, weights and a variance engine; the public estimators.

    Subclasses provide ``_engine_for(weights)``, ``degf()``, ``_domain_degf(domain, D)`` and
    ``_with_weights(weights)``.
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
        """The design's private copy of the data (never the caller's frame)."""
        return self._data

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

    # -- helpers -------------------------------------------------------------------------------
    def _domain_index(self) -> DomainIndex:
        """Cached codes of ``by`` cells; shared by designs built on the same data (subsets)."""
        index = self.__dict__.get("_domains_index")
        if index is None:
            index = DomainIndex(self._data)
            self.__dict__["_domains_index"] = index
        return index

    def _columns(self, variables: str | Sequence[str], argument: str = "variables") -> Columns:
        return analysis_columns(self._data, as_name_list(variables, argument), argument)

    def _domains(self, by, missing: np.ndarray, na_rm: bool, argument: str):
        active = self._w > 0
        bad = missing & active
        if bad.any() and not na_rm:
            raise SurveyError(
                f"{argument} has missing values",
                argument=argument,
                expected="no missing values in rows with positive weight",
                found=f"{int(bad.sum())} rows with missing values",
                hint="pass na_rm=True to estimate over the rows where the variable is observed",
            )
        by = as_name_list(by, "by")
        check_by_complete(self._data, by, active, na_rm)
        usable = active & ~missing
        domain, labels = self._domain_index().domains(by, usable)
        if domain is None and not usable.all():
            domain = np.where(usable, 0, -1).astype(np.int64)
        return domain, labels

    def _counts(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        if domain is None:
            return np.array([self.n])
        if n_domains == 1:
            return np.array([np.count_nonzero(domain >= 0)])
        return np.bincount(domain + 1, minlength=n_domains + 1)[1:]

    def _df_for_ci(self, df: DfOption, domain: np.ndarray, n_domains: int):
        if df is None:
            return None
        if isinstance(df, str):
            check_option(df, ["design"], "df")
            return self._domain_degf(domain, n_domains)
        return float(df)

    def _deff(self, problem: RatioProblem, estimate: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Design effect against SRS without replacement, as R's ``deff=TRUE``.

        ``deff = V / V_srs`` with ``V_srs = s²_z N̂² (N̂ − n)/(N̂ n)`` for the linearised variable
        ``z`` of the estimator (``z = y`` for totals, ``(y − θ b)/B̂`` for ratios and means),
        ``s²_z`` its weighted variance with divisor ``n − 1``, ``N̂`` the domain's weight total.
        """
        w = self._w
        dom = problem.domain if problem.domain is not None else np.zeros(self.n, dtype=np.int64)
        D = problem.n_domains
        inside = dom >= 0
        d = np.maximum(dom, 0)
        a = problem.numerator
        if problem.denominator is None:
            z = a
        else:
            b = problem.denominator
            B = np.zeros((D, a.shape[1]))
            for j in range(a.shape[1]):
                B[:, j] = np.bincount(d[inside], weights=(w * b[:, j])[inside], minlength=D)
            z = (a - estimate[d] * b) / B[d]
        wi = np.where(inside, w, 0.0)
        psum = np.bincount(d[inside], weights=wi[inside], minlength=D)
        nobs = np.bincount(d[inside & (w != 0)], minlength=D).astype(float)
        out = np.empty_like(estimate)
        for j in range(a.shape[1]):
            zj = np.where(inside, z[:, j], 0.0)
            zbar = np.bincount(d[inside], weights=(wi * zj)[inside], minlength=D) / psum
            dev = np.where(inside, zj - zbar[d], 0.0)
            s2 = np.bincount(d[inside], weights=(wi * dev**2)[inside], minlength=D) / psum * nobs / (nobs - 1)
            vsrs = s2 * psum**2 * (psum - nobs) / (psum * nobs)
            out[:, j] = var[:, j] / vsrs
        return out

    def _reported_df(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        """Degrees of freedom reported with each domain's estimate (the design's, by default)."""
        return np.full(n_domains, self.degf())

    def _solve(self, problem, labels, cols_vars, cols_levels, *, deff, level, df, domain):
        level, df = check_level(level), check_df(df)
        est, cov = self._engine().solve_ratio(problem)
        var = np.diagonal(cov, axis1=1, axis2=2)
        se = np.sqrt(np.maximum(var, 0.0))
        D = problem.n_domains
        counts = self._counts(domain, D)
        ci_df = self._df_for_ci(df, domain, D)
        return tidy(
            labels,
            cols_vars,
            cols_levels,
            est,
            se,
            counts,
            design_df=ci_df if ci_df is not None else self._reported_df(domain, D),
            level=level,
            ci_df=ci_df,
            deff=self._deff(problem, est, var) if deff else None,
        )

    def _linear(self, variables, by, na_rm, deff, level, df, *, per_unit: bool) -> pd.DataFrame:
        """Means (``per_unit``: denominator one per row) or totals of the analysis columns."""
        cols = self._columns(variables)
        domain, labels = self._domains(by, cols.missing, na_rm, "variables")
        values = np.nan_to_num(cols.values)
        problem = RatioProblem(values, np.ones_like(values) if per_unit else None, domain, len(labels))
        return self._solve(problem, labels, cols.variables, cols.levels, deff=deff, level=level, df=df, domain=domain)

    # -- estimators ----------------------------------------------------------------------------
    def mean(
        self,
        variables: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: bool = False,
        level: float = 0.95,
        df: DfOption = None,
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
        deff : bool
            Add the design effect against SRS without replacement (as R).
        level : float
            Confidence level.
        df : None, number or "design"
            Interval from the normal distribution (None, R's default), Student t with the given
            degrees of freedom, or with the design's degrees of freedom.
        """
        return self._linear(variables, by, na_rm, deff, level, df, per_unit=True)

    def total(
        self,
        variables: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: bool = False,
        level: float = 0.95,
        df: DfOption = None,
    ) -> pd.DataFrame:
        """Horvitz–Thompson totals (counts per level for categorical variables), by domain.

        ``t̂_d = Σ_{i∈d} w_i y_i`` with score ``w_i y_i`` (R ``svytotal``). Parameters as
        :meth:`mean`.
        """
        return self._linear(variables, by, na_rm, deff, level, df, per_unit=False)

    def ratio(
        self,
        numerator: str | Sequence[str],
        denominator: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        deff: bool = False,
        level: float = 0.95,
        df: DfOption = None,
    ) -> pd.DataFrame:
        """Ratios of totals ``R̂ = t̂_y / t̂_x`` for every numerator × denominator pair, by domain.

        Score ``w_i (y_i − R̂ x_i)/t̂_x`` (Särndal et al. 1992, §5.6; R ``svyratio``). The
        ``variable`` column reads ``"y/x"``.
        """
        num = self._columns(numerator, "numerator")
        den = self._columns(denominator, "denominator")
        if any(lv is not None for lv in num.levels + den.levels):
            raise SurveyError(
                "ratio needs numeric variables",
                argument="numerator" if any(lv is not None for lv in num.levels) else "denominator",
                expected="numeric columns",
                found="a categorical column",
                hint="use mean() for shares of categories",
            )
        missing = num.missing | den.missing
        domain, labels = self._domains(by, missing, na_rm, "numerator")
        a = np.nan_to_num(num.values)
        b = np.nan_to_num(den.values)
        ii = np.repeat(np.arange(a.shape[1]), b.shape[1])
        jj = np.tile(np.arange(b.shape[1]), a.shape[1])
        problem = RatioProblem(a[:, ii], b[:, jj], domain, len(labels))
        check_denominators(_domain_totals(b, self._w, domain, len(labels)), labels, den.variables)
        names = [f"{num.variables[i]}/{den.variables[j]}" for i, j in zip(ii, jj)]
        return self._solve(problem, labels, names, [None] * len(names), deff=deff, level=level, df=df, domain=domain)

    def quantile(
        self,
        variables: str | Sequence[str],
        probs: float | Sequence[float] = 0.5,
        *,
        by: str | Sequence[str] | None = None,
        na_rm: bool = False,
        level: float = 0.95,
        df: DfOption = "design",
    ) -> pd.DataFrame:
        """Quantiles with Woodruff confidence intervals (see :mod:`estimation.quantile`)."""
        from estimation.quantile import woodruff_quantiles

        return woodruff_quantiles(self, variables, probs, by=by, na_rm=na_rm, level=level, df=df)

    def proportion(self, variable: str, *, method: str = "logit", by=None, level: float = 0.95, df=None, na_rm: bool = False) -> pd.DataFrame:
        """Proportions of each level with R ``svyciprop`` intervals (see :mod:`estimation.proportion`)."""
        from estimation.proportion import proportion

        return proportion(self, variable, method=method, by=by, level=level, df=df, na_rm=na_rm)

    def chisq(self, row: str, col: str, *, statistic: str = "F"):
        """Rao–Scott test of independence in a two-way table (see :mod:`estimation.chisq`)."""
        from estimation.chisq import chisq

        return chisq(self, row, col, statistic=statistic)

    def glm(self, formula: str, *, family: str = "gaussian", **options: Any):
        """Design-based generalised linear model (see :mod:`estimation.glm`)."""
        from estimation.glm import glm

        return glm(self, formula, family=family, **options)
