"""A two-phase design whose phase 1 is a πps sample without replacement, checked by enumeration.

A tiny population is built here: two phase-1 strata of EAs with sizes, Sampford's πps design
with n = 2 EAs per stratum (its joint inclusion probabilities enumerated here from the design
p(s) ∝ λ_k λ_l (2 − π_k − π_l), λ = π/(1 − π); Sampford 1967), every household of a selected EA
listed into two screening classes, and a simple random sample without replacement of a fixed
take per EA × class. Over every possible sample, the double-expansion total is unbiased, and
the expectation of the package's variance estimator equals the exact design variance (the
Horvitz–Thompson two-phase estimator is design-unbiased; Särndal, Swensson & Wretman 1992,
result 9.3.1), for a total and a domain total. Nothing here uses the package's sampling code.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest

from estimation import SurveyDesign, TwoPhaseDesign
from surveycore import SurveyError

# stratum -> EAs with their size (measure of size of the πps selection)
EAS = {
    "01": {"0101": 3, "0102": 5, "0103": 2, "0104": 6, "0105": 4},
    "02": {"0201": 4, "0202": 2, "0203": 7, "0204": 3},
}
# listed households per EA: (migrant, other); a take of two per class (all of a smaller class):
# with one per class phase 2 would have no unbiased variance (π₂ₖₗ = 0)
LISTED = {"0101": (2, 1), "0102": (3, 1), "0103": (2, 3), "0104": (2, 1), "0105": (3, 2),
          "0201": (2, 2), "0202": (3, 1), "0203": (2, 1), "0204": (2, 3)}
TAKE = {"mig": 2, "oth": 2}


def population() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for stratum, eas in EAS.items():
        for ea in eas:
            n_mig, n_oth = LISTED[ea]
            for k in range(n_mig + n_oth):
                rows.append({"EA": ea, "STR": stratum, "HH": f"{ea}-{k:02d}",
                             "CLASS": "mig" if k < n_mig else "oth",
                             "Y": float(rng.integers(0, 9)), "REG": "a" if rng.random() < 0.5 else "b"})
    return pd.DataFrame(rows)


def sampford_pairs(sizes: dict[str, int]) -> tuple[np.ndarray, list[tuple[int, int]], np.ndarray]:
    """π (n = 2), every sample {k, l} and its probability under Sampford's design."""
    x = np.array(list(sizes.values()), dtype=float)
    pi = 2 * x / x.sum()
    assert pi.max() < 1
    lam = pi / (1 - pi)
    pairs = list(itertools.combinations(range(len(x)), 2))
    p = np.array([lam[k] * lam[l] * (2 - pi[k] - pi[l]) for k, l in pairs])
    p /= p.sum()
    return pi, pairs, p


def joint_from_design(n_units: int, pairs, p) -> np.ndarray:
    J = np.zeros((n_units, n_units))
    for (k, l), pk in zip(pairs, p):
        J[k, l] += pk
        J[l, k] += pk
        J[k, k] += pk
        J[l, l] += pk
    return J


@pytest.fixture(scope="module")
def designs():
    pop = population()
    per_stratum = {}
    joint = {}
    pi_of = {}
    for stratum, sizes in EAS.items():
        pi, pairs, p = sampford_pairs(sizes)
        J = joint_from_design(len(pi), pairs, p)
        np.testing.assert_allclose(np.diag(J), pi, rtol=1e-12)  # Sampford's design is πps
        ids = list(sizes)
        joint[stratum] = pd.DataFrame(J, index=ids, columns=ids)
        pi_of.update(dict(zip(ids, pi)))
        per_stratum[stratum] = [([ids[k], ids[l]], pk) for (k, l), pk in zip(pairs, p)]
    pop["PI1"] = pop["EA"].map(pi_of)
    pop["ONE"] = 1.0
    return pop, per_stratum, joint


def phase2_samples(listed: pd.DataFrame):
    """Every phase-2 sample of the listed households (SRSWOR of TAKE per EA × class)."""
    cells = [g.index.to_numpy() for _, g in listed.groupby(["EA", "CLASS"])]
    takes = [min(TAKE[listed.loc[c[0], "CLASS"]], len(c)) for c in cells]
    choices = [list(itertools.combinations(c, t)) for c, t in zip(cells, takes)]
    prob = 1.0 / np.prod([comb(len(c), t) for c, t in zip(cells, takes)])
    for pick in itertools.product(*choices):
        yield np.concatenate(pick), prob


