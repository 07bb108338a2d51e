"""Weighting diagnostics that warn: each finding is a :class:`surveycore.SurveyWarning`, a line
on the console (the command line prints it) and a note in the report and the run's metadata.

Five checks, with thresholds from the ``diagnostics:`` section of the specification:

* **Extreme g-weights.** ``g_i = w_i / d_i``, the ratio of a calibration (or raking) step's
  weight to the weight before it. Values far from 1 mean the sample is far from the census
  margins in some cells; ``g < g_min`` or ``g > g_max`` is reported (Särndal, Swensson &
  Wretman 1992, §6.5; Deville & Särndal 1992 on bounded calibration).
* **Kish's design effect of weighting** ``deff_w = n Σ w_i² / (Σ w_i)² = 1 + CV²(w)``
  (Kish 1965, §11.7; Kish 1992, *J. Off. Stat.* 8:183–200): the variance inflation that
  unequal weights alone cause. Above ``kish_deff`` is reported.
* **A calibration that moves a key estimate by more than its standard error.** For each
  variable of ``key_variables`` the weighted mean with the weights before the person steps,
  ``ȳ_d``, and with the final weights, ``ȳ_w``, are compared with the linearised SE of
  ``ȳ_w``; ``|ȳ_w − ȳ_d| > SE(ȳ_w)`` is reported (a large move means the adjustment, not the
  sample, carries the estimate — the +24 % of an over-fitted integrated calibration).
* **Sparse calibration cells.** A margin level with fewer than ``sparse_cell`` respondents is
  a sparse cell; when more than ``sparse_share`` of a step's cells are sparse the step is
  reported (integrated calibration to many crossed cells is the usual cause).
* **Calibration cells the sample estimates imprecisely.** For each cell ``c`` of a margin the
  coefficient of variation of its sample total before the person steps,
  ``CV_c = SE(t̂_c) / t̂_c`` with ``t̂_c = Σ_{i∈c} d_i`` and the linearised SE of the design
  (EAs as PSUs, certainty EAs self-representing); ``max_c CV_c > cell_cv`` is reported.
  Calibrating to ``T_c`` multiplies the cell's weights by about ``T_c / t̂_c``, and
  ``E[T_c / t̂_c] ≈ 1 + CV_c²`` (the second-order bias of a ratio estimator): an estimate
  that adds up such cells is a separate ratio estimator whose cell biases do not cancel
  (Cochran 1977, ch. 6, separate and combined ratio estimates; Särndal, Swensson & Wretman
  1992, ch. 6–7), biased by a relative amount of order ``CV_c²`` — more with integrated
  calibration, whose one g per household adjusts the cells less selectively —
  and its linearised SE, being first-order, leaves out the variability of the g-weights. A
  cell can hold many respondents and still be imprecise: the respondents of a few
  heavily weighted households in a few EAs (the low-prevalence stratum of a screening design)
  carry most of its total.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyWarning


def kish_deff(w: Any) -> float:
    """Kish's design effect of unequal weights, ``n Σw² / (Σw)²`` over positive weights."""
    w = np.asarray(w, dtype=float)
    w = w[w > 0]
    return float(w.size * np.square(w).sum() / np.square(w.sum())) if w.size else float("nan")


def _steps_of(spec: dict, names: tuple[str, ...]) -> list[tuple[int, str, dict]]:
    out = []
    for i, st in enumerate(spec["weighting"]):
        (name, opt), = st.items()
        if name in names:
            out.append((i, name, opt))
    return out


