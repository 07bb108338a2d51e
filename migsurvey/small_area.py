"""District estimates for the report: direct and Fay–Herriot shares of foreign-born residents.

The survey is designed for regions; districts hold a few EAs at most and many none. The
district share of foreign-born residents (MI 1.1) is estimated directly from the design
(:meth:`estimation.SurveyDesign.mean` by district) and by the Fay–Herriot model
(:func:`estimation.fay_herriot`, arcsine scale, sampling variances from the pooled design
effect, bootstrap MSE) with two census auxiliaries per district: the share of residents born
abroad who arrived at least ten years before the reference year (the stock of ten years
earlier, as the census counts it today) and the share living in urban EAs. Districts without
sample get the synthetic estimate.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError, SurveyWarning

COLUMNS = ["district", "n", "direct", "direct_cv", "eblup", "cv", "ci_low", "ci_high", "gamma",
           "in_sample"]
PUBLISHED = ["district", "n", "direct", "direct_cv", "direct_flag", "eblup", "cv", "ci_low",
             "ci_high", "flag", "gamma", "in_sample", "suppressed"]


def district_auxiliaries(census: Any) -> pd.DataFrame | None:
    """Census aggregates by district: ``fb_10y_share`` and ``urban_share`` (None if the census
    does not have the columns)."""
    p = getattr(census, "persons", None)
    need = {"district", "country_birth", "year_arrival", "urban"}
    if not isinstance(p, pd.DataFrame) or not need <= set(p.columns):
        return None
    ref = int(census.reference_year)
    old_fb = (p["country_birth"].astype(str) != str(census.country)) & \
        (p["year_arrival"].between(0, ref - 10))
    g = pd.DataFrame({"fb": old_fb.to_numpy(), "urban": p["urban"].astype(str).eq("urban")
                      .to_numpy()}).groupby(p["district"].to_numpy())
    out = g.mean().reset_index().rename(columns={"index": "district", "fb": "fb_10y_share",
                                                 "urban": "urban_share"})
    out["fb_10y_share_asin"] = np.arcsin(np.sqrt(out["fb_10y_share"]))
    return out


def district_estimates(run: Any, *, replicates: int = 200) -> tuple[pd.DataFrame | None, dict]:
    """Direct and Fay–Herriot district shares (per cent) of foreign-born residents, and the
    fit's record; ``(None, {})`` when the run has no districts or no census in memory, and
    ``(None, {"refused": message})`` when the model cannot be fitted (too few sampled
    districts, collinear auxiliaries)."""
    from estimation import SurveyDesign, fay_herriot
    from migsurvey.design_units import design_keywords, design_units

    persons = getattr(run, "persons", None)
    census = getattr(run, "census", None)
    if persons is None or census is None or not {"district", "foreign_born"} <= set(persons):
        return None, {}
    aux = district_auxiliaries(census)
    if aux is None:
        return None, {}
    units, _note = design_units(persons, run.spec)  # certainty EAs: households are the PSUs
    d = SurveyDesign(units, **design_keywords(units), weights=run.weights,
                     lonely_psu=run.spec["estimation"]["lonely_psu"])
    direct = d.mean("foreign_born", by="district")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SurveyWarning)
            fh = fay_herriot(direct, auxiliaries=["fb_10y_share_asin", "urban_share"],
                             population=aux, transformation="arcsin", smoothing="all",
                             replicates=replicates, seed=int(run.spec["seed"]))
    except SurveyError as err:
        return None, {"refused": err.message}
    t = fh.table.rename(columns={"area": "district"})[COLUMNS].copy()
    for c in ("direct", "eblup", "ci_low", "ci_high", "direct_cv", "cv"):
        t[c] = 100 * t[c]
    contributors = persons["foreign_born"].eq(1).groupby(persons["district"]).sum()
    t = flag_districts(t, contributors.reindex(t["district"]).fillna(0).to_numpy(), run.spec,
                       boundary=bool(fh.metadata["boundary"]))
    record = {"sigma2_u": fh.sigma2_u, "beta": fh.beta.round(4).to_dict(),
              "mse_method": fh.metadata["mse_method"],
              "warnings": [str(w.message) for w in caught]}
    return t, record


def flag_districts(t: pd.DataFrame, contributors: np.ndarray, spec: dict, *,
                   boundary: bool = False) -> pd.DataFrame:
    """The district table with the release's quality flags and disclosure status.

    Direct shares are flagged by the quality rule of ``quality.preset`` on their CV and
    sample size (``direct_flag``, ``direct_reliability``), Fay–Herriot shares on their CV
    (``flag``, ``reliability``), as :func:`estimation.indicator_table` flags model-based rows
    (never better than caution after a ``boundary`` fit, σ̂²_u = 0).
    A district whose sampled foreign-born persons are ``0 < count ≤ threshold`` of the
    disclosure rule is ``suppressed`` (``"confidential"``). CVs are in per cent. The values
    stay for analysts; :func:`published_districts` withholds them.
    """
    from estimation.indicators.quality import get_rule
    from estimation.indicators.table import DEFAULT_SUPPRESSION
    from estimation.small_area.indicators import model_based_flags

    rule = get_rule(spec["quality"]["preset"])
    out = t.copy()
    n = out["n"].to_numpy(dtype=float)
    direct_flag, direct_rel = rule.assess(out["direct_cv"].to_numpy(dtype=float) / 100, n)
    flag, rel = model_based_flags(rule, out["cv"].to_numpy(dtype=float) / 100, boundary)
    sampled = out["in_sample"].to_numpy(dtype=bool)
    out["direct_flag"] = np.where(sampled, direct_flag, "")
    out["direct_reliability"] = np.where(sampled, direct_rel, "unreliable")
    out["flag"] = flag
    out["reliability"] = rel
    confidential = np.zeros(len(out), dtype=bool)
    if spec["quality"].get("disclosure", True):
        confidential = (contributors > 0) & (contributors <= DEFAULT_SUPPRESSION.threshold)
    out["suppressed"] = np.where(confidential, "confidential", "")
    return out


def published_districts(t: pd.DataFrame | None) -> pd.DataFrame | None:
    """The district table as it may be published (the report's table and charts).

    A value flagged unreliable is withheld with its CV (and interval), as the indicator
    tables withhold it; a confidential district loses both its direct and its Fay–Herriot
    value (the EBLUP γ·direct + (1 − γ)·x'β, published with β, would give the direct value
    back), and its flags.
    """
    if t is None:
        return None
    out = t.copy()
    confidential = out["suppressed"].eq("confidential").to_numpy()
    hide_direct = confidential | out["direct_reliability"].eq("unreliable").to_numpy()
    hide_model = confidential | out["reliability"].eq("unreliable").to_numpy()
    out.loc[hide_direct, ["direct", "direct_cv"]] = np.nan
    out.loc[hide_model, ["eblup", "cv", "ci_low", "ci_high"]] = np.nan
    out.loc[confidential, ["direct_flag", "flag"]] = ""
    return out[PUBLISHED]
