"""The screening sample declared as what it is: a two-phase design (R ``survey``'s ``twophase``).

The demo's selection (and ``migsurvey select``) draws EAs with probability ``pi1`` (phase 1
also lists and screens every household of a selected EA), then ``take[class]`` households of
each screening class within each EA by simple random sampling (phase 2, ``pi2 = m/M`` with
``M`` households listed in the EA and class and ``m`` selected). :func:`screening_design`
builds that description for an analysis file (persons, or emigrant records) of the responding
households:

* phase 1: ``ids = (EA, household)``, ``strata = stratum``, ``probs = (pi1, 1)``; with
  ``fpc1`` the EAs' sampling fractions ``pi1`` (an equal-probability selection of EAs without
  replacement); with ``pps`` the EAs' inclusion probabilities ``pi1`` of a πps selection
  without replacement and their joint inclusion probabilities (:func:`phase1_joint`) or
  Brewer's approximation; otherwise with replacement. Its rows are every listed household —
  the analysis rows of the responding households, and one row without data for each other
  household of the listing;
* phase 2: ``ids = household``, strata ``EA × screening class``, a stratified simple random
  sample of households whose population sizes ``M`` are counted from phase 1.

``M`` is recovered from the selection itself (``M = m / pi2`` in every EA × class, which a
fixed-take equal-probability selection makes a whole number). Phase 2 holds the households that
responded: nonresponse is a further subsampling of the selected households, whose effect on the
weights and the variance the weighting chain's nonresponse record carries. The chain (base
weight ``1/(pi1 pi2)`` → nonresponse → expansion to persons → calibration) gives the final
weights and, through :meth:`estimation.TwoPhaseDesign.reweight`, linearises every estimate in
both phases (R's ``twophase`` variance, ``method="full"``; Lumley 2010, ch. 8).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import finite_numeric

EXACT_JOINT = ("sampford", "conditional_poisson", "tille")
"""πps selection methods of EAs whose joint inclusion probabilities ``sampling`` computes exactly."""
APPROXIMATED = {"brewer": "brewer"}
"""πps selection methods without exact joint probabilities, and the phase-1 variance approximation used."""
SCREENING_COLUMNS = ("screen", "pi1", "pi2", "stratum")
_IN2 = "_phase2"
_STRATUM2 = "_phase2_stratum"
_ONE = "_listing_prob"


def has_screening(households: pd.DataFrame | None, spec: dict) -> bool:
    """Whether the selected households describe a screening (two-phase) selection."""
    psu = spec["frame"]["psu"]
    return households is not None and all(
        c in households.columns for c in (*SCREENING_COLUMNS, psu))


def listed_counts(households: pd.DataFrame, psu: str, key: str) -> pd.DataFrame:
    """Households selected (``m``) and listed (``M = m / pi2``) in every EA × screening class.

    Refuses a selection whose ``pi2`` varies within a class of an EA or whose ``m / pi2`` is not
    a whole number (not a fixed-take equal-probability selection within the class).
    """
    hh = households.drop_duplicates(key)
    for col in ("pi1", "pi2"):
        p = finite_numeric(hh[col], col)
        if ((p <= 0) | (p > 1)).any():
            raise SurveyError(f"{col} must lie in (0, 1]", argument=col,
                              expected="selection probabilities in (0, 1]",
                              found=f"values from {p.min():g} to {p.max():g}")
    g = hh.groupby([psu, "screen"], sort=True, observed=True)
    cells = pd.DataFrame({"m": g.size(), "pi2": g["pi2"].first(),
                          "pi2_max": g["pi2"].max(), "pi2_min": g["pi2"].min()})
    if (cells["pi2_max"] - cells["pi2_min"] > 1e-12 * cells["pi2_max"]).any():
        bad = cells.index[cells["pi2_max"] - cells["pi2_min"] > 1e-12 * cells["pi2_max"]][0]
        raise SurveyError("pi2 varies within a screening class of an EA", argument="pi2",
                          expected="one phase-2 probability per EA and screening class",
                          found=f"EA and class {bad!r}")
    listed = cells["m"] / cells["pi2"]
    whole = np.round(listed)
    if (np.abs(listed - whole) > 1e-6 * np.maximum(whole, 1)).any() or (whole < cells["m"]).any():
        bad = cells.index[np.abs(listed - whole) > 1e-6 * np.maximum(whole, 1)]
        raise SurveyError("the listed households cannot be recovered from pi2",
                          argument="pi2", expected="pi2 = selected / listed households in "
                          "every EA and screening class (a fixed take)",
                          found=f"{len(bad)} cells where selected / pi2 is not whole, e.g. "
                          f"{list(bad[:3])!r}")
    return cells[["m"]].assign(M=whole.astype(np.int64)).reset_index()


def phase1_joint(frame: pd.DataFrame, households: pd.DataFrame, spec: dict) -> dict[Any, pd.DataFrame]:
    """Joint inclusion probabilities of the selected EAs, one matrix per stratum, from the frame.

    The EAs' inclusion probabilities are recomputed from the frame as the selection computed
    them (``π ∝ selection.psu.size`` within each stratum with the stratum's number of selected
    EAs, certainty EAs taken iteratively; :func:`sampling.inclusion_probabilities`), checked
    against the selection's ``pi1``, and the joint probabilities of the selected pairs come from
    :func:`sampling.joint.joint_among` for the selection method (exact for Sampford,
    conditional Poisson and Tillé). Refused when the frame does not reproduce ``pi1``.

    Returns
    -------
    dict
        Stratum label → DataFrame of ``π_IJ`` indexed by EA id (rows and columns), the form
        :class:`estimation.TwoPhaseDesign` takes as ``pps``.
    """
    from sampling.joint import joint_among

    psu = spec["frame"]["psu"]
    method = spec["selection"]["psu"]["method"]
    size = spec["selection"]["psu"]["size"]
    eas = households.drop_duplicates(psu)[[psu, "stratum", "pi1"]]
    out: dict[Any, pd.DataFrame] = {}
    # ids and strata matched as text: a file may have read them with another type than the census
    strata = frame.groupby(frame["stratum"].astype(str), sort=False, observed=True).indices
    for stratum, g in eas.groupby("stratum", sort=False, observed=True):
        at = strata.get(str(stratum))
        if at is None:
            raise SurveyError("a stratum of the selection is not in the frame", argument="frame",
                              expected="the frame the EAs were selected from",
                              found=f"stratum {stratum!r} has no EA in the frame")
        fr = frame.iloc[at]
        pos = pd.Index(fr[psu].astype(str)).get_indexer(g[psu].astype(str))
        absent = g.loc[pos < 0, psu].astype(str).tolist()
        if absent:
            raise SurveyError("EAs of the selection are not in the frame", argument="frame",
                              expected="the frame the EAs were selected from",
                              found=f"stratum {stratum!r}: {len(absent)} EA(s) not in the frame, "
                              f"e.g. {absent[:3]!r}", hint="estimate with the frame of the selection")
        pi = _stratum_pi(fr[size].to_numpy(dtype=float), pos, g["pi1"].to_numpy(dtype=float))
        if pi is None:
            raise SurveyError("the frame does not reproduce the EAs' inclusion probabilities",
                              argument="pi1",
                              expected=f"pi1 ∝ {size} among the frame's EAs of each stratum",
                              found=f"stratum {stratum!r}: the pi1 of its {len(g)} EA(s) with "
                              f"households is not that of any number of EAs selected from its "
                              f"{len(fr)} frame EAs",
                              hint="estimate with the frame of the selection")
        ids = g[psu].to_numpy()
        out[stratum] = pd.DataFrame(joint_among(pi, pos, method), index=ids, columns=ids)
    return out


def _stratum_pi(x: np.ndarray, pos: np.ndarray, pi1: np.ndarray) -> np.ndarray | None:
    """The inclusion probabilities of a stratum's frame EAs for the number of EAs selected in it.

    The households file holds only the EAs where households were selected: an EA with no
    household of a class that is taken (``take: {other: 0}`` and no migrant household) is
    selected but absent. The number selected is the ``n`` for which ``π_i(n)``
    (:func:`sampling.inclusion_probabilities`) reproduces the ``pi1`` of the EAs present,
    searched from their number up to the frame's; None when no ``n`` does.
    """
    from sampling import inclusion_probabilities

    for n in range(len(pos), len(x) + 1):
        pi = inclusion_probabilities(x, n)
        if np.allclose(pi[pos], pi1, rtol=1e-9, atol=0.0):
            return pi
    return None


def check_ea_coding(frame: pd.DataFrame, households: pd.DataFrame, psu: str) -> None:
    """Refuse EA codes of the interviews that are the census's written differently
    (``12`` for ``0012``): the selection would otherwise not be found in the frame, and its
    design would silently change."""
    from migsurvey.inputs import _id_form

    census = set(frame[psu].astype(str))
    missing = [e for e in pd.unique(households[psu].astype(str)) if e not in census]
    if not missing:
        return
    forms = {_id_form(e): e for e in census}
    same = [(e, forms[_id_form(e)]) for e in missing if _id_form(e) in forms]
    if same:
        pairs = ", ".join(f"{a!r} ↔ census {b!r}" for a, b in same[:4])
        raise SurveyError("coding mismatch between the census and the interviews: EA codes",
                          argument=f"columns.{psu}", expected="the census's EA codes in the "
                          "households and persons files",
                          found=f"{len(same)} EA codes written differently: {pairs}",
                          hint="keep the leading zeros in the interview files (store the EA "
                               "column as text)")


def phase1_choice(spec: dict, households: pd.DataFrame | None,
                  frame: pd.DataFrame | None) -> tuple[dict[str, Any] | None, str]:
    """How the pipeline declares phase 1 of the screening design, and why.

    Returns the keywords of :func:`screening_design` (None: the two-phase design is not used)
    and a sentence for the results' metadata. EAs by ``srs``/``systematic``: the sampling
    fractions (``fpc1``); by Sampford, conditional Poisson or Tillé: their exact joint inclusion
    probabilities from the frame (:func:`phase1_joint`); by Brewer's method: Brewer's
    approximation; by systematic PPS (pairs of EAs that are never selected together, so no
    unbiased phase-1 variance exists), without the frame, or when the frame does not reproduce
    ``pi1`` (a :class:`~surveycore.SurveyWarning`): None.
    """
    import warnings

    from surveycore import SurveyWarning

    method = spec["selection"]["psu"]["method"]
    if households is None or not has_screening(households, spec):
        return None, "no screening description of the selected households"
    if method in ("srs", "systematic"):
        return {"fpc1": True}, "stratified simple random sampling of EAs without replacement"
    if method in APPROXIMATED:
        return {"pps": APPROXIMATED[method]}, ("EAs by Brewer's πps method without replacement: "
                                               "Brewer's variance approximation")
    if method in EXACT_JOINT:
        if frame is None:
            return None, "no EA frame to compute the joint inclusion probabilities from"
        check_ea_coding(frame, households, spec["frame"]["psu"])
        try:
            joint = phase1_joint(frame, households, spec)
        except SurveyError as exc:
            warnings.warn(f"the screening is estimated with the ultimate-cluster design: {exc}",
                          SurveyWarning, stacklevel=3)
            return None, f"joint inclusion probabilities not available: {exc.message}"
        return {"pps": joint}, (f"EAs by {method} πps without replacement: Horvitz–Thompson "
                                "phase-1 variance with the exact joint inclusion probabilities")
    return None, f"EAs by {method}: no unbiased phase-1 variance (some pairs never selected together)"


def screening_design(rows: pd.DataFrame, households: pd.DataFrame, weights: Any, spec: dict,
                     *, key: str, method: str = "full", fpc1: bool = False, pps: Any = None,
                     degf: str = "phase2") -> Any:
    """The two-phase design of the analysis ``rows`` of responding households.

    Parameters
    ----------
    rows : DataFrame
        Analysis rows (persons, or emigrant records), each with the household ``key``.
    households : DataFrame
        Every selected household (respondents and nonrespondents) with the EA, ``stratum``,
        ``screen``, ``pi1`` and ``pi2``.
    weights : weighting.Weights, array or column name
        Final weights of ``rows``: a chain built on ``rows`` (its records linearise the
        estimates) or fixed weights.
    spec : dict
        The checked specification (``frame.psu``, ``estimation.lonely_psu``).
    key : str
        Household key shared by ``rows`` and ``households``.
    method : {"full", "approx"}
        Two-phase variance (R ``twophase``); ``"full"`` is R's default.
    fpc1 : bool
        Phase 1 without replacement, ``pi1`` being the EA's sampling fraction in its stratum
        (equal-probability selection of EAs); otherwise phase 1 is taken with replacement.
    pps : mapping, matrix or str, optional
        Phase 1 drawn with probability proportional to size without replacement: the EAs'
        joint inclusion probabilities (:func:`phase1_joint`) or ``"brewer"`` (Brewer's
        approximation); ``pi1`` is then each EA's inclusion probability. See
        :class:`estimation.TwoPhaseDesign` (``pps=``).
    degf : {"phase2", "phase1"}
        Degrees of freedom of the design: of phase 2 (R) or of phase 1 (EAs minus strata).

    Returns
    -------
    estimation.TwoPhaseDesign
        Its phase-2 rows are ``rows`` in their order (same index).
    """
    from estimation import TwoPhaseDesign

    psu = spec["frame"]["psu"]
    cells = listed_counts(households, psu, key)
    hh = households.drop_duplicates(key).set_index(key)
    missing = ~rows[key].isin(hh.index)
    if missing.any():
        raise SurveyError("analysis rows of households that were not selected",
                          argument="rows", expected="every row's household among the selected",
                          found=f"{int(missing.sum())} rows, e.g. {rows[key][missing].iloc[0]!r}")
    design_cols = [psu, "stratum", "screen", "pi1"]
    own = rows.drop(columns=[c for c in design_cols if c in rows.columns])
    data = own.join(hh[design_cols], on=key)
    data[_IN2] = True
    seen = data.drop_duplicates(key).groupby([psu, "screen"], observed=True).size()
    cells = cells.join(seen.rename("r"), on=[psu, "screen"]).fillna({"r": 0})
    rest = (cells["M"] - cells["r"]).astype(np.int64).to_numpy()
    if (rest < 0).any():
        raise SurveyError("more responding households than listed in a class of an EA",
                          argument="rows", expected="at most M households per EA and class",
                          found=f"{int((rest < 0).sum())} cells")
    first = hh.reset_index().drop_duplicates([psu, "screen"]).set_index([psu, "screen"])
    idx = np.repeat(np.arange(len(cells)), rest)
    fill = cells.iloc[idx][[psu, "screen"]].reset_index(drop=True)
    fill = fill.join(first[["stratum", "pi1"]], on=[psu, "screen"])
    # the EA's own columns (region …) on its listed households too: no domain column of the
    # design gains missing values (or a float type) through the phase-1 rows
    from migsurvey.interview_design import EA_COLUMNS

    per_ea = data.drop_duplicates(psu).set_index(psu)
    for c in [c for c in data.columns if c in {*EA_COLUMNS, *spec.get("strata", {}).get("by", [])}
              and c not in design_cols]:
        fill[c] = fill[psu].map(per_ea[c]).to_numpy()
    fill[key] = ["_listed:" + str(e) + ":" + str(c) + ":" + str(i) for e, c, i in
                 zip(fill[psu], fill["screen"], fill.groupby([psu, "screen"]).cumcount())]
    fill[_IN2] = False
    fill.index = pd.RangeIndex(len(fill)) + (int(data.index.max()) + 1 if len(data) else 0)
    phase1 = pd.concat([data, fill], sort=False)
    phase1[_STRATUM2] = phase1[psu].astype(str) + "/" + phase1["screen"].astype(str)
    phase1[_ONE] = 1.0
    design = TwoPhaseDesign(phase1, ids=([psu, key], key), strata=("stratum", _STRATUM2),
                            probs=(["pi1", _ONE], None), subset=_IN2, method=method,
                            fpc=(["pi1", _ONE], None) if (fpc1 or pps is not None) else None,
                            lonely_psu=spec["estimation"]["lonely_psu"], pps=pps, degf=degf)
    if isinstance(weights, str):
        weights = rows[weights].to_numpy(dtype=float)
    return design.reweight(weights)
