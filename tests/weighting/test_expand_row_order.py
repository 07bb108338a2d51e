"""Nonrespondents' part of the linearised variance does not depend on the order of the files.

Households of 12 EAs in 3 strata; the EAs of one stratum were taken with certainty, so there
the households are the PSUs (one stratum per EA). Household nonresponse is adjusted within
classes and the weights carried to the persons with ``expand(psu=EA)``: a nonrespondent has no
member row, and its term is kept on a row of its EA. In the certainty EAs that row's household
is a PSU of its own, so the standard error depends on which household carries the term. It
must be the same household whatever the order of the person rows and of the household rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from weighting import Weights


def _files(seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ea = np.repeat([f"{s}{e:02d}" for s in range(3) for e in range(4)], 8)
    stratum = np.array([f"S{e[0]}" for e in ea])
    hh = np.array([f"{e}/{k:03d}" for e, k in zip(ea, np.tile(np.arange(8), 12), strict=True)])
    households = pd.DataFrame({
        "stratum": stratum, "ea": ea, "hh": hh, "w": rng.uniform(20, 60, hh.size),
        "cls": rng.choice(["a", "b"], hh.size), "disp": rng.choice([1.1, 1.1, 1.1, 2.1], hh.size)})
    certain = households["stratum"] == "S0"
    households["dstratum"] = np.where(certain, "S0|" + households["ea"], households["stratum"])
    households["dpsu"] = np.where(certain, households["hh"], households["ea"])
    resp = households[households["disp"] < 2]
    size = rng.integers(1, 5, len(resp))
    persons = resp.loc[resp.index.repeat(size), ["hh", "ea", "dstratum", "dpsu"]]
    persons = persons.assign(y=(rng.random(len(persons)) < 0.3).astype(float),
                             sex=rng.choice(["F", "M"], len(persons))).reset_index(drop=True)
    return households, persons


def _estimates(households, persons) -> np.ndarray:
    w = (Weights(households, "w").adjust_nonresponse("disp", by="cls", min_respondents=1)
         .expand(persons, household="hh", psu="ea"))
    d = SurveyDesign(persons, ids="dpsu", strata="dstratum", weights=w)
    out = pd.concat([d.total("y"), d.mean("y", by="sex"), d.total("y", by="sex")])
    return out[["estimate", "se"]].to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_standard_errors_do_not_depend_on_row_order(seed):
    households, persons = _files()
    base = _estimates(households, persons)
    rng = np.random.default_rng(seed)
    p2 = persons.iloc[rng.permutation(len(persons))].reset_index(drop=True)
    h2 = households.iloc[rng.permutation(len(households))].reset_index(drop=True)
    for hh, pp in ((households, p2), (h2, persons), (h2, p2),
                   (households, persons.iloc[::-1].reset_index(drop=True))):
        np.testing.assert_allclose(_estimates(hh, pp), base, rtol=1e-12, atol=0)


def test_ultimate_cluster_standard_errors_keep_their_value():
    """With the EAs as PSUs the term's row within its EA cannot matter: any order of the
    person rows gives the same SE."""
    households, persons = _files()

    def se(pp):
        w = (Weights(households, "w").adjust_nonresponse("disp", by="cls", min_respondents=1)
             .expand(pp, household="hh", psu="ea"))
        d = SurveyDesign(pp.assign(st=pp["ea"].str[0]), ids="ea", strata="st", weights=w)
        return d.total("y")["se"].iloc[0]

    shuffled = persons.sample(frac=1, random_state=5).reset_index(drop=True)
    assert se(shuffled) == pytest.approx(se(persons), rel=1e-12)
