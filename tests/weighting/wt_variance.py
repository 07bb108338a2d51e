"""A one-stage Taylor variance (with-replacement formula with fpc), written for the tests.

It follows R survey's ``svyrecvar`` for a single stage: residualise the weighted scores with
every calibration record, total them by PSU, centre within strata and sum
``(1 - f_h) n_h / (n_h - 1) Σ (z_hi - z̄_h)²``. It lets the weighting tests check SEs against R
without depending on the estimation layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def one_stage_variance(x, strata, psu, fpc, records=()):
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    for r in records:
        x = r.residualize(x)
    strata = np.zeros(len(x), dtype=int) if strata is None else pd.factorize(strata)[0]
    psu = np.arange(len(x)) if psu is None else pd.factorize(psu)[0]
    frame = pd.DataFrame(x)
    frame["_h"], frame["_c"] = strata, psu
    tot = frame.groupby(["_h", "_c"]).sum()
    h = tot.index.get_level_values("_h").to_numpy()
    n_h = np.bincount(h)
    big_n = pd.Series(np.asarray(fpc, dtype=float)).groupby(strata).first().to_numpy()
    z = tot.to_numpy()
    mean = np.stack([z[h == k].mean(axis=0) for k in range(n_h.size)])
    dev = z - mean[h]
    f = n_h / big_n
    scale = (1 - f) * n_h / (n_h - 1)
    return np.einsum("i,ij,ik->jk", scale[h], dev, dev)


def mean_and_se(df, w, y, strata, psu, fpc, records=()):
    w = np.asarray(w, dtype=float)
    yv = df[y].to_numpy(dtype=float)
    est = (w * yv).sum() / w.sum()
    x = w * (yv - est) / w.sum()
    v = one_stage_variance(x, strata, psu, fpc, records)
    return est, float(np.sqrt(v[0, 0]))


def total_and_se(df, w, y, strata, psu, fpc, records=()):
    w = np.asarray(w, dtype=float)
    yv = df[y].to_numpy(dtype=float)
    v = one_stage_variance(w * yv, strata, psu, fpc, records)
    return float((w * yv).sum()), float(np.sqrt(v[0, 0]))
