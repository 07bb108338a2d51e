"""Synthetic census: determinism, internal consistency, streaming equals in-memory."""

import numpy as np
import pandas as pd
import pytest

from migsurvey.synthetic import read_census, synthetic_census, write_census
from surveycore import SurveyError


@pytest.fixture(scope="module")
def census():
    return synthetic_census(30_000, seed=7)


def test_deterministic_and_seed_sensitive(census):
    again = synthetic_census(30_000, seed=7)
    assert census.persons.equals(again.persons)
    assert census.emigrants.equals(again.emigrants)
    other = synthetic_census(30_000, seed=8)
    assert not census.persons["age"].equals(other.persons["age"])


def test_size_and_frame_counts(census):
    p, h, e = census.persons, census.households, census.eas
    assert abs(len(p) - 30_000) / 30_000 < 0.05
    assert e["persons"].sum() == len(p)
    assert e["households"].sum() == len(h)
    assert (h.groupby("household_id").size() == 1).all()
    assert (p.groupby("household_id").size().reindex(h["household_id"]).to_numpy()
            == h["size"].to_numpy()).all()
    fb = p.groupby("ea_id")["country_birth"].apply(lambda s: (s != "POL").sum())
    assert (fb.reindex(e["ea_id"]).to_numpy() == e["foreign_born"].to_numpy()).all()
    assert e["emigrants_12m"].sum() == (census.emigrants["emigrant_year_departure"] == 2025).sum()


def test_migration_logic(census):
    p = census.persons
    fb = p["country_birth"] != "POL"
    assert 0.03 < fb.mean() < 0.3
    # arrival year only for persons who came from abroad, never before birth
    arr = p["year_arrival"]
    assert arr[fb].notna().all()
    assert (arr.dropna() >= 2025 - p.loc[arr.notna(), "age"]).all()
    # residence one year ago missing only under age 1; abroad iff arrived this year
    assert p.loc[p["age"] < 1, "residence_1y"].isna().all()
    assert p.loc[p["age"] >= 1, "residence_1y"].notna().all()
    abroad_1y = p["residence_1y"].notna() & (p["residence_1y"] != "POL")
    assert (abroad_1y == (arr == 2025).fillna(False) & (p["age"] >= 1)).all()
    # citizenship acquisition: natives by birth, naturalised foreign-born have a year
    nat = p["citizenship_acquired"].isin(["naturalisation", "marriage", "declaration"])
    assert (p.loc[nat, "citizenship"] == "POL").all()
    assert p.loc[nat, "year_citizenship"].notna().all()
    assert (p.loc[nat, "year_citizenship"] >= p.loc[nat, "year_arrival"]).all()
    assert p.loc[p["citizenship"] != "POL", "citizenship_acquired"].isna().all()
    assert (p.loc[~fb & (p["citizenship"] == "POL"), "citizenship_acquired"] == "birth").all()


def test_migrants_are_clustered(census):
    share = census.eas["foreign_born"] / census.eas["persons"]
    # EA shares far more dispersed than binomial sampling alone would give
    p = share.mean()
    binom_var = (p * (1 - p) / census.eas["persons"]).mean()
    assert share.var() > 5 * binom_var


def test_streaming_equals_memory(tmp_path, census):
    paths = write_census(tmp_path, 30_000, seed=7)
    back = read_census(tmp_path)
    pd.testing.assert_frame_equal(back.persons, census.persons, check_dtype=False)
    pd.testing.assert_frame_equal(back.eas, census.eas, check_dtype=False)
    sub = read_census(tmp_path, ea_ids=[1, 2])
    assert set(sub.persons["ea_id"]) == {1, 2}
    assert paths["persons"].exists()


def test_refuses_bad_size():
    with pytest.raises(SurveyError, match="census size"):
        synthetic_census(10)
    with pytest.raises(SurveyError):
        synthetic_census(np.float64(1e5))


def test_many_blocks_stream_identically(tmp_path, monkeypatch):
    import migsurvey.synthetic as syn

    monkeypatch.setattr(syn, "EAS_PER_BLOCK", 20)
    mem = syn.synthetic_census(20_000, seed=2)
    calls = []
    syn.write_census(tmp_path, 20_000, seed=2, progress=lambda d, t: calls.append((d, t)))
    back = syn.read_census(tmp_path)
    assert len(calls) >= 3 and calls[-1][0] == calls[-1][1]
    pd.testing.assert_frame_equal(back.persons, mem.persons, check_dtype=False)
    assert back.persons["person_id"].is_unique and back.households["household_id"].is_unique
