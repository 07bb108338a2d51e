"""sampling: census frames, migrant-targeted designs, allocation and selection.

Public API::

    from sampling import Frame, select, inclusion_probabilities, joint_inclusion_probabilities

Every selection method reports true inclusion probabilities (column ``pi``) and base weights
(``weight = 1/pi``); later stages and two-phase screening chain them.
"""

from sampling.algorithms import draw_samples
from sampling.allocation import Allocation, allocate, allocation_deff
from sampling.composite import CompositeSize, composite_size
from sampling.conditional_poisson import working_odds
from sampling.frame import Frame, FrameReport
from sampling.joint import joint_inclusion_probabilities
from sampling.multistage import screen, subsample
from sampling.probabilities import inclusion_probabilities
from sampling.sample import Sample, SampleDesign, StageRecord
from sampling.sample_size import (
    SampleSize,
    design_effect,
    mics_sample_size,
    sample_size,
    sample_size_domains,
)
from sampling.select import select
from sampling.self_representing import SelfRepresenting, self_representing
from sampling.stratify import (
    cum_sqrt_f,
    explicit_strata,
    prevalence_class,
    prevalence_strata,
    serpentine_order,
    serpentine_sort,
)

__all__ = [
    "Allocation",
    "CompositeSize",
    "Frame",
    "FrameReport",
    "Sample",
    "SampleDesign",
    "SampleSize",
    "SelfRepresenting",
    "StageRecord",
    "allocate",
    "allocation_deff",
    "composite_size",
    "cum_sqrt_f",
    "design_effect",
    "draw_samples",
    "explicit_strata",
    "inclusion_probabilities",
    "joint_inclusion_probabilities",
    "mics_sample_size",
    "prevalence_class",
    "prevalence_strata",
    "sample_size",
    "sample_size_domains",
    "screen",
    "select",
    "self_representing",
    "serpentine_order",
    "serpentine_sort",
    "subsample",
    "working_odds",
]