def all_samples(pop, per_stratum):
    """Every (phase-1, phase-2) sample: its probability, its listed rows and phase-2 rows."""
    strata = list(per_stratum)
    for combo in itertools.product(*(per_stratum[s] for s in strata)):
        eas = [e for ids, _ in combo for e in ids]
        p1 = np.prod([pk for _, pk in combo])
        listed = pop[pop["EA"].isin(eas)]
        for rows, p2 in phase2_samples(listed):
            yield p1 * p2, listed.index.to_numpy(), rows


def stacked(samples, pop):
    """Samples as independent copies in one phase-1 frame: copy ``r``'s strata, EAs and
    households are its own, so each copy is a domain (``COPY``) whose estimate is that
    sample's estimate."""
    listed = np.concatenate([rows for _, rows, _ in samples])
    copy = np.repeat([r for r, _, _ in samples], [len(rows) for _, rows, _ in samples])
    in2 = np.concatenate([np.isin(rows, sub) for _, rows, sub in samples])
    data = pop.loc[listed].reset_index(drop=True)
    tag = pd.Series([f"{r:05d}:" for r in copy])
    data = data.assign(COPY=tag, EA=tag + data["EA"], HH=tag + data["HH"], STR=tag + data["STR"], IN2=in2)
    data["EA_CLASS"] = data["EA"] + "/" + data["CLASS"]
    data["YD"] = np.where(data["REG"] == "a", data["Y"], 0.0)
    data.loc[~data["IN2"], ["Y", "YD"]] = np.nan
    return data


def joint_array(data, joint):
    """π_IJ over the data's EAs in order of first appearance: the enumerated Sampford π_IJ
    within a stratum of a copy, π_I π_J otherwise (independent selections)."""
    first = data.drop_duplicates("EA")
    pi = first["PI1"].to_numpy()
    full = np.outer(pi, pi)
    ea = first["EA"].str.split(":").str[1].to_numpy()
    where = {e: (s, i) for s, J in joint.items() for i, e in enumerate(J.index)}
    arrays = {s: J.to_numpy() for s, J in joint.items()}
    key = pd.factorize(first["COPY"] + first["STR"])[0]
    order = np.argsort(key, kind="stable")
    for pos in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        stratum = where[ea[pos[0]]][0]
        at = np.array([where[e][1] for e in ea[pos]])
        full[np.ix_(pos, pos)] = arrays[stratum][np.ix_(at, at)]
    return full


def design_of(data, pps):
    return TwoPhaseDesign(data, ids=(["EA", "HH"], "HH"), strata=("STR", "EA_CLASS"),
                          fpc=(["PI1", "ONE"], None), subset="IN2", pps=pps)


def enumerate_all(pop, per_stratum, joint, pps, batch=400):
    """Every sample: its probability, total estimates and our variance estimates (both phases,
    as computed: the Horvitz–Thompson form may be negative in a sample)."""
    samples = list(all_samples(pop, per_stratum))
    prob = np.array([p for p, _, _ in samples])
    est, var = [], []
    for lo in range(0, len(samples), batch):
        part = [(lo + i, rows, sub) for i, (_, rows, sub) in enumerate(samples[lo:lo + batch])]
        data = stacked(part, pop)
        d = design_of(data, joint_array(data, joint) if pps == "joint" else pps)
        t = d.total(["Y", "YD"], by="COPY")
        v = d.phase_variances(["Y", "YD"], by="COPY")
        est.append(t["estimate"].to_numpy().reshape(-1, 2))
        var.append((v["phase1"] + v["phase2"]).to_numpy().reshape(-1, 2))
    return prob, np.vstack(est), np.vstack(var)


@pytest.fixture(scope="module")
def enumerated(designs):
    return enumerate_all(*designs, "joint")


def test_probabilities_sum_to_one(enumerated):
    prob, _, _ = enumerated
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)


