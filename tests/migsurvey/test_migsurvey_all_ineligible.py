"""A region whose every selected household is out of scope, and an EA whose every selected
household is vacant: their PSUs stay in the design.

The eligible population of such a region is 0 and its EAs still count among the PSUs of
their strata (R ``survey`` keeps them as rows of score 0). The census and the interview files
are made here (``office_route_data``: EA codes with leading zeros, the office's names, sex
1/2); totals are checked against a hand Horvitz–Thompson sum and SEs against R
(``tests/reference/all_ineligible.R`` on ``all_ineligible_households.csv``, which this test
rebuilds from its own files), at rtol 1e-8. A share of nobody is not estimable: NaN, flagged
unreliable, with a warning naming the region — never 0 flagged reliable.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from office_route_data import TEXT, office_survey, run

REF = Path(__file__).parents[1] / "reference"


def _vacant(selected: pd.DataFrame) -> np.ndarray:
    """Region 1 wholly out of scope, the first EA of region 2 all vacant, 10 % elsewhere."""
    rng = np.random.default_rng(4)
    ea2 = sorted(selected.loc[selected["REGION"] == 2, "EA_CODE"].unique())[0]
    return ((selected["REGION"] == 1) | (selected["EA_CODE"] == ea2)
            | (rng.random(len(selected)) < 0.1)).to_numpy()


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    return office_survey(tmp_path_factory.mktemp("ineligible"), vacant=_vacant)


def _household_counts(survey) -> pd.DataFrame:
    """Per selected household: foreign-born usual residents and usual residents (0 when
    vacant), with its design columns: the data of the R script."""
    pp = survey["persons"]
    agg = pp.assign(fb=(pp["COB"] != "KEN").astype(int), np=1).groupby(
        ["EA_CODE", "HH_NO"])[["fb", "np"]].sum().reset_index()
    hh = survey["households"][["EA_CODE", "HH_NO", "REGION", "stratum", "base_weight"]]
    return hh.merge(agg, how="left", on=["EA_CODE", "HH_NO"]).fillna({"fb": 0, "np": 0})


def test_r_data_are_this_tests_files(survey):
    stored = pd.read_csv(REF / "all_ineligible_households.csv", **TEXT)
    pd.testing.assert_frame_equal(_household_counts(survey), stored, check_dtype=False,
                                  rtol=1e-12)


def test_all_ineligible_region_against_r_and_hand_sum(survey, capsys):
    d = survey["dir"]
    capsys.readouterr()
    assert run("estimate", "--spec", d / "spec.yaml", "--out", d / "ind.csv", "-q") == 0
    err = capsys.readouterr().err
    assert "internal error" not in err and "argument: psu" not in err
    # the EAs with nobody interviewed are named, and the share of region 1 is not estimable
    assert "5 selected EAs (0001, 0008, 0012, 0020, 0021) have no interviewed person" in err
    assert "MI1.1 share in region=1" in err and "not estimable" in err
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    table, objects, _wt = estimate_interviews(load_spec(d / "spec.yaml"), d / "households.csv",
                                              d / "persons.csv")
    ref = json.loads((REF / "all_ineligible.json").read_text())
    t = table.set_index(["measure", "region"])
    h = _household_counts(survey)
    hand = float((h["base_weight"] * h["fb"]).sum())  # Horvitz–Thompson
    np.testing.assert_allclose(t.loc[("count", "_T"), "estimate"], hand, rtol=1e-12)
    np.testing.assert_allclose(t.loc[("count", "_T"), ["estimate", "se"]].astype(float),
                               [ref["total"]["estimate"], ref["total"]["se"]], rtol=1e-8)
    np.testing.assert_allclose(t.loc[("share", "_T"), ["estimate", "se"]].astype(float),
                               [ref["share"]["estimate"], ref["share"]["se"]], rtol=1e-8)
    for k, region in enumerate(ref["region_total"]["region"]):
        np.testing.assert_allclose(
            t.loc[("count", region), ["estimate", "se"]].astype(float),
            [ref["region_total"]["estimate"][k], ref["region_total"]["se"][k]], rtol=1e-8,
            atol=1e-12)
        share = t.loc[("share", region)]
        if region == 1:  # 0 / 0: not estimable, never 0
            assert np.isnan(share["estimate"]) and np.isnan(share["se"])
            assert ref["region_share"]["estimate"][k] == "NaN"
        else:
            np.testing.assert_allclose(
                share[["estimate", "se"]].astype(float),
                [ref["region_share"]["estimate"][k], ref["region_share"]["se"][k]], rtol=1e-8)
    one = t.xs(1, level="region")
    assert (one["reliability"] == "unreliable").all() and (one["n"] == 0).all()
    assert one.loc["count", "estimate"] == 0 and one.loc["count", "se"] == 0
    meta = next(iter(objects.values())).metadata
    assert meta["not_estimable"] == [{"indicator": "MI1.1", "measure": "share",
                                      "cell": {"region": 1}}]
    # the command line gives the same numbers; the unreliable region 1 is published blank
    cli = pd.read_csv(d / "ind.csv").set_index(["measure", "region"])
    np.testing.assert_allclose(cli.loc[("count", "_T"), "se"], ref["total"]["se"], rtol=1e-8)
    assert cli.loc[("share", "1"), "reliability"] == "unreliable"
    assert np.isnan(cli.loc[("share", "1"), "estimate"])


def test_all_ineligible_region_with_adjustment_steps(survey, tmp_path, capsys):
    """With eligibility and nonresponse steps the PSUs without person rows were refused
    ("argument: psu"); they now carry their households' adjustment in the variance."""
    d = survey["dir"]
    spec = (d / "spec.yaml").read_text().replace(
        "weighting: []", "weighting:\n  - eligibility: {cells: [region]}\n"
                         "  - nonresponse: {cells: [screen]}")
    (tmp_path / "spec.yaml").write_text(spec.replace("census.csv", str(d / "census.csv"))
                                        .replace("households.csv", str(d / "households.csv"))
                                        .replace("persons.csv", str(d / "persons.csv")))
    capsys.readouterr()
    assert run("estimate", "--spec", tmp_path / "spec.yaml", "--out", tmp_path / "i.csv",
               "-q") == 0, capsys.readouterr().err
    cli = pd.read_csv(tmp_path / "i.csv").set_index(["measure", "region"])
    # every household responded or was out of scope: the steps change no weight
    ref = json.loads((REF / "all_ineligible.json").read_text())
    np.testing.assert_allclose(cli.loc[("count", "_T"), "estimate"], ref["total"]["estimate"],
                               rtol=1e-10)
    assert cli.loc[("share", "1"), "reliability"] == "unreliable"


