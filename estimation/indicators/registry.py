"""Registry of international-migration indicators (MI 1.1–1.4 and additional ones).

An :class:`Indicator` is a named set of :class:`Measure` objects. A measure says which survey
variables it uses and how they combine:

* ``kind="total"`` — the estimated population count ``Ŷ = Σ_{i∈U_s} w_i y_i`` of the numerator
  variable ``y`` over the sample rows in the universe ``U`` (a stock or a flow);
* ``kind="proportion"`` / ``kind="rate"`` — the ratio of two totals in the universe,
  ``R̂ = Σ_{i∈U_s} w_i y_i / Σ_{i∈U_s} w_i x_i`` (``x = 1`` when the denominator is ``None``,
  which makes it the domain mean), multiplied by ``multiplier`` (100 for a percentage, 1 000
  for a rate per thousand). The variance is the linearised variance of a ratio (Särndal,
  Swensson & Wretman 1992, §5.6; Lumley 2010, §2.4), or its replicate analogue.

The universe is a 0/1 column of the data (``None`` = every row of the design). Universes are
estimated as domains: rows outside keep their place in the design with zero weight, so the
standard errors account for the random size of the domain.

Definitions and sources
-----------------------
MI 1.1-1.4 are the core indicators of Policy Area 1 of the UN conceptual framework on
international migration (UN Expert Group on Migration Statistics, 2021, endorsed by UN
Statistical Commission decision 52/109): the stock of international migrants, acquisitions of
citizenship, immigration and emigration. Their universe is the usual resident population
(UN P&R Rev.3 §2.81, residence rule recorded by :func:`questionnaires.derive`), their reference
period the 12 months before the reference date, and their disaggregations those of Regulation
(EC) 862/2007 Art. 3 (sex, age, country of birth, citizenship, country of previous or next
residence). Each indicator's ``definition`` and ``source`` travel with every table and export;
``docs/estimation-indicators.md`` has the full table.

The registry is an immutable mapping; there is no global state to change. Pass your own
:class:`Indicator` objects (or a mapping of them through ``registry=``) to
:func:`~estimation.indicators.indicator_table`; :meth:`Indicator.with_variables` renames the
variables an indicator uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from surveycore import SurveyError
from surveycore.checks import check_option

MeasureKind = Literal["total", "proportion", "rate"]
MEASURE_KINDS: tuple[str, ...] = ("total", "proportion", "rate")
Unit = Literal["person", "household", "emigrant"]
UNITS: tuple[str, ...] = ("person", "household", "emigrant")


@dataclass(frozen=True)
class Measure:
    """One published quantity of an indicator.

    Parameters
    ----------
    name : str
        Short name of the measure, e.g. ``"count"``, ``"share"``, ``"rate"``.
    kind : {"total", "proportion", "rate"}
        ``total`` is the weighted count (sum) of ``numerator``; ``proportion`` and ``rate``
        are ratios of weighted totals ``Σ w y / Σ w x`` times ``multiplier``.
    numerator : str
        Column holding ``y`` (0/1 indicator or a count).
    denominator : str or None
        Column holding ``x``; ``None`` means ``x = 1`` (the population of the universe).
    universe : str or None
        0/1 column restricting the population (a domain); ``None`` = the whole design.
    multiplier : float
        Scale of ratios (100 = per cent, 1000 = per thousand). Must be 1 for totals.
    unit_measure : str
        Code of the unit of measure, used in exports (``"PS"`` persons, ``"PT"`` per cent,
        ``"PER_1000"`` per thousand, ``"HH"`` households ...).
    label : str
        Human-readable description.
    """

    name: str
    kind: MeasureKind
    numerator: str
    denominator: str | None = None
    universe: str | None = None
    multiplier: float = 1.0
    unit_measure: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        check_option(self.kind, MEASURE_KINDS, "kind")
        if self.kind == "total" and (self.denominator is not None or self.multiplier != 1.0):
            raise SurveyError(
                "a total has no denominator or multiplier",
                argument=f"measure {self.name!r}",
                expected="denominator=None and multiplier=1 for kind='total'",
                found=f"denominator={self.denominator!r}, multiplier={self.multiplier!r}",
                hint="use kind='proportion' or kind='rate' for a ratio",
            )
        if not self.multiplier > 0:
            raise SurveyError(
                "multiplier must be positive",
                argument=f"measure {self.name!r}",
                expected="a number > 0",
                found=repr(self.multiplier),
            )

    @property
    def variables(self) -> tuple[str, ...]:
        """The columns the measure reads (numerator, denominator, universe)."""
        return tuple(v for v in (self.numerator, self.denominator, self.universe) if v)

    def renamed(self, mapping: Mapping[str, str]) -> Measure:
        """Return the measure with its variables renamed through ``mapping``."""

        def ren(v: str | None) -> str | None:
            return None if v is None else mapping.get(v, v)

        return replace(
            self,
            numerator=ren(self.numerator),
            denominator=ren(self.denominator),
            universe=ren(self.universe),
        )


@dataclass(frozen=True)
class Indicator:
    """A migration indicator: a code, its measures, and its metadata.

    Parameters
    ----------
    code : str
        Registry key, e.g. ``"MI1.1"``.
    name : str
        Title.
    measures : tuple of Measure
        The quantities published for the indicator (e.g. a count and a share).
    unit : {"person", "household", "emigrant"}
        Unit of the rows the design must hold (``emigrant`` for MI 1.4: emigrant-level
        records of the households' rosters, :func:`~estimation.indicators.emigrant_records`).
    default_by : tuple of str
        Default disaggregation variables.
    definition : str
        Operational definition.
    source : str
        Where the definition comes from, and its status.
    sdmx_code : str
        Code of the indicator in SDMX exports (``INDICATOR`` dimension).
    experimental : bool
        Marks experimental statistics; carried into metadata and exports.
    """

    code: str
    name: str
    measures: tuple[Measure, ...]
    unit: Unit = "person"
    default_by: tuple[str, ...] = ()
    definition: str = ""
    source: str = ""
    sdmx_code: str = ""
    experimental: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_option(self.unit, UNITS, "unit")
        if not self.measures:
            raise SurveyError(
                "an indicator needs at least one measure",
                argument=f"indicator {self.code!r}",
                expected="a non-empty tuple of Measure",
                found="no measures",
            )
        names = [m.name for m in self.measures]
        if len(set(names)) != len(names):
            raise SurveyError(
                "measure names must be unique within an indicator",
                argument=f"indicator {self.code!r}",
                expected="distinct measure names",
                found=", ".join(names),
            )
        if not self.sdmx_code:
            object.__setattr__(self, "sdmx_code", _sdmx_code(self.code))

    @property
    def variables(self) -> tuple[str, ...]:
        """Every column the indicator's measures read, in first-use order."""
        seen: dict[str, None] = {}
        for m in self.measures:
            for v in m.variables:
                seen.setdefault(v, None)
        return tuple(seen)

    def with_variables(self, mapping: Mapping[str, str] | None = None, /, **names: str) -> Indicator:
        """Return a copy whose variables are renamed.

        Parameters
        ----------
        mapping, **names
            Default variable name → column name in the user's data, e.g.
            ``REGISTRY["MI1.1"].with_variables(foreign_born="born_abroad")``.
            Disaggregation defaults (``default_by``) are renamed too.
        """
        rename = dict(mapping or {}, **names)
        return replace(
            self,
            measures=tuple(m.renamed(rename) for m in self.measures),
            default_by=tuple(rename.get(b, b) for b in self.default_by),
        )

    def with_options(self, **changes) -> Indicator:
        """Return a copy with other fields changed (e.g. ``experimental=True``)."""
        return replace(self, **changes)

    def describe(self) -> dict:
        """Plain-dict metadata (for result metadata and exports)."""
        return {
            "code": self.code,
            "name": self.name,
            "sdmx_code": self.sdmx_code,
            "unit": self.unit,
            "definition": self.definition,
            "source": self.source,
            "experimental": self.experimental,
            "default_by": list(self.default_by),
            "notes": list(self.notes),
            "measures": [
                {
                    "name": m.name,
                    "kind": m.kind,
                    "numerator": m.numerator,
                    "denominator": m.denominator,
                    "universe": m.universe,
                    "multiplier": m.multiplier,
                    "unit_measure": m.unit_measure,
                    "label": m.label,
                }
                for m in self.measures
            ],
        }


def _sdmx_code(code: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in code.upper().replace("MI1", "MI_1"))


_SRC_FRAMEWORK = (
    "UN Statistical Commission decision 52/109 (2021) endorsing the revised conceptual "
    "framework and definitions on international migration (UN Expert Group on Migration "
    "Statistics, Task Force 2, Final Report on Conceptual Frameworks and Concepts and "
    "Definitions on International Migration, 2021), whose core indicators for Policy Area 1 "
    "(MI 1.1-1.4) were reviewed at the UNSD Technical Workshop on International Migration and "
    "Temporary Mobility Statistics (Warsaw, 2024); usual residence: UN Principles and "
    "Recommendations for Population and Housing Censuses, Rev.3 (2017), §2.81"
)
_SRC_862 = (
    "; disaggregations as in Regulation (EC) No 862/2007 of the European Parliament and of "
    "the Council, Art. 3"
)

_PERSON_BY = ("sex", "age_group")
_RESIDENTS = "usual_resident"

_INDICATORS = (
    Indicator(
        code="MI1.1",
        name="Stock of international migrants",
        measures=(
            Measure("count", "total", "foreign_born", universe=_RESIDENTS, unit_measure="PS",
                    label="Foreign-born usual residents (number)"),
            Measure("share", "proportion", "foreign_born", universe=_RESIDENTS,
                    multiplier=100.0, unit_measure="PT",
                    label="Foreign-born usual residents, % of the usual resident population"),
        ),
        default_by=_PERSON_BY + ("foreign_citizen",),
        definition=(
            "Universe: usual residents of the country on the reference date (usual_resident "
            "from questionnaires.derive: the household roster's answer, else the residence "
            "rule). Numerator: those born abroad (country of birth different from the "
            "reporting country). The count is the stock; the share divides it by the usual "
            "resident population. Persons present who are not usual residents are outside the "
            "universe; a person whose residence or country of birth is unknown makes the "
            "indicator refused, not counted as native. The citizenship-based series is "
            "MI1.1F."
        ),
        source=_SRC_FRAMEWORK + _SRC_862 + " (stocks by country of birth).",
    ),
    Indicator(
        code="MI1.1F",
        name="Stock of foreign citizens",
        measures=(
            Measure("count", "total", "foreign_citizen", universe=_RESIDENTS, unit_measure="PS",
                    label="Foreign-citizen usual residents, incl. stateless (number)"),
            Measure("share", "proportion", "foreign_citizen", universe=_RESIDENTS,
                    multiplier=100.0, unit_measure="PT",
                    label="Foreign citizens, % of the usual resident population"),
        ),
        default_by=_PERSON_BY,
        definition=(
            "Universe: usual residents on the reference date. Numerator: those who do not "
            "hold the citizenship of the reporting country (stateless persons included; dual "
            "citizens holding it are citizens). The framework asks for both country of birth "
            "and citizenship to identify the foreign population; this is the "
            "citizenship-based stock."
        ),
        source=_SRC_FRAMEWORK + _SRC_862 + " (stocks by citizenship).",
    ),
    Indicator(
        code="MI1.2",
        name="Acquisition of citizenship",
        measures=(
            Measure("count", "total", "acquired_citizenship_period", universe=_RESIDENTS,
                    unit_measure="PS",
                    label="Usual residents who acquired citizenship in the 12 months before "
                    "the reference date (number)"),
            Measure("rate", "rate", "acquired_citizenship_period",
                    denominator="foreign_citizen_start", universe=_RESIDENTS, multiplier=100.0,
                    unit_measure="PT",
                    label="Acquisitions per 100 foreign-citizen usual residents at the start "
                    "of the period"),
        ),
        default_by=_PERSON_BY,
        definition=(
            "Universe: usual residents on the reference date. Numerator: those who acquired "
            "the citizenship of the reporting country (naturalisation, marriage, declaration "
            "or other route; citizenship at birth excluded) in the 12 months before the "
            "reference date, from the month and year of acquisition "
            "(acquired_citizenship_period). A change-of-status event, not a flow across the "
            "border. The rate divides by the foreign citizens at the start of the period, "
            "estimated as current foreign citizens plus those who acquired citizenship in the "
            "period (foreign_citizen_start, built by indicator_variables). Persons who "
            "acquired citizenship and left, or died, during the period are not observed."
        ),
        source=(
            _SRC_FRAMEWORK + _SRC_862 + " (acquisitions of citizenship). Rate: acquisitions "
            "per 100 foreign citizens resident at the start of the period, the denominator "
            "Eurostat uses for its naturalisation rate (migr_acq)."
        ),
    ),
    Indicator(
        code="MI1.3",
        name="Immigration",
        measures=(
            Measure("count", "total", "immigrant_12m", universe=_RESIDENTS, unit_measure="PS",
                    label="Usual residents who came to live in the country in the 12 months "
                    "before the reference date after living abroad (number)"),
            Measure("rate", "rate", "immigrant_12m", universe=_RESIDENTS, multiplier=1000.0,
                    unit_measure="PER_1000",
                    label="Immigrants in the 12 months before the reference date per 1 000 "
                    "usual residents"),
        ),
        default_by=_PERSON_BY + ("birth_citizenship_group",),
        definition=(
            "Universe: usual residents on the reference date. Numerator: those whose most "
            "recent arrival to live in the country, after being usually resident abroad, was "
            "in the 12 months before the reference date and who are usual residents under the "
            "residence rule (12 months lived or intended, or more than 6 lived or at least 6 "
            "intended; the rule is recorded with the derived data). Returning citizens are "
            "immigrants. Without the intended-stay question a recent arrival's residence is "
            "unknown, so the indicator is refused. Rate per 1 000 usual residents."
        ),
        source=_SRC_FRAMEWORK + _SRC_862 + " (immigration).",
    ),
    Indicator(
        code="MI1.4",
        name="Emigration",
        unit="emigrant",
        measures=(
            Measure("count", "total", "emigrant_12m", universe="emigrant_record",
                    unit_measure="PS",
                    label="Former household members who left to live abroad in the 12 "
                    "months before the reference date (number)"),
        ),
        default_by=_PERSON_BY + ("country_destination",),
        definition=(
            "Former usual members of resident households who left to live abroad in the 12 "
            "months before the reference date, from the household's emigrant roster (core "
            "module: sex, age at departure, month and year of departure, country of "
            "destination; a proxy report). One record per emigrant, weighted by the weight "
            "of the household that reports it (estimation.indicators.emigrant_records); "
            "disaggregations are the emigrant's own sex, age at departure and destination. "
            "Households that left the country entirely and emigrants whose whole former "
            "household has since dissolved are not observed by a household survey."
        ),
        source=(
            _SRC_FRAMEWORK + _SRC_862 + " (emigration). Roster questions: UN Expert Group "
            "on Migration Statistics, standard questions on international migration (2019), "
            "household members currently residing abroad."
        ),
        notes=("emigrant-level records weighted by the reporting household's weight; "
               "whole-household emigration is not observed",),
    ),
    Indicator(
        code="RECENT_IMM",
        name="Recent-immigration rate (5 years)",
        measures=(
            Measure("count", "total", "recent_immigrant_5y", universe=_RESIDENTS,
                    unit_measure="PS",
                    label="Usual residents who arrived to live in the country in the last "
                    "5 years"),
            Measure("share", "proportion", "recent_immigrant_5y", universe=_RESIDENTS,
                    multiplier=100.0, unit_measure="PT",
                    label="Recent immigrants, % of the usual resident population"),
        ),
        default_by=_PERSON_BY,
        definition=(
            "Usual residents whose most recent arrival to live in the country (from abroad) was "
            "within the 5 years before the reference date; share of usual residents."
        ),
        source="UN Principles and Recommendations for Population and Housing Censuses, Rev.3 "
        "(2017), core topic 'year or period of arrival'.",
    ),
    Indicator(
        code="TEMP_MOB",
        name="Temporary international mobility",
        measures=(
            Measure("count", "total", "temporary_mover", unit_measure="PS",
                    label="Persons in temporary international mobility (number)"),
            Measure("share", "proportion", "temporary_mover", multiplier=100.0,
                    unit_measure="PT", label="Temporary movers, % of the population"),
        ),
        default_by=_PERSON_BY,
        definition=(
            "Persons who crossed an international border for a temporary stay without changing "
            "their country of usual residence (frontier, seasonal, project-tied workers, "
            "students ...) in the last 12 months, and persons present who arrived within 12 "
            "months but are not usual residents. `temporary_mover` is 1 when "
            "questionnaires.derive's `temporary_mobility` type is not NONE (see "
            "indicator_variables); disaggregate by `temporary_mobility` for the type. "
            "Experimental: the 2021 framework introduces temporary mobility and its "
            "indicators are additional, not core."
        ),
        source=(
            "UN conceptual framework on international migration and temporary mobility "
            "(UNSC decision 52/109, 2021); categories of the ILO Guidelines concerning "
            "statistics of international labour migration (20th ICLS, 2018)."
        ),
        experimental=True,
    ),
)

REGISTRY: Mapping[str, Indicator] = MappingProxyType({i.code: i for i in _INDICATORS})
"""The built-in indicators, keyed by code (read-only)."""


def resolve_indicators(
    indicators: str | Indicator | Iterable[str | Indicator],
    *,
    registry: Mapping[str, Indicator] | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[Indicator]:
    """Turn codes and :class:`Indicator` objects into a list of indicators.

    Parameters
    ----------
    indicators : str, Indicator or iterable of them
        Codes are looked up in ``registry`` (default :data:`REGISTRY`); matching ignores case
        and the characters ``" _-"`` (``"mi 1.1"`` finds ``"MI1.1"``).
    registry : mapping, optional
        Code → Indicator, replacing the built-in registry.
    variables : mapping, optional
        Default variable name → the user's column name, applied to every indicator.

    Raises
    ------
    SurveyError
        For an unknown code, a duplicated indicator or an empty list.
    """
    reg = REGISTRY if registry is None else registry
    if isinstance(indicators, (str, Indicator)):
        items: Sequence = [indicators]
    else:
        try:
            items = list(indicators)
        except TypeError:
            raise SurveyError(
                "indicators must be codes or Indicator objects",
                argument="indicators",
                expected="a code such as 'MI1.1', an Indicator, or a list of them",
                found=type(indicators).__name__,
            ) from None
    if not items:
        raise SurveyError(
            "no indicator requested",
            argument="indicators",
            expected="at least one indicator code",
            found="an empty list",
            hint="available: " + ", ".join(reg),
        )
    keyed = {_key(k): v for k, v in reg.items()}
    out: list[Indicator] = []
    for item in items:
        if isinstance(item, Indicator):
            ind = item
        elif isinstance(item, str) and _key(item) in keyed:
            ind = keyed[_key(item)]
        else:
            raise SurveyError(
                "unknown indicator",
                argument="indicators",
                expected="one of " + ", ".join(reg) + " or an Indicator object",
                found=repr(item),
                hint="list the registry with estimation.indicators.REGISTRY",
            )
        if variables:
            ind = ind.with_variables(variables)
        out.append(ind)
    codes = [i.code for i in out]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise SurveyError(
            "indicator requested twice",
            argument="indicators",
            expected="each indicator once",
            found=", ".join(dup),
        )
    return out


def _key(code: str) -> str:
    return "".join(c for c in code.upper() if c not in " _-")
