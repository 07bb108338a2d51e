"""Gaps in an office's interview files, and messages that speak the specification's language.

The census is made here with plain numpy (``migsurvey_office``), with one more region of a
single EA (an island): its stratum has one PSU. The selected households get AAPOR
dispositions, and the interview files are then damaged the way fieldwork damages them:
completed households whose persons were not entered, an emigrant roster collected but empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from migsurvey_office import OFFICE_COLUMNS, fieldwork, office_census

from migsurvey.cli import EXIT_FILE, EXIT_INPUT, main

SPEC = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  disposition: DISP
frame: {census: census.csv}
strata: {by: [region], cuts: [0.1], labels: [low, high]}
sample: {psus: 30}
selection:
  household: {screening: migrant_household, take: {migrant: 10, other: 6}}
interviews: {households: households.csv, persons: persons.csv, usual_residents: true}
weighting:
  - eligibility: {cells: [region]}
  - nonresponse: {cells: [screen]}
estimation:
  indicators: [MI1.1]
  by: [[]]
"""

ROSTER = ["EA_CODE", "HH_NO", "emigrant_sex", "emigrant_age", "emigrant_month_departure",
          "emigrant_year_departure", "emigrant_destination"]


def _census() -> pd.DataFrame:
    census = office_census(seed=31, n_ea=40)
    island = census[census["EA_CODE"] == "0001"].assign(EA_CODE="0041", REGION=5)
    return pd.concat([census, island], ignore_index=True)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """census → select through the CLI, then the office's fieldwork (all households)."""
    d = tmp_path_factory.mktemp("gaps")
    census = _census()
    census.to_csv(d / "census.csv", index=False)
    spec = d / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert main(["select", "--spec", str(spec), "--out", str(d / "selected.csv"), "-q"]) == 0
    selected = pd.read_csv(d / "selected.csv", dtype={"EA_CODE": str})
    assert "0041" in set(selected["EA_CODE"])  # the island's EA is taken with certainty
    households, persons = fieldwork(selected, census, seed=3)
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    # three completed households whose persons were not entered
    done = households.loc[np.floor(households["DISP"]) == 1, ["EA_CODE", "HH_NO"]]
    gone = done.iloc[[0, 7, 20]]
    keys = persons["EA_CODE"] + "/" + persons["HH_NO"].astype(str)
    gone_keys = (gone["EA_CODE"] + "/" + gone["HH_NO"].astype(str)).tolist()
    persons[~keys.isin(gone_keys)].to_csv(d / "persons_gap.csv", index=False)
    # a roster collected in every household, in which nobody reported an emigrant
    pd.DataFrame(columns=ROSTER).to_csv(d / "roster_empty.csv", index=False)
    # a roster whose year of departure has the office's own name
    roster = done.iloc[:4].assign(emigrant_sex=["M", "F", "M", "F"], emigrant_age=[24, 31, 19, 40],
                                  emigrant_month_departure=[3, 11, 6, 8],
                                  YEAR_DEP=[2025, 2024, 2025, 2023], emigrant_destination="UGA")
    roster.to_csv(d / "roster_own_names.csv", index=False)
    # one responding household left in a class of a certainty EA sampled at a fraction < 1:
    # a stratum with a single PSU (a class taken whole has no variance and is not lonely)
    cls = (households["EA_CODE"] == "0041") & (households["screen"] == "other")
    out = households.index[cls & (np.floor(households["DISP"]) == 1)][1:]
    lonely = households.assign(DISP=households["DISP"].where(~households.index.isin(out), 2.1))
    lonely.to_csv(d / "households_lonely.csv", index=False)
    left = lonely.loc[np.floor(lonely["DISP"]) == 1, ["EA_CODE", "HH_NO"]]
    persons.merge(left, on=["EA_CODE", "HH_NO"]).to_csv(d / "persons_lonely.csv", index=False)
    return {"dir": d, "census": census, "households": households, "persons": persons,
            "gone": gone_keys}


def _spec(office, text, name):
    p = office["dir"] / name
    p.write_text(text, encoding="utf-8")
    return p


def _run(capsys, *argv):
    code = main(list(map(str, argv)))
    err = capsys.readouterr().err
    assert "internal error" not in err
    return code, err


def _with(text: str, **lines: str) -> str:
    """SPEC with whole lines replaced: ``_with(SPEC, interviews="interviews: {...}")``."""
    out = []
    for line in text.splitlines():
        key = line.strip().split(":")[0].lstrip("- ")
        out.append(lines.pop(key) if key in lines and not line.startswith(" " * 4) else line)
    assert not lines, lines
    return "\n".join(out) + "\n"


IV = "interviews: {households: households.csv, persons: persons.csv, usual_residents: true"


# -------------------------------------------------------- completed households without persons


