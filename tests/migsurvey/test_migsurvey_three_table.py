"""A census in a folder of tables (persons + eas) whose region only the EA table holds.

The persons table has no region; the EA table gives each EA's region, and lists two EAs where
the census counted nobody. Through the command line: the region is a stratification column
and a raking margin (the persons take their EA's region), the raked weights reproduce the
census counts by region computed here by hand, and the empty EAs are named in a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from migsurvey_office import office_census

from migsurvey.cli import main

SPEC = """\
country: KEN
seed: 4
columns:
  ea_id: EA_CODE
  household_id: HH_NO
  region: REGION
  sex: {column: SEX, codes: {1: M, 2: F}}
  age: AGE
  country_birth: COB
  disposition: DISP
frame: {census: census}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 20}
selection:
  household: {take: {migrant: 8, other: 4}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
weighting:
  - nonresponse: {cells: [region]}
  - rake: {margins: [region, sex]}
estimation: {indicators: [MI1.1], by: [[]]}
output: {formats: [csv]}
"""


def test_region_of_the_ea_table_is_a_margin_and_empty_eas_are_named(tmp_path, capsys):
    census = office_census(seed=8, n_ea=60).drop(columns=["CITIZ", "YR_ARR", "LINE"])
    folder = tmp_path / "census"
    folder.mkdir()
    census.drop(columns="REGION").to_csv(folder / "persons.csv", index=False)
    eas = census.drop_duplicates("EA_CODE")[["EA_CODE", "REGION"]]
    eas = pd.concat([eas, pd.DataFrame({"EA_CODE": ["0901", "0902"], "REGION": [1, 2]})])
    eas.to_csv(folder / "eas.csv", index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    assert main(["frame", "--spec", str(spec), "--out", str(tmp_path / "frame.csv")]) == 0
    err = capsys.readouterr().err
    assert "2 EA(s) of the EA table have no person in the census" in err and "'0901'" in err
    frame = pd.read_csv(tmp_path / "frame.csv", dtype={"EA_CODE": str})
    assert len(frame) == 60 and frame["REGION"].notna().all()

    assert main(["select", "--spec", str(spec), "--out", str(tmp_path / "sel.csv"), "-q"]) == 0
    sel = pd.read_csv(tmp_path / "sel.csv", dtype={"EA_CODE": str})
    sel.assign(DISP=1.1).to_csv(tmp_path / "households.csv", index=False)
    census.drop(columns="REGION").merge(sel[["EA_CODE", "HH_NO"]]).to_csv(
        tmp_path / "persons.csv", index=False)
    assert main(["weight", "--spec", str(spec), "--out", str(tmp_path / "w.csv"), "-q"]) == 0
    w = pd.read_csv(tmp_path / "w.csv", dtype={"EA_CODE": str})
    got = w.groupby("REGION")["weight"].sum().sort_index()
    want = census.groupby("REGION").size().sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(w.groupby("SEX")["weight"].sum().sort_index().to_numpy(),
                               census.groupby("SEX").size().sort_index().to_numpy(), rtol=1e-8)
