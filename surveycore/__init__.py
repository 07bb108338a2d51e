"""Foundation shared by every layer: the error type and boundary checks.

Every layer (``questionnaires → sampling → weighting → estimation → migsurvey``) may import
``surveycore``; ``surveycore`` imports none of them.
"""

from surveycore.errors import SurveyError, SurveyWarning

__all__ = ["SurveyError", "SurveyWarning"]