def test_completed_households_without_persons_are_refused(office, capsys):
    """Unknown is never no: a 1.x household with no person row is not a household of nobody.
    Before, MI 1.1's count dropped silently (exit 0, no warning)."""
    spec = _spec(office, _with(SPEC, interviews=IV.replace("persons.csv", "persons_gap.csv")
                               + "}"), "gap.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "gap.csv")
    assert code == EXIT_INPUT, err
    assert f"{spec}:16:" in err and "interviews.persons" in err
    assert "3 households with a 1.x disposition" in err
    assert all(k in err for k in office["gone"])  # EA/household ids as in the files
    assert "persons_gap.csv" in err and "households.csv" in err
    assert "empty_completes: nonresponse" in err and "2.x" in err
    # the same refusal in Python, and for --persons given on the command line
    code, err = _run(capsys, "weight", "--spec", office["dir"] / "spec.yaml", "--persons",
                     office["dir"] / "persons_gap.csv", "--out", office["dir"] / "w.csv")
    assert code == EXIT_INPUT and "3 households" in err


def test_completed_households_without_persons_as_nonrespondents(office, capsys):
    """``interviews.empty_completes: nonresponse`` recodes them 2.0 with a warning: the numbers
    are those of a households file where the office coded them 2.0 itself."""
    from migsurvey.pipeline import estimate_interviews
    from migsurvey.spec import load_spec

    d = office["dir"]
    text = _with(SPEC, interviews=IV.replace("persons.csv", "persons_gap.csv")
                 + ", empty_completes: nonresponse}")
    spec = _spec(office, text, "gap_nr.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", d / "gap_nr.csv", "-q")
    assert code == 0, err
    assert "warning: 3 households with a 1.x disposition" in err and "2.0" in err
    cli = pd.read_csv(d / "gap_nr.csv")
    hh = office["households"].copy()
    keys = hh["EA_CODE"] + "/" + hh["HH_NO"].astype(str)
    hh.loc[keys.isin(office["gone"]), "DISP"] = 2.0
    own = load_spec(_spec(office, _with(SPEC, interviews=IV + "}"), "plain.yaml"))
    api, objects, _ = estimate_interviews(own, hh, pd.read_csv(d / "persons_gap.csv",
                                                               dtype={"EA_CODE": str}))
    np.testing.assert_allclose(cli["estimate"], api["estimate"], rtol=1e-10)
    np.testing.assert_allclose(cli["se"], api["se"], rtol=1e-10)
    meta = pd.read_json(d / "gap_nr.csv.json", typ="series")
    assert any("empty_completes" in w for w in meta["warnings"])


# -------------------------------------------------------- the emigrant roster


def test_empty_roster_is_a_known_zero(office, capsys):
    """A roster collected with no row: MI 1.4 is 0 with SE 0, flagged as the quality rules
    flag a zero estimate (CV undefined: judged on its sample size, here no contributor)."""
    from estimation.indicators.quality import get_rule

    d = office["dir"]
    text = _with(SPEC, interviews=IV + ", emigrants: roster_empty.csv}",
                 indicators="  indicators: [MI1.4]", by="  by: [[], [sex]]")
    for preset in ("statcan_cchs", "eurostat"):
        spec = _spec(office, text + f"quality: {{preset: {preset}, suppress: false}}\n",
                     "roster_empty.yaml")
        out = d / f"mi14_{preset}.csv"
        code, err = _run(capsys, "estimate", "--spec", spec, "--out", out, "-q")
        assert code == 0, err
        t = pd.read_csv(out, keep_default_na=False, na_values=[""])
        assert len(t) == 1 and t["sex"].iloc[0] == "_T"  # no emigrant: no cell by sex
        row = t.iloc[0]
        assert row["estimate"] == 0 and row["se"] == 0 and row["ci_low"] == row["ci_high"] == 0
        assert row["n"] == 0
        flag, reliability = get_rule(preset).assess(np.array([np.nan]), np.array([0]))
        assert (row["flag"], row["reliability"]) == (flag[0], reliability[0])
        assert row["reliability"] != "reliable"  # both rules: too few observations
    # published with the default quality.suppress: the unreliable zero is withheld
    spec = _spec(office, text, "roster_empty_default.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", d / "mi14.csv", "-q")
    assert code == 0, err


def test_roster_refusals_name_the_spec(office, capsys):
    """A roster whose year of departure is under another name: the hint is YAML for the key
    of the specification, not Python; mapping it as the hint says works."""
    from migsurvey.pipeline import weight_interviews
    from migsurvey.spec import load_spec

    d = office["dir"]
    text = _with(SPEC, interviews=IV + ", emigrants: roster_own_names.csv}",
                 indicators="  indicators: [MI1.4]")
    spec = _spec(office, text, "roster.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", d / "r.csv")
    assert code == EXIT_INPUT, err
    assert f"{spec}:16:" in err and "interviews.emigrants" in err
    assert "columns: {emigrant_year_departure: YOUR_COL}" in err
    assert "columns={" not in err and "argument: roster" not in err
    fixed = text.replace("  disposition: DISP\n",
                         "  disposition: DISP\n  emigrant_year_departure: YEAR_DEP\n")
    fixed = _spec(office, fixed, "roster_ok.yaml")
    code, err = _run(capsys, "estimate", "--spec", fixed, "--out", d / "r.csv", "-q")
    assert code == 0, err
    _iv, wt = weight_interviews(load_spec(fixed), d / "households.csv", d / "persons.csv")
    records = wt.households[wt.households["emigrant_record"] == 1]
    assert len(records) == 4 and records["emigrant_12m"].sum() == 2  # 3/2025 and 6/2025


# -------------------------------------------------------- mistakes found when the survey runs

RUN_CASES = [
    # (what, spec text, exit code, key, line, words in the message, words that must not be)
    ("bootstrap with a single-PSU stratum", _with(SPEC, interviews=IV.replace(
        "households.csv", "households_lonely.csv").replace("persons.csv", "persons_lonely.csv") + "}")
     + "  variance: bootstrap\n", EXIT_INPUT, "estimation.variance", 23, "estimation.variance: JKn",
     "type="),
    ("MI1.2 without its questions", _with(SPEC, indicators="  indicators: [MI1.1, MI1.2]"),
     EXIT_INPUT, "estimation.indicators[1]", 21,
     "questions citizenship, citizenship_acquired, year_citizenship", "argument: estimation."
     "indicators\n"),
    ("missing interview file", _with(SPEC, interviews=IV.replace("persons.csv", "nobody.csv")
                                     + "}"), EXIT_FILE, "interviews.persons", 16, "not found",
     None),
    ("completed households without persons", _with(SPEC, interviews=IV.replace(
        "persons.csv", "persons_gap.csv") + "}"), EXIT_INPUT, "interviews.persons", 16,
     "their persons are unknown", None),
    ("roster year under another name", _with(SPEC, interviews=IV + ", emigrants: "
     "roster_own_names.csv}", indicators="  indicators: [MI1.4]"), EXIT_INPUT,
     "interviews.emigrants", 16, "columns: {emigrant_year_departure", "columns={"),
]


@pytest.mark.parametrize("what, text, code, key, line, words, unwanted", RUN_CASES,
                         ids=[c[0] for c in RUN_CASES])
def test_run_mistake(office, capsys, what, text, code, key, line, words, unwanted):
    spec = _spec(office, text, "mistake.yaml")
    got, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "m.csv")
    assert got == code, err
    assert f"{spec}:{line}:" in err and key in err and words in err, err
    assert unwanted is None or unwanted not in err, err


