"""``select``: one stage of selection from a frame, stratified, with true inclusion probabilities."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from sampling._validate import as_rng, check_n, check_sizes
from sampling.algorithms import DRAWERS
from sampling.allocation import Allocation, allocate
from sampling.frame import Frame, as_frame
from sampling.probabilities import inclusion_probabilities
from sampling.sample import Sample, SampleDesign, StageRecord
from sampling.stratify import serpentine_order
from surveycore import SurveyError, SurveyWarning
from surveycore.checks import as_name_list, check_columns, check_distinct_labels, check_option
from surveycore.groups import joined_labels

Method = Literal["srs", "systematic", "pps_systematic", "brewer", "sampford",
                 "conditional_poisson", "maxentropy", "poisson", "tille", "cube"]
METHODS = ("srs", "systematic", "pps_systematic", "brewer", "sampford", "conditional_poisson",
           "maxentropy", "poisson", "tille", "cube")
EQUAL = ("srs", "systematic")
PPS = ("pps_systematic", "brewer", "sampford", "conditional_poisson", "tille")
FIXED_SIZE = ("srs", "systematic", "pps_systematic", "brewer", "sampford", "conditional_poisson",
              "tille", "cube")


def _stratum_sizes(n: Any, keys: pd.DataFrame, labels: list, counts: np.ndarray,
                   totals: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Per-stratum sample sizes from an int (allocated ∝ size), a mapping or an Allocation."""
    if isinstance(n, Allocation):
        n = n.sizes
    if isinstance(n, (Mapping, pd.Series)):
        ser = pd.Series(n)
        missing = [lab for lab in labels if lab not in ser.index]
        if missing:
            raise SurveyError("sample sizes are missing for some strata", argument="n",
                              expected="one size per stratum", found=f"no size for {missing[:5]!r}")
        known = set(labels)
        extra = [lab for lab in ser.index if lab not in known]
        if extra:
            raise SurveyError("sample sizes are given for strata that are not in the frame",
                              argument="n", expected="one size per stratum of the frame: "
                              + repr(labels[:5]), found=f"no stratum {extra[:5]!r}",
                              hint="check the stratum labels (spelling, spaces, leading zeros)")
        if ser.index.has_duplicates:
            raise SurveyError("a stratum is given two sample sizes", argument="n",
                              expected="one size per stratum",
                              found=repr(list(ser.index[ser.index.duplicated()])[:5]))
        out = []
        for lab, N_h, P_h in zip(labels, counts, positive):
            out.append(check_n(ser[lab], int(N_h), where=f"stratum {lab!r}", positive_sizes=int(P_h)))
        return np.array(out, dtype=int)
    n = check_n(n, int(counts.sum()), positive_sizes=int(positive.sum()))
    if len(labels) == 1:
        return np.array([n])
    alloc = allocate(pd.Series(positive, index=range(len(labels))), n, "power",
                     measure=pd.Series(totals, index=range(len(labels))), power=1.0)
    return alloc.sizes.to_numpy()


def _empty_strata(labels: list, counts: np.ndarray, positive: np.ndarray,
                  size: str | None) -> tuple[str, ...]:
    """Warn (and return the message) when strata have units but none of positive size: those
    units have inclusion probability 0 and the sample says nothing about them."""
    empty = [lab for lab, c, p in zip(labels, counts, positive, strict=True) if c > 0 and p == 0]
    if not empty:
        return ()
    msg = (f"{len(empty)} {'stratum' if len(empty) == 1 else 'strata'} with no unit of "
           f"positive size ({size!r}): {empty[:5]!r}; their units have inclusion probability 0 "
           "and are outside what the sample covers")
    warnings.warn(msg, SurveyWarning, stacklevel=3)
    return (msg,)


