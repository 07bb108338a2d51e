"""Census input in every documented form; the PSU column named by the spec is used end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import fieldwork, office_census

from migsurvey.inputs import read_census
from migsurvey.spec import parse_spec

SPEC = """\
country: KEN
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
  disposition: DISP
frame: {census: CENSUS, psu: PSU_NO}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 24}
selection:
  household: {take: {migrant: 10, other: 6}}
interviews: {usual_residents: true}
weighting:
  - eligibility: {}
  - nonresponse: {cells: [screen]}
  - rake: {margins: [region, sex, age_group]}
estimation: {indicators: [MI1.1], by: [[], [sex]]}
"""


@pytest.fixture(scope="module")
def census():
    c = office_census(seed=5, n_ea=80)
    # the PSUs are pairs of EAs: a column of the census that is not the EA code
    return c.assign(PSU_NO=[f"P{(int(e) - 1) // 2:03d}" for e in c["EA_CODE"]])


def _spec(path):
    return parse_spec(SPEC.replace("CENSUS", str(path)))


def test_every_census_form_gives_the_same_frame(tmp_path, census):
    import duckdb

    census.to_csv(tmp_path / "census.csv", index=False)
    (tmp_path / "dataset").mkdir()
    half = len(census) // 2
    census.iloc[:half].to_parquet(tmp_path / "dataset" / "part-0.parquet", index=False)
    census.iloc[half:].to_parquet(tmp_path / "dataset" / "part-1.parquet", index=False)
    with duckdb.connect(str(tmp_path / "census.duckdb")) as con:
        con.register("c", census)
        con.execute("create table persons as select * from c")
    census.to_stata(tmp_path / "census.dta", write_index=False)
    frames = {}
    for name in ("census.csv", "dataset", "census.duckdb", "census.dta"):
        c = read_census(_spec(tmp_path / name))
        assert c.n_persons == len(census) and c.psu == "PSU_NO"
        frames[name] = c.eas.sort_values("PSU_NO").reset_index(drop=True)
    first = frames.pop("census.csv")
    assert len(first) == 40 and first["PSU_NO"].iloc[0] == "P000"
    assert first["households"].sum() == census.groupby(["EA_CODE", "HH_NO"]).ngroups
    for f in frames.values():
        pd.testing.assert_frame_equal(f, first, check_dtype=False)


def test_psu_of_the_spec_from_selection_to_variance(tmp_path, census):
    from migsurvey.inputs import ColumnMapping
    from migsurvey.pipeline import (
        allocate_sample,
        build_frame,
        estimate_interviews,
        load_census,
        select_sample,
    )

    census.to_csv(tmp_path / "census.csv", index=False)
    spec = _spec(tmp_path / "census.csv")
    c = load_census(spec)
    frame = build_frame(c.eas, spec)
    psus, households = select_sample(frame, allocate_sample(frame, spec), c, spec,
                                     np.random.default_rng(3))
    assert psus["PSU_NO"].is_unique and len(psus) == 24
    # a PSU holds two EAs: households of both are listed and selected
    assert households.groupby("PSU_NO")["ea_id"].nunique().max() == 2
    selected = ColumnMapping.from_spec(spec).restore(households)
    assert selected["EA_CODE"].str.fullmatch(r"\d{4}").all()  # ids as given, as text
    selected = selected.astype({"HH_NO": int})  # as the office's file reads back
    hh, persons = fieldwork(selected, census, seed=4)
    table, _, wt = estimate_interviews(spec, hh, persons.drop(columns="PSU_NO"), census=c)
    assert wt.persons["PSU_NO"].nunique() == 24
    total = table.query("measure == 'share' and sex == '_T'").iloc[0]
    # PSUs minus strata: the spec's PSU column is the variance's cluster (not the EA); a PSU
    # taken with certainty is a stratum per screening class with its households as PSUs
    p = wt.persons
    sure = p["pi1"].eq(1)
    n_psu = p.loc[~sure, "PSU_NO"].nunique() + p.loc[sure, "hh_key"].nunique()
    n_strata = (p.loc[~sure, "stratum"].nunique()
                + len(p.loc[sure, ["PSU_NO", "screen"]].drop_duplicates()))
    assert total["df"] == n_psu - n_strata
    assert wt.persons["ea_id"].nunique() > 24