def test_two_phase_design_keeps_the_region(tmp_path, capsys):
    """EAs drawn by Sampford's method: the screening is estimated as a two-phase design, in
    which the EAs without interviewed persons are in phase 1 through their listed households;
    the rows standing for them are units of zero totals taken with certainty at phase 2."""
    from office_route_data import SPEC

    spec = SPEC.replace("selection:\n", "selection:\n  psu: {method: sampford}\n")
    s = office_survey(tmp_path, spec=spec, vacant=_vacant)
    capsys.readouterr()
    assert run("estimate", "--spec", tmp_path / "spec.yaml", "--out", tmp_path / "i.csv",
               "-q") == 0, capsys.readouterr().err
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    table, objects, _wt = estimate_interviews(load_spec(tmp_path / "spec.yaml"),
                                              tmp_path / "households.csv",
                                              tmp_path / "persons.csv")
    assert next(iter(objects.values())).metadata["design"] == "two-phase"
    t = table.set_index(["measure", table["region"].astype(str)])
    h = _household_counts(s)
    np.testing.assert_allclose(t.loc[("count", "_T"), "estimate"],
                               float((h["base_weight"] * h["fb"]).sum()), rtol=1e-12)
    # region codes keep their type (1, not 1.0) through the phase-1 rows
    assert set(table["region"].astype(str)) == {"_T", "1", "2", "3", "4"}
    one = t.loc[[("count", "1"), ("share", "1")]]
    assert one.loc[("count", "1"), "estimate"] == 0
    assert np.isnan(one.loc[("share", "1"), "estimate"])
    assert (one["reliability"] == "unreliable").all()


def test_emigration_keeps_the_eas_without_respondents(survey, tmp_path, capsys):
    """MI 1.4 is estimated on the responding households' emigrant records: the EAs whose
    every selected household was out of scope stay PSUs with zero totals there too. The SE is
    the ultimate-cluster formula on EA totals written out here, zero EAs included."""
    d = survey["dir"]
    hh = survey["households"]
    done = hh.loc[hh["DISP"] < 2].reset_index(drop=True)
    rng = np.random.default_rng(12)
    some = done.loc[rng.random(len(done)) < 0.3, ["EA_CODE", "HH_NO"]]
    roster = some.assign(emigrant_sex=rng.choice(["M", "F"], len(some)),
                         emigrant_age=rng.integers(18, 60, len(some)),
                         emigrant_month_departure=rng.integers(2, 12, len(some)),
                         emigrant_year_departure=2025, emigrant_destination="UGA")
    roster.to_csv(tmp_path / "roster.csv", index=False)
    text = (d / "spec.yaml").read_text().replace("indicators: [MI1.1]",
                                                 "indicators: [MI1.1, MI1.4]")
    (tmp_path / "spec.yaml").write_text(
        text.replace("census.csv", str(d / "census.csv"))
        .replace("households.csv", str(d / "households.csv"))
        .replace("persons.csv", str(d / "persons.csv")))
    capsys.readouterr()
    assert run("estimate", "--spec", tmp_path / "spec.yaml", "--emigrants",
               tmp_path / "roster.csv", "--out", tmp_path / "i.csv", "-q") == 0, \
        capsys.readouterr().err
    got = pd.read_csv(tmp_path / "i.csv", dtype={"region": str})
    mi14 = got[got["indicator"] == "MI1.4"].set_index("region")
    n = roster.groupby(["EA_CODE", "HH_NO"]).size().rename("em")
    h = hh.merge(n, how="left", on=["EA_CODE", "HH_NO"]).fillna({"em": 0})
    z = (h["base_weight"] * h["em"]).groupby([h["stratum"], h["EA_CODE"]]).sum()
    dev = z - z.groupby(level=0).transform("mean")
    n_h = z.groupby(level=0).transform("size")
    np.testing.assert_allclose(mi14.loc["_T", ["estimate", "se"]].astype(float),
                               [z.sum(), np.sqrt((n_h / (n_h - 1) * dev**2).sum())],
                               rtol=1e-10)
    assert mi14.loc["1", "reliability"] == "unreliable"  # a count of 0 from no observation
