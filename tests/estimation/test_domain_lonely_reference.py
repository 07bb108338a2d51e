"""R's survey.adjust.domain.lonely (tests/reference/domain_lonely.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reference_data import load_data

from estimation import SurveyDesign

REF = Path(__file__).parents[1] / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "domain_lonely.json").read_text())["cases"]}


def check(case_id, frame):
    case = CASES[case_id]
    np.testing.assert_allclose(frame["estimate"], np.ravel(case["estimate"]), rtol=1e-8)
    np.testing.assert_allclose(frame["se"], np.ravel(case["se"]), rtol=1e-8)


@pytest.mark.parametrize("lonely", ["adjust", "average"])
@pytest.mark.parametrize("adjust", [False, True])
def test_domain_lonely(lonely, adjust):
    st = load_data("apistrat")
    extra = load_data("apistrat_domain_lonely")
    st = st.assign(grp=extra["grp"].to_numpy(), cl=extra["cl"].to_numpy())
    d = SurveyDesign(st, ids="cl", strata="stype", weights="pw", nest=True, lonely_psu=lonely,
                     adjust_domain_lonely=adjust)
    p = f"{lonely}_{'domain' if adjust else 'plain'}"
    check(f"{p}_by_mean", d.mean("api00", by="grp"))
    check(f"{p}_by_total", d.total("enroll", by="grp"))
    check(f"{p}_subset_mean", d.subset(d.data["grp"] == "A").mean("api00"))
