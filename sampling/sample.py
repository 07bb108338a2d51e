"""The :class:`Sample` returned by selection, and the design to declare after fieldwork."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class StageRecord:
    """What one stage or phase did: method, unit id, strata, probability column, sizes."""

    kind: str  # "stage" or "phase"
    method: str
    id: str
    strata: str | None
    prob: str
    sizes: pd.DataFrame = field(repr=False)
    detail: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SampleDesign:
    """Column names to declare the design for weighting and estimation (R survey conventions).

    ``ids`` lists the unit id of each stage (PSU first); ``strata`` the stratum column of each
    stage (``None`` when a stage is not stratified); ``fpc`` the sampling-fraction columns of each
    stage (R ``survey`` reads values <= 1 as fractions; for a PPS stage the fraction is the unit's
    own inclusion probability, to be used with ``pps="brewer"``); ``probs`` the overall inclusion
    probability and ``weights`` the base weight :math:`1/\\pi`. ``phases`` describes a screening
    (two-phase) subsample: the phase-2 strata (the screening classes) and their rates.
    """

    ids: list[str]
    strata: list[str | None]
    fpc: list[str]
    probs: str = "pi"
    weights: str = "weight"
    pps: str | None = None
    phases: dict | None = None
    lonely_psu: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``estimation.SurveyDesign`` (R ``svydesign`` conventions).

        * one stage, π ∝ size: ``fpc`` is the unit's π with ``pps="brewer"`` (Brewer's
          approximation of the without-replacement variance);
        * one stage, equal probabilities: ``fpc`` holds the sampling fraction of the stratum;
        * several stages with a PPS first stage: ``fpc`` holds each stage's inclusion
          probabilities with ``pps="brewer"`` (Brewer's approximation at the first stage,
          later stages' variances added as R ``svydesign(pps="brewer")`` does);
        * several equal-probability stages: one fraction column per stage;
        * Poisson sampling: every unit is its own stratum with fraction π and
          ``lonely_psu="adjust"``, which gives the Poisson variance ``Σ (1 − π_k) y_k²/π_k²``
          exactly (Särndal et al. 1992, §3.5).

        ``probs`` (the overall π, phases included) gives the weights in every case.
        """
        strata = [s for s in self.strata if s is not None]
        out: dict[str, Any] = {
            "ids": self.ids if len(self.ids) > 1 else self.ids[0],
            "strata": strata[0] if strata else None,
            "probs": self.probs,
        }
        if len(self.ids) == 1:
            out["fpc"] = self.fpc[0]
            if self.pps is not None:
                out["pps"] = self.pps
        else:
            out["fpc"] = list(self.fpc)
            if self.pps is not None:
                out["pps"] = self.pps
        if self.lonely_psu is not None:
            out["lonely_psu"] = self.lonely_psu
        return out

    def two_phase_kwargs(self, pps: Any = None) -> dict[str, Any]:
        """Keyword arguments for ``estimation.TwoPhaseDesign`` after a screening (R ``twophase``).

        Phase 1 is the design of the screened units — ids, first-stage strata and the
        probability of every stage; their sampling fractions as ``fpc`` when each stage has
        equal probabilities within strata. Phase 2 is a stratified sample of the screened units
        (strata: PSU × screening class, column ``phase2_stratum``) with the class rate as its
        probability; its population sizes are counted from phase 1. With a PPS first stage the
        phase-1 fpc is left out (with-replacement approximation at phase 1) and the approximate
        variance method is proposed (R ``method="approx"``); otherwise R's full method. Give
        ``pps`` — the first stage's joint inclusion probabilities (e.g. the first-stage
        sample's :meth:`Sample.joint_probabilities`) or ``"brewer"`` — to declare a PPS first
        stage without replacement instead (its inclusion probabilities as phase-1 ``fpc``, the
        full method). Declare the design on :attr:`Sample.phase1` joined with the answers of
        phase-2 units.
        """
        if self.phases is None:
            from surveycore import SurveyError

            raise SurveyError(
                "the sample has no screening phase",
                argument="sample",
                expected="a sample returned by Sample.screen()",
                found="a single-phase sample",
                hint="declare it with SurveyDesign(units, **sample.design.as_kwargs())",
            )
        p = self.phases
        strata = [s for s in self.strata if s is not None]
        as_pps = pps is not None and self.pps is not None and len(self.fpc) == len(self.ids)
        with_fpc = (self.pps is None or as_pps) and len(self.fpc) == len(self.ids)
        out = {
            "ids": (self.ids if len(self.ids) > 1 else self.ids[0], p["phase2_id"]),
            "strata": (strata[0] if strata else None, p["phase2_stratum"]),
            "probs": (p["phase1_stage_probs"], p["phase2_probs"]),
            "fpc": (list(self.fpc) if with_fpc else None, None),
            "subset": p["subset"],
            "method": "full" if with_fpc else "approx",
        }
        if as_pps:
            out["pps"] = pps
        return out


