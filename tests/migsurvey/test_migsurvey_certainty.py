"""EAs selected with certainty are self-representing: a stratum of their own, households as PSUs.

The design-level data (``certainty_data``) are made here with numpy: text EA codes and
household numbers with leading zeros, a region (``Island``) of one EA selected with
certainty, a certainty EA beside sampled ones (``East:high``). R ``survey`` codes the
certainty EAs on its own (``tests/reference/self_representing.R``) from the same persons,
stored in ``tests/reference/self_representing_persons.csv``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from certainty_data import REFERENCE_CSV, certainty_sample

from estimation import SurveyDesign
from estimation.indicators import PRESETS, QualityRule, flag_quality
from migsurvey.cli import main
from migsurvey.pipeline import estimate_indicators
from migsurvey.spec import parse_spec
from sampling import self_representing
from surveycore import SurveyError, SurveyWarning

REF = json.loads((Path(__file__).resolve().parents[1] / "reference"
                  / "self_representing.json").read_text())
REGIONS = REF["regions"]


@pytest.fixture(scope="module")
def persons():
    p = certainty_sample()
    # the R reference was computed on exactly these persons
    stored = pd.read_csv(REFERENCE_CSV, dtype={"ea_id": str, "household_id": str})
    pd.testing.assert_frame_equal(p, stored, check_exact=False, rtol=1e-12)
    return p


def _spec(variance="taylor", lonely="adjust"):
    return parse_spec("country: KEN\nestimation: {indicators: [MI1.1], by: [[], [region]], "
                      f"variance: {variance}, lonely_psu: {lonely}}}\n")


def _by_region(table, measure):
    t = table[table["measure"].eq(measure)].set_index("region")
    return t.loc[REGIONS]


def test_function_codes_certainty_eas_as_text(persons):
    office = persons.rename(columns={"ea_id": "GEO", "household_id": "HHID", "stratum": "STR",
                                     "pi1": "PI_EA", "screen": "SCR"})
    before = office.copy()
    u = self_representing(office, psu="GEO", stratum="STR", household="HHID", pi1="PI_EA",
                          substrata="SCR")
    pd.testing.assert_frame_equal(office, before)  # the caller's frame is not modified
    sure = office["PI_EA"].eq(1).to_numpy()
    assert u.certainty == ("00101", "00116")
    assert (u.ids[~sure] == office["GEO"][~sure]).all()
    assert (u.ids[sure] == office["GEO"][sure] + "/" + office["HHID"][sure]).all()
    assert u.ids.str.match(r"^0\d{4}(/\d{3})?$").all()  # leading zeros kept
    assert (u.strata[~sure] == office["STR"][~sure]).all()
    assert u.strata[sure].nunique() == 4  # two certainty EAs × two screening classes
    assert "Kish 1965" in u.note and "00116" in u.note
    plain = self_representing(office, psu="GEO", stratum="STR", household="HHID", pi1="nope")
    assert (plain.ids == office["GEO"]).all() and plain.certainty == ()
    assert "cannot be recognised" in plain.note


@pytest.mark.parametrize("bad, found", [(np.nan, "rows"), (1.2, "rows"), (0.0, "rows")])
def test_function_refuses_impossible_first_stage_probabilities(persons, bad, found):
    p = persons.copy()
    p.loc[3, "pi1"] = bad
    with pytest.raises(SurveyError, match="first-stage inclusion probabilities"):
        self_representing(p, psu="ea_id", stratum="stratum", household="household_id")
    q = persons.copy()
    q.loc[0, "pi1"] = 0.5  # one person of an EA with another pi1
    with pytest.raises(SurveyError, match="varies within a PSU"):
        self_representing(q, psu="ea_id", stratum="stratum", household="household_id")


def test_function_refuses_certainty_households_without_ids(persons):
    p = persons.astype({"household_id": object})
    p.loc[p["region"].eq("Island").to_numpy().nonzero()[0][:2], "household_id"] = None
    with pytest.raises(SurveyError, match="households of a certainty PSU need an identifier"):
        self_representing(p, psu="ea_id", stratum="stratum", household="household_id")
    q = persons.assign(stratum=np.where(persons["region"].eq("North"),
                                        "Island:high | certainty 00116", persons["stratum"]))
    with pytest.raises(SurveyError, match="existing stratum"):
        self_representing(q, psu="ea_id", stratum="stratum", household="household_id")


def test_taylor_equals_r_with_households_of_certainty_eas_as_psus(persons):
    """(a) the API's and the pipeline's SEs are R's on the self-representing coding."""
    u = self_representing(persons, psu="ea_id", stratum="stratum", household="household_id",
                          substrata="screen")
    assert u.fpc is None  # without pi2: with replacement within the certainty EA
    d = SurveyDesign(persons.assign(psu=u.ids, st=u.strata), ids="psu", strata="st",
                     weights="weight").subset(persons["usual_resident"].eq(1))
    m = d.mean("foreign_born", by="region").set_index("region").loc[REGIONS]
    np.testing.assert_allclose(m["estimate"], REF["taylor_wr"]["mean"]["estimate"], rtol=1e-8)
    np.testing.assert_allclose(m["se"], REF["taylor_wr"]["mean"]["se"], rtol=1e-8)
    np.testing.assert_allclose(m["df"], REF["taylor"]["degf"], rtol=0)
    # with pi2: the households were drawn without replacement (fpc 1 - π₂), as R's fpc = pi2
    u2 = self_representing(persons, psu="ea_id", stratum="stratum", household="household_id",
                           substrata="screen", pi2="pi2")
    d2 = SurveyDesign(persons.assign(psu=u2.ids, st=u2.strata, f=u2.fpc), ids="psu", strata="st",
                      fpc="f", weights="weight").subset(persons["usual_resident"].eq(1))
    m2 = d2.mean("foreign_born", by="region").set_index("region").loc[REGIONS]
    np.testing.assert_allclose(m2["se"], REF["taylor"]["mean"]["se"], rtol=1e-8)
    table, objects = estimate_indicators(persons, None, "weight", _spec())
    share, count = _by_region(table, "share"), _by_region(table, "count")
    np.testing.assert_allclose(share["se"], 100 * np.asarray(REF["taylor"]["mean"]["se"]),
                               rtol=1e-8)
    np.testing.assert_allclose(count["se"], REF["taylor"]["total"]["se"], rtol=1e-8)
    np.testing.assert_allclose(share["df"], REF["taylor"]["degf"], rtol=0)
    assert share.loc["Island", "df"] > 0
    note = next(iter(objects.values())).metadata["design_units"]
    assert "self-representing" in note and "00101" in note


