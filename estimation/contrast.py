"""Covariances of estimates across variables and domains, and contrasts of them.

``d.total("y", by="region", covariance=True)`` returns an :class:`Estimates` frame: the usual
tidy rows plus the covariance matrix of all its estimates (R ``svyby(..., covmat=TRUE)``,
``vcov``), so that linear combinations and smooth functions of estimates from different
variables and domains get their standard errors (R ``svycontrast``; Stata ``lincom``/``nlcom``):

* :meth:`Estimates.contrast` — ``L θ̂`` with variance ``L V Lᵀ`` (difference of two domains, a
  weighted average of regions);
* :meth:`Estimates.nlcontrast` — ``g(θ̂)`` with the delta-method variance ``J V Jᵀ``, ``J`` the
  Jacobian of ``g`` (Wolter 2007, ch. 6), computed to machine precision by complex-step
  differentiation (Squire & Trapp 1998) or given by the user, on every design (R's
  ``svycontrast`` default). On replicate designs ``return_replicates=True`` evaluates ``g`` on
  every replicate instead (R's ``svycontrast`` after ``return.replicates=TRUE``).

Joint covariance: the weighted linearised scores of every (domain, variable) are laid out as
columns, each zero outside its domain, and passed once through the design's variance engine;
every calibration record residualises each domain's column on its own (domain-first). A
replicate engine returns the replicate estimates of every cell, whose covariance is the
replicate formula applied to all of them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from estimation.problems import RatioProblem
from surveycore.errors import SurveyError

MAX_CELLS = 2000


def _expand(scores: np.ndarray, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
    """(n, D·k) matrix: column ``d·k + j`` holds score ``j`` on the rows of domain ``d``."""
    n, k = scores.shape
    if domain is None or n_domains == 1:
        inside = np.ones(n, dtype=bool) if domain is None else domain >= 0
        return np.where(inside[:, None], scores, 0.0)
    out = np.zeros((n, n_domains * k))
    rows = np.flatnonzero(domain >= 0)
    cols = domain[rows, None] * k + np.arange(k)
    out[rows[:, None], cols] = scores[rows]
    return out


def joint_covariance(engine: Any, problem: RatioProblem, weights: np.ndarray):
    """Estimates (D, k), their covariance (D·k, D·k) and replicate estimates (R, D·k) or None."""
    from estimation.taylor import ratio_scores

    D = problem.n_domains
    k = problem.numerator.shape[1]
    if D * k > MAX_CELLS:
        raise SurveyError(
            "too many estimates for a joint covariance matrix",
            argument="covariance",
            expected=f"at most {MAX_CELLS} domain × variable cells",
            found=f"{D} domains × {k} columns",
            hint="ask for the covariance of fewer domains or variables",
        )
    if hasattr(engine, "replicate_ratios"):
        from estimation.replicates.engine import replicate_covariance

        est, reps = engine.replicate_ratios(problem)
        flat = reps.reshape(reps.shape[0], D * k)
        cov = replicate_covariance(flat, est.ravel(), engine.scale, engine.rscales, engine.mse)
        return est, cov, flat
    if not getattr(engine, "joint_domains", True):
        raise SurveyError(
            "this design gives no covariance across domains",
            argument="covariance",
            expected="a design whose domains keep every phase-2 cluster",
            found="an uncalibrated two-phase design with method='approx' (R drops a domain's "
            "absent clusters from its phase-1 variance)",
            hint="declare the two-phase design with method='full' (R's default)",
        )
    est, scores = ratio_scores(problem, weights)
    cov = engine.covariance(_expand(scores, problem.domain, D))[0]
    return est, cov, None


def _names(frame: pd.DataFrame, by: list[str]) -> list[str]:
    """``"dom1:dom2:variable"`` (and ``":level"`` for categories, ``":p"`` for quantiles, e.g.
    ``"E:api00:0.5"``) for each row."""
    parts = [frame[c].astype(str) for c in by] + [frame["variable"].astype(str)]
    names = pd.concat(parts, axis=1).agg(":".join, axis=1)
    levels = frame["level"]
    has = levels.notna()
    names[has] = names[has] + ":" + levels[has].astype(str)
    if "quantile" in frame:
        names = names + ":" + frame["quantile"].map("{:g}".format)
    return names.tolist()


def _quadratic(L: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``L V Lᵀ`` over the estimates that enter ``L`` only: an unknown covariance (NaN, as R's
    ``vcov`` of quantiles off the diagonal) matters only where both estimates are used."""
    used = np.flatnonzero((L != 0).any(axis=0))
    Lu = L[:, used]
    return Lu @ cov[np.ix_(used, used)] @ Lu.T


