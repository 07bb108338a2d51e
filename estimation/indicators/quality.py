"""Reliability flags for survey estimates: agency presets and custom thresholds.

A :class:`QualityRule` assigns every estimate a *flag* (the agency's own symbol) and a
harmonised *reliability* class:

* ``"reliable"`` — publish without a note;
* ``"caution"`` — publish with a warning (SDMX ``OBS_STATUS`` ``U``, low reliability);
* ``"unreliable"`` — too unreliable to be published (SDMX ``OBS_STATUS`` ``U``).

The rule reads the coefficient of variation ``CV = SE / |θ̂|`` (also called the relative
standard error, RSE) and the unweighted number of sample observations ``n`` of the cell. An
estimate whose CV is undefined (a zero estimate, or a missing SE) is judged on ``n`` only and
keeps the best CV band. An estimate whose variance has no degrees of freedom (``df < 1``) is
never ``"reliable"``: it is ``"unreliable"``. A rule may also flag estimates whose variance
has few design degrees of freedom (``df_bands``; the NCHS data presentation standards for
proportions, Parker et al. 2017, Vital Health Stat 2(175), flag every estimate with fewer than
8): such a variance estimate is itself imprecise, and t intervals on few degrees of freedom
cover poorly when the PSU totals are skewed.

Presets (thresholds as published by each agency)
------------------------------------------------
``"statcan"``
    Statistics Canada data-quality letters by CV: A excellent (0 ≤ CV < 5 %), B very good
    (5–10 %), C good (10–15 %), D acceptable (15–25 %), E use with caution (25–35 %), F too
    unreliable to be published (≥ 35 %). Symbols: Statistics Canada "Standard table symbols"
    (A–D levels of quality, E use with caution, F too unreliable to be published); A–D bands
    as published in Statistics Canada quarterly financial statistics; the E/F boundary at
    35 % is the preset's choice. Statistics Canada surveys state their own cut-offs in their
    release guidelines (``"statcan_cchs"`` is one): use the one of your survey, or
    :meth:`QualityRule.custom`.
``"statcan_cchs"``
    Statistics Canada release guideline used for the Canadian Community Health Survey: CV
    ≤ 16.5 % release; 16.5 % < CV ≤ 33.3 % release with caution ("E"); CV > 33.3 % suppress
    ("F"); at least 10 sample observations (fewer → "F").
``"abs"``
    Australian Bureau of Statistics relative standard errors: RSE < 25 % reliable; 25 % ≤ RSE
    ≤ 50 % "*" use with caution; RSE > 50 % "**" too unreliable for general use.
``"eurostat"``
    Eurostat-style sample-size limits, the form used for EU-SILC publication (Commission
    Regulation (EC) No 1982/2003): fewer than 20 sample observations → not published ("u" with
    reliability ``unreliable``); 20–49 observations → flagged ("u", ``caution``). EU-LFS
    applies country-specific limits of the same form; pass your own with
    :meth:`QualityRule.custom`.

Custom thresholds: :meth:`QualityRule.custom` (CV bands and minimum n).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.checks import check_columns, check_option

RELIABILITY: tuple[str, ...] = ("reliable", "caution", "unreliable")
_RANK = {r: k for k, r in enumerate(RELIABILITY)}


@dataclass(frozen=True)
class QualityRule:
    """CV bands and sample-size limits that flag estimates.

    Parameters
    ----------
    name : str
        Name recorded in metadata.
    cv_bands : sequence of (upper, flag, reliability)
        Ascending upper CV limits (fractions, 0.05 = 5 %); an estimate takes the first band with
        ``cv < upper`` (or ``cv <= upper`` when ``inclusive=True``). The last band should have
        ``upper = inf``.
    n_bands : sequence of (minimum_n, flag, reliability)
        An estimate with ``n < minimum_n`` takes that flag and reliability if it is worse than
        its CV band; checked in the given order, the first match wins (list the strictest,
        smallest minimum first).
    df_bands : sequence of (minimum_df, flag, reliability)
        The same on the design degrees of freedom of each variance estimate: an estimate with
        ``df < minimum_df`` takes that flag and reliability if it is worse than its other
        classes (e.g. ``((8, "E", "caution"),)`` after the NCHS standards).
    inclusive : bool
        Whether band limits are inclusive (``cv <= upper``).
    source : str
        Where the thresholds come from.
    """

    name: str
    cv_bands: tuple[tuple[float, str, str], ...]
    n_bands: tuple[tuple[int, str, str], ...] = ()
    df_bands: tuple[tuple[int, str, str], ...] = ()
    inclusive: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        bands = tuple(tuple(b) for b in self.cv_bands)
        nb = tuple(tuple(b) for b in self.n_bands)
        dfb = tuple(tuple(b) for b in self.df_bands)
        object.__setattr__(self, "cv_bands", bands)
        object.__setattr__(self, "n_bands", nb)
        object.__setattr__(self, "df_bands", dfb)
        if not bands:
            raise SurveyError(
                "a quality rule needs at least one CV band",
                argument="cv_bands",
                expected="(upper, flag, reliability) tuples, the last with upper=inf",
                found="none",
            )
        uppers = [float(b[0]) for b in bands]
        if any(np.diff(uppers) <= 0) or any(u <= 0 for u in uppers):
            raise SurveyError(
                "CV band limits must be positive and increasing",
                argument="cv_bands",
                expected="strictly increasing upper limits > 0",
                found=repr(uppers),
            )
        if np.isfinite(uppers[-1]):
            raise SurveyError(
                "the last CV band must be open-ended",
                argument="cv_bands",
                expected="upper limit inf for the last band",
                found=repr(uppers[-1]),
                hint="add a final band such as (float('inf'), 'F', 'unreliable')",
            )
        for _, _, rel in bands + nb + dfb:
            check_option(rel, RELIABILITY, "reliability")
        for argument, limits in (("n_bands", nb), ("df_bands", dfb)):
            for m, _, _ in limits:
                if isinstance(m, bool) or not isinstance(m, int | float | np.integer) \
                        or int(m) != m or m < 1:
                    raise SurveyError(
                        f"the minimum of each of {argument} must be a positive integer",
                        argument=argument,
                        expected="integers >= 1",
                        found=repr(m),
                    )

    @classmethod
    def custom(
        cls,
        *,
        caution_cv: float,
        unreliable_cv: float,
        min_n: int | None = None,
        caution_n: int | None = None,
        caution_df: int | None = None,
        name: str = "custom",
        flags: tuple[str, str, str] = ("", "E", "F"),
    ) -> QualityRule:
        """A three-class rule from two CV limits and optional sample-size limits.

        ``cv < caution_cv`` → reliable; ``caution_cv ≤ cv < unreliable_cv`` → caution;
        ``cv ≥ unreliable_cv`` or ``n < min_n`` → unreliable; ``n < caution_n`` or fewer than
        ``caution_df`` design degrees of freedom → at least caution.
        """
        if not 0 < caution_cv < unreliable_cv:
            raise SurveyError(
                "CV limits must satisfy 0 < caution_cv < unreliable_cv",
                argument="caution_cv",
                expected="0 < caution_cv < unreliable_cv",
                found=f"caution_cv={caution_cv!r}, unreliable_cv={unreliable_cv!r}",
            )
        nb = []
        if min_n is not None:
            nb.append((min_n, flags[2], "unreliable"))
        if caution_n is not None:
            nb.append((caution_n, flags[1], "caution"))
        return cls(
            name=name,
            cv_bands=(
                (caution_cv, flags[0], "reliable"),
                (unreliable_cv, flags[1], "caution"),
                (float("inf"), flags[2], "unreliable"),
            ),
            n_bands=tuple(nb),
            df_bands=() if caution_df is None else ((caution_df, flags[1], "caution"),),
            source="user-defined thresholds",
        )

    @classmethod
    def sample_size(
        cls,
        *,
        unreliable_below: int,
        caution_below: int | None = None,
        flag: str = "u",
        name: str = "sample_size",
    ) -> QualityRule:
        """Limits on the unweighted count only, as the EU-LFS country limits.

        ``n < unreliable_below`` → unreliable (not published); ``n < caution_below`` → caution
        (published with the flag). E.g. ``QualityRule.sample_size(unreliable_below=20,
        caution_below=50)`` is the ``"eurostat"`` preset.
        """
        if caution_below is not None and caution_below <= unreliable_below:
            raise SurveyError(
                "caution_below must exceed unreliable_below",
                argument="caution_below",
                expected=f"an integer > {unreliable_below}",
                found=repr(caution_below),
            )
        nb = [(unreliable_below, flag, "unreliable")]
        if caution_below is not None:
            nb.append((caution_below, flag, "caution"))
        return cls(name=name, cv_bands=((float("inf"), "", "reliable"),), n_bands=tuple(nb),
                   source="user-defined sample-size limits")

    def describe(self) -> dict:
        """Plain-dict description for metadata."""
        return {
            "name": self.name,
            "cv_bands": [list(b) for b in self.cv_bands],
            "n_bands": [list(b) for b in self.n_bands],
            "df_bands": [list(b) for b in self.df_bands],
            "inclusive": self.inclusive,
            "source": self.source,
        }

    def assess(self, cv: np.ndarray, n: np.ndarray, df: np.ndarray | None = None,
               se: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(flag, reliability)`` arrays for CVs and unweighted counts (vectorised).

        A NaN CV (``0/0``: a zero estimate with SE 0) is judged on the sample-size bands only,
        or, for a rule of CVs only, falls in the last CV band; an estimate with no sampled
        observation (``n < 1``, or ``n`` unknown), whose standard error ``se`` is NaN or infinite
        (a variance that cannot be computed), or whose CV is infinite, is unreliable under
        every rule, the sample-size rules (``"eurostat"``) included.

        With ``df`` (the degrees of freedom of each variance estimate), an estimate with
        ``df < 1`` (or unknown, NaN) is ``"unreliable"`` whatever its CV: its variance has no degrees of
        freedom (one PSU in its stratum, or a lonely-PSU rule standing in for it), so its CV
        is not an estimate of its precision and no t interval exists (the NCHS data
        presentation standards, Parker et al. 2017, Vital Health Stat 2(175), flag every
        proportion with fewer than 8 degrees of freedom). Each takes the rule's flag for
        ``"unreliable"`` (of its last CV band when it has none). The rule's ``df_bands`` then
        apply to the other estimates as its ``n_bands`` do.
        """
        cv = np.abs(np.asarray(cv, dtype=float))
        n = np.asarray(n, dtype=float)
        uppers = np.array([b[0] for b in self.cv_bands])
        flags = np.array([b[1] for b in self.cv_bands], dtype=object)
        rels = np.array([_RANK[b[2]] for b in self.cv_bands])
        side = "left" if self.inclusive else "right"
        # an undefined CV (0/0: a zero estimate with SE 0) is judged on the sample-size bands
        # when the rule has them; a rule of CVs only cannot judge it: last band
        undefined = np.where(np.isnan(cv), 0.0 if self.n_bands else np.inf, cv)
        idx = np.searchsorted(uppers, undefined, side=side)
        idx = np.minimum(idx, len(uppers) - 1)
        flag = flags[idx]
        rank = rels[idx]
        flag, rank = _lower_bands(n, self.n_bands, flag, rank)
        if self.df_bands and df is not None:
            flag, rank = _lower_bands(np.asarray(df, dtype=float), self.df_bands, flag, rank)
        # no sampled observation, no standard error or no degrees of freedom: nothing to
        # judge precision by
        unknown = ~(n >= 1)
        if se is not None:  # NaN (not computable) or infinite: no measure of precision
            unknown |= ~np.isfinite(np.asarray(se, dtype=float))
        # an infinite CV: an infinite SE, or a non-zero SE around a zero estimate
        unknown |= np.isinf(cv)
        if df is not None:
            unknown |= ~(np.asarray(df, dtype=float) >= 1)  # no, or unknown, degrees of freedom
        flag = np.where(unknown, self.unreliable_flag, flag)
        rank = np.where(unknown, _RANK["unreliable"], rank)
        return flag.astype(object), np.array(RELIABILITY, dtype=object)[rank]

    def with_df_limit(self, caution_df: int) -> QualityRule:
        """The same rule, also flagging ``"caution"`` (with the rule's caution flag) every
        estimate with fewer than ``caution_df`` design degrees of freedom."""
        return dataclasses.replace(self, df_bands=((caution_df, self.caution_flag, "caution"),),
                                   source=f"{self.source}; fewer than {caution_df} degrees of "
                                   "freedom: caution (NCHS data presentation standards)")

    @property
    def caution_flag(self) -> str:
        """The flag the rule gives an estimate to publish with caution (else its unreliable
        flag)."""
        hits = [b[1] for b in self.cv_bands + self.n_bands if b[2] == "caution"]
        return hits[0] if hits else self.unreliable_flag

    @property
    def unreliable_flag(self) -> str:
        """The flag the rule gives an estimate too unreliable to publish."""
        hits = [b[1] for b in self.cv_bands + self.n_bands if b[2] == "unreliable"]
        return hits[0] if hits else self.cv_bands[-1][1]


