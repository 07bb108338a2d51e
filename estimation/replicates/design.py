"""``ReplicateDesign``: inference from replicate weights (supplied or generated).

Every estimator of :class:`~estimation.design_base.BaseDesign` (mean, total, ratio, quantile,
proportion, chisq, glm, by domain) works unchanged: the design only provides a
:class:`~estimation.replicates.engine.ReplicateEngine`. Variance
``scale Σ_r rscales_r (θ̂_r − θ̄)²`` (Wolter 2007; R ``survey``'s ``svrepdesign``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from estimation.design_base import BaseDesign
from estimation.replicates.engine import ReplicateEngine, replicate_covariance
from estimation.replicates.factors import PsuLayout, ReplicateFactors, generate
from surveycore.checks import (
    check_columns,
    check_frame,
    check_option,
    finite_numeric,
    to_pandas,
    weight_vector,
)
from surveycore.errors import SurveyError, SurveyWarning
from surveycore.regex import PatternError, compile_pattern

ReplicateType = Literal["bootstrap", "JK1", "JKn", "BRR", "Fay", "SDR", "other"]
TYPES = ["bootstrap", "JK1", "JKn", "BRR", "Fay", "SDR", "other"]
GENERATED_TYPES = ["JK1", "JKn", "BRR", "Fay", "bootstrap", "SDR"]
_TOL = 1e-6


def _replicate_columns(frame: pd.DataFrame, repweights: Any) -> list[str]:
    if isinstance(repweights, str):
        try:  # RE2: linear-time matching, no hang on a nested quantifier
            pattern = compile_pattern(repweights)
        except PatternError as exc:
            raise SurveyError(
                "repweights is not a regular expression RE2 can read",
                argument="repweights",
                expected="a regular expression without back-references or look-around, or a list of column names",
                found=f"{repweights!r} ({exc.detail})",
            ) from None
        names = [c for c in frame.columns if isinstance(c, str) and pattern.fullmatch(c)]
        if not names:
            names = [c for c in frame.columns if isinstance(c, str) and pattern.search(c)]
        if not names:
            raise SurveyError(
                "no column matches repweights",
                argument="repweights",
                expected="a pattern matching the replicate weight columns",
                found=repr(repweights),
                hint="columns: " + ", ".join(map(str, list(frame.columns)[:12])),
            )
        return names
    names = list(repweights)
    check_columns(frame, names, "repweights")
    return names


def _certainty_rows(frame: pd.DataFrame, certainty: Any) -> np.ndarray | None:
    if certainty is None:
        return None
    if isinstance(certainty, str):
        check_columns(frame, [certainty], "certainty")
        values = frame[certainty]
    else:
        values = pd.Series(np.asarray(certainty), index=frame.index)
    if len(values) != len(frame) or values.isna().any() or not set(pd.unique(values)) <= {False, True}:
        raise SurveyError(
            "certainty must mark each row as in a certainty PSU or not",
            argument="certainty",
            expected=f"{len(frame)} booleans without missing values",
            found=f"{len(values)} values",
        )
    return values.to_numpy().astype(bool)


def _factors_of(repw: np.ndarray, w: np.ndarray, combined: bool) -> np.ndarray:
    """Replicate factors ``w_ir / w_i`` on rows with positive weight (combined weights)."""
    active = w > 0
    if combined:
        return repw[active] / w[active, None]
    return repw[active]


def _near(x: np.ndarray, values: Sequence[float]) -> np.ndarray:
    ok = np.zeros(x.shape, dtype=bool)
    for v in values:
        ok |= np.abs(x - v) <= _TOL * max(1.0, abs(v))
    return ok


def _check_pattern(
    factors: np.ndarray, type: str, rho: float | None, calibrated: bool = False,
    certain: np.ndarray | None = None,
) -> str | None:
    """Refuse replicate weights that cannot come from ``type``; return a note when accepted as calibrated.

    Structural checks that calibration keeps (non-negative weights; each jackknife replicate
    deletes units, none twice; BRR half-samples) always refuse. Checks on the factor values
    (BRR/Fay ``{ρ, 2 − ρ}``, JK1 ``R/(R − 1)``, JKn ``≥ 1``, SDR ``1 ± 2^{−1/2}√(1 − f)``)
    only hold before calibration: with ``calibrated=True`` a deviation is a
    :class:`SurveyWarning` (and the returned note) instead of a refusal. Rows of certainty PSUs
    (``certain``) keep factor 1 in every replicate (any positive factor when calibrated).
    """
    R = factors.shape[1]

    def refuse(message: str, found: str, expected: str, hint: str | None = None) -> None:
        raise SurveyError(message, argument="repweights", expected=expected, found=found, hint=hint)

    if (factors < -_TOL).any():
        refuse(
            "replicate weights are negative",
            f"{int((factors < -_TOL).sum())} negative values",
            "non-negative replicate weights",
        )
    calibration_hint = "agency files are usually calibrated: pass calibrated=True to accept them"
    deviations: list[str] = []

    def value_check(bad: np.ndarray, message: str, found: str, expected: str, hint: str | None = None) -> None:
        if not bad.any():
            return
        if calibrated:
            deviations.append(f"{message} ({found})")
            return
        refuse(message, found, expected, hint)

    if certain is not None and certain.any():
        sure = factors[certain]
        if calibrated:
            if not (sure > _TOL).all():
                refuse("a certainty PSU has a zero replicate weight", "zero weights in certainty rows",
                       "certainty PSUs kept (factor 1) in every replicate")
        elif not _near(sure, [1.0]).all():
            refuse("certainty PSUs must keep their weight in every replicate",
                   f"factors such as {sure[~_near(sure, [1.0])][0]:g} in certainty rows",
                   "factor 1 in every replicate for the rows of certainty PSUs", calibration_hint)
        factors = factors[~certain]
    if type in ("BRR", "Fay"):
        r = 0.0 if type == "BRR" else float(rho)
        bad = ~_near(factors, [r, 2.0 - r])
        if type == "BRR" and calibrated:
            zero = _near(factors, [0.0])
            if not zero.any(axis=0).all():
                refuse("BRR replicate without a dropped half-sample",
                       f"replicate {int(np.flatnonzero(~zero.any(axis=0))[0]) + 1} has no zero weight",
                       "each BRR replicate drops one PSU of every stratum (weight zero)")
            bad = ~zero & ~_near(factors, [2.0])
        col = int(np.flatnonzero(bad.any(axis=0))[0]) if bad.any() else 0
        value_check(
            bad,
            f"replicate weights do not follow the {type} pattern",
            f"replicate {col + 1} has factors such as {factors[bad][0]:g}" if bad.any() else "",
            f"factors {r:g} or {2 - r:g} times the sampling weight",
            "check combined_weights, rho, or the replicate type; " + calibration_hint,
        )
    elif type in ("JK1", "JKn"):
        zero = _near(factors, [0.0])
        none = ~zero.any(axis=0)
        if none.any():
            refuse(
                f"{type} replicate without a deleted unit",
                f"replicate {int(np.flatnonzero(none)[0]) + 1} has no zero weight",
                "every jackknife replicate sets the weights of one PSU to zero",
            )
        twice = zero.sum(axis=1) > 1
        if twice.any():
            refuse(
                f"{type} replicates delete the same unit more than once",
                f"{int(twice.sum())} rows with zero weight in several replicates",
                "each PSU deleted in exactly one replicate",
            )
        if type == "JK1":
            expected = R / (R - 1)
            bad = ~zero & ~_near(factors, [expected])
            col = int(np.flatnonzero(bad.any(axis=0))[0]) if bad.any() else 0
            value_check(
                bad,
                "replicate weights do not follow the JK1 pattern",
                f"replicate {col + 1} has factor {factors[bad][0]:g}" if bad.any() else "",
                f"factor 0 for the deleted PSU and R/(R − 1) = {expected:g} elsewhere "
                f"({R} replicates, one per PSU)",
                "a stratified jackknife is type='JKn'; " + calibration_hint,
            )
        else:
            bad = ~zero & (factors < 1 - _TOL)
            value_check(
                bad,
                "replicate weights do not follow the JKn pattern",
                f"factors below one such as {factors[bad][0]:g}" if bad.any() else "",
                "factor 0 for the deleted PSU, n_h/(n_h − 1) in its stratum, 1 elsewhere",
                calibration_hint,
            )
    elif type == "SDR":
        # 1 + 2^{-1/2} s_i (−1, 0 or 1), s_i = √(1 − f_h) ≤ 1 constant along each row
        dev = np.abs(factors - 1.0)
        moved = dev > _TOL
        s_row = np.where(moved, dev, 0.0).max(axis=1)
        bad = (moved & ~np.isclose(dev, s_row[:, None], rtol=1e-6, atol=_TOL)) | (s_row > 2.0**-0.5 + _TOL)[:, None]
        value_check(
            bad,
            "replicate weights do not follow the successive-difference pattern",
            f"factors such as {factors[bad][0]:g}" if bad.any() else "",
            "factors 1 and 1 ± 2^(−1/2)·√(1 − f) times the sampling weight",
            "use type='other' with scale and rscales for other schemes; " + calibration_hint,
        )
    if not deviations:
        return None
    note = "accepted as calibrated replicate weights: " + "; ".join(deviations)
    warnings.warn(note, SurveyWarning, stacklevel=4)
    return note


class ReplicateDesign(BaseDesign):
    """A design whose variance comes from replicate weights.

    Parameters
    ----------
    data : DataFrame
        pandas or any narwhals-supported frame (a private copy is kept).
    weights : str or array-like
        Full-sample weights.
    repweights : str or list of str
        Regular expression matching the replicate columns (``"rw[0-9]+"``) or their names.
    type : {"bootstrap", "JK1", "JKn", "BRR", "Fay", "SDR", "other"}
        Replication method; fixes ``scale`` as R ``svrepdesign`` does: BRR ``1/R``, Fay
        ``1/(R(1 − ρ)²)``, SDR ``4/R``, bootstrap ``1/(R − 1)``, JK1 ``(R − 1)/R`` (all
        overridable only where R allows: bootstrap, JK1, JKn, other).
    scale : float, optional
    rscales : float or array-like (R,), optional
        Required for JKn (``(1 − f_h)(n_h − 1)/n_h`` of each replicate's stratum).
    mse : bool
        Centre the replicates at the full-sample estimate (``θ̂``) instead of their mean.
    rho : float, optional
        Fay's coefficient (type ``"Fay"`` only).
    combined_weights : bool
        The replicate columns already include the sampling weights (default); otherwise they
        are factors multiplied by ``weights``.
    calibrated : bool
        The replicate weights were calibrated (or otherwise adjusted) replicate by replicate,
        as agencies publish them: checks on the factor values that only hold before calibration
        warn (:class:`~surveycore.SurveyWarning`, kept in :attr:`notes`) instead of refusing.
    certainty : str or array-like of bool, optional
        Column (or mask) marking rows of certainty (self-representing) PSUs, which keep their
        weight in every replicate and are left out of the pattern checks.

    Replicate columns that cannot come from ``type`` (BRR factors outside {0, 2}, Fay factors
    outside {ρ, 2 − ρ}, jackknife replicates without exactly one deleted unit …) are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import SurveyDesign
    >>> from estimation.replicates import ReplicateDesign
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "w": [2.0] * 8,
    ...                    "y": [1, 2, 3, 4, 5, 6, 7, 9]})
    >>> r = SurveyDesign(df, ids="psu", weights="w").replicate("JK1")
    >>> r
    ReplicateDesign(JK1, 4 generated replicates, scale=0.75, mse=False, 8 rows)
    >>> supplied = pd.concat([df, r.replicate_weights()], axis=1)
    >>> s = ReplicateDesign(supplied, weights="w", repweights="rw[0-9]+", type="JK1")
    >>> s.mean("y")[["estimate", "se", "df"]].round(4)
       estimate      se   df
    0     4.625  1.3901  3.0
    """

    def __init__(
        self,
        data: Any,
        *,
        weights: Any = "pw",
        repweights: str | Sequence[str] = "rw[0-9]+",
        type: ReplicateType = "bootstrap",
        scale: float | None = None,
        rscales: Any = None,
        mse: bool = False,
        rho: float | None = None,
        combined_weights: bool = True,
        calibrated: bool = False,
        certainty: Any = None,
    ) -> None:
        frame = to_pandas(data).copy()
        check_frame(frame, "data", [weights] if isinstance(weights, str) else [])
        check_option(type, TYPES, "type")
        w = weight_vector(frame, weights)
        names = _replicate_columns(frame, repweights)
        repw = np.column_stack([finite_numeric(frame[c], "repweights") for c in names])
        R = repw.shape[1]
        if R < 2:
            raise SurveyError(
                "need at least two replicate weight columns",
                argument="repweights",
                expected="two or more columns",
                found=f"{R} column",
            )
        if type == "Fay":
            if rho is None or not 0 < rho < 1:
                raise SurveyError(
                    "Fay's method needs rho in (0, 1)",
                    argument="rho",
                    expected="0 < rho < 1",
                    found=repr(rho),
                )
        elif rho is not None:
            raise SurveyError(
                "rho applies to type='Fay' only",
                argument="rho",
                expected="None",
                found=repr(rho),
            )
        certain = _certainty_rows(frame, certainty)
        active = w > 0
        note = _check_pattern(_factors_of(repw, w, combined_weights), type, rho, calibrated,
                              None if certain is None else certain[active])
        if type in ("BRR", "Fay", "SDR") and (scale is not None or rscales is not None):
            raise SurveyError(
                f"type={type!r} fixes scale and rscales",
                argument="scale",
                expected="scale=None and rscales=None",
                found=f"scale={scale!r}, rscales={'given' if rscales is not None else None}",
                hint="use type='other' to set your own constants",
            )
        if type == "JKn" and rscales is None:
            raise SurveyError(
                "JKn replicate weights need rscales",
                argument="rscales",
                expected="(1 − f_h)(n_h − 1)/n_h for each replicate",
                found="None",
            )
        if type == "other" and scale is None:
            raise SurveyError(
                "type='other' needs scale",
                argument="scale",
                expected="the constant multiplying the sum of squared deviations",
                found="None",
            )
        default_scale = {
            "BRR": 1.0 / R,
            "Fay": 1.0 / (R * (1.0 - (rho or 0.0)) ** 2),
            "SDR": 4.0 / R,
            "bootstrap": 1.0 / (R - 1),
            "JK1": (R - 1) / R,
            "JKn": 1.0,
        }
        scale_v = float(scale) if scale is not None else default_scale[type]
        rs = np.ones(R) if rscales is None else np.atleast_1d(np.asarray(rscales, dtype=float))
        if rs.size == 1:
            rs = np.full(R, float(rs[0]))
        if rs.shape != (R,):
            raise SurveyError(
                "rscales must give one value per replicate",
                argument="rscales",
                expected=f"a number or {R} values",
                found=f"{rs.size} values",
            )
        if not np.isfinite(scale_v) or scale_v <= 0 or not np.isfinite(rs).all() or (rs < 0).any():
            raise SurveyError(
                "scale and rscales must be finite and non-negative (scale positive)",
                argument="scale",
                expected="scale > 0, rscales >= 0",
                found=f"scale={scale_v!r}",
            )
        if not combined_weights:
            repw = repw * w[:, None]
        self._data = frame
        self._w = w
        self._type = type
        self._rho = rho
        self._scale = scale_v
        self._rscales = rs
        self._mse = bool(mse)
        self._psu = None
        self._factors = None
        self._repw = repw
        self._degf = None
        self._notes = () if note is None else (note,)

    # -- construction from a SurveyDesign ---------------------------------------------------------
    @classmethod
    def _from_parts(
        cls,
        data: pd.DataFrame,
        w: np.ndarray,
        rf: ReplicateFactors,
        mse: bool,
        *,
        psu: np.ndarray | None = None,
        repw: np.ndarray | None = None,
    ) -> ReplicateDesign:
        new = object.__new__(cls)
        new._data = data
        new._w = w
        new._type = rf.type
        new._rho = rf.rho if rf.type == "Fay" else None
        new._scale = rf.scale
        new._rscales = rf.rscales
        new._mse = bool(mse)
        new._psu = psu if repw is None else None
        new._factors = rf.factors if repw is None else None
        new._repw = repw
        new._degf = None
        new._notes = ()
        return new

    # -- BaseDesign hooks --------------------------------------------------------------------------
    def _engine(self) -> ReplicateEngine:
        if self._repw is not None:
            return ReplicateEngine(self._w, self._scale, self._rscales, self._mse, repweights=self._repw)
        return ReplicateEngine(
            self._w, self._scale, self._rscales, self._mse, psu=self._psu, factors=self._factors
        )

    def degf(self) -> float:
        """Rank of the replicate weights of the rows with positive weight, minus one (R)."""
        if self._degf is None:
            self._degf = self._engine().degf()
        return float(self._degf)

    def _domain_degf(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        """Degrees of freedom of each domain's subset (R's ``degf`` of ``subset(design)``).

        For generated replicates the rank depends only on the PSUs a domain touches; ranks are
        cached by that set, so domains present in every PSU cost one computation.
        """
        if domain is None or n_domains == 1 and (domain >= 0).all():
            return np.full(n_domains, self.degf())
        engine = self._engine()
        active = (domain >= 0) & (self._w > 0)
        if self._factors is None:
            return np.array([float(engine.degf(domain == d)) for d in range(n_domains)])
        P = self._factors.shape[0]
        used = np.zeros((n_domains, P), dtype=bool)  # presence table of (domain, PSU): no sort, no hashing
        used[domain[active], self._psu[active]] = True
        cache = self.__dict__.setdefault("_rank_cache", {})
        out = np.empty(n_domains)
        for d in range(n_domains):
            key = used[d].tobytes()
            if key not in cache:
                cache[key] = float(engine.degf_psus(used[d]))
            out[d] = cache[key]
        return out

    def _with_weights(self, weights: np.ndarray) -> ReplicateDesign:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._w = weights
        new._degf = None
        if self._repw is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(self._w > 0, weights / np.where(self._w > 0, self._w, 1.0), 0.0)
            new._repw = self._repw * ratio[:, None]
        return new

    # -- public properties -------------------------------------------------------------------------
    @property
    def type(self) -> str:
        return self._type

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def rscales(self) -> np.ndarray:
        return self._rscales.copy()

    @property
    def mse(self) -> bool:
        return self._mse

    @property
    def n_replicates(self) -> int:
        return len(self._rscales)

    @property
    def notes(self) -> tuple[str, ...]:
        """Decisions taken when the replicate weights were accepted (e.g. as calibrated)."""
        return tuple(getattr(self, "_notes", ()))

    def replicate_spec(self) -> dict[str, Any]:
        """Keyword arguments that declare :meth:`replicate_weights` again with ``ReplicateDesign``.

        ``type``, ``rscales`` and ``mse``; ``scale`` where the type lets it be set (JK1, JKn,
        bootstrap, other); ``rho`` for Fay. With the exported weights (``rw1`` …) and the
        sampling weights, ``ReplicateDesign(frame, weights=..., repweights="rw[0-9]+",
        **r.replicate_spec())`` gives the same estimates and standard errors.
        """
        spec: dict[str, Any] = {"type": self._type, "rscales": self._rscales.copy(), "mse": self._mse}
        if self._type in ("JK1", "JKn", "bootstrap", "other"):
            spec["scale"] = self._scale
        else:
            spec["rscales"] = None
        if self._type == "Fay":
            spec["rho"] = self._rho
        return spec

    def with_replicates(self, func: Any, *, level: float = 0.95, df: Any = None,
                        covariance: bool = False) -> pd.DataFrame:
        """Standard errors for a statistic of the user's own: ``func(weights, data)`` (R ``withReplicates``).

        ``func`` is called with the full-sample weights and then with each replicate's weights
        (zero outside a subset) and the design's data; it returns a number, a sequence of
        numbers or a mapping name → number. The variance is the design's replicate formula,
        ``scale Σ_r rscales_r (θ̂_r − θ̄)²``.

        Returns
        -------
        DataFrame
            ``variable, level, estimate, se, ci_low, ci_high, cv, df, n``; ``variable`` holds the
            mapping's names (or ``theta``, ``theta1`` …). With ``covariance=True`` an
            :class:`~estimation.contrast.Estimates` frame carrying the replicate covariance of
            the values (R ``vcov(withReplicates(...))``) and the replicates, for contrasts.
        """
        from estimation.problems import GeneralProblem
        from estimation.results import tidy

        if not 0 < level < 1:
            raise SurveyError("level must be in (0, 1)", argument="level", expected="0 < level < 1",
                              found=repr(level), hint="95 % is level=0.95")
        if not callable(func):
            raise SurveyError("with_replicates needs a function", argument="func",
                              expected="func(weights, data) -> number(s)", found=repr(func))
        data = self._data
        first = func(self._w.copy(), data)
        names = list(first) if isinstance(first, dict) else None

        def statistic(w: np.ndarray) -> np.ndarray:
            value = func(np.asarray(w, dtype=float).copy(), data)
            if names is not None:
                value = [value[k] for k in names]
            return np.atleast_1d(np.asarray(value, dtype=float))

        engine = self._engine()
        est, reps = engine.replicate_general(GeneralProblem(statistic, None))
        cov = replicate_covariance(reps, est, engine.scale, engine.rscales, engine.mse)
        m = est.size
        if names is None:
            names = ["theta"] if m == 1 else [f"theta{j + 1}" for j in range(m)]
        var = np.diagonal(cov)
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        ci_df = None if df is None else (self.degf() if df == "design" else float(df))
        out = tidy(pd.DataFrame(index=[0]), names, [None] * m, est[None, :], se[None, :],
                   np.array([int((self._w > 0).sum())]), design_df=self.degf(), level=level, ci_df=ci_df)
        if not covariance:
            return out
        from estimation.contrast import Estimates

        replication = {"scale": engine.scale, "rscales": engine.rscales, "mse": engine.mse}
        return Estimates.build(out, cov, [], replicates=reps, replication=replication, level=level)

    def replicate_weights(self) -> pd.DataFrame:
        """The replicate weights (combined with the sampling weights), one column per replicate."""
        mat = self._engine().replicate_matrix()
        cols = [f"rw{r + 1}" for r in range(mat.shape[1])]
        return pd.DataFrame(mat, columns=cols, index=self._data.index)

    def __repr__(self) -> str:
        kind = "generated" if self._factors is not None else "supplied"
        return (
            f"ReplicateDesign({self._type}, {self.n_replicates} {kind} replicates, "
            f"scale={self._scale:.6g}, mse={self._mse}, {self.n} rows)"
        )


def from_design(
    design: Any,
    type: str,
    *,
    replicates: int | None = None,
    seed: int | np.random.Generator | None = None,
    rho: float | None = None,
    mse: bool = False,
    order: str | None = None,
) -> ReplicateDesign:
    """Replicate weights generated from a :class:`~estimation.design.SurveyDesign`.

    Factors come from the design's first stage (:mod:`estimation.replicates.factors`), with R
    ``as.svrepdesign``'s conventions: JK1 for unstratified designs, JKn/BRR/Fay for stratified
    ones, first-stage fpc used by JK1, JKn, bootstrap and SDR and dropped (with a warning) by
    BRR and Fay. When the design's weights are a :class:`weighting.Weights`, each replicate's
    base weights ``w⁰_i f_{p(i) r}`` are re-weighted through the recorded chain
    (nonresponse, calibration, trimming) with ``Weights.replay`` — the replicate variance then
    includes the weighting (Wolter 2007, §4.7; R's ``calibrate`` on a replicate design).
    When the chain starts on households and was expanded to the design's persons
    (``Weights.expand``), each household takes the factor of its PSU, found through the
    design's PSU column (``ids``, with the strata when ``nest=True``) in ``Weights.base_data``,
    and the household steps are re-run on every replicate. A replicate that empties a cell a
    step must fill (post-stratum, raking or calibration level, nonresponse class) is refused
    with the replicate and the cell named.

    Parameters
    ----------
    design : SurveyDesign
    type : {"JK1", "JKn", "BRR", "Fay", "bootstrap", "SDR"}
    replicates : int, optional
        Number of bootstrap replicates (default 50) or SDR Hadamard order.
    seed : int or numpy.random.Generator, optional
        Randomness of the bootstrap.
    rho : float, optional
        Fay's coefficient (``type="Fay"``; ``type="BRR"`` with ``rho`` is Fay's method).
    mse : bool
        Centre replicates at the full-sample estimate.
    order : str, optional
        SDR only: column giving the order of the PSUs within strata (the frame's sort order at
        selection, which successive differences must follow); default the order of first
        appearance in the data. It must be constant within each PSU.
    """
    check_option(type, GENERATED_TYPES, "type")
    stages = design._stages
    stage = stages[0]
    if getattr(design, "_dcheck", None) is not None:
        raise SurveyError(
            "replicate weights are not available for PPS designs without replacement",
            argument="type",
            expected="a design declared without pps=",
            found="a PPS design",
            hint="declare the design without pps (with-replacement approximation) to replicate",
        )
    layout = PsuLayout.from_stage(stage)
    if type in ("JKn", "BRR", "Fay") and layout.n_strata < 2:
        raise SurveyError(
            f"{type} needs a stratified design",
            argument="type",
            expected="JK1, bootstrap or SDR for an unstratified design",
            found="one stratum",
        )
    if type == "JK1" and layout.n_strata > 1:
        raise SurveyError(
            "JK1 needs an unstratified design",
            argument="type",
            expected="JKn, BRR, Fay, bootstrap or SDR for a stratified design",
            found=f"{layout.n_strata} strata",
            hint="type='JKn' is the delete-one-PSU jackknife within strata (as R's as.svrepdesign)",
        )
    if type in ("BRR", "Fay") and np.isfinite(layout.popsize).any():
        warnings.warn(
            "finite population correction dropped in conversion to BRR/Fay", stacklevel=3
        )
        layout = PsuLayout(layout.stratum, layout.first_row, layout.stratum_labels, np.full(layout.n_psu, np.inf))
    if len(stages) > 1 and np.isfinite(stages[1].popsize).any() and type not in ("BRR", "Fay"):
        warnings.warn("finite population corrections after the first stage are dropped", stacklevel=3)
    if rho is not None and type not in ("BRR", "Fay"):
        raise SurveyError(
            "rho applies to BRR/Fay only",
            argument="rho",
            expected="None",
            found=repr(rho),
        )
    if replicates is not None and type not in ("bootstrap", "SDR"):
        raise SurveyError(
            "replicates applies to bootstrap and SDR only",
            argument="replicates",
            expected="None",
            found=repr(replicates),
        )
    order_key = None
    if order is not None:
        if type != "SDR":
            raise SurveyError("order applies to SDR only", argument="order", expected="None",
                              found=repr(order))
        order_key = _psu_order(design._data, order, stage)
    if type == "BRR" and rho:
        type = "Fay"
    rf = generate(
        layout,
        type,
        replicates=replicates,
        seed=seed,
        rho=rho,
        lonely_psu=getattr(design, "_lonely", "fail"),
        order_key=order_key,
    )
    w = np.asarray(design._w, dtype=float)
    wobj = getattr(design, "_weights_obj", None)
    if wobj is None:
        return ReplicateDesign._from_parts(design._data, w, rf, mse, psu=stage.cluster)
    if not hasattr(wobj, "replay"):
        raise SurveyError(
            "these weights cannot be replayed on replicates",
            argument="weights",
            expected="a weighting.Weights object with replay()",
            found=wobj.__class__.__name__,
        )
    base = np.asarray(wobj.base_values, dtype=float)
    if base.size == len(w):
        base_matrix = base[:, None] * rf.factors[stage.cluster]
        repw = wobj.replay(base_matrix, out=base_matrix)  # in place: one n × R matrix, not three
    else:  # the chain starts on households: their PSUs come from the design's PSU column
        hh_psu = _origin_psus(design, wobj, base)
        repw = wobj.replay(base[:, None] * rf.factors[hh_psu])
    # rows outside a subset keep zero weight in every replicate
    repw[w <= 0] = 0.0
    return ReplicateDesign._from_parts(design._data, w, rf, mse, repw=repw)


def _psu_order(data: pd.DataFrame, column: str, stage: Any) -> np.ndarray:
    """Rank of each PSU by ``column`` (constant within PSUs), for SDR's successive differences."""
    check_columns(data, [column], "order")
    values = data[column]
    if values.isna().any():
        raise SurveyError("the SDR order column has missing values", argument="order",
                          expected="a sort key on every row", found=f"{int(values.isna().sum())} missing")
    per_psu = pd.Series(values.to_numpy()).groupby(stage.cluster).nunique()
    if (per_psu > 1).any():
        raise SurveyError("the SDR order varies within a PSU", argument="order",
                          expected="one sort key per PSU",
                          found=f"{int((per_psu > 1).sum())} PSUs with several values")
    first = np.zeros(stage.n_clusters, dtype=np.int64)
    first[stage.cluster[::-1]] = np.arange(len(stage.cluster) - 1, -1, -1)
    return pd.Series(values.to_numpy()[first]).rank(method="first").to_numpy()


