"""Synthetic census: a whole country of households and persons, deterministic from a seed.

The census is the known population behind the demo and the design-based simulation. It has
regions, districts and urban/rural enumeration areas (EAs), households and persons, with
international migrants clustered in some EAs and regions. Every person carries the census
answers the migration concepts need: country of birth, citizenship and how it was acquired,
month and year of arrival and of acquisition of citizenship, country of residence one and
five years ago; every household reports its former members now living abroad in an emigrant
roster (sex, age at departure, month and year of departure, country of destination).

The country is generated in blocks of EAs, each with its own random stream spawned from the
seed (:class:`numpy.random.SeedSequence`), so the in-memory census and the census streamed to
Parquet block by block (:func:`write_census`) are the same rows, and memory stays bounded by
one block whatever the size (10⁴ to 10⁸ persons).

Codes
-----
Countries are ISO 3166-1 alpha-3 codes; the synthetic reporting country takes a real code
(``"POL"`` by default, so that :func:`questionnaires.derive` accepts it; the population is
invented) and ``"XXA"`` marks a stateless person (ICAO 9303 convention).
The person columns are the answer columns of the ``core`` questionnaire module
(:mod:`questionnaires.inputs`), so the census derives without renaming.
Sex is ``"F"``/``"M"``. Missing ("not in universe") answers are missing values: year of
arrival of a native-born non-migrant, residence one year ago of a person under one, etc.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from surveycore import SurveyError

#: Origin countries of immigrants and destinations of emigrants (ISO 3166-1 alpha-3).
ORIGINS: tuple[str, ...] = ("UKR", "SYR", "IND", "PHL", "ROU", "TUR", "MAR", "COL", "NGA", "CHN")
DESTINATIONS: tuple[str, ...] = ("DEU", "USA", "GBR", "FRA", "ITA", "ESP", "CAN", "ARE")
_SPARE = {"origin": "PAK", "destination": "AUS"}


def _abroad(codes: tuple[str, ...], country: str, spare: str) -> np.ndarray:
    """The code list without the reporting country (replaced by a spare code, same length)."""
    return np.asarray([spare if c == country else c for c in codes], dtype=object)
STATELESS = "XXA"
EDUCATION = ("none", "primary", "secondary", "tertiary")
LABOUR = ("employed", "unemployed", "outside")
ACQUISITION = ("birth", "naturalisation", "marriage", "declaration")
REASONS = ("work", "family", "study", "protection")

EAS_PER_BLOCK = 2000
"""EAs generated per random block (about 700,000 persons): the unit of streaming."""


@dataclass(frozen=True)
class Census:
    """A synthetic census: EAs, households, persons and emigrants.

    Attributes
    ----------
    eas : pandas.DataFrame
        One row per enumeration area: ``ea_id, region, district, urban, x, y`` and census
        counts ``households, persons, foreign_born, foreign_citizens, migrant_households,
        emigrants_12m`` (the sampling frame).
    households : pandas.DataFrame
        ``household_id, ea_id, region, district, urban, size, migrant_household,
        emigrants, emigrants_12m``.
    persons : pandas.DataFrame
        ``person_id, household_id, ea_id, region, district, urban, line, sex, age,
        age_group, birth_year, country_birth, citizenship, citizenship_acquired,
        year_citizenship, month_citizenship, ever_lived_abroad, lived_here_before, year_arrival,
        month_arrival, months_in_country_last12, intended_stay_months, residence_1y,
        residence_5y, reason_migration, hh_members_abroad, education, labour_status``.
    emigrants : pandas.DataFrame
        The emigrant roster of every household (former members living abroad, the roster
        of the core module): ``household_id, ea_id, emigrant_sex, emigrant_age`` (at
        departure), ``emigrant_year_departure, emigrant_month_departure,
        emigrant_destination``.
    country, reference_year, seed
        The reporting country code, the census reference year and the seed.
    """

    eas: pd.DataFrame
    households: pd.DataFrame
    persons: pd.DataFrame
    emigrants: pd.DataFrame
    country: str = "POL"
    reference_year: int = 2025
    seed: int = 0
    meta: dict = field(default_factory=dict)

    def totals(self, by: str | list[str]) -> pd.Series:
        """Census person counts by one or more columns (the calibration targets)."""
        return self.persons.groupby(by, observed=True).size().rename("persons")

    # the access methods the pipeline uses (shared with ParquetCensus)
    @property
    def n_persons(self) -> int:
        return len(self.persons)

    @property
    def n_households(self) -> int:
        return len(self.households)

    def households_in(self, ea_ids) -> pd.DataFrame:
        """Households of the given EAs (the listing of selected EAs)."""
        return self.households.loc[self.households["ea_id"].isin(ea_ids)].copy()

    def persons_in(self, ea_ids) -> pd.DataFrame:
        """Persons of the given EAs."""
        return self.persons.loc[self.persons["ea_id"].isin(ea_ids)]

    def emigrants_in(self, ea_ids) -> pd.DataFrame:
        """Emigrant rosters of the households of the given EAs."""
        return self.emigrants.loc[self.emigrants["ea_id"].isin(ea_ids)]

    def person_counts(self, column: str) -> dict:
        """Census person count of every level of ``column``."""
        return self.persons[column].value_counts(sort=False).to_dict()


# --------------------------------------------------------------------------------------
# geography


def _geography(n_persons: int, rng: np.random.Generator, n_regions: int) -> pd.DataFrame:
    """Regions, districts and EAs with their household counts and migrant propensities."""
    mean_hh_size = 2.9
    n_households = max(int(round(n_persons / mean_hh_size)), 40)
    ea_hh = rng.integers(60, 181, size=n_households // 60 + 2)
    cum = np.cumsum(ea_hh)
    n_ea = int(np.searchsorted(cum, n_households) + 1)
    ea_hh = ea_hh[:n_ea].copy()
    ea_hh[-1] = max(n_households - (cum[n_ea - 2] if n_ea > 1 else 0), 20)

    districts_per_region = 6 if n_ea >= 4 * n_regions * 6 else 2
    n_districts = n_regions * districts_per_region
    district_share = rng.dirichlet(np.full(n_districts, 4.0))
    district = np.sort(rng.choice(n_districts, size=n_ea, p=district_share))
    region = district // districts_per_region

    # region and district character: capital (region 0) urban, a border region and an
    # emigration region
    region_urban = np.clip(rng.normal(0.35, 0.12, n_regions), 0.1, 0.7)
    region_urban[0] = 0.9
    region_mig = rng.normal(0.0, 0.6, n_regions)
    region_mig[0] += 0.8
    region_mig[n_regions - 1] += 0.9
    region_emig = rng.normal(0.0, 0.3, n_regions)
    region_emig[min(2, n_regions - 1)] += 1.0
    urban = rng.random(n_ea) < region_urban[region]
    ea_effect = rng.normal(0.0, 1.1, n_ea)
    p_mig = 1.0 / (1.0 + np.exp(-(-3.3 + region_mig[region] + 1.1 * urban + ea_effect)))
    lam_emig = 0.08 * np.exp(region_emig[region] - 0.5 * urban + rng.normal(0, 0.4, n_ea))

    angle = 2 * np.pi * np.arange(n_regions) / n_regions
    rx = np.where(np.arange(n_regions) == 0, 0.0, 3.0 * np.cos(angle))
    ry = np.where(np.arange(n_regions) == 0, 0.0, 3.0 * np.sin(angle))
    dx = rx[district // districts_per_region] + rng.normal(0, 0.7, n_districts)[district]
    dy = ry[district // districts_per_region] + rng.normal(0, 0.7, n_districts)[district]
    spread = np.where(urban, 0.15, 0.45)
    return pd.DataFrame(
        {
            "ea_id": np.arange(1, n_ea + 1, dtype=np.int64),
            "region": np.array([f"R{i + 1}" for i in range(n_regions)], dtype=object)[region],
            "district": np.array([f"D{i + 1:02d}" for i in range(n_districts)], dtype=object)[district],
            "urban": np.where(urban, "urban", "rural"),
            "x": dx + rng.normal(0, 1, n_ea) * spread,
            "y": dy + rng.normal(0, 1, n_ea) * spread,
            "households": ea_hh.astype(np.int64),
            "_p_mig": p_mig,
            "_lam_emig": lam_emig,
            "_region": region,
        }
    )


def _origin_probs(n_regions: int, rng: np.random.Generator) -> np.ndarray:
    """Cumulative origin-country distribution per region (regions × countries)."""
    base = np.array([0.22, 0.14, 0.12, 0.10, 0.10, 0.09, 0.08, 0.06, 0.05, 0.04])
    probs = np.vstack([rng.dirichlet(base * 30) for _ in range(n_regions)])
    return np.cumsum(probs, axis=1)


def _draw_index(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """Draw one category per row of a cumulative probability matrix."""
    u = rng.random(cum.shape[0]) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1)


# --------------------------------------------------------------------------------------
# one block of EAs


def _block(
    eas: pd.DataFrame,
    rng: np.random.Generator,
    origin_cum: np.ndarray,
    country: str,
    ref: int,
    first_household: int,
    first_person: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_hh_ea = eas["households"].to_numpy()
    H = int(n_hh_ea.sum())
    hh_ea = np.repeat(np.arange(len(eas)), n_hh_ea)
    urban = (eas["urban"].to_numpy() == "urban")[hh_ea]
    region = eas["_region"].to_numpy()[hh_ea]

    migrant = rng.random(H) < eas["_p_mig"].to_numpy()[hh_ea]
    returnee = (~migrant) & (rng.random(H) < 0.006)
    size = 1 + rng.poisson(np.where(urban, 1.6, 2.1) + 0.4 * migrant)
    origin = _draw_index(rng, origin_cum[region])
    years_since = np.minimum(np.floor(rng.exponential(9.0, H)), 45).astype(np.int64)
    years_since[returnee] = rng.integers(0, 8, int(returnee.sum()))
    ret_from = rng.integers(0, len(DESTINATIONS), H)

    # persons
    P = int(size.sum())
    p_hh = np.repeat(np.arange(H), size)
    start = np.cumsum(size) - size
    line = np.arange(P) - start[p_hh]
    head_age = np.clip(20 + rng.gamma(3.0, 9.0, H), 18, 95).astype(np.int64)
    age = np.empty(P, dtype=np.int64)
    is_head, is_spouse, is_child = line == 0, line == 1, line >= 2
    age[is_head] = head_age
    age[is_spouse] = np.clip(head_age[p_hh[is_spouse]] + rng.normal(-2, 5, is_spouse.sum()), 17, 99)
    child_gap = 20 + rng.integers(0, 22, is_child.sum())
    age[is_child] = np.maximum(head_age[p_hh[is_child]] - child_gap, 0)
    sex_head = rng.random(H) < 0.5
    female = np.where(is_head, sex_head[p_hh], rng.random(P) < 0.5)
    female[is_spouse] = np.where(rng.random(is_spouse.sum()) < 0.9, ~sex_head[p_hh[is_spouse]],
                                 female[is_spouse])

    hh_mig, ys = migrant[p_hh], years_since[p_hh]
    foreign_born = hh_mig & (is_head | (is_spouse & (rng.random(P) < 0.85)) | (is_child & (age >= ys)))
    # foreign-born spouses in non-migrant households (own arrival)
    lone = (~hh_mig) & is_spouse & (rng.random(P) < 0.03)
    foreign_born |= lone
    ys_p = ys.copy()
    ys_p[lone] = np.floor(rng.exponential(12.0, lone.sum())).astype(np.int64)
    ys_p = np.minimum(ys_p, age)
    origin_p = origin[p_hh].copy()
    origin_p[lone] = _draw_index(rng, origin_cum[region[p_hh[lone]]])
    origin_code = _abroad(ORIGINS, country, _SPARE["origin"])[origin_p]

    # returnees: native-born citizens who came back from abroad (born before the return)
    ret = returnee[p_hh] & (age >= ys) & ~foreign_born
    arrived = foreign_born | ret

    country_birth = np.where(foreign_born, origin_code, country).astype(object)
    year_arrival = np.where(arrived, ref - ys_p, -1)

    # citizenship
    citizen = ~foreign_born & ~(hh_mig & (rng.random(P) < 0.4))
    span = np.maximum(ys_p - 3, 0)
    naturalised = foreign_born & (rng.random(P) < 1 - np.exp(-span / 12.0))
    citizen |= naturalised
    stateless = ~citizen & (rng.random(P) < 0.01)
    citizenship = np.where(citizen, country, np.where(stateless, STATELESS, origin_code))
    how = rng.random(P)
    acquisition = np.where(how < 0.75, "naturalisation", np.where(how < 0.9, "marriage", "declaration"))
    acquisition = np.where(naturalised, acquisition, np.where(citizen, "birth", None)).astype(object)
    year_cit = np.where(naturalised, ref - ys_p + 3 + np.floor(rng.random(P) * (span + 1)), -1)
    year_cit = np.minimum(year_cit, ref).astype(np.int64)
    month_cit = rng.integers(1, 13, P)

    # residence one and five years ago
    destinations = _abroad(DESTINATIONS, country, _SPARE["destination"])
    abroad_from = np.where(ret, destinations[ret_from[p_hh]], origin_code)
    res1 = np.where(arrived & (ys_p < 1), abroad_from, country).astype(object)
    res1[age < 1] = None
    res5 = np.where(arrived & (ys_p < 5), abroad_from, country).astype(object)
    res5[age < 5] = None

    # education and labour status (15 and over)
    adult = age >= 15
    edu_score = rng.normal(0, 1, P) + 0.5 * urban[p_hh] - 0.01 * (age - 40) + 0.2 * foreign_born
    edu = np.digitize(edu_score, [-1.6, -0.3, 1.0])
    education = np.where(adult, np.asarray(EDUCATION, dtype=object)[edu], None)
    p_emp = np.where((age >= 20) & (age < 65), 0.72, 0.2) + 0.05 * edu - 0.08 * female
    lab_u = rng.random(P)
    labour = np.where(lab_u < p_emp, 0, np.where(lab_u < p_emp + 0.06, 1, 2))
    labour_status = np.where(adult, np.asarray(LABOUR, dtype=object)[labour], None)

    # emigrants: former household members now abroad, departed ``e_months`` months before
    # the end of the reference year (the census reference date, 31 December)
    n_emig = rng.poisson(eas["_lam_emig"].to_numpy()[hh_ea] * (1 + 0.5 * (~urban)))
    E = int(n_emig.sum())
    e_hh = np.repeat(np.arange(H), n_emig)
    e_months = np.floor(rng.exponential(48.0, E)).astype(np.int64)
    e_index = ref * 12 + 11 - e_months
    emig_12m = np.bincount(e_hh[e_months < 12], minlength=H)
    n_emig_5y = np.bincount(e_hh[e_months < 60], minlength=H).astype(np.int64)
    month_arr = rng.integers(1, 13, P)
    reason = rng.choice(len(REASONS), size=P, p=(0.45, 0.35, 0.1, 0.1))

    ea_ids = eas["ea_id"].to_numpy()
    hh_id = first_household + np.arange(H, dtype=np.int64)
    geo = {
        "ea_id": ea_ids[hh_ea],
        "region": eas["region"].to_numpy()[hh_ea],
        "district": eas["district"].to_numpy()[hh_ea],
        "urban": eas["urban"].to_numpy()[hh_ea],
    }
    any_fb = np.bincount(p_hh, weights=foreign_born, minlength=H) > 0
    households = pd.DataFrame(
        {
            "household_id": hh_id,
            **geo,
            "size": size.astype(np.int64),
            "migrant_household": any_fb | returnee | (n_emig > 0),
            "emigrants": n_emig.astype(np.int64),
            "emigrants_12m": emig_12m.astype(np.int64),
        }
    )
    age_group = np.minimum(age // 15, 4)
    persons = pd.DataFrame(
        {
            "person_id": first_person + np.arange(P, dtype=np.int64),
            "household_id": hh_id[p_hh],
            **{k: v[p_hh] for k, v in geo.items()},
            "line": (line + 1).astype(np.int64),
            "sex": np.where(female, "F", "M"),
            "age": age,
            "age_group": np.asarray(AGE_GROUPS, dtype=object)[age_group],
            "birth_year": (ref - age).astype(np.int64),
            "country_birth": country_birth,
            "citizenship": citizenship.astype(object),
            "citizenship_acquired": acquisition,
            "year_citizenship": pd.array(np.where(year_cit < 0, None, year_cit), dtype="Int64"),
            "month_citizenship": pd.array(np.where(year_cit < 0, None, month_cit), dtype="Int64"),
            "ever_lived_abroad": np.where(arrived, "yes", "no"),
            # asked of the foreign-born: immigrants here come for the first time
            "lived_here_before": np.where(foreign_born, "no", None).astype(object),
            "year_arrival": pd.array(np.where(year_arrival < 0, None, year_arrival), dtype="Int64"),
            "month_arrival": pd.array(np.where(arrived, month_arr, None), dtype="Int64"),
            "months_in_country_last12": np.where(arrived & (ys_p < 1), 13 - month_arr, 12),
            "intended_stay_months": pd.array(np.where(arrived, 99, None), dtype="Int64"),
            "residence_1y": res1,
            "residence_5y": res5,
            "reason_migration": np.where(ret, "return", np.where(
                arrived, np.asarray(REASONS, dtype=object)[reason], None)).astype(object),
            "hh_members_abroad": n_emig_5y[p_hh],
            "education": education,
            "labour_status": labour_status,
        }
    )
    emigrants = pd.DataFrame(
        {
            "household_id": hh_id[e_hh],
            "ea_id": ea_ids[hh_ea[e_hh]],
            "emigrant_sex": np.where(rng.random(E) < 0.45, "F", "M"),
            "emigrant_age": (18 + rng.gamma(2.0, 6.0, E)).astype(np.int64),
            "emigrant_year_departure": (e_index // 12).astype(np.int64),
            "emigrant_month_departure": (e_index % 12 + 1).astype(np.int64),
            "emigrant_destination": destinations[
                rng.integers(0, len(DESTINATIONS), E)
            ],
        }
    )
    return households, persons, emigrants


AGE_GROUPS = ("0-14", "15-29", "30-44", "45-59", "60+")
AGE_BREAKS = (0, 15, 30, 45, 60)
"""Lower limits of :data:`AGE_GROUPS` (for the emigrants' age groups)."""


def _ea_counts(eas: pd.DataFrame, households: pd.DataFrame, persons: pd.DataFrame,
               country: str) -> pd.DataFrame:
    """Census counts per EA for the sampling frame."""
    idx = pd.Index(eas["ea_id"])
    p_ea = idx.get_indexer(persons["ea_id"])
    h_ea = idx.get_indexer(households["ea_id"])
    n = len(eas)
    out = eas.copy()
    out["households"] = np.bincount(h_ea, minlength=n)
    out["persons"] = np.bincount(p_ea, minlength=n)
    out["foreign_born"] = np.bincount(p_ea, weights=(persons["country_birth"] != country), minlength=n).astype(np.int64)
    out["foreign_citizens"] = np.bincount(p_ea, weights=(persons["citizenship"] != country), minlength=n).astype(np.int64)
    out["migrant_households"] = np.bincount(h_ea, weights=households["migrant_household"], minlength=n).astype(np.int64)
    out["emigrants_12m"] = np.bincount(h_ea, weights=households["emigrants_12m"], minlength=n).astype(np.int64)
    return out


def _check_size(n_persons: int) -> int:
    if not isinstance(n_persons, int | np.integer) or not 1_000 <= n_persons <= 1_000_000_000:
        raise SurveyError(
            "census size out of range",
            argument="n_persons",
            expected="an integer from 1,000 to 1,000,000,000",
            found=repr(n_persons),
            hint="use write_census() to stream sizes above a few million to Parquet",
        )
    return int(n_persons)


def _blocks(n_persons: int, seed: int, country: str, reference_year: int, n_regions: int
            ) -> tuple[pd.DataFrame, Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]]]:
    n_persons = _check_size(n_persons)
    root = np.random.SeedSequence(seed)
    geo_seq, origin_seq, block_seq = root.spawn(3)
    eas = _geography(n_persons, np.random.default_rng(geo_seq), n_regions)
    origin_cum = _origin_probs(n_regions, np.random.default_rng(origin_seq))
    n_blocks = -(-len(eas) // EAS_PER_BLOCK)
    seqs = block_seq.spawn(n_blocks)

    def gen():
        next_hh, next_p = 1, 1
        for b in range(n_blocks):
            part = eas.iloc[b * EAS_PER_BLOCK:(b + 1) * EAS_PER_BLOCK]
            hh, pp, em = _block(part, np.random.default_rng(seqs[b]), origin_cum, country,
                                reference_year, next_hh, next_p)
            next_hh += len(hh)
            next_p += len(pp)
            yield _ea_counts(part, hh, pp, country), hh, pp, em

    return eas, gen()


def _public_eas(eas: pd.DataFrame) -> pd.DataFrame:
    return eas.drop(columns=[c for c in eas.columns if c.startswith("_")]).reset_index(drop=True)


def synthetic_census(
    n_persons: int = 100_000,
    *,
    seed: int = 1,
    country: str = "POL",
    reference_year: int = 2025,
    n_regions: int = 8,
) -> Census:
    """Generate a synthetic census in memory.

    Parameters
    ----------
    n_persons : int
        Approximate number of persons (the census has about ``n_persons / 2.9``
        households in EAs of 60–180 households); 1,000 to a few million in memory.
    seed : int
        Seed of every random draw: the same seed gives the same census.
    country : str
        Code of the reporting country (ISO 3166-1 alpha-3 or a user-assigned code).
    reference_year : int
        Census year; the census reference date is 31 December of that year (arrivals,
        acquisitions and departures are dated by month and year before it).
    n_regions : int
        Number of first-level regions (each with six districts, two for tiny censuses).

    Returns
    -------
    Census

    Examples
    --------
    >>> c = synthetic_census(20_000, seed=3)
    >>> sorted(c.persons["sex"].unique())
    ['F', 'M']
    >>> bool(c.eas["persons"].sum() == len(c.persons))
    True
    >>> c2 = synthetic_census(20_000, seed=3)
    >>> c.persons.equals(c2.persons)
    True
    """
    _, parts = _blocks(n_persons, seed, country, reference_year, n_regions)
    eas_l, hh_l, pp_l, em_l = zip(*parts, strict=True)
    return Census(
        eas=_public_eas(pd.concat(eas_l)),
        households=pd.concat(hh_l, ignore_index=True),
        persons=pd.concat(pp_l, ignore_index=True),
        emigrants=pd.concat(em_l, ignore_index=True),
        country=country,
        reference_year=reference_year,
        seed=seed,
    )


def write_census(
    directory: str | Path,
    n_persons: int,
    *,
    seed: int = 1,
    country: str = "POL",
    reference_year: int = 2025,
    n_regions: int = 8,
    progress=None,
) -> dict[str, Path]:
    """Stream a synthetic census to Parquet files, one block of EAs at a time.

    Memory is bounded by one block (about 700,000 persons) whatever ``n_persons``; the rows
    are those of :func:`synthetic_census` with the same arguments.

    Parameters
    ----------
    directory : str or Path
        Output folder; ``eas.parquet``, ``households.parquet``, ``persons.parquet`` and
        ``emigrants.parquet`` are written there.
    n_persons, seed, country, reference_year, n_regions
        As in :func:`synthetic_census`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block.

    Returns
    -------
    dict
        The four file paths, keyed ``eas``, ``households``, ``persons``, ``emigrants``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    eas, parts = _blocks(n_persons, seed, country, reference_year, n_regions)
    n_blocks = -(-len(eas) // EAS_PER_BLOCK)
    paths = {k: out / f"{k}.parquet" for k in ("eas", "households", "persons", "emigrants")}
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for b, (e, h, p, m) in enumerate(parts):
            for key, frame in (("eas", _public_eas(e)), ("households", h), ("persons", p),
                               ("emigrants", m)):
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if key not in writers:
                    writers[key] = pq.ParquetWriter(paths[key], table.schema)
                writers[key].write_table(table.cast(writers[key].schema))
            if progress is not None:
                progress(b + 1, n_blocks)
    finally:
        for w in writers.values():
            w.close()
    return paths


def read_census(directory: str | Path, *, country: str = "POL", reference_year: int = 2025,
                ea_ids=None) -> Census:
    """Read a census written by :func:`write_census`, optionally only some EAs.

    ``ea_ids`` restricts households, persons and emigrants to those EAs (a Parquet filter,
    so only the selected EAs of a very large census are read).
    """
    import pyarrow.parquet as pq

    d = Path(directory)
    filters = None if ea_ids is None else [("ea_id", "in", [int(i) for i in ea_ids])]

    def rd(name: str) -> pd.DataFrame:
        path = d / f"{name}.parquet"
        if not path.exists():
            raise SurveyError("census file missing", argument="directory",
                              expected=f"{name}.parquet in {d}", found="no such file",
                              hint="write it with `migsurvey frame --synthetic N --out DIR`")
        table = pq.read_table(path, filters=filters if name != "eas" else None)
        return table.to_pandas()

    return Census(eas=rd("eas"), households=rd("households"), persons=rd("persons"),
                  emigrants=rd("emigrants"), country=country, reference_year=reference_year)


class ParquetCensus:
    """A census written by :func:`write_census`, read only where needed.

    The EA table is read at once; households and persons are read for the selected EAs only
    (Parquet row filters), and census counts for calibration are accumulated batch by batch,
    so a census of 10⁸ persons is used with bounded memory.
    """

    def __init__(self, directory: str | Path, *, country: str = "POL",
                 reference_year: int = 2025) -> None:
        import pyarrow.parquet as pq

        self.directory = Path(directory)
        for name in ("eas", "households", "persons"):
            if not (self.directory / f"{name}.parquet").exists():
                raise SurveyError("census file missing", argument="frame.census",
                                  expected=f"{name}.parquet in {self.directory}",
                                  found="no such file",
                                  hint="write it with `migsurvey frame --synthetic N --out DIR`")
        self.eas = pq.read_table(self.directory / "eas.parquet").to_pandas()
        self.country = country
        self.reference_year = reference_year
        self._counts: dict[str, dict] = {}

    def _meta(self, name: str):
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.directory / f"{name}.parquet")

    @property
    def n_persons(self) -> int:
        return self._meta("persons").metadata.num_rows

    @property
    def n_households(self) -> int:
        return self._meta("households").metadata.num_rows

    def _read(self, name: str, ea_ids) -> pd.DataFrame:
        import pyarrow.parquet as pq

        ids = [int(i) for i in pd.unique(pd.Series(ea_ids))]
        return pq.read_table(self.directory / f"{name}.parquet",
                             filters=[("ea_id", "in", ids)]).to_pandas()

    def households_in(self, ea_ids) -> pd.DataFrame:
        return self._read("households", ea_ids)

    def persons_in(self, ea_ids) -> pd.DataFrame:
        return self._read("persons", ea_ids)

    def emigrants_in(self, ea_ids) -> pd.DataFrame:
        """Emigrant rosters of the given EAs (empty if the folder has no emigrants file)."""
        if not (self.directory / "emigrants.parquet").exists():
            return pd.DataFrame(columns=["household_id", "ea_id"])
        return self._read("emigrants", ea_ids)

    def person_counts(self, column: str) -> dict:
        if column not in self._counts:
            f = self._meta("persons")
            if column not in f.schema_arrow.names:
                raise SurveyError("column not in the census", argument="weighting",
                                  expected="person columns of the census", found=column)
            total: pd.Series | None = None
            for batch in f.iter_batches(columns=[column], batch_size=1_000_000):
                vc = batch.column(0).to_pandas().value_counts(sort=False)
                total = vc if total is None else total.add(vc, fill_value=0)
            self._counts[column] = {k: int(v) for k, v in total.items()}
        return self._counts[column]

    def load(self) -> Census:
        """The whole census in memory (for the simulation's population values)."""
        return read_census(self.directory, country=self.country,
                           reference_year=self.reference_year)
