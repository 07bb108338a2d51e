"""A small office survey for the route's checks: census made with plain numpy, selection
through the command line, fieldwork with AAPOR dispositions (a uniquely named module).

``office_survey(folder)`` writes ``census.csv`` (``migsurvey_office``: EA codes as text with
leading zeros, the office's column names, sex coded 1/2), ``spec.yaml`` (16 EAs in 8 strata of
4 regions, none taken with certainty), ``selected.csv`` and ``eas.csv`` (``migsurvey select
--out … --psus …``), and interview files in which every selected household is interviewed
(1.1) except the vacant dwellings given by ``vacant`` (4.1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from migsurvey_office import OFFICE_COLUMNS, OFFICE_DESIGN, office_census

from migsurvey.cli import EXIT_OK, main

SPEC = "country: KEN\nreference_year: 2025\n" + OFFICE_COLUMNS + """\
  line: LINE
  citizenship: CITIZ
  disposition: DISP
""" + OFFICE_DESIGN + """\
WEIGHTING
estimation:
  indicators: [MI1.1]
  by: [[], [region]]
output: {formats: [csv]}
"""

TEXT = {"dtype": {"EA_CODE": str}}


def office_survey(d: Path, *, weighting: str = "weighting: []", vacant=None,
                  spec: str | None = None) -> dict:
    """Write the survey's files in ``d``; ``vacant(selected) -> bool array`` marks the
    households found vacant (4.1). Returns the frames written and the folder."""
    census = office_census(seed=3, n_ea=80)
    census.to_csv(d / "census.csv", index=False)
    (d / "spec.yaml").write_text((spec or SPEC).replace("WEIGHTING", weighting),
                                 encoding="utf-8")
    assert main(["select", "--spec", str(d / "spec.yaml"), "--out", str(d / "selected.csv"),
                 "--psus", str(d / "eas.csv"), "-q"]) == EXIT_OK
    selected = pd.read_csv(d / "selected.csv", **TEXT)
    assert selected["pi1"].max() < 1  # no EA taken with certainty
    out = np.zeros(len(selected), bool) if vacant is None else np.asarray(vacant(selected))
    households = selected.assign(DISP=np.where(out, 4.1, 1.1))
    done = households.loc[households["DISP"] < 2, ["EA_CODE", "HH_NO"]]
    persons = census.merge(done, on=["EA_CODE", "HH_NO"]).drop(columns="REGION")
    households.to_csv(d / "households.csv", index=False)
    persons.to_csv(d / "persons.csv", index=False)
    return {"dir": d, "census": census, "selected": selected, "households": households,
            "persons": persons}


def run(*argv) -> int:
    return main([str(a) for a in argv])
