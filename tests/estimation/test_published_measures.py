"""A cell withheld as unreliable is withheld in every measure of its indicator.

The count and the share of a calibrated domain are one estimate on two scales: the published
share times the census population of the domain gives the count back. An attacker reading the
release must not recover a count withheld as too unreliable (flag F) from its share published
with flag E (the count is judged on its contributors, the share on its sample rows).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from estimation.indicators import published_table

POP = {"01": 4000.0, "02": 5000.0}


def _table() -> pd.DataFrame:
    rows = []
    for model in (False, True):
        for region, count, rel_c, flag_c, rel_s, flag_s in (
                ("01", 92.466, "unreliable", "F", "caution", "E"),
                ("02", 310.0, "reliable", "", "reliable", "")):
            if model and region == "02":
                continue
            share = 100 * count / POP[region]
            rows.append(dict(indicator="MI1.1", measure="count", kind="total", region=region,
                             estimate=count, se=0.3 * count, cv=0.3, n=300, df=12,
                             flag=flag_c if not model else "", model_based=model,
                             reliability=rel_c if not model else "reliable", suppressed=""))
            rows.append(dict(indicator="MI1.1", measure="share", kind="proportion",
                             region=region, estimate=share, se=0.3 * share, cv=0.3, n=300, df=12,
                             flag=flag_s if not model else "", model_based=model,
                             reliability=rel_s if not model else "reliable", suppressed=""))
    return pd.DataFrame(rows)


def test_share_of_a_withheld_count_is_withheld():
    t = _table()
    out = published_table(SimpleNamespace(table=t, metadata={"by": ["region"]}))
    direct = out[~out["model_based"]].set_index(["region", "measure"])
    assert np.isnan(direct.loc[("01", "count"), "estimate"])
    assert np.isnan(direct.loc[("01", "share"), "estimate"])
    assert direct.loc[("01", "share"), "reliability"] == "unreliable"
    assert direct.loc[("01", "share"), "flag"] == "F"
    # the attack: a published share times the census population gives no withheld count back
    for region, pop in POP.items():
        share = direct.loc[(region, "share"), "estimate"]
        if np.isnan(direct.loc[(region, "count"), "estimate"]):
            assert np.isnan(share)
        else:
            assert share * pop / 100 == direct.loc[(region, "count"), "estimate"]
    # other cells and model-based rows keep their values
    assert direct.loc[("02", "share"), "estimate"] == 100 * 310.0 / POP["02"]
    model = out[out["model_based"]]
    assert model["estimate"].notna().all() and (model["reliability"] == "reliable").all()
    # the table kept for analysts is not changed
    assert t.loc[1, "reliability"] == "caution" and t.loc[1, "flag"] == "E"


def test_withholding_can_be_turned_off():
    t = _table()
    out = published_table(SimpleNamespace(table=t, metadata={"by": ["region"]}),
                          withhold_unreliable=False)
    assert out["estimate"].notna().all()
    assert out["flag"].tolist() == t["flag"].tolist()
