"""A selected EA deleted from the households file is refused, never silently dropped.

The census and the interview files are made here (``office_route_data``: EA codes with
leading zeros, the office's names, sex 1/2). The selection file of ``migsurvey select``
(``--psus``: the selected EAs, or ``--out``: the selected households) names the missing EAs;
without it, the EAs of each stratum are counted against the allocation of ``sample.psus``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from office_route_data import TEXT, office_survey, run

from migsurvey.cli import EXIT_INPUT


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    return office_survey(tmp_path_factory.mktemp("missing"))


def _files(survey, tmp_path, drop=(), extra=None):
    hh = survey["households"]
    hh = hh[~hh["EA_CODE"].isin(drop)]
    if extra is not None:
        hh = pd.concat([hh, extra], ignore_index=True)
    pp = survey["persons"][survey["persons"]["EA_CODE"].isin(hh["EA_CODE"])]
    hh.to_csv(tmp_path / "hh.csv", index=False)
    pp.to_csv(tmp_path / "pp.csv", index=False)
    return tmp_path / "hh.csv", tmp_path / "pp.csv"


def _estimate(survey, capsys, hh, pp, *extra):
    d = survey["dir"]
    capsys.readouterr()
    code = run("estimate", "--spec", d / "spec.yaml", "--households", hh, "--persons", pp,
               "--out", hh.parent / "ind.csv", "-q", *extra)
    err = capsys.readouterr().err
    assert "internal error" not in err
    return code, err


def test_complete_files_pass_both_checks(survey, tmp_path, capsys):
    hh, pp = _files(survey, tmp_path)
    for extra in ((), ("--selection", survey["dir"] / "eas.csv"),
                  ("--selection", survey["dir"] / "selected.csv")):
        code, err = _estimate(survey, capsys, hh, pp, *extra)
        assert code == 0, err


def test_deleted_ea_is_named_from_the_selection_file(survey, tmp_path, capsys):
    gone = sorted(survey["selected"]["EA_CODE"].unique())[5]
    assert gone.startswith("00")  # a code with leading zeros
    hh, pp = _files(survey, tmp_path, drop=[gone])
    for sel in ("eas.csv", "selected.csv"):
        code, err = _estimate(survey, capsys, hh, pp, "--selection", survey["dir"] / sel)
        assert code == EXIT_INPUT, err
        assert "selected EAs missing from the households file: 1 EA of the 16" in err
        assert f"EAs {gone} are not in the households file" in err
        assert sel in err and "--households" in err and "'EA_CODE'" in err
        assert "non-responding EA" in err and "2.x" in err and "4.x" in err


def test_deleted_ea_is_refused_from_the_allocation(survey, tmp_path, capsys):
    """Without the selection file the stratum that lost an EA is named, with its count."""
    sel = survey["selected"]
    gone = sorted(sel["EA_CODE"].unique())[5]
    stratum = sel.loc[sel["EA_CODE"] == gone, "stratum"].iloc[0]
    planned = sel.loc[sel["stratum"] == stratum, "EA_CODE"].nunique()
    hh, pp = _files(survey, tmp_path, drop=[gone])
    code, err = _estimate(survey, capsys, hh, pp)
    assert code == EXIT_INPUT, err
    assert "fewer EAs than the design selected" in err
    assert f"{stratum}: {planned - 1} of {planned}" in err
    assert "--selection" in err and "non-responding EA" in err


def test_ea_outside_the_selection_is_refused(survey, tmp_path, capsys):
    sel = survey["selected"]
    other = sel[sel["EA_CODE"] == sel["EA_CODE"].iloc[0]].assign(EA_CODE="0999")
    hh, pp = _files(survey, tmp_path, extra=other.assign(DISP=4.1))
    code, err = _estimate(survey, capsys, hh, pp, "--selection", survey["dir"] / "eas.csv")
    assert code == EXIT_INPUT and "0999" in err, err


def test_api_takes_the_selection(survey, tmp_path):
    from migsurvey.pipeline import estimate_interviews, weight_interviews
    from migsurvey.spec import load_spec
    from surveycore import SurveyError

    spec = load_spec(survey["dir"] / "spec.yaml")
    gone = sorted(survey["selected"]["EA_CODE"].unique())[2]
    hh, pp = _files(survey, tmp_path, drop=[gone])
    eas = pd.read_csv(survey["dir"] / "eas.csv", **TEXT)
    with pytest.raises(SurveyError, match=gone):
        weight_interviews(spec, hh, pp, selection=eas)
    with pytest.raises(SurveyError, match="fewer EAs"):
        estimate_interviews(spec, hh, pp)
    # coded as a non-responding EA (all its households 2.1) the survey is estimated
    full = survey["households"].assign(
        DISP=survey["households"]["DISP"].where(survey["households"]["EA_CODE"] != gone, 2.1))
    persons = survey["persons"][survey["persons"]["EA_CODE"] != gone]
    text = (survey["dir"] / "spec.yaml").read_text().replace(
        "weighting: []", "weighting:\n  - nonresponse: {cells: [region]}")
    (tmp_path / "nr.yaml").write_text(text.replace("census.csv",
                                                   str(survey["dir"] / "census.csv")))
    table, _o, _w = estimate_interviews(load_spec(tmp_path / "nr.yaml"), full, persons,
                                        selection=eas)
    assert table["estimate"].notna().all()
