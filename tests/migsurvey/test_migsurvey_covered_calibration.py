"""Calibration to the covered population of a design that leaves a screening class out.

With ``selection.household.take: {other: 0}`` only households with a migrant at listing can
be selected; calibration to census margins of all persons is refused, and ``population:
covered`` calibrates to the census counts of the persons of covered households. The census
and interviews are made here (``office_route_data``: EA codes with leading zeros, the office's
names, sex 1/2); the covered counts and the calibrated weights are computed by hand with
pandas from the census file (one crossed margin: the linear calibration weights are
``d_k · T_c / Σ_{j∈c} d_j``, Deville & Särndal 1992, post-stratification).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from office_route_data import SPEC, office_survey, run

from migsurvey.cli import EXIT_INPUT

COVERED = SPEC.replace("take: {migrant: 8, other: 5}", "take: {migrant: 8, other: 0}")
CAL = "weighting:\n  - calibrate: {margins: [[region, sex]], method: linear, population: covered}"


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    return office_survey(tmp_path_factory.mktemp("covered"), weighting=CAL, spec=COVERED)


def _covered_targets(census: pd.DataFrame) -> pd.Series:
    """Census persons of households with a foreign-born member, by region and sex."""
    key = census["EA_CODE"] + "/" + census["HH_NO"].astype(str)
    migrant = (census["COB"] != "KEN").groupby(key).transform("any")
    sex = census["SEX"].map({1: "M", 2: "F"})
    return census[migrant.to_numpy()].groupby([census["REGION"], sex]).size()


def test_covered_calibration_weights_by_hand(survey, capsys):
    from migsurvey.pipeline import weight_interviews
    from migsurvey.spec import load_spec

    d = survey["dir"]
    assert set(survey["households"]["screen"]) == {"migrant"}
    _iv, wt = weight_interviews(load_spec(d / "spec.yaml"), d / "households.csv",
                                d / "persons.csv")
    p = wt.persons
    targets = _covered_targets(survey["census"])
    cell = pd.MultiIndex.from_arrays([p["region"].astype(int), p["sex"]])
    before = p["household_weight"].to_numpy()
    sums = pd.Series(before).groupby(cell.to_numpy()).transform("sum").to_numpy()
    hand = before * targets.reindex(cell).to_numpy() / sums
    np.testing.assert_allclose(p["weight"].to_numpy(), hand, rtol=1e-10)
    got = p.groupby([p["region"].astype(int), "sex"])["weight"].sum()
    np.testing.assert_allclose(got.to_numpy(), targets.reindex(got.index).to_numpy(),
                               rtol=1e-10)
    # through the command line: the same weights, and counts of the covered population
    capsys.readouterr()
    assert run("weight", "--spec", d / "spec.yaml", "--out", d / "w.csv", "-q") == 0
    cli = pd.read_csv(d / "w.csv", dtype={"EA_CODE": str})
    np.testing.assert_allclose(np.sort(cli["weight"]), np.sort(p["weight"]), rtol=1e-10)
    assert run("estimate", "--spec", d / "spec.yaml", "--out", d / "i.csv", "-q") == 0
    err = capsys.readouterr().err
    assert "the sample covers only" in err  # shares of everyone stay withheld
    assert set(pd.read_csv(d / "i.csv")["measure"]) == {"count"}


def test_calibration_to_everyone_is_refused_naming_the_option(survey, tmp_path, capsys):
    d = survey["dir"]
    text = (d / "spec.yaml").read_text().replace(", population: covered", "")
    (tmp_path / "spec.yaml").write_text(text.replace("census.csv", str(d / "census.csv")))
    capsys.readouterr()
    code = run("weight", "--spec", tmp_path / "spec.yaml", "--households",
               d / "households.csv", "--persons", d / "persons.csv", "--out", tmp_path / "w.csv")
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "population: covered" in err, err


def test_selected_ea_without_covered_households_stays_a_psu(tmp_path, capsys):
    """An EA selected with no household of a sampled class has no selected household: with
    the selection file it is named and kept as a PSU with zero totals. The SE of the count is
    the ultimate-cluster formula on EA totals written out here (the EA's total being 0)."""
    s = office_survey(tmp_path, spec=COVERED)
    eas = pd.read_csv(tmp_path / "eas.csv", dtype={"EA_CODE": str})
    hh, pp = s["households"], s["persons"]
    none = sorted(set(eas["EA_CODE"]) - set(hh["EA_CODE"]))
    assert none and all(e.startswith("00") for e in none)
    capsys.readouterr()
    assert run("estimate", "--spec", tmp_path / "spec.yaml", "--out", tmp_path / "i.csv", "-q",
               "--selection", tmp_path / "eas.csv") == 0
    err = capsys.readouterr().err
    assert f"({', '.join(none)}) had no household of a sampled screening class" in err
    assert "single PSU" not in err
    got = pd.read_csv(tmp_path / "i.csv").set_index(["measure", "region"])
    p = pp.merge(hh[["EA_CODE", "HH_NO", "base_weight", "stratum"]], on=["EA_CODE", "HH_NO"])
    z = (p["base_weight"] * (p["COB"] != "KEN")).groupby([p["stratum"], p["EA_CODE"]]).sum()
    zero = eas[eas["EA_CODE"].isin(none)].set_index(["stratum", "EA_CODE"]).index
    z = pd.concat([z, pd.Series(0.0, index=zero)])
    dev = z - z.groupby(level=0).transform("mean")
    n_h = z.groupby(level=0).transform("size")
    se = float(np.sqrt((n_h / (n_h - 1) * dev**2).sum()))
    np.testing.assert_allclose(got.loc[("count", "_T"), ["estimate", "se"]].astype(float),
                               [z.sum(), se], rtol=1e-10)
    # without the selection file such an EA cannot be known: its stratum may lose a PSU
    capsys.readouterr()
    assert run("estimate", "--spec", tmp_path / "spec.yaml", "--out", tmp_path / "j.csv",
               "-q") == 0
