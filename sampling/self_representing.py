"""Certainty PSUs are self-representing: a stratum of their own, their second-stage units as PSUs.

A first-stage unit selected with certainty (``π₁ = 1``) is not a sample of the population of
PSUs but a part of the population observed in full at the first stage; only its subsampling
(households within the EA) is random. Survey practice therefore codes every certainty PSU as
a stratum of its own whose PSUs are its second-stage units (Kish 1965, *Survey Sampling*,
ch. 10, self-representing primary units; the coding R ``survey`` and Stata ``svy`` users
apply). The
with-replacement ultimate-cluster variance of that design then counts the household
subsampling of the certainty PSU,

    v(t̂) = Σ_h n_h / (n_h − 1) Σ_{i ∈ h} (z_i − z̄_h)²,

with ``i`` an EA in the ordinary strata and a household in a self-representing stratum. Coded
as one PSU of its stratum instead, a certainty EA is a lonely PSU: its variance is lost, or
replaced by an arbitrary rule (R's ``survey.lonely.psu``).

:func:`self_representing` takes any frame with the PSU, stratum, household and ``π₁``
columns and returns the PSU ids and strata to give the design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import _preview, check_columns


@dataclass(frozen=True)
class SelfRepresenting:
    """Design units with certainty PSUs coded as self-representing strata.

    Attributes
    ----------
    ids : pandas.Series of str
        The PSU of each row: its PSU (as text) in an ordinary stratum, ``"<psu>/<household>"``
        in a self-representing one. Aligned with the frame's index.
    strata : pandas.Series of str
        The stratum of each row: its stratum (as text), or ``"<stratum> | certainty <psu>"``
        for the rows of a certainty PSU.
    certainty : tuple of str
        The certainty PSUs, as text, in order of first appearance.
    note : str
        One sentence for the result's metadata saying what was done.
    fpc : pandas.Series of float or None
        With ``pi2``: the sampling fraction of each row's stratum as a design ``fpc`` (R's
        fraction form) — ``π₂`` in a self-representing stratum (its households were drawn
        without replacement), 0 in the ordinary strata (with-replacement approximation).
        None without ``pi2`` or certainty PSUs.
    """

    ids: pd.Series
    strata: pd.Series
    certainty: tuple[str, ...]
    note: str
    fpc: pd.Series | None = None


def self_representing(frame: pd.DataFrame, *, psu: str, stratum: str, household: str,
                      pi1: str = "pi1", substrata: str | None = None,
                      pi2: str | None = None, tol: float = 1e-9) -> SelfRepresenting:
    """PSU ids and strata of a two-stage sample with certainty PSUs made self-representing.

    A PSU whose first-stage inclusion probability is ``π₁ ≥ 1 − tol`` becomes a stratum of its
    own, ``"<stratum> | certainty <psu>"``, whose PSUs are its households
    (``"<psu>/<household>"``); other rows keep their PSU and stratum. When the households were
    selected within strata of the PSU (``substrata``, e.g. the screening classes), each of
    them is a stratum, ``"<stratum> | certainty <psu> | <substratum>"``: the certainty PSU's
    sample is a stratified sample of households, and pooling its strata would add their
    between-strata variance. Ids and strata are text, so codes with leading zeros are kept as
    given.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit of analysis (persons, households, emigrant records), with the
        columns below. It is not modified.
    psu, stratum, household : str
        Columns of the first-stage unit (EA), its stratum, and the second-stage unit
        (household; unique within its PSU).
    pi1 : str
        Column of the first-stage inclusion probability, constant within each PSU. When the
        frame has no such column no PSU can be recognised as certain: ids and strata are
        returned unchanged and :attr:`SelfRepresenting.note` says so.
    substrata : str, optional
        Column of the second-stage strata (households selected within PSU × substratum).
    pi2 : str, optional
        Column of the second-stage inclusion probability (household within its PSU and
        substratum). With it, :attr:`SelfRepresenting.fpc` gives the second-stage finite
        population correction ``1 − π₂`` of the self-representing strata, whose households
        were drawn without replacement; a stratum where ``π₂`` is not constant keeps the
        with-replacement form, and the note says so.
    tol : float
        Tolerance on ``π₁ = 1`` (iterative certainty selection leaves ``1 − 1e-12``).

    Returns
    -------
    SelfRepresenting
        ``ids``, ``strata`` (aligned with ``frame``), the certainty PSUs and a note.

    Raises
    ------
    SurveyError
        A column is missing (``household`` and ``substrata`` are only read when a PSU is
        certain); ``π₁`` is missing, not in ``(0, 1]`` or varies within a PSU; a
        household id is missing in a certainty PSU.

    Notes
    -----
    Kish, L. (1965). *Survey Sampling*, Wiley, ch. 10 (self-representing primary units).
    Without ``pi2`` the households are treated as drawn with replacement within their stratum
    (no second-stage finite population correction, a conservative variance), the
    ultimate-cluster approximation used for the other strata. With ``pi2`` a self-representing
    stratum's variance is that of a stratified sample of households without replacement,
    ``(1 − π₂) n_h/(n_h − 1) Σ (z_i − z̄_h)²`` (Cochran 1977, §5.3).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"EA": ["001", "001", "002", "003", "003"],
    ...                   "HH": ["01", "02", "01", "01", "02"],
    ...                   "STR": ["A", "A", "A", "B", "B"], "pi1": [0.4, 0.4, 0.5, 1.0, 1.0]})
    >>> u = self_representing(f, psu="EA", stratum="STR", household="HH")
    >>> u.ids.tolist()
    ['001', '001', '002', '003/01', '003/02']
    >>> u.strata.tolist()
    ['A', 'A', 'A', 'B | certainty 003', 'B | certainty 003']
    """
    check_columns(frame, [psu, stratum], "frame")
    ids = _text(frame[psu], psu)
    strata = _text(frame[stratum], stratum)
    if pi1 not in frame.columns:
        return _result(frame, ids, strata, (), (
            f"no {pi1!r} column: certainty PSUs cannot be recognised, every PSU is treated "
            "as sampled"))
    p = pd.to_numeric(frame[pi1], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p) | (p <= 0) | (p > 1 + tol)
    if bad.any():
        raise SurveyError(
            "first-stage inclusion probabilities must be in (0, 1]", argument=pi1,
            expected="a probability in (0, 1] on every row",
            found=f"{int(bad.sum())} rows, e.g. {_preview(list(frame[pi1][bad][:5]))}",
            hint="π₁ = 1 marks a PSU selected with certainty; missing π₁ cannot be guessed")
    by_psu = pd.Series(p).groupby(ids.array, sort=False)
    spread = by_psu.max() - by_psu.min()
    if (spread > tol).any():
        raise SurveyError(
            "the first-stage inclusion probability varies within a PSU", argument=pi1,
            expected=f"one {pi1} per {psu}",
            found=f"{int((spread > tol).sum())} PSUs, e.g. "
            f"{_preview(list(spread.index[spread > tol][:5]))}")
    sure = p >= 1 - tol
    if not sure.any():
        return _result(frame, ids, strata, (), "no PSU selected with certainty")
    check_columns(frame, [household] + ([substrata] if substrata else []), "frame")
    pos = np.flatnonzero(sure)
    hh = frame[household].iloc[pos]
    if hh.isna().any():
        raise SurveyError(
            "households of a certainty PSU need an identifier", argument=household,
            expected="a household id on every row of a PSU with π₁ = 1",
            found=f"{int(hh.isna().sum())} rows without one")
    sure_ids = ids.iloc[pos]
    certain = tuple(pd.unique(sure_ids))
    own = strata.iloc[pos] + " | certainty " + sure_ids
    if substrata:
        own = own + " | " + _text(frame[substrata].iloc[pos], substrata)
    clash = set(own.unique()) & set(strata.iloc[np.flatnonzero(~sure)].unique())
    if clash:
        raise SurveyError(
            "a self-representing stratum would take the name of an existing stratum",
            argument=stratum, expected="stratum labels without ' | certainty '",
            found=_preview(sorted(clash)))
    ids, strata = ids.copy(), strata.copy()
    ids.iloc[pos] = (sure_ids + "/" + _text(hh, household)).to_numpy()
    strata.iloc[pos] = own.to_numpy()
    by = f" (one per {substrata} class)" if substrata else ""
    note = (f"{len(certain)} PSU{'s' if len(certain) > 1 else ''} selected with certainty "
            f"(π₁ = 1: {_preview(list(certain))}) "
            f"{'are' if len(certain) > 1 else 'is'} self-representing: a stratum of "
            f"{'their' if len(certain) > 1 else 'its'} own{by} with households as PSUs, so "
            "the variance counts the household subsampling (Kish 1965, ch. 10)")
    fpc = None
    if pi2 is not None:
        fpc, fpc_note = _second_stage_fpc(frame, pi2, pos, strata, tol)
        note += fpc_note
    return _result(frame, ids, strata, certain, note, fpc)


def _second_stage_fpc(frame: pd.DataFrame, pi2: str, pos: np.ndarray, strata: pd.Series,
                      tol: float) -> tuple[pd.Series, str]:
    """``π₂`` on the rows of self-representing strata where it is constant, 0 elsewhere."""
    check_columns(frame, [pi2], "frame")
    p2 = pd.to_numeric(frame[pi2].iloc[pos], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p2) | (p2 <= 0) | (p2 > 1 + tol)
    if bad.any():
        raise SurveyError(
            "second-stage inclusion probabilities must be in (0, 1]", argument=pi2,
            expected="a probability in (0, 1] on every row of a PSU with π₁ = 1",
            found=f"{int(bad.sum())} rows, e.g. {_preview(list(frame[pi2].iloc[pos][bad][:5]))}")
    own = strata.iloc[pos].to_numpy()
    by_stratum = pd.Series(p2).groupby(own, sort=False)
    spread = by_stratum.transform("max") - by_stratum.transform("min")
    varies = spread.to_numpy() > tol
    out = np.zeros(len(frame))
    out[pos] = np.where(varies, 0.0, np.minimum(p2, 1.0))
    note = "; their households are drawn without replacement (fpc 1 − π₂)"
    if varies.any():
        note += (f", except in {len(set(own[varies]))} stratum(s) where π₂ is not constant "
                 "(with replacement there)")
    return pd.Series(out, index=frame.index, name="fpc"), note


def _result(frame: pd.DataFrame, ids: pd.Series, strata: pd.Series,
            certain: tuple, note: str, fpc: pd.Series | None = None) -> SelfRepresenting:
    return SelfRepresenting(ids.rename("psu"), strata.rename("stratum"),
                            tuple(str(c) for c in certain), note, fpc)


def _text(values: pd.Series, column: str) -> pd.Series:
    """Ids as text, as given (codes with leading zeros stay as they are)."""
    if values.isna().any():
        raise SurveyError(f"{column!r} has missing values", argument=column,
                          expected="an identifier on every row",
                          found=f"{int(values.isna().sum())} missing")
    return values.astype(str)