def test_total_and_domain_total_are_unbiased(designs, enumerated):
    pop = designs[0]
    prob, est, _ = enumerated
    truth = np.array([pop["Y"].sum(), pop.loc[pop["REG"] == "a", "Y"].sum()])
    np.testing.assert_allclose(prob @ est, truth, rtol=1e-12)


def test_variance_estimator_is_unbiased(designs, enumerated):
    """E[v̂] = V exactly, for the total and a domain total."""
    prob, est, var = enumerated
    mean = prob @ est
    exact = prob @ (est - mean) ** 2
    np.testing.assert_allclose(prob @ var, exact, rtol=1e-10)


def test_a_copy_among_others_is_the_sample_alone(designs, enumerated):
    """The stacking is harmless: a copy's domain equals the design of that sample alone (its
    joint π given per stratum, labelled by EA id), and the estimators' SE is the square root
    of the two parts (NaN where their sum is negative)."""
    pop, per_stratum, joint = designs
    prob, est, var = enumerated
    samples = list(all_samples(pop, per_stratum))
    for r in (0, 17, len(samples) - 1):
        data = stacked([(0, samples[r][1], samples[r][2])], pop)
        pij = {"00000:" + s: J.rename(index="00000:{}".format, columns="00000:{}".format)
               for s, J in joint.items()}
        d = design_of(data, pij)
        t = d.total(["Y", "YD"])
        parts = d.phase_variances(["Y", "YD"])
        np.testing.assert_allclose(t["estimate"], est[r], rtol=1e-12)
        np.testing.assert_allclose(parts["phase1"] + parts["phase2"], var[r], rtol=1e-9)
        ok = var[r] >= 0
        np.testing.assert_allclose(t["se"].to_numpy()[ok] ** 2, var[r][ok], rtol=1e-9)


def test_brewer_is_close_but_not_exact(designs, enumerated):
    """Brewer's approximation (no joint π) gives a nearby expected variance, not the exact one."""
    pop, per_stratum, joint = designs
    prob, est, var = enumerate_all(pop, per_stratum, joint, "brewer")
    np.testing.assert_allclose(est, enumerated[1], rtol=1e-12)
    mean = prob @ est
    exact = prob @ (est - mean) ** 2
    ratio = (prob @ var) / exact
    assert np.all(np.abs(ratio - 1) < 0.25)
    assert np.all(np.abs(ratio - 1) > 1e-6)


# -- an equal-probability phase 1 given as joint probabilities, and invariants --------------

def screened(seed: int = 3) -> pd.DataFrame:
    """Persons of listed households: EAs by stratified SRS without replacement (N_h EAs),
    all households listed, a fixed take per EA × class; y on the phase-2 households only."""
    rng = np.random.default_rng(seed)
    rows = []
    for stratum, n_ea, big_n in (("07", 4, 20), ("08", 3, 9)):
        for e in range(n_ea):
            ea = f"{stratum}{e:03d}"
            for cls, listed, take in (("m", int(rng.integers(4, 8)), 3), ("o", int(rng.integers(6, 12)), 4)):
                picked = rng.choice(listed, size=take, replace=False)
                for k in range(listed):
                    for _person in range(int(rng.integers(1, 4))):
                        inside = k in picked
                        rows.append({"ea": ea, "str": stratum, "cls": cls, "ea_cls": f"{ea}{cls}",
                                     "hh": f"{ea}{cls}{k:03d}", "pi1": n_ea / big_n, "one": 1.0,
                                     "n_ea": n_ea, "big_n": big_n, "in2": inside,
                                     "y": float(rng.integers(0, 5)) if inside else np.nan,
                                     "x": float(rng.integers(1, 4)) if inside else np.nan,
                                     "sex": rng.choice(["f", "m"]) if inside else None,
                                     "resp": bool(rng.random() < 0.8) if inside else False})
    return pd.DataFrame(rows)


def srs_joint(df: pd.DataFrame) -> np.ndarray:
    """π_IJ of stratified SRS without replacement, in order of first appearance of the EAs."""
    first = df.drop_duplicates("ea")
    n, N, st = first["n_ea"].to_numpy(float), first["big_n"].to_numpy(float), first["str"].to_numpy()
    pi = n / N
    full = np.outer(pi, pi)
    same = st[:, None] == st[None, :]
    full[same] = (n * (n - 1) / (N * (N - 1)))[np.nonzero(same)[0]]
    np.fill_diagonal(full, pi)
    return full


