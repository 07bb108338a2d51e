"""``TwoPhaseDesign``: a phase-2 subsample drawn from a phase-1 sample (R ``survey``'s ``twophase``).

Phase 1 is a (possibly clustered, stratified, multi-stage) sample; phase 2 is a subsample of its
units, stratified and clustered by anything known at phase 1 (the screening class of a
migrant-targeted survey, case status in a case-cohort study). Every row has the weight
``1/(π₁ π₂)``, ``π₂`` the conditional phase-2 probability (double expansion; Särndal, Swensson &
Wretman 1992, ch. 9). Two variance estimators, as R:

* ``method="full"`` (R's ``twophase2``, the default): the Horvitz–Thompson form
  ``x' Δ̌ x`` with ``Δ̌ = 1 − (1 − Δ̌₁)∘(1 − Δ̌₂)`` over the phase-2 rows, ``Δ̌₁`` from the phase-1
  design (restricted to phase-2 rows) and ``Δ̌₂`` from the phase-2 design given phase 1
  (:mod:`estimation.twophase_dcheck`). Its phase-2 part is ``x' Δ̌₂ x``; its phase-1 part the
  rest. After calibration of phase 2 the phase-2 part uses the calibration residuals.
* ``method="approx"`` (R's ``twophase(method="approx")``): the phase-1 part by the usual
  multistage formula on phase-2 cluster totals scaled by the phase-2 sampling fractions
  (:mod:`estimation.twophase_approx`) plus the phase-2 multistage variance given phase 1
  (Breslow & Chatterjee 1999; Lumley 2010, ch. 8).

Phase 1 drawn with unequal probabilities without replacement (``pps=``: joint inclusion
probabilities of the phase-1 PSUs, or Brewer's, Overton's or Hartley–Rao's approximation) uses
the full method with the phase-1 ``Δ̌₁`` of the πps first stage
(:mod:`estimation.twophase_pps`; Särndal, Swensson & Wretman 1992, result 9.3.1). R's
``twophase`` has no such option.

Phase-2 finite population corrections are computed from phase 1 (the number of phase-1 units of
each phase-2 stratum) unless given. Calibration of phase 2 to phase-1 totals
(:meth:`TwoPhaseDesign.calibrate`) is the two-phase regression estimator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from estimation.design_base import BaseDesign
from estimation.problems import RatioProblem
from estimation.structure import Stage, build_stages
from estimation.taylor import LinearisedSolvers, TaylorVariance, lonely_strata, ratio_scores
from estimation.twophase_approx import Phase1Approx
from estimation.twophase_dcheck import Hierarchy, blockwise_product_quadratic
from estimation.twophase_pps import PPS_OPTIONS, describe, phase1_matrix
from surveycore.checks import as_name_list, check_columns, check_option, finite_numeric, to_pandas
from surveycore.errors import SurveyError

INTERCEPT = "(Intercept)"
"""Name of the constant calibration variable that ``variables=`` adds (R's formula intercept)."""

Method = Literal["full", "approx"]
LONELY_OPTIONS = ["fail", "adjust", "average", "remove", "certainty"]
_FPC2 = "__phase2_popsize_{}"


def _pair(value: Any, argument: str) -> tuple[Any, Any]:
    if value is None:
        return None, None
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    raise SurveyError(
        f"{argument} needs one entry per phase",
        argument=argument,
        expected="a pair (phase 1, phase 2); None for a phase without it",
        found=repr(value),
        hint=f"e.g. {argument}=('ea', 'household')",
    )


def _ids(value: Any) -> list[str]:
    return [] if value is None or value == "1" or value == 1 else as_name_list(value, "ids")


def _subset_mask(frame: pd.DataFrame, subset: Any) -> np.ndarray:
    if isinstance(subset, str):
        check_columns(frame, [subset], "subset")
        values = frame[subset]
    elif isinstance(subset, pd.Series):
        if not subset.index.equals(frame.index):
            raise SurveyError(
                "subset is not aligned with the phase-1 rows",
                argument="subset",
                expected="a boolean Series with the data's index, or a column name",
                found="a Series with another index",
            )
        values = subset
    else:
        values = pd.Series(np.asarray(subset), index=frame.index)
    if len(values) != len(frame) or values.isna().any():
        raise SurveyError(
            "subset must mark every phase-1 row as in phase 2 or not",
            argument="subset",
            expected=f"{len(frame)} booleans (or 0/1) without missing values",
            found=f"{len(values)} values, {int(values.isna().sum())} missing",
        )
    arr = values.to_numpy()
    if arr.dtype != bool:
        uniq = set(pd.unique(values).tolist())
        if not uniq <= {0, 1}:
            raise SurveyError(
                "subset must be boolean",
                argument="subset",
                expected="True/False (or 0/1) for each phase-1 row",
                found="values such as " + ", ".join(map(repr, list(uniq)[:5])),
            )
        arr = arr.astype(float) == 1
    if not arr.any():
        raise SurveyError("phase 2 is empty", argument="subset", expected="at least one phase-2 row", found="none")
    return arr


def _stage_probs(frame: pd.DataFrame, probs: list[str], stages: list[Stage], fpc: list[str], phase: int) -> np.ndarray:
    """Per-stage selection probabilities (n, S): given, from the fpc, or one."""
    n, S = len(frame), len(stages)
    if probs:
        check_columns(frame, probs, "probs")
        if len(probs) not in (1, S) or (len(probs) == 1 and S > 1):
            raise SurveyError(
                f"phase-{phase} probs must give one column per stage",
                argument="probs",
                expected=f"{S} column(s)",
                found=f"{len(probs)} column(s)",
            )
        out = np.column_stack([finite_numeric(frame[c], "probs") for c in probs])
        if ((out <= 0) | (out > 1)).any():
            raise SurveyError(
                "selection probabilities must lie in (0, 1]",
                argument="probs",
                expected="values in (0, 1]",
                found=f"phase {phase}: values from {out.min():g} to {out.max():g}",
            )
        return out
    if fpc:
        return np.column_stack([st.sampling_fraction()[st.cluster] for st in stages])
    return np.ones((n, S))


def _hierarchy(stages: list[Stage], prob: np.ndarray, rows: np.ndarray, with_replacement: bool) -> Hierarchy:
    return Hierarchy.from_fractions(
        [st.cluster[rows] for st in stages],
        [st.stratum[st.cluster][rows] for st in stages],
        [prob[rows, s] for s in range(len(stages))],
        [st.n_sampled[st.stratum[st.cluster]][rows] for st in stages],
        with_replacement,
    )


class TwoPhaseEngine(LinearisedSolvers):
    """Variance engine of a two-phase design (the :class:`~estimation.problems.VarianceEngine` protocol)."""

    def __init__(self, design: TwoPhaseDesign) -> None:
        self.design = design
        self.weights = design._w
        self.records = design._weights_obj.variance_records() if design._weights_obj is not None else ()
        chain = getattr(design, "_chain", None)
        self.chain_records = chain.variance_records() if chain is not None else ()

    @property
    def joint_domains(self) -> bool:
        """Whether domains share one variance form (a joint covariance across domains exists)."""
        return self.design._method == "full" or bool(self.records) or bool(self.chain_records)

    def _residuals(self, x: np.ndarray) -> np.ndarray:
        for record in self.records:
            x = np.asarray(record.residualize(x), dtype=float)
        return x

    def phase_covariances(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1):
        """Phase-1 and phase-2 parts (each (D, k, k)) of the covariance of the domain totals of ``x``.

        With a weighting chain (:meth:`TwoPhaseDesign.reweight`) each domain's scores are first
        replaced by their linearised variable through the chain's records (domain first: the
        residual of a domain is not zero outside it), and both parts are taken of it.
        """
        if not self.chain_records:
            return self._phase_parts(x, domain, n_domains)
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        dom = np.zeros(len(x), dtype=np.int64) if domain is None else np.asarray(domain, dtype=np.int64)
        zero = np.zeros(len(x), dtype=np.int64)
        parts = []
        for j in range(n_domains):
            u = np.where((dom == j)[:, None], x, 0.0)
            for record in self.chain_records:
                u = np.asarray(record.residualize(u), dtype=float)
            parts.append(self._phase_parts(u, zero, 1))
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    def _phase_parts(self, x: np.ndarray, domain: np.ndarray | None, n_domains: int):
        d = self.design
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        n, k = x.shape
        dom = np.zeros(n, dtype=np.int64) if domain is None else np.asarray(domain, dtype=np.int64)
        inside = dom >= 0
        x = np.where(inside[:, None], x, 0.0)
        dom0 = np.where(inside, dom, 0)
        if d._method == "full":
            q1 = d._h1.quadratic(x, dom0, n_domains)
            q12 = blockwise_product_quadratic(d._h1, d._h2, d._block, x, dom0, n_domains)
            q2 = d._h2.quadratic(x, dom0, n_domains)
            v1 = q1 - q12  # x'(Δ̌₁ + Δ̌₂ − Δ̌₁∘Δ̌₂)x − x'Δ̌₂x
            if not self.records:
                return v1, q2
            v2 = np.empty_like(q2)
            for j in range(n_domains):
                r = self._residuals(np.where((dom0 == j)[:, None] & inside[:, None], x, 0.0))
                v2[j] = d._h2.quadratic(r, np.zeros(n, dtype=np.int64), 1)[0]
            return v1, v2
        v1 = np.empty((n_domains, k, k))
        v2 = np.empty((n_domains, k, k))
        ph2prob = d._ph2prob
        taylor2 = d._phase2_variance()
        for j in range(n_domains):
            in_j = inside & (dom0 == j)
            xj = np.where(in_j[:, None], x, 0.0)
            present = (self.weights > 0) & (in_j if not self.records else True)
            v1[j] = d._phase1_approx.covariance(xj, ph2prob, present)
            u2 = xj if d._samescale else xj * np.sqrt(d._prob1)[:, None]
            v2[j] = taylor2.covariance(self._residuals(u2))[0]
        return v1, v2

    def covariance(self, x: np.ndarray, domain: np.ndarray | None = None, n_domains: int = 1) -> np.ndarray:
        """Covariance (D, k, k) of the domain totals of the weighted scores ``x``.

        A negative variance estimate (possible with the full method's unbiased
        Horvitz–Thompson form) is returned as NaN; the estimators report it with a
        :class:`~surveycore.SurveyWarning` (R gives NaN too).
        """
        v1, v2 = self.phase_covariances(x, domain, n_domains)
        v = v1 + v2
        diag = np.diagonal(v, axis1=1, axis2=2)
        # rounding of an exact zero (e.g. a calibrated total) is not a negative estimate: the
        # quadratic forms are of the order of the scores' sum of squares
        xx = np.asarray(x, dtype=float).reshape(len(self.weights), -1)
        dom = np.zeros(len(xx), dtype=np.int64) if domain is None else np.asarray(domain)
        scale = np.stack([np.bincount(np.maximum(dom, 0), weights=np.where(dom >= 0, xx[:, j] ** 2, 0.0),
                                      minlength=n_domains) for j in range(xx.shape[1])], axis=1)
        rounding = (np.abs(diag) <= 1e-12 * scale) & (diag < 0)
        if rounding.any():
            v = v.copy()
            dd, jj = np.nonzero(rounding)
            v[dd, jj, jj] = 0.0
            diag = np.diagonal(v, axis1=1, axis2=2)
        if (diag < 0).any():  # reported as NaN; the estimators warn and record it (as R's NaN SE)
            bad = diag < 0
            v = np.where(bad[:, :, None] | bad[:, None, :], np.nan, v)
        return v



class TwoPhaseDesign(BaseDesign):
    """A two-phase sample: phase-1 units, and the phase-2 subsample on which variables are measured.

    Parameters
    ----------
    data : DataFrame
        One row per phase-1 unit (pandas or any narwhals-supported frame); phase-2 variables may
        be missing outside phase 2. A private copy is kept.
    ids : pair
        Cluster ids of each phase: ``(phase1, phase2)``, each a column, a list of columns (one
        per stage) or None (each row its own unit).
    strata : pair, optional
        Strata of each phase (``None`` for an unstratified phase).
    probs : pair, optional
        Selection probabilities of each phase (one column per stage).
    fpc : pair, optional
        Finite population corrections of each phase (population sizes or fractions, one column
        per stage). Phase 2's default is computed from phase 1: the number of phase-1 units of
        each phase-2 stratum. Without phase-1 ``fpc`` phase 1 is taken with replacement.
    subset : str or array-like of bool
        Column (or mask) marking the phase-1 rows selected in phase 2.
    method : {"full", "approx"}
        Variance estimator (see the module documentation); R's default is ``"full"``.
    lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
        Strata with a single PSU (as :class:`~estimation.SurveyDesign`; ``method="approx"``).
    nest : bool
        Cluster ids restart within strata (both phases).
    pps : {"brewer", "overton", "hartley-rao"}, :class:`~estimation.pps.HR`, matrix or mapping, optional
        Phase-1 PSUs drawn with unequal probabilities without replacement; phase-1 ``fpc`` then
        holds each stage's inclusion probabilities (as :class:`~estimation.SurveyDesign` with
        ``pps=``). Give the joint inclusion probabilities ``π_IJ`` of the phase-1 PSUs — an
        array over all of them in order of first appearance, a DataFrame whose index and
        columns are the PSU ids, or a mapping of phase-1 stratum label to such a matrix for
        that stratum (strata are independent) — for the unbiased Horvitz–Thompson phase-1
        variance, or the name of an approximation. Needs ``method="full"``;
        :attr:`phase1_variance` names the form used.
    degf : {"phase2", "phase1"}
        Design degrees of freedom of intervals and tests: phase 2's PSUs minus strata (R's
        ``degf`` of a two-phase design) or phase 1's (see :meth:`degf`).

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import TwoPhaseDesign
    >>> df = pd.DataFrame({"hh": [f"{i:03d}" for i in range(8)],
    ...                    "migrant": ["yes", "yes", "no", "no", "no", "no", "yes", "no"],
    ...                    "in2": [True, True, True, False, True, False, True, False],
    ...                    "income": [5.0, 7.0, 3.0, None, 4.0, None, 6.0, None]})
    >>> d = TwoPhaseDesign(df, ids=("hh", "hh"), strata=(None, "migrant"), subset="in2")
    >>> d.mean("income")[["estimate"]].round(4)
       estimate
    0    4.4375
    """

    def __init__(
        self,
        data: Any,
        *,
        ids: Any,
        strata: Any = None,
        probs: Any = None,
        fpc: Any = None,
        subset: Any,
        method: Method = "full",
        lonely_psu: str = "fail",
        nest: bool = False,
        pps: Any = None,
        degf: Literal["phase2", "phase1"] = "phase2",
    ) -> None:
        check_option(method, ["full", "approx"], "method")
        check_option(degf, ["phase2", "phase1"], "degf")
        self._degf_phase = degf
        check_option(lonely_psu, LONELY_OPTIONS, "lonely_psu")
        frame = to_pandas(data).copy()
        ids1, ids2 = (_ids(v) for v in _pair(ids, "ids"))
        strata1, strata2 = (as_name_list(v, "strata") for v in _pair(strata, "strata"))
        probs1, probs2 = (as_name_list(v, "probs") for v in _pair(probs, "probs"))
        fpc1, fpc2 = (as_name_list(v, "fpc") for v in _pair(fpc, "fpc"))
        sub = _subset_mask(frame, subset)
        rows = np.flatnonzero(sub)
        is_pps = pps is not None
        if is_pps:
            self._check_pps(method, fpc1, pps)
        stages1 = build_stages(frame, ids1, strata1, fpc1, nest, is_pps)
        allprob1 = _stage_probs(frame, probs1, stages1, fpc1, 1)
        if is_pps and probs1:
            from_fpc = np.column_stack([st.sampling_fraction()[st.cluster] for st in stages1])
            if not np.allclose(allprob1, from_fpc, rtol=1e-9, atol=0.0):
                raise SurveyError(
                    "phase-1 probs and fpc disagree",
                    argument="probs",
                    expected="with pps=, the phase-1 probs equal the inclusion probabilities in fpc",
                    found="different values",
                    hint="give the inclusion probabilities once, in fpc",
                )
        frame2 = frame.iloc[rows].copy()
        if not fpc2:
            full2 = build_stages(frame, ids2, strata2, [], nest, False)
            fpc2_cols = []
            for s, st in enumerate(full2):
                name = _FPC2.format(s)
                frame2[name] = st.n_sampled[st.stratum[st.cluster]][rows].astype(float)
                fpc2_cols.append(name)
        else:
            fpc2_cols = fpc2
        stages2 = build_stages(frame2, ids2, strata2, fpc2_cols, nest, False)
        if not fpc2:
            frame2 = frame2.drop(columns=fpc2_cols)
        allprob2 = _stage_probs(frame2, probs2, stages2, fpc2_cols, 2)
        prob1 = allprob1.prod(axis=1)[rows]
        self._data = frame2
        self._phase1 = frame
        self._sub = sub
        self._w2 = 1.0 / allprob2.prod(axis=1)
        self._w = self._w2 / prob1
        self._prob1 = prob1
        self._stages1 = stages1
        self._stages2 = stages2
        self._method = method
        self._lonely = lonely_psu
        self._weights_obj = None
        self._g = np.ones(len(rows))
        self._degf: float | None = None
        self._spec = dict(ids=(ids1, ids2), strata=(strata1, strata2), probs=(probs1, probs2),
                          fpc=(fpc1, fpc2), nest=nest, pps=pps)
        wr1 = not fpc1
        if is_pps:
            self._phase1_form = describe(pps)
        elif wr1:
            self._phase1_form = "with replacement"
        else:
            self._phase1_form = "stratified simple random sampling without replacement at each stage"
        if method == "full":
            if wr1 and np.all(allprob1 == 1):
                self._h1 = Hierarchy.identity(len(rows))
                group1 = np.arange(len(rows))
            else:
                self._h1 = _hierarchy(stages1, allprob1, rows, wr1)
                st1 = stages1[0]
                group1 = (st1.cluster if wr1 else st1.stratum[st1.cluster])[rows]
            if is_pps:
                pi_rows = finite_numeric(frame[fpc1[0]], "fpc")
                matrix = phase1_matrix(pps, frame, ids1, stages1[0], pi_rows, lonely_psu)
                self._h1 = self._h1.with_first_stage(matrix)
                st1 = stages1[0]
                h = st1.stratum
                if np.any(self._h1.first[h[:, None] != h[None, :]]):  # dependent strata: one block
                    group1 = np.zeros(len(rows), dtype=np.int64)
            self._h2 = _hierarchy(stages2, allprob2, np.arange(len(rows)), False)
            st2 = stages2[0]
            self._block = pd.factorize(pd.MultiIndex.from_arrays([st2.stratum[st2.cluster], group1]))[0]
        else:
            if lonely_psu == "fail":
                for s_, st in enumerate(stages2):
                    single = lonely_strata(st)
                    if len(single):
                        raise SurveyError(
                            f"phase-2 stratum with a single PSU at stage {s_ + 1}",
                            argument="lonely_psu",
                            expected="at least two phase-2 PSUs per stratum (or all of the stratum), "
                            "or a lonely_psu rule",
                            found=f"{len(single)} single-PSU strata: "
                            + ", ".join(map(str, st.labels[single][:10])),
                            hint="pass lonely_psu='adjust', 'average', 'remove' or 'certainty', or "
                            "method='full' (R's default, which needs no rule)",
                        )
            self._phase1_approx = Phase1Approx(stages1, rows, bool(fpc1), lonely_psu)
            self._usu = self._phase2_fractions(frame, sub, strata2, stages1)
            self._samescale = self._same_scale(stages1, stages2, rows)

    @staticmethod
    def _check_pps(method: str, fpc1: list[str], pps: Any) -> None:
        if isinstance(pps, str):
            check_option(pps, PPS_OPTIONS, "pps")
        if method != "full":
            raise SurveyError(
                "a πps phase 1 needs the full two-phase variance",
                argument="method",
                expected="method='full' with pps=",
                found=f"method={method!r}",
                hint="the approximate method's phase-1 formula assumes equal-probability sampling",
            )
        if not fpc1:
            raise SurveyError(
                "a πps phase 1 needs the inclusion probabilities",
                argument="fpc",
                expected="phase-1 fpc holding each stage's inclusion probabilities in (0, 1]",
                found="no phase-1 fpc",
                hint="e.g. fpc=(['pi_ea', 'pi_household'], None)",
            )

    # -- the approximate method's constants ------------------------------------------------------
    @staticmethod
    def _phase2_fractions(frame, sub, strata2, stages1) -> np.ndarray:
        """R's ``usu``: the share of each phase-2 stratum's phase-1 units that are in phase 2."""
        last = stages1[-1]
        unit = last.cluster
        if strata2:
            sa = pd.factorize(frame[strata2[0]])[0]
            key = pd.factorize(pd.MultiIndex.from_arrays([sa, unit]))[0]
            first_sa = np.zeros(key.max() + 1, dtype=np.int64)
            first_sa[key] = sa
            n_all = np.bincount(first_sa, minlength=sa.max() + 1)
            present = np.zeros(key.max() + 1, dtype=bool)
            present[key[sub]] = True
            n_sub = np.bincount(first_sa[present], minlength=sa.max() + 1)
            if (n_sub == 0).any():
                raise SurveyError(
                    "some phase-2 strata have no phase-2 unit",
                    argument="subset",
                    expected="every phase-2 stratum sampled in phase 2",
                    found=f"{int((n_sub == 0).sum())} strata with zero sampling fraction",
                )
            return (n_sub / n_all)[sa[sub]]
        present = np.zeros(last.n_clusters, dtype=bool)
        present[unit[sub]] = True
        n_sub = np.bincount(last.stratum[present], minlength=last.n_strata)
        h = last.stratum[unit[sub]]
        return n_sub[h] / last.n_sampled[h]

    @staticmethod
    def _same_scale(stages1, stages2, rows) -> bool:
        """Whether no phase-1 (last-stage) unit holds more than one phase-2 PSU (R's ``samescale``)."""
        c2 = stages2[0].cluster
        first = np.unique(c2, return_index=True)[1]
        units = stages1[-1].cluster[rows][first]
        return len(np.unique(units)) == len(units)

    def _phase2_variance(self) -> TaylorVariance:
        """The phase-2 multistage variance form given phase 1 (built once, shared by subsets)."""
        form = self.__dict__.get("_phase2_form")
        if form is None:
            form = TaylorVariance(self._stages2, self._lonely, True)
            self.__dict__["_phase2_form"] = form
        return form

    @property
    def _ph2prob(self) -> np.ndarray:
        return self._usu / self._g

    # -- BaseDesign hooks --------------------------------------------------------------------------
    def _engine(self) -> TwoPhaseEngine:
        return TwoPhaseEngine(self)

    def _with_weights(self, weights: np.ndarray) -> TwoPhaseDesign:
        new = object.__new__(TwoPhaseDesign)
        new.__dict__.update(self.__dict__)
        new._w = weights
        new._degf = None
        return new

    def degf(self) -> float:
        """Degrees of freedom: PSUs minus strata with positive weight, of phase 2 (R) or phase 1.

        ``degf="phase2"`` (R's ``degf.twophase``) counts the phase-2 PSUs and strata;
        ``degf="phase1"`` the phase-1 first-stage PSUs and strata that hold phase-2 rows with
        positive weight — the number of units the phase-1 variance rests on, when phase 1 is
        a clustered sample (Korn & Graubard 1999, §5.2).
        """
        if self._degf is None:
            self._degf = float(self._domain_degf(None, 1)[0])
        return self._degf

    def _domain_degf(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        if getattr(self, "_degf_phase", "phase2") == "phase1":
            st = self._stages1[0]
            cluster = st.cluster[np.flatnonzero(self._sub)]
        else:
            st = self._stages2[0]
            cluster = st.cluster
        dom = np.zeros(self.n, dtype=np.int64) if domain is None else domain
        out = np.empty(n_domains)
        for j in range(n_domains):
            keep = (dom == j) & (self._w > 0)
            out[j] = len(np.unique(cluster[keep])) - len(np.unique(st.stratum[cluster[keep]]))
        return out

    # -- public ------------------------------------------------------------------------------------
    def reweight(self, weights: Any) -> TwoPhaseDesign:
        """The design with the final weights of a weighting chain run on the phase-2 rows.

        ``weights`` is a :class:`weighting.Weights` built on :attr:`data` (the phase-2 rows, in
        their order) from the two-phase weights ``1/(π₁π₂)`` — nonresponse adjustment,
        expansion from households to persons, calibration to population totals. Its final
        weights become the design's and its records linearise every estimate: each domain's
        scores are replaced by the chain's linearised variable (Deville 1999), whose phase-1
        and phase-2 variances are then taken as without a chain. The chain adjusts the whole
        two-phase estimator (population totals, not phase-1 totals), so its records act on both
        parts; :meth:`calibrate` (phase 2 to phase-1 totals) acts on the phase-2 part, as R.
        An array of final weights (no records) is accepted too.
        """
        if hasattr(weights, "values") and hasattr(weights, "variance_records"):
            # phase-2 rows keep the index of the phase-1 frame (their dtypes may have widened
            # there), so rows are matched by index and position
            if len(weights.data) != self.n or not weights.data.index.equals(self._data.index):
                raise SurveyError(
                    "the Weights were built on other rows than the phase-2 rows",
                    argument="weights",
                    expected=f"Weights built on the {self.n} phase-2 rows (same order and index)",
                    found=f"Weights on {len(weights.data)} rows whose index differs",
                    hint="build the phase-1 frame from the weighted rows, keeping their index",
                )
            values, chain = np.asarray(weights.values, dtype=float), weights
        else:
            values, chain = finite_numeric(weights, "weights"), None
            if values.shape != (self.n,):
                raise SurveyError(
                    "one weight per phase-2 row is needed",
                    argument="weights",
                    expected=f"{self.n} weights (the phase-2 rows)",
                    found=f"{values.size} values",
                )
        if (values < 0).any():
            raise SurveyError("weights must be non-negative", argument="weights",
                              expected="weights >= 0", found=f"minimum {values.min():g}")
        new = self._with_weights(values)
        new._chain = chain
        return new

    @property
    def method(self) -> str:
        return self._method

    @property
    def phase1_variance(self) -> str:
        """The form of the phase-1 variance: with replacement, SRS without replacement, or the πps form."""
        return self._phase1_form

    @property
    def phase1(self) -> pd.DataFrame:
        """The phase-1 rows (a copy), with every phase-1 variable."""
        return self._phase1.copy()

    def phase1_weights(self) -> np.ndarray:
        """Phase-1 weights ``1/π₁`` of every phase-1 row."""
        p = _stage_probs(self._phase1, self._spec["probs"][0], self._stages1, self._spec["fpc"][0], 1)
        return 1.0 / p.prod(axis=1)

    def phase_variances(self, variables: str | Sequence[str], *, statistic: Literal["total", "mean"] = "total",
                        by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The phase-1 and phase-2 parts of the variance of totals or means (R's ``attr(v, "phases")``).

        One row per variable (and ``by`` domain). The parts are reported as computed: the
        unbiased Horvitz–Thompson form can give a negative part (or sum), which the estimators
        report as a NaN standard error.
        """
        check_option(statistic, ["total", "mean"], "statistic")
        cols = self.columns(variables)
        an = self.analysis(cols, by)
        domain, values, D = an.domain, an.values, an.n_domains
        problem = RatioProblem(values, np.ones_like(values) if statistic == "mean" else None, domain, D)
        _, scores = ratio_scores(problem, self._w)
        v1, v2 = self._engine().phase_covariances(scores, domain, D)
        k = len(cols.variables)
        out = pd.DataFrame({"variable": np.tile(cols.variables, D),
                            "level": pd.Series(list(cols.levels) * D, dtype=object),
                            "phase1": np.diagonal(v1, axis1=1, axis2=2).ravel(),
                            "phase2": np.diagonal(v2, axis1=1, axis2=2).ravel()})
        if len(an.labels.columns):
            labels = an.labels.iloc[np.repeat(np.arange(D), k)].reset_index(drop=True)
            out = pd.concat([labels, out], axis=1)
        return out

    def calibrate(
        self,
        targets: Mapping[Any, Any] | None = None,
        *,
        variables: str | Sequence[str] | None = None,
        intercept: bool = True,
        method: str = "linear",
        bounds: tuple[float, float] | None = None,
        tol: float = 1e-10,
        max_iter: int = 50,
    ) -> TwoPhaseDesign:
        """Calibrate phase 2 to phase-1 totals (R ``calibrate(design, phase = 2, ...)``).

        The phase-2 weights ``d_i = 1/π₂ᵢ`` (given phase 1) are calibrated, ``d_i g_i``, so that
        ``Σ_{s₂} d g x = t_x`` with ``t_x`` the phase-1 sample totals ``Σ_{s₁} x`` (Deville &
        Särndal 1992; the two-phase regression estimator, Särndal, Swensson & Wretman 1992,
        §9.7); the final weights are ``g/(π₁π₂)``. Give ``targets`` as
        :meth:`weighting.Weights.calibrate` takes them, or ``variables`` known for every
        phase-1 unit, whose phase-1 totals are then the targets (a categorical variable gives
        one count per level, as R's default ``population``). With ``variables`` the model has an
        intercept, as an R formula has (``variables=["x"]`` is R's ``formula = ~x``, whose
        targets are ``(n₁, Σ_{s₁} x)``); a categorical variable already spans it. Give
        ``intercept=False`` for R's ``~x - 1``. The variance's phase-2 part uses
        the calibration residuals; the approximate method's phase-1 part divides the phase-2
        fractions by ``g`` (as R).
        """
        from weighting import Weights

        if getattr(self, "_chain", None) is not None:
            raise SurveyError(
                "the design already carries a weighting chain",
                argument="calibrate",
                expected="calibration of phase 2 before reweight(), or as a step of the chain",
                found="a design from reweight(weights)",
                hint="add the calibration to the Weights chain passed to reweight()",
            )
        if (targets is None) == (variables is None):
            raise SurveyError(
                "give either targets or variables",
                argument="targets",
                expected="targets={...} (population totals) or variables=[...] (totals from phase 1)",
                found="both" if targets is not None else "neither",
            )
        if targets is None:
            targets = self._phase1_totals(as_name_list(variables, "variables"))
            if intercept and all(not isinstance(t, Mapping) for t in targets.values()):
                targets[INTERCEPT] = float(len(self._phase1))
        if self._weights_obj is not None:
            base = self._weights_obj
            if INTERCEPT in targets and INTERCEPT not in base.data.columns:
                raise SurveyError(
                    "an intercept cannot be added to a phase 2 that is already calibrated",
                    argument="intercept",
                    expected="intercept=False, or a categorical variable among variables",
                    found=f"variables {sorted(k for k in targets if k != INTERCEPT)}",
                    hint="calibrate once with every variable, as R's calibrate(formula = ~x + z)",
                )
        elif INTERCEPT in targets:
            if INTERCEPT in self._data.columns:
                raise SurveyError(
                    "the data has a column with the intercept's reserved name",
                    argument="variables",
                    expected=f"no column named {INTERCEPT!r}",
                    found=f"column {INTERCEPT!r}",
                    hint="rename that column, or give intercept=False",
                )
            base = Weights(self._data.assign(**{INTERCEPT: 1.0}), self._w2)
        else:
            base = Weights(self._data, self._w2)
        calibrated = base.calibrate(targets, method=method, bounds=bounds, tol=tol, max_iter=max_iter)
        g = np.asarray(calibrated.values, dtype=float) / self._w2
        new = self._with_weights(self._w * g / self._g)
        new._weights_obj = calibrated
        new._g = g
        return new

    def _phase1_totals(self, names: list[str]) -> dict[str, Any]:
        frame = self._phase1
        check_columns(frame, names, "variables")
        out: dict[str, Any] = {}
        for name in names:
            col = frame[name]
            if col.isna().any():
                raise SurveyError(
                    "a calibration variable is missing for some phase-1 units",
                    argument="variables",
                    expected="variables known for every phase-1 unit",
                    found=f"{int(col.isna().sum())} missing values in {name!r}",
                )
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                out[name] = float(col.to_numpy(dtype=float).sum())
            else:
                out[name] = {k: float(v) for k, v in col.value_counts().items()}
        return out

    def __repr__(self) -> str:
        return (
            f"TwoPhaseDesign(method={self._method!r}, {len(self._phase1)} phase-1 rows, "
            f"{self.n} phase-2 rows, {self._stages2[0].n_strata} phase-2 strata)"
        )