def test_options_the_bootstrap_hint_gives_work(office, capsys):
    for extra in ("  variance: JKn\n", "  variance: bootstrap\n  lonely_psu: certainty\n"):
        spec = _spec(office, SPEC + extra, "variance.yaml")
        code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "v.csv",
                         "-q")
        assert code == 0, err


def test_mi12_refusal_names_what_derive_names(office, capsys):
    """The refusal and the warning of derive name the same missing questions."""
    import re

    spec = _spec(office, _with(SPEC, indicators="  indicators: [MI1.2]"), "mi12.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", office["dir"] / "m.csv")
    assert code == EXIT_INPUT
    warned = re.search(r"acquired_citizenship_period \(no question ([^)]*)\)", err).group(1)
    refused = re.search(r"lack the questions? ([^\n]*)", err).group(1)
    assert warned == refused == "citizenship, citizenship_acquired, year_citizenship"


def test_unknown_departure_years_are_counted_as_records_of_households(office, capsys):
    """Three emigrant records of two households without a year of departure: MI 1.4 is
    refused, and the message counts records and households as they are."""
    d = office["dir"]
    hh = office["households"]
    done = hh.loc[np.floor(hh["DISP"]) == 1, ["EA_CODE", "HH_NO"]]
    roster = done.iloc[[0, 0, 1, 2]].assign(
        emigrant_sex=["M", "F", "M", "F"], emigrant_age=[24, 31, 19, 40],
        emigrant_month_departure=[3, 11, 6, 8],
        emigrant_year_departure=[np.nan, np.nan, np.nan, 2025], emigrant_destination="UGA")
    roster.to_csv(d / "roster_unknown_year.csv", index=False)
    text = _with(SPEC, interviews=IV + ", emigrants: roster_unknown_year.csv}",
                 indicators="  indicators: [MI1.4]")
    spec = _spec(office, text, "roster_unknown.yaml")
    code, err = _run(capsys, "estimate", "--spec", spec, "--out", d / "u.csv")
    assert code == EXIT_INPUT, err
    assert "MI1.4 cannot be estimated" in err
    assert "unknown for 3 records of 2 households" in err
