"""Sample sizes for a proportion or a mean in a target domain, through to the screening load.

For an estimate of a proportion :math:`P` (Cochran 1977, 4.2; Kish 1965) the effective sample size
is :math:`n_0 = z^2 P(1-P)/e^2` for an absolute margin :math:`e`, with :math:`e = r P` for a
relative margin :math:`r`, or :math:`n_0 = (1-P)/(CV^2 P)` for a target coefficient of variation;
for a mean :math:`n_0 = z^2 S^2/e^2` or :math:`S^2/(CV^2\\mu^2)`. The design effect is applied
first and the finite population correction to the design-based size (Kish 1965, 14.1;
Valliant, Dever & Kreuter 2018, §3.2):

.. math::
   \\text{deff} = \\{1 + (\\bar m - 1)\\rho\\}\\{1 + CV_w^2\\},\\qquad
   n_{resp} = \\frac{n_0\\,\\text{deff}}{1 + n_0\\,\\text{deff}/N},\\qquad
   n_{eff} = n_{resp}/\\text{deff},\\qquad n_{sel} = n_{resp}/RR,

   n_{hh} = n_{sel}/\\bar k,\\qquad n_{screen} = n_{hh}/(P_{hh}\\,\\pi_{elig}),

with :math:`\\rho` the intra-cluster correlation, :math:`\\bar m` the cluster take, :math:`CV_w` the
coefficient of variation of the weights (Kish 1965, 8.2 and 11.7), :math:`RR` the response rate,
:math:`\\bar k` target persons per eligible household, :math:`P_{hh}` the share of households that
belong to the target group (census prevalence) and :math:`\\pi_{elig}` the share of listed
dwellings that are occupied households.

Applying the fpc before the design effect (``n_0 deff/(1 + n_0/N)``) oversizes small
populations: with ``n_0 deff`` close to ``N`` it can ask for more respondents than the domain
has. The MICS formula (UNICEF MICS manual) is :func:`mics_sample_size`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from surveycore import SurveyError
from surveycore.checks import check_number, check_sample_size_inputs, finite_result


@dataclass(frozen=True)
class SampleSize:
    """The chain from effective sample size to the number of households to list and screen."""

    n_effective: float
    deff: float
    respondents: float
    selected: float
    households: float
    screen: float

    def rounded(self) -> dict[str, int]:
        """Every count rounded up to a whole number."""
        return {k: int(np.ceil(v - 1e-9)) for k, v in asdict(self).items() if k != "deff"}


def _prob(value: float, argument: str, *, open_low: bool = True) -> float:
    v = check_number(value, argument)
    if not np.isfinite(v) or v > 1 or v < 0 or (open_low and v == 0):
        raise SurveyError(f"{argument} must be a proportion", argument=argument,
                          expected="a value in (0, 1]" if open_low else "a value in [0, 1]",
                          found=repr(value))
    return v


def design_effect(*, icc: float = 0.0, take: float = 1.0, weight_cv: float = 0.0) -> float:
    """Kish's design effect :math:`\\{1 + (\\bar m - 1)\\rho\\}(1 + CV_w^2)`.

    In clusters of :math:`\\bar m` units the intra-cluster correlation cannot be below
    :math:`-1/(\\bar m - 1)` (the variance of the cluster totals would be negative), and at that
    value the design effect is 0 (Kish 1965, 5.4): both are refused, since no sample size
    follows from a design effect of 0 or less.
    """
    icc = check_number(icc, "icc")
    take = check_number(take, "take")
    weight_cv = check_number(weight_cv, "weight_cv")
    if not (np.isfinite(take) and take >= 1) or not (-1 <= icc <= 1) \
            or not (np.isfinite(weight_cv) and weight_cv >= 0):
        raise SurveyError("invalid design-effect inputs", argument="icc",
                          expected="take >= 1, -1 <= icc <= 1, weight_cv >= 0",
                          found=f"take={take}, icc={icc}, weight_cv={weight_cv}")
    cluster = 1.0 + (take - 1.0) * icc
    if cluster <= 0:
        floor = -1.0 / (take - 1.0)
        raise SurveyError(
            "the intra-cluster correlation is too negative for this cluster take",
            argument="icc", expected=f"icc > -1/(take - 1) = {floor:.6g} for take={take:g}",
            found=f"icc={icc:g}: design effect 1 + (take - 1) icc = {cluster:.6g}",
            hint="an ICC below 0 is rare in household surveys; check its sign")
    return cluster * (1.0 + weight_cv ** 2)


@finite_result("sample size")
def sample_size(
    *,
    p: float | None = None,
    sd: float | None = None,
    mean: float | None = None,
    moe: float | None = None,
    rmoe: float | None = None,
    cv: float | None = None,
    level: float = 0.95,
    z: float | None = None,
    population: float | None = None,
    deff: float | None = None,
    icc: float = 0.0,
    take: float = 1.0,
    weight_cv: float = 0.0,
    response_rate: float = 1.0,
    persons_per_household: float = 1.0,
    prevalence: float = 1.0,
    eligibility: float = 1.0,
) -> SampleSize:
    """Sample size for a proportion ``p`` or a mean (``sd``, ``mean``) in a target domain.

    Give exactly one precision target: ``moe`` (absolute margin of error), ``rmoe`` (margin
    relative to the estimate) or ``cv``. ``deff`` overrides the Kish design effect built from
    ``icc``, ``take`` and ``weight_cv``. See the module documentation for the formulas.
    """
    check_sample_size_inputs(moe=moe, rmoe=rmoe, cv=cv, sd=sd, population=population, deff=deff,
                             level=level, z=z, persons_per_household=persons_per_household)
    targets = [t for t in (moe, rmoe, cv) if t is not None]
    if len(targets) != 1:
        raise SurveyError("give exactly one precision target", argument="moe",
                          expected="one of moe, rmoe, cv", found=f"{len(targets)} given")
    if (p is None) == (sd is None):
        raise SurveyError("give either p (a proportion) or sd (a mean)", argument="p",
                          expected="p=... or sd=..., mean=...", found=f"p={p!r}, sd={sd!r}")
    zz = float(norm.ppf(0.5 + level / 2)) if z is None else float(z)
    if p is not None:
        P = _prob(p, "p")
        if P >= 1:
            raise SurveyError("p must be below 1", argument="p", expected="0 < p < 1", found=repr(p))
        var, mu = P * (1 - P), P
    else:
        var = float(sd) ** 2
        mu = None if mean is None else float(mean)
        if (rmoe is not None or cv is not None) and not mu:
            raise SurveyError("a relative target needs the mean", argument="mean",
                              expected="mean=... (non-zero)", found=repr(mean))
    if cv is not None:
        n0 = var / (float(cv) ** 2 * mu ** 2)
    else:
        e = float(moe) if moe is not None else float(rmoe) * mu
        if e <= 0:
            raise SurveyError("margin of error must be positive", argument="moe",
                              expected="> 0", found=repr(e))
        n0 = zz ** 2 * var / e ** 2
    d = design_effect(icc=icc, take=take, weight_cv=weight_cv) if deff is None else float(deff)
    rr = _prob(response_rate, "response_rate")
    prev = _prob(prevalence, "prevalence")
    elig = _prob(eligibility, "eligibility")
    if persons_per_household <= 0:
        raise SurveyError("persons_per_household must be positive", argument="persons_per_household",
                          expected="> 0", found=repr(persons_per_household))
    resp = n0 * d
    if population is not None:
        N = float(population)
        if not np.isfinite(N) or N <= 0:
            raise SurveyError("population must be a positive number", argument="population",
                              expected="N > 0", found=repr(population))
        resp = resp / (1 + resp / N)
    sel = resp / rr
    hh = sel / persons_per_household
    return SampleSize(n_effective=resp / d, deff=d, respondents=resp, selected=sel, households=hh,
                      screen=hh / (prev * elig))


def sample_size_domains(domains: pd.DataFrame, **common: Any) -> pd.DataFrame:
    """Sample sizes for several domains at once: one row per domain.

    ``domains`` holds one row per domain with any of the arguments of :func:`sample_size` as
    columns (``p``, ``rmoe``, ``prevalence``, ``persons_per_household`` …); ``common`` gives the
    others. The households to screen for all domains at once is the maximum over the domains
    (column ``binding`` marks the domain that sets it).
    """
    rows = []
    for name, row in domains.iterrows():
        args = {**common, **{k: v for k, v in row.items() if pd.notna(v)}}
        rows.append({"domain": name, **asdict(sample_size(**args))})
    out = pd.DataFrame(rows).set_index("domain")
    out["binding"] = out["screen"] == out["screen"].max()
    return out


@finite_result("sample size")
def mics_sample_size(r: float, p: float, ave_size: float, *, deff: float = 1.5,
                     rme: float = 0.12, nonresponse_factor: float = 1.1, z: float = 2.0) -> float:
    """Number of households by the MICS formula.

    .. math:: n = \\frac{z^2\\, r(1-r)\\, \\text{deff}\\, F}{(\\text{rme}\\cdot r)^2\\, p\\, \\bar n}

    with :math:`r` the anticipated prevalence of the key indicator, :math:`F = 1.1` the
    non-response factor, :math:`\\text{rme} = 0.12` the relative margin of error, :math:`p` the
    share of the population in the target group and :math:`\\bar n` the average household size
    (UNICEF, *MICS Manual*, ch. 4; :math:`z^2 = 4` for 95 % confidence).
    """
    r = _prob(r, "r")
    p = _prob(p, "p")
    check_sample_size_inputs(ave_size=ave_size, deff=deff, rme=rme,
                             nonresponse_factor=nonresponse_factor, z=z)
    return z ** 2 * r * (1 - r) * deff * nonresponse_factor / ((rme * r) ** 2 * p * ave_size)