def _sort_order(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Stable order of the rows by ``cols``: one mixed-radix integer key when it fits."""
    factorised = [pd.factorize(df[c], sort=True) for c in cols]
    for c, (_, uniques) in zip(cols, factorised):
        check_distinct_labels(uniques, c)
    codes = [f[0].astype(np.int64) for f in factorised]
    radix = [int(c.max()) + 2 for c in codes]
    if np.prod([float(r) for r in radix]) < 2 ** 62:
        key = np.zeros(len(df), dtype=np.int64)
        for c, r in zip(codes, radix):
            key = key * r + (c + 1)
        small = np.prod([float(r) for r in radix]) < 65536
        return np.argsort(key.astype(np.uint16) if small else key, kind="stable")
    return np.lexsort(codes[::-1])


def select(
    frame: Any,
    n: int | Mapping | pd.Series | Allocation,
    *,
    method: Method | None = None,
    size: str | None = None,
    strata: str | Sequence[str] | None = None,
    sort: str | Sequence[str] | None = None,
    serpentine: bool = False,
    balance: str | Sequence[str] | None = None,
    id: str | None = None,
    seed: int | np.random.Generator | None = None,
) -> Sample:
    """Select a stratified sample of frame units with exact inclusion probabilities.

    Parameters
    ----------
    frame : Frame or data frame
        The frame (pandas, Polars, … are accepted; never modified).
    n : int, mapping, Series or Allocation
        Total sample size, or one size per stratum. An int with strata is allocated in
        proportion to the stratum totals of ``size`` (to the counts without a size), so that
        :math:`\\pi` stays proportional to size across strata.
    method : str, optional
        ``srs``, ``systematic`` (equal probabilities); ``pps_systematic``, ``brewer``, ``sampford``,
        ``conditional_poisson`` (alias ``maxentropy``), ``tille`` (π ∝ size, certainty units taken
        iteratively); ``poisson`` and ``cube`` (balanced) with or without a size. Default:
        ``pps_systematic`` when there is a size, else ``srs``.
    size : str, optional
        Measure-of-size column (defaults to the Frame's ``size`` for the PPS methods).
    strata : str or list of str, optional
        Explicit strata (defaults to the Frame's strata).
    sort : str or list of str, optional
        Sort order within strata before systematic selection (implicit stratification);
        ``serpentine=True`` makes it a serpentine sort.
    balance : str or list of str, optional
        Balancing variables of the cube method.
    id : str, optional
        Unit id column of a plain data frame (default: the row number, column ``_row``).
    seed : int or numpy.random.Generator, optional
        Source of randomness; the same seed gives the same sample.

    Returns
    -------
    Sample
        ``units`` holds the selected rows with ``pi_1``, ``pi``, ``weight`` and ``fpc_1``.
    """
    method = check_option(method if method is not None else
                          ("pps_systematic" if (size or (isinstance(frame, Frame) and frame.size))
                           else "srs"), METHODS, "method")
    method = "conditional_poisson" if method == "maxentropy" else method
    fr = as_frame(frame, id)
    df = fr.data
    if method in EQUAL and size is not None:
        raise SurveyError(f"method {method!r} selects with equal probabilities", argument="size",
                          expected="no size", found=repr(size),
                          hint="use method='pps_systematic' (or another PPS method) with a size")
    if size is None and method in PPS:
        size = fr.size
        if size is None:
            raise SurveyError(f"method {method!r} needs a measure of size", argument="size",
                              expected="a column name", found="None")
    strata = as_name_list(strata, "strata") if strata is not None else list(fr.strata)
    sort = as_name_list(sort, "sort")
    balance = as_name_list(balance, "balance")
    check_columns(df, [*strata, *sort, *balance, *([size] if size else [])], "frame")
    if balance and method != "cube":
        raise SurveyError("balancing variables need the cube method", argument="balance",
                          expected="method='cube'", found=repr(method))
    x = check_sizes(df[size], size) if size else np.ones(len(df))
    if strata:
        if df[strata].isna().any().any():
            raise SurveyError("strata have missing values", argument="strata",
                              expected="a stratum on every row", found="missing values")
        key = df.groupby(strata, sort=True, observed=True).ngroup().to_numpy()
        first = df.groupby(strata, sort=True, observed=True).head(1)
        labels = [tuple(r) if len(strata) > 1 else r[0] for r in first[strata].itertuples(index=False)]
        labels = [labels[i] for i in np.argsort(key[first.index.to_numpy()])]
    else:
        key = np.zeros(len(df), dtype=int)
        labels = ["all"]
    H = len(labels)
    counts = np.bincount(key, minlength=H)
    positive = np.bincount(key, weights=(x > 0), minlength=H) if size else counts.astype(float)
    totals = np.bincount(key, weights=x, minlength=H)
    n_h = _stratum_sizes(n, df, labels, counts, totals, positive)
    notes = _empty_strata(labels, counts, positive, size)

    if sort:
        order = (serpentine_order(df, [*strata, *sort]) if serpentine
                 else _sort_order(df, [*strata, *sort]))
        small_key = key.astype(np.uint16) if H <= 65535 else key
        order = order[np.argsort(small_key[order], kind="stable")]  # strata in key order
    else:
        order = np.argsort(key.astype(np.int64 if H > 65535 else np.uint16), kind="stable")
    key_o = key[order]
    bounds = np.r_[0, np.cumsum(np.bincount(key_o, minlength=H))]
    rng = as_rng(seed)
    pi_all = np.zeros(len(df))
    chosen = []
    draw = DRAWERS[method]
    B = df[balance].to_numpy(dtype=float) if balance else None
    for h in range(H):
        rows = order[bounds[h]:bounds[h + 1]]
        if method in EQUAL or (size is None):
            pi = np.full(rows.size, n_h[h] / rows.size if rows.size else 0.0)
        else:
            pi = inclusion_probabilities(x[rows], int(n_h[h])) if n_h[h] else np.zeros(rows.size)
        pi_all[rows] = pi
        if n_h[h] == 0:
            continue
        kw = {"balance": B[rows]} if method == "cube" and B is not None else {}
        hit = draw(pi, rng, 1, **kw)[0]
        chosen.append(rows[hit])
    idx = np.concatenate(chosen) if chosen else np.array([], dtype=int)
    stratum_col = None
    units = df.iloc[idx].copy()
    if strata:
        if len(strata) == 1:
            stratum_col = strata[0]
        else:
            stratum_col = "stratum_1"
            units[stratum_col] = joined_labels(units, list(strata), "|")
    units["pi_1"] = pi_all[idx]
    units["fpc_1"] = pi_all[idx]
    units["pi"] = units["pi_1"]
    units["weight"] = 1.0 / units["pi"]
    units = units.reset_index(drop=True)
    sizes = pd.DataFrame({"stratum": labels, "N": counts, "n": n_h,
                          "selected": np.bincount(key[idx], minlength=H)})
    record = StageRecord(kind="stage", method=method, id=fr.id, strata=stratum_col, prob="pi_1",
                         sizes=sizes, detail={"size": size, "sort": sort, "serpentine": serpentine,
                                              "balance": balance,
                                              "order_ids": df[fr.id].to_numpy()[order],
                                              "bounds": bounds, "warnings": notes})
    if method == "poisson":  # independent draws: each unit is a stratum of its own
        design = SampleDesign(ids=[fr.id], strata=[fr.id], fpc=["pi_1"], lonely_psu="adjust")
    else:
        design = SampleDesign(ids=[fr.id], strata=[stratum_col], fpc=["fpc_1"],
                              pps="brewer" if size and method not in EQUAL else None)
    frame_pi = pd.Series(pi_all, index=df[fr.id].to_numpy(), name="pi_1")
    return Sample(units=units, design=design, stages=(record,), frame_pi=frame_pi)
