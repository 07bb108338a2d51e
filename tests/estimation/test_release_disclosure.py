"""Disclosure control of a whole release: the cross-indicator attack on MI 1.1 + MI 1.3.

An office publishes the stock of migrants (MI 1.1, count and share) and immigration (MI 1.3,
count and rate per 1 000) by birth × citizenship group × region and × sex. In region 04 two
foreign-born citizens were interviewed: a primary cell of MI 1.1. The intruder, written here
independently of the package, reads only the published table:

1. MI 1.3 count ÷ rate × 1 000 is the weighted usual-resident population of a cell; in a
   foreign-born group every resident is foreign-born, so that population is the MI 1.1 count;
2. the native-born groups have no foreign-born residents (zeros known to everyone), so in
   region 04 the other foreign-born cell is the region's margin minus the one recovered;
3. in a foreign-born cell every resident is a contributor of MI 1.1, so the sample size ``n``
   of the universe, published with any indicator's measure or got by differencing the ``n`` of
   the other groups, is the contributor count of the primary cell.

Protecting each indicator's table alone (``scope="indicator"``, what the package did before)
lets the attack recover the primary cell exactly, and the audit of the release says so;
the default (``scope="release"``) protects the release and its audit passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from estimation import SurveyDesign
from estimation.indicators import SuppressionRule, indicator_table
from estimation.indicators.release import MeasureDef, audit_release

T = "_T"
GROUPS = ["NB_CIT", "NB_FOR", "FB_CIT", "FB_FOR"]
VARIABLES = {"foreign_born": "born_abroad", "usual_resident": "resident",
             "immigrant_12m": "arrived_12m"}
BY = [["GRP", "REGION"], ["GRP", "SEX"]]


def office_persons() -> pd.DataFrame:
    """Persons of a stratified household survey as an office keeps them: string region codes
    with leading zeros, household ids, a birth × citizenship group column, design weights per
    region; in region 04 exactly two foreign-born citizens."""
    rng = np.random.default_rng(20261201)
    frames = []
    for r, size, w in (("01", 260, 55.0), ("02", 220, 80.0), ("03", 240, 70.0), ("04", 200, 95.0)):
        grp = rng.choice(GROUPS, size, p=[0.70, 0.05, 0.10, 0.15])
        if r == "04":
            grp[grp == "FB_CIT"] = "FB_FOR"
            grp[:2] = "FB_CIT"
        born = np.char.startswith(grp.astype(str), "FB").astype(int)
        arrived = np.where(grp == "FB_FOR", rng.random(size) < 0.35,
                           np.where(grp == "NB_CIT", rng.random(size) < 0.01, False)).astype(int)
        if r == "04":
            arrived[:2] = 0
        frames.append(pd.DataFrame({
            "REGION": r, "HHID": [f"{r}{i // 3:05d}" for i in range(size)],
            "SEX": rng.choice(["1", "2"], size), "GRP": grp, "born_abroad": born,
            "arrived_12m": arrived, "resident": 1, "PWGT": w}))
    return pd.concat(frames, ignore_index=True)


def release(scope: str):
    df = office_persons()
    d = SurveyDesign(df, ids="HHID", strata="REGION", weights="PWGT")
    return df, indicator_table(d, ["MI1.1", "MI1.3"], by=BY, variables=VARIABLES,
                               suppression=SuppressionRule(scope=scope))


def probe_attack(pub: pd.DataFrame) -> tuple[dict, dict]:
    """The outside check's attack on the published table (values of withheld cells NaN):
    returns recovered MI 1.1 counts and recovered contributor counts of suppressed cells."""
    key = ["GRP", "REGION", "SEX"]
    pub = pub.assign(k=pub[key].astype(str).agg("|".join, axis=1))

    def get(ind, meas):
        return pub[pub["indicator"].eq(ind) & pub["measure"].eq(meas)].set_index("k")

    m11, m13c, m13r = get("MI1.1", "count"), get("MI1.3", "count"), get("MI1.3", "rate")
    hidden = [k for k in m11.index if np.isnan(m11.loc[k, "estimate"])]
    known = {k: v for k, v in m11["estimate"].items() if not np.isnan(v)}
    values = {}
    for k in hidden:  # step 1: the population of a foreign-born cell from MI 1.3
        if k.startswith("FB") and k in m13c.index:
            c, r = m13c.loc[k, "estimate"], m13r.loc[k, "estimate"]
            if np.isfinite(c) and np.isfinite(r) and r > 0:
                values[k] = 1000.0 * c / r
    for k in hidden:  # step 2: structural zeros of the native-born groups, and the margin
        g, rest = k.split("|", 1)
        if not g.startswith("FB") or k in values:
            continue
        other = ("FB_FOR" if g == "FB_CIT" else "FB_CIT") + "|" + rest
        v_other = known.get(other, values.get(other))
        margin = known.get(T + "|" + rest)
        if v_other is not None and margin is not None:
            values[k] = margin - v_other
    # step 3: the universe sample size of a foreign-born cell is its contributor count
    n_of = pub[pub["n"].notna()].groupby("k")["n"].first().to_dict()
    counts = {}
    for k in hidden:
        g, rest = k.split("|", 1)
        if not g.startswith("FB"):
            continue
        if k in n_of:
            counts[k] = n_of[k]
        elif T + "|" + rest in n_of and all(h + "|" + rest in n_of for h in GROUPS if h != g):
            counts[k] = n_of[T + "|" + rest] - sum(n_of[h + "|" + rest] for h in GROUPS
                                                   if h != g)
    return values, counts


def lp_attack(pub: pd.DataFrame) -> dict:
    """Interval attack on the whole published table, written from the definitions: unknowns
    F (foreign-born), I (immigrants) and P (usual residents) in every cell, >= 0; published
    counts fixed; share s: F = s/100 P; rate r: I = r/1000 P; F = P in the foreign-born groups
    and F = 0 in the native-born ones; every quantity adds up over GRP, REGION and SEX.
    Returns (min, max) of F in every cell where the MI 1.1 count is withheld."""
    key = ["GRP", "REGION", "SEX"]
    cells = sorted(set(map(tuple, pub[key].astype(str).to_numpy())))
    at = {c: i for i, c in enumerate(cells)}
    nc = len(cells)
    F, I, P = 0, nc, 2 * nc
    rows, lb, ub = [], np.zeros(3 * nc), np.full(3 * nc, np.inf)

    def eq(coefs):
        r = np.zeros(3 * nc)
        for j, v in coefs:
            r[j] += v
        rows.append(r)

    for rec in pub.itertuples(index=False):
        c = at[tuple(str(getattr(rec, k)) for k in key)]
        v = rec.estimate
        if np.isnan(v):
            continue
        if rec.indicator == "MI1.1" and rec.measure == "count":
            lb[F + c] = ub[F + c] = v
        elif rec.indicator == "MI1.1" and rec.measure == "share":
            eq([(F + c, 1.0), (P + c, -v / 100)])
        elif rec.indicator == "MI1.3" and rec.measure == "count":
            lb[I + c] = ub[I + c] = v
        elif rec.indicator == "MI1.3" and rec.measure == "rate":
            eq([(I + c, 1.0), (P + c, -v / 1000)])
    for c, (g, _, _) in enumerate(cells):
        if g.startswith("FB"):
            eq([(F + c, 1.0), (P + c, -1.0)])
        elif g.startswith("NB"):
            eq([(F + c, 1.0)])
    for j in range(3):
        groups: dict = {}
        for c, k in enumerate(cells):
            if k[j] != T:
                groups.setdefault(k[:j] + k[j + 1:], []).append(c)
        for other, comp in groups.items():
            m = at.get(other[:j] + (T,) + other[j:])
            if m is not None:
                for off in (F, I, P):
                    eq([(off + c, 1.0) for c in comp] + [(off + m, -1.0)])
    a = np.array(rows)
    out = {}
    m11 = pub[pub["indicator"].eq("MI1.1") & pub["measure"].eq("count")]
    for rec in m11[m11["estimate"].isna()].itertuples(index=False):
        c = at[tuple(str(getattr(rec, k)) for k in key)]
        obj = np.zeros(3 * nc)
        obj[F + c] = 1.0
        lo = linprog(obj, A_eq=a, b_eq=np.zeros(len(a)), bounds=list(zip(lb, ub)))
        hi = linprog(-obj, A_eq=a, b_eq=np.zeros(len(a)), bounds=list(zip(lb, ub)))
        out["|".join(str(getattr(rec, k)) for k in key)] = (lo.fun, -hi.fun)
    return out


def truth(res) -> pd.DataFrame:
    t = res.table
    t = t[t["indicator"].eq("MI1.1") & t["measure"].eq("count")]
    return t.assign(k=t[["GRP", "REGION", "SEX"]].astype(str).agg("|".join, axis=1)
                    ).set_index("k")


@pytest.fixture(scope="module")
def releases():
    return {s: release(s) for s in ("indicator", "release")}


def test_separate_tables_leak_the_primary_cell_and_the_audit_says_so(releases):
    _, res = releases["indicator"]
    tr = truth(res)
    primary = tr.index[tr["suppressed"].eq("primary")]
    assert "FB_CIT|04|_T" in primary and tr.loc["FB_CIT|04|_T", "n_contributors"] == 2
    values, counts = probe_attack(res.published(withhold_unreliable=False))
    # the primary cell is recovered exactly, and so is its contributor count
    assert np.isclose(values["FB_CIT|04|_T"], tr.loc["FB_CIT|04|_T", "estimate"], rtol=1e-9)
    assert counts["FB_CIT|04|_T"] == 2
    # every indicator's own audit passed; the audit of the release does not
    audit = res.metadata["suppression_audit"]
    assert audit["release"]["all_protected"] is False
    assert audit["release"]["unprotected_cells"] >= 1
    assert audit["MI1.1"]["all_protected"] is False
    cells = res.audit_release()
    weak = cells[~cells["protected"]]
    assert ((weak["GRP"] == "FB_CIT") & (weak["REGION"] == "04") & (weak["SEX"] == T)).any()
    row = cells[(cells["indicator"] == "MI1.1") & (cells["GRP"] == "FB_CIT")
                & (cells["REGION"] == "04") & (cells["SEX"] == T)].iloc[0]
    assert row["width"] < 1e-6 * row["value"]
    # the independent interval attack agrees: the primary cell is a point
    lo, hi = lp_attack(res.published(withhold_unreliable=False))["FB_CIT|04|_T"]
    assert hi - lo < 1e-6 * tr.loc["FB_CIT|04|_T", "estimate"]


@pytest.mark.parametrize("withhold_unreliable", [True, False])
def test_release_protected_jointly_defeats_the_attack(releases, withhold_unreliable):
    _, res = releases["release"]
    tr = truth(res)
    assert tr.loc["FB_CIT|04|_T", "suppressed"] == "primary"
    values, counts = probe_attack(res.published(withhold_unreliable=withhold_unreliable))
    hit = {k: v for k, v in values.items()
           if abs(v - tr.loc[k, "estimate"]) < 0.1 * abs(tr.loc[k, "estimate"])}
    assert hit == {}
    primary = set(tr.index[tr["suppressed"].eq("primary")])
    assert not any(k in primary for k in counts)
    audit = res.metadata["suppression_audit"]
    assert audit["release"]["all_protected"] is True
    assert all(e["all_protected"] for k, e in audit.items() if k != "release")
    assert res.audit_release()["protected"].all()
    # the independent interval attack leaves every primary cell at least 10 % of its value
    bounds = lp_attack(res.published(withhold_unreliable=withhold_unreliable))
    assert "FB_CIT|04|_T" in bounds
    for k, (lo, hi) in bounds.items():
        if tr.loc[k, "suppressed"] == "primary":
            assert hi - lo >= 0.1 * tr.loc[k, "estimate"] - 1e-9, k


def test_withheld_measures_of_a_cell_go_together(releases):
    """A suppressed cell loses its count, its ratio and its n in every measure of the
    indicator; the cells of another indicator in the same universe that would give its
    contributor count back (the same n) are withheld too."""
    _, res = releases["release"]
    pub = res.published(withhold_unreliable=False)
    t = res.table
    sup = t["suppressed"].ne("")
    assert pub.loc[sup, ["estimate", "se", "cv", "n"]].isna().all().all()
    cell = (t["GRP"].eq("FB_CIT") & t["REGION"].eq("04") & t["SEX"].eq(T))
    assert pub.loc[cell, "n"].isna().all()  # MI 1.1 and MI 1.3 alike


def test_audit_release_is_an_interval_attack_on_a_small_linked_release():
    """Closed form: one line a + b = 10 of a count, a rate r = 1000·t/P with P = a (a
    structural identity), a published: the suppressed b is determined."""
    table = pd.DataFrame({
        "indicator": ["A", "A", "A", "B", "B", "B", "B", "B", "B"],
        "measure": ["count"] * 3 + ["count"] * 3 + ["rate"] * 3,
        "G": ["x", "y", T] * 3,
        "estimate": [4.0, 6.0, 10.0, 1.0, 2.0, 3.0, 250.0, 1000 / 3, 300.0],
        "n": [5, 7, 12] * 3, "n_contributors": [5, 7, 12, 1, 2, 3, 1, 2, 3]})
    measures = {("A", "count"): MeasureDef("total", "y", "1", "U", 1.0),
                ("B", "count"): MeasureDef("total", "z", "1", "U", 1.0),
                ("B", "rate"): MeasureDef("rate", "z", "1", "U", 1000.0)}
    relations = [{"variable": "y", "universe": "U", "dim": "G", "level": lv,
                  "relation": "equal", "to": "1"} for lv in ("x", "y", T)]
    status = np.array(["", "primary", "secondary", "", "", "", "", "", ""], dtype=object)
    # A's own line hides y and the margin; B's rate at y gives P(y) = 1000·2/333.3 = 6 = A(y)
    a = audit_release(table, ["G"], measures, relations, status, protection=0.1)
    row = a.cells.set_index("G").loc["y"]
    assert not row["protected"] and row["lower"] == pytest.approx(6.0)
    assert row["upper"] == pytest.approx(6.0)
    # hiding B in cell y as well leaves A(y) free again (only A(y) + ... = margin, both hidden)
    status2 = status.copy()
    status2[[4, 7]] = "secondary"
    status2[[5, 8]] = "secondary"
    a2 = audit_release(table, ["G"], measures, relations, status2, protection=0.1)
    assert a2.cells.set_index(["indicator", "G"]).loc[("A", "y"), "protected"]


def test_unknown_answers_left_out_keep_each_measure_on_its_own_rows():
    """With ``na_rm=True`` a measure runs over the rows where its variables are known, so
    MI 1.3's population is not MI 1.1's: the release is audited on each measure's own rows
    (no false equation between them) and protected."""
    df = office_persons()
    df["arrived_12m"] = df["arrived_12m"].astype(float)
    df.loc[df.index % 37 == 5, "arrived_12m"] = np.nan  # question not answered
    d = SurveyDesign(df, ids="HHID", strata="REGION", weights="PWGT")
    res = indicator_table(d, ["MI1.1", "MI1.3"], by=["GRP", "REGION"], variables=VARIABLES,
                          na_rm=True)
    audit = res.metadata["suppression_audit"]["release"]
    assert audit["all_protected"] and audit["cells_audited"] >= 1
    assert res.audit_release()["protected"].all()
    assert {r["universe"] for r in res.metadata["structural_relations"]} == {
        "resident|born_abroad", "resident|arrived_12m"}


def test_scope_is_checked():
    from surveycore import SurveyError

    with pytest.raises(SurveyError, match="scope"):
        SuppressionRule(scope="tables")
    assert "whole release" in SuppressionRule().describe()["secondary"]
