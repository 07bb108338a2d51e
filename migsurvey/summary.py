"""Turn a :class:`~migsurvey.pipeline.SurveyRun` into report content and output tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from migsurvey.empty_eas import real_rows
from migsurvey.pipeline import SurveyRun
from migsurvey.report import ReportContent
from migsurvey.small_area import district_estimates, published_districts

INDICATOR_NAMES = {
    "MI1.1": "Stock of international migrants (foreign-born usual residents)",
    "MI1.2": "Acquisition of citizenship in the 12 months before the reference date",
    "MI1.3": "Immigration in the 12 months before the reference date",
    "MI1.4": "Emigration in the 12 months before the reference date (emigrant rosters)",
}

TABLE_COLUMNS = ("indicator", "measure", "unit", "estimate", "se", "ci_low", "ci_high", "cv",
                 "df", "n", "flag", "reliability", "suppressed")


def indicator_output(run: SurveyRun) -> pd.DataFrame:
    """The tidy indicator table: ``indicator, measure``, the domain columns, then
    ``estimate, se, ci_low, ci_high, cv, df, n, flag, reliability, suppressed``."""
    return tidy_indicators(run.indicators, run.spec)


def tidy_indicators(t: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The indicator table in the column order of :func:`indicator_output`."""
    dims = [c for g in spec["estimation"]["by"] for c in g]
    dims = [c for c in dict.fromkeys(dims) if c in t.columns]
    front = ["indicator", "measure", "unit", *dims]
    rest = [c for c in TABLE_COLUMNS if c in t.columns and c not in front]
    extra = [c for c in ("unit_measure", "kind", "n_contributors") if c in t.columns]
    return t[front + rest + extra].reset_index(drop=True)


def _design_summary(run: SurveyRun) -> dict:
    s = run.spec
    c = run.census
    hh = run.households
    resp = hh["responded"].to_numpy(bool)
    steps = " → ".join(next(iter(st)) for st in s["weighting"])
    out = {
        "survey": s["name"],
        "reporting country": f"{s['country']} (reference year {s['reference_year']})",
        "census": f"{c.n_persons:,} persons, {c.n_households:,} households, "
                  f"{len(c.eas):,} EAs"
                  + (f", {c.eas['region'].nunique()} regions" if "region" in c.eas else ""),
        "strata": f"{run.frame['stratum'].nunique()} ({' × '.join(s['strata']['by'] or ['—'])} × "
                  f"prevalence classes {', '.join(s['strata']['labels'])}; cuts "
                  f"{', '.join(f'{100 * x:g} %' for x in s['strata']['cuts'])})",
        "stage 1": f"{len(run.psus):,} EAs, {s['selection']['psu']['method']} with size "
                   f"{s['selection']['psu']['size']}; allocation {s['sample']['allocation']}",
        "stage 2": "screening on " + s["selection"]["household"]["screening"] + "; take "
                   + ", ".join(f"{k} {v}" for k, v in s["selection"]["household"]["take"].items())
                   + " households per EA",
        "households": f"{len(hh):,} selected, {int(resp.sum()):,} responded "
                      f"({100 * resp.mean():.1f} %)",
        "persons interviewed": f"{len(real_rows(run.persons)):,}",
        "weighting": steps,
        "variance": "Taylor linearisation, ultimate clusters (EAs) within strata, with "
                    "calibration residuals" if s["estimation"]["variance"] == "taylor"
                    else s["estimation"]["variance"],
        "quality rule": s["quality"]["preset"],
    }
    meta = indicator_metadata(run) if run.indicator_table else {}
    return _with_design_units(_two_phase_variance(out, meta), meta)


def _two_phase_variance(design: dict, meta: dict) -> dict:
    """The variance line of a design whose tables came from the two-phase screening design."""
    if meta.get("design") != "two-phase":
        return design
    return {**design, "variance": "Taylor linearisation, two-phase design (phase 1: EAs and their "
            f"listing — {meta.get('phase1_variance', '')}; phase 2: households within EA × "
            "screening class), with the weighting chain's residuals"}


def _with_design_units(design: dict, meta: dict) -> dict:
    """The design summary with how certainty PSUs entered the variance, when the tables say."""
    note = meta.get("design_units")
    return {**design, "certainty PSUs": note} if note else design


def _screening(run: SurveyRun) -> pd.DataFrame:
    hh = run.households
    g = hh.groupby(["urban", "screen"], sort=True)
    out = pd.DataFrame({
        "selected": g.size(),
        "responded": g["responded"].sum(),
        "response_rate": g["responded"].mean(),
        "mean_base_weight": g["base_weight"].mean(),
    })
    return out.reset_index()


