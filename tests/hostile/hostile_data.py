"""Small frames the way an office's files look, for the hostile-input suite."""

from __future__ import annotations

import numpy as np
import pandas as pd


def design_frame() -> pd.DataFrame:
    """48 persons in 4 strata × 3 PSUs: weights ``w`` (>= 1), analysis ``y``, ``z``, categories
    ``sex`` (F/M) and ``g`` (text codes with leading zeros)."""
    rng = np.random.default_rng(20261201)
    n = 48
    stratum = np.repeat(["S01", "S02", "S03", "S04"], 12)
    psu = np.array([f"{s}-{k:02d}" for s, k in zip(stratum, np.tile(np.repeat([1, 2, 3], 4), 4))])
    return pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "w": rng.uniform(1.0, 5.0, n).round(2),
            "y": rng.normal(10, 3, n).round(3),
            "z": rng.uniform(1, 4, n).round(3),
            "sex": np.where(np.arange(n) % 2 == 0, "F", "M"),
            "g": np.array(["01", "02", "03"])[np.arange(n) % 3],
            "x": rng.normal(size=n).round(3),
        },
        index=pd.RangeIndex(100, 100 + n),
    )


MARGINS = {"sex": {"F": 300.0, "M": 250.0}}


def design(df: pd.DataFrame | None = None):
    from estimation import SurveyDesign

    df = design_frame() if df is None else df
    return SurveyDesign(df, ids="psu", strata="stratum", weights="w")


def module_text(constraint: str = "regex(., '^[a-z]+$')") -> str:
    """A one-question module (YAML) with a text question ``t`` and a constraint."""
    return (
        "module: probe\nversion: 1.0.0\ntitle: Probe\nquestions:\n"
        "  - name: t\n    type: text\n    label: Your answer\n"
        f"    constraint: \"{constraint}\"\n"
    )