def test_jkn_equals_r_and_keeps_the_certainty_region(persons):
    """(a) JKn replicates over the self-representing units: R's as.svrepdesign(type="JKn")."""
    table, _ = estimate_indicators(persons, None, "weight", _spec("JKn"))
    share, count = _by_region(table, "share"), _by_region(table, "count")
    np.testing.assert_allclose(share["se"], 100 * np.asarray(REF["jkn"]["mean"]["se"]),
                               rtol=1e-8)
    np.testing.assert_allclose(count["se"], REF["jkn"]["total"]["se"], rtol=1e-8)
    np.testing.assert_allclose(share["estimate"], 100 * np.asarray(REF["jkn"]["mean"]["estimate"]),
                               rtol=1e-8)
    assert share.loc["Island", "df"] > 0


def test_other_eas_unchanged(persons):
    """(c) point estimates are those of the one-stage coding; regions without a certainty EA
    keep their SEs."""
    table, _ = estimate_indicators(persons, None, "weight", _spec())
    share = _by_region(table, "share")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)  # Island is a lonely PSU there
        old = SurveyDesign(persons, ids="ea_id", strata="stratum", weights="weight",
                           lonely_psu="adjust").subset(persons["usual_resident"].eq(1))
        m = old.mean("foreign_born", by="region").set_index("region").loc[REGIONS]
    np.testing.assert_array_equal(share["estimate"].to_numpy(), 100 * m["estimate"].to_numpy())
    plain = ["North", "South"]
    np.testing.assert_allclose(share.loc[plain, "se"], 100 * m.loc[plain, "se"], rtol=1e-12)
    assert m.loc["Island", "df"] == 0 and share.loc["Island", "df"] > 0


