"""Turn a :class:`~migsurvey.pipeline.SurveyRun` into report content and output tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from migsurvey.pipeline import TOTAL, SurveyRun
from migsurvey.report import ReportContent
from migsurvey.small_area import district_estimates

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
    t = run.indicators
    dims = [c for g in run.spec["estimation"]["by"] for c in g]
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
    return {
        "survey": s["name"],
        "reporting country": f"{s['country']} (reference year {s['reference_year']})",
        "census": f"{c.n_persons:,} persons, {c.n_households:,} households, "
                  f"{len(c.eas):,} EAs, {c.eas['region'].nunique()} regions",
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
        "persons interviewed": f"{len(run.persons):,}",
        "weighting": steps,
        "variance": "Taylor linearisation, ultimate clusters (EAs) within strata, with "
                    "calibration residuals" if s["estimation"]["variance"] == "taylor"
                    else s["estimation"]["variance"],
        "quality rule": s["quality"]["preset"],
    }


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


def _frame_for_map(run: SurveyRun) -> pd.DataFrame:
    f = run.frame
    sel = f["ea_id"].isin(run.psus["ea_id"]).to_numpy()
    return pd.DataFrame({"ea_id": f["ea_id"], "x": f["x"], "y": f["y"],
                         "stratum": f["prevalence_class"], "selected": sel,
                         "persons": f["persons"]})


def report_content(run: SurveyRun) -> ReportContent:
    """Everything the HTML report shows for one run."""
    s = run.spec
    ind = indicator_output(run)
    districts, fit = district_estimates(run)
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
            f"Domain columns show {TOTAL} for the total over that variable.",
        ],
        timings=dict(run.timings),
    )


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
