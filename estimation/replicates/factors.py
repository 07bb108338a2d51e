"""Replicate factors generated from a design's first-stage structure.

Every generator returns :class:`ReplicateFactors`: a ``(P, R)`` matrix of multiplicative factors
for the ``P`` first-stage units (PSUs), with the constants of the replicate variance

.. math:: v(\\hat\\theta) = \\text{scale} \\sum_r \\text{rscales}_r (\\hat\\theta_r - \\bar\\theta)^2 ,

replicate weight ``w_ir = w_i f_{p(i), r}``. Conventions, orders and constants follow R
``survey``'s ``as.svrepdesign`` (Lumley 2010, ch. 2.4) so that results agree with R:

* ``JK1`` — delete-one-PSU jackknife (unstratified): factor 0 for the deleted PSU and
  ``n / (n − 1)`` elsewhere, ``scale = (1 − f)(n − 1) / n``, ``rscales = 1``.
* ``JKn`` — stratified jackknife: one replicate per PSU, the deleted PSU's stratum reweighted by
  ``n_h / (n_h − 1)``, ``rscales = (1 − f_h)(n_h − 1)/n_h``, ``scale = 1``.
* ``BRR`` / ``Fay`` — balanced half-samples from a Hadamard matrix (McCarthy 1969; Judkins 1990
  for Fay's ``ρ``): factors ``2 − ρ`` and ``ρ``, ``scale = 1 / (R (1 − ρ)²)``.
* ``bootstrap`` — Rao & Wu (1988) rescaling bootstrap with ``m_h = n_h − 1`` draws with
  replacement per stratum: ``f = 1 − λ_h + λ_h (n_h / m_h) m*_hi``, ``λ_h = √(1 − f_h)``,
  ``scale = 1 / (R − 1)`` (R's ``type="subbootstrap"``, which ignores ``f_h``).
* ``SDR`` — successive difference replication (Fay & Train 1995), circular within each stratum:
  ``f_ir = 1 + 2^{-3/2} √(1 − f_h) (h_{a_i, r} − h_{a_{i+1}, r})`` with ``h`` a ±1 Hadamard
  matrix, ``scale = 4 / R``; for a total it reproduces ``½ Σ_h Σ_i (y_hi − y_h,i−1)²``.

PSUs are numbered by the design's cluster codes; strata and PSUs are visited in order of first
appearance in the data, as R does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estimation.replicates.hadamard import hadamard
from surveycore.errors import SurveyError

LONELY_OPTIONS = ("fail", "remove", "certainty", "average", "adjust")


@dataclass(frozen=True)
class PsuLayout:
    """First-stage units of a design.

    Attributes
    ----------
    stratum : ndarray of int, shape (P,)
        Stratum code of each PSU (``0 .. H − 1``).
    first_row : ndarray of int, shape (P,)
        Row where each PSU first appears (fixes R's order).
    stratum_labels : ndarray, shape (H,)
        Original stratum labels (BRR sorts strata by their labels, as R does).
    popsize : ndarray of float, shape (P,)
        Population number of PSUs in the PSU's stratum (``inf`` without fpc).
    """

    stratum: np.ndarray
    first_row: np.ndarray
    stratum_labels: np.ndarray
    popsize: np.ndarray

    @classmethod
    def from_rows(
        cls,
        psu: np.ndarray,
        stratum: np.ndarray | None = None,
        popsize: np.ndarray | None = None,
        stratum_labels: np.ndarray | None = None,
    ) -> PsuLayout:
        """Build from row-level PSU codes ``0 .. P − 1`` (and stratum codes, popsizes)."""
        psu = np.asarray(psu, dtype=np.int64)
        n = len(psu)
        p = int(psu.max()) + 1 if n else 0
        first = np.full(p, n, dtype=np.int64)
        np.minimum.at(first, psu, np.arange(n))
        st = np.zeros(p, dtype=np.int64) if stratum is None else np.asarray(stratum)[first]
        st = st.astype(np.int64)
        h = int(st.max()) + 1 if p else 0
        labels = np.arange(h) if stratum_labels is None else np.asarray(stratum_labels)
        pop = np.full(p, np.inf) if popsize is None else np.asarray(popsize, dtype=float)[first]
        return cls(stratum=st, first_row=first, stratum_labels=labels, popsize=pop)

    @classmethod
    def from_stage(cls, stage) -> PsuLayout:
        """Build from the first :class:`~estimation.structure.Stage` of a design."""
        n = len(stage.cluster)
        p = stage.n_clusters
        first = np.full(p, n, dtype=np.int64)
        np.minimum.at(first, stage.cluster, np.arange(n))
        return cls(
            stratum=np.asarray(stage.stratum, dtype=np.int64),
            first_row=first,
            stratum_labels=np.asarray(stage.labels),
            popsize=np.asarray(stage.popsize, dtype=float),
        )

    @property
    def n_psu(self) -> int:
        return len(self.stratum)

    @property
    def n_strata(self) -> int:
        return len(self.stratum_labels)

    def n_per_stratum(self) -> np.ndarray:
        return np.bincount(self.stratum, minlength=self.n_strata)

    def fraction(self) -> np.ndarray:
        """Sampling fraction ``n_h / N_h`` per PSU (0 without fpc)."""
        n_h = self.n_per_stratum()[self.stratum].astype(float)
        return np.where(np.isinf(self.popsize), 0.0, n_h / self.popsize)

    def appearance_order(self) -> np.ndarray:
        """PSU codes sorted by stratum (first appearance), then first appearance in the data."""
        h_first = np.full(self.n_strata, np.iinfo(np.int64).max)
        np.minimum.at(h_first, self.stratum, self.first_row)
        return np.lexsort((self.first_row, h_first[self.stratum]))


@dataclass(frozen=True)
class ReplicateFactors:
    """Multiplicative replicate factors per PSU and the constants of the variance.

    Attributes
    ----------
    factors : ndarray, shape (P, R)
    scale : float
    rscales : ndarray, shape (R,)
    type : str
    rho : float
    """

    factors: np.ndarray
    scale: float
    rscales: np.ndarray
    type: str
    rho: float = 0.0

    @property
    def n_replicates(self) -> int:
        return self.factors.shape[1]


def _stratum_fpc(layout: PsuLayout) -> np.ndarray:
    """``1 − f_h`` per stratum (1 without fpc); refuses several population sizes in a stratum."""
    h = layout.n_strata
    lo = np.full(h, np.inf)
    hi = np.full(h, -np.inf)
    np.minimum.at(lo, layout.stratum, layout.popsize)
    np.maximum.at(hi, layout.stratum, layout.popsize)
    varies = ~((lo == hi) | np.isclose(lo, hi))
    if varies.any():
        raise SurveyError(
            "replicate weights need one first-stage population size per stratum",
            argument="fpc",
            expected="a constant first-stage fpc within each stratum",
            found=f"{int(varies.sum())} strata with several population sizes",
            hint="PPS designs without replacement cannot be converted to jackknife weights "
            "exactly; drop fpc for a with-replacement approximation",
        )
    n_h = layout.n_per_stratum().astype(float)
    return np.where(np.isinf(lo), 1.0, (lo - n_h) / np.where(np.isinf(lo), 1.0, lo))


def jk1(layout: PsuLayout) -> ReplicateFactors:
    """Delete-one-PSU jackknife for an unstratified design (R ``jk1weights``)."""
    if layout.n_strata > 1:
        raise SurveyError(
            "JK1 needs an unstratified design",
            argument="type",
            expected="JKn, BRR, Fay, bootstrap or SDR for a stratified design",
            found=f"{layout.n_strata} strata",
        )
    p = layout.n_psu
    if p < 2:
        raise SurveyError(
            "JK1 needs at least two PSUs",
            argument="type",
            expected="two or more first-stage units",
            found=f"{p} PSU",
        )
    fpc = float(_stratum_fpc(layout)[0])
    order = layout.appearance_order()
    factors = np.full((p, p), p / (p - 1))
    factors[order, np.arange(p)] = 0.0
    return ReplicateFactors(factors, fpc * (p - 1) / p, np.ones(p), "JK1")


def jkn(layout: PsuLayout, lonely_psu: str = "fail") -> ReplicateFactors:
    """Stratified delete-one-PSU jackknife (R ``jknweights``).

    Certainty strata (``N_h = n_h``) give no replicate. Strata with a single PSU follow
    ``lonely_psu``: ``"fail"`` refuses, ``"remove"``, ``"certainty"`` and ``"average"`` give no
    replicate, ``"adjust"`` gives one replicate with factor 0 in the stratum and
    ``H / (H − 1)`` elsewhere, ``rscale (H − 1)/H`` (as R's ``jknweights``).

    ``"average"`` multiplies ``scale`` by ``H / (H − L)`` (``H`` strata, ``L`` of them
    single-PSU): each single-PSU stratum contributes the average of the other strata's
    contributions, which is what ``"average"`` means in the Taylor engine (R's
    ``svyrecvar``), so both engines give one answer. R's ``jknweights`` multiplies by
    ``P / R`` (PSUs over replicates) instead; the two agree only when every stratum has the
    same number of PSUs.
    """
    fpc_h = _stratum_fpc(layout)
    h_count = layout.n_strata
    order = layout.appearance_order()
    cols: list[np.ndarray] = []
    rscales: list[float] = []
    strata_seen = layout.stratum[order]
    _, idx = np.unique(strata_seen, return_index=True)
    for h in strata_seen[np.sort(idx)]:
        members = order[strata_seen == h]
        nh = len(members)
        if fpc_h[h] == 0:
            continue
        if nh == 1:
            if lonely_psu == "fail":
                raise SurveyError(
                    "a stratum has only one PSU",
                    argument="lonely_psu",
                    expected="at least two PSUs per stratum, or another lonely_psu option",
                    found=f"stratum {layout.stratum_labels[h]!r} has one PSU",
                    hint="use lonely_psu='adjust', 'average', 'remove' or 'certainty'",
                )
            if lonely_psu == "adjust":
                col = np.where(layout.stratum == h, 0.0, h_count / (h_count - 1))
                cols.append(col)
                rscales.append((h_count - 1) / h_count)
            continue
        block = np.ones((layout.n_psu, nh))
        block[members, :] = nh / (nh - 1)
        block[members, np.arange(nh)] = 0.0
        cols.extend(block.T)
        rscales.extend([fpc_h[h] * (nh - 1) / nh] * nh)
    if not cols:
        raise SurveyError(
            "every stratum was sampled exhaustively",
            argument="fpc",
            expected="at least one stratum with sampling variance",
            found="all strata are certainty strata or single-PSU strata",
        )
    return ReplicateFactors(np.column_stack(cols), _average_scale(layout, lonely_psu),
                            np.asarray(rscales), "JKn")


def _lonely(layout: PsuLayout) -> np.ndarray:
    """Strata with a single PSU that are not certainty strata."""
    return (layout.n_per_stratum() == 1) & (_stratum_fpc(layout) != 0)


def _average_scale(layout: PsuLayout, lonely_psu: str) -> float:
    """``H / (H − L)`` under ``lonely_psu="average"`` (the Taylor engine's meaning), else 1."""
    n_lonely = int(_lonely(layout).sum())
    if lonely_psu != "average" or n_lonely == 0:
        return 1.0
    return layout.n_strata / (layout.n_strata - n_lonely)


def _brr_pairs(layout: PsuLayout) -> tuple[np.ndarray, np.ndarray]:
    """Half-sample pair of each PSU and its side (0: first in R's order, 1: second)."""
    n_h = layout.n_per_stratum()
    if (n_h < 2).any():
        bad = layout.stratum_labels[np.flatnonzero(n_h < 2)]
        raise SurveyError(
            "BRR needs at least two PSUs in every stratum",
            argument="type",
            expected="two PSUs per stratum (or an even number, split into pairs)",
            found="strata with one PSU: " + ", ".join(map(repr, bad[:8])),
            hint="merge single-PSU strata first, or use JKn or bootstrap",
        )
    if ((n_h > 2) & (n_h % 2 == 1)).any():
        bad = layout.stratum_labels[np.flatnonzero((n_h > 2) & (n_h % 2 == 1))]
        raise SurveyError(
            "BRR cannot split a stratum with an odd number of PSUs into pairs",
            argument="type",
            expected="an even number of PSUs in every stratum",
            found="odd strata: " + ", ".join(map(repr, bad[:8])),
            hint="use JKn or bootstrap",
        )
    label_text = np.array([str(x) for x in layout.stratum_labels])
    label_rank = np.argsort(np.argsort(label_text, kind="stable"), kind="stable")
    # R orders PSUs by stratum label then first appearance; large strata (> 2 PSUs) get the
    # first pair numbers, then the two-PSU strata, each group in label order.
    large = (n_h > 2)[layout.stratum]
    order = np.lexsort((layout.first_row, label_rank[layout.stratum], ~large))
    pos = np.empty(layout.n_psu, dtype=np.int64)
    pos[order] = np.arange(layout.n_psu)
    pair = pos // 2
    side = pos % 2
    return pair, side


def brr(layout: PsuLayout, rho: float = 0.0) -> ReplicateFactors:
    """Balanced repeated replication (``rho = 0``) or Fay's method (R ``brrweights``).

    Pair ``k`` (PSUs in R's order) takes row ``k + 2`` of :func:`~.hadamard.hadamard`; in
    replicate ``r`` the first PSU of the pair gets ``2 − ρ`` when ``H[k + 1, r] = 1`` and ``ρ``
    otherwise, the second PSU the complement.
    """
    if not 0.0 <= rho < 1.0:
        raise SurveyError(
            "Fay's rho must be in [0, 1)",
            argument="rho",
            expected="0 <= rho < 1",
            found=repr(rho),
        )
    pair, side = _brr_pairs(layout)
    n_pairs = int(pair.max()) + 1
    h = hadamard(n_pairs)
    row = h[1 + pair, :].astype(bool)  # (P, R)
    first_up = np.where(side[:, None] == 0, row, ~row)
    factors = np.where(first_up, 2.0 - rho, rho)
    r = h.shape[1]
    kind = "BRR" if rho == 0 else "Fay"
    return ReplicateFactors(factors, 1.0 / (r * (1.0 - rho) ** 2), np.ones(r), kind, rho)


def bootstrap(
    layout: PsuLayout,
    replicates: int = 50,
    seed: int | np.random.Generator | None = None,
    lonely_psu: str = "fail",
) -> ReplicateFactors:
    """Rao–Wu rescaling bootstrap with ``m_h = n_h − 1`` (Rao & Wu 1988; Rao, Wu & Yue 1992).

    In each stratum ``m_h = n_h − 1`` PSUs are drawn with replacement; PSU ``i`` drawn
    ``m*_hi`` times gets ``f = 1 − λ_h + λ_h n_h m*_hi / m_h`` with ``λ_h = √(1 − f_h)``;
    ``scale = 1/(R − 1)``, ``rscales = 1``. Certainty strata keep factor 1. Draws are
    vectorised over replicates and strata.

    Strata with a single PSU cannot be resampled; they follow ``lonely_psu`` as in the
    Taylor engine: ``"fail"`` refuses, ``"remove"`` and ``"certainty"`` keep factor 1 (no
    contribution), ``"average"`` keeps factor 1 and multiplies ``scale`` by ``H / (H − L)``
    (each such stratum contributes the average of the others). ``"adjust"`` (centring the
    single PSU at the grand mean) has no bootstrap counterpart and is refused.
    """
    if not isinstance(replicates, int | np.integer) or replicates < 2:
        raise SurveyError(
            "bootstrap needs at least two replicates",
            argument="replicates",
            expected="an integer >= 2",
            found=repr(replicates),
        )
    lonely = _lonely(layout)
    if lonely.any() and lonely_psu in ("fail", "adjust"):
        shown = ", ".join(map(repr, layout.stratum_labels[np.flatnonzero(lonely)][:8]))
        raise SurveyError(
            "a stratum has only one PSU: the bootstrap cannot resample it",
            argument="lonely_psu",
            expected="at least two PSUs per stratum, or lonely_psu 'remove', 'certainty' or "
            "'average'" + (" (no bootstrap counterpart of 'adjust')" if lonely_psu == "adjust" else ""),
            found=f"{int(lonely.sum())} single-PSU strata: {shown}",
            hint="use type='JKn' (which has R's 'adjust' replicate), Taylor linearisation, "
            "or collapse the stratum with a neighbour",
        )
    rng = np.random.default_rng(seed)
    n_h = layout.n_per_stratum()
    fpc_h = _stratum_fpc(layout)
    order = np.argsort(layout.stratum, kind="stable")  # PSUs grouped by stratum
    offset = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    m_h = np.where(n_h > 1, n_h - 1, 0)
    slot_stratum = np.repeat(np.arange(layout.n_strata), m_h)  # (M,)
    u = rng.random((replicates, len(slot_stratum)))
    pick = offset[slot_stratum] + np.floor(u * n_h[slot_stratum]).astype(np.int64)
    psu_of_pick = order[pick]
    key = psu_of_pick + layout.n_psu * np.arange(replicates)[:, None]
    counts = np.bincount(key.ravel(), minlength=layout.n_psu * replicates)
    counts = counts.reshape(replicates, layout.n_psu).T.astype(float)  # (P, R)
    lam = np.sqrt(np.clip(fpc_h, 0.0, 1.0))[layout.stratum][:, None]
    nh = n_h[layout.stratum][:, None].astype(float)
    mh = m_h[layout.stratum][:, None].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        resc = np.where(mh > 0, nh * counts / np.where(mh > 0, mh, 1.0), 1.0)
    factors = 1.0 - lam + lam * resc
    scale = _average_scale(layout, lonely_psu) / (replicates - 1)
    return ReplicateFactors(factors, scale, np.ones(replicates), "bootstrap")


def sdr(layout: PsuLayout, replicates: int | None = None, order_key: np.ndarray | None = None) -> ReplicateFactors:
    """Successive difference replication, circular within strata (Fay & Train 1995).

    PSUs are taken in the order of ``order_key`` (one value per PSU, e.g. the frame's sort
    order used at selection) within strata, or else in order of appearance in the data.
    PSU ``i`` (in that order, numbered ``1 .. P``) takes Hadamard row ``a_i = i``
    (row 0, all ones, is never used) and its stratum successor's row ``a_{i+1}``:
    ``f_ir = 1 + 2^{-3/2} √(1 − f_h)(h_{a_i r} − h_{a_{i+1} r})``. With ``R ≥ P + 1`` rows the
    variance of a total is exactly ``½ Σ_h Σ_i (y_hi − y_h,i−1)²``. A smaller ``replicates``
    (a Hadamard order) reuses rows cyclically, as production SDR systems do (approximate).
    """
    p = layout.n_psu
    if replicates is None:
        h = hadamard(p)
    else:
        h = hadamard(max(int(replicates) - 1, 1))
        if h.shape[0] != replicates:
            raise SurveyError(
                "SDR replicates must be the order of a Hadamard matrix",
                argument="replicates",
                expected=f"an available order such as {h.shape[0]}",
                found=repr(replicates),
            )
    r = h.shape[0]
    pm = 2.0 * h.astype(float) - 1.0
    order = layout.appearance_order()
    if order_key is not None:
        h_first = np.full(layout.n_strata, np.iinfo(np.int64).max)
        np.minimum.at(h_first, layout.stratum, layout.first_row)
        order = np.lexsort((layout.first_row, order_key, h_first[layout.stratum]))
    seq = np.empty(p, dtype=np.int64)
    seq[order] = np.arange(p)
    row_of = 1 + seq % (r - 1)  # Hadamard row of each PSU
    # successor within stratum, circular, in appearance order
    st_sorted = layout.stratum[order]
    nxt = np.empty(p, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, st_sorted[1:] != st_sorted[:-1]])
    ends = np.r_[starts[1:], p]
    succ_pos = np.arange(1, p + 1)
    succ_pos[ends - 1] = starts
    nxt[order] = order[succ_pos]
    fpc_h = _stratum_fpc(layout)
    shrink = np.sqrt(np.clip(fpc_h, 0.0, 1.0))[layout.stratum][:, None]
    factors = 1.0 + 2.0**-1.5 * shrink * (pm[row_of] - pm[row_of[nxt]])
    return ReplicateFactors(factors, 4.0 / r, np.ones(r), "SDR")


def generate(
    layout: PsuLayout,
    type: str,
    *,
    replicates: int | None = None,
    seed: int | np.random.Generator | None = None,
    rho: float | None = None,
    lonely_psu: str = "fail",
    order_key: np.ndarray | None = None,
) -> ReplicateFactors:
    """Dispatch to the generator of ``type`` (``JK1, JKn, BRR, Fay, bootstrap, SDR``)."""
    if type == "JK1":
        return jk1(layout)
    if type == "JKn":
        return jkn(layout, lonely_psu)
    if type == "BRR":
        return brr(layout, 0.0 if rho is None else rho)
    if type == "Fay":
        if rho is None:
            raise SurveyError(
                "Fay's method needs rho",
                argument="rho",
                expected="a value in (0, 1), e.g. 0.5",
                found="None",
            )
        return brr(layout, rho)
    if type == "bootstrap":
        return bootstrap(layout, 50 if replicates is None else replicates, seed, lonely_psu)
    if type == "SDR":
        return sdr(layout, replicates, order_key)
    raise SurveyError(
        "unknown replicate type",
        argument="type",
        expected="one of 'JK1', 'JKn', 'BRR', 'Fay', 'bootstrap', 'SDR'",
        found=repr(type),
    )
