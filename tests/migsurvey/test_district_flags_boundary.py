"""The report's district table: Fay–Herriot shares of a boundary fit (σ̂²_u = 0) are flagged
caution at best, as indicator_table flags them; otherwise by their CV."""

import numpy as np
import pandas as pd

from migsurvey.small_area import flag_districts


def test_boundary_fit_lowers_reliable_district_flags():
    t = pd.DataFrame({"district": ["001", "002", "003"], "n": [80, 60, 0],
                      "direct_cv": [20.0, 40.0, np.nan], "cv": [10.0, 20.0, 40.0],  # per cent
                      "in_sample": [True, True, False]})
    spec = {"quality": {"preset": "statcan_cchs", "disclosure": False}}
    plain = flag_districts(t, np.zeros(3), spec)
    # Statistics Canada's CCHS guideline, written here: CV ≤ 16.5 % release, ≤ 33.3 % "E", else "F"
    assert plain["flag"].tolist() == ["", "E", "F"]
    assert plain["reliability"].tolist() == ["reliable", "caution", "unreliable"]
    lowered = flag_districts(t, np.zeros(3), spec, boundary=True)
    assert lowered["flag"].tolist() == ["E", "E", "F"]
    assert lowered["reliability"].tolist() == ["caution", "caution", "unreliable"]
