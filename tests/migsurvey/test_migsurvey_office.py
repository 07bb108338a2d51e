"""An office's own census and interviews from frame to report, through one specification.

The census is made here with plain numpy (``migsurvey_office``): other column names, EA codes
as text with leading zeros, sex coded 1/2, no intended-stay or citizenship-acquisition question.
The interviews carry AAPOR final dispositions, 3.x (unknown eligibility) included.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import fieldwork, office_census, truth_mi11

from migsurvey.cli import EXIT_INPUT, main

SPEC = """\
name: Kenya migration survey (test)
country: KEN
reference_year: 2025
seed: 7
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  line: LINE
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
  citizenship: CITIZ
  year_arrival: YR_ARR
  disposition: DISP
frame:
  census: census.csv
  psu: ea_id
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 90, allocation: power, power: 0.5}
selection:
  household: {screening: migrant_household, take: {migrant: 12, other: 8}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
weighting:
  - eligibility: {cells: [region]}
  - nonresponse: {cells: [screen]}
  - calibrate: {margins: [[region, sex, age_group]], method: raking, cluster: household}
estimation:
  indicators: [MI1.1]
  by: [[], [sex], [age_group], [sex, age_group]]
  variance: taylor
output: {formats: [csv]}
"""


def _spec_file(folder, text=SPEC, name="spec.yaml"):
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """frame → design → select through the CLI, then the office's fieldwork."""
    d = tmp_path_factory.mktemp("office")
    census = office_census()
    census.to_csv(d / "census.csv", index=False)
    spec = _spec_file(d, SPEC)
    assert main(["frame", "--spec", str(spec), "--out", str(d / "frame.csv"), "-q"]) == 0
    assert main(["design", "--spec", str(spec), "--out", str(d / "alloc.csv"), "-q"]) == 0
    assert main(["select", "--spec", str(spec), "--out", str(d / "selected.csv"),
                 "--psus", str(d / "eas.csv"), "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    households, persons = fieldwork(selected, census)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    return {"dir": d, "spec": spec, "census": census, "selected": selected,
            "households": households, "persons": persons}


def test_ids_as_given_and_the_psu_column_of_the_spec(office):
    d = office["dir"]
    frame = pd.read_csv(d / "frame.csv", dtype={"EA_CODE": str})
    assert frame["EA_CODE"].str.fullmatch(r"\d{4}").all()  # "0001" … kept as text
    assert frame["EA_CODE"].iloc[0] == "0001" and frame["persons"].sum() == len(office["census"])
    raw = (d / "selected.csv").read_text().splitlines()
    assert raw[0].startswith("EA_CODE,HH_NO") and raw[1].split(",")[0].startswith("0")
    sel = office["selected"]
    assert {"stratum", "screen", "pi1", "pi2", "base_weight", "REGION"} <= set(sel.columns)
    np.testing.assert_allclose(sel["base_weight"], 1 / (sel["pi1"] * sel["pi2"]))
    eas = pd.read_csv(d / "eas.csv", dtype={"EA_CODE": str})
    assert set(sel["EA_CODE"]) == set(eas["EA_CODE"]) and len(eas) == 90
    assert set(np.floor(office["households"]["DISP"])) == {1, 2, 3, 4}


def test_weight_estimate_report_from_the_interviews(office, capsys):
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d, spec = office["dir"], office["spec"]
    assert main(["weight", "--spec", str(spec), "--out", str(d / "weighted.csv"),
                 "--households-out", str(d / "hh_weighted.csv"), "-q"]) == 0
    w = pd.read_csv(d / "weighted.csv", dtype={"EA_CODE": str})
    assert {"EA_CODE", "HH_NO", "SEX", "weight"} <= set(w.columns)
    assert set(w["SEX"]) == {1, 2} and w["EA_CODE"].str.startswith("0").all()
    # calibrated to the census counts of region × sex × age group, one weight per household
    c = office["census"]
    group = np.searchsorted([0, 15, 30, 45, 60], c["AGE"], side="right")
    cells = c.assign(g=group).groupby(["REGION", "SEX", "g"]).size()
    wg = np.searchsorted([0, 15, 30, 45, 60], w["AGE"], side="right")
    got = w.assign(g=wg).groupby(["REGION", "SEX", "g"])["weight"].sum()
    np.testing.assert_allclose(got.sort_index(), cells.sort_index(), rtol=1e-8)
    assert (w.groupby(["EA_CODE", "HH_NO"])["weight"].nunique() == 1).all()
    hh = pd.read_csv(d / "hh_weighted.csv", dtype={"EA_CODE": str})
    assert len(hh) == int((np.floor(office["households"]["DISP"]) == 1).sum())

    out = d / "indicators.csv"
    assert main(["estimate", "--spec", str(spec), "--out", str(out), "-q"]) == 0
    cli = pd.read_csv(out, keep_default_na=False, na_values=[""])
    api, _, _ = estimate_interviews(load_spec(spec), d / "households.csv", d / "persons.csv")
    key = ["indicator", "measure", "sex", "age_group"]
    both = cli.merge(api, on=key, suffixes=("_cli", "_api"))
    assert len(both) == len(api) == len(cli)
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(both[f"{col}_cli"], both[f"{col}_api"], rtol=1e-10)

    truth = truth_mi11(c)
    share = cli[cli["measure"] == "share"]
    assert len(share) == 18  # total, 2 sexes, 5 age groups, 10 cells
    z = [(r.estimate - truth[(r.sex, r.age_group)]) / r.se for r in share.itertuples()]
    assert np.max(np.abs(z)) < 3, z

    report = d / "report" / "report.html"
    assert main(["report", "--spec", str(spec), "--out", str(report), "-q"]) == 0
    html = report.read_text()
    for text in ("AAPOR RR1", "unknown eligibility (3.x)", "Weighting chain", "MI1.1",
                 "eligibility → nonresponse → calibrate"):
        assert text in html
    capsys.readouterr()


def test_mi13_refused_with_the_missing_question(office, capsys):
    d = office["dir"]
    spec = _spec_file(d, SPEC.replace("indicators: [MI1.1]", "indicators: [MI1.1, MI1.3]")
                      , "mi13.yaml")
    assert main(["estimate", "--spec", str(spec), "--out", str(d / "mi13.csv")]) == EXIT_INPUT
    err = capsys.readouterr().err
    # arrivals known by year only: whether they fall in the last 12 months needs the month
    assert "error: MI1.3 cannot be estimated" in err and "month_arrival" in err
    assert not (d / "mi13.csv").exists()


def test_mi11_needs_the_residents_known(office):
    """Without the roster's word (or an intended-stay question) recent arrivals are of
    unknown usual residence: MI 1.1 is refused with the questions named, never guessed."""
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import parse_spec
    from surveycore import SurveyError

    d = office["dir"]
    text = SPEC.replace("census.csv", str(d / "census.csv")).replace(", usual_residents: true", "")
    with pytest.raises(SurveyError) as info:
        estimate_interviews(parse_spec(text), office["households"], office["persons"])
    msg = str(info.value)
    assert "MI1.1" in msg and "intended_stay_months" in msg and "usual_residents" in msg


def test_replicate_weights_written_and_used(office, capsys):
    """`weight --replicates` then `estimate` on the weighted file gives the API's SEs."""
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d = office["dir"]
    spec = _spec_file(d, SPEC.replace("variance: taylor", "variance: bootstrap\n  replicates: 20"),
                      "boot.yaml")
    weighted = d / "weighted_jkn.parquet"
    assert main(["weight", "--spec", str(spec), "--out", str(weighted), "--replicates",
                 "-q"]) == 0
    meta = json.loads((d / "weighted_jkn.parquet.replicates.json").read_text())
    assert meta["type"] == "bootstrap" and len(meta["columns"]) == 20
    out = d / "ind_jkn.csv"
    assert main(["estimate", "--spec", str(spec), "--persons", str(weighted),
                 "--out", str(out), "-q"]) == 0
    cli = pd.read_csv(out)
    api, _, _ = estimate_interviews(load_spec(spec), d / "households.csv", d / "persons.csv")
    both = cli.merge(api, on=["indicator", "measure", "sex", "age_group"])
    # the file is the published view: a blank cell is one the API marks suppressed or
    # unreliable; every published value equals the API's
    shown = both["estimate_x"].notna()
    assert shown.sum() > 0
    np.testing.assert_allclose(both.loc[shown, "se_x"], both.loc[shown, "se_y"], rtol=1e-10)
    np.testing.assert_allclose(both.loc[shown, "estimate_x"], both.loc[shown, "estimate_y"],
                               rtol=1e-10)
    hidden = both.loc[~shown]
    assert (hidden["suppressed_y"].fillna("").ne("") | hidden["reliability_y"].ne("reliable")).all()
    assert "treat the weights as fixed" not in capsys.readouterr().err


def test_coding_mismatch_between_census_and_interviews(office, capsys):
    d = office["dir"]
    persons = office["persons"].assign(SEX=np.where(office["persons"]["SEX"] == 1, "M", "F"))
    persons.to_csv(d / "persons_mf.csv", index=False)
    assert main(["weight", "--spec", str(office["spec"]), "--persons", str(d / "persons_mf.csv"),
                 "--out", str(d / "x.csv")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "coding mismatch between the census and the interviews" in err
    assert "SEX" in err and "columns.sex.codes" in err


def test_mi11_alone_needs_no_citizenship_question(office):
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import parse_spec

    d = office["dir"]
    text = SPEC.replace("  citizenship: CITIZ\n", "").replace("census.csv", str(d / "census.csv"))
    spec = parse_spec(text)
    persons = office["persons"].drop(columns="CITIZ")
    table, _, wt = estimate_interviews(spec, office["households"], persons)
    assert set(table["indicator"]) == {"MI1.1"}
    assert "citizenship" not in wt.persons.columns


def test_interviews_with_their_own_codes(office):
    """interviews.columns replaces only the keys that differ from the census mapping."""
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import parse_spec

    d = office["dir"]
    text = SPEC.replace("census.csv", str(d / "census.csv")).replace(
        "interviews: {households: households.csv, persons: persons.csv, usual_residents: true}",
        "interviews:\n  usual_residents: true\n  columns:\n"
        "    sex: {column: Q_SEX, codes: {male: M, female: F}}")
    persons = office["persons"].assign(
        Q_SEX=np.where(office["persons"]["SEX"] == 1, "male", "female")).drop(columns="SEX")
    table, _, wt = estimate_interviews(parse_spec(text), office["households"], persons)
    assert set(wt.persons["sex"]) == {"F", "M"}
    assert {"F", "M"} <= set(table["sex"])


def test_api_columns_equal_the_spec_columns(office, capsys):
    """`columns=` in the API means what `columns:` of the specification means: the same
    census frame and the same indicators, to 1e-10, as the command line with `columns:`."""
    from migsurvey.inputs import ColumnMapping, read_interviews
    from migsurvey.pipeline import estimate_interviews, load_census
    from migsurvey.spec import parse_spec
    from surveycore import SurveyError

    d = office["dir"]
    text = SPEC.replace("census.csv", str(d / "census.csv"))
    start, end = text.index("columns:\n"), text.index("frame:\n")
    mapping_yaml, bare = text[start:end], text[:start] + text[end:]
    assert "columns:" not in bare
    with_spec = parse_spec(text)
    as_dict = {"ea_id": "EA_CODE", "household_id": "HH_NO", "line": "LINE", "region": "REGION",
               "sex": {"column": "SEX", "codes": {1: "M", 2: "F"}}, "age": "AGE",
               "country_birth": "COB", "citizenship": "CITIZ", "year_arrival": "YR_ARR",
               "disposition": "DISP"}
    assert parse_spec(mapping_yaml)["columns"] == parse_spec(f"columns: {as_dict}")["columns"]
    as_object = ColumnMapping.from_spec(with_spec)
    spec = parse_spec(bare)

    pd.testing.assert_frame_equal(load_census(spec, columns=as_object).eas,
                                  load_census(with_spec).eas)
    out = d / "indicators_cli.csv"
    assert main(["estimate", "--spec", str(office["spec"]), "--out", str(out), "-q"]) == 0
    cli = pd.read_csv(out, keep_default_na=False, na_values=[""])
    for columns in (as_dict, as_object):
        api, _, _ = estimate_interviews(spec, d / "households.csv", d / "persons.csv",
                                        columns=columns)
        both = cli.merge(api, on=["indicator", "measure", "sex", "age_group"],
                         suffixes=("_cli", "_api"))
        assert len(both) == len(api) == len(cli)
        for col in ("estimate", "se", "ci_low", "ci_high"):
            np.testing.assert_allclose(both[f"{col}_cli"], both[f"{col}_api"], rtol=1e-10)
    iv = read_interviews(spec, d / "households.csv", d / "persons.csv", columns=as_dict)
    assert iv.households["ea_id"].str.fullmatch(r"\d{4}").all()
    assert set(iv.persons["sex"]) == {"F", "M"}
    assert spec["columns"] == {}  # the specification given is not changed
    with pytest.raises(SurveyError, match="unknown standard name"):
        load_census(spec, columns={"ea": "EA_CODE"})
    with pytest.raises(SurveyError, match="F or M"):
        load_census(spec, columns={"sex": {"column": "SEX", "codes": {1: "male"}}})
    capsys.readouterr()


def test_warnings_travel_with_the_numbers(office, capsys):
    """The weighting diagnostics and the other warnings of a run are in the metadata of every
    file `migsurvey estimate` writes, read back with each format's own reader."""
    import pyarrow.parquet as pq
    import sdmx

    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d = office["dir"]
    spec = _spec_file(d, SPEC.replace("output: {formats: [csv]}",
                                      "output: {formats: [csv, parquet, xlsx, sdmx]}"),
                      "formats.yaml")
    out = d / "published"
    assert main(["estimate", "--spec", str(spec), "--out", str(out), "-q"]) == 0
    console = [line.split("warning: ", 1)[1] for line in capsys.readouterr().err.splitlines()
               if "warning: " in line]
    moved = [w for w in console if w.startswith("the calibration moves the estimate")]
    assert moved and any(w.startswith("derived variables made without") for w in console)

    parquet = json.loads(pq.read_schema(out / "indicators.parquet").metadata[b"warnings"])
    notes = pd.read_excel(out / "indicators.xlsx", sheet_name="notes")["warning"].tolist()
    flow = sdmx.read_sdmx(out / "indicators.sdmx.structure.xml").dataflow["DF_MIGRATION"]
    annotations = [str(a.text) for a in flow.annotations if a.type == "WARNING"]
    sidecar = json.loads((out / "indicators.csv.json").read_text())["warnings"]
    for got in (parquet, notes, annotations, sidecar):
        assert sorted(got) == sorted(console), got
    # the API's tables carry the same warnings, and so do their own exports
    _, objects, _ = estimate_interviews(load_spec(spec), d / "households.csv",
                                        d / "persons.csv")
    t = next(iter(objects.values()))
    assert set(moved) <= set(t.metadata["warnings"])
    t.to_csv(d / "api.csv")
    assert json.loads((d / "api.csv.json").read_text())["warnings"] == t.metadata["warnings"]
    # and the weights written by `migsurvey weight` carry them in their Parquet metadata
    assert main(["weight", "--spec", str(spec), "--out", str(d / "w_notes.parquet"), "-q"]) == 0
    notes = json.loads(pq.read_schema(d / "w_notes.parquet").metadata[b"warnings"])
    assert set(moved) <= set(notes)
    capsys.readouterr()
