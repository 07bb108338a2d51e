"""``indicator_table(domains=...)``: a domain of the design with no unit of the universe.

Region "03" holds two EAs whose every unit is outside the universe (all dwellings out of
scope): its total is 0 with SE 0 (every score is 0 there), its share is 0/0 — not estimable,
NaN and unreliable, with a warning — and every other cell is the one computed without
``domains``. The national SE counts region 03's PSUs (zero totals); it is checked against the
ultimate-cluster formula written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign
from estimation.indicators import indicator_table
from surveycore import SurveyWarning


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    rows = []
    for r, region in enumerate(("01", "02", "03")):
        for e in range(3):
            for _ in range(int(rng.integers(5, 9))):
                inside = region != "03"
                rows.append({"ea": f"{r}{e:03d}", "region": region, "w": float(rng.uniform(2, 9)),
                             "usual_resident": 1.0 if inside else 0.0,
                             "foreign_born": float(inside and rng.random() < 0.3)})
    return pd.DataFrame(rows)


def test_absent_domain_total_zero_share_not_estimable():
    df = _data()
    d = SurveyDesign(df, ids="ea", strata="region", weights="w")
    plain = indicator_table(d, "MI1.1", by=["region"], suppression=None).table
    assert "03" not in set(plain["region"])
    with pytest.warns(SurveyWarning, match="MI1.1 share in region=03"):
        t = indicator_table(d, "MI1.1", by=["region"], suppression=None,
                            domains={"region": ["01", "02", "03"]})
    got = t.table.set_index(["measure", "region"])
    three = got.xs("03", level="region")
    assert three.loc["count", "estimate"] == 0 and three.loc["count", "se"] == 0
    assert np.isnan(three.loc["share", "estimate"]) and np.isnan(three.loc["share", "se"])
    assert (three["n"] == 0).all() and (three["reliability"] == "unreliable").all()
    assert t.metadata["not_estimable"] == [{"indicator": "MI1.1", "measure": "share",
                                            "cell": {"region": "03"}}]
    same = plain.set_index(["measure", "region"])
    cols = ["estimate", "se", "ci_low", "ci_high", "df", "n"]
    pd.testing.assert_frame_equal(got.loc[same.index, cols], same[cols])
    # the national SE: Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)² over the EA totals, zeros included
    z = (df["w"] * df["foreign_born"]).groupby([df["region"], df["ea"]]).sum()
    dev = z - z.groupby(level=0).transform("mean")
    n_h = z.groupby(level=0).transform("size")
    np.testing.assert_allclose(got.loc[("count", "_T"), "se"],
                               np.sqrt((n_h / (n_h - 1) * dev**2).sum()), rtol=1e-10)
