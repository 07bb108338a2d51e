"""Composite measure of size for several domains (Folsom, Potter & Williams 1987).

With frame counts :math:`N_{id}` of domain :math:`d` in PSU :math:`i`, wanted domain samples
:math:`n_d` (inflated for nonresponse, :math:`n_d = n^{*}_d / RR_d`) and :math:`m` PSUs:

.. math::
   f_d = n_d/N_d,\\quad S_i = \\sum_d f_d N_{id},\\quad \\pi_i = m S_i/\\sum_j S_j,\\quad
   f_{d|i} = f_d/\\pi_i = \\bar W f_d/S_i,\\quad \\bar W = \\sum_d n_d/m,

so that :math:`\\pi_i f_{d|i} = f_d` (every domain self-weighting) and the expected workload
:math:`\\sum_d f_{d|i} N_{id} = \\bar W` is the same in every PSU (PracTools ``CompMOS``;
Valliant, Dever & Kreuter 2018, §10.5). Certainty PSUs (:math:`\\pi_i = 1`) keep
:math:`f_{d|i} = f_d` and a smaller workload. A rate :math:`f_{d|i} > 1` cannot be met; such PSUs
are listed in :attr:`CompositeSize.infeasible`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sampling.frame import Frame, as_frame
from sampling.probabilities import inclusion_probabilities
from sampling.sample import Sample
from surveycore import SurveyError
from surveycore.checks import check_columns


@dataclass(frozen=True)
class CompositeSize:
    """Composite measure of size: the frame with column ``name``, domain rates and workload."""

    frame: Frame
    name: str
    rates: pd.Series  # f_d
    domain_n: pd.Series  # n_d (after nonresponse)
    m: int
    workload: float
    infeasible: pd.DataFrame

    def within_rates(self, sample: Sample | pd.DataFrame, prob: str = "pi_1") -> pd.DataFrame:
        """Within-PSU rates :math:`f_{d|i} = f_d/\\pi_i` and expected takes for selected PSUs."""
        units = sample.units if isinstance(sample, Sample) else sample
        check_columns(units, [prob, *self.rates.index], "sample")
        pi = units[prob].to_numpy(dtype=float)
        out = pd.DataFrame({self.frame.id: units[self.frame.id].to_numpy()})
        for d, f in self.rates.items():
            out[f"rate_{d}"] = f / pi
            out[f"take_{d}"] = out[f"rate_{d}"] * units[d].to_numpy(dtype=float)
        out["workload"] = out[[f"take_{d}" for d in self.rates.index]].sum(axis=1)
        return out


def composite_size(
    frame: Any,
    domains: Mapping[str, float],
    m: int,
    *,
    response_rates: Mapping[str, float] | None = None,
    name: str = "composite_size",
) -> CompositeSize:
    """Composite measure of size giving self-weighting domain samples and equal PSU workloads.

    Parameters
    ----------
    frame : Frame or data frame
        EA/PSU frame with one count column per domain (e.g. ``foreign_born``, ``natives``).
    domains : mapping
        ``{count column: wanted respondents n*_d}``.
    m : int
        Number of PSUs to select.
    response_rates : mapping, optional
        Expected response rate per domain (default 1).
    """
    fr = as_frame(frame)
    cols = list(domains)
    check_columns(fr.data, cols, "domains")
    counts = fr.data[cols].apply(pd.to_numeric).to_numpy(dtype=float)
    if np.isnan(counts).any() or (counts < 0).any():
        raise SurveyError("domain counts must be non-negative numbers", argument="domains",
                          expected="counts >= 0", found="missing or negative counts")
    rr = pd.Series({d: (response_rates or {}).get(d, 1.0) for d in cols}, dtype=float)
    if ((rr <= 0) | (rr > 1)).any():
        raise SurveyError("response rates must lie in (0, 1]", argument="response_rates",
                          expected="0 < rate <= 1", found=repr(rr.to_dict()))
    n_d = pd.Series(domains, dtype=float) / rr
    N_d = pd.Series(counts.sum(axis=0), index=cols)
    if (n_d > N_d).any():
        bad = list(n_d.index[n_d > N_d])
        raise SurveyError("a domain sample is larger than the domain", argument="domains",
                          expected="n_d <= N_d", found=f"domains {bad!r}")
    f = n_d / N_d
    S = counts @ f.to_numpy()
    if not isinstance(m, (int, np.integer)) or m < 1 or m > int((S > 0).sum()):
        raise SurveyError("m must be a number of PSUs between 1 and the PSUs with a positive size",
                          argument="m", expected=f"1..{int((S > 0).sum())}", found=repr(m))
    pi = inclusion_probabilities(S, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(pi[:, None] > 0, f.to_numpy()[None, :] / pi[:, None], 0.0)
    over = (rate > 1 + 1e-12).any(axis=1)
    infeasible = fr.data.loc[over, [fr.id]].assign(
        **{f"rate_{d}": rate[over, j] for j, d in enumerate(cols)})
    df = fr.data.copy()
    df[name] = S
    return CompositeSize(frame=fr.with_data(df, size=name), name=name, rates=f, domain_n=n_d,
                         m=int(m), workload=float(n_d.sum() / m), infeasible=infeasible)
