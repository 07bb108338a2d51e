"""Estimation layer: survey designs, variance engines and estimators.

``SurveyDesign`` (Taylor linearisation) and ``ReplicateDesign`` (replicate weights) share every
estimator: ``mean``, ``total``, ``ratio``, ``quantile``, ``proportion``, ``chisq``, ``glm``, all
by domain in one pass, each returning one tidy frame.
"""

from estimation.design import SurveyDesign
from surveycore.errors import SurveyError

__all__ = ["SurveyDesign", "SurveyError"]

from estimation.indicators import IndicatorTable, SuppressionRule, indicator_table  # noqa: E402

__all__ += ["IndicatorTable", "SuppressionRule", "indicator_table"]
