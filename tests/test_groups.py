"""The grouping kernel against pandas' groupby (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from surveycore.groups import (
    _BLOCK,
    _SCAN_BLOCK,
    Groups,
    finite_population_factor,
    pair_sums_in_blocks,
    sums_in_blocks,
)


def _frame(n: int = 500, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"g": rng.integers(-1, 7, n), "o": rng.integers(0, 30, n), "x": rng.normal(size=n),
                         "y": rng.normal(size=n), "m": rng.random(n) < 0.7})


def test_sizes_first_row_and_sums_equal_groupby():
    df = _frame()
    g = Groups(df["g"].to_numpy(), 8)
    inside = df[df["g"] >= 0]
    grouped = inside.groupby("g")
    np.testing.assert_array_equal(g.sizes[:7], grouped.size().to_numpy())
    assert g.sizes[7] == 0 and g.first_row[7] == -1
    np.testing.assert_array_equal(g.first_row[:7], [inside.index[inside["g"] == k][0] for k in range(7)])
    want = grouped[["x", "y"]].sum().to_numpy()
    np.testing.assert_allclose(g.sum(df[["x", "y"]].to_numpy())[:7], want, rtol=1e-12)
    wide = np.repeat(df[["x"]].to_numpy(), 6, axis=1)  # the sparse-product path
    np.testing.assert_allclose(g.sum(wide)[:7], np.repeat(want[:, :1], 6, axis=1), rtol=1e-12)
    np.testing.assert_allclose(g.sum(sp.csr_matrix(wide)).toarray()[:7], np.repeat(want[:, :1], 6, axis=1), rtol=1e-12)
    np.testing.assert_allclose(g.mean(df["x"].to_numpy())[:7], grouped["x"].mean().to_numpy(), rtol=1e-12)


def test_count_distinct_both_paths_equal_nunique():
    df = _frame()
    want = df[(df["g"] >= 0) & df["m"]].groupby("g")["o"].nunique().reindex(range(7), fill_value=0).to_numpy()
    small = Groups(df["g"].to_numpy(), 7).count_distinct(df["o"].to_numpy(), 30, df["m"].to_numpy())
    np.testing.assert_array_equal(small, want)
    # a key space far larger than the rows takes the sort-and-diff path
    big = Groups(df["g"].to_numpy(), 7).count_distinct(df["o"].to_numpy() * 10**6, 30 * 10**6, df["m"].to_numpy())
    np.testing.assert_array_equal(big, want)


def test_finite_population_factor():
    np.testing.assert_allclose(finite_population_factor(np.array([2, 5]), np.array([10.0, np.inf])), [0.8, 1.0])
    g = Groups(np.array([0, 0, 1]))
    np.testing.assert_allclose(g.fpc(np.array([8.0, 4.0])), [0.75, 0.75])


def test_joined_labels_equal_a_row_by_row_join():
    from surveycore.groups import joined_labels

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"region": rng.choice(["North", "South", "01"], 500),
                       "urban": rng.integers(0, 2, 500), "x": rng.choice([1.5, 2.0], 500)},
                      index=rng.permutation(500))
    want = df.astype(str).agg(":".join, axis=1)
    pd.testing.assert_series_equal(joined_labels(df, ["region", "urban", "x"], ":"), want,
                                   check_names=False)


@pytest.mark.parametrize("n_first, n_second", [(40, 30), (300_000, 5_000)])
def test_pairs_codes_follow_the_sorted_distinct_pairs(n_first, n_second):
    # both routes: a presence table (small key space) and the packed-key sort (large one)
    rng = np.random.default_rng(3)
    first = rng.integers(0, n_first, 20_000)
    second = rng.integers(-1, n_second, 20_000)  # -1: the row is in no pair
    groups, pair_first, pair_second = Groups.pairs(first, n_first, second, n_second)
    inside = second >= 0
    keys, inverse = np.unique(first[inside] * n_second + second[inside], return_inverse=True)
    assert groups.n_groups == keys.size
    np.testing.assert_array_equal(pair_first * n_second + pair_second, keys)
    np.testing.assert_array_equal(groups.codes[inside], inverse.ravel())
    assert (groups.codes[~inside] == -1).all()


def test_rows_sorted_by_group_are_summed_as_runs_equal_to_groupby():
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"g": np.sort(rng.integers(0, 40, 3000)), "x": rng.normal(size=3000), "y": rng.normal(size=3000)})
    df["g"] = pd.factorize(df["g"], sort=True)[0]  # every code present
    g = Groups(df["g"].to_numpy())
    assert g.run_starts is not None and g.run_starts.tolist() == df.groupby("g").head(1).index.tolist()
    grouped = df.groupby("g")
    np.testing.assert_allclose(g.sum(df["x"].to_numpy()), grouped["x"].sum().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.sum(df[["x", "y"]].to_numpy()), grouped[["x", "y"]].sum().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(g.sizes, grouped.size().to_numpy())
    np.testing.assert_array_equal(g.first_row, df.groupby("g").head(1).index.to_numpy())
    # not runs: unsorted rows, a missing code, a row in no group
    assert Groups(df["g"].to_numpy()[::-1]).run_starts is None
    assert Groups(np.array([0, 0, 2, 2]), 3).run_starts is None
    assert Groups(np.array([-1, 0, 1])).run_starts is None


@pytest.mark.parametrize("sorted_rows", [True, False])
def test_varies_within_groups_equals_nunique(sorted_rows):
    rng = np.random.default_rng(5)
    codes = np.sort(rng.integers(0, 50, 2000)) if sorted_rows else rng.integers(0, 50, 2000)
    codes = pd.factorize(codes, sort=True)[0]
    parent = codes // 5  # constant within each group
    g = Groups(codes)
    assert (g.run_starts is not None) == sorted_rows
    assert not g.varies(parent)
    changed = parent.copy()
    changed[np.flatnonzero(codes == codes[1000])[-1]] += 1  # one row of one group differs
    want = pd.Series(changed).groupby(codes).nunique().max() > 1
    assert g.varies(changed) == want



def test_block_sums_equal_groupby_of_the_products():
    df = _frame(n=700_000, seed=9)  # several blocks, rows in no group among them
    g = Groups(df["g"].to_numpy(), 8)
    x, y = df["x"].to_numpy(), df["y"].to_numpy()
    got = g.sum_blocks(lambda rows: x[rows] * y[rows] * y[rows])
    want = df.assign(p=x * y * y).query("g >= 0").groupby("g")["p"].sum().reindex(range(8), fill_value=0.0)
    np.testing.assert_allclose(got, want.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("with_outside", [False, True])
def test_block_passes_over_many_rows_equal_groupby(with_outside):
    """First rows and the within-group check run block by block: groups spanning blocks."""
    rng = np.random.default_rng(11)
    n = 700_000  # more than two blocks of rows
    codes = rng.integers(-1 if with_outside else 0, 50_000, n)
    g = Groups(codes, 50_000)
    frame = pd.DataFrame({"g": codes, "row": np.arange(n)})
    first = frame[frame["g"] >= 0].groupby("g")["row"].min().reindex(range(50_000), fill_value=-1)
    np.testing.assert_array_equal(g.first_row, first.to_numpy())
    inside = codes >= 0
    constant = np.where(inside, codes // 7, 0)  # constant within each group
    assert not Groups(np.where(inside, codes, 0), 50_000).varies(constant)
    changed = constant.copy()
    changed[-1] += 1  # the last row, in the last block, differs from its group's first row
    assert np.flatnonzero(np.where(inside, codes, 0) == max(codes[-1], 0))[0] < n - _SCAN_BLOCK
    assert Groups(np.where(inside, codes, 0), 50_000).varies(changed)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.uint16])
def test_dense_codes_of_ordered_and_unordered_integers_equal_factorize(dtype):
    """Ordered integers are their own codes only when no value is skipped or repeated out of
    order; unsigned values that wrap around are not ordered."""
    rng = np.random.default_rng(3)
    cases = [np.repeat(np.arange(300), 1_000), np.sort(rng.integers(0, 200, 600_000)),
             np.repeat(np.arange(300), 1_000)[::-1], rng.integers(0, 250, 600_000)]
    for values in cases:
        values = values.astype(dtype)  # 300 wraps around in uint8
        groups, uniques = Groups.factorize(values)
        want_codes, want_uniques = pd.factorize(values, sort=True)
        np.testing.assert_array_equal(groups.codes, want_codes)
        np.testing.assert_array_equal(uniques, want_uniques)


def test_runs_found_block_by_block_equal_a_direct_comparison():
    """Runs of rows longer than a block, and a change inside a run past the first block."""
    sizes = np.random.default_rng(5).integers(1, 400_000, 6)
    codes = np.repeat(np.arange(6), sizes)
    g = Groups(codes, 6)
    np.testing.assert_array_equal(g.run_starts, np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    assert not g.varies(codes * 3)
    inside_run = codes * 3
    inside_run[sizes[0] + sizes[1] // 2 + _SCAN_BLOCK // 3] += 1
    assert g.varies(inside_run)
    assert Groups(np.concatenate([codes[:-1], [0]]), 6).run_starts is None


def test_sums_in_blocks_equal_groupby_for_runs_and_scattered_codes():
    """Sums of a matrix formed block by block: runs crossing blocks, and unsorted codes."""
    rng = np.random.default_rng(8)
    n = 3 * _BLOCK + 1_234
    runs = np.sort(rng.integers(0, 40, n))  # a few long runs, most crossing a block's edge
    scattered = rng.integers(0, 5_000, n)
    x = rng.normal(size=(n, 2))
    blocks_asked = []

    def block(start, stop):
        blocks_asked.append(stop - start)
        return x[start:stop]

    by_run, by_code = sums_in_blocks([Groups(runs, 40), Groups(scattered, 5_000)], block, n, 2)
    assert max(blocks_asked) <= _BLOCK and sum(blocks_asked) == n
    frame = pd.DataFrame({"r": runs, "s": scattered, "x0": x[:, 0], "x1": x[:, 1]})
    np.testing.assert_allclose(by_run, frame.groupby("r")[["x0", "x1"]].sum().reindex(range(40), fill_value=0.0), rtol=1e-12)
    np.testing.assert_allclose(by_code, frame.groupby("s")[["x0", "x1"]].sum().reindex(range(5_000), fill_value=0.0),
                               rtol=1e-10, atol=1e-12)


def _pair_case(sorted_rows: bool, seed: int = 12):
    """Clusters with ids 501 … (sorted in runs, or shuffled), domains with rows in no domain,
    a domain absent from most clusters, and a two-column matrix to sum."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 60, 300)
    ids = np.repeat(np.arange(501, 801), sizes)
    n = ids.size
    domain = rng.integers(-1, 6, n)
    domain[rng.random(n) < 0.9] %= 5  # domain 5 is rare
    x = rng.normal(size=(n, 2))
    if not sorted_rows:
        order = rng.permutation(n)
        ids, domain, x = ids[order], domain[order], x[order]
    ids.flags.writeable = False  # as a column of a copy-on-write frame
    return ids, domain, x


