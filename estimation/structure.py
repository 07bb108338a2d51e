"""Factorised multi-stage sampling structure: clusters, strata and population sizes per stage.

Built once when a design is declared, then shared by every estimate. Follows R ``survey``'s
``svydesign`` conventions (Lumley 2010, ch. 2–3):

* ``ids`` lists the cluster identifiers of each stage (``None`` or ``"1"``: every row is its own
  unit). Stage ``s > 1`` clusters are nested in the stage ``s - 1`` clusters automatically.
* ``strata`` gives the first-stage strata (or one column per stage); stage ``s > 1`` strata are
  nested in the stage ``s - 1`` clusters.
* ``fpc`` gives, per stage, either population sizes (values ``> 1``: number of units in the
  stratum) or sampling fractions (values ``<= 1``), never a mix. A fraction of 0 marks a
  stratum sampled with replacement (no correction; R's population ``n/0 = ∞``), so that
  strata drawn without replacement (e.g. the households of a self-representing EA) and with
  replacement can share one design. For PPS designs the fraction is each unit's inclusion
  probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from surveycore.checks import check_columns, finite_numeric
from surveycore.errors import SurveyError
from surveycore.groups import Groups, finite_population_factor, joined_labels


@dataclass(frozen=True)
class Stage:
    """One sampling stage, factorised.

    Attributes
    ----------
    clusters : Groups
        Rows grouped by cluster; :attr:`cluster` holds the code of each row's cluster
        (globally unique, nested in earlier stages).
    stratum : ndarray of int, shape (n_clusters,)
        Stratum code of each cluster (globally unique, nested in the previous stage's clusters).
    parent : ndarray of int, shape (n_strata,)
        Previous-stage cluster of each stratum (all zero at stage 1).
    n_sampled : ndarray of int, shape (n_strata,)
        Number of clusters sampled in each stratum.
    popsize : ndarray of float, shape (n_clusters,)
        Population size of the cluster's stratum (``inf`` when no fpc is given); for PPS
        designs ``n_sampled / pi`` of the cluster.
    labels : ndarray, shape (n_strata,)
        Original stratum labels (for messages).
    """

    clusters: Groups
    stratum: np.ndarray
    parent: np.ndarray
    n_sampled: np.ndarray
    popsize: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        for name in ("stratum", "parent", "n_sampled", "popsize", "labels"):
            array = np.asarray(getattr(self, name)).view()  # read-only: shared by every estimate
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def cluster(self) -> np.ndarray:
        """Code of each row's cluster (n,), read-only; formed on first use when the rows are
        sorted by cluster (see :class:`~surveycore.groups.Groups`)."""
        return self.clusters.codes

    @property
    def n_rows(self) -> int:
        return self.clusters.n

    @property
    def n_clusters(self) -> int:
        return len(self.stratum)

    @property
    def n_strata(self) -> int:
        return len(self.n_sampled)

    @cached_property
    def strata(self) -> Groups:
        """Clusters grouped by stratum."""
        return Groups(self.stratum, self.n_strata)

    def sampling_fraction(self) -> np.ndarray:
        """``n_h / N_h`` for each cluster (zero when sampled with replacement)."""
        return self.n_sampled[self.stratum] / self.popsize

    def fpc_factor(self) -> np.ndarray:
        """``1 − n_h/N_h`` for each cluster (one when sampled with replacement)."""
        return finite_population_factor(self.n_sampled[self.stratum], self.popsize)

    def certain_strata(self) -> np.ndarray:
        """Strata whose every cluster is a certainty unit (``1 − f < 1e-7``), (n_strata,) bool."""
        return self.strata.all(self.fpc_factor() < 1e-7)


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted integer codes of ``values`` and the distinct values they stand for."""
    groups, uniques = Groups.factorize(values)
    return np.asarray(groups.codes), uniques


def _combine(first: np.ndarray, second: np.ndarray, groups: dict | None = None) -> np.ndarray:
    """Codes of the interaction of two non-negative code vectors, in lexicographic order.

    ``second`` holds dense codes (every code present); ``groups`` caches a :class:`Groups`
    per code vector, so rows already sorted by ``second`` are checked run by run.
    """
    width = int(second.max()) + 1 if second.size else 1
    by_second = _grouped(second, width, groups)
    if not by_second.varies(first):  # second nested in first: order its codes by (first, second)
        return _by_owner(second, first[by_second.first_row])[0]
    key = np.asarray(first, dtype=np.int64) * width + second
    return _codes(key)[0]


def _strata_of_units(column: pd.Series, by_unit: Groups) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes and labels of integer strata per stage-1 unit (``by_unit``: rows grouped by unit,
    every unit present), when each unit lies in one stratum; None otherwise (other types, or
    units crossing strata: the row-level codes then serve the checks and their messages)."""
    if not (isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu"):
        return None
    values = column.to_numpy()
    if by_unit.varies(values):
        return None
    # every value of the column is some unit's: the same sorted codes as coding every row
    return _codes(values[by_unit.first_row])


def _by_owner(codes: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``codes`` renumbered in the order of (``owner``, code), and the owner of each new code;
    the codes themselves when the owners are already in order."""
    if (owner[1:] >= owner[:-1]).all():
        return codes, owner
    width = len(owner)
    order = np.lexsort((np.arange(width), owner))
    rank = np.empty(width, dtype=np.int64)
    rank[order] = np.arange(width)
    return rank[codes], owner[order]


def _grouped(codes: np.ndarray, size: int, cache: dict | None) -> Groups:
    """Rows grouped by dense ``codes``, kept in ``cache`` (keyed by the array) for reuse."""
    if cache is None:
        return Groups(codes, size)
    hit = cache.get(id(codes))
    if hit is None or hit[0] is not codes:
        hit = (codes, Groups(codes, size))
        cache[id(codes)] = hit
    return hit[1]


def _scatter(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The value at the first row of each code (``size`` codes; every code present, as codes
    from a sorted factorisation are)."""
    out = np.empty(size, dtype=values.dtype)
    out[codes[::-1]] = values[::-1]
    return out


def _fpc_popsize(values: np.ndarray, n_sampled_rows: np.ndarray, column: str, pps: bool) -> np.ndarray:
    # a sampling fraction of 0 is a stratum sampled with replacement (R: population n/0 = ∞)
    zero_ok = not pps and (values <= 1).all()
    if (values < 0).any() or (not zero_ok and (values == 0).any()):
        raise SurveyError(
            "fpc must be positive",
            argument="fpc",
            expected="population sizes (> 1), or sampling fractions in [0, 1] (0: with replacement)",
            found=f"{int((values <= 0).sum())} values <= 0 in column {column!r}",
        )
    big = values > 1
    if big.any() and not big.all() and not (values >= 1).all():
        raise SurveyError(
            "fpc mixes population sizes and sampling fractions",
            argument="fpc",
            expected="all values > 1 (population sizes) or all <= 1 (fractions)",
            found=f"column {column!r} has {int(big.sum())} values > 1 and {int((~big).sum())} <= 1",
        )
    if big.any():
        if pps:
            raise SurveyError(
                "fpc must be inclusion probabilities for a PPS design",
                argument="fpc",
                expected="values in (0, 1]",
                found=f"population sizes in column {column!r}",
            )
        popsize = values.astype(float)
    else:
        with np.errstate(divide="ignore"):
            popsize = np.where(values > 0, n_sampled_rows / np.where(values > 0, values, 1.0), np.inf)
    too_small = popsize < n_sampled_rows - 1e-9
    if too_small.any():
        i = int(np.flatnonzero(too_small)[0])
        raise SurveyError(
            "fpc is smaller than the number of units sampled",
            argument="fpc",
            expected="population size >= number sampled in each stratum",
            found=f"column {column!r}, row {i}: population {popsize[i]:g}, sampled {n_sampled_rows[i]}",
            hint="fpc takes population counts (or sampling fractions), not sample counts",
        )
    return popsize


def _stratum_popsize(values: np.ndarray, varies, rep_st: np.ndarray, n_sampled: np.ndarray,
                     cl_stratum: np.ndarray, column: str) -> np.ndarray | None:
    """Population size of every cluster when ``values`` are constant within strata
    (``varies(values)`` says whether they are not), taken from one value per stratum
    (``rep_st``: a row of each stratum); None when they vary or are refused, so that the
    row-level check reports the offending row."""
    per = values[rep_st]
    if varies(values):
        return None
    try:
        return _fpc_popsize(per, n_sampled, column, False)[cl_stratum]
    except SurveyError:
        return None


def build_stages(
    data: pd.DataFrame,
    ids: list[str],
    strata: list[str],
    fpc: list[str],
    nest: bool,
    pps: bool,
) -> list[Stage]:
    """Factorise ids, strata and fpc into :class:`Stage` records (validating them)."""
    n = len(data)
    check_columns(data, ids, "ids")
    check_columns(data, strata, "strata")
    check_columns(data, fpc, "fpc")
    for name, arg in [(c, "ids") for c in ids] + [(c, "strata") for c in strata]:
        if isinstance(data[name].dtype, np.dtype) and data[name].dtype.kind in "iub":
            continue  # numpy integers cannot be missing
        if data[name].isna().any():
            raise SurveyError(
                f"{arg} column has missing values",
                argument=arg,
                expected="an identifier on every row",
                found=f"{int(data[name].isna().sum())} missing values in {name!r}",
            )
    n_stages = max(len(ids), 1)
    if fpc and len(fpc) != n_stages:
        raise SurveyError(
            "fpc must give one column per sampling stage",
            argument="fpc",
            expected=f"{n_stages} column(s), one per stage of ids",
            found=f"{len(fpc)} column(s)",
            hint="give the population size (or fraction) of every stage, or none",
        )
    if strata and len(strata) > n_stages:
        raise SurveyError(
            "more strata columns than stages",
            argument="strata",
            expected=f"at most {n_stages} column(s)",
            found=f"{len(strata)} columns",
        )
    # ids of each stage, grouped; their row codes are formed only where a step needs them
    # (ids sorted in runs of consecutive integers are grouped by their runs alone)
    raw_groups = [Groups.factorize(data[c])[0] for c in ids] if ids else [Groups(np.arange(n, dtype=np.int64), n)]
    grouped: dict = {}  # Groups of each code vector, shared by the checks and the stages

    def raw(i: int) -> np.ndarray:
        """Row codes of the ids of stage ``i + 1`` (their Groups kept for reuse)."""
        codes = raw_groups[i].codes
        grouped.setdefault(id(codes), (codes, raw_groups[i]))
        return codes

    # the first strata column coded per stage-1 unit when the units lie in one stratum each
    # (the usual file): no array of stratum codes the size of the data
    unit_strata = _strata_of_units(data[strata[0]], raw_groups[0]) if (strata and ids) else None
    factorised_strata: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def strata_rows(i: int) -> np.ndarray:
        """Row codes of strata column ``i`` (from the units' codes when they were coded so)."""
        if i not in factorised_strata:
            if i == 0 and unit_strata is not None:
                factorised_strata[0] = (unit_strata[0][raw(0)], unit_strata[1])
            else:
                factorised_strata[i] = _codes(data[strata[i]])
        return factorised_strata[i][0]

    stages: list[Stage] = []
    previous_clusters: Groups | None = None
    first_cl_stratum: np.ndarray | None = None  # stratum of each stage-1 cluster
    for s in range(n_stages):
        st_rows: np.ndarray | None
        clusters: Groups | None = None
        if s == 0 and unit_strata is not None:  # units within strata: clusters are the units
            unit_stratum, labels = unit_strata
            cl_stratum = unit_stratum
            if nest and not (unit_stratum[1:] >= unit_stratum[:-1]).all():  # renumbered in stratum order
                cl_codes, cl_stratum = _by_owner(raw(0), unit_stratum)
            else:
                clusters = raw_groups[0]
            st_rows = None
            parent_rows = None
        elif s == 0:
            st_rows = strata_rows(0) if strata else np.zeros(n, dtype=np.int64)
            labels = factorised_strata[0][1] if strata else np.zeros(1, dtype=np.int64)
            if strata and not nest and raw_groups[0].varies(st_rows):
                psu_stratum = _scatter(raw(0), st_rows, raw_groups[0].n_groups)
                crossing = psu_stratum[raw(0)] != st_rows
                if crossing.any():
                    bad = data[ids[0]].iloc[np.flatnonzero(crossing)]
                    raise SurveyError(
                        "the same cluster id appears in more than one stratum",
                        argument="nest",
                        expected="cluster ids unique across strata, or nest=True",
                        found="repeated ids: " + ", ".join(map(str, pd.unique(bad)[:8])),
                        hint="pass nest=True if cluster ids restart within each stratum",
                    )
            if strata and nest:
                cl_codes = _combine(st_rows, raw(0), grouped)
            else:
                clusters = raw_groups[0]
            parent_rows = None  # every stratum of stage 1 lies in the one "stage 0" unit
        else:
            previous = previous_clusters.codes
            grouped.setdefault(id(previous), (previous, previous_clusters))
            own_column = min(s, len(strata) - 1)
            if s == 1 and own_column == 0 and first_cl_stratum is not None:
                # the first strata again: constant within the stage-1 clusters, whose codes order them
                st_rows = _by_owner(previous, first_cl_stratum)[0]
            else:
                own = strata_rows(own_column) if strata else np.zeros(n, dtype=np.int64)
                st_rows = _combine(own, previous, grouped)
            cl_codes = _combine(previous, raw(s) if s < len(raw_groups) else np.arange(n), grouped)
            labels = None
            parent_rows = previous
        if clusters is None:
            clusters = _grouped(cl_codes, int(cl_codes.max()) + 1, grouped)
        n_cl = clusters.n_groups
        first_cl = clusters.first_row  # first row of each cluster
        if st_rows is not None:
            cl_stratum = st_rows[first_cl]
        n_st = int(cl_stratum.max()) + 1
        rep_st = np.empty(n_st, dtype=np.int64)  # one row of each stratum
        rep_st[cl_stratum] = first_cl
        if s == 0:
            first_cl_stratum = cl_stratum
        st_codes = st_rows  # dense sorted codes, every code present (None: known per cluster)
        # stage 1 clusters lie in one stratum by construction (nested codes, or checked above)
        if s > 0 and clusters.varies(st_codes):  # a cluster spanning strata at stage > 1
            raise SurveyError(
                f"stage {s + 1} clusters cross strata",
                argument="strata",
                expected="each cluster within one stratum",
                found="clusters whose rows carry different strata",
            )
        n_sampled = np.bincount(cl_stratum, minlength=n_st)
        named = ([strata[0]] if strata else []) + ids[:s] + ([strata[s]] if s < len(strata) else [])
        if labels is None and named and (n_sampled == 1).any():
            # a later stage's strata, named for messages about single units by the units they
            # lie in (e.g. "R1/0203"); only when a message may need them
            labels = joined_labels(data.iloc[rep_st], named, "/").to_numpy()
        elif labels is None:
            labels = np.arange(n_st)
        popsize = None if fpc else np.full(n_cl, np.inf)
        if fpc:
            values = finite_numeric(data[fpc[s]], "fpc")
            if not pps:
                if st_codes is not None:
                    varies = _grouped(st_codes, n_st, grouped).varies
                else:  # constant within strata: within the clusters, and between a stratum's clusters
                    def varies(v, clusters=clusters, first_cl=first_cl, cl_stratum=cl_stratum, n_st=n_st):
                        return clusters.varies(v) or Groups(cl_stratum, n_st).varies(v[first_cl])
                popsize = _stratum_popsize(values, varies, rep_st, n_sampled, cl_stratum, fpc[s])
        if popsize is None:  # by row: PPS, or fpc to refuse (the message names a row)
            if st_codes is None:
                st_codes = cl_stratum[clusters.codes]
            popsize_rows = _fpc_popsize(values, n_sampled[st_codes], fpc[s], pps)
            popsize = _scatter(clusters.codes, popsize_rows, n_cl)
            if not pps:
                per_stratum = _scatter(cl_stratum, popsize, n_st)
                off = popsize_rows != per_stratum[st_codes]
                if off.any():
                    raise SurveyError(
                        f"fpc varies within strata at stage {s + 1}",
                        argument="fpc",
                        expected="one population size per stratum",
                        found=f"{int(np.bincount(st_codes[off], minlength=n_st).astype(bool).sum())} strata with several fpc values",
                    )
        stage = Stage(
            clusters=clusters,
            stratum=cl_stratum,
            # constant within each stratum (strata nest in the previous stage's clusters)
            parent=np.zeros(n_st, dtype=np.int64) if parent_rows is None else parent_rows[rep_st],
            n_sampled=n_sampled,
            popsize=popsize,
            labels=np.asarray(labels),
        )
        stages.append(stage)
        previous_clusters = clusters
    return stages


def fpc_weights(stages: list[Stage]) -> np.ndarray:
    """Design weights implied by the fpc alone: ``Π_s N_s / n_s`` (R's ``weights(fpc)``)."""
    w = np.ones(stages[0].n_rows)
    for st in stages:
        frac = st.sampling_fraction()[st.cluster]
        w = w / frac
    return w
