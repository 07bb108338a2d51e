"""Sampling frames of enumeration areas (EAs): construction, checks, PSU formation, coverage.

A :class:`Frame` is an immutable table with one row per EA (or PSU): an id, measures of size
(households, persons, migrant counts) and classification columns (region, urban/rural …).
:meth:`Frame.from_microdata` builds it from census microdata with one row per person, with one
narwhals aggregation that runs unchanged on pandas, Polars, DuckDB and Dask frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import as_name_list, check_columns, to_pandas


def _count_of(column: str) -> nw.Expr:
    """A 0/1 (or boolean) flag as an integer count, unknown values contributing 0.

    The flag is cast to float first so that a missing value (null, or NaN in a float column)
    can be filled before the integer cast on every engine; unknown values are counted apart
    (``count_unknown``), never as migrants.
    """
    return nw.col(column).cast(nw.Float64).fill_null(0.0).cast(nw.Int64)


@dataclass(frozen=True)
class Frame:
    """An enumeration-area frame.

    Parameters
    ----------
    data : data frame
        One row per EA (pandas or any narwhals-supported frame; copied, never modified).
    id : str
        Column of unique EA ids.
    size : str, optional
        Default measure of size for PPS selection.
    strata : str or list of str, optional
        Default explicit stratification columns.
    psu_map : pandas.DataFrame, optional
        Record of EAs merged into PSUs (set by :meth:`form_psus`).
    counts : tuple of str, optional
        Count columns (households, persons, migrant counts), summed when EAs are merged and in
        coverage tables. Default: the integer columns other than id and strata, and the size.

    Raises
    ------
    SurveyError
        Missing columns, missing or duplicate ids.
    """

    data: pd.DataFrame
    id: str
    size: str | None = None
    strata: tuple[str, ...] = ()
    psu_map: pd.DataFrame | None = field(default=None, repr=False)
    counts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        df = to_pandas(self.data, "data").copy()
        strata = tuple(as_name_list(list(self.strata) if not isinstance(self.strata, str)
                                    else self.strata, "strata"))
        check_columns(df, [self.id], "id")
        check_columns(df, list(strata), "strata")
        if self.size is not None:
            check_columns(df, [self.size], "size")
        ids = df[self.id]
        if ids.is_unique and not ids.hasnans:
            object.__setattr__(self, "data", df.reset_index(drop=True))
            object.__setattr__(self, "strata", strata)
            return
        if ids.isna().any():
            raise SurveyError("EA ids must not be missing", argument="id",
                              expected="an id on every row",
                              found=f"{int(ids.isna().sum())} missing ids")
        dup = ids[ids.duplicated(keep=False)]
        if len(dup):
            raise SurveyError(
                "EA ids are not unique",
                argument="id",
                expected="one row per EA",
                found=f"{dup.nunique()} duplicated ids, e.g. {pd.unique(dup)[:5].tolist()!r}",
                hint="aggregate the rows per EA first, or use a composite id",
            )
        object.__setattr__(self, "data", df.reset_index(drop=True))
        object.__setattr__(self, "strata", strata)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_microdata(
        cls,
        persons: Any,
        *,
        ea: str,
        household: str,
        by: str | Sequence[str] | None = None,
        flags: Mapping[str, str] | None = None,
        household_flags: Mapping[str, str] | None = None,
        size: str | None = "households",
        strata: str | Sequence[str] | None = None,
        count_unknown: bool = False,
    ) -> Frame:
        """Aggregate census microdata (one row per person) to an EA frame.

        Parameters
        ----------
        persons : data frame
            pandas, Polars (eager or lazy), DuckDB relation, Dask or any narwhals-supported frame.
        ea, household : str
            EA and household id columns.
        by : str or list of str, optional
            EA-level classification columns to carry (region, urban …); each EA must have one value.
        flags : mapping, optional
            ``{output name: person-level 0/1 or boolean column}``; gives the number of flagged
            persons per EA, e.g. ``{"foreign_born": "fb", "foreign_citizens": "fc",
            "recent_immigrants": "recent"}`` (the derived variables of ``questionnaires.derive``
            can be named here).
        household_flags : mapping, optional
            ``{output name: column}``; gives the number of households with at least one flagged
            row, e.g. ``{"hh_with_emigrant": "has_emigrant"}``.
        count_unknown : bool
            Also count, per EA, the persons whose flag is missing (column ``<name>_unknown``),
            and for a household flag the households whose status is unknown: no known flagged
            row and at least one row with the flag missing (they are neither flagged nor not).
            Missing flags are never counted as migrants: the derived variables of
            ``questionnaires.derive`` leave unknown answers missing, and they stay unknown here.

        Returns
        -------
        Frame
            Columns: ``ea``, ``by`` columns, ``households``, ``persons``, one column per flag.
        """
        by = as_name_list(by, "by")
        flags = dict(flags or {})
        household_flags = dict(household_flags or {})
        try:
            df = nw.from_native(persons)
        except TypeError:
            raise SurveyError("persons is not a data frame", argument="persons",
                              expected="a pandas, Polars, DuckDB or Dask frame",
                              found=type(persons).__name__) from None
        names = df.columns
        wanted = [ea, household, *by, *flags.values(), *household_flags.values()]
        missing = [c for c in wanted if c not in names]
        if missing:
            raise SurveyError("columns not found in the census microdata", argument="persons",
                              expected="columns " + ", ".join(map(repr, wanted)),
                              found="missing " + ", ".join(map(repr, missing)))
        slim = df.select(
            nw.col(ea), nw.col(household), *[nw.col(c) for c in by],
            *[_count_of(c).alias(f"__p_{k}") for k, c in flags.items()],
            *([nw.col(c).is_null().cast(nw.Int64).alias(f"__u_{k}") for k, c in flags.items()]
              if count_unknown else []),
            *[_count_of(c).alias(f"__h_{k}") for k, c in household_flags.items()],
            *([nw.col(c).is_null().cast(nw.Int64).alias(f"__hu_{k}")
               for k, c in household_flags.items()] if count_unknown else []),
        )
        hh = slim.group_by([ea, household]).agg(
            nw.len().alias("__persons_hh"),
            *[nw.col(f"__h_{k}").max() for k in household_flags],
            *([nw.col(f"__hu_{k}").max() for k in household_flags] if count_unknown else []),
        )
        if count_unknown and household_flags:
            # a household with an unknown member and no known flagged member is unknown
            hh = hh.with_columns(*[(nw.col(f"__hu_{k}") * (1 - nw.col(f"__h_{k}")))
                                   .alias(f"__hu_{k}") for k in household_flags])
        per_ea_hh = hh.group_by(ea).agg(
            nw.len().alias("households"),
            *[nw.col(f"__h_{k}").sum().alias(k) for k in household_flags],
            *([nw.col(f"__hu_{k}").sum().alias(f"{k}_unknown") for k in household_flags]
              if count_unknown else []),
        )
        per_ea = slim.group_by([ea, *by]).agg(
            nw.len().alias("persons"),
            *[nw.col(f"__p_{k}").sum().alias(k) for k in flags],
            *([nw.col(f"__u_{k}").sum().alias(f"{k}_unknown") for k in flags]
              if count_unknown else []),
        )
        out = per_ea.join(per_ea_hh, on=ea, how="left")
        if hasattr(out, "collect"):
            out = out.collect()
        pdf = out.to_pandas()
        unknown = [f"{k}_unknown" for k in flags] if count_unknown else []
        hh_unknown = [f"{k}_unknown" for k in household_flags] if count_unknown else []
        cols = [ea, *by, "households", "persons", *flags, *unknown, *household_flags, *hh_unknown]
        pdf = pdf[cols].sort_values([*by, ea], kind="stable").reset_index(drop=True)
        for c in ["households", "persons", *flags, *unknown, *household_flags, *hh_unknown]:
            pdf[c] = pdf[c].astype("int64")
        if pdf[ea].duplicated().any():
            bad = pd.unique(pdf.loc[pdf[ea].duplicated(), ea])[:5].tolist()
            raise SurveyError("an EA has more than one value of a `by` column", argument="by",
                              expected="EA-level columns (one value per EA)",
                              found=f"EAs {list(bad)!r}")
        return cls(pdf, ea, size=size, strata=tuple(as_name_list(strata, "strata")),
                   counts=("households", "persons", *flags, *unknown, *household_flags,
                           *hh_unknown))

    # ------------------------------------------------------------------ derived frames
    def with_data(self, data: pd.DataFrame, **changes: Any) -> Frame:
        """A new frame with other data (same id, size and strata unless changed)."""
        kw = {"id": self.id, "size": self.size, "strata": self.strata, "psu_map": self.psu_map,
              "counts": self.counts}
        kw.update(changes)
        return Frame(data, **kw)

    def check(self, size: str | None = None, *, min_size: float | None = None) -> FrameReport:
        """Frame checks: missing, zero and small measures of size, and a coverage summary.

        Duplicate ids are refused when the frame is built.
        """
        size = size or self.size
        if size is None:
            raise SurveyError("no measure of size to check", argument="size",
                              expected="a column name", found="None")
        check_columns(self.data, [size], "size")
        x = pd.to_numeric(self.data[size], errors="coerce")
        missing = self.data.loc[x.isna(), self.id].tolist()
        negative = self.data.loc[x < 0, self.id].tolist()
        zero = self.data.loc[x == 0, self.id].tolist()
        small = [] if min_size is None else self.data.loc[(x > 0) & (x < min_size), self.id].tolist()
        return FrameReport(missing=missing, negative=negative, zero=zero, small=small,
                           coverage=self.coverage())

    def coverage(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Counts per stratum (or ``by``) with a total row: EAs and the totals of the count columns.

        Count columns are the integer columns (households, persons, migrant counts) and the
        measure of size; ratios such as prevalences are not summed.
        """
        by = as_name_list(by, "by") or list(self.strata)
        num = [c for c in self.count_columns() if c not in by]
        df = self.data.assign(EAs=1)
        if by:
            table = df.groupby(by, sort=True, observed=True)[["EAs", *num]].sum().reset_index()
        else:
            table = pd.DataFrame(columns=["EAs", *num])
        total = df[["EAs", *num]].sum().to_frame().T
        for c in by:
            total[c] = "Total"
        return pd.concat([table, total[table.columns]], ignore_index=True)

    def form_psus(self, min_size: float, *, size: str | None = None, order: str | Sequence[str] | None = None,
                  psu: str = "psu") -> Frame:
        """Merge EAs smaller than ``min_size`` with neighbours in the same stratum into PSUs.

        Within each stratum, EAs are taken in ``order`` (default: the id, i.e. geographic code
        order) and consecutive EAs are grouped until each group reaches ``min_size``; a small
        remainder at the end joins the previous group. Numeric columns are summed per PSU.
        The mapping EA → PSU is kept in :attr:`psu_map`.
        """
        size = size or self.size
        if size is None:
            raise SurveyError("form_psus needs a measure of size", argument="size",
                              expected="a column name", found="None")
        check_columns(self.data, [size], "size")
        order = as_name_list(order, "order") or [self.id]
        df = self.data.sort_values([*self.strata, *order], kind="stable").reset_index(drop=True)
        x = pd.to_numeric(df[size]).to_numpy(dtype=float)
        if np.isnan(x).any() or (x < 0).any():
            raise SurveyError("measure of size has missing or negative values", argument="size",
                              expected="finite values >= 0", found="missing or negative values",
                              hint="run Frame.check() to list them")
        key = (df.groupby(list(self.strata), sort=False, observed=True).ngroup().to_numpy()
               if self.strata else np.zeros(len(df), dtype=int))
        group = np.empty(len(df), dtype=int)
        g = -1
        acc = 0.0
        prev_key = None
        starts: list[int] = []
        for i in range(len(df)):  # greedy grouping in frame order, sequential by nature
            if key[i] != prev_key or acc >= min_size:
                g += 1
                starts.append(i)
                acc = 0.0
                prev_key = key[i]
            group[i] = g
            acc += x[i]
        sums = np.bincount(group, weights=x)
        skey = key[np.array(starts)]
        for gi in range(g, 0, -1):  # a small last group of a stratum joins the one before
            if sums[gi] < min_size and skey[gi] == skey[gi - 1]:
                group[group == gi] = gi - 1
                sums[gi - 1] += sums[gi]
                sums[gi] = 0
        _, group = np.unique(group, return_inverse=True)
        first_id = df.groupby(group, sort=True)[self.id].first().to_numpy()
        df[psu] = first_id[group]
        mapping = df[[self.id, psu, *self.strata]].copy()
        mapping["merged"] = mapping.groupby(psu)[self.id].transform("size") > 1
        num = [c for c in self.count_columns() if c not in (psu, *self.strata)]
        other = [c for c in df.columns if c not in (self.id, psu, *self.strata, *num)]
        agg = {**{c: "sum" for c in num}, **{c: "first" for c in other}}
        agg["EAs"] = (self.id, "size")
        out = df.groupby([psu, *self.strata], sort=False, observed=True).agg(
            **{k: (v if isinstance(v, tuple) else (k, v)) for k, v in agg.items()}).reset_index()
        return Frame(out, psu, size=self.size, strata=self.strata, psu_map=mapping,
                     counts=(*num, "EAs"))

    def count_columns(self) -> list[str]:
        """The count columns: ``counts`` if declared, else integer columns and the size."""
        if self.counts is not None:
            names = list(self.counts)
            if self.size is not None and self.size not in names:
                names.append(self.size)
            return [c for c in names if c in self.data.columns]
        return [c for c in self.data.columns
                if c != self.id and c not in self.strata
                and (pd.api.types.is_integer_dtype(self.data[c]) or c == self.size)
                and not pd.api.types.is_bool_dtype(self.data[c])]


@dataclass(frozen=True)
class FrameReport:
    """Result of :meth:`Frame.check`: ids with missing, negative, zero or small sizes; coverage."""

    missing: list
    negative: list
    zero: list
    small: list
    coverage: pd.DataFrame

    @property
    def ok(self) -> bool:
        """True when no EA has a missing, negative or zero size."""
        return not (self.missing or self.negative or self.zero)

    def summary(self) -> pd.DataFrame:
        """One row per check with the number of EAs concerned and the first ids."""
        rows = []
        for name in ("missing", "negative", "zero", "small"):
            ids = getattr(self, name)
            rows.append({"check": f"{name} size", "EAs": len(ids), "examples": ids[:5]})
        return pd.DataFrame(rows)


def as_frame(frame: Any, id: str | None = None) -> Frame:
    """A :class:`Frame` from a Frame or a plain data frame (row number as id when none is given)."""
    if isinstance(frame, Frame):
        return frame
    df = to_pandas(frame, "frame")
    if id is None:
        id = "_row"
        while id in df.columns:
            id = "_" + id
        df = df.assign(**{id: np.arange(len(df))})
    return Frame(df, id)
