"""``SurveyDesign``: a probability sample declared by its clusters, strata, weights and fpc."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from estimation.design_base import _COPY_ON_WRITE, BaseDesign
from estimation.pps import pps_dcheck
from estimation.structure import Stage, build_stages, fpc_weights
from estimation.taylor import TaylorEngine, TaylorVariance, lonely_strata
from surveycore.checks import (
    as_name_list,
    check_columns,
    check_frame,
    check_option,
    check_weights,
    finite_numeric,
    to_pandas,
    weight_vector,
)
from surveycore.errors import SurveyError, SurveyWarning
from surveycore.groups import Groups

LonelyPSU = Literal["fail", "adjust", "average", "remove", "certainty"]
LONELY_OPTIONS = ["fail", "adjust", "average", "remove", "certainty"]
PPS_OPTIONS = ["brewer", "overton", "hartley-rao"]


def _check_same_rows(weighted: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Refuse a ``Weights`` built on other rows (or another order) than the design's data.

    Weights are matched to rows by position, so the index and the shared columns must agree.
    """
    same = len(weighted) == len(frame) and weighted.index.equals(frame.index)
    if same:
        shared = [c for c in frame.columns if c in weighted.columns][:8]
        same = all(frame[c].reset_index(drop=True).equals(weighted[c].reset_index(drop=True)) for c in shared)
    if not same:
        raise SurveyError(
            "the Weights were built on other rows than the design's data",
            argument="weights",
            expected=f"Weights built on this data frame ({len(frame)} rows, same order and index)",
            found=f"Weights on {len(weighted)} rows whose index or values differ",
            hint="declare the design on w.data, or build Weights on the frame you pass to SurveyDesign",
        )


def _aligned(weights: pd.Series, frame: pd.DataFrame) -> np.ndarray:
    """A weight Series matched to the rows by index label (the same labels in any order)."""
    if weights.index.equals(frame.index):
        return weights.to_numpy()
    same = (
        len(weights) == len(frame)
        and weights.index.is_unique
        and frame.index.is_unique
        and weights.index.isin(frame.index).all()
    )
    if not same:
        raise SurveyError(
            "the weights Series does not carry the data's row labels",
            argument="weights",
            expected=f"a Series indexed by the data's {len(frame)} row labels (any order), a column name or an array",
            found=f"a Series of {len(weights)} values whose index labels differ from the data's",
            hint="pass weights=df['w'] from the same frame, or weights.to_numpy() to match by position",
        )
    return weights.reindex(frame.index).to_numpy()


