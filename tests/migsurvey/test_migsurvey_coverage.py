"""A design that leaves a screening class out covers only part of the population.

``take: {migrant: 8, other: 0}`` gives the households screened "other" a zero probability of
selection. Through the command line, on a census made here (office column names, EA codes
with leading zeros, a few unknown countries of birth): calibration to census margins of all
persons is refused at its line; without it the survey publishes the count of foreign-born
persons only — equal to the Horvitz–Thompson sum computed here by hand from the selected
households and the census — with its universe in the metadata, and no share.
Households of unknown status (a member of unknown birthplace and none known born abroad) are
a screening class of their own, never "other", on the in-memory and the DuckDB routes alike.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import office_census

from migsurvey.cli import EXIT_INPUT, main

SPEC = """\
country: KEN
seed: 3
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
  disposition: DISP
frame: {census: census.csv}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 24}
selection:
  psu: {method: sampford}
  household: {take: {migrant: 8, other: 0}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
weighting:
  - nonresponse: {cells: [region]}
WEIGHTING
estimation: {indicators: [MI1.1], by: [[]]}
output: {formats: [csv]}
"""


def _census() -> pd.DataFrame:
    c = office_census(seed=5, n_ea=80).drop(columns=["CITIZ", "YR_ARR", "LINE"])
    rng = np.random.default_rng(1)
    c["COB"] = c["COB"].astype(object)
    c.loc[rng.random(len(c)) < 0.01, "COB"] = ""  # unknown birthplaces
    return c


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    d = tmp_path_factory.mktemp("coverage")
    census = _census()
    census.to_csv(d / "census.csv", index=False)
    (d / "spec.yaml").write_text(SPEC.replace("WEIGHTING\n", ""), encoding="utf-8")
    assert main(["select", "--spec", str(d / "spec.yaml"), "--out", str(d / "selected.csv"),
                 "--psus", str(d / "eas.csv")]) == 0
    sel = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    sel.assign(DISP=1.1).to_csv(d / "households.csv", index=False)
    # the interview settles the birthplaces the census left blank (here: born in the country)
    answers = census.assign(COB=census["COB"].replace("", "KEN"))
    answers.merge(sel[["EA_CODE", "HH_NO"]], on=["EA_CODE", "HH_NO"]).to_csv(
        d / "persons.csv", index=False)
    return d, census, sel


def test_households_of_unknown_status_are_named_at_selection(survey, capsys):
    d, _, sel = survey
    (d / "again.yaml").write_text(SPEC.replace("WEIGHTING\n", ""), encoding="utf-8")
    assert main(["select", "--spec", str(d / "again.yaml"), "--out", str(d / "again.csv")]) == 0
    err = capsys.readouterr().err
    assert "form the screening class 'unknown', 8 selected per EA" in err
    again = pd.read_csv(d / "again.csv", dtype={"EA_CODE": str})
    pd.testing.assert_frame_equal(again, sel)  # the same seed selects the same households


@pytest.mark.parametrize("step", ["rake: {margins: [region, sex]}",
                                  "calibrate: {margins: [[region, sex]], method: raking}"])
def test_calibration_to_whole_population_margins_is_refused(survey, step, capsys):
    d, _, _ = survey
    (d / "cal.yaml").write_text(SPEC.replace("WEIGHTING", "  - " + step), encoding="utf-8")
    assert main(["weight", "--spec", str(d / "cal.yaml"), "--out", str(d / "w.csv")]
                ) == EXIT_INPUT
    err = capsys.readouterr().err
    name = step.split(":")[0]
    line = SPEC.splitlines().index("WEIGHTING") + 1
    assert f"cal.yaml:{line}:5: weighting[1].{name}" in err  # at its line
    assert "selection.household.take.other: 0" in err and "census margins" in err


def test_the_count_of_the_covered_population_is_published_with_its_universe(survey, capsys):
    d, census, sel = survey
    assert set(sel["screen"]) <= {"migrant", "unknown"} and "unknown" in set(sel["screen"])
    eas = pd.read_csv(d / "eas.csv", dtype={"EA_CODE": str})
    assert not set(eas["EA_CODE"]) <= set(sel["EA_CODE"])  # EAs with no household taken
    assert main(["estimate", "--spec", str(d / "spec.yaml"), "--out", str(d / "est.csv")]) == 0
    assert "shares and rates whose denominators count" in capsys.readouterr().err
    est = pd.read_csv(d / "est.csv")
    assert est["measure"].tolist() == ["count"]  # the share is not estimated
    meta = json.loads((d / "est.csv.json").read_text())
    assert "take.other: 0" in meta["universe"] and "migrant or unknown" in meta["universe"]
    assert any("MI1.1 share" in w for w in meta["warnings"])
    # the selected EAs without a household taken do not hide phase 1: exact joint probabilities
    assert "exact joint" in meta["phase1_variance"]
    assert not any("ultimate-cluster design" in w for w in meta["warnings"])
    # Horvitz-Thompson by hand: every household responds, so the weight is 1/(pi1 pi2)
    persons = pd.read_csv(d / "persons.csv", dtype={"EA_CODE": str})
    per_hh = (persons["COB"] != "KEN").groupby([persons["EA_CODE"], persons["HH_NO"]]).sum()
    per_hh = per_hh.rename("y").reset_index()
    y = sel.merge(per_hh, on=["EA_CODE", "HH_NO"])
    ht = float((y["y"] / (y["pi1"] * y["pi2"])).sum())
    np.testing.assert_allclose(est["estimate"].iloc[0], ht, rtol=1e-10)
    # the foreign-born of known birthplace all live in covered households: the count is theirs
    truth = int(((census["COB"] != "KEN") & (census["COB"] != "")).sum())
    assert abs(est["estimate"].iloc[0] - truth) < 3 * est["se"].iloc[0]


def test_unknown_households_are_screened_apart_on_both_census_routes(survey, tmp_path):
    import duckdb

    from migsurvey.inputs import read_census
    from migsurvey.pipeline import screening_classes
    from migsurvey.spec import parse_spec

    d, census, _ = survey
    with duckdb.connect(str(tmp_path / "census.duckdb")) as con:
        con.register("c", census)
        con.execute("create table persons as select * from c")
    text = SPEC.replace("WEIGHTING\n", "")
    memory = read_census(parse_spec(text.replace("census.csv", str(d / "census.csv"))))
    lazy = read_census(parse_spec(text.replace(
        "{census: census.csv}", f"{{census: {tmp_path / 'census.duckdb'}, table: persons}}")))
    # by hand: migrant with a member known born abroad; unknown with a blank and no migrant
    g = census.groupby(["EA_CODE", "HH_NO"])["COB"]
    yes = g.apply(lambda s: bool(((s != "KEN") & (s != "")).any()))
    blank = g.apply(lambda s: bool((s == "").any()))
    want = pd.Series(np.where(yes, "migrant", np.where(blank, "unknown", "other")),
                     index=yes.index)
    eas = sorted(census["EA_CODE"].unique())
    for c in (memory, lazy):
        listing = c.households_in(eas)
        got = pd.Series(screening_classes(listing["migrant_household"]),
                        index=pd.MultiIndex.from_arrays([listing["ea_id"].astype(str),
                                                         listing["household_id"].astype(int)]))
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
        frame = c.eas.set_index("EA_CODE") if "EA_CODE" in c.eas else c.eas.set_index("ea_id")
        by_ea = want.groupby(level=0).value_counts().unstack(fill_value=0)
        np.testing.assert_array_equal(frame["migrant_households"].sort_index(),
                                      by_ea["migrant"].sort_index())
        np.testing.assert_array_equal(frame["migrant_households_unknown"].sort_index(),
                                      by_ea["unknown"].sort_index())
    pd.testing.assert_frame_equal(lazy.eas, memory.eas, check_dtype=False)


def test_phase1_probabilities_of_a_stratum_with_eas_absent_from_the_households():
    from migsurvey.twophase import _stratum_pi
    from sampling import inclusion_probabilities

    x = np.array([40.0, 12, 30, 25, 8, 60, 18])
    pi = inclusion_probabilities(x, 4)
    pos = np.array([0, 5])  # 4 EAs selected, 2 with households in the file
    np.testing.assert_allclose(_stratum_pi(x, pos, pi[pos]), pi, rtol=0)
    np.testing.assert_allclose(pi.sum(), 4.0, rtol=1e-12)
    assert _stratum_pi(x, pos, pi[pos] * 0.9) is None  # no number of EAs gives these pi1


def test_the_default_chain_rakes_and_is_refused_and_take_unknown_zero_uncovers():
    from migsurvey.spec import covered_universe, parse_spec, uncovered_classes
    from surveycore import SurveyError

    base = "country: KEN\nselection:\n  household: {take: TAKE}\n"
    with pytest.raises(SurveyError, match="census margins") as err:
        parse_spec(base.replace("TAKE", "{migrant: 5, other: 0}"))
    assert "weighting[1].rake" in err.value.argument and "default chain" in err.value.hint
    spec = parse_spec(base.replace("TAKE", "{migrant: 5, other: 2, unknown: 0}")
                      + "weighting: [{nonresponse: {cells: [screen]}}]\n")
    assert uncovered_classes(spec) == ["unknown"]
    assert "screened migrant or other" in covered_universe(spec)
    full = parse_spec(base.replace("TAKE", "{migrant: 5, other: 2}"))
    assert uncovered_classes(full) == [] and covered_universe(full).startswith("all persons")
