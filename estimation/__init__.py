"""Estimation layer: survey designs, variance engines, estimators and indicator tables.

``SurveyDesign`` (Taylor linearisation) and ``ReplicateDesign`` (replicate weights) share every
estimator: ``mean``, ``total``, ``ratio``, ``quantile``, ``proportion``, ``chisq``, ``glm``, all
by domain in one pass, each returning one tidy frame. ``indicator_table`` turns a design into
the migration indicators (MI 1.1–1.4 …) with quality flags and disclosure control;
``fay_herriot`` gives model-based (small area) estimates from a design's domain estimates.
"""

from estimation.design import SurveyDesign
from estimation.indicators import IndicatorTable, SuppressionRule, indicator_table
from estimation.replicates import ReplicateDesign
from estimation.small_area import FayHerriotResult, SmallArea, fay_herriot
from estimation.twophase import TwoPhaseDesign
from surveycore.errors import SurveyError

__all__ = [
    "FayHerriotResult",
    "IndicatorTable",
    "ReplicateDesign",
    "SmallArea",
    "SuppressionRule",
    "SurveyDesign",
    "SurveyError",
    "TwoPhaseDesign",
    "fay_herriot",
    "indicator_table",
]