@dataclass(frozen=True)
class Sample:
    """Selected units with per-stage and overall inclusion probabilities and base weights.

    Attributes
    ----------
    units : pandas.DataFrame
        Selected rows of the last stage, with columns ``pi_1``, ``pi_2``, … (conditional
        probability of each stage or phase), ``pi`` (their product), ``weight`` (``1/pi``) and
        ``fpc_1``, ``fpc_2``, ….
    design : SampleDesign
        Names to pass to ``SurveyDesign``.
    stages : tuple of StageRecord
        History of the stages and phases.
    frame_pi : pandas.Series
        First-stage inclusion probabilities of every frame unit, indexed by unit id.
    phase1 : pandas.DataFrame or None
        After :meth:`screen`: every screened unit (phase 1) with its class, its phase-1
        probability ``pi_phase1`` and a boolean ``in_phase2``, for two-phase estimation.
    """

    units: pd.DataFrame
    design: SampleDesign
    stages: tuple[StageRecord, ...]
    frame_pi: pd.Series = field(repr=False)
    phase1: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of selected units at the last stage."""
        return len(self.units)

    def subsample(self, listing: Any, **kwargs: Any) -> Sample:
        """Select households within the selected PSUs; see :func:`sampling.multistage.subsample`."""
        from sampling.multistage import subsample

        return subsample(self, listing, **kwargs)

    def screen(self, classify: str, rates: dict, **kwargs: Any) -> Sample:
        """Two-phase screening subsample; see :func:`sampling.multistage.screen`."""
        from sampling.multistage import screen

        return screen(self, classify, rates, **kwargs)

    def joint_probabilities(
        self, approximation: Literal["exact", "hajek", "brewer"] = "exact"
    ) -> pd.DataFrame:
        """Joint inclusion probabilities of the selected units of a one-stage sample.

        Within a stratum they come from :func:`sampling.joint_inclusion_probabilities` for the
        selection method (exact for systematic, Sampford, conditional Poisson, Tillé, SRS and
        Poisson; Brewer's method and the cube method have no closed form and need
        ``approximation="hajek"`` or ``"brewer"``); across strata :math:`\\pi_{kl} = \\pi_k\\pi_l`.
        The result (indexed by unit id, in the order of :attr:`units`) can be passed to
        ``SurveyDesign(..., pps=matrix)``.
        """
        from sampling.joint import joint_among
        from surveycore import SurveyError
        from surveycore.checks import check_option

        check_option(approximation, ("exact", "hajek", "brewer"), "approximation")
        if len(self.stages) != 1:
            raise SurveyError("joint probabilities are available for one-stage samples",
                              argument="sample", expected="a sample from select()",
                              found=f"{len(self.stages)} stages or phases")
        st = self.stages[0]
        method = {"pps_systematic": "systematic", "cube": None, "brewer": None}.get(
            st.method, st.method)
        if approximation != "exact":
            method = approximation
        if method is None:
            raise SurveyError(f"method {st.method!r} has no exact joint probabilities",
                              argument="approximation", expected="'hajek' or 'brewer'",
                              found="'exact'")
        ids = self.units[st.id].to_numpy()
        pi = self.units["pi_1"].to_numpy()
        out = np.outer(pi, pi)
        order_ids = st.detail["order_ids"]
        bounds = st.detail["bounds"]
        pos = pd.Index(order_ids).get_indexer(ids)
        stratum = np.searchsorted(bounds, pos, side="right") - 1
        for h in np.unique(stratum):
            sel = np.flatnonzero(stratum == h)
            lo, hi = bounds[h], bounds[h + 1]
            pi_h = self.frame_pi.loc[order_ids[lo:hi]].to_numpy()
            out[np.ix_(sel, sel)] = joint_among(pi_h, pos[sel] - lo, method)
        return pd.DataFrame(out, index=ids, columns=ids)

    def summary(self) -> pd.DataFrame:
        """One row per stage/phase: method, units selected, strata, probability range."""
        rows = []
        for i, st in enumerate(self.stages, start=1):
            p = self.units[st.prob]
            rows.append({"stage": i, "kind": st.kind, "method": st.method, "id": st.id,
                         "strata": st.strata, "selected": int(st.sizes["n"].sum()),
                         "pi_min": p.min(), "pi_max": p.max()})
        return pd.DataFrame(rows)
