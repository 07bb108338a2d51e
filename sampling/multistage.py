"""Later stages and phases: households within PSUs, and two-phase screening.

Probabilities are chained: a unit's overall inclusion probability is the product of its
conditional probabilities at each stage and phase, :math:`\\pi = \\pi_1\\,\\pi_{2|1}\\,\\pi_{3|2}\\cdots`,
and its base weight is :math:`1/\\pi` (Särndal, Swensson & Wretman 1992, §4.3 and §9.3).

Within a selected PSU :math:`i` with :math:`M_i` listed households:

* fixed take :math:`m`: SRS or systematic selection of :math:`m` households,
  :math:`\\pi_{2|1} = m/M_i`;
* fixed rate :math:`f`: :math:`m_i = fM_i` rounded at random (down or up with probabilities that
  keep the expectation), so :math:`\\pi_{2|1} = f` exactly;
* self-weighting at overall rate :math:`f_0`: rate :math:`f_0/\\pi_{1,i}` in PSU :math:`i`, so every
  household has :math:`\\pi = f_0`.

Screening (two-phase sampling, MED-HIMS): every household of the previous stage is classified
(migrant / non-migrant …) and, within each PSU and class :math:`c`, subsampled at rate
:math:`r_c` with the same random rounding, so :math:`\\pi_{3|2} = r_c`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from sampling._validate import as_rng
from sampling.sample import Sample, StageRecord
from surveycore import SurveyError
from surveycore.checks import as_name_list, check_columns, check_option, to_pandas


def _random_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = np.floor(x + 1e-12)
    return (base + (rng.random(x.size) < (x - base))).astype(int)


def _select_within(group: np.ndarray, m: np.ndarray, method: str, rng: np.random.Generator,
                   order_keys: np.ndarray) -> np.ndarray:
    """Boolean mask selecting ``m[g]`` rows in each group ``g`` (rows already in frame order)."""
    n = group.size
    M = np.bincount(group, minlength=m.size)
    if method == "srs":
        key = rng.random(n)
        order = np.lexsort((key, group))
    else:
        order = np.lexsort((order_keys, group))
    g_sorted = group[order]
    starts = np.r_[0, np.cumsum(M)[:-1]]
    pos = np.arange(n) - starts[g_sorted]  # 0-based position in the group
    if method == "srs":
        hit_sorted = pos < m[g_sorted]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(M > 0, m / M, 0.0)[g_sorted]
        u = rng.random(m.size)[g_sorted]
        hit_sorted = (np.ceil((pos + 1) * step - u) - np.ceil(pos * step - u)) > 0
    hit = np.zeros(n, dtype=bool)
    hit[order] = hit_sorted
    return hit


def subsample(
    sample: Sample,
    listing: Any,
    *,
    psu: str | None = None,
    id: str | None = None,
    take: int | Mapping | None = None,
    rate: float | None = None,
    self_weighting: float | None = None,
    method: Literal["srs", "systematic"] = "systematic",
    sort: str | Sequence[str] | None = None,
    seed: int | np.random.Generator | None = None,
) -> Sample:
    """Select households (or any units) within the PSUs of ``sample``.

    Parameters
    ----------
    sample : Sample
        The previous stage.
    listing : data frame
        The listing of the selected PSUs: one row per household with the PSU id.
    psu : str, optional
        PSU id column of ``listing`` (default: the id of the previous stage).
    id : str, optional
        Household id column (default: row number, column ``_unit``).
    take, rate, self_weighting : optional
        Exactly one: households per PSU (an int or ``{psu: m}``), a within-PSU rate, or the
        overall rate of a self-weighting design.
    method : {"systematic", "srs"}
        Within-PSU selection; systematic follows the listing order (or ``sort``).
    seed : int or numpy.random.Generator, optional

    Raises
    ------
    SurveyError
        When a take is larger than a PSU's listing (naming the PSUs), when a selected PSU has
        no listing, or when a self-weighting rate needs more households than are listed.
    """
    method = check_option(method, ("srs", "systematic"), "method")
    prev = sample.units
    prev_id = sample.stages[-1].id
    psu = psu or prev_id
    df = to_pandas(listing, "listing")
    check_columns(df, [psu], "psu")
    full_n = len(df)
    df = df[df[psu].isin(pd.Index(prev[prev_id].unique()))].copy()
    sort = as_name_list(sort, "sort")
    check_columns(df, sort, "sort")
    if id is None:
        id = "_unit"
        df[id] = np.flatnonzero(to_pandas(listing, "listing")[psu].isin(df[psu].unique())) \
            if len(df) < full_n else np.arange(len(df))
    check_columns(df, [id], "id")
    if df[id].duplicated().any():
        raise SurveyError("household ids are not unique in the listing", argument="id",
                          expected="one row per household",
                          found=f"{int(df[id].duplicated().sum())} duplicates")
    if sum(v is not None for v in (take, rate, self_weighting)) != 1:
        raise SurveyError("give exactly one of take, rate and self_weighting", argument="take",
                          expected="take=m, rate=f or self_weighting=f0",
                          found=f"take={take!r}, rate={rate!r}, self_weighting={self_weighting!r}")
    selected = pd.Index(prev[prev_id].unique())
    df = df.reset_index(drop=True)
    M = df.groupby(psu, sort=False).size().reindex(selected, fill_value=0)
    empty = M.index[M.to_numpy() == 0]
    if len(empty) and rate is None:
        raise SurveyError("some selected PSUs have no listed households", argument="listing",
                          expected="a listing for every selected PSU",
                          found=f"{len(empty)} PSUs without listing, e.g. {list(empty[:5])!r}")
    rng = as_rng(seed)
    prev_pi = prev.drop_duplicates(prev_id).set_index(prev_id)["pi"].reindex(selected)
    Mv = M.to_numpy().astype(float)
    if take is not None:
        m = (pd.Series(take) if isinstance(take, Mapping) else pd.Series(take, index=selected))
        m = m.reindex(selected)
        if m.isna().any() or (m < 0).any() or (m != np.floor(m)).any():
            raise SurveyError("take must be a whole number >= 0 for every selected PSU",
                              argument="take", expected="an int or {psu: int}", found=repr(take))
        big = m.to_numpy() > Mv
        if big.any():
            bad = [(i, int(a), int(b)) for i, a, b in zip(M.index[big], m[big], Mv[big])][:5]
            raise SurveyError(
                "the take is larger than the listing of some PSUs",
                argument="take",
                expected="take <= listed households in every PSU",
                found=f"{int(big.sum())} PSUs (psu, take, listed): {bad!r}",
                hint="lower the take, take every household in small PSUs, or merge small EAs "
                "into PSUs before selection (Frame.form_psus)",
            )
        m_i = m.to_numpy().astype(int)
        pi2 = np.divide(m_i, Mv, out=np.zeros_like(Mv), where=Mv > 0)
        label = f"take {take}" if not isinstance(take, Mapping) else "take per PSU"
    else:
        r = (np.full(Mv.size, float(rate)) if rate is not None
             else float(self_weighting) / prev_pi.to_numpy())
        if not np.isfinite(r).all() or (r < 0).any():
            raise SurveyError("rates must be finite and >= 0", argument="rate",
                              expected="0 <= rate <= 1", found=repr(rate or self_weighting))
        if (r > 1 + 1e-12).any():
            bad = list(M.index[r > 1 + 1e-12][:5])
            raise SurveyError(
                "the within-PSU rate would exceed 1" if rate is None else "rate must be at most 1",
                argument="self_weighting" if rate is None else "rate",
                expected="f0 <= pi of every selected PSU" if rate is None else "rate <= 1",
                found=f"{int((r > 1 + 1e-12).sum())} PSUs, e.g. {bad!r}",
                hint="lower the overall rate or select more PSUs",
            )
        m_i = _random_round(np.minimum(r, 1.0) * Mv, rng)
        pi2 = np.minimum(r, 1.0)
        label = f"rate {rate}" if rate is not None else f"self-weighting {self_weighting}"
    group = pd.Categorical(df[psu], categories=selected).codes.astype(np.int64)
    order_keys = (np.lexsort([df[c].to_numpy() for c in reversed(sort)]).argsort()
                  if sort else np.arange(len(df)))
    hit = _select_within(group, m_i, method, rng, order_keys)
    k = len(sample.stages) + 1
    out = df[hit].copy()
    out[f"pi_{k}"] = pi2[group[hit]]
    frac = np.divide(m_i, Mv, out=np.zeros_like(Mv), where=Mv > 0)
    out[f"fpc_{k}"] = frac[group[hit]]
    d = sample.design
    design_cols = {*d.ids, *(c for c in d.strata if c), *d.fpc,
                   *(st.prob for st in sample.stages)}
    carry = [c for c in prev.columns if c not in ("pi", "weight", prev_id)
             and (c not in out.columns or c in design_cols)]
    out = out.drop(columns=[c for c in carry if c in out.columns])
    prev_rows = prev.drop_duplicates(prev_id).set_index(prev_id)[carry]
    out = out.join(prev_rows, on=psu)
    if psu != prev_id:
        out[prev_id] = out[psu]
    out["pi"] = prev_pi.reindex(out[psu]).to_numpy() * out[f"pi_{k}"].to_numpy()
    out["weight"] = 1.0 / out["pi"]
    out = out.reset_index(drop=True)
    sizes = pd.DataFrame({"psu": selected, "N": M.to_numpy(), "n": m_i,
                          "selected": np.bincount(group[hit], minlength=selected.size)})
    rec = StageRecord(kind="stage", method=method, id=id, strata=None, prob=f"pi_{k}",
                      sizes=sizes, detail={"rule": label, "psu": psu})
    design = replace(d, ids=[*d.ids, id], strata=[*d.strata, None], fpc=[*d.fpc, f"fpc_{k}"])
    return Sample(units=out, design=design, stages=(*sample.stages, rec),
                  frame_pi=sample.frame_pi, phase1=sample.phase1)


def screen(
    sample: Sample,
    classify: str,
    rates: Mapping[Any, float],
    *,
    within: str | None = None,
    seed: int | np.random.Generator | None = None,
) -> Sample:
    """Two-phase screening: subsample each screened class at its own rate within each PSU.

    Parameters
    ----------
    sample : Sample
        Phase 1: the screened units (e.g. listed households with a screening answer).
    classify : str
        Column holding the screening class (e.g. ``migrant_hh`` True/False, or household types:
        emigrant, return migrant, forced migrant, none).
    rates : mapping
        ``{class: rate}`` for every class present (rate 1 keeps every unit of the class).
    within : str, optional
        Column within whose groups the subsampling is done (default: the PSU id).

    Returns
    -------
    Sample
        Phase-2 units with ``pi_k`` = the class rate, ``pi`` chained; :attr:`Sample.phase1`
        keeps every screened unit with ``in_phase2``, its phase-2 stratum ``phase2_stratum``
        (``within`` × class) and ``pi_k``. ``sample.design.two_phase_kwargs()`` declares the
        two-phase design on ``sample.phase1`` joined with the phase-2 answers:
        ``estimation.TwoPhaseDesign(phase1_with_answers, **sample.design.two_phase_kwargs())``.
    """
    units = sample.units
    check_columns(units, [classify], "classify")
    within = within or sample.design.ids[0]
    check_columns(units, [within], "within")
    cls = units[classify]
    if cls.isna().any():
        raise SurveyError("screening class is missing for some units", argument="classify",
                          expected="a class on every screened unit",
                          found=f"{int(cls.isna().sum())} missing")
    classes = pd.Index(cls.unique())
    rate_s = pd.Series(dict(rates), dtype=float)
    missing = [c for c in classes if c not in rate_s.index]
    if missing:
        raise SurveyError("no rate for some screening classes", argument="rates",
                          expected="a rate for every class: " + repr(list(classes)),
                          found=f"missing {missing!r}")
    if ((rate_s < 0) | (rate_s > 1) | rate_s.isna()).any():
        raise SurveyError("screening rates must lie in [0, 1]", argument="rates",
                          expected="0 <= rate <= 1", found=repr(dict(rates)))
    rng = as_rng(seed)
    gkey = units.groupby([within, classify], sort=False, observed=True).ngroup().to_numpy()
    G = int(gkey.max()) + 1 if gkey.size else 0
    M = np.bincount(gkey, minlength=G).astype(float)
    r_unit = rate_s.reindex(cls).to_numpy()
    r_g = np.zeros(G)
    r_g[gkey] = r_unit
    m_g = _random_round(r_g * M, rng)
    hit = _select_within(gkey, m_g, "srs", rng, np.arange(gkey.size))
    k = len(sample.stages) + 1
    phase1 = units.copy()
    phase1 = phase1.rename(columns={"pi": "pi_phase1", "weight": "weight_phase1"})
    phase1["in_phase2"] = hit
    phase1["phase2_stratum"] = gkey
    phase1[f"pi_{k}"] = r_unit
    out = units[hit].copy()
    out[f"pi_{k}"] = r_unit[hit]
    out[f"fpc_{k}"] = (m_g / np.maximum(M, 1))[gkey[hit]]
    out["pi"] = units["pi"].to_numpy()[hit] * r_unit[hit]
    out["weight"] = 1.0 / out["pi"]
    out = out.reset_index(drop=True)
    firsts = pd.DataFrame({"g": gkey, "class": cls.to_numpy(),
                           "within": units[within].to_numpy()}).groupby("g").first()
    sizes = firsts.reindex(range(G)).assign(N=M.astype(int), n=m_g).reset_index(drop=True)
    rec = StageRecord(kind="phase", method="srs", id=sample.stages[-1].id, strata=classify,
                      prob=f"pi_{k}", sizes=sizes, detail={"rates": dict(rates), "within": within})
    d = sample.design
    phases = {"phase1_probs": "pi_phase1", "phase2_strata": [within, classify],
              "phase2_probs": f"pi_{k}", "rates": dict(rates), "subset": "in_phase2",
              "phase1_stage_probs": [st.prob for st in sample.stages],
              "phase2_stratum": "phase2_stratum", "phase2_id": sample.stages[-1].id}
    design = replace(d, fpc=[*d.fpc[:-1], d.fpc[-1]], phases=phases)
    return Sample(units=out, design=design, stages=(*sample.stages, rec),
                  frame_pi=sample.frame_pi, phase1=phase1)