_INF = float("inf")

PRESETS: Mapping[str, QualityRule] = MappingProxyType(
    {
        "statcan": QualityRule(
            "statcan",
            cv_bands=(
                (0.05, "A", "reliable"),
                (0.10, "B", "reliable"),
                (0.15, "C", "reliable"),
                (0.25, "D", "reliable"),
                (0.35, "E", "caution"),
                (_INF, "F", "unreliable"),
            ),
            source="Statistics Canada standard table symbols; A–D CV bands 0–4.99/5–9.99/"
            "10–14.99/15–24.99 %; E 25–35 %, F ≥ 35 % (E/F boundary: the preset's choice; "
            "surveys state their own in their release guidelines)",
        ),
        "statcan_cchs": QualityRule(
            "statcan_cchs",
            cv_bands=((0.165, "", "reliable"), (0.333, "E", "caution"), (_INF, "F", "unreliable")),
            n_bands=((10, "F", "unreliable"),),
            inclusive=True,
            source="Statistics Canada CCHS release guideline: CV ≤ 16.5 % release, 16.6–33.3 % "
            "with caution, > 33.3 % suppress; at least 10 observations",
        ),
        "abs": QualityRule(
            "abs",
            cv_bands=((0.25, "", "reliable"), (0.50, "*", "caution"), (_INF, "**", "unreliable")),
            inclusive=True,
            source="ABS technical notes: RSE < 25 % reliable; 25–50 % '*' use with caution; "
            "> 50 % '**' too unreliable for general use",
        ),
        "eurostat": QualityRule(
            "eurostat",
            cv_bands=((_INF, "", "reliable"),),
            n_bands=((20, "u", "unreliable"), (50, "u", "caution")),
            source="Eurostat EU-SILC convention: < 20 observations not published, 20–49 flagged "
            "(Commission Regulation (EC) No 1982/2003); EU-LFS uses country-specific limits",
        ),
    }
)
"""Built-in quality rules, keyed by preset name (read-only)."""