def two_designs(df):
    kw = dict(ids=(["ea", "hh"], "hh"), strata=("str", "ea_cls"), fpc=(["pi1", "one"], None), subset="in2")
    return TwoPhaseDesign(df, **kw), TwoPhaseDesign(df, **kw, pps=srs_joint(df))


def same(a: pd.DataFrame, b: pd.DataFrame):
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-10)


def test_srs_joint_probabilities_equal_the_fpc_route():
    df = screened()
    fpc, pps = two_designs(df)
    assert pps.phase1_variance.startswith("Horvitz–Thompson")
    assert fpc.phase1_variance.startswith("stratified simple random")
    same(fpc.total(["y", "x"]), pps.total(["y", "x"]))
    same(fpc.mean("y", by="sex"), pps.mean("y", by="sex"))
    same(fpc.ratio("y", "x", by="str"), pps.ratio("y", "x", by="str"))
    same(fpc.total("y", by=["str", "sex"]), pps.total("y", by=["str", "sex"]))
    same(fpc.calibrate(variables=["cls"]).total("y", by="sex"),
         pps.calibrate(variables=["cls"]).total("y", by="sex"))
    assert fpc.degf() == pps.degf()


def test_srs_joint_probabilities_equal_the_fpc_route_with_a_weighting_chain():
    from weighting import Weights

    df = screened()
    fpc, pps = two_designs(df)
    rows = fpc.data
    base = Weights(rows.assign(w0=fpc.weights.copy(), status=np.where(rows["resp"], "r", "nr")), "w0")
    chain = (base.adjust_nonresponse("status", codes={"respondent": ["r"], "nonrespondent": ["nr"]},
                                     by="cls", min_respondents=1)
             .calibrate({"sex": {"f": 160.0, "m": 150.0}}, method="raking"))
    resp = rows["resp"].to_numpy()
    a, b = fpc.reweight(chain), pps.reweight(chain)
    for stat in ("total", "mean"):
        same(getattr(a, stat)("y", by="str", na_rm=True), getattr(b, stat)("y", by="str", na_rm=True))
    same(a.ratio("y", "x"), b.ratio("y", "x"))
    assert (np.asarray(chain.values)[~resp] == 0).all()


def test_row_order_changes_nothing():
    df = screened()
    _, d = two_designs(df)
    shuffled = df.sample(frac=1.0, random_state=5)
    d2 = TwoPhaseDesign(shuffled, ids=(["ea", "hh"], "hh"), strata=("str", "ea_cls"),
                        fpc=(["pi1", "one"], None), subset="in2", pps=srs_joint(shuffled))
    same(d.total("y", by="sex").sort_values("sex").reset_index(drop=True),
         d2.total("y", by="sex").sort_values("sex").reset_index(drop=True))
    pop, per_stratum, joint = _tiny()
    r = list(all_samples(pop, per_stratum))[5]
    data = stacked([(0, r[1], r[2])], pop)
    pij = {"00000:" + s: J.rename(index="00000:{}".format, columns="00000:{}".format) for s, J in joint.items()}
    ref = design_of(data, pij).total(["Y", "YD"])
    flipped = data.iloc[::-1]
    same(ref, design_of(flipped, pij).total(["Y", "YD"]))
    same(ref, design_of(flipped, joint_array(flipped, joint)).total(["Y", "YD"]))


def test_zero_weight_person_is_a_removed_person():
    """A person with weight zero in a household that stays in phase 2 changes nothing."""
    df = screened()
    _, d = two_designs(df)
    rows = d.data
    dup = rows["hh"].duplicated(keep=False).to_numpy()
    drop = np.flatnonzero(dup & rows["hh"].duplicated().to_numpy())[:5]  # later persons of a household
    w = d.weights.copy()
    w[drop] = 0.0
    kept = df.drop(index=rows.index[drop])
    d_kept = TwoPhaseDesign(kept, ids=(["ea", "hh"], "hh"), strata=("str", "ea_cls"),
                            fpc=(["pi1", "one"], None), subset="in2", pps=srs_joint(kept))
    same(d.reweight(w).total("y", by="sex"), d_kept.total("y", by="sex"))
    same(d.reweight(w).mean("y"), d_kept.mean("y"))


