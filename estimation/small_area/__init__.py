"""Small area estimation: the Fay–Herriot area-level model from a design's domain estimates.

``fay_herriot`` fits the model (REML or ML, :mod:`.fit`), predicts every area (EBLUP, synthetic
for areas without sample), estimates MSEs (Prasad–Rao / Datta–Lahiri or parametric bootstrap,
:mod:`.mse`), handles proportions on the arcsine scale (:mod:`.transform`) and unstable
sampling variances (:mod:`.gvf`); results can be benchmarked (:mod:`.benchmark`) and checked
(:mod:`.diagnostics`); ``SmallArea`` asks ``indicator_table`` for model-based estimates
(:mod:`.indicators`).
"""

from estimation.small_area.benchmark import benchmark
from estimation.small_area.diagnostics import Diagnostics, diagnostics
from estimation.small_area.indicators import SmallArea
from estimation.small_area.model import fay_herriot
from estimation.small_area.result import FayHerriotResult

__all__ = ["Diagnostics", "FayHerriotResult", "SmallArea", "benchmark", "diagnostics",
           "fay_herriot"]