def _frame_for_map(run: SurveyRun) -> pd.DataFrame | None:
    f = run.frame
    psu = run.spec["frame"]["psu"]
    if not {"x", "y"} <= set(f.columns):
        return None
    sel = f[psu].isin(run.psus[psu]).to_numpy()
    return pd.DataFrame({"ea_id": f[psu], "x": f["x"], "y": f["y"],
                         "stratum": f["prevalence_class"], "selected": sel,
                         "persons": f["persons"]})


def report_content(run: SurveyRun) -> ReportContent:
    """Everything the HTML report shows for one run."""
    s = run.spec
    ind = indicator_output(run)
    districts, fit = district_estimates(run)
    districts = published_districts(districts)
    # the report shows the shares and rates (the measures users read first) and counts
    return ReportContent(
        title=s["name"],
        subtitle=f"{s['country']} · reference year {s['reference_year']} · seed {s['seed']} · "
                 "made with migsurvey",
        design=_design_summary(run),
        allocation=run.allocation,
        frame=_frame_for_map(run),
        screening=_screening(run),
        weighting=run.weight_steps,
        indicators=ind,
        indicator_names=INDICATOR_NAMES,
        domains=list(dict.fromkeys(c for g in s["estimation"]["by"] for c in g)),
        spec_text=s.get("_text", ""),
        small_area=districts,
        small_area_note=_district_note(fit),
        notes=[
            "Synthetic census: the population, its regions and its migrants are invented; "
            "fieldwork (who responds) is simulated.",
            *[f"Warning: {d}" for d in run.diagnostics],
        ],
        timings=dict(run.timings),
        metadata=indicator_metadata(run),
        labels={"age_group": "Age group", "urban": "Urban area"},
        withhold_unreliable=s["quality"]["suppress"],
    )


def indicator_metadata(run: SurveyRun) -> dict:
    """Definitions, quality and suppression rules of the run's indicator tables, merged."""
    return _merged_metadata((run.indicator_table or {}).values())


def _merged_metadata(tables: Any) -> dict:
    """The metadata of several indicator tables in one mapping (indicator entries merged)."""
    meta: dict = {}
    for obj in tables:
        for k, v in obj.metadata.items():
            if k == "suppression_audit" and "release" in v and "release" in meta.get(k, {}):
                # the audit of each unit's release: protected only if every one is
                mine, theirs = meta[k]["release"], v["release"]
                both = {**mine, "all_protected": mine["all_protected"] and theirs["all_protected"],
                        "cells_audited": mine["cells_audited"] + theirs["cells_audited"],
                        "unprotected_cells": mine["unprotected_cells"]
                        + theirs["unprotected_cells"]}
                meta[k].update(v)
                meta[k]["release"] = both
            elif k in ("indicators", "suppression_audit"):
                meta.setdefault(k, {}).update(v)
            else:
                meta.setdefault(k, v)
    return meta


def _district_note(fit: dict) -> str:
    """What the district section shows, and what the model warned about."""
    if not fit:
        return ""
    if "refused" in fit:
        return "No district estimates: " + fit["refused"]
    return ("MI 1.1 share of foreign-born residents by district (per cent). Fay–Herriot model on "
            "the arcsine scale with two census auxiliaries (share of residents born abroad who "
            "arrived at least ten years ago; urban share); MSE by parametric bootstrap; districts "
            "without sample get the synthetic estimate (gamma = 0). The direct CV of a district "
            "with one or two EAs is itself unreliable (its variance rests on one or two EAs); the "
            "model takes every sampling variance from the pooled design effect. "
            f"Area variance {fit['sigma2_u']:.4g}. " + " ".join(fit["warnings"]))


def sample_summary(run: SurveyRun) -> pd.DataFrame:
    """Selected households and response by stratum and screening class."""
    hh = run.households
    return (hh.groupby(["stratum", "screen"]).agg(selected=("household_id", "size"),
                                                  responded=("responded", "sum"),
                                                  base_weight=("base_weight", "mean"))
            .reset_index())


def _finite(x) -> np.ndarray:
    a = np.asarray(x, float)
    return a[np.isfinite(a)]


# ------------------------------------------------------------------------------ real fieldwork

AAPOR_CLASSES = {1: "respondent (1.x)", 2: "eligible nonrespondent (2.x)",
                 3: "unknown eligibility (3.x)", 4: "not eligible (4.x)"}