def _lower_bands(values: np.ndarray, bands, flag: np.ndarray, rank: np.ndarray):
    """Flags after count bands ``(minimum, flag, reliability)`` in increasing order: a value
    below a band's minimum takes the first such band, when it is worse than the flag so far."""
    taken = np.zeros(len(values), dtype=bool)
    for minimum, band_flag, band_rel in bands:
        hit = ~taken & (values < minimum) & (_RANK[band_rel] > rank)
        flag = np.where(hit, band_flag, flag)
        rank = np.where(hit, _RANK[band_rel], rank)
        taken |= values < minimum
    return flag, rank


def get_rule(rule: str | QualityRule) -> QualityRule:
    """Return a :class:`QualityRule` from a preset name or a rule object."""
    if isinstance(rule, QualityRule):
        return rule
    return PRESETS[check_option(rule, tuple(PRESETS), "quality")]


def flag_quality(
    table: pd.DataFrame,
    rule: str | QualityRule = "statcan",
    *,
    cv: str = "cv",
    n: str = "n",
    df: str | None = "df",
    se: str | None = "se",
) -> pd.DataFrame:
    """Add ``flag`` and ``reliability`` columns to a tidy estimate table.

    Parameters
    ----------
    table : pandas.DataFrame
        A tidy estimate table with a CV column and an unweighted-count column.
    rule : str or QualityRule
        A preset name (``"statcan"``, ``"statcan_cchs"``, ``"abs"``, ``"eurostat"``) or a
        custom :class:`QualityRule`.
    cv, n : str
        Names of the CV and unweighted-count columns.
    se : str, optional
        Name of the standard-error column; where the table has it and it is NaN or infinite
        (a variance that cannot be computed), the estimate is unreliable.
    df : str, optional
        Name of the degrees-of-freedom column; when the table has it, an estimate with
        ``df < 1`` is ``"unreliable"`` (:meth:`QualityRule.assess`).

    Returns
    -------
    pandas.DataFrame
        A new frame (the input is not modified).
    """
    r = get_rule(rule)
    check_columns(table, [cv, n], "table")
    dfs = table[df].to_numpy(dtype=float) if df is not None and df in table.columns else None
    ses = table[se].to_numpy(dtype=float) if se is not None and se in table.columns else None
    flag, rel = r.assess(table[cv].to_numpy(dtype=float), table[n].to_numpy(dtype=float), dfs, ses)
    out = table.copy()
    out["flag"] = pd.Series(flag, index=out.index, dtype=object)
    out["reliability"] = pd.Series(rel, index=out.index, dtype=object)
    return out

