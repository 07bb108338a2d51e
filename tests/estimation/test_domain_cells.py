"""Cells of several ``by`` columns against pandas' groupby (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from estimation.domains import DomainIndex


def _survey_file(n: int = 4000, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": rng.integers(1, 3, n),
        "age_band": rng.choice([-9, 15, 25, 45, 65], n),  # integers with gaps and a negative code
        "province": rng.choice(["01", "02", "10", "11"], n),  # text codes with leading zeros
        "country": pd.Categorical(rng.choice(["MLI", "NER", "BFA"], n), categories=["NER", "MLI", "BFA", "SEN"]),
        "score": np.where(rng.random(n) < 0.05, np.nan, rng.integers(0, 3, n).astype(float)),
    })


def test_crossed_cells_equal_groupby_codes_and_labels():
    df = _survey_file()
    by = ["sex", "age_band", "province", "country", "score"]
    codes, labels = DomainIndex(df).cells(by)
    grouped = df.groupby(by, sort=True, dropna=True, observed=True)
    want = grouped.ngroup()
    np.testing.assert_array_equal(codes[want.notna().to_numpy()], want.dropna().to_numpy())
    assert (codes[df["score"].isna().to_numpy()] == -1).all()
    keys = grouped.size().index.to_frame(index=False)
    for c in by:
        np.testing.assert_array_equal(labels[c].to_numpy(), keys[c].to_numpy())
    assert isinstance(labels["country"].dtype, pd.CategoricalDtype)


def test_every_row_active_gives_the_cached_codes_read_only():
    df = _survey_file()
    index = DomainIndex(df)
    codes, labels = index.domains(["sex", "province"], np.ones(len(df), dtype=bool))
    assert codes is index.cells(["sex", "province"])[0] and not codes.flags.writeable
    np.testing.assert_array_equal(index.sizes(codes, len(labels)), df.groupby(["sex", "province"]).size().to_numpy())
    some = np.arange(len(df)) % 3 == 0
    part, part_labels = index.domains(["sex", "province"], some)
    want = df[some].groupby(["sex", "province"]).ngroup().to_numpy()
    np.testing.assert_array_equal(part[some], want)
    assert (part[~some] == -1).all() and len(part_labels) == want.max() + 1


def test_many_fine_columns_are_recoded_on_the_way_and_keep_the_order():
    # five columns of ~2,000 levels: the key space passes 2⁴⁰ and is coded before growing on
    rng = np.random.default_rng(8)
    df = pd.DataFrame({f"c{i}": rng.integers(0, 2000, 3000) for i in range(5)})
    by = list(df.columns)
    codes, labels = DomainIndex(df).cells(by)
    np.testing.assert_array_equal(codes, df.groupby(by, sort=True).ngroup().to_numpy())
    np.testing.assert_array_equal(labels.to_numpy(), df.groupby(by).size().index.to_frame(index=False).to_numpy())


def test_integer_columns_of_narrow_range_equal_groupby_codes_labels_and_sizes():
    # integer codes as offices store them: unsigned, negative "not stated", gaps, absent cells
    rng = np.random.default_rng(5)
    n = 6000
    df = pd.DataFrame({
        "sex": rng.integers(1, 3, n).astype(np.uint8),
        "age": rng.choice([-9, 15, 25, 45, 65], n),
        "region": rng.choice([3, 7, 11, 40], n).astype(np.int16),
        "country": rng.integers(100, 140, n),
    })
    df = df[~((df["sex"] == 2) & (df["age"] == 65))]
    index = DomainIndex(df)
    for by in (["region"], ["sex", "age", "region", "country"]):
        codes, labels = index.cells(by)
        grouped = df.groupby(by, sort=True)
        np.testing.assert_array_equal(codes, grouped.ngroup().to_numpy())
        sizes = grouped.size()
        np.testing.assert_array_equal(labels.to_numpy(), sizes.index.to_frame(index=False).to_numpy())
        np.testing.assert_array_equal(index.sizes(codes, len(labels)), sizes.to_numpy())
        assert [labels[c].dtype for c in by] == [df[c].dtype for c in by]
        assert not codes.flags.writeable


def test_one_integer_column_counted_once_equals_factorize_and_value_counts():
    """Codes 0 … D−1 all present (shared, read-only), 1 … D, codes with gaps (ranked), and a
    negative code or a wide range (the general route): codes, labels and sizes as pandas."""
    rng = np.random.default_rng(6)
    cases = {"zero_based": rng.integers(0, 7, 3000), "one_based": rng.integers(1, 21, 3000),
             "gaps": rng.choice([3, 7, 9, 40], 3000), "negative": rng.choice([-9, 1, 2], 3000),
             "wide": rng.choice([5, 1 << 17], 3000)}
    df = pd.DataFrame(cases)
    for name, values in cases.items():
        index = DomainIndex(df)
        codes, labels = index.cells([name])
        want_codes, want_levels = pd.factorize(values, sort=True)
        np.testing.assert_array_equal(codes, want_codes)
        np.testing.assert_array_equal(labels[name].to_numpy(), want_levels)
        assert labels[name].dtype == df[name].dtype and not codes.flags.writeable
        np.testing.assert_array_equal(index.sizes(codes, len(labels)),
                                      pd.Series(values).value_counts().sort_index().to_numpy())
    codes, _ = DomainIndex(df).cells(["zero_based"])
    column = df["zero_based"].to_numpy()
    # the column itself when nobody can change it (copy-on-write), else a copy of its own
    assert np.shares_memory(codes, column) == (not column.flags.writeable)
