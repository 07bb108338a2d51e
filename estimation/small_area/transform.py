"""Arcsine-square-root transformation of area proportions and its back-transformation.

On the transformed scale ``y_i = arcsin √p̂_i`` the sampling variance is stabilised to
``ψ_i = 1/(4 ñ_i)``, ``ñ_i`` the effective sample size of the area (``n_i`` divided by its
design effect) (Jiang, Lahiri, Wan & Wu 2001; Casas-Cordero, Encina & Lahiri 2016; R ``emdi::fh``
with ``transformation = "arcsin"``).

Back-transformation of the EBLUP ``θ̂_i`` on the transformed scale:

* ``"naive"``: ``sin²(clip(θ̂_i, 0, π/2))``;
* ``"bias-corrected"`` (Slud & Maiti 2006; Hadam, Würz & Kreutzmann 2020; ``emdi``'s
  ``backtransformation = "bc"``): the expectation of the back-transformed area value given the
  data, ``E[sin²(clip(θ, 0, π/2))]`` with ``θ ~ N(θ̂_i, σ_i²)``, ``σ_i² = Â(1 − γ_i)`` (``= Â``
  for an area without sample). With ``α = −θ̂/σ``, ``β = (π/2 − θ̂)/σ`` and
  ``sin² x = (1 − cos 2x)/2`` the integral has the closed form::

      ½[Φ(β) − Φ(α)] − ½ Re{ e^{2iθ̂ − 2σ²} [Φ(β − 2iσ) − Φ(α − 2iσ)] } + 1 − Φ(β)

  (``E[e^{tX} 1{a<X<b}] = e^{tμ+t²σ²/2}[Φ(β−tσ) − Φ(α−tσ)]`` at ``t = 2i``). ``emdi`` integrates
  numerically over ``[0, π/2]`` and leaves out the mass above ``π/2`` (the last term); the two
  agree unless a proportion is close to 1.

MSE on the proportion scale from the arcsine-scale MSE ``m_i`` (delta method, with
``d sin²θ/dθ = sin 2θ``): ``sin²(2θ̂_i)·m_i``; the interval ``sin²(clip(θ̂_i ± z√m_i, 0, π/2))``
is the arcsine-scale interval carried over, so it keeps its coverage and stays in ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

HALF_PI = np.pi / 2


def arcsin_sqrt(p: np.ndarray) -> np.ndarray:
    """``arcsin √p`` for proportions in ``[0, 1]``."""
    return np.arcsin(np.sqrt(np.clip(p, 0.0, 1.0)))


def naive_back(theta: np.ndarray) -> np.ndarray:
    """``sin²(clip(θ, 0, π/2))``."""
    return np.sin(np.clip(theta, 0.0, HALF_PI)) ** 2


def bias_corrected_back(theta: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``E[sin²(clip(X, 0, π/2))]`` for ``X ~ N(θ, var)``, elementwise (closed form above)."""
    theta, var = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(var, dtype=float))
    out = naive_back(theta).astype(float)
    pos = var > 0
    if not np.any(pos):
        return out
    mu = theta[pos]
    sd = np.sqrt(var[pos])
    a = -mu / sd
    b = (HALF_PI - mu) / sd
    mass = special.ndtr(b) - special.ndtr(a)
    shift = 2j * sd
    cos_part = np.exp(2j * mu - 2 * sd * sd) * (special.ndtr(b - shift) - special.ndtr(a - shift))
    out[pos] = 0.5 * mass - 0.5 * cos_part.real + special.ndtr(-b)
    return out


def delta_back(theta: np.ndarray, mse: np.ndarray, z: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proportion-scale MSE ``sin²(2θ̂)·mse`` and interval ``sin²(clip(θ̂ ± z√mse))``."""
    t = np.clip(theta, 0.0, HALF_PI)
    half = z * np.sqrt(mse)
    return np.sin(2 * t) ** 2 * mse, naive_back(theta - half), naive_back(theta + half)