def _short_names(frame: pd.DataFrame, by: list[str]) -> list[str] | None:
    """Domain labels alone (one estimated column) or variable[:level] alone (no domains)."""
    if not by or frame.groupby(by, sort=False).ngroups != len(frame):
        return None  # without domains the full names are the variables already
    short = pd.concat([frame[c].astype(str) for c in by], axis=1).agg(":".join, axis=1).tolist()
    return short if len(set(short)) == len(short) else None


class Estimates(pd.DataFrame):
    """A tidy estimate frame that also carries the covariance of its estimates.

    Attributes
    ----------
    covariance : DataFrame
        Covariance matrix of the ``estimate`` column, rows and columns named as :attr:`names`.
    names : list of str
        One name per row: ``"<by values>:<variable>[:<level>]"``; when unambiguous, the ``by``
        values alone (one variable) or the variable alone (no domains) are accepted as well.
    """

    _metadata = ["_cov", "_reps", "_rep", "_by", "_level"]

    @property
    def _constructor(self):
        return pd.DataFrame

    @classmethod
    def build(cls, frame: pd.DataFrame, cov: np.ndarray, by: list[str], *, replicates=None,
              replication: dict | None = None, level: float = 0.95) -> Estimates:
        out = cls(frame)
        out.attrs.update(frame.attrs)
        out._cov = np.asarray(cov, dtype=float)
        out._reps = replicates
        out._rep = replication
        out._by = list(by)
        out._level = level
        return out

    @property
    def names(self) -> list[str]:
        return _names(pd.DataFrame(self), self._by)

    @property
    def covariance(self) -> pd.DataFrame:
        return pd.DataFrame(self._cov, index=self.names, columns=self.names)

    @property
    def replicates(self) -> pd.DataFrame | None:
        """Replicate estimates (one row per replicate) on replicate designs, else None."""
        if self._reps is None:
            return None
        return pd.DataFrame(self._reps, columns=self.names)

    # -- contrasts ---------------------------------------------------------------------------------
    def _lookup(self) -> dict[str, int]:
        table = {n: i for i, n in enumerate(self.names)}
        short = _short_names(pd.DataFrame(self), self._by)
        if short is not None:
            for i, n in enumerate(short):
                table.setdefault(n, i)
        return table

    def _coefficients(self, spec: Any) -> np.ndarray:
        m = len(self)
        if isinstance(spec, Mapping):
            table = self._lookup()
            vec = np.zeros(m)
            for key, value in spec.items():
                if key not in table:
                    raise SurveyError(
                        "unknown estimate in a contrast",
                        argument="coefficients",
                        expected="names of this result's estimates: " + ", ".join(list(table)[:12]),
                        found=repr(key),
                    )
                vec[table[key]] += float(value)
            return vec
        vec = np.asarray(spec, dtype=float)
        if vec.shape != (m,):
            raise SurveyError(
                "a contrast needs one coefficient per estimate",
                argument="coefficients",
                expected=f"{m} numbers (or a mapping name → coefficient)",
                found=f"shape {vec.shape}",
            )
        return vec

    def _frame(self, names, est, var, df) -> pd.DataFrame:
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        q = 1 - (1 - self._level) / 2
        c = stats.norm.ppf(q) if df is None else stats.t.ppf(q, df)
        return pd.DataFrame({"contrast": names, "estimate": est, "se": se,
                             "ci_low": est - c * se, "ci_high": est + c * se,
                             "df": np.inf if df is None else float(df)})

    def contrast(self, coefficients: Any, *, df: float | None = None) -> pd.DataFrame:
        """Linear combinations ``L θ̂`` with standard errors ``√(L V Lᵀ)`` (R ``svycontrast``).

        Parameters
        ----------
        coefficients : mapping, sequence, or mapping of those
            ``{"R1": 1, "R2": -1}`` (names as :attr:`names`), one number per row, or several
            contrasts ``{"diff": {...}, "average": {...}}``.
        df : float, optional
            Degrees of freedom of the interval (normal when None).

        Returns
        -------
        DataFrame
            ``contrast, estimate, se, ci_low, ci_high, df``.
        """
        if isinstance(coefficients, Mapping) and coefficients and all(
            isinstance(v, (Mapping, list, tuple, np.ndarray)) for v in coefficients.values()
        ):
            names = list(coefficients)
            L = np.vstack([self._coefficients(v) for v in coefficients.values()])
        else:
            names = ["contrast"]
            L = self._coefficients(coefficients)[None, :]
        est = L @ self["estimate"].to_numpy(dtype=float)
        var = np.diagonal(_quadratic(L, self._cov)).copy()
        return self._frame(names, est, var, df)

    def contrast_covariance(self, coefficients: Mapping[str, Any]) -> pd.DataFrame:
        """Covariance matrix of several linear contrasts."""
        L = np.vstack([self._coefficients(v) for v in coefficients.values()])
        return pd.DataFrame(_quadratic(L, self._cov), index=list(coefficients), columns=list(coefficients))

    def nlcontrast(
        self,
        function: Callable[[dict[str, Any]], Any],
        *,
        name: str = "nlcontrast",
        gradient: Callable[[dict[str, Any]], Sequence[float]] | None = None,
        df: float | None = None,
        return_replicates: bool = False,
    ) -> pd.DataFrame:
        """A smooth function ``g(θ̂)`` with its delta-method standard error (R ``svycontrast``
        with an expression; Stata ``nlcom``).

        Parameters
        ----------
        function : callable
            Takes a mapping from each estimate's name (:attr:`names`, short names included) to
            its value and returns a number, e.g. ``lambda e: e["urban"] / e["rural"]``. It is
            also called with complex values to differentiate it (complex-step derivative, exact
            to rounding for functions built from arithmetic and numpy's elementary functions).
        gradient : callable, optional
            Its gradient with respect to the rows, for functions that cannot take complex input.
        df : float, optional
            Degrees of freedom of the interval (normal when None).
        return_replicates : bool
            ``False`` (default): the delta method ``J V Jᵀ`` on :attr:`covariance`, on every
            design, as R's ``svycontrast(svyby(..., covmat=TRUE), quote(...))`` and
            ``svycontrast(svyglm(...), quote(...))``. ``True`` (replicate designs only): ``g``
            is evaluated on every replicate's estimates and the replicate variance formula
            ``scale Σ_r rscales_r (g_r − ḡ)²`` (``g_r − g(θ̂)`` with ``mse=True``) is applied to
            them, as R does after ``svyby(..., return.replicates=TRUE)`` or
            ``svyglm(..., return.replicates=TRUE)``; the replicate values of ``g`` are returned
            in ``result.attrs["replicates"]``. The two agree to first order only.

        Returns
        -------
        DataFrame
            ``contrast, estimate, se, ci_low, ci_high, df``.
        """
        table = self._lookup()
        theta = self["estimate"].to_numpy(dtype=float)

        def call(values: np.ndarray):
            return function({key: values[i] for key, i in table.items()})

        est = complex(call(theta.astype(complex))).real if gradient is None else float(call(theta))
        if return_replicates:
            if self._reps is None:
                raise SurveyError(
                    "this estimate has no replicate estimates",
                    argument="return_replicates",
                    expected="an estimate from a replicate design (ReplicateDesign)",
                    found="an estimate from a linearisation design",
                    hint="leave return_replicates=False for the delta method on the covariance",
                )
            from estimation.replicates.engine import replicate_covariance

            reps = np.array([float(np.real(call(r))) for r in self._reps])
            r = self._rep
            var = replicate_covariance(reps[:, None], np.array([est]), r["scale"], r["rscales"], r["mse"])[0, 0]
            out = self._frame([name], np.array([est]), np.array([var]), df)
            out.attrs["replicates"] = reps
            return out
        if gradient is not None:
            jac = np.asarray(gradient({key: theta[i] for key, i in table.items()}), dtype=float)
        else:
            h = 1e-20 * np.maximum(1.0, np.abs(theta))
            jac = np.empty(len(theta))
            for j in range(len(theta)):
                step = theta.astype(complex)
                step[j] += 1j * h[j]
                value = call(step)
                if not np.iscomplexobj(np.asarray(value)):
                    raise SurveyError(
                        "the function cannot be differentiated by complex step",
                        argument="function",
                        expected="a function built from arithmetic and numpy functions",
                        found="a real result for a complex input",
                        hint="pass gradient= with its derivatives",
                    )
                jac[j] = np.imag(value) / h[j]
        var = float(_quadratic(jac[None, :], self._cov)[0, 0])
        return self._frame([name], np.array([est]), np.array([var]), df)


def attach_covariance(design: Any, problem: RatioProblem, frame: pd.DataFrame, by: list[str], level: float) -> Estimates:
    """The tidy ``frame`` of a ratio-type estimate with the joint covariance of its rows."""
    engine = design.engine()
    _, cov, reps = joint_covariance(engine, problem, np.asarray(design.weights))
    replication = None
    if reps is not None:
        replication = {"scale": engine.scale, "rscales": engine.rscales, "mse": engine.mse}
    return Estimates.build(frame, cov, by, replicates=reps, replication=replication, level=level)
