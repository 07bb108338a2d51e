"""Integer strata are coded per first-stage unit (no row-level codes); text strata row by row.
Both routes must build the same stages and give the same estimates, refusals included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from surveycore import SurveyError


def _office_file(seed: int, nest: bool, shuffle: bool) -> pd.DataFrame:
    """Strata numbered out of the order of the EA ids (EA 1 in stratum 7 …), two stages."""
    rng = np.random.default_rng(seed)
    n_ea = 24
    stratum_of_ea = rng.permutation(np.repeat(np.arange(3, 9), 4))  # 6 strata of 4 EAs
    ea = np.repeat(np.arange(1, n_ea + 1), rng.integers(2, 6, n_ea))
    if nest:  # EA numbers restart within each stratum
        ea_in = pd.Series(ea).groupby(stratum_of_ea[ea - 1]).rank(method="dense").astype(int).to_numpy()
    frame = pd.DataFrame({
        "stratum": stratum_of_ea[ea - 1], "ea": ea_in if nest else ea,
        "hh": np.arange(len(ea)) % 3, "w": rng.uniform(5, 20, len(ea)), "y": rng.normal(10, 3, len(ea)),
        "N1": 40, "N2": 12,
    })
    frame["hh"] = frame["ea"] * 10 + frame["hh"]
    return frame.sample(frac=1.0, random_state=seed) if shuffle else frame


@pytest.mark.parametrize("nest", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("stages", [1, 2])
def test_integer_and_text_strata_build_the_same_design(nest, shuffle, stages):
    frame = _office_file(7, nest, shuffle)
    text = frame.assign(stratum=frame["stratum"].map(lambda v: f"S{v:02d}"))  # same order as the numbers
    ids = ["ea", "hh"][:stages]
    fpc = ["N1", "N2"][:stages]
    a = SurveyDesign(frame, ids=ids, strata="stratum", fpc=fpc, weights="w", nest=nest)
    b = SurveyDesign(text, ids=ids, strata="stratum", fpc=fpc, weights="w", nest=nest)
    for sa, sb in zip(a.stages, b.stages):
        for field in ("cluster", "stratum", "parent", "n_sampled", "popsize"):
            np.testing.assert_array_equal(getattr(sa, field), getattr(sb, field))
    np.testing.assert_array_equal(a.stages[0].labels, [int(v[1:]) for v in b.stages[0].labels])
    for by in (None, "stratum"):
        ma, mb = a.mean("y", by=by), b.mean("y", by=by)
        np.testing.assert_array_equal(ma["se"], mb["se"])
        np.testing.assert_array_equal(ma["df"], mb["df"])


def test_fpc_varying_within_a_stratum_is_refused_on_both_routes():
    frame = _office_file(3, False, True)
    ea_of_first = frame["ea"].iloc[0]
    stratum = frame.loc[frame["ea"] == ea_of_first, "stratum"].iloc[0]
    other_ea = frame.loc[(frame["stratum"] == stratum) & (frame["ea"] != ea_of_first), "ea"].iloc[0]
    bad = frame.assign(N1=np.where(frame["ea"] == other_ea, 41, 40))  # constant within EAs, not within the stratum
    for strata in (bad, bad.assign(stratum=bad["stratum"].astype(str))):
        with pytest.raises(SurveyError, match="fpc varies within strata at stage 1"):
            SurveyDesign(strata, ids="ea", strata="stratum", fpc="N1", weights="w")


def test_ea_ids_crossing_strata_are_refused_without_nest_on_both_routes():
    frame = _office_file(5, True, False)  # EA numbers restart within strata
    for strata in (frame, frame.assign(stratum=frame["stratum"].astype(str))):
        with pytest.raises(SurveyError, match="more than one stratum"):
            SurveyDesign(strata, ids="ea", strata="stratum", weights="w")