class SurveyDesign(BaseDesign):
    """A survey design for Taylor-linearisation inference.

    Parameters
    ----------
    data : DataFrame
        One row per responding unit; pandas or any narwhals-supported frame. The design keeps a
        private copy (copy-on-write under pandas ≥ 3, so it costs no memory until someone
        changes the frame): the caller's frame is never modified, and changing it afterwards
        does not change the design.
    ids : str, list of str or None
        Cluster ids, one column per stage (``None``: each row is a PSU).
    strata : str, list of str or None
        First-stage strata (or one column per stage).
    weights : str, array-like, Series or weighting.Weights, optional
        Sampling weights: a column name, one value per row (by position), a Series (matched
        to the rows by index label; refused when its labels are not the data's), or a
        :class:`weighting.Weights`, which carries its calibration records into the variance
        and its whole chain into replicate designs.
    probs : str or list of str, optional
        Selection probabilities per stage (they multiply); alternative to ``weights``.
    fpc : str or list of str, optional
        Finite population correction per stage: population sizes (> 1) or sampling fractions
        (<= 1); for a PPS design, each unit's inclusion probability.
    nest : bool
        Cluster ids restart within strata.
    lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
        Strata with a single sampled cluster (R's ``survey.lonely.psu``): refuse; centre at the
        population mean; replace by the average of other strata; drop from the variance;
        treat as certainty units.
    pps : {"brewer", "overton", "hartley-rao"}, :class:`~estimation.pps.HR` or ndarray (n, n), optional
        Sampling without replacement with unequal probabilities given in ``fpc``: Brewer's,
        Overton's or Hartley–Rao's approximation (``"hartley-rao"`` is R's ``HR()``;
        ``HR(psum=…)`` gives the population ``Σπ²/n``), or a matrix of joint inclusion
        probabilities (Horvitz–Thompson variance, or Yates–Grundy with ``variance="YG"``). A
        negative variance estimate (possible with these forms) is reported as NaN with a
        :class:`~surveycore.SurveyWarning`. With several stages ``fpc`` holds each stage's
        inclusion probabilities (fractions) and the approximation or matrix concerns the first
        stage: with Brewer's, stage 1 contributes ``Σ_h n_h/(n_h−1) Σ_c (1 − π_c)(X_c − X̄_h)²``
        (R ``svyrecvar``); with the others, ``X' Δ̌ X`` of the first-stage totals. Each later
        stage adds its own variance times the ancestors' ``π`` (``Σ_i V̂_i/π_i``, Särndal et
        al. 1992, result 4.3.1; R computes the multi-stage case for Brewer's only).
    variance : {"HT", "YG"}
        Form of the PPS variance with a joint-probability matrix.
    adjust_domain_lonely : bool
        R's ``survey.adjust.domain.lonely``: in a domain (``by=`` or ``subset()``) of a design
        without weighting records, a stratum where the domain has a single PSU is treated by
        ``lonely_psu`` ("adjust": not centred; "average": left out, the other strata scaled up).

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import SurveyDesign
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "w": [2.0] * 6, "y": [1, 2, 3, 4, 5, 6]})
    >>> d = SurveyDesign(df, ids="psu", weights="w")
    >>> round(float(d.mean("y")["estimate"].iloc[0]), 3)
    3.5
    """

    def __init__(
        self,
        data: Any,
        *,
        ids: str | Sequence[str] | None = None,
        strata: str | Sequence[str] | None = None,
        weights: Any = None,
        probs: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        nest: bool = False,
        lonely_psu: LonelyPSU = "fail",
        pps: Any = None,
        variance: Literal["HT", "YG"] = "HT",
        adjust_domain_lonely: bool = False,
    ) -> None:
        # the design's own frame: under pandas' copy-on-write (pandas >= 3) a shallow copy
        # costs nothing and neither side's later changes reach the other
        frame = to_pandas(data).copy(deep=not _COPY_ON_WRITE)
        check_option(lonely_psu, LONELY_OPTIONS, "lonely_psu")
        check_option(variance, ["HT", "YG"], "variance")
        id_names = [] if ids is None or ids == "1" or ids == 1 else as_name_list(ids, "ids")
        strata_names = as_name_list(strata, "strata")
        fpc_names = as_name_list(fpc, "fpc")
        check_frame(frame, "data", id_names + strata_names + fpc_names + ([weights] if isinstance(weights, str) else []))
        is_pps = pps is not None
        if is_pps and not fpc_names:
            raise SurveyError(
                "a PPS design needs the inclusion probabilities",
                argument="fpc",
                expected="a column of inclusion probabilities in (0, 1]",
                found="fpc=None",
            )
        stages = build_stages(frame, id_names, strata_names, fpc_names, nest, is_pps)
        self._weights_obj = None
        w = self._resolve_weights(frame, weights, probs, stages)
        dcheck = None
        if is_pps:
            pi = finite_numeric(frame[fpc_names[0]], "fpc")
            if isinstance(pps, str):
                check_option(pps, PPS_OPTIONS, "pps")
            dcheck = pps_dcheck(pps, pi, stages[0])
        self._data = frame
        self._w = w.view()  # read-only: estimates cannot be changed through it
        self._w.flags.writeable = False
        # rows of the design as R holds it (kept by subsets, which only zero weights)
        self._design_rows = len(w) if w.size and w.min() > 0 else int(np.count_nonzero(w > 0))  # a reduction, no mask
        self._stages = stages
        self._lonely = lonely_psu
        self._multistage = bool(fpc_names)
        self._dcheck = dcheck
        self._yg = variance == "YG"
        self._adjust_domain_lonely = bool(adjust_domain_lonely)
        self._degf: float | None = None
        self._spec = dict(ids=id_names, strata=strata_names, fpc=fpc_names, nest=nest, probs=as_name_list(probs, "probs"), pps=pps)
        if lonely_psu in ("fail", "average"):
            self._check_lonely()
        self._notes = self._lonely_notes()

    # -- construction helpers -----------------------------------------------------------------
    def _resolve_weights(self, frame, weights, probs, stages: list[Stage]) -> np.ndarray:
        if weights is not None and probs is not None:
            raise SurveyError(
                "give weights or probs, not both",
                argument="weights",
                expected="either sampling weights or selection probabilities",
                found="both",
            )
        if weights is not None:
            if hasattr(weights, "values") and hasattr(weights, "variance_records"):
                values = np.asarray(weights.values, dtype=float)
                _check_same_rows(weights.data, frame)
                self._weights_obj = weights
                return check_weights(values, "weights").copy()
            if isinstance(weights, pd.Series):
                weights = _aligned(weights, frame)
            return weight_vector(frame, weights)
        if probs is not None:
            names = as_name_list(probs, "probs")
            check_columns(frame, names, "probs")
            p = np.ones(len(frame))
            for name in names:
                pv = finite_numeric(frame[name], "probs")
                if ((pv <= 0) | (pv > 1)).any():
                    raise SurveyError(
                        "selection probabilities must lie in (0, 1]",
                        argument="probs",
                        expected="values in (0, 1]",
                        found=f"{int(((pv <= 0) | (pv > 1)).sum())} values outside in {name!r} (range {pv.min():g} .. {pv.max():g})",
                    )
                p = p * pv
            with np.errstate(divide="ignore", over="ignore"):
                return check_weights(1.0 / p, "1/probs")  # weights beyond MAX_WEIGHT refused
        if any(np.isfinite(st.popsize).all() for st in stages[:1]):
            return fpc_weights(stages)
        return np.ones(len(frame))

    def _lonely_notes(self) -> tuple[str, ...]:
        """Say (SurveyWarning, and in every result's notes) how single-PSU strata are handled."""
        notes = []
        stages = self._stages if self._multistage else self._stages[:1]
        for s, st in enumerate(stages):
            lonely = lonely_strata(st)
            if len(lonely):
                shown = ", ".join(map(str, st.labels[lonely][:5])) + (" …" if len(lonely) > 5 else "")
                notes.append(
                    f"{len(lonely)} stratum/strata with a single PSU at stage {s + 1} ({shown}) "
                    f"handled by lonely_psu={self._lonely!r}"
                )
        for note in notes:
            warnings.warn(note, SurveyWarning, stacklevel=4)
        return tuple(notes)

    def _check_lonely(self) -> None:
        """Refuse single-PSU strata under "fail", and "average" where nothing can be averaged."""
        stages = self._stages if self._multistage else self._stages[:1]
        for s, st in enumerate(stages):
            lonely = lonely_strata(st)
            if not len(lonely):
                continue
            if self._lonely == "fail":
                shown = ", ".join(map(str, st.labels[lonely][:10]))
                raise SurveyError(
                    f"stratum with a single PSU at stage {s + 1}",
                    argument="lonely_psu",
                    expected="at least two PSUs per stratum, or a lonely_psu rule",
                    found=f"{len(lonely)} single-PSU strata: {shown}",
                    hint="pass lonely_psu='adjust', 'average', 'remove' or 'certainty' (R's meanings), or collapse strata",
                )
            single = np.zeros(st.n_strata, dtype=bool)
            single[lonely] = True
            n_parent = int(st.parent.max()) + 1
            ok = np.bincount(st.parent, weights=~single, minlength=n_parent)
            has = np.bincount(st.parent, minlength=n_parent) > 0
            if (has & (ok == 0)).any():
                raise SurveyError(
                    f"lonely_psu='average' has no stratum to average over at stage {s + 1}",
                    argument="lonely_psu",
                    expected="at least one stratum with two or more units within each higher-stage unit",
                    found=f"{int((has & (ok == 0)).sum())} stage-{s} units whose strata all hold a single unit",
                    hint="use lonely_psu='adjust', 'remove' or 'certainty' (R returns NaN here)",
                )

    def _with_weights(self, weights: np.ndarray) -> SurveyDesign:
        new = object.__new__(SurveyDesign)
        new.__dict__.update(self.__dict__)
        new._w = weights
        new._degf = None
        return new

    def domain_rows(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Rows of each domain's subset design (R ``nrow(subset(d, …))``).

        A subset of a design whose weights carry calibration, post-stratification or raking
        records keeps every row (zero weight outside it; R's ``[.survey.design2`` for calibrated
        designs), so each domain's design has all the rows of the design; otherwise the domain's
        rows. Rows whose weight was zero when the design was built are not counted: a zero
        weight equals removing the row (R cannot calibrate a design with zero weights).
        """
        if self._variance().residuals:
            return np.full(n_domains, float(self._design_rows))
        return super().domain_rows(domain, n_domains)

    # -- engine --------------------------------------------------------------------------------
    def _variance(self) -> TaylorVariance:
        """The weight-independent variance form, built once and shared with subsets."""
        form = self.__dict__.get("_variance_form")
        if form is None:
            records = self._weights_obj.variance_records() if self._weights_obj is not None else ()
            form = TaylorVariance(
                self._stages,
                self._lonely,
                self._multistage,
                adjustments=records,
                dcheck=self._dcheck,
                yates_grundy=self._yg,
                adjust_domain_lonely=getattr(self, "_adjust_domain_lonely", False),
            )
            self.__dict__["_variance_form"] = form
        return form

    def _engine(self) -> TaylorEngine:
        return TaylorEngine(self._variance(), self._w)

    def degf(self) -> float:
        """Design degrees of freedom: PSUs minus strata among rows with positive weight (R ``degf``)."""
        if self._degf is None:
            st = self._stages[0]
            active, everywhere = self._positive()
            if everywhere:  # every PSU and stratum holds a row with weight
                self._degf = float(st.n_clusters - st.n_strata)
                return self._degf
            psu_in = np.bincount(st.cluster, weights=active.astype(float), minlength=st.n_clusters) > 0
            strata_in = np.bincount(st.stratum[psu_in], minlength=st.n_strata) > 0
            self._degf = float(psu_in.sum() - strata_in.sum())
        return self._degf

    def _domain_degf(self, domain: np.ndarray | None, n_domains: int) -> np.ndarray:
        """Degrees of freedom of each domain's subset design (R ``degf(subset(d, …))``)."""
        st = self._stages[0]
        keep, everywhere = self._positive()
        if n_domains == 1:  # one domain: PSUs and strata holding one of its rows
            inside = keep if domain is None else keep & (domain >= 0)
            psu_in = np.bincount(st.cluster[inside], minlength=st.n_clusters) > 0
            strata_in = np.bincount(st.stratum[psu_in], minlength=st.n_strata) > 0
            return np.array([float(psu_in.sum() - strata_in.sum())])
        if domain is not None and (everywhere or ((domain < 0) | keep).all()):  # every domain row has weight
            pairs = self._variance().pairs(st, domain, n_domains)  # shared with the variance
            n_psu = np.bincount(pairs.domain, minlength=n_domains)
            if pairs.dense_strata(st):  # the (stratum, domain) cells holding a pair
                n_str = (pairs.strata_cells(st).sizes.reshape(st.n_strata, n_domains) > 0).sum(axis=0)
            else:
                n_str = pairs.by_domain.count_distinct(st.stratum[pairs.cluster], st.n_strata)
            return (n_psu - n_str).astype(float)
        dom = Groups(np.zeros(self.n, dtype=np.int64) if domain is None else domain, n_domains)
        n_psu = dom.count_distinct(st.cluster, st.n_clusters, keep)
        n_str = dom.count_distinct(st.stratum[st.cluster], st.n_strata, keep)
        return (n_psu - n_str).astype(float)

    # -- replicate designs ---------------------------------------------------------------------
    def replicate(self, type: str = "JK1", **options: Any):
        """Convert to a replicate-weight design (JK1, JKn, BRR, Fay, bootstrap, SDR).

        See :func:`estimation.replicates.from_design` for the options (``replicates``, ``seed``,
        ``rho``, ``mse``). When the weights are a :class:`weighting.Weights`, every replicate is
        re-weighted through the whole recorded chain.
        """
        from estimation.replicates import from_design

        return from_design(self, type, **options)

    @property
    def stages(self) -> list[Stage]:
        """The factorised stages (clusters, strata, population sizes)."""
        return list(self._stages)

    def __repr__(self) -> str:
        st = self._stages[0]
        kind = "PPS " if self._dcheck is not None else ""
        return (
            f"SurveyDesign({kind}{len(self._stages)}-stage, {st.n_strata} strata, "
            f"{st.n_clusters} PSUs, {self.n} rows, lonely_psu={self._lonely!r})"
        )
