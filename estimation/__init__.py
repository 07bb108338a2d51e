"""Estimation layer: survey designs, variance engines, estimators and indicator tables.

``SurveyDesign`` (Taylor linearisation) and ``ReplicateDesign`` (replicate weights) share every
estimator: ``mean``, ``total``, ``ratio``, ``quantile``, ``proportion``, ``chisq``, ``glm``, all
by domain in one pass, each returning one tidy frame. ``indicator_table`` turns a design into
the migration indicators (MI 1.1–1.4 …) with quality flags and disclosure control.
"""

from estimation.design import SurveyDesign
from estimation.indicators import IndicatorTable, SuppressionRule, indicator_table
from estimation.replicates import ReplicateDesign
from estimation.twophase import TwoPhaseDesign
from surveycore.errors import SurveyError

__all__ = [
    "IndicatorTable",
    "ReplicateDesign",
    "SuppressionRule",
    "SurveyDesign",
    "SurveyError",
    "TwoPhaseDesign",
    "indicator_table",
]
