"""Linearisation of weighting-class adjustments and of the household → person expansion.

A weighting-class adjustment (unknown eligibility, nonresponse) multiplies the weights of the
*adjusted* rows ``A`` of class ``c`` (respondents; cases of known eligibility) by
``f_c = Σ_{S∩c} d / Σ_{A∩c} d`` where ``S ⊇ A`` are the *source* rows whose weight is spread
(eligible cases; all cases). The estimator ``Ŷ(d) = Σ_c f_c Σ_{A∩c} d_i y_i + Σ_{rest} d_i y_i``
is a smooth function of the weights ``d`` before the step, and its linearised variable (the
derivative with respect to each weight, times the weight; Deville 1999; Demnati & Rao 2004) is

.. math::

    u_i = x_i - 1[i∈A]\\, w_i B_c + 1[i∈S]\\, d_i B_c,
    \\qquad B_c = \\frac{Σ_{A∩c} x_j}{Σ_{A∩c} w_j},

with ``x_i = w_i y_i`` the weighted score after the step and ``w_i = d_i f_c``. Nonrespondents
(``x_i = 0``) receive ``d_i B_c``: the variance includes the estimation of each class's
response rate. This is the linearisation R ``survey``'s ``svycontrast`` gives for
``Σ_c N̂_c Ŷ_{A,c}/N̂_{A,c}`` written from the Horvitz–Thompson totals of the classes.
Response propensities estimated by a model (``adjust_propensity(method="inverse")``) are
treated as fixed (no record).

After :meth:`weighting.Weights.expand` the household-level records act on household totals of
the person-level scores, ``X_h = Σ_{p∈h} x_p``; the change ``u_h − X_h`` is added to the first
member row of household ``h`` or, for a household without member rows (nonrespondents), to the
first person row of its PSU. Only sums over PSUs enter a with-replacement (ultimate cluster)
variance, so the result is the linearised variance of the whole chain.

Order: the chain rule applies the last step first. Calibration records keep R ``survey``'s
order among themselves (``svyrecvar`` applies its ``postStrata`` entries in the order they
were added); :func:`ordered_records` therefore walks the chain backwards and keeps each run
of consecutive calibration records in chain order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from weighting.records import Projection, ResidualMap, _cell_matrix

__all__ = ["ClassAdjustmentRecord", "ExpandRecord", "ExpandBoundary", "ordered_records"]


@dataclass(frozen=True, eq=False)
class ClassAdjustmentRecord:
    """Linearisation of one weighting-class adjustment (eligibility or nonresponse).

    The projection ``x ↦ x − U (Lᵀ x)`` with ``U = (1[A]·w − 1[S]·d) 1{c}`` and
    ``L = 1[A] 1{c} / Σ_{A∩c} w`` (so ``Lᵀ x = B``), as the records of :mod:`weighting.records`.

    Attributes
    ----------
    codes : ndarray (n,)
        Class of each row.
    n_classes : int
    adjusted, source : ndarray of bool (n,)
        Rows whose weight is multiplied (``A``) and rows whose weight is spread (``S``).
    before, after : ndarray (n,)
        Weights before (``d``) and after (``w``) the step.
    """

    codes: np.ndarray
    n_classes: int
    adjusted: np.ndarray
    source: np.ndarray
    before: np.ndarray
    after: np.ndarray
    kind: str = "weighting class"
    sequence: tuple[int, ...] = (0,)

    def projections(self) -> tuple[Projection, ...]:
        adj = self.adjusted.astype(float)
        den = np.bincount(self.codes, weights=self.after * adj, minlength=self.n_classes)
        inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        U = _cell_matrix(self.codes, self.n_classes, adj * self.after - self.source * self.before)
        L = _cell_matrix(self.codes, self.n_classes, adj * inv[self.codes])
        return (Projection(U, L),)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """The linearised scores ``u`` (n, k) for weighted scores ``x`` (n, k) after the step."""
        return ResidualMap([self]).residualize(x)


@dataclass(frozen=True, eq=False)
class ExpandBoundary:
    """Marks the household → person expansion in a chain's list of variance records."""

    member_of: np.ndarray  # (n_persons,) household row of each person row
    anchor: np.ndarray  # (n_households,) person row receiving the household's adjustment, -1 none
    n_households: int


@dataclass(frozen=True, eq=False)
class ExpandRecord:
    """Household-level records applied to person-level scores (see the module docstring).

    The household records compose to ``X ↦ X − U_h K X`` on household totals
    ``X = Mᵀ x`` (``M`` the person × household membership matrix, ``K`` the coefficients of
    :class:`weighting.records.ResidualMap` for the identity); on the person rows this is the
    single projection ``U = A U_h``, ``L = M Kᵀ`` with ``A`` placing each household's change
    on its anchor row.
    """

    boundary: ExpandBoundary
    inner: tuple
    kind: str = "household chain"
    sequence: tuple[int, ...] = (0,)
    _cache: dict = field(default_factory=dict, repr=False)

    def projections(self) -> tuple[Projection, ...]:
        if "p" not in self._cache:
            b = self.boundary
            inner = ResidualMap(list(self.inner))
            K = inner.coefficients(sp.identity(b.n_households, format="csr"))  # (P, H)
            placed = np.flatnonzero(b.anchor >= 0)
            A = sp.csr_matrix((np.ones(placed.size), (b.anchor[placed], placed)),
                              shape=(b.member_of.size, b.n_households))
            U = A @ inner.stacked_u()
            L = K.T[b.member_of]
            self._cache["p"] = (Projection(sp.csr_matrix(U) if sp.issparse(U) else U, L),)
        return self._cache["p"]

    def residualize(self, x: np.ndarray) -> np.ndarray:
        return ResidualMap([self]).residualize(x)


def _is_class(record) -> bool:
    return isinstance(record, ClassAdjustmentRecord | ExpandRecord)


def ordered_records(records: tuple) -> list:
    """The variance records of a chain in the order the linearisation applies them.

    ``records`` holds one entry per step in chain order (``None`` for steps without a record,
    an :class:`ExpandBoundary` for the expansion). Everything before the last boundary is
    wrapped in one :class:`ExpandRecord`; the walk is from the last step to the first, runs
    of consecutive calibration records keeping chain order (R ``survey``'s order).
    """
    cut = max((k for k, r in enumerate(records) if isinstance(r, ExpandBoundary)), default=-1)
    tail = [r for r in records[cut + 1 :] if r is not None]
    if cut >= 0:
        inner = tuple(ordered_records(records[:cut]))
        head = [ExpandRecord(records[cut], inner)] if inner else []
    else:
        head = []
    seq = head + tail
    out: list = []
    run: list = []
    for r in reversed(seq):
        if _is_class(r):
            out += run[::-1]
            run = []
            out.append(r)
        else:
            run.append(r)
    out += run[::-1]
    return out
