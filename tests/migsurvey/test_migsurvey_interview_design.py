"""An office's interview files whose design columns no selection can have produced are refused.

The census is made here with plain numpy (``migsurvey_office``: EA codes as text with leading
zeros, the office's column names, sex coded 1/2); the sample is selected through the command
line and the office's fieldwork gives AAPOR dispositions. Each test then damages one thing the
way files get damaged — a person entered twice, a base weight typed as 0, an impossible
probability, a household given another region, an EA code that is not in the census — and the
command line must refuse it (exit 3, the file, column and households named), never estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, OFFICE_SCREENING, fieldwork, office_census

from migsurvey.cli import EXIT_INPUT, EXIT_OK, main

SPEC = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  line: LINE
  citizenship: CITIZ
  year_arrival: YR_ARR
  disposition: DISP
""" + OFFICE_SCREENING + """\
  - calibrate: {margins: [[region, sex]], method: raking, cluster: household}
estimation:
  indicators: [MI1.1]
  by: [[], [region]]
output: {formats: [csv]}
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """census.csv → ``migsurvey select`` → the office's fieldwork, read back as text."""
    d = tmp_path_factory.mktemp("design")
    census = office_census(seed=41, n_ea=40)
    census.to_csv(d / "census.csv", index=False)
    (d / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert main(["select", "--spec", str(d / "spec.yaml"), "--out", str(d / "selected.csv"),
                 "-q"]) == EXIT_OK
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    households, persons = fieldwork(selected, census, seed=5)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    read = {"dtype": str, "keep_default_na": False}
    return {"dir": d, "households": pd.read_csv(d / "households.csv", **read),
            "persons": pd.read_csv(d / "persons.csv", **read)}


def _estimate(office, tmp_path, capsys, households=None, persons=None, extra=()):
    """``migsurvey estimate`` on the office's files with ``households``/``persons`` replaced."""
    d = office["dir"]
    hh = tmp_path / "households.csv"
    pp = tmp_path / "persons.csv"
    (office["households"] if households is None else households).to_csv(hh, index=False)
    (office["persons"] if persons is None else persons).to_csv(pp, index=False)
    capsys.readouterr()
    code = main(["estimate", "--spec", str(d / "spec.yaml"), "--households", str(hh),
                 "--persons", str(pp), "--out", str(tmp_path / "ind"), "-q", *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return code, err


def _responding(households: pd.DataFrame) -> pd.Series:
    return households["DISP"].str.startswith("1")


def test_a_person_entered_twice_is_refused_with_the_line_named(office, tmp_path, capsys):
    p = office["persons"]
    twice = pd.concat([p, p.iloc[[5]]], ignore_index=True)
    row = p.iloc[5]
    code, err = _estimate(office, tmp_path, capsys, persons=twice)
    assert code == EXIT_INPUT
    assert "a person is entered twice" in err
    assert f"{row['EA_CODE']}/{row['HH_NO']}/{row['LINE']}" in err
    assert "EA_CODE/HH_NO/LINE" in err and "--persons" in err


def test_a_responding_household_with_base_weight_zero_is_refused(office, tmp_path, capsys):
    h = office["households"].copy()
    i = h.index[_responding(h)][3]
    h.loc[i, "base_weight"] = "0"
    code, err = _estimate(office, tmp_path, capsys, households=h)
    assert code == EXIT_INPUT
    assert "not positive" in err and "'base_weight'" in err and "--households" in err
    assert f"{h.loc[i, 'EA_CODE']}/{h.loc[i, 'HH_NO']} (0)" in err
    assert "extreme g-weights" not in err


@pytest.mark.parametrize(("column", "value", "says"), [
    ("pi1", "1.7", "pi1 outside (0, 1]"),
    ("pi2", "-0.5", "pi2 outside (0, 1]"),
    ("base_weight", "1,25", "is not a number"),
])
def test_impossible_probabilities_and_weights_name_file_and_column(office, tmp_path, capsys,
                                                                     column, value, says):
    h = office["households"].copy()
    h.loc[0, column] = value  # a nonresponding or responding household alike: it was selected
    code, err = _estimate(office, tmp_path, capsys, households=h)
    assert code == EXIT_INPUT
    assert says in err and f"(column {column!r})" in err and "--households" in err
    assert f"{h.loc[0, 'EA_CODE']}/{h.loc[0, 'HH_NO']}" in err


def test_a_base_weight_that_is_not_one_over_the_probabilities_is_refused(office, tmp_path,
                                                                          capsys):
    h = office["households"].copy()
    i = h.index[_responding(h)][0]
    pi1, pi2 = float(h.loc[i, "pi1"]), float(h.loc[i, "pi2"])
    h.loc[i, "base_weight"] = repr(1.5 / (pi1 * pi2))
    code, err = _estimate(office, tmp_path, capsys, households=h)
    assert code == EXIT_INPUT
    assert "not 1 / (pi1 · pi2)" in err and f"{h.loc[i, 'EA_CODE']}/{h.loc[i, 'HH_NO']}" in err
    # probabilities rounded to four significant digits are the same design
    ok = office["households"].assign(
        pi2=office["households"]["pi2"].astype(float).map(lambda v: f"{v:.4g}"))
    from migsurvey.interview_design import BASE_WEIGHT_RTOL

    w = ok["base_weight"].astype(float) * ok["pi1"].astype(float) * ok["pi2"].astype(float)
    assert np.abs(w - 1).max() < BASE_WEIGHT_RTOL


def test_a_household_in_another_region_than_its_ea_is_refused(office, tmp_path, capsys):
    h = office["households"].copy()
    i = h.index[_responding(h)][2]
    ea = h.loc[i, "EA_CODE"]
    region = h.loc[i, "REGION"]
    other = next(r for r in sorted(h["REGION"].unique()) if r != region)
    h.loc[i, "REGION"] = other
    code, err = _estimate(office, tmp_path, capsys, households=h)
    assert code == EXIT_INPUT
    assert "households of one EA give different values of region" in err
    assert f"EA {ea}" in err and f"{ea}/{h.loc[i, 'HH_NO']}" in err and "'REGION'" in err


def test_an_ea_whose_households_all_say_another_region_is_refused_by_the_census(office,
                                                                               tmp_path,
                                                                               capsys):
    """Consistent within the EA, but not the EA's region in the census frame."""
    h = office["households"].copy()
    ea = h["EA_CODE"].iloc[0]
    region = h.loc[h["EA_CODE"] == ea, "REGION"].iloc[0]
    other = next(r for r in sorted(h["REGION"].unique()) if r != region)
    h.loc[h["EA_CODE"] == ea, "REGION"] = other
    code, err = _estimate(office, tmp_path, capsys, households=h)
    assert code == EXIT_INPUT
    assert "is not their EA's region in the census frame" in err
    assert f"EA {ea} in {region!r}" in err and "frame.census" in err


def test_an_interviewed_ea_missing_from_the_census_is_refused(office, tmp_path, capsys):
    h, p = office["households"].copy(), office["persons"].copy()
    ea = h["EA_CODE"].iloc[0]
    h.loc[h["EA_CODE"] == ea, "EA_CODE"] = "0777"
    p.loc[p["EA_CODE"] == ea, "EA_CODE"] = "0777"
    code, err = _estimate(office, tmp_path, capsys, households=h, persons=p)
    assert code == EXIT_INPUT
    assert "not in the census frame" in err and "0777" in err and "frame.census" in err
    assert "(column 'EA_CODE')" in err


def test_the_untouched_files_still_estimate(office, tmp_path, capsys):
    code, err = _estimate(office, tmp_path, capsys)
    assert code == EXIT_OK, err


def test_a_weighted_csv_reads_back_as_the_parquet_file_does(office, tmp_path, capsys):
    """``weight --out weighted.csv`` then ``estimate --persons weighted.csv`` (the documented
    route) gives the numbers of the Parquet route: logical columns written True/False read
    back as logical."""
    d = office["dir"]
    spec = str(d / "spec.yaml")
    out = {}
    for ext in ("csv", "parquet", "xlsx"):
        w = tmp_path / f"weighted.{ext}"
        assert main(["weight", "--spec", spec, "--out", str(w), "-q"]) == EXIT_OK
        code = main(["estimate", "--spec", spec, "--persons", str(w),
                     "--out", str(tmp_path / ext), "-q"])
        err = capsys.readouterr().err
        assert code == EXIT_OK, err
        out[ext] = pd.read_csv(tmp_path / ext / "indicators.csv")
    np.testing.assert_array_equal(out["csv"]["n"], out["parquet"]["n"])
    for ext in ("csv", "xlsx"):
        np.testing.assert_allclose(out[ext]["estimate"], out["parquet"]["estimate"], rtol=1e-12)
        np.testing.assert_allclose(out[ext]["se"], out["parquet"]["se"], rtol=1e-12)


def test_simulate_runs_on_the_office_census(office, tmp_path, capsys):
    """``simulate`` on the office's own census file: the indicators it cannot compute are
    refused by their key, and with the questions mapped it runs."""
    d = office["dir"]
    census = pd.read_csv(d / "census.csv", dtype={"EA_CODE": str})
    census.to_csv(tmp_path / "census.csv", index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("  year_arrival: YR_ARR\n", ""), encoding="utf-8")
    capsys.readouterr()
    code = main(["simulate", "--spec", str(spec), "--reps", "2", "--out", str(tmp_path / "s"),
                 "-q"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "internal error" not in err
    assert "cannot compute the census value of MI1.1" in err
    assert "estimation.indicators[0]" in err and "year_arrival" in err
    # the census has the questions, but no urban/rural column for the response model
    census.assign(USUAL="yes").to_csv(tmp_path / "census.csv", index=False)
    spec.write_text(SPEC.replace("  line: LINE\n", "  line: LINE\n  usual_member: USUAL\n"),
                    encoding="utf-8")
    code = main(["simulate", "--spec", str(spec), "--reps", "2", "--out", str(tmp_path / "s"),
                 "-q"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "fieldwork.response.urban" in err
    spec.write_text(spec.read_text(encoding="utf-8") + "fieldwork: {response: {urban: 1}}\n",
                    encoding="utf-8")
    code = main(["simulate", "--spec", str(spec), "--reps", "2", "--out", str(tmp_path / "s"),
                 "-q"])
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    summary = pd.read_csv(tmp_path / "s" / "summary.csv")
    assert set(summary["indicator"]) == {"MI1.1"} and summary["truth"].notna().all()


def test_household_numbers_written_as_decimals_are_named_as_written_differently(office, tmp_path,
                                                                               capsys):
    """A persons file whose HH_NO went through a float column (3 → 3.0)."""
    p = office["persons"].assign(HH_NO=office["persons"]["HH_NO"] + ".0")
    code, err = _estimate(office, tmp_path, capsys, persons=p)
    assert code == EXIT_INPUT
    row = office["persons"].iloc[0]
    assert "write the identifiers EA_CODE/HH_NO differently" in err
    assert f"'{row['EA_CODE']}/{row['HH_NO']}.0' ↔ '{row['EA_CODE']}/{row['HH_NO']}'" in err


def test_a_rate_without_denominator_in_a_domain_names_the_disaggregation(office, tmp_path,
                                                                         capsys):
    """No foreign citizen aged 0-14 among the interviewed: MI 1.2 by age group has no
    denominator there, refused at the line of estimation.by that asks for it."""
    d = office["dir"]
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("frame: {census: census.csv}",
                                 f"frame: {{census: {d / 'census.csv'}}}")
                    .replace("indicators: [MI1.1]", "indicators: [MI1.2]")
                    .replace("by: [[], [region]]", "by: [[], [region], [age_group]]")
                    .replace("  disposition: DISP\n", "  disposition: DISP\n  citizenship_acquired: "
                             "CITACQ\n  year_citizenship: YCIT\n  month_citizenship: MCIT\n"),
                    encoding="utf-8")
    p = office["persons"].copy()
    p.loc[p["AGE"].astype(int) < 15, "CITIZ"] = "KEN"
    citizen, native = p["CITIZ"] == "KEN", p["COB"] == "KEN"
    # foreign-born adults naturalised in 2010; children citizens from birth (by descent):
    # a naturalisation before birth would be refused as impossible
    naturalised = citizen & ~native & (p["AGE"].astype(int) >= 15)
    p["CITACQ"] = np.where(citizen, np.where(naturalised, "naturalisation", "birth"), "")
    p["YCIT"] = np.where(naturalised, "2010", "")
    p["MCIT"] = np.where(naturalised, "1", "")
    p.to_csv(tmp_path / "persons.csv", index=False)
    capsys.readouterr()
    code = main(["estimate", "--spec", str(spec), "--households", str(d / "households.csv"),
                 "--persons", str(tmp_path / "persons.csv"), "--out", str(tmp_path / "ind"),
                 "-q"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert "MI1.2 cannot be estimated in a domain" in err and "estimation.by[2]" in err
    assert "age_group='0-14'" in err
