"""Calibration cells whose sample totals are imprecise are reported.

A calibration to a cell multiplies its weights by about ``T_c / t̂_c``; when the sample total
``t̂_c`` rests on a few heavily weighted households (the low-prevalence stratum of a screening
design), ``E[T_c / t̂_c] ≈ 1 + CV²(t̂_c)`` biases the calibrated shares and the linearised SE
misses the g-weights' variability. The CV of every cell is the design's linearised SE of the
Horvitz–Thompson cell total, checked here against the ultimate-cluster formula written out
with numpy, and the warning is checked on an office's own census, sample and interviews.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, OFFICE_SCREENING, fieldwork, office_census

from migsurvey.cli import main
from migsurvey.diagnostics import cell_cvs
from migsurvey.pipeline import load_census, weight_interviews
from migsurvey.spec import load_spec, parse_spec
from surveycore import SurveyWarning


def _persons(seed: int = 4) -> pd.DataFrame:
    """Three strata ("01".."03") of 3 EAs drawn with π₁ < 1, 4–6 households each."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, region in enumerate(("01", "02", "03")):
        for e in range(3):
            ea = f"{10 * s + e + 1:04d}"
            for h in range(int(rng.integers(4, 7))):
                size = int(rng.integers(1, 5))
                w = float(rng.choice([3.5, 12.0]))
                rows += [{"ea_id": ea, "household_id": h + 1, "hh_key": f"{ea}/{h + 1}",
                          "region": region, "stratum": f"{region}:low", "pi1": 0.3,
                          "sex": str(rng.choice(["F", "M"])), "household_weight": w}
                         for _ in range(size)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("unknown_sex", [0, 2])
def test_cell_cv_is_the_ultimate_cluster_cv_of_the_cell_total(unknown_sex):
    persons = _persons()
    # a person whose sex is unknown is in no cell of a margin with sex
    persons.loc[persons.index[[0, 7]][:unknown_sex], "sex"] = None
    spec = parse_spec("estimation: {lonely_psu: fail}\n")
    got = cell_cvs(persons, [["region", "sex"], ["sex"]], spec).set_index(["margin", "cell"])
    w = persons["household_weight"].to_numpy()
    for (margin, cell), row in got.iterrows():
        cols = margin.split(" × ")
        inside = np.logical_and.reduce([(persons[c] == v).to_numpy()
                                        for c, v in zip(cols, cell.split(" × "))])
        # v = Σ_h n_h/(n_h − 1) Σ_j (z_hj − z̄_h)², z_hj the EA totals of w·1{c}
        z = pd.Series(w * inside).groupby([persons["stratum"], persons["ea_id"]]).sum()
        dev = z - z.groupby(level=0).transform("mean")
        n_h = z.groupby(level=0).transform("size")
        v = float((n_h / (n_h - 1) * dev**2).sum())
        total = float((w * inside).sum())
        assert row["estimate"] == pytest.approx(total, rel=1e-12)
        assert row["cv"] == pytest.approx(np.sqrt(v) / total, rel=1e-10)
        assert row["eas"] == persons.loc[inside, "ea_id"].nunique()
        assert row["households"] == persons.loc[inside, "hh_key"].nunique()
    assert set(got.index.get_level_values("cell")) == {
        f"{r} × {s}" for r in ("01", "02", "03") for s in ("F", "M")} | {"F", "M"}


SPEC = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  disposition: DISP
""" + OFFICE_SCREENING + """\
  - calibrate: {margins: MARGINS, method: raking, cluster: household}
estimation:
  indicators: [MI1.1]
  by: [[]]
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    d = tmp_path_factory.mktemp("cells")
    census = office_census(seed=17, n_ea=48)
    census.to_csv(d / "census.csv", index=False)
    (d / "spec.yaml").write_text(SPEC.replace("MARGINS", "[region]"), encoding="utf-8")
    assert main(["select", "--spec", str(d / "spec.yaml"), "--out", str(d / "selected.csv"),
                 "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    households, persons = fieldwork(selected, census, seed=5)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    return d


def _weight(office, margins: str, monkeypatch):
    monkeypatch.chdir(office)
    (office / "spec.yaml").write_text(SPEC.replace("MARGINS", margins), encoding="utf-8")
    spec = load_spec(str(office / "spec.yaml"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _iv, weighted = weight_interviews(spec, "households.csv", "persons.csv",
                                          census=load_census(spec))
    cells = [str(w.message) for w in caught if issubclass(w.category, SurveyWarning)
             and "whose sample totals have a CV above" in str(w.message)]
    return weighted, cells, spec


def test_crossed_cells_of_a_small_screening_sample_are_reported(office, monkeypatch):
    weighted, cells, spec = _weight(office, "[[region, sex], age_group]", monkeypatch)
    assert len(cells) == 1 and cells == [m for m in weighted.diagnostics if "CV above" in m]
    cv = cell_cvs(weighted.persons, [["region", "sex"], ["age_group"]], spec)
    worst = cv.sort_values("cv").iloc[-1]
    assert worst["cv"] > 0.1
    assert f"{worst['margin']} = {worst['cell']}: CV {100 * worst['cv']:.0f} %" in cells[0]
    assert f"{np.mean(cv['cv'] ** 2) * 100:.1f} %" in cells[0]
    assert "integrated calibration (weighting[2])" in cells[0]


def test_a_national_margin_the_sample_estimates_well_is_not_reported(office, monkeypatch):
    weighted, cells, spec = _weight(office, "[sex]", monkeypatch)
    assert cells == []
    assert cell_cvs(weighted.persons, [["sex"]], spec)["cv"].max() < 0.1
