"""weighting layer: base weights, eligibility and nonresponse, calibration, trimming.

:class:`Weights` keeps the weights and the recorded chain of steps that produced them; the
chain can be replayed on replicate weights, and calibration steps leave variance records
that the linearisation uses.
"""

from weighting.history import StepRecord
from weighting.records import CalibrationRecord, PostStratificationRecord, RakingRecord
from weighting.weights import Weights

__all__ = [
    "Weights",
    "StepRecord",
    "CalibrationRecord",
    "PostStratificationRecord",
    "RakingRecord",
]
