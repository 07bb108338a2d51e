"""Model-based check of the Fay–Herriot MSE estimators on the same samples: Prasad–Rao, the
plain parametric bootstrap and the bias-corrected bootstrap (Butar & Lahiri 2003), against the
empirical MSE of the EBLUP.

Two settings, each with 30 areas and true values redrawn in every sample:

* ``linear``: ``y_i = 5 + 2 x_i + u_i + e_i``, ``A = 0.6``, ``ψ_i ~ U(0.3, 2)`` (the outside
  check's ``b8``), no transformation;
* ``arcsine``: true shares ``p_i = sin²(θ_i)``, ``θ_i = 0.35 + 0.4 x_i + u_i`` (``A = 0.01``),
  direct shares from binomial samples of 40–200 persons, arcsine transformation with each
  area's ``ψ_i = 1/(4 n_i)``; the MSE is on the share scale.

Run: ``python benchmarks/simulate_small_area_bootstrap.py --samples 400 --replicates 400``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from estimation import fay_herriot


def _linear(rng, m):
    x = rng.uniform(0, 1, m)
    psi = rng.uniform(0.3, 2.0, m)
    theta = 5 + 2 * x + rng.normal(0, np.sqrt(0.6), m)
    y = theta + rng.normal(0, np.sqrt(psi))
    return pd.DataFrame({"a": np.arange(m), "y": y, "v": psi, "x": x}), theta, {}


def _arcsine(rng, m, n):
    x = np.linspace(0, 1, m)
    theta = 0.35 + 0.4 * x + rng.normal(0, 0.1, m)
    p = np.sin(theta) ** 2
    y = rng.binomial(n, p) / n
    v = np.maximum(y * (1 - y), 1e-3) / n
    frame = pd.DataFrame({"a": np.arange(m), "y": y, "v": v, "x": x, "n": n})
    return frame, p, {"transformation": "arcsin", "n": "n", "smoothing": "all"}


def run(samples: int, replicates: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    m = 30
    n = np.linspace(40, 200, m).astype(int)
    out = {}
    for name in ("linear", "arcsine"):
        err, pr, plain, corrected = [], [], [], []
        for r in range(samples):
            frame, truth, opts = _linear(rng, m) if name == "linear" else _arcsine(rng, m, n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = fay_herriot(frame, "y", "v", ["x"], area="a", mse="analytic", **opts)
                b = fay_herriot(frame, "y", "v", ["x"], area="a", mse="bootstrap",
                                replicates=replicates, seed=r, **opts)
            err.append((a.table["eblup"].to_numpy() - truth) ** 2)
            pr.append(a.table["mse"].to_numpy())
            plain.append(np.asarray(b.metadata["mse_bootstrap_plain"]))
            corrected.append(b.table["mse"].to_numpy())
        e = float(np.mean(err))
        out[name] = {
            "samples": samples, "replicates": replicates, "areas": m,
            "empirical_mse": e,
            "mc_se_of_empirical": float(np.std(np.mean(err, axis=1)) / np.sqrt(samples)),
            "prasad_rao_ratio": float(np.mean(pr)) / e,
            "plain_bootstrap_ratio": float(np.mean(plain)) / e,
            "corrected_bootstrap_ratio": float(np.mean(corrected)) / e,
        }
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--replicates", type=int, default=400)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    text = json.dumps(run(a.samples, a.replicates, a.seed), indent=2)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
