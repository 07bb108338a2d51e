"""``Weights``: survey weights with a recorded, replayable history.

Every step (eligibility, nonresponse, expansion from households to persons,
post-stratification, raking, calibration, trimming) returns a new immutable ``Weights`` with
the step appended to ``history``. The chain can be replayed on other base weights
(``replay``), which is how replicate weights are re-weighted — household steps included — and
each calibration, eligibility or nonresponse step leaves a variance record
(``variance_records``) that the linearisation uses (:mod:`weighting.records`,
:mod:`weighting.linearisation`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from surveycore import SurveyError, SurveyWarning
from surveycore.checks import (
    as_name_list,
    check_columns,
    check_frame,
    check_number,
    check_option,
    check_trim_bound,
    check_weights,
    to_pandas,
)
from weighting import calfun
from weighting._arrays import as_matrix
from weighting._options import (
    _PROPENSITY,
    _REDISTRIBUTE,
    _RELATIVE_TO,
    _TOL_UNITS,
    _bounds,
    _positive_float,
    _positive_int,
    _refuse_unknown,
)
from weighting._targets import check_margin_totals, parse_targets
from weighting.calibration import CalibrateStep, build_problem, record_for
from weighting.expand import ExpandStep, expansion
from weighting.history import StepRecord, extreme_g, make_record, targets_table
from weighting.linearisation import ClassAdjustmentRecord, ExpandBoundary, ordered_records
from weighting.nonresponse import (
    CATEGORIES,
    NONRESPONDENT,
    RESPONDENT,
    UNKNOWN,
    ClassAdjustStep,
    EligibilityStep,
    InversePropensityStep,
    class_codes,
    collapse_classes,
    disposition_classes,
    fit_propensity,
)
from weighting.raking import PostStratifyStep, RakeStep
from weighting.trimming import TrimCalibrateStep, TrimStep, caps

__all__ = ["Weights"]

def _nonresponse_record(status, codes, n_classes, before, after) -> ClassAdjustmentRecord:
    resp = status == RESPONDENT
    return ClassAdjustmentRecord(codes, n_classes, resp, resp | (status == NONRESPONDENT),
                                 before, after)


class Weights:
    """Survey weights and the recorded chain of adjustments that produced them.

    Parameters
    ----------
    data : DataFrame
        The sample (pandas or any narwhals-supported frame). A private copy is kept.
    base : str or array-like, optional
        Column of base (design) weights, or the weights themselves.
    probs : str or list of str, optional
        Column(s) of selection probabilities, one per stage; the base weight is
        ``1 / Π_s π_s``.

    Examples
    --------
    >>> w = (Weights(df, "pw")
    ...      .rake({"stype": {"E": 4421, "H": 755, "M": 1018},
    ...             "sch.wide": {"No": 1072, "Yes": 5122}})
    ...      .trim(upper=40))                                     # doctest: +SKIP
    >>> w.values, w.history, w.summary()                          # doctest: +SKIP
    """

    __slots__ = ("_data", "_origin", "_base", "_values", "_steps", "_history", "_records")

    def __init__(
        self,
        data: Any,
        base: str | Sequence[float] | np.ndarray | None = None,
        *,
        probs: str | Sequence[str] | None = None,
    ) -> None:
        # a private frame: with pandas copy-on-write a shallow copy is never changed by the
        # caller's later edits (nor ours by theirs), without copying the columns
        frame = to_pandas(data).copy(deep=False)
        check_frame(frame, "data", [base] if isinstance(base, str) else [])
        if (base is None) == (probs is None):
            raise SurveyError(
                "give either base weights or selection probabilities",
                argument="base",
                expected="Weights(df, 'weight_column') or Weights(df, probs=['p1', 'p2'])",
                found="both" if base is not None else "neither",
            )
        if probs is not None:
            cols = as_name_list(probs, "probs")
            check_columns(frame, cols, "probs")
            p = np.ones(len(frame))
            for c in cols:
                pc = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
                if not np.isfinite(pc).all() or (pc <= 0).any() or (pc > 1).any():
                    raise SurveyError(
                        f"selection probabilities in {c} must lie in (0, 1]",
                        argument="probs",
                        expected="0 < p <= 1 for every row",
                        found=f"{int((~np.isfinite(pc) | (pc <= 0) | (pc > 1)).sum())} bad values",
                    )
                p = p * pc
            values = 1.0 / p
            source = {"probs": cols}
        elif isinstance(base, str):
            check_columns(frame, [base], "base")
            values = check_weights(frame[base], f"base ({base})")
            source = {"base": base}
        else:
            arr = np.asarray(base)
            if arr.shape != (len(frame),):
                raise SurveyError("base weights must have one value per row", argument="base",
                                  expected=f"{len(frame)} values", found=f"shape {arr.shape}")
            values = check_weights(arr, "base")
            source = {"base": "array"}
        values = np.array(values, dtype=float)
        values.flags.writeable = False
        self._data = frame
        self._origin = frame
        self._base = values
        self._values = values
        self._steps: tuple = ()
        self._history: tuple[StepRecord, ...] = (make_record("base", source, values, values),)
        self._records: tuple = ()

    # ------------------------------------------------------------------ accessors
    @property
    def values(self) -> np.ndarray:
        """Final weights (read-only), aligned with the rows of ``data``."""
        return self._values

    @property
    def base_values(self) -> np.ndarray:
        """The weights the chain started from (read-only), one per row of :attr:`base_data`."""
        return self._base

    @property
    def base_data(self) -> pd.DataFrame:
        """The frame the chain started from: :attr:`data`, or the households before ``expand``."""
        return self._origin

    @property
    def data(self) -> pd.DataFrame:
        """The private copy of the sample."""
        return self._data

    @property
    def base_anchor(self) -> np.ndarray | None:
        """Row of :attr:`data` that holds each :attr:`base_data` row's part of the variance.

        After one :meth:`expand`: each household's first member row, or for a household
        without member rows the first person row of its PSU (``-1`` when there is none) — the
        row where the linearised variance places its adjustment, and whose PSU gives its
        replicate factor. ``None`` when the chain was not expanded, or was expanded more than
        once.
        """
        bounds = [r for r in self._records if isinstance(r, ExpandBoundary)]
        return bounds[0].anchor if len(bounds) == 1 else None

    @property
    def history(self) -> tuple[StepRecord, ...]:
        """One :class:`StepRecord` per step, the base weights first."""
        return self._history

    def to_series(self, name: str = "weight") -> pd.Series:
        """Final weights as a Series with the data's index."""
        return pd.Series(self._values, index=self._data.index, name=name)

    def variance_records(self) -> list:
        """The records the linearised variance applies, in the order it applies them.

        Each has ``residualize(x)``: calibration records (in chain order, as R survey) and
        the weighting-class records of eligibility and nonresponse adjustments, household
        steps before :meth:`expand` acting on household totals of the scores; see
        :mod:`weighting.linearisation`.
        """
        return ordered_records(self._records)

    def __len__(self) -> int:
        return self._values.size

    def __repr__(self) -> str:
        steps = " → ".join(h.step for h in self._history)
        return f"<Weights n={len(self)} sum={self._values.sum():,.6g} steps: {steps}>"

    # ------------------------------------------------------------------ chain plumbing
    def _extend(self, step, new: np.ndarray, record: StepRecord, var_record=None) -> Weights:
        if not np.isfinite(new).all() or (new < 0).any():
            raise SurveyError(  # pragma: no cover - guarded by each step
                f"step {record.step} produced invalid weights", argument=record.step,
                expected="finite weights >= 0", found="negative or non-finite weights")
        found = record.warnings + extreme_g(record.step, record.before_values, new)
        for text in found:
            warnings.warn(text, SurveyWarning, stacklevel=3)
        if found != record.warnings:
            record = dataclasses.replace(record, warnings=found)
        out = object.__new__(Weights)
        new = np.ascontiguousarray(new, dtype=float)  # a fresh array from the step
        new.flags.writeable = False
        out._data = self._data
        out._origin = self._origin
        out._base = self._base
        out._values = new
        out._steps = self._steps + (step,)
        out._history = self._history + (record,)
        out._records = self._records + (var_record,)
        return out

    def replay(self, base: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """Re-run every recorded step from other base weights, (n,) or (n, R) columns.

        Targets, options, bounds, classes and trimming caps are those recorded; raking uses the
        number of sweeps of the original fit (as R survey's ``rake`` on a replicate design),
        calibration iterates each column to convergence.

        Parameters
        ----------
        base : ndarray (m,) or (m, R)
            Base weights, one row per row of :attr:`base_data` (the households when the chain
            was expanded to persons), e.g. replicate base weights
            ``base_values[:, None] * factors``.
        out : ndarray, optional
            A float array of the shape of the result, ``(n,)`` or ``(n, R)`` with ``n`` the
            rows of :attr:`data` (numpy's ``out`` convention; without expansion it may be
            ``base`` itself, which saves an n × R allocation).
        """
        w, flat = as_matrix(base)
        if w.shape[0] != self._base.size:
            raise SurveyError("replay base weights must have one row per row the chain started from",
                              argument="base", expected=f"{self._base.size} rows",
                              found=f"shape {np.shape(base)}")
        target = None
        if out is not None:
            shape = (len(self),) + tuple(np.shape(base)[1:])
            if out.shape != shape or out.dtype != np.float64:
                raise SurveyError("out must be a float array of the shape of the result",
                                  argument="out", expected=f"float64 of shape {shape}",
                                  found=f"{out.dtype} of shape {out.shape}")
            target = out[:, None] if out.ndim == 1 else out
        if not self._steps:
            if target is None:
                return w[:, 0].copy() if flat else w.copy()
            target[...] = w
            return out
        for k, step in enumerate(self._steps):
            last = k == len(self._steps) - 1
            # intermediate results are ours: later steps may overwrite them
            dest = target if last else (w if k > 0 else None)
            result = step.replay(w, out=dest)
            if last and target is not None and result is not target:
                target[...] = result
                result = target
            w = result
        if out is not None:
            return out
        return w[:, 0] if flat else w

    # ------------------------------------------------------------------ eligibility, nonresponse
    def adjust_eligibility(
        self,
        disposition: str,
        *,
        codes: Mapping[str, Sequence[Any]] | None = None,
        by: str | Sequence[str] | None = None,
    ) -> Weights:
        """Spread the weight of unknown-eligibility cases over known-eligibility cases.

        ``f_c = Σ_{i∈c} w_i / Σ_{i∈c, known} w_i`` within each class ``c`` of ``by``;
        unknown-eligibility cases get weight 0 (Valliant, Dever & Kreuter 2018, §13.3).
        """
        status = disposition_classes(self._data, disposition, codes)
        cc, levels = class_codes(self._data, by)
        w = self._values
        unknown = status == 3
        known_w = np.bincount(cc, weights=w * ~unknown, minlength=len(levels))
        unk_w = np.bincount(cc, weights=w * unknown, minlength=len(levels))
        stranded = np.flatnonzero((unk_w > 0) & (known_w <= 0))
        if stranded.size:
            raise SurveyError(
                "a class has unknown-eligibility cases but no case of known eligibility",
                argument="by", expected="known-eligibility cases in every class",
                found=", ".join(str(levels[j]) for j in stranded),
                hint="use coarser classes")
        step = EligibilityStep(status, cc, len(levels), tuple(levels))
        new = step.replay(w[:, None])[:, 0]
        counts = {c: int((status == k).sum()) for k, c in enumerate(CATEGORIES)}
        rec = make_record("eligibility", {"disposition": disposition, "codes": codes, "by": by},
                          w, new, notes=(f"dispositions: {counts}",))
        var = ClassAdjustmentRecord(cc, len(levels), status != UNKNOWN,
                                    np.ones(len(w), dtype=bool), w, new)
        return self._extend(step, new, rec, var)

    def adjust_nonresponse(
        self,
        disposition: str,
        *,
        codes: Mapping[str, Sequence[Any]] | None = None,
        by: str | Sequence[str] | None = None,
        min_respondents: int = 20,
        max_factor: float = np.inf,
    ) -> Weights:
        """Weighting-class nonresponse adjustment.

        Respondents in class ``c`` are multiplied by ``Σ_{c, eligible} w / Σ_{c, respondents} w``;
        eligible nonrespondents get 0; ineligible cases keep their weight. Classes with fewer
        than ``min_respondents`` respondents or a factor above ``max_factor`` are merged with a
        neighbouring class (in sort order); each merge is written to the record's notes.
        """
        status = disposition_classes(self._data, disposition, codes)
        min_respondents = _positive_int(min_respondents, "min_respondents")
        max_factor = _positive_float(max_factor, "max_factor") if np.isfinite(max_factor) else np.inf
        w = self._values
        _refuse_unknown(status, w)
        cc, levels = class_codes(self._data, by)
        cc, notes, labels = collapse_classes(cc, levels, status, w, min_respondents, max_factor)
        step = ClassAdjustStep(status, cc, len(labels), tuple(labels))
        new = step.replay(w[:, None])[:, 0]
        rec = make_record("nonresponse", {"disposition": disposition, "codes": codes, "by": by,
                                          "method": "classes", "min_respondents": min_respondents,
                                          "max_factor": max_factor, "classes": labels},
                          w, new, notes=tuple(notes))
        return self._extend(step, new, rec, _nonresponse_record(status, cc, len(labels), w, new))

    def adjust_propensity(
        self,
        disposition: str,
        formula: str,
        *,
        codes: Mapping[str, Sequence[Any]] | None = None,
        method: Literal["inverse", "classes"] = "classes",
        n_classes: int = 5,
        min_respondents: int = 20,
    ) -> Weights:
        """Nonresponse adjustment by estimated response propensity.

        A survey-weighted logistic model ``logit P(respond) = formula`` (statsmodels GLM) is
        fitted among eligible cases. ``method="inverse"`` divides respondents' weights by p̂;
        ``method="classes"`` forms ``n_classes`` classes from quantiles of p̂ and adjusts
        within them (Little 1986). Replay keeps p̂ and the classes of the full sample.
        """
        check_option(method, _PROPENSITY, "method")
        status = disposition_classes(self._data, disposition, codes)
        w = self._values
        _refuse_unknown(status, w)
        p, model_warnings = fit_propensity(self._data, status, w, formula)
        resp = status == 0
        notes = [f"propensity range among respondents [{np.nanmin(p[resp]):.4g}, "
                 f"{np.nanmax(p[resp]):.4g}]"]
        if method == "inverse":
            step = InversePropensityStep(status, np.where(np.isnan(p), 1.0, p))
            labels = None
        else:
            n_classes = _positive_int(n_classes, "n_classes")
            elig = np.isfinite(p)
            edges = np.quantile(p[elig], np.linspace(0, 1, n_classes + 1)[1:-1])
            cc = np.searchsorted(edges, np.where(elig, p, 0.0), side="right").astype(np.intp)
            levels = [f"propensity class {k + 1}" for k in range(n_classes)]
            used = np.unique(cc)
            remap = np.full(n_classes, -1)
            remap[used] = np.arange(used.size)
            cc, levels = remap[cc], [levels[k] for k in used]
            cc, more, labels = collapse_classes(cc, levels, status, w, min_respondents, np.inf)
            notes += more
            step = ClassAdjustStep(status, cc, len(labels), tuple(labels))
        new = step.replay(w[:, None])[:, 0]
        var = None if labels is None else _nonresponse_record(status, cc, len(labels), w, new)
        rec = make_record("nonresponse", {"disposition": disposition, "codes": codes,
                                          "formula": formula, "method": f"propensity-{method}",
                                          "n_classes": n_classes, "classes": labels},
                          w, new, notes=tuple(notes), warnings=model_warnings)
        return self._extend(step, new, rec, var)

    # ------------------------------------------------------------------ households to persons
    def expand(self, persons: Any, household: str, *, psu: str | None = None) -> Weights:
        """Carry each household's weight to its members: the chain continues on the persons.

        ``w_p = w_{h(p)}`` for every person row ``p`` of household ``h(p)``, matched exactly
        on the ``household`` column of both frames. The result's :attr:`data` is ``persons``;
        its :attr:`base_data` and :attr:`base_values` stay the households', so
        :meth:`replay` (replicate weights) re-runs the household steps — eligibility,
        nonresponse — before the person steps, and the linearised variance includes them
        (:mod:`weighting.linearisation`).

        Parameters
        ----------
        persons : DataFrame
            One row per person (pandas or any narwhals-supported frame; a private copy is
            kept). Persons of households with weight 0 keep weight 0.
        household : str
            The household identifier, a column of both frames.
        psu : str, optional
            The first-stage unit (PSU) column of both frames. Required when an eligibility
            or nonresponse step gave weight to households without member rows (the
            nonrespondents): their part of the linearised variance is kept in their PSU.
        """
        frame = to_pandas(persons).copy(deep=False)
        if not isinstance(household, str):
            raise SurveyError("household must name a column", argument="household",
                              expected="a column name present in both frames",
                              found=repr(household))
        last = max((k for k, r in enumerate(self._records) if isinstance(r, ExpandBoundary)),
                   default=-1)
        needs = np.zeros(len(self), dtype=bool)
        for r in self._records[last + 1:]:
            if isinstance(r, ClassAdjustmentRecord):
                needs |= r.source & (r.before > 0)
        member_of, boundary, note = expansion(self._data, frame, household, psu, needs)
        step = ExpandStep(member_of)
        new = self._values[member_of]
        rec = make_record("expand", {"household": household, "psu": psu},
                          self._values, new, notes=(note,))
        out = self._extend(step, new, rec, boundary)
        out._data = frame
        return out

    # ------------------------------------------------------------------ calibration family
    def poststratify(self, targets: Mapping[Any, Mapping[Any, float]]) -> Weights:
        """Post-stratify to the counts of one margin (a tuple key gives cross-classified cells).

        ``w_i ← w_i N_h / Σ_{j∈h} w_j`` (Holt & Smith 1979; Lumley 2010, §7.2).
        """
        if not isinstance(targets, Mapping) or len(targets) != 1:
            raise SurveyError(
                "post-stratification takes one margin",
                argument="targets",
                expected="{'var': {level: N}} or {('v1', 'v2'): {(l1, l2): N}}",
                found=f"{len(targets) if isinstance(targets, Mapping) else type(targets).__name__}"
                " margins",
                hint="use rake() for several margins, or a tuple key for crossed post-strata",
            )
        margins, numerics = parse_targets(self._data, targets)
        if numerics:
            raise SurveyError("post-stratification needs counts per level", argument="targets",
                              expected="{'var': {level: N}}", found="a numeric total",
                              hint="use calibrate() for numeric totals")
        step = PostStratifyStep(margins[0])
        w = self._values
        new, var_record, before = step.fit(w)
        m = margins[0]
        achieved = np.bincount(m.codes, weights=new, minlength=len(m.levels))
        o = m.display
        table = targets_table([f"{m.name}={m.levels[j]}" for j in o], [m.name] * len(o),
                              m.counts[o], before[o], achieved[o])
        rec = make_record("poststratify", {"targets": dict(targets)}, w, new, targets=table,
                          iterations=1, converged=True)
        return self._extend(step, new, rec, var_record)

    def rake(
        self,
        targets: Mapping[Any, Mapping[Any, float]],
        *,
        tol: float = 1e-10,
        max_iter: int = 100,
        tol_units: Literal["relative", "absolute"] = "relative",
        variance: Literal["regression", "survey"] = "regression",
    ) -> Weights:
        """Rake to categorical margins by iterative proportional fitting on cells.

        ``variance`` chooses the record the linearised variance uses: ``"regression"`` (default)
        takes residuals of the weighted regression on the margins' indicators, as for
        ``calibrate(method="raking")`` (Deville & Särndal 1992), so both give the same SEs;
        ``"survey"`` reproduces R survey's ``rake`` record (ten back-fitting passes with
        unweighted post-stratum means), which equals the regression residual only when weights
        are equal within margin levels and otherwise overstates the variance.

        Sweeps adjust each margin in turn until the largest change of a margin total between
        two sweeps is below ``tol`` (times the total weight when ``tol_units="relative"``, in
        weight units when ``"absolute"``; R survey's ``rake`` default is ``tol=1,
        tol_units="absolute", max_iter=10``). Raises if the margins disagree on the total or
        the rule is not met within ``max_iter`` sweeps.
        """
        check_option(tol_units, _TOL_UNITS, "tol_units")
        check_option(variance, ["regression", "survey"], "variance")
        tol = _positive_float(tol, "tol")
        max_iter = _positive_int(max_iter, "max_iter")
        margins, numerics = parse_targets(self._data, targets)
        if numerics:
            raise SurveyError("raking takes categorical margins only", argument="targets",
                              expected="{'var': {level: N}}",
                              found=", ".join(t.name for t in numerics),
                              hint="use calibrate(method='raking') for numeric totals")
        check_margin_totals(margins)
        w = self._values
        step = RakeStep(tuple(margins), tol, tol_units, max_iter, variance=variance)
        new, var_record, fitted, converged, trace, tables = step.fit(w)
        names, owners, totals, before, achieved = [], [], [], [], []
        for m, (tb, ta) in zip(margins, tables):
            o = m.display
            names += [f"{m.name}={m.levels[j]}" for j in o]
            owners += [m.name] * len(o)
            totals.append(m.counts[o])
            before.append(tb[o])
            achieved.append(ta[o])
        table = targets_table(names, owners, np.concatenate(totals), np.concatenate(before),
                              np.concatenate(achieved))
        rec = make_record(
            "rake",
            {"targets": dict(targets), "tol": tol, "tol_units": tol_units, "max_iter": max_iter,
             "variance": variance},
            w, new, targets=table, iterations=fitted.sweeps, converged=converged,
            trace=tuple(trace), notes=(f"{fitted.cell_levels.shape[0]} cells",),
        )
        return self._extend(fitted, new, rec, var_record)

    def calibrate(
        self,
        targets: Mapping[Any, Any],
        *,
        method: Literal["linear", "truncated", "raking", "logit", "sinh"] = "linear",
        bounds: tuple[float, float] | None = None,
        cluster: str | None = None,
        cluster_targets: Mapping[str, float] | None = None,
        by: str | None = None,
        tol: float = 1e-10,
        max_iter: int = 50,
    ) -> Weights:
        """Calibrate to population totals with a distance function and bounds on the g-weights.

        Finds ``w_i = d_i g_i``, ``g_i = F(x_i'λ)``, with ``Σ w_i x_i = t_x`` (Deville &
        Särndal 1992) by Newton's method; see :mod:`weighting.calfun` for the methods.
        ``bounds=(L, U)`` keeps ``L <= g <= U``. ``cluster=`` gives integrated calibration:
        one g per cluster (household) with person totals met (Lemaître & Dufour 1987), and
        ``cluster_targets={"col": total}`` adds household-level totals of a column that is
        constant within each cluster (e.g. ``{"one": n_households}``). ``by=`` calibrates
        separately in each domain: ``targets={domain: {...}, ...}``. Convergence when
        ``max_j |misfit_j| / (1 + |t_j|) < tol``.
        """
        check_option(method, calfun.METHODS, "method")
        tol = _positive_float(tol, "tol")
        max_iter = _positive_int(max_iter, "max_iter")
        lower, upper = _bounds(bounds, method)
        problem = build_problem(self._data, targets, by=by, cluster=cluster,
                                cluster_targets=cluster_targets)
        w = self._values
        step = CalibrateStep(problem, method, lower, upper, tol, max_iter, cluster)
        new, var_record, sol = step.fit(w)
        table = targets_table(problem.check_names, problem.check_margin, problem.check_totals,
                              problem.achieved(w), problem.achieved(new))
        params = {"targets": dict(targets), "method": method, "bounds": (lower, upper),
                  "cluster": cluster, "cluster_targets": cluster_targets, "by": by,
                  "tol": tol, "max_iter": max_iter}
        rec = make_record("calibrate", params, w, new, targets=table,
                          iterations=int(sol.iterations[0]), converged=True, trace=sol.trace,
                          notes=(f"{problem.n_units} calibration units, "
                                 f"{problem.x.shape[1]} auxiliary columns",))
        return self._extend(step, new, rec, var_record)

    # ------------------------------------------------------------------ trimming
    def trim(
        self,
        *,
        upper: float = np.inf,
        lower: float = 0.0,
        relative_to: Literal["value", "mean", "median"] = "value",
        redistribute: Literal["equal", "proportional", "none"] = "equal",
        strict: bool = False,
    ) -> Weights:
        """Cap weights to ``[lower, upper]`` and give the trimmed weight back to the others.

        With ``relative_to="mean"`` or ``"median"`` the caps are multiples of that statistic
        of the current positive weights. ``redistribute="equal"`` is R survey's
        ``trimWeights`` (with ``strict=True``, the limit of its recursion); ``"proportional"``
        with ``strict=True`` gives ``clip(F·w, lower, upper)`` with the factor ``F`` that keeps
        the total. Caps that cannot keep the total (``upper × n < Σw`` or ``lower × n > Σw``,
        ``n`` positive weights) are refused; weights of 0 stay 0. Trimming does not credit the
        variance (no variance record).
        """
        check_option(relative_to, _RELATIVE_TO, "relative_to")
        check_option(redistribute, _REDISTRIBUTE, "redistribute")
        if not isinstance(strict, bool):
            raise SurveyError("strict must be True or False", argument="strict",
                              expected="a bool", found=repr(strict))
        lower, upper = check_number(lower, "lower"), check_number(upper, "upper")
        if not lower < upper or np.isnan(lower) or np.isnan(upper):
            raise SurveyError("trimming caps must satisfy lower < upper", argument="upper",
                              expected="lower < upper", found=f"lower={lower}, upper={upper}")
        w = self._values
        step = TrimStep(lower, upper, relative_to, redistribute, strict)
        check_trim_bound(np.ravel(caps(w[:, None], lower, upper, relative_to)[1])[0], w)
        new, n_trimmed, (lo, hi) = step.fit(w)
        rec = make_record("trim", {"upper": upper, "lower": lower, "relative_to": relative_to,
                                   "redistribute": redistribute, "strict": strict},
                          w, new, notes=(f"{n_trimmed} weights trimmed to [{lo:.6g}, {hi:.6g}]",))
        return self._extend(step, new, rec)

    def trim_calibrate(
        self,
        *,
        upper: float = np.inf,
        lower: float = 0.0,
        relative_to: Literal["value", "mean", "median"] = "value",
        tol: float = 1e-8,
        max_rounds: int = 100,
    ) -> Weights:
        """Alternate trimming and recalibration until the caps and the targets both hold.

        The last calibration step of the chain (post-stratification, raking or calibration)
        is re-run after each capping; stops when every weight is within the caps up to
        ``tol`` × the cap. The calibration's variance record is renewed with the final g.
        """
        check_option(relative_to, _RELATIVE_TO, "relative_to")
        tol = _positive_float(tol, "tol")
        max_rounds = _positive_int(max_rounds, "max_rounds")
        cal_idx = [i for i, h in enumerate(self._history[1:])
                   if h.step in ("poststratify", "rake", "calibrate")]
        if not cal_idx:
            raise SurveyError("trim_calibrate needs a calibration earlier in the chain",
                              argument="trim_calibrate",
                              expected="poststratify(), rake() or calibrate() before it",
                              found="no calibration step", hint="use trim() instead")
        hist = self._history[1 + cal_idx[-1]]
        cal = self._steps[cal_idx[-1]]
        if isinstance(cal, CalibrateStep):
            problem, method = cal.problem, cal.method
            cal_bounds = (cal.lower, cal.upper)
        else:  # post-stratification = linear, raking = raking distance, on the same margins
            problem = build_problem(self._data, hist.params["targets"])
            method = "raking" if isinstance(cal, RakeStep) else "linear"
            cal_bounds = (-np.inf, np.inf)
        if problem.cluster_codes is not None:
            raise SurveyError("trim_calibrate does not handle integrated calibration",
                              argument="trim_calibrate",
                              expected="a person-level calibration",
                              found=f"cluster={hist.params.get('cluster')}",
                              hint="use calibrate(..., bounds=...) to keep household g-weights "
                              "in range")
        w = self._values
        step = TrimCalibrateStep(problem.row_x(), problem.totals, method,
                                 cal_bounds, float(lower), float(upper), relative_to, tol,
                                 max_rounds, 1e-10, 100, problem.names)
        new, rounds, n_fixed = step.fit(w)
        rec = make_record("trim_calibrate", {"upper": upper, "lower": lower,
                                             "relative_to": relative_to, "tol": tol},
                          w, new, iterations=rounds, converged=True,
                          notes=(f"{n_fixed} weights held at a cap",
                                 f"variance record of step {cal_idx[-1] + 1} ({hist.step}) "
                                 "renewed with the final g-weights"))
        out = self._extend(step, new, rec)
        # the recalibrated weights are the calibration's: its record takes the final g
        d0 = hist.before_values
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(d0 > 0, new / np.where(d0 > 0, d0, 1.0), 0.0)
        records = list(out._records)
        records[cal_idx[-1]] = record_for(problem, d0, g)
        out._records = tuple(records)
        return out

    # ------------------------------------------------------------------ reporting
    def summary(self) -> dict[str, pd.DataFrame]:
        """Tidy frames for a report: ``steps``, ``targets``, ``g``, ``convergence``, ``notes``,
        ``warnings``."""
        from weighting.diagnostics import summary_frames

        return summary_frames(self)
