"""Estimates whose domains meet an imprecise calibration cell are not flagged reliable.

When the sample total of a calibration cell has a CV above ``diagnostics.cell_cv``, every
calibrated estimate that adds the cell up is biased by a relative amount of order CV² and its
linearised SE leaves out the g-weights' variability: its flag is lowered to the quality
rule's caution flag, and the reason is recorded. Files are made here (``office_route_data``:
EA codes with leading zeros, the office's names, sex 1/2); the threshold is set between the
two least precise cells so that exactly one cell is imprecise.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from office_route_data import office_survey, run

from migsurvey.diagnostics import cell_cvs

CAL = ("weighting:\n  - nonresponse: {cells: [region]}\n"
       "  - calibrate: {margins: [[region, sex]], method: raking}\n"
       "diagnostics: {cell_cv: LIMIT}")


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    d = tmp_path_factory.mktemp("caution")
    s = office_survey(d, weighting=CAL.replace("LIMIT", "100"))
    text = (d / "spec.yaml").read_text().replace("by: [[], [region]]",
                                                 "by: [[], [region], [sex]]")
    (d / "spec.yaml").write_text(text)
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    spec = load_spec(d / "spec.yaml")
    before, _o, wt = estimate_interviews(spec, d / "households.csv", d / "persons.csv")
    cv = cell_cvs(wt.persons, [["region", "sex"]], spec).sort_values("cv")
    limit = float(cv["cv"].iloc[-2:].mean())  # only the least precise cell is above
    (d / "caution.yaml").write_text(text.replace("cell_cv: 100", f"cell_cv: {limit!r}"))
    s.update(before=before, worst=cv.iloc[-1], limit=limit)
    return s


def _affected(table: pd.DataFrame, region, sex) -> np.ndarray:
    r, s = table["region"].astype(str), table["sex"].astype(str)
    return (((r == "_T") | (r == str(region))) & ((s == "_T") | (s == sex))).to_numpy()


def test_flags_of_the_domains_meeting_the_cell_are_lowered(survey, capsys):
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d = survey["dir"]
    region, sex = survey["worst"]["cell"].split(" × ")
    before = survey["before"]
    assert not before["reliability"].eq("caution").all()
    table, objects, _wt = estimate_interviews(load_spec(d / "caution.yaml"),
                                              d / "households.csv", d / "persons.csv")
    hit = _affected(before, region, sex)
    assert hit.any() and (~hit).any()
    was = before["reliability"].to_numpy()
    now = table["reliability"].to_numpy()
    # in the domains meeting the cell: reliable → caution; elsewhere: unchanged
    np.testing.assert_array_equal(now[hit], np.where(was[hit] == "reliable", "caution",
                                                     was[hit]))
    np.testing.assert_array_equal(now[~hit], was[~hit])
    lowered = hit & (was == "reliable")
    assert lowered.any() and (table["flag"].to_numpy()[lowered] == "E").all()
    # the numbers themselves do not change
    np.testing.assert_allclose(table["estimate"], before["estimate"], rtol=1e-12)
    meta = objects[next(iter(objects))].metadata
    assert meta["calibration_caution"]["lowered"] == int(lowered.sum())
    assert meta["calibration_caution"]["cells"][0]["cell"] == f"{region} × {sex}"
    assert "use with caution" in meta["quality_notes"][0]
    # the command line: the same flags, and the reason in the console and beside the file
    capsys.readouterr()
    assert run("estimate", "--spec", d / "caution.yaml", "--out", d / "i.csv", "-q") == 0
    err = capsys.readouterr().err
    assert f"{int(lowered.sum())} estimates flagged 'use with caution' (E)" in err
    assert f"region × sex = {region} × {sex}" in err
    cli = pd.read_csv(d / "i.csv")
    np.testing.assert_array_equal(cli["reliability"].to_numpy(), now)
    side = json.loads((d / "i.csv.json").read_text())
    assert any("use with caution" in w for w in side["warnings"])