def weighting_diagnostics(persons: pd.DataFrame, weights: Any, steps: list, spec: dict,
                          *, emit: bool = True) -> list[str]:
    """Run the five checks on a weighted sample; warn and return the messages.

    Parameters
    ----------
    persons : DataFrame
        Respondents with ``household_weight`` (the weight before the person steps) and the
        final ``weight``.
    weights : weighting.Weights
        The person-level chain (for the linearised SE of the key estimates).
    steps : list of migsurvey.report.WeightStep
        The chain's steps (their g-weights).
    spec : dict
        The checked specification (``diagnostics``, ``weighting``, ``frame.psu``).
    emit : bool
        Also issue each message as a :class:`SurveyWarning`.
    """
    cfg = spec["diagnostics"]
    out: list[str] = []
    for st in steps:
        if st.g is None or st.name not in ("rake", "calibrate"):
            continue
        g = np.asarray(st.g, dtype=float)
        g = g[np.isfinite(g)]
        if g.size and (g.min() < cfg["g_min"] or g.max() > cfg["g_max"]):
            share = float(((g < cfg["g_min"]) | (g > cfg["g_max"])).mean())
            out.append(f"extreme g-weights in the {st.name} step: g from {g.min():.3g} to "
                       f"{g.max():.3g} ({100 * share:.1f} % of respondents outside "
                       f"[{cfg['g_min']:g}, {cfg['g_max']:g}]); consider bounds or coarser "
                       "margins")
    w = np.asarray(persons["weight"], dtype=float)
    deff = kish_deff(w)
    if deff > cfg["kish_deff"]:
        out.append(f"Kish's design effect of weighting is {deff:.2f} (1 + CV² of the final "
                   f"weights), above {cfg['kish_deff']:g}: unequal weights alone multiply "
                   "variances by this factor")
    cal_steps = _steps_of(spec, ("rake", "calibrate"))
    for i, name, opt in cal_steps:
        out += _sparse(persons, i, name, opt, cfg)
    if cal_steps and "household_weight" in persons.columns:
        out += _imprecise_cells(persons, cal_steps, spec, cfg)
    if _steps_of(spec, ("rake", "calibrate")) and "household_weight" in persons.columns:
        out += _key_moves(persons, weights, spec, cfg)
    if emit:
        for msg in out:
            warnings.warn(msg, SurveyWarning, stacklevel=2)
    return out


def _sparse(persons: pd.DataFrame, i: int, name: str, opt: dict, cfg: dict) -> list[str]:
    from migsurvey.empty_eas import real_rows

    persons = real_rows(persons)  # respondents only
    counts = []
    for m in opt["margins"]:
        cols = [m] if isinstance(m, str) else list(m)
        if not all(c in persons.columns for c in cols):
            continue
        counts.append(persons.groupby(cols, observed=True).size().to_numpy())
    if not counts:
        return []
    n = np.concatenate(counts)
    sparse = int((n < cfg["sparse_cell"]).sum())
    if sparse and sparse / n.size > cfg["sparse_share"]:
        kind = "integrated calibration" if opt.get("cluster") else name
        return [f"{kind} (weighting[{i}]) has {sparse} of {n.size} cells with fewer than "
                f"{cfg['sparse_cell']} respondents: sparse cells make extreme weights and "
                "biased estimates; collapse the margins"]
    return []


def _margin_columns(persons: pd.DataFrame, opt: dict) -> list[list[str]]:
    """The margins of a step, each as its list of columns, that the persons have."""
    margins = [[m] if isinstance(m, str) else list(m) for m in opt["margins"]]
    return [cols for cols in margins if all(c in persons.columns for c in cols)]


def cell_cvs(persons: pd.DataFrame, margins: list[list[str]], spec: dict) -> pd.DataFrame:
    """Coefficient of variation of the sample total of every calibration cell.

    ``t̂_c = Σ_{i∈c} d_i`` with ``d_i`` the weight before the person steps
    (``household_weight``), its SE linearised with the pipeline's design (EAs as PSUs in their
    strata, certainty EAs self-representing: :func:`migsurvey.design_units.design_units`).

    Returns
    -------
    DataFrame
        ``margin``, ``cell``, ``estimate`` (``t̂_c``), ``se``, ``cv``, ``households``,
        ``eas`` (the households and PSUs, ``frame.psu``, of the respondents in the cell),
        one row per cell of each margin.
    """
    from estimation import SurveyDesign
    from migsurvey.design_units import design_keywords, design_units
    from migsurvey.empty_eas import real_rows

    units, _note = design_units(persons, spec)
    # a person without a value of the margin is in none of its cells (as in the calibration)
    cols = {" × ".join(m): _cell_labels(units, m) for m in margins}
    data = units.assign(**{f"_cell{k}": v.to_numpy() for k, v in enumerate(cols.values())})
    design = SurveyDesign(data, **design_keywords(data), weights="household_weight",
                          lonely_psu=spec["estimation"]["lonely_psu"])
    key = "hh_key" if "hh_key" in data.columns else "household_id"
    psu = spec["frame"]["psu"]
    rows = []
    for k, name in enumerate(cols):
        t = design.total(f"_cell{k}", na_rm=True)
        g = real_rows(data).groupby(f"_cell{k}", sort=False)  # respondents' households, EAs
        t = t.assign(margin=name, cell=t["level"].astype(str),
                     households=g[key].nunique().reindex(t["level"]).to_numpy()
                     if key in data.columns else np.nan,
                     eas=g[psu].nunique().reindex(t["level"]).to_numpy())
        rows.append(t[["margin", "cell", "estimate", "se", "cv", "households", "eas"]])
    return pd.concat(rows, ignore_index=True)


