"""Simulated fieldwork: which selected households respond, and the interview data they give.

Used by the demo and the design-based simulation, where the census plays the population.
Household response is a Bernoulli draw with probability

    ρ_h = base × migrant^{1[h is a migrant household]} × urban^{1[h is urban]}    (capped at 1)

so response differs between migrant and non-migrant households and between urban and rural
areas (differential nonresponse). Because the propensity depends only on the screening class
and the urban/rural status, a nonresponse adjustment within ``urban × screen`` cells is
unbiased (missing at random within cells; Little 1986, *Int. Stat. Review* 54:139–157).
Every person of a responding household answers (proxy answers for absent members).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveycore import SurveyError


@dataclass(frozen=True)
class Fieldwork:
    """Outcome of simulated fieldwork.

    Attributes
    ----------
    households : DataFrame
        Every selected household with ``responded`` (bool) and ``response_propensity``.
    persons : DataFrame
        Persons of the responding households, with the household's design columns.
    emigrants : DataFrame or None
        The emigrant rosters of the responding households (``None`` without a roster).
    """

    households: pd.DataFrame
    persons: pd.DataFrame
    emigrants: pd.DataFrame | None = None


def response_propensity(households: pd.DataFrame, *, base: float, migrant: float, urban: float,
                        screen: str = "screen") -> np.ndarray:
    """Response probability of each household (see the module docstring); the urban/rural
    status is needed only when ``urban`` differs from 1."""
    for name, v in (("base", base), ("migrant", migrant), ("urban", urban)):
        if not (np.isfinite(v) and v >= 0):
            raise SurveyError("response parameters must be finite and >= 0", argument=name,
                              expected="a number >= 0", found=repr(v))
    for col in (screen, "urban") if urban != 1 else (screen,):
        if col not in households.columns:
            raise SurveyError("simulated fieldwork needs the household's screening class and "
                              "urban/rural status", argument="households",
                              expected=f"a column {col!r}", found="no such column",
                              hint="map the census's urban/rural column with columns: "
                                   "{urban: YOUR_COLUMN} (values urban, rural), or set "
                                   "fieldwork.response.urban: 1 (no urban/rural difference)")
    is_mig = households[screen].to_numpy() == "migrant"
    is_urban = (households["urban"].to_numpy() == "urban" if urban != 1
                else np.zeros(len(households), dtype=bool))
    p = base * np.where(is_mig, migrant, 1.0) * np.where(is_urban, urban, 1.0)
    return np.clip(p, 0.0, 1.0)


def run_fieldwork(selected: pd.DataFrame, persons: pd.DataFrame, *, response: dict,
                  seed: int | np.random.Generator, screen: str = "screen",
                  emigrants: pd.DataFrame | None = None) -> Fieldwork:
    """Simulate interviews of ``selected`` households.

    Parameters
    ----------
    selected : DataFrame
        Selected households: ``household_id``, ``urban``, the screening class column
        ``screen`` (``"migrant"``, ``"other"`` or ``"unknown"``) and any design columns to carry.
    persons : DataFrame
        Census persons (at least those of the selected households).
    response : dict
        ``base``, ``migrant``, ``urban`` as in :func:`response_propensity`.
    seed : int or numpy.random.Generator
    emigrants : DataFrame, optional
        Census emigrant rosters (``household_id`` and the roster answers); the responding
        households' rosters are kept.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    key = "hh_key"  # ea/household key (migsurvey.inputs); the household id when it is unique
    if key not in selected.columns:
        selected = selected.assign(**{key: selected["household_id"].to_numpy()})
    if key not in persons.columns:
        persons = persons.assign(**{key: persons["household_id"].to_numpy()})
    rho = response_propensity(selected, screen=screen, **response)
    responded = rng.random(len(selected)) < rho
    # AAPOR final disposition: 1.1 complete interview, 2.1 refusal or break-off
    hh = selected.assign(response_propensity=rho, responded=responded,
                         disposition=np.where(responded, 1.1, 2.1))
    keep = hh.loc[hh["responded"]]
    design_cols = [c for c in keep.columns if c not in persons.columns or c == key]
    pp = persons.merge(keep[design_cols], on=key, how="inner", validate="many_to_one")
    em = None
    if emigrants is not None:
        em = emigrants.loc[emigrants["household_id"].isin(keep["household_id"])]
        em = em.reset_index(drop=True)
    return Fieldwork(households=hh.reset_index(drop=True), persons=pp.reset_index(drop=True),
                     emigrants=em)
