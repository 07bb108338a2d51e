"""The report's district section: direct and Fay–Herriot shares of foreign-born residents."""

from __future__ import annotations

import numpy as np

from estimation import SurveyDesign
from migsurvey.report import render_report
from migsurvey.small_area import district_auxiliaries, district_estimates
from migsurvey.summary import report_content


def test_district_estimates_cover_every_census_district(small_run):
    t, fit = district_estimates(small_run, replicates=100)
    aux = district_auxiliaries(small_run.census)
    assert t["district"].tolist() == aux["district"].tolist()
    out = t[~t["in_sample"]]
    assert (out["gamma"] == 0).all() and (out["n"] == 0).all() and out["direct"].isna().all()
    p = small_run.persons
    d = SurveyDesign(p, ids="ea_id", strata="stratum", weights=small_run.weights,
                     lonely_psu=small_run.spec["estimation"]["lonely_psu"])
    direct = d.mean("foreign_born", by="district").set_index("district")["estimate"]
    inn = t[t["in_sample"]].set_index("district")
    np.testing.assert_allclose(inn["direct"], 100 * direct.loc[inn.index])
    assert ((t["eblup"] > 0) & (t["eblup"] < 100)).all()
    assert fit["mse_method"].startswith("parametric bootstrap")
    # the auxiliary: residents born abroad who arrived at least ten years before the census
    c = small_run.census
    old = (c.persons["country_birth"] != c.country) & c.persons["year_arrival"].between(
        0, c.reference_year - 10)
    np.testing.assert_allclose(aux.set_index("district")["fb_10y_share"],
                               old.groupby(c.persons["district"]).mean())


def test_report_has_the_district_section(small_run):
    html = render_report(report_content(small_run))
    assert 'id="districts"' in html and "Fay–Herriot estimate and 95 % interval" in html


def test_too_few_sampled_districts_are_reported_not_raised(small_run):
    from dataclasses import replace

    few = small_run.persons[small_run.persons["district"].isin(
        small_run.persons["district"].unique()[:3])]
    run = replace(small_run, persons=few, weights="weight")
    t, fit = district_estimates(run, replicates=100)
    assert t is None and "too few sampled areas" in fit["refused"]


def test_published_districts_follow_the_release_rules(small_run):
    """The report's district table withholds what the indicator tables would: direct shares
    flagged unreliable by the release's quality rule, Fay–Herriot shares flagged unreliable on
    their CV, and both values of a confidential district; CVs are in per cent."""
    from estimation.indicators.quality import get_rule
    from migsurvey.small_area import published_districts

    t, _fit = district_estimates(small_run, replicates=100)
    rule = get_rule(small_run.spec["quality"]["preset"])
    sampled = t["in_sample"].to_numpy(dtype=bool)
    _, rel = rule.assess(t["direct_cv"].to_numpy() / 100, t["n"].to_numpy(dtype=float))
    assert (t.loc[sampled, "direct_reliability"].to_numpy() == rel[sampled]).all()
    assert (t["cv"].dropna() > 1).any()  # per cent, not a fraction
    t = t.copy()
    t.loc[t.index[0], "suppressed"] = "confidential"
    pub = published_districts(t)
    assert pub.loc[t.index[0], ["direct", "eblup", "cv", "ci_low"]].isna().all()
    bad = t["direct_reliability"].eq("unreliable")
    assert pub.loc[bad, "direct"].isna().all() and pub.loc[bad, "direct_cv"].isna().all()
    kept = ~bad & t["suppressed"].eq("")
    np.testing.assert_allclose(pub.loc[kept, "direct"], t.loc[kept, "direct"])
    assert "direct_reliability" not in pub.columns
    html = render_report(report_content(small_run))
    assert "Direct CV (%)" in html


def test_published_districts_against_the_statcan_guideline(small_run):
    """Written from Statistics Canada's CCHS release guideline, not from the package's rule:
    a direct share with a CV above 33.3 % or fewer than 10 sample persons is not published;
    a Fay–Herriot share with a CV above 33.3 % is not published; every published CV is at
    most 33.3 %."""
    from migsurvey.small_area import published_districts

    assert small_run.spec["quality"]["preset"] == "statcan_cchs"
    t, _fit = district_estimates(small_run, replicates=100)
    pub = published_districts(t)
    too_noisy = (t["direct_cv"] > 33.3) | (t["n"] < 10) | ~t["in_sample"]
    assert pub.loc[too_noisy, "direct"].isna().all()
    assert pub.loc[t["cv"] > 33.3, "eblup"].isna().all()
    assert (pub["direct_cv"].dropna() <= 33.3).all() and (pub["cv"].dropna() <= 33.3).all()
    shown = ~too_noisy & t["suppressed"].eq("")
    np.testing.assert_allclose(pub.loc[shown, "direct"], t.loc[shown, "direct"])