def _cell_labels(data: pd.DataFrame, columns: list[str]) -> pd.Series:
    """``"a × b"`` labels of the crossed cells; missing where a value is missing."""
    label = pd.Series("", index=data.index, dtype=object)
    for j, c in enumerate(columns):
        label = label + (" × " if j else "") + data[c].astype(object).map(str)
    return label.where(data[columns].notna().all(axis=1).to_numpy(), None)


def imprecise_cells(persons: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The calibration cells whose sample total has a CV above ``diagnostics.cell_cv``.

    Returns
    -------
    DataFrame
        One row per such cell of every ``rake`` or ``calibrate`` step: ``step`` (its index in
        ``weighting``), ``name``, ``columns`` (the margin's columns), ``margin``, ``cell``
        (the ``"a × b"`` label of :func:`cell_cvs`) and ``cv``, the least precise first; every
        cell of every step in ``all_cells`` of ``attrs`` (for the mean CV²).
    """
    cfg = spec["diagnostics"]
    rows, every = [], []
    if "household_weight" not in persons.columns:
        return pd.DataFrame(columns=["step", "name", "columns", "margin", "cell", "cv"])
    for i, name, opt in _steps_of(spec, ("rake", "calibrate")):
        margins = _margin_columns(persons, opt)
        if not margins:
            continue
        cv = cell_cvs(persons, margins, spec).sort_values("cv", ascending=False)
        cols = {" × ".join(m): m for m in margins}
        cv = cv.assign(step=i, name=name, columns=cv["margin"].map(cols),
                       integrated=bool(opt.get("cluster")))
        every.append(cv)
        rows.append(cv.loc[cv["cv"] > cfg["cell_cv"]])
    out = (pd.concat(rows, ignore_index=True) if rows else
           pd.DataFrame(columns=["step", "name", "columns", "margin", "cell", "cv"]))
    out.attrs["all_cells"] = pd.concat(every, ignore_index=True) if every else None
    return out


def in_cells(data: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``data`` falls in one of the ``cells`` of :func:`imprecise_cells`."""
    hit = np.zeros(len(data), dtype=bool)
    for cols, group in cells.groupby(cells["columns"].map(tuple), sort=False):
        cols = list(cols)
        if not all(c in data.columns for c in cols):
            continue
        hit |= _cell_labels(data, cols).isin(set(group["cell"])).to_numpy()
    return hit


def _imprecise_cells(persons: pd.DataFrame, steps: list, spec: dict, cfg: dict) -> list[str]:
    out = []
    found = imprecise_cells(persons, spec)
    every = found.attrs.get("all_cells")
    for i, name, opt in steps:
        if every is None or not (every["step"] == i).any():
            continue
        cv = every.loc[every["step"] == i]
        worst = found.loc[found["step"] == i]
        if worst.empty:
            continue
        mean_cv2 = float(np.mean(np.square(cv["cv"].to_numpy(float))))
        cells = "; ".join(f"{r.margin} = {r.cell}: CV {100 * r.cv:.0f} % ("
                          + (f"{r.households:.0f} households in " if pd.notna(r.households)
                             else "") + f"{r.eas:.0f} EAs)" for r in worst.head(3).itertuples())
        kind = "integrated calibration" if opt.get("cluster") else name
        out.append(f"{kind} (weighting[{i}]) calibrates to {len(worst)} of {len(cv)} cells "
                   f"whose sample totals have a CV above {100 * cfg['cell_cv']:.0f} % ({cells}"
                   f"{'; …' if len(worst) > 3 else ''}): estimates that add up these cells are "
                   f"biased by a relative amount of order CV² (mean CV² of the cells "
                   f"{100 * mean_cv2:.1f} %, more with one weight per household) and their "
                   "linearised SEs (and the quality flags built on them) leave out the "
                   "variability of the g-weights; the indicators of the domains that "
                   "meet these cells are flagged 'use with caution' at best; collapse the "
                   "margins (e.g. region and sex as separate margins, or fewer cells) or take "
                   "more PSUs, and estimate variances with replicates that recalibrate "
                   "(estimation.variance: JKn)")
    return out


def _key_moves(persons: pd.DataFrame, weights: Any, spec: dict, cfg: dict) -> list[str]:
    from estimation import SurveyDesign
    from migsurvey.design_units import design_keywords, design_units

    out = []
    keys = [v for v in cfg["key_variables"] if v in persons.columns]
    if not keys:
        return out
    units, _note = design_units(persons, spec)  # certainty EAs: households are the PSUs
    design = SurveyDesign(units, **design_keywords(units), weights=weights,
                          lonely_psu=spec["estimation"]["lonely_psu"])
    d = persons["household_weight"].to_numpy(float)
    w = persons["weight"].to_numpy(float)
    for v in keys:
        y = pd.to_numeric(persons[v].astype("float"), errors="coerce").to_numpy(float)
        ok = np.isfinite(y)
        if not ok.all():
            continue
        before = float((d * y).sum() / d.sum())
        after = float((w * y).sum() / w.sum())
        se = float(design.mean(v)["se"].iloc[0])
        if se > 0 and abs(after - before) > se:
            out.append(f"the calibration moves the estimate of {v} from {before:.4g} to "
                       f"{after:.4g}, {abs(after - before) / se:.1f} times its standard error "
                       f"({se:.3g}): check the margins and the nonresponse model")
    return out


def caution_for_calibration_cells(t: Any, persons: pd.DataFrame, spec: dict) -> Any:
    """Lower to "use with caution" the reliable estimates of the domains that meet a
    calibration cell whose sample total is imprecise.

    A cell ``c`` with ``CV_c`` above ``diagnostics.cell_cv``
    (:func:`migsurvey.diagnostics.imprecise_cells`) makes every calibrated estimate that adds
    it up a separate ratio estimator biased by a relative amount of order ``CV_c²``, whose
    linearised SE leaves out the variability of the g-weights (Cochran 1977, ch. 6; Särndal,
    Swensson & Wretman 1992, ch. 6–7): the CV of such an estimate understates its error, so a
    "reliable" flag built on it is not earned. Every estimate whose domain holds a sampled
    person of such a cell — the total, and each disaggregation that overlaps the cell — is
    flagged at most "caution" (the quality rule's caution flag); the reason, the cells and the
    number of estimates lowered are recorded in ``metadata["quality_notes"]`` and
    ``metadata["calibration_caution"]``, and a :class:`surveycore.SurveyWarning` says so.
    """
    from migsurvey.pipeline import TOTAL, quality_rule

    cells = imprecise_cells(persons, spec)
    if cells.empty:
        return t
    hit = in_cells(persons, cells)
    table = t.table
    dims = [c for c in t.metadata.get("by", []) if c in table.columns]
    affected = np.zeros(len(table), dtype=bool)
    for k, row in enumerate(table[dims].itertuples(index=False)):
        rows = hit.copy()
        for c, v in zip(dims, row, strict=True):
            if v == TOTAL or c not in persons.columns:
                continue
            rows &= (persons[c].astype(object) == v).to_numpy()
        affected[k] = rows.any()
    lower = affected & table["reliability"].eq("reliable").to_numpy()
    if not lower.any():
        return t
    rule = quality_rule(spec)
    table = table.copy()
    table.loc[lower, "reliability"] = "caution"
    table.loc[lower, "flag"] = rule.caution_flag
    limit = spec["diagnostics"]["cell_cv"]
    listed = "; ".join(f"{r.margin} = {r.cell} (CV {100 * r.cv:.0f} %)"
                       for r in cells.head(4).itertuples())
    note = (f"{int(lower.sum())} estimates flagged 'use with caution' ({rule.caution_flag}) "
            f"instead of reliable: their domains meet calibration cells whose sample totals "
            f"have a CV above {100 * limit:.0f} % ({listed}"
            f"{'; …' if len(cells) > 4 else ''}); calibrated estimates adding up such cells are "
            "biased by a relative amount of order CV² and their linearised SEs leave out the "
            "variability of the g-weights")
    warnings.warn(note, SurveyWarning, stacklevel=3)
    meta = dict(t.metadata)
    meta["quality_notes"] = [*meta.get("quality_notes", []), note]
    meta["calibration_caution"] = {
        "cell_cv": limit, "lowered": int(lower.sum()),
        "cells": [{"margin": r.margin, "cell": r.cell, "cv": float(r.cv)}
                  for r in cells.itertuples()]}
    return dataclasses.replace(t, table=table, metadata=meta)
