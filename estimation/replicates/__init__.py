"""Replicate-weight designs: factor generation, the replicate variance engine and the design.

``ReplicateDesign`` (supplied replicate weights) and :func:`from_design` (replicates generated
from a ``SurveyDesign``: JK1, JKn, BRR, Fay, bootstrap, SDR) share every estimator of
:class:`~estimation.design_base.BaseDesign`.
"""

from estimation.replicates.design import ReplicateDesign, from_design
from estimation.replicates.engine import ReplicateEngine, replicate_covariance
from estimation.replicates.factors import PsuLayout, ReplicateFactors, generate

__all__ = [
    "PsuLayout",
    "ReplicateDesign",
    "ReplicateEngine",
    "ReplicateFactors",
    "from_design",
    "generate",
    "replicate_covariance",
]
