"""Independent routes that must give one answer."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wt_targets import POP_CAL, POP_SW, POP_TYPES

from surveycore import SurveyError
from weighting import Weights

MARGINS = {**POP_TYPES, **POP_SW}


def test_rake_equals_calibrate_raking(apiclus1):
    a = Weights(apiclus1, "pw").rake(MARGINS, tol=1e-14, max_iter=1000)
    b = Weights(apiclus1, "pw").calibrate(MARGINS, method="raking", tol=1e-14)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-9)


def test_poststratify_equals_one_margin_rake_and_linear(apistrat):
    a = Weights(apistrat, "pw").poststratify(POP_TYPES)
    b = Weights(apistrat, "pw").rake(POP_TYPES)
    c = Weights(apistrat, "pw").calibrate(POP_TYPES)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12)
    np.testing.assert_allclose(a.values, c.values, rtol=1e-12)


@pytest.mark.parametrize(
    "method, bounds",
    [("linear", None), ("linear", (0.5, 1.8)), ("truncated", (0.5, 1.8)), ("raking", None),
     ("raking", (0.6, 1.6)), ("logit", (0.7, 1.7)), ("sinh", (0.3, 3.0))],
)
def test_calibrated_totals_hit_targets(apiclus1, method, bounds):
    w = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds)
    v = w.values
    for level, total in POP_CAL["stype"].items():
        np.testing.assert_allclose(v[apiclus1.stype.to_numpy() == level].sum(), total, rtol=1e-8)
    np.testing.assert_allclose(v @ apiclus1.api99.to_numpy(), POP_CAL["api99"], rtol=1e-8)
    g = v / w.base_values
    if bounds is not None:
        assert g.min() >= bounds[0] - 1e-12 and g.max() <= bounds[1] + 1e-12
    table = w.summary()["targets"]
    assert np.abs(table["rel_error"]).max() < 1e-8


def test_rake_hits_margins(apiclus1):
    w = Weights(apiclus1, "pw").rake(MARGINS)
    for var, spec in MARGINS.items():
        got = pd.Series(w.values).groupby(apiclus1[var].to_numpy()).sum()
        for level, total in spec.items():
            np.testing.assert_allclose(got[level], total, rtol=1e-8)


def test_by_domain_equals_separate_calibrations(apistrat):
    targets = {
        "E": {"sch.wide": {"No": 500, "Yes": 3921}, "api99": 2_800_000},
        "H": {"sch.wide": {"No": 200, "Yes": 555}, "api99": 480_000},
        "M": {"sch.wide": {"No": 300, "Yes": 718}, "api99": 640_000},
    }
    joint = Weights(apistrat, "pw").calibrate(targets, by="stype", method="logit",
                                              bounds=(0.3, 3))
    for level, spec in targets.items():
        part = apistrat[apistrat.stype == level]
        alone = Weights(part, "pw").calibrate(spec, method="logit", bounds=(0.3, 3))
        np.testing.assert_allclose(joint.values[(apistrat.stype == level).to_numpy()],
                                   alone.values, rtol=1e-9)


def test_zero_weight_equals_removing_the_row(apiclus1):
    base = apiclus1.pw.to_numpy().copy()
    base[:10] = 0.0
    a = Weights(apiclus1, base).calibrate(POP_CAL, method="logit", bounds=(0.5, 2))
    b = Weights(apiclus1.iloc[10:], "pw").calibrate(POP_CAL, method="logit", bounds=(0.5, 2))
    assert (a.values[:10] == 0).all()
    np.testing.assert_allclose(a.values[10:], b.values, rtol=1e-10)


def test_replay_reproduces_the_chain_and_is_vectorised(apistrat):
    df = apistrat.assign(disp=np.where(np.arange(len(apistrat)) % 7 == 0, 2, 1))
    w = (Weights(df, "pw")
         .adjust_nonresponse("disp", by="stype", min_respondents=5)
         .rake(MARGINS, tol=1e-12)
         .calibrate({"stype": POP_TYPES["stype"], "api99": 4_000_000}, method="logit",
                    bounds=(0.5, 2))
         .trim(upper=60, lower=5))
    np.testing.assert_allclose(w.replay(w.base_values), w.values, rtol=1e-12)
    rng = np.random.default_rng(3)
    base = w.base_values[:, None] * rng.uniform(0.5, 1.5, (len(df), 4))
    together = w.replay(base)
    for j in range(4):
        np.testing.assert_allclose(together[:, j], w.replay(base[:, j]), rtol=1e-12)
    # out= may be the base itself
    own = base.copy()
    assert w.replay(own, out=own) is own
    np.testing.assert_allclose(own, together, rtol=1e-12)
    single = Weights(df, "pw").rake(MARGINS)
    own = base.copy()
    np.testing.assert_allclose(single.replay(own, out=own), single.replay(base), rtol=1e-12)
    with pytest.raises(SurveyError):
        w.replay(base, out=np.zeros((3, 3)))


def test_immutable_and_caller_frame_untouched(apiclus1):
    before = apiclus1.copy()
    w0 = Weights(apiclus1, "pw")
    w1 = w0.rake(MARGINS)
    pd.testing.assert_frame_equal(apiclus1, before)
    assert len(w0.history) == 1 and len(w1.history) == 2
    np.testing.assert_array_equal(w0.values, apiclus1.pw.to_numpy())
    with pytest.raises(ValueError):
        w1.values[0] = 1.0
    assert w1.data is not apiclus1
    assert w1.to_series().index.equals(apiclus1.index)


def test_probabilities_and_polars_input(apistrat):
    pl = pytest.importorskip("polars")
    df = apistrat.assign(p1=1 / apistrat.pw * 2, p2=0.5)
    w = Weights(pl.from_pandas(df), probs=["p1", "p2"])
    np.testing.assert_allclose(w.values, apistrat.pw.to_numpy(), rtol=1e-12)


def test_raking_variance_record_matches_calibration_record_in_the_limit(apiclus1):
    """Raked to convergence, R's iterated margin projection equals the GREG projection."""
    a = Weights(apiclus1, "pw").rake(MARGINS, tol=1e-14, max_iter=1000)
    b = Weights(apiclus1, "pw").calibrate(MARGINS, method="raking", tol=1e-14)
    x = (a.values * (apiclus1.api00 - 600)).to_numpy()
    ra = a.variance_records()[0].residualize(x)
    rb = b.variance_records()[0].residualize(x)
    # ten IPF passes of the projection: close, not identical
    np.testing.assert_allclose(ra, rb, atol=1e-3 * np.abs(x).max())


