"""The design checks of the interview route also run on an already weighted file.

``migsurvey estimate --persons weighted.csv`` (a file of ``migsurvey weight``, or weights made
elsewhere) is checked for what a calibrated weight does not change: person lines given twice,
inclusion probabilities outside (0, 1], a kept base weight that is not 1/(π₁π₂), rows of one
EA that disagree on its region or stratum, an EA that is not in the census, a selected EA that
is missing. The final weight itself may be calibrated: it is not compared with 1/(π₁π₂). Files
are made here (``office_route_data``: EA codes with leading zeros, the office's names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from office_route_data import office_survey, run

from migsurvey.cli import EXIT_INPUT

CAL = ("weighting:\n  - nonresponse: {cells: [region]}\n"
       "  - calibrate: {margins: [region, sex], method: raking}")


def _vacant(selected: pd.DataFrame) -> np.ndarray:
    """One EA whose every household is vacant: a row of weight 0 keeps it in the file."""
    return (selected["EA_CODE"] == sorted(selected["EA_CODE"].unique())[3]).to_numpy()


@pytest.fixture(scope="module")
def weighted(tmp_path_factory):
    s = office_survey(tmp_path_factory.mktemp("weighted"), weighting=CAL, vacant=_vacant)
    d = s["dir"]
    assert run("weight", "--spec", d / "spec.yaml", "--out", d / "weighted.csv",
               "--households-out", d / "weighted_hh.csv", "-q") == 0
    s["weighted"] = pd.read_csv(d / "weighted.csv", dtype=str, keep_default_na=False)
    return s


def _estimate(s, capsys, frame, *extra):
    d = s["dir"]
    path = d / "w_test.csv"
    frame.to_csv(path, index=False)
    capsys.readouterr()
    code = run("estimate", "--spec", d / "spec.yaml", "--persons", path, "--out",
               d / "ind_w.csv", "-q", *extra)
    err = capsys.readouterr().err
    assert "internal error" not in err
    return code, err


def test_weighted_file_passes_and_keeps_the_empty_ea(weighted, capsys):
    w = weighted["weighted"]
    gone = sorted(weighted["selected"]["EA_CODE"].unique())[3]
    empty = w[w["empty_ea"] == "True"]
    assert list(empty["EA_CODE"]) == [gone] and float(empty["weight"].iloc[0]) == 0
    # calibrated weights are not 1/(π₁π₂), and that is not refused
    code, err = _estimate(weighted, capsys, w)
    assert code == 0, err
    code, err = _estimate(weighted, capsys, w, "--selection", weighted["dir"] / "eas.csv")
    assert code == 0, err


def test_region_disagreeing_within_an_ea(weighted, capsys):
    w = weighted["weighted"].copy()
    row = w.index[w["empty_ea"] == "False"][4]
    w.loc[row, "REGION"] = "9" if w.loc[row, "REGION"] != "9" else "8"
    code, err = _estimate(weighted, capsys, w)
    assert code == EXIT_INPUT, err
    assert "households of one EA give different values of region" in err
    assert f"EA {w.loc[row, 'EA_CODE']}" in err and "--persons" in err and "'REGION'" in err


def test_stratum_disagreeing_within_an_ea(weighted, capsys):
    w = weighted["weighted"].copy()
    row = w.index[w["empty_ea"] == "False"][0]
    w.loc[row, "stratum"] = "elsewhere"
    code, err = _estimate(weighted, capsys, w)
    assert code == EXIT_INPUT and "different values of stratum" in err, err


def test_ea_not_in_the_census(weighted, capsys):
    w = weighted["weighted"].copy()
    ea = w["EA_CODE"].iloc[0]
    w.loc[w["EA_CODE"] == ea, "EA_CODE"] = "7" + ea  # a code the census does not have
    code, err = _estimate(weighted, capsys, w)
    assert code == EXIT_INPUT, err
    assert "not in the census frame" in err and f"7{ea}" in err


def test_probability_and_base_weight(weighted, capsys):
    w = weighted["weighted"].copy()
    row = w.index[w["empty_ea"] == "False"][2]
    bad = w.copy()
    bad.loc[row, "pi1"] = "1.5"
    code, err = _estimate(weighted, capsys, bad)
    assert code == EXIT_INPUT and "pi1 outside (0, 1]" in err, err
    bad = w.copy()
    bad.loc[row, "base_weight"] = str(2 * float(bad.loc[row, "base_weight"]))
    code, err = _estimate(weighted, capsys, bad)
    assert code == EXIT_INPUT and "not 1 / (pi1 · pi2)" in err, err
    # without its base weight the probabilities are still checked
    bad = w.drop(columns="base_weight")
    bad.loc[row, "pi2"] = "0"
    code, err = _estimate(weighted, capsys, bad)
    assert code == EXIT_INPUT and "pi2 outside (0, 1]" in err, err


def test_person_line_twice(weighted, capsys):
    w = weighted["weighted"]
    twice = pd.concat([w, w.iloc[[1]]], ignore_index=True)
    code, err = _estimate(weighted, capsys, twice)
    assert code == EXIT_INPUT and "a person is entered twice" in err, err


def test_missing_ea_in_a_weighted_file(weighted, capsys):
    w = weighted["weighted"]
    ea = w["EA_CODE"].iloc[0]
    code, err = _estimate(weighted, capsys, w[w["EA_CODE"] != ea],
                          "--selection", weighted["dir"] / "eas.csv")
    assert code == EXIT_INPUT, err
    assert f"EAs {ea} are not in the weighted file" in err
    assert "empty_ea" in err
    code, err = _estimate(weighted, capsys, w[w["EA_CODE"] != ea])
    assert code == EXIT_INPUT and "fewer EAs than the design selected" in err, err


def test_api_check_weighted(weighted):
    from migsurvey.inputs import ColumnMapping
    from migsurvey.interview_design import check_weighted
    from migsurvey.pipeline import load_census
    from migsurvey.spec import load_spec
    from surveycore import SurveyError

    spec = load_spec(weighted["dir"] / "spec.yaml")
    mapping = ColumnMapping.from_spec(spec, "interviews")
    persons = mapping.apply(weighted["weighted"], what="weighted persons file", spec=spec)
    eas = load_census(spec).eas
    check_weighted(persons, spec, mapping, eas=eas)
    bad = persons.copy()
    bad.loc[bad.index[0], "region"] = "9"
    with pytest.raises(SurveyError, match="different values of region"):
        check_weighted(bad, spec, mapping, eas=eas)


def test_weighted_households_file_keeps_every_ea(weighted, capsys):
    """The weighted households file (MI 1.4) keeps the EA without respondents as a row of
    weight 0; one that lost an EA is refused."""
    d = weighted["dir"]
    hh = pd.read_csv(d / "weighted_hh.csv", dtype=str, keep_default_na=False)
    assert set(hh["EA_CODE"]) == set(weighted["selected"]["EA_CODE"])
    w = weighted["weighted"]
    w.to_csv(d / "w_ok.csv", index=False)
    capsys.readouterr()
    assert run("estimate", "--spec", d / "spec.yaml", "--persons", d / "w_ok.csv",
               "--households", d / "weighted_hh.csv", "--selection", d / "eas.csv",
               "--out", d / "ind_hh.csv", "-q") == 0, capsys.readouterr().err
    ea = hh["EA_CODE"].iloc[0]
    hh[hh["EA_CODE"] != ea].to_csv(d / "hh_cut.csv", index=False)
    code = run("estimate", "--spec", d / "spec.yaml", "--persons", d / "w_ok.csv",
               "--households", d / "hh_cut.csv", "--selection", d / "eas.csv",
               "--out", d / "ind_hh.csv", "-q")
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and f"EAs {ea} are not in the households file" in err, err
