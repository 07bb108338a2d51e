"""Phase-1 variance of the approximate two-phase method (R ``survey``'s ``svyrecvar.phase1``).

The double-expansion estimator's variance splits into a phase-1 part — the variance the
phase-2 total would have if every phase-1 unit had been observed — and a phase-2 part given
phase 1 (Särndal, Swensson & Wretman 1992, §9.3; Breslow & Chatterjee 1999). The approximate
method estimates the phase-1 part with the usual stratified multi-stage formula of phase 1,
each phase-1 cluster total ``X_c`` (over its phase-2 rows) scaled by ``p_c``, the phase-2
sampling fraction of the cluster's phase-1 units:

.. math::

    V_{1h} = f_h \\frac{n_h}{n_h - 1} \\Big[\\sum_{c \\in h} \\frac{(p_c X_c - \\bar X_h)^2}{p_c}
             + (m_h - m'_h)\\,\\bar X_h^2\\Big], \\qquad \\bar X_h = \\frac{1}{n_h}\\sum_c X_c,

with ``n_h`` the phase-1 clusters of the stratum, ``m_h`` those with phase-2 rows and ``m'_h``
those present in the estimate (a domain estimated by R's ``svyby`` on an uncalibrated design
drops the clusters without rows of the domain, which then count with ``p = 1`` and ``X = 0``),
``f_h = 1 − n_h/N_h``. Later phase-1 stages add their own terms within each cluster,
multiplied by the cluster's sampling fraction (when the phase-1 ``fpc`` is given). ``p_c`` is
taken from the cluster's first row, as R does.
"""

from __future__ import annotations

import numpy as np

from estimation.structure import Stage
from surveycore.errors import SurveyError


def _first(codes: np.ndarray, size: int) -> np.ndarray:
    first = np.full(size, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


class Phase1Approx:
    """R's phase-1 variance of a two-phase design, for the phase-2 rows.

    Parameters
    ----------
    stages : list of Stage
        Phase-1 stages on the full phase-1 data.
    rows : ndarray of int
        Positions of the phase-2 rows in the phase-1 data.
    multistage : bool
        Whether later phase-1 stages contribute (phase-1 ``fpc`` given).
    lonely_psu : str
    """

    def __init__(self, stages: list[Stage], rows: np.ndarray, multistage: bool, lonely_psu: str) -> None:
        self.stages = stages if multistage else stages[:1]
        self.rows = rows
        self.lonely = lonely_psu
        self.cluster = [st.cluster[rows] for st in self.stages]
        # clusters of each stratum with phase-2 rows (R: sample sizes of the phase-2 subset)
        self.n_sub = []
        for st, cl in zip(self.stages, self.cluster):
            present = np.zeros(st.n_clusters, dtype=bool)
            present[cl] = True
            self.n_sub.append(np.bincount(st.stratum[present], minlength=st.n_strata))

    def covariance(self, x: np.ndarray, ph2prob: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Phase-1 covariance (k, k) of the totals of ``x`` (n2, k).

        ``present`` marks the phase-2 rows that stay in the design (all rows for calibrated
        designs, the domain's rows for R's dropped subsets).
        """
        k = x.shape[1]
        idx = np.flatnonzero(present)
        return self._stage(0, idx, x, ph2prob, k)

    def _stage(self, s: int, idx: np.ndarray, x: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
        st = self.stages[s]
        cl = self.cluster[s][idx]
        size = st.n_clusters
        first = _first(cl, size)
        live = np.flatnonzero(first >= 0)
        X = np.empty((size, k))
        for j in range(k):
            X[:, j] = np.bincount(cl, weights=x[idx, j], minlength=size)
        X, pc = X[live], p[idx[first[live]]]
        h = st.stratum[live]
        H = st.n_strata
        n_full = st.n_sampled.astype(float)
        n_sub = self.n_sub[s].astype(float)
        finite = np.isfinite(st.popsize[live])
        f_c = np.where(finite, (st.popsize[live] - n_full[h]) / np.where(finite, st.popsize[live], 1.0), 1.0)
        f = np.ones(H)
        f[h] = f_c
        xc = np.empty((H, k))
        for j in range(k):
            xc[:, j] = np.bincount(h, weights=X[:, j], minlength=H) / n_full
        nsub_here = np.bincount(h, minlength=H).astype(float)
        adjust_single = (self.lonely == "adjust") & (nsub_here == 1) & (n_sub <= 1)
        centre = ~adjust_single
        y = X * pc[:, None] - np.where(centre[h][:, None], xc[h], 0.0)
        S = np.zeros((H, k, k))
        outer = y[:, :, None] * y[:, None, :] / pc[:, None, None]
        for a in range(k):
            for b in range(k):
                S[:, a, b] = np.bincount(h, weights=outer[:, a, b], minlength=H)
        pad = np.where(centre, n_sub - nsub_here, 0.0)
        S += pad[:, None, None] * xc[:, :, None] * xc[:, None, :]
        scale = np.where(n_sub > 1, f * n_full / np.maximum(n_full - 1, 1), f)
        used = nsub_here > 0
        single = used & (n_sub <= 1) & (f >= 1e-7)
        scale = np.where(used & (n_sub <= 1) & (f < 1e-7), 0.0, scale)
        if single.any() and self.lonely == "fail":
            raise SurveyError(
                f"phase-1 stratum with a single PSU in phase 2 at stage {s + 1}",
                argument="lonely_psu",
                expected="at least two phase-1 PSUs per stratum in phase 2, or a lonely_psu rule",
                found=f"{int(single.sum())} such strata",
                hint="pass lonely_psu='adjust', 'average', 'remove' or 'certainty'",
            )
        contrib = S * scale[:, None, None]
        parent = st.parent
        n_parent = int(parent.max()) + 1
        if self.lonely == "average":
            nstrat = np.bincount(parent[used], minlength=n_parent).astype(float)
            nok = np.bincount(parent[used & ~single], minlength=n_parent).astype(float)
            mult = np.divide(nstrat, nok, out=np.full(n_parent, np.nan), where=nok > 0)[parent]
            contrib = np.where(single[:, None, None], 0.0, contrib) * mult[:, None, None]
        total = contrib[used].sum(axis=0)
        if s + 1 < len(self.stages):
            # later stages within each cluster, times the cluster's sampling fraction: the
            # contributions are quadratic in x, so scale x by its square root
            frac = np.zeros(size)
            frac[live] = np.where(finite, n_full[h] / np.where(finite, st.popsize[live], 1.0), 0.0)
            scaled = x.copy()
            scaled[idx] *= np.sqrt(frac[cl])[:, None]
            total = total + self._stage(s + 1, idx, scaled, p, k)
        return total