def test_crossed_poststrata_equal_cell_totals(apistrat):
    pop = pd.read_csv(Path(__file__).parent.parent / "data" / "apipop.csv")
    cells = pop.groupby(["stype", "sch.wide"]).size()
    targets = {("stype", "sch.wide"): {k: float(v) for k, v in cells.items()}}
    w = Weights(apistrat, "pw").poststratify(targets)
    got = pd.Series(w.values).groupby([apistrat.stype.to_numpy(),
                                       apistrat["sch.wide"].to_numpy()]).sum()
    for key, total in cells.items():
        np.testing.assert_allclose(got[key], total, rtol=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 10_000))
def test_property_rake_and_linear_hit_random_margins(seed):
    rng = np.random.default_rng(seed)
    n = 300
    df = pd.DataFrame({"a": rng.integers(0, 3, n), "b": rng.integers(0, 4, n),
                       "x": rng.gamma(2.0, 1.0, n), "w": rng.uniform(1, 5, n)})
    big_n = df.w.sum() * rng.uniform(0.8, 1.2)
    pa = rng.dirichlet(np.ones(3) * 5) * big_n
    pb = rng.dirichlet(np.ones(4) * 5) * big_n
    margins = {"a": dict(enumerate(pa)), "b": dict(enumerate(pb))}
    r = Weights(df, "w").rake(margins)
    for var, p in (("a", pa), ("b", pb)):
        np.testing.assert_allclose(np.bincount(df[var], weights=r.values), p, rtol=1e-8)
    total_x = float(df.x @ df.w) * rng.uniform(0.95, 1.05)
    c = Weights(df, "w").calibrate({**margins, "x": total_x}, method="raking")
    np.testing.assert_allclose(c.values @ df.x.to_numpy(), total_x, rtol=1e-8)
    np.testing.assert_allclose(c.replay(c.base_values), c.values, rtol=1e-10)


@pytest.mark.parametrize("method, bounds", [("linear", None), ("logit", (0.7, 1.7))])
def test_column_design_equals_dense_design(apiclus1, monkeypatch, method, bounds):
    """Large row-level problems keep X as columns; the answer must not change."""
    import weighting.calibration as cal

    dense = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds)
    monkeypatch.setattr(cal, "DENSE_LIMIT", 0)
    cols = Weights(apiclus1, "pw").calibrate(POP_CAL, method=method, bounds=bounds)
    assert type(cols._steps[-1].problem.x).__name__ == "ColumnDesign"
    np.testing.assert_allclose(cols.values, dense.values, rtol=1e-12)
    x = (dense.values * (apiclus1.api00 - 650)).to_numpy()
    np.testing.assert_allclose(cols.variance_records()[0].residualize(x),
                               dense.variance_records()[0].residualize(x), rtol=1e-9, atol=1e-9)
    reps = np.column_stack([dense.base_values * f for f in (0.97, 1.0, 1.03)])
    np.testing.assert_allclose(cols.replay(reps), dense.replay(reps), rtol=1e-12)


def test_row_order_and_index_do_not_matter(apiclus1):
    shuffled = apiclus1.sample(frac=1.0, random_state=4)
    a = Weights(apiclus1, "pw").calibrate(POP_CAL, method="logit", bounds=(0.7, 1.7))
    b = Weights(shuffled, "pw").calibrate(POP_CAL, method="logit", bounds=(0.7, 1.7))
    np.testing.assert_allclose(b.to_series().sort_index().to_numpy(), a.values, rtol=1e-10)
    assert b.to_series().index.equals(shuffled.index)


def test_crossed_margin_in_rake_and_calibrate_equals_poststratify(apistrat):
    pop = pd.read_csv(Path(__file__).parent.parent / "data" / "apipop.csv")
    cells = {k: float(v) for k, v in pop.groupby(["stype", "sch.wide"]).size().items()}
    targets = {("stype", "sch.wide"): cells}
    a = Weights(apistrat, "pw").poststratify(targets)
    b = Weights(apistrat, "pw").rake(targets)
    c = Weights(apistrat, "pw").calibrate(targets, method="logit", bounds=(0.2, 5))
    np.testing.assert_allclose(b.values, a.values, rtol=1e-12)
    np.testing.assert_allclose(c.values, a.values, rtol=1e-9)
