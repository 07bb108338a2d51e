"""The statistics every estimator reduces to, independent of how variance is computed.

Two kinds of problem cover every estimator:

* :class:`RatioProblem` — ratios of weighted totals in domains,
  ``θ[d, j] = Σ_i w_i a_ij 1{g_i = d} / Σ_i w_i b_ij 1{g_i = d}``. Totals (``b = None``), means
  (``b = 1``), proportions (``a`` one-hot, ``b = 1``) and ratios are all of this form, and so are
  all domains at once. A variance engine solves it in one vectorised pass.
* :class:`GeneralProblem` — any statistic ``θ(w)`` of the weights with its linearised influence
  (quantiles, regression coefficients). Taylor engines use the influence; replicate engines
  recompute ``θ`` on each replicate weight vector.

Both :class:`~estimation.taylor.TaylorEngine` and the replicate engine implement
:class:`VarianceEngine`, so the estimators are written once for both design kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from estimation.variables import Analysis, Columns


@dataclass(frozen=True)
class RatioProblem:
    """Ratios of weighted domain totals.

    Parameters
    ----------
    numerator : ndarray, shape (n, k)
        Values ``a_ij`` (rows outside every domain may hold anything finite; they are ignored).
    denominator : ndarray, shape (n, k), or None
        Values ``b_ij``; ``None`` asks for totals (``θ = Σ w a``).
    domain : ndarray of int, shape (n,), or None
        Domain code of each row in ``0 .. n_domains - 1``; ``-1`` marks rows outside every
        domain (they keep their place in the design, with zero contribution). ``None`` means one
        domain holding every row.
    n_domains : int
        Number of domains ``D``.
    per_unit : bool
        The denominator is one on every row (means and shares): engines may use the domains'
        weight totals for ``B`` instead of products with it.
    """

    numerator: np.ndarray
    denominator: np.ndarray | None
    domain: np.ndarray | None
    n_domains: int = 1
    per_unit: bool = False


@dataclass(frozen=True)
class GeneralProblem:
    """A smooth statistic of the weights with its influence values.

    Parameters
    ----------
    statistic : callable
        ``statistic(weights) -> ndarray (m,)``; ``weights`` is a length-n vector (zero outside
        the domain of interest).
    influence : callable
        ``influence(weights) -> ndarray (n, m)``: the *weighted* linearised scores ``w_i u_i``
        whose Horvitz–Thompson total has the same variance as ``θ`` to first order.
    """

    statistic: Callable[[np.ndarray], np.ndarray]
    influence: Callable[[np.ndarray], np.ndarray]


class VarianceEngine(Protocol):
    """What a design kind provides to the estimators."""

    def solve_ratio(self, problem: RatioProblem) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(estimate (D, k), covariance (D, k, k))``."""
        ...

    def solve_general(self, problem: GeneralProblem) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(estimate (m,), covariance (m, m))``."""
        ...


class EstimationDesign(Protocol):
    """The contract between a design and the estimators built on it (quantiles, proportions,
    tests, models, indicator tables): weights, a variance engine, analysis matrices with domain
    codes, and degrees of freedom. Estimators use nothing else of a design.
    """

    @property
    def weights(self) -> np.ndarray:
        """Sampling weights (n,), zero outside a subset; read-only."""
        ...

    @property
    def data(self) -> pd.DataFrame:
        """The design's rows (a copy: changing it changes nothing in the design)."""
        ...

    def engine(self) -> VarianceEngine:
        """The variance engine for the design's weights."""
        ...

    def columns(self, variables: str | Sequence[str], argument: str = "variables") -> Columns:
        """The analysis matrix of ``variables`` (NaN where missing)."""
        ...

    def analysis(self, columns: Columns, by: str | Sequence[str] | None, *, na_rm: bool = False,
                 argument: str = "variables", missing: np.ndarray | None = None) -> Analysis:
        """Domain codes of ``by`` for the rows where ``columns`` (and ``missing``) are observed."""
        ...

    def domain_degf(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Degrees of freedom of each domain's subset design."""
        ...

    def degf(self) -> float:
        """Design degrees of freedom."""
        ...

    def domain_rows(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """Rows of each domain's subset design (R ``nrow(subset(d, …))``)."""
        ...
