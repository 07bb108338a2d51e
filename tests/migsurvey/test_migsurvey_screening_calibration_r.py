"""The after-fieldwork chain on an office's screening sample, against R ``survey``.

An office's census (plain numpy, office column names, EA codes with leading zeros), 16 EAs
selected by the command line in strata region × prevalence class (several EAs of the high
class taken with certainty), 8 migrant and 5 other households per EA, every household
answering; weighted by ``weight_interviews`` with raking to ``[[region, sex], age_group]`` and
one weight per household. The foreign-born share by region is compared with R on the design
the pipeline declares (EAs as PSUs; a certainty EA a stratum per screening class with its
households as PSUs and fpc ``π₂``): ``calibrate(..., aggregate.stage = 2)`` with
``svyby(svymean)`` for the linearised SEs, and JKn replicates recalibrated with
``aggregate.index`` for the replicate SEs (``tests/reference/screening_calibration.R``,
whose input the pipeline's design is checked to reproduce). The two kinds of SE differ on
this sample — calibration to cells resting on a few heavily weighted households is far from
linear — and both equal R's.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, OFFICE_SCREENING, office_census

from migsurvey.cli import main
from migsurvey.design_units import design_units
from migsurvey.pipeline import estimate_interviews, load_census, weight_interviews
from migsurvey.spec import load_spec

REF = Path(__file__).resolve().parents[1] / "reference"
CASE = json.loads((REF / "screening_calibration.json").read_text())

SPEC = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  disposition: DISP
""" + OFFICE_SCREENING + """\
  - calibrate: {margins: [[region, sex], age_group], method: raking, cluster: household}
estimation:
  indicators: [MI1.1]
  by: [[], [region]]
"""
R_COLUMNS = ["hh_key", "design_psu", "design_stratum", "design_fpc", "region", "sex",
             "age_group", "household_weight", "weight", "foreign_born"]


def make_sample(d: Path) -> dict:
    """Census, selection (seed 4) and full response written in ``d``; the checked spec."""
    census = office_census(seed=17, n_ea=48)
    census.to_csv(d / "census.csv", index=False)
    (d / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert main(["select", "--spec", str(d / "spec.yaml"), "--out", str(d / "selected.csv"),
                 "--seed", "4", "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    selected.assign(DISP=1.1).to_csv(d / "households.csv", index=False)
    persons = census.merge(selected[["EA_CODE", "HH_NO"]], on=["EA_CODE", "HH_NO"])
    persons.drop(columns="REGION").to_csv(d / "persons.csv", index=False)
    return load_spec(str(d / "spec.yaml"))


def r_input(weighted_persons: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The persons with the design the pipeline declares, as R reads them."""
    units, _note = design_units(weighted_persons, spec)
    out = units[R_COLUMNS].copy()
    out["foreign_born"] = out["foreign_born"].astype(float)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("screening_r")
    spec = make_sample(d)
    import os

    here = os.getcwd()
    os.chdir(d)
    try:
        census = load_census(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _iv, weighted = weight_interviews(spec, "households.csv", "persons.csv",
                                              census=census)
            tables = {}
            for variance in ("taylor", "JKn"):
                s = copy.deepcopy(spec)
                s["estimation"]["variance"] = variance
                t, _objs, _w = estimate_interviews(s, "households.csv", "persons.csv",
                                                   census=census)
                tables[variance] = t[t["measure"] == "share"].set_index("region")
    finally:
        os.chdir(here)
    return weighted, tables, spec


def test_the_design_is_the_one_r_was_given(run):
    weighted, _tables, spec = run
    mine = r_input(weighted.persons, spec).sort_values(["hh_key", "sex", "age_group",
                                                        "weight"]).reset_index(drop=True)
    ref = pd.read_csv(REF / "screening_calibration_persons.csv",
                      dtype={"hh_key": str, "design_psu": str, "design_stratum": str,
                             "region": str}).sort_values(
        ["hh_key", "sex", "age_group", "weight"]).reset_index(drop=True)
    assert (mine["design_stratum"].str.contains("certainty")).any()
    assert (mine["design_fpc"] > 0).any() and (mine["design_fpc"] == 0).any()
    for c in ("hh_key", "design_psu", "design_stratum", "region", "sex", "age_group"):
        assert mine[c].astype(str).tolist() == ref[c].astype(str).tolist(), c
    for c in ("design_fpc", "household_weight", "foreign_born"):
        np.testing.assert_allclose(mine[c], ref[c], rtol=1e-12)
    # the pipeline's integrated raking gives R's weights
    np.testing.assert_allclose(mine["weight"], ref["weight"], rtol=1e-10)
    np.testing.assert_allclose(np.sort(weighted.persons["weight"]), np.sort(CASE["weights"]),
                               rtol=1e-8)


@pytest.mark.parametrize("variance, key", [("taylor", "taylor"), ("JKn", "jkn")])
def test_region_shares_and_ses_equal_r(run, variance, key):
    _weighted, tables, _spec = run
    t = tables[variance].rename(index=str)
    for region, est, se in zip(CASE["region"], CASE["share"], CASE[f"se_{key}"]):
        row = t.loc[str(region)]
        assert row["estimate"] == pytest.approx(100 * est, rel=1e-8)
        assert row["se"] == pytest.approx(100 * se, rel=1e-8)
    assert t.loc["_T", "estimate"] == pytest.approx(100 * CASE["share_total"], rel=1e-8)
    assert t.loc["_T", "se"] == pytest.approx(100 * CASE[f"se_total_{key}"], rel=1e-8)
