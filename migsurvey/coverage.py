"""The census population a screening design covers, for calibration.

When ``selection.household.take`` gives a screening class 0 (``other: 0``: households with
no migrant at listing are not sampled), the households of that class have a zero inclusion
probability. The sample then represents only the *covered* population: the persons of the
census households whose screening class has a take above 0 (Särndal, Swensson & Wretman 1992,
§2.8 and §14.3 on coverage). Calibration to census margins of all persons would make the
covered households stand for everyone; calibration to the margins of the covered population,
counted in the same census with the same screening rule as the listing used at selection, is
sound: the calibration estimator of a covered-population total is then consistent, and its
linearised variance is the usual one (Deville & Särndal 1992), since the targets are fixed
census counts of a population defined at listing.

``population: covered`` on a ``rake`` or ``calibrate`` step asks for it
(:func:`covered_census`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from migsurvey.inputs import HH_KEY
from surveycore import SurveyError


class CoveredCensus:
    """The persons of a census's covered households, with the interface of the calibration
    targets (:func:`migsurvey.pipeline.census_targets`).

    Parameters
    ----------
    persons : DataFrame
        The census persons of the covered households (standard names).
    """

    def __init__(self, persons: pd.DataFrame) -> None:
        self.persons = persons

    @property
    def n_persons(self) -> int:
        return len(self.persons)

    def person_counts(self, column: str | tuple[str, ...]) -> dict:
        """Person count of every level of ``column`` (a tuple: crossed levels)."""
        from migsurvey.inputs import person_counts

        return person_counts(self.persons, column)


def covered_households(households: pd.DataFrame, spec: dict) -> np.ndarray:
    """Whether each listed household's screening class has a take above 0: its class from
    ``selection.household.screening`` (:func:`migsurvey.pipeline.screening_classes`), as at
    selection."""
    from migsurvey.pipeline import screening_classes, screening_take

    hsel = spec["selection"]["household"]
    take = screening_take(hsel["take"])
    col = hsel["screening"]
    if col not in households.columns:
        raise SurveyError("the screening column is not in the census households",
                          argument="selection.household.screening",
                          expected="a household column of the census listing", found=repr(col))
    classes = screening_classes(households[col])
    return pd.Series(classes).map(take).to_numpy() > 0


def covered_census(census: Any, spec: dict, where: str) -> CoveredCensus:
    """The covered population of ``census`` (its persons in covered households).

    Raises
    ------
    SurveyError
        When the census does not hold its persons and households in memory (a streamed
        synthetic census, a lazily read one): the covered counts need the households'
        screening class.
    """
    persons = getattr(census, "persons", None)
    households = getattr(census, "households", None)
    if not isinstance(persons, pd.DataFrame) or not isinstance(households, pd.DataFrame) \
            or HH_KEY not in persons.columns or HH_KEY not in households.columns:
        raise SurveyError("population: covered needs the census persons and households in "
                          "memory", argument=where, expected="a census read into memory (one "
                          "person-level file, or the three-table folder)",
                          found=type(census).__name__,
                          hint="give the census as one person-level file")
    keys = households.loc[covered_households(households, spec), HH_KEY]
    return CoveredCensus(persons.loc[persons[HH_KEY].isin(keys)])