def _origin_psus(design: Any, wobj: Any, base: np.ndarray) -> np.ndarray:
    """First-stage unit code of every row the weighting chain started from (households).

    A household takes the PSU of the person row where the linearised variance places its
    adjustment (``Weights.base_anchor``: its first member, or for a household without
    members the first person of its PSU), so replicates and linearisation agree — also when
    the design's PSUs are finer than the PSUs of the expansion (households of a
    self-representing certainty PSU). Households without such a row are matched on the
    design's PSU column (with its strata when ``nest=True``); households with base weight
    whose PSU has no row in the design are refused: the replicates could not delete or
    resample them.
    """
    data = design._data
    cluster = np.asarray(design._stages[0].cluster)
    pos = np.full(base.size, -1, dtype=np.int64)
    anchor = getattr(wobj, "base_anchor", None)
    if anchor is not None and len(wobj.data) == len(data) and anchor.size == base.size:
        placed = anchor >= 0
        pos[placed] = cluster[anchor[placed]]
    if not ((pos < 0) & (base > 0)).any():
        return np.where(pos >= 0, pos, 0)
    origin = wobj.base_data
    spec = design._spec
    if not spec["ids"]:
        raise SurveyError(
            "the weighting chain starts on other rows than the design's, and the design "
            "has no PSU column to match them",
            argument="ids",
            expected="a design with ids= naming the PSU column of both frames",
            found="ids=None",
        )
    cols = [spec["ids"][0]] + (list(spec["strata"]) if spec["nest"] else [])
    missing = [c for c in cols if c not in origin.columns]
    if missing:
        raise SurveyError(
            "the frame the weighting chain started from lacks the design's PSU column",
            argument="weights",
            expected=f"columns {cols} in Weights.base_data",
            found=f"missing {missing}",
        )
    key_d = pd.MultiIndex.from_frame(data[cols]) if len(cols) > 1 else pd.Index(data[cols[0]])
    key_o = pd.MultiIndex.from_frame(origin[cols]) if len(cols) > 1 else pd.Index(origin[cols[0]])
    first = pd.Series(np.arange(len(data))).groupby(cluster).first().to_numpy()
    pos = np.where(pos >= 0, pos, key_d[first].get_indexer(key_o))
    lost = (pos < 0) & (base > 0)
    if lost.any():
        labels = pd.unique(np.asarray(key_o[lost], dtype=object))
        raise SurveyError(
            "PSUs of the weighting chain without any row in the design",
            argument="weights",
            expected="every PSU of the household sample present in the person design",
            found=f"{len(labels)} PSUs, e.g. {', '.join(map(str, labels[:5]))}",
            hint="collapse such a PSU with a neighbouring one of its stratum, or estimate "
            "from a design on the households",
        )
    return np.where(pos >= 0, pos, 0)