def _tiny():
    pop = population()
    per_stratum, joint, pi_of = {}, {}, {}
    for stratum, sizes in EAS.items():
        pi, pairs, p = sampford_pairs(sizes)
        ids = list(sizes)
        joint[stratum] = pd.DataFrame(joint_from_design(len(pi), pairs, p), index=ids, columns=ids)
        pi_of.update(dict(zip(ids, pi)))
        per_stratum[stratum] = [([ids[k], ids[l]], pk) for (k, l), pk in zip(pairs, p)]
    return pop.assign(PI1=pop["EA"].map(pi_of), ONE=1.0), per_stratum, joint


def test_refusals():
    df = screened()
    kw = dict(ids=(["ea", "hh"], "hh"), strata=("str", "ea_cls"), subset="in2")
    J = srs_joint(df)
    with pytest.raises(SurveyError, match="full two-phase"):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None), pps=J, method="approx")
    with pytest.raises(SurveyError, match="inclusion probabilities"):
        TwoPhaseDesign(df, **kw, probs=(["pi1", "one"], None), pps=J)
    bad = J.copy()
    bad[0, 0] = 0.5
    with pytest.raises(SurveyError, match="disagree"):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None), pps=bad)
    with pytest.raises(SurveyError, match="wrong shape"):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None), pps=J[:3, :3])
    ids = df.drop_duplicates("ea")["ea"].tolist()
    with pytest.raises(SurveyError, match="lack some"):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None),
                       pps=pd.DataFrame(J, index=ids, columns=ids).drop(index=ids[0], columns=ids[0]))
    with pytest.raises(SurveyError, match="no joint inclusion"):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None), pps={"07": np.eye(4)})
    with pytest.raises(SurveyError):
        TwoPhaseDesign(df, **kw, fpc=(["pi1", "one"], None), pps="sampford")


@pytest.mark.parametrize("pps", ["brewer", "overton", "hartley-rao", "joint"])
def test_phase2_taking_everything_is_the_single_phase_pps_design(pps):
    """With every phase-1 unit in phase 2 (π₂ = 1) the two-phase variance is the phase-1
    design's: SurveyDesign(ids=[EA, household], fpc=[π, 1], pps=...) (R's multi-stage
    ``pps="brewer"`` and its later-stage terms), for every phase-1 form."""
    pop, _per_stratum, joint = _tiny()
    eas = ["0101", "0103", "0104", "0202", "0203"]  # some EAs, sampled as by a πps design
    df = pop[pop["EA"].isin(eas)].assign(ALL=True, STR2=lambda d: d["HH"])
    df["YD"] = np.where(df["REG"] == "a", df["Y"], 0.0)
    pij = {s: J.loc[[e for e in eas if e in J.index], [e for e in eas if e in J.index]]
           for s, J in joint.items()}
    arg = pij if pps == "joint" else pps
    two = TwoPhaseDesign(df, ids=(["EA", "HH"], "HH"), strata=("STR", "STR2"),
                         fpc=(["PI1", "ONE"], None), subset="ALL", pps=arg, lonely_psu="adjust")
    if pps == "joint":
        first = df.drop_duplicates("EA")["EA"].to_numpy()
        full = np.outer(df.drop_duplicates("EA")["PI1"], df.drop_duplicates("EA")["PI1"])
        for J in pij.values():
            at = [list(first).index(e) for e in J.index]
            full[np.ix_(at, at)] = J.to_numpy()
        arg = full
    one = SurveyDesign(df, ids=["EA", "HH"], strata="STR", fpc=["PI1", "ONE"], pps=arg,
                       lonely_psu="adjust")
    a, b = two.total(["Y", "YD"], by="CLASS"), one.total(["Y", "YD"], by="CLASS")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-12)
    ok = b["se"].notna().to_numpy()
    np.testing.assert_allclose(a["se"].to_numpy()[ok], b["se"].to_numpy()[ok], rtol=1e-10)
    np.testing.assert_allclose(two.mean("Y")["se"], one.mean("Y")["se"], rtol=1e-10)