@pytest.mark.parametrize("sorted_rows", [True, False])
def test_pair_sums_in_blocks_equal_groupby(monkeypatch, sorted_rows):
    """Pairs present, in Groups.pairs' order, with their sums and only the blocks asked for."""
    import surveycore.groups as module

    monkeypatch.setattr(module, "_BLOCK", 97)
    ids, domain, x = _pair_case(sorted_rows)
    clusters, _ = Groups.factorize(ids)
    assert (clusters._codes is None) == sorted_rows  # sorted ids: no array of codes
    asked = []

    def block(start, stop):
        asked.append((start, stop))
        return x[start:stop]

    cl, dom, totals = pair_sums_in_blocks(clusters, domain, 6, block, ids.size, 2)
    frame = pd.DataFrame({"c": ids - 501, "d": domain, "x0": x[:, 0], "x1": x[:, 1]})
    want = frame[frame["d"] >= 0].groupby(["c", "d"])[["x0", "x1"]].sum()
    np.testing.assert_array_equal(cl, want.index.get_level_values("c"))
    np.testing.assert_array_equal(dom, want.index.get_level_values("d"))
    np.testing.assert_allclose(totals, want.to_numpy(), rtol=1e-12, atol=1e-12)
    _, pair_cluster, pair_domain = Groups.pairs(ids - 501, 300, domain, 6)
    np.testing.assert_array_equal(cl, pair_cluster)
    np.testing.assert_array_equal(dom, pair_domain)
    assert [a for a, _ in asked] == sorted(a for a, _ in asked) and asked[-1][1] == ids.size
    assert sum(b - a for a, b in asked) == ids.size
    assert (clusters._codes is None) == sorted_rows  # still none formed


def test_codes_formed_on_demand_equal_factorize_and_never_share_a_writable_array():
    ids, _, x = _pair_case(True)
    g, uniques = Groups.factorize(ids)
    frame = pd.DataFrame({"c": ids, "x": x[:, 0]})
    np.testing.assert_array_equal(uniques, np.arange(501, 801))
    np.testing.assert_array_equal(g.sizes, frame.groupby("c").size().to_numpy())
    np.testing.assert_array_equal(g.first_row, frame.reset_index().groupby("c")["index"].min().to_numpy())
    np.testing.assert_allclose(g.sum(x[:, 0]), frame.groupby("c")["x"].sum().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(g.block_codes(100, 250), pd.factorize(ids, sort=True)[0][100:250])
    assert g._codes is None and g.n == ids.size
    np.testing.assert_array_equal(g.codes, pd.factorize(ids, sort=True)[0])
    assert not g.codes.flags.writeable
    writable = np.array(ids)  # a caller's own array: its codes are a new array at once
    h, _ = Groups.factorize(writable)
    assert h._codes is not None and not np.shares_memory(h.codes, writable)
    writable[:] = 0
    np.testing.assert_array_equal(h.codes, g.codes)