# ------------------------------------------------------------------------------ quality flags

@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_no_degrees_of_freedom_is_never_reliable(preset):
    cv = np.array([0.01, 0.01, 0.01])
    n = np.array([500, 500, 500])
    flag, rel = PRESETS[preset].assess(cv, n, np.array([0.0, 1.0, np.inf]))
    assert list(rel) == ["unreliable", "reliable", "reliable"]
    assert flag[0] == PRESETS[preset].assess(np.array([9.0]), np.array([1]))[0][0]
    custom = QualityRule("open", cv_bands=((np.inf, "", "reliable"),))
    assert custom.assess(cv[:1], n[:1], np.array([0.0]))[1][0] == "unreliable"
    out = flag_quality(pd.DataFrame({"cv": cv, "n": n, "df": [0.0, 3.0, 9.0]}), preset)
    assert list(out["reliability"]) == ["unreliable", "reliable", "reliable"]


def test_a_lonely_region_with_df_zero_is_published_unreliable(persons):
    """A one-EA region sampled without certainty has a variance with no degrees of freedom:
    the indicator table marks it unreliable, never reliable."""
    p = persons.assign(pi1=np.where(persons["region"].eq("Island"), 0.5, persons["pi1"]))
    p["weight"] = 1.0 / (p["pi1"] * p["pi2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)
        table, _ = estimate_indicators(p, None, "weight", _spec())
    island = table[table["region"].eq("Island")]
    assert (island["df"] == 0).all()
    assert island["reliability"].eq("unreliable").all()


# ------------------------------------------------------------------------------ command line

SPEC = """\
country: KEN
seed: 3
columns: {ea_id: GEO, household_id: HHID, region: PROV, sex: {column: P02_SEX, codes: {1: M, 2: F}},
          age: P03_AGE, country_birth: P10_COB, disposition: DISP}
frame: {census: census.csv}
strata: {by: [region], cuts: [0.1], labels: [low, high], collapse_below: 1}
sample: {psus: 24, min_per_stratum: 1}
selection: {household: {screening: migrant_household, take: {migrant: 8, other: 5}}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
weighting: [{eligibility: {cells: [region]}}, {nonresponse: {cells: [screen]}},
            {calibrate: {margins: [region, sex, age_group], method: linear}}]
estimation: {indicators: [MI1.1], by: [[], [region]], variance: VARIANCE}
output: {formats: [csv]}
"""


def _census(seed=3, n_ea=61):
    """Four regions; ``Island`` is one EA (so selected with certainty)."""
    rng = np.random.default_rng(seed)
    region = np.array(["North"] * 20 + ["South"] * 20 + ["East"] * 20 + ["Island"])
    prev = np.where(rng.random(n_ea) < 0.3, rng.uniform(0.15, 0.4, n_ea),
                    rng.uniform(0, 0.05, n_ea))
    n_hh = rng.integers(20, 30, n_ea)
    hh_ea = np.repeat(np.arange(n_ea), n_hh)
    mig = rng.random(hh_ea.size) < prev[hh_ea]
    size = 1 + rng.poisson(1.8, hh_ea.size)
    ph = np.repeat(np.arange(hh_ea.size), size)
    born_abroad = mig[ph] & (rng.random(ph.size) < 0.85)
    hh_no = np.concatenate([np.arange(1, k + 1) for k in n_hh])
    return pd.DataFrame({
        "GEO": np.array([f"{i:05d}" for i in range(1, n_ea + 1)])[hh_ea[ph]],
        "HHID": np.array([f"{k:03d}" for k in hh_no])[ph],
        "PROV": region[hh_ea[ph]],
        "P02_SEX": rng.integers(1, 3, ph.size),
        "P03_AGE": rng.integers(0, 90, ph.size),
        "P10_COB": np.where(born_abroad, rng.choice(["UGA", "TZA", "SOM"], ph.size), "KEN")})


@pytest.fixture(scope="module")
def island(tmp_path_factory):
    d = tmp_path_factory.mktemp("island")
    census = _census()
    census.to_csv(d / "census.csv", index=False)
    spec = d / "taylor.yaml"
    spec.write_text(SPEC.replace("VARIANCE", "taylor"), encoding="utf-8")
    (d / "jkn.yaml").write_text(SPEC.replace("VARIANCE", "JKn"), encoding="utf-8")
    assert main(["select", "--spec", str(spec), "--out", str(d / "selected.csv"), "-q"]) == 0
    s = pd.read_csv(d / "selected.csv", dtype={"GEO": str, "HHID": str})
    rng = np.random.default_rng(5)
    u = rng.random(len(s))
    r = rng.random(len(s)) < np.where(s["screen"] == "migrant", 0.75, 0.9)
    s["DISP"] = np.where(u < 0.03, 4.1, np.where(u < 0.08, 3.1, np.where(r, 1.1, 2.1)))
    s.to_csv(d / "households.csv", index=False)
    census.merge(s.loc[s["DISP"] < 2, ["GEO", "HHID"]]).drop(columns="PROV").to_csv(
        d / "persons.csv", index=False)
    return d, s


@pytest.mark.parametrize("variance", ["taylor", "jkn"])
def test_cli_gives_the_certainty_region_a_variance(island, variance):
    """(b) `migsurvey estimate` on the interview files: the one-EA region has degrees of
    freedom and its SE, equal to the API's; JKn is no longer refused."""
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d, selected = island
    assert selected.loc[selected["PROV"].eq("Island"), "pi1"].eq(1).all()
    spec = d / f"{variance}.yaml"
    out = d / f"ind_{variance}.csv"
    assert main(["estimate", "--spec", str(spec), "--out", str(out), "-q"]) == 0
    cli = pd.read_csv(out, dtype={"region": str})
    api, objects, _ = estimate_interviews(load_spec(spec), d / "households.csv",
                                          d / "persons.csv")
    both = cli.merge(api, on=["indicator", "measure", "region"], suffixes=("_cli", "_api"))
    assert len(both) == len(cli) == 10
    # the file is the published view: a blank cell is one the API marks suppressed, or
    # unreliable in some measure of its indicator and region; every published value equals
    # the API's
    shown = both["estimate_cli"].notna()
    for c in ("estimate", "se", "df"):
        np.testing.assert_allclose(both.loc[shown, f"{c}_cli"], both.loc[shown, f"{c}_api"],
                                   rtol=1e-10)
    hidden = both.loc[~shown]
    cell_unreliable = both.groupby(["indicator", "region"])["reliability_api"].transform(
        lambda r: r.eq("unreliable").any())
    assert (hidden["suppressed_api"].fillna("").ne("") | cell_unreliable[~shown]).all()
    isl = both[both["region"].eq("Island")]
    assert (isl["df_api"] > 0).all() and (isl["se_api"] > 0).all()
    share = isl[isl["measure"].eq("share")]
    assert share["estimate_api"].notna().all()
    # published unless a measure of the island's cell is too unreliable to publish
    assert share["estimate_cli"].notna().all() == (~isl["reliability_api"].eq("unreliable")).all()
    assert "self-representing" in next(iter(objects.values())).metadata["design_units"]