def response_rates(households: pd.DataFrame, disposition: str) -> dict[str, float]:
    """AAPOR response rates from final dispositions (AAPOR Standard Definitions, 2023).

    With ``I`` complete (1.1), ``P`` partial (1.2), ``R+NC+O`` eligible nonrespondents (2.x),
    ``U`` unknown eligibility (3.x) and ``NE`` not eligible (4.x):
    ``RR1 = I / (I + P + R + NC + O + U)``, ``RR2 = (I + P) / (…)`` and
    ``RR3 = I / (I + P + R + NC + O + e U)`` with ``e = (I + P + R + NC + O) /
    (I + P + R + NC + O + NE)``, the eligibility rate among cases of known eligibility.
    """
    code = pd.to_numeric(households[disposition], errors="coerce").to_numpy(float)
    lead = np.floor(code)
    i = float(np.isclose(code, 1.1).sum())
    resp = float((lead == 1).sum())
    nr, unk, ne = float((lead == 2).sum()), float((lead == 3).sum()), float((lead == 4).sum())
    denom = resp + nr + unk
    e = (resp + nr) / (resp + nr + ne) if resp + nr + ne else float("nan")
    return {"RR1": i / denom if denom else float("nan"),
            "RR2": resp / denom if denom else float("nan"),
            "RR3": i / (resp + nr + e * unk) if resp + nr + e * unk else float("nan"),
            "e": e}


def _dispositions(households: pd.DataFrame, disposition: str) -> pd.DataFrame:
    code = pd.to_numeric(households[disposition], errors="coerce")
    lead = np.floor(code.to_numpy(float)).astype(int)
    by = [c for c in ("stratum",) if c in households.columns]
    df = pd.DataFrame({"class": pd.Series(lead).map(AAPOR_CLASSES).to_numpy(),
                       "disposition": code.to_numpy(float),
                       **{c: households[c].to_numpy() for c in by}})
    out = df.groupby(["class", "disposition"], sort=True).size().rename("households")
    return out.reset_index().sort_values("disposition", kind="stable").reset_index(drop=True)


def interview_report_content(spec: dict, census: Any, interviews: Any, weighted: Any,
                             table: pd.DataFrame, objects: dict | None = None) -> ReportContent:
    """Report content of a survey weighted from its interview files: design, response
    (AAPOR dispositions and rates), the weighting chain with its diagnostics, indicators."""
    hh = real_rows(interviews.households)
    disp = spec["interviews"]["disposition"]
    rr = response_rates(hh, disp)
    steps = " → ".join(next(iter(st)) for st in spec["weighting"])
    psu = spec["frame"]["psu"]
    w = weighted.persons["weight"].to_numpy(float)
    from migsurvey.diagnostics import kish_deff

    design = {
        "survey": spec["name"],
        "reporting country": f"{spec['country']} (reference year {spec['reference_year']})",
        "census": f"{census.n_persons:,} persons, {census.n_households:,} households, "
                  f"{len(census.eas):,} PSUs",
        "sample": f"{interviews.households[psu].nunique():,} PSUs, "
                  f"{interviews.households['stratum'].nunique()} strata, "
                  f"{len(hh):,} selected households",
        "response": f"{int(hh['responded'].sum()):,} responding households, "
                    f"{len(real_rows(weighted.persons)):,} persons; AAPOR RR1 {100 * rr['RR1']:.1f} %, "
                    f"RR2 {100 * rr['RR2']:.1f} %, RR3 {100 * rr['RR3']:.1f} % "
                    f"(e = {rr['e']:.3f})",
        "weighting": steps,
        "Kish design effect of weighting": f"{kish_deff(w):.2f}",
        "variance": ("Taylor linearisation, ultimate clusters within strata, with the "
                     "calibration residuals" if spec["estimation"]["variance"] == "taylor"
                     else f"{spec['estimation']['variance']} replicate weights, each "
                          "re-weighted through the chain"),
        "quality rule": spec["quality"]["preset"],
    }
    meta = _merged_metadata((objects or {}).values())
    return ReportContent(
        title=spec["name"],
        subtitle=f"{spec['country']} · reference year {spec['reference_year']} · "
                 "interview data · made with migsurvey",
        design=_with_design_units(_two_phase_variance(design, meta), meta),
        screening=_dispositions(hh, disp),
        weighting=weighted.steps,
        indicators=tidy_indicators(table, spec),
        indicator_names=INDICATOR_NAMES,
        domains=list(dict.fromkeys(c for g in spec["estimation"]["by"] for c in g)),
        spec_text=spec.get("_text", ""),
        notes=[f"Warning: {d}" for d in weighted.diagnostics],
        metadata=_merged_metadata((objects or {}).values()),
        labels={"age_group": "Age group", "urban": "Urban area"},
        withhold_unreliable=spec["quality"]["suppress"],
    )
