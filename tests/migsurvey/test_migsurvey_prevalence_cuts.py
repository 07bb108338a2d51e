"""A prevalence equal to a cut-off goes to the class above it, in the sampling layer and in the
pipeline's frame (cuts [0.05, 0.15]: < 5 %, 5 % to < 15 %, ≥ 15 %)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from migsurvey.pipeline import build_frame
from migsurvey.spec import parse_spec
from sampling import Frame, prevalence_class, prevalence_strata

# 20 persons per EA: 0, 1, 2, 3, 4 foreign-born = 0 %, 5 %, 10 %, 15 %, 20 %
EAS = pd.DataFrame({"EA_CODE": ["0001", "0002", "0003", "0004", "0005", "0006"],
                    "prov": ["Norte"] * 6, "hh": [6] * 6, "pop": [20] * 6,
                    "born_abroad": [0, 1, 2, 3, 4, 0]})
EXPECTED = [0, 1, 1, 2, 2, 0]  # by hand: a share at a cut goes up


def test_prevalence_class_closed_below():
    np.testing.assert_array_equal(prevalence_class([0.0, 0.049, 0.05, 0.1, 0.15, 0.2], [0.05, 0.15]),
                                  [0, 0, 1, 1, 2, 2])


def test_sampling_and_pipeline_agree_at_the_cuts():
    fr = Frame(EAS, "EA_CODE")
    got = prevalence_strata(fr, "born_abroad", "pop", cutoffs=[0.05, 0.15]).data
    np.testing.assert_array_equal(got["prevalence_stratum"] - 1, EXPECTED)
    spec = parse_spec("frame: {psu: EA_CODE, size: hh, prevalence: born_abroad, population: pop}\n"
                      "strata: {by: [prov], cuts: [0.05, 0.15], collapse_below: 1}\n")
    frame = build_frame(EAS, spec)
    labels = np.array(spec["strata"]["labels"], dtype=object)
    assert frame["prevalence_class"].tolist() == labels[EXPECTED].tolist()
