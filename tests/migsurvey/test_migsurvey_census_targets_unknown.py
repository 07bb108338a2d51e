"""Census persons with an unknown value of a calibration margin are not silently dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from migsurvey.pipeline import census_targets
from surveycore import SurveyWarning


class _Census:
    """A census of six persons, two of them of unknown age group."""

    persons = pd.DataFrame({"sex": ["F", "M", "F", "M", "F", "M"],
                            "age_group": ["0-14", "15-64", None, "15-64", None, "65+"]})
    n_persons = 6

    def person_counts(self, column):
        return self.persons[column].value_counts(sort=False).to_dict()


def test_unknown_margin_values_are_named():
    with pytest.warns(SurveyWarning, match="2 of 6 census persons have no value of sex × age_group"):
        t = census_targets(_Census(), [["sex", "age_group"]])
    assert sum(t[("sex", "age_group")].values()) == 4


def test_complete_margins_do_not_warn(recwarn):
    census_targets(_Census(), ["sex"])
    assert not [w for w in recwarn if issubclass(w.category, SurveyWarning)]
