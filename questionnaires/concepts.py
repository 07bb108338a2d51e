"""Migration concepts as narwhals expressions (one definition for every data frame engine).

Each derived variable is a function ``(ctx) -> narwhals.Expr`` built only from the answer
columns, so that one ``with_columns`` runs it on pandas, Polars, DuckDB or Dask. Logic is
three-valued (Kleene): an unknown answer gives ``null`` unless the other answers decide the
result on their own (``True or unknown`` is ``True``). Unknown is never turned into "native",
"citizen" or ``False``.

Definitions follow the UN *Recommendations on Statistics of International Migration* (Rev.1,
1998; conceptual framework revised by the UN Expert Group on Migration Statistics, 2021), the UN
*Principles and Recommendations for Population and Housing Censuses* Rev.3 (2017, §2.81 usual
residence) and the UNECE CES Recommendations for the 2030 censuses (population groups by
country of birth of parents). Where the answers cannot settle a definition, the operational
choice made here is stated in the variable's ``definition``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import narwhals as nw

from questionnaires.countries import STATELESS, UNKNOWN
from questionnaires.inputs import DONT_KNOW
from questionnaires.rules import RESIDENCE_THRESHOLDS, Rules

GROUPS = ("NB_CIT", "NB_FOR", "FB_CIT", "FB_FOR")
GROUP_LABELS = {
    "NB_CIT": "native-born citizens",
    "NB_FOR": "native-born foreign citizens",
    "FB_CIT": "foreign-born citizens",
    "FB_FOR": "foreign-born foreign citizens",
}
BACKGROUNDS = ("NAT", "MIX", "FOR")
BACKGROUND_LABELS = {
    "NAT": "national background (both parents born in the country)",
    "MIX": "mixed background (one parent born abroad; parents='both' only)",
    "FOR": "foreign background (both parents born abroad, or one under parents='one')",
}
MOBILITY = (
    "NONE",
    "OUT_FRONTIER",
    "OUT_SEASONAL",
    "OUT_WORKER",
    "OUT_STUDENT",
    "OUT_OTHER",
    "IN_WORKER",
    "IN_STUDENT",
    "IN_OTHER",
    "IN_UNSPECIFIED",
)
MOBILITY_LABELS = {
    "NONE": "usual resident, no temporary stay abroad",
    "OUT_FRONTIER": "usual resident working abroad, returning at least weekly (frontier worker)",
    "OUT_SEASONAL": "usual resident, seasonal work abroad",
    "OUT_WORKER": "usual resident, other temporary work abroad",
    "OUT_STUDENT": "usual resident, temporary study abroad",
    "OUT_OTHER": "usual resident, other temporary stay abroad",
    "IN_WORKER": "present, not a usual resident, came for work (non-resident worker)",
    "IN_STUDENT": "present, not a usual resident, came to study",
    "IN_OTHER": "present, not a usual resident, came for another stated reason",
    "IN_UNSPECIFIED": "present, not a usual resident, reason unknown",
}




def _acquired(c) -> nw.Expr:
    """Citizen of the reporting country by a route other than birth (null when unknown)."""
    return c.citizen() & nw.when(c.code_known("citizenship_acquired")).then(
        c.col("citizenship_acquired") != "birth"
    )


def _acquired_in_period(c) -> nw.Expr:
    """Acquired citizenship in the 12 months before the reference date (Kleene logic)."""
    acq = _acquired(c)
    in_period = c.in_last_12_months("year_citizenship", "month_citizenship")
    return nw.when(acq == nw.lit(False)).then(acq).otherwise(acq & in_period)

class Ctx:
    """Expressions for the answers, with the rules applied (column mapping, codes, dates)."""

    def __init__(self, rules: Rules, present: set[str], boolean_cols: set[str]) -> None:
        self.rules = rules
        self.present = present  # canonical names available in the frame
        self.boolean_cols = boolean_cols
        # shared building blocks can be computed once as temporary columns (see derive):
        # ``recording`` collects them with their depth, ``materialised`` maps them to columns
        self.recording: dict[str, tuple[int, Callable[[], nw.Expr]]] | None = None
        self.materialised: dict[str, str] = {}
        self._depth: list[int] = []

    def _memo(self, key: str, build: Callable[[], nw.Expr]) -> nw.Expr:
        if key in self.materialised:
            return nw.col(self.materialised[key])
        if self.recording is None:
            return build()
        self._depth.append(0)
        expr = build()
        depth = self._depth.pop()
        if self._depth:
            self._depth[-1] = max(self._depth[-1], depth + 1)
        self.recording.setdefault(key, (depth, build))
        return expr

    # -- raw answers -------------------------------------------------------------------
    def col(self, name: str) -> nw.Expr:
        return nw.col(self.rules.columns.get(name, name))

    def has(self, name: str) -> bool:
        return name in self.present

    def country_known(self, name: str) -> nw.Expr:
        c = self.col(name)
        return ~(c.is_null() | (c == UNKNOWN))

    def abroad(self, name: str) -> nw.Expr:
        """A country answer differs from the reporting country (null when unknown)."""
        c = self.col(name)
        return nw.when(self.country_known(name)).then(c != self.rules.country)

    def yes(self, name: str) -> nw.Expr:
        """A yes/no/dk answer (or a boolean column) as a nullable boolean."""
        c = self.col(name)
        if name in self.boolean_cols:
            return c
        # a comparison (not a literal) in ``then`` keeps a nullable boolean dtype on pandas
        return nw.when(self.code_known(name)).then(c == "yes")

    def code_known(self, name: str) -> nw.Expr:
        c = self.col(name)
        return ~(c.is_null() | (c == DONT_KNOW))

    # -- building blocks -----------------------------------------------------------------
    def foreign_born(self) -> nw.Expr:
        return self._memo("fb", lambda: self.abroad("country_birth"))

    def foreign_citizen(self) -> nw.Expr:
        return self._memo("fc", lambda: self.abroad("citizenship"))

    def citizen(self) -> nw.Expr:
        return ~self.foreign_citizen()

    def group(self) -> nw.Expr:
        fb, fc = self.foreign_born(), self.foreign_citizen()
        out = None
        for code, cond in (
            ("FB_FOR", fb & fc),
            ("FB_CIT", fb & ~fc),
            ("NB_FOR", ~fb & fc),
            ("NB_CIT", ~fb & ~fc),
        ):
            out = (
                nw.when(cond).then(nw.lit(code))
                if out is None
                else nw.when(cond).then(nw.lit(code)).otherwise(out)
            )
        return out

    def foreign_background(self) -> nw.Expr:
        """Both parents born abroad (``parents='both'``) or at least one (``'one'``)."""
        pf = self.abroad("country_birth_father")
        pm = self.abroad("country_birth_mother")
        return (pf | pm) if self.rules.parents == "one" else (pf & pm)

    def background(self) -> nw.Expr:
        pf = self.abroad("country_birth_father")
        pm = self.abroad("country_birth_mother")
        if self.rules.parents == "one":
            foreign = pf | pm
            return (
                nw.when(foreign)
                .then(nw.lit("FOR"))
                .otherwise(nw.when(~foreign).then(nw.lit("NAT")))
            )
        return (
            nw.when(pf & pm)
            .then(nw.lit("FOR"))
            .otherwise(
                nw.when(~pf & ~pm)
                .then(nw.lit("NAT"))
                .otherwise(nw.when((pf & ~pm) | (~pf & pm)).then(nw.lit("MIX")))
            )
        )

    def arrived(self) -> nw.Expr:
        return ~self.col("year_arrival").is_null()

    def lived_abroad(self) -> nw.Expr:
        """Ever lived abroad: foreign-born, or said so, or gave an arrival year."""
        return self._memo("lived_abroad", self._lived_abroad)

    def _lived_abroad(self) -> nw.Expr:
        # ``year_arrival`` is asked of everyone who came to live here from abroad (nationals
        # included, see questionnaires.inputs), so a native-born person without one did not
        out = self.foreign_born() | self.arrived()
        if self.has("ever_lived_abroad"):
            out = out | self.yes("ever_lived_abroad")
        return out

    def _ref_month_index(self) -> int | None:
        r = self.rules
        if r.reference_month is None:
            return None
        return r.reference_year * 12 + r.reference_month - 1

    def months_since_arrival(self) -> nw.Expr | None:
        """Exact months since arrival, null unless both months are known."""
        ref = self._ref_month_index()
        if ref is None or not self.has("month_arrival"):
            return None
        arr = self.col("year_arrival") * 12 + self.col("month_arrival") - 1
        return nw.when(~self.col("month_arrival").is_null()).then(nw.lit(ref) - arr)

    def year_diff(self) -> nw.Expr:
        return nw.lit(self.rules.reference_year) - self.col("year_arrival")

    def within(self, years: int) -> nw.Expr:
        return self._memo(f"within_{years}", lambda: self._within(years))

    def _within(self, years: int) -> nw.Expr:
        """Most recent arrival within the last ``years`` years (null when undecidable).

        With both months known: ``months_since < 12 * years``. With calendar years only, the
        difference ``d = reference_year - year_arrival`` decides when ``d < years`` (True) or
        ``d > years`` (False); ``d == years`` stays unknown.
        """
        d = self.year_diff()
        by_year = (
            nw.when(d < years).then(nw.lit(True)).otherwise(nw.when(d > years).then(nw.lit(False)))
        )
        ms = self.months_since_arrival()
        if ms is None:
            return by_year
        return nw.when(~ms.is_null()).then(ms < 12 * years).otherwise(by_year)

    def recent(self, years: int, residence_col: str | None) -> nw.Expr:
        return self._memo(
            f"recent_{years}_{residence_col}", lambda: self._recent(years, residence_col)
        )

    def _recent(self, years: int, residence_col: str | None) -> nw.Expr:
        """Arrived to live within ``years`` years, from an arrival date or a residence question."""
        within = self.within(years)
        not_arrived = nw.when(~self.lived_abroad()).then(nw.lit(False))
        if residence_col is not None and self.has(residence_col):
            # abroad T years ago and living here now: the most recent arrival came since
            fallback = nw.when(self.abroad(residence_col)).then(nw.lit(True))
            within = nw.when(~within.is_null()).then(within).otherwise(fallback)
            not_arrived = not_arrived.otherwise(fallback)
        return nw.when(self.arrived()).then(within).otherwise(not_arrived)

    def months_here(self) -> nw.Expr:
        return self._memo("months_here", self._months_here)

    def _months_here(self) -> nw.Expr:
        """Months lived in the country in the last 12 months (answer, else from arrival)."""
        d = self.year_diff()
        from_arrival = nw.when(d >= 2).then(nw.lit(12))
        ms = self.months_since_arrival()
        if ms is not None:
            from_arrival = (
                nw.when(~ms.is_null())
                .then(nw.when(ms >= 12).then(nw.lit(12)).otherwise(ms))
                .otherwise(from_arrival)
            )
        derived = (
            nw.when(self.arrived())
            .then(from_arrival)
            .otherwise(nw.when(~self.lived_abroad()).then(nw.lit(12)))
        )
        if self.has("months_in_country_last12"):
            m = self.col("months_in_country_last12")
            return nw.when(~m.is_null()).then(m).otherwise(derived)
        return derived

    def usual_resident(self) -> nw.Expr:
        return self._memo("usual_resident", self._usual_resident)

    def _usual_resident(self) -> nw.Expr:
        by_rule = None
        if self.has("year_arrival") and self.has("country_birth"):
            by_rule = self._resident_by_rule()
        if not self.has("usual_member"):
            return by_rule
        # the household roster's answer, where given, decides; otherwise the rule
        member = self.col("usual_member")
        said = member if "usual_member" in self.boolean_cols else member == "yes"
        known = self.code_known("usual_member")
        if by_rule is None:
            return nw.when(known).then(said)
        return nw.when(known).then(said).otherwise(by_rule)

    def _resident_by_rule(self) -> nw.Expr:
        op, lived_threshold, intent_threshold = RESIDENCE_THRESHOLDS[self.rules.residence_rule]
        m = self.months_here()
        lived = (m >= lived_threshold) if op == ">=" else (m > lived_threshold)
        if self.has("intended_stay_months"):
            return lived | (self.col("intended_stay_months") >= intent_threshold)
        # no intended-stay question: a person who has not yet lived here long enough may
        # or may not intend to stay, so residence stays unknown (never "no")
        return nw.when(lived).then(lived)  # True, else unknown

    def in_last_12_months(self, year: str, month: str) -> nw.Expr:
        return self._memo(f"last12_{year}", lambda: self._in_last_12_months(year, month))

    def _in_last_12_months(self, year: str, month: str) -> nw.Expr:
        """An event dated by ``year`` (and ``month``) lies in the 12 months before the reference.

        With a reference date (month ``r``) the window is the 12 calendar months ending with
        the reference month: an event ``k = r − e`` months earlier is inside for ``0 <= k <
        12`` (exact when the reference date is the last day of its month). Without the event
        month, a year that starts inside the window is True (events after the reference date
        are refused as impossible), a year that ends before it is False and a year straddling
        its start is unknown. With a reference year only, the window is that calendar year.
        """
        y = self.col(year)
        ref = self._ref_month_index()
        if ref is None:
            return nw.when(~y.is_null()).then(y == nw.lit(self.rules.reference_year))
        start, end, low = y * 12, y * 12 + 11, ref - 11
        inside = (start >= low) & (start <= ref)
        outside = (end < low) | (start > ref)
        by_year = nw.when(inside).then(inside).otherwise(nw.when(outside).then(inside))
        if not self.has(month):
            return by_year
        m = self.col(month)
        k = nw.lit(ref) - (y * 12 + m - 1)
        exact = (k >= 0) & (k < 12)
        return nw.when(~m.is_null() & ~y.is_null()).then(exact).otherwise(by_year)

    def lived_here_before(self) -> nw.Expr:
        """Lived in the country before the most recent arrival (native-born: at birth).

        Foreign-born persons answer ``lived_here_before``; without that question their
        earlier residence here is unknown.
        """
        native = ~self.foreign_born()
        if self.has("lived_here_before"):
            return native | self.yes("lived_here_before")
        return nw.when(native).then(native)


@dataclass(frozen=True)
class Derived:
    """A derived variable: its definition as text and as a narwhals expression."""

    name: str
    label: str
    definition: str
    universe: str
    kind: str  # "boolean", "category", "integer"
    requires: tuple[str, ...]
    build: Callable[[Ctx], nw.Expr]
    needs_reference: bool = False
    categories: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    alternative: tuple[str, ...] = ()  # answers that can stand in for all of ``requires``

    def missing(self, present: set[str]) -> list[str]:
        """Required answers absent from ``present`` (empty when the variable can be made)."""
        lacking = [c for c in self.requires if c not in present]
        if lacking and self.alternative and set(self.alternative) <= present:
            return []
        return lacking


def _temporary(ctx: Ctx) -> nw.Expr:
    ta = ctx.col("temporary_abroad")
    resident = ctx.usual_resident()
    out_codes = {
        "none": "NONE",
        "frontier": "OUT_FRONTIER",
        "seasonal": "OUT_SEASONAL",
        "other_work": "OUT_WORKER",
        "study": "OUT_STUDENT",
        "other": "OUT_OTHER",
    }
    outbound = None
    for code, value in out_codes.items():
        step = nw.when(ta == code).then(nw.lit(value))
        outbound = step if outbound is None else step.otherwise(outbound)
    r = ctx.col("reason_migration")
    inbound = (
        nw.when(r == "work")
        .then(nw.lit("IN_WORKER"))
        .otherwise(
            nw.when(r == "study")
            .then(nw.lit("IN_STUDENT"))
            .otherwise(
                nw.when(ctx.code_known("reason_migration"))
                .then(nw.lit("IN_OTHER"))
                .otherwise(nw.lit("IN_UNSPECIFIED"))
            )
        )
    )
    non_resident_present = ~resident & ctx.recent(1, "residence_1y")
    return nw.when(resident).then(outbound).otherwise(nw.when(non_resident_present).then(inbound))


_ARRIVAL = ("year_arrival",)
_RESIDENCE_Q = {1: "residence_1y", 5: "residence_5y"}
_ARRIVAL_OPT = ("month_arrival", "ever_lived_abroad")

DERIVED: dict[str, Derived] = {
    d.name: d
    for d in (
        Derived(
            "foreign_born",
            "Foreign-born",
            "country of birth differs from the reporting country; unknown (XXX or missing) "
            "stays unknown",
            "all persons",
            "boolean",
            ("country_birth",),
            lambda c: c.foreign_born(),
        ),
        Derived(
            "foreign_citizen",
            "Foreign citizen (incl. stateless)",
            "citizenship differs from the reporting country; stateless (XXA) counts as foreign; "
            "dual citizens holding the reporting country's citizenship are citizens",
            "all persons",
            "boolean",
            ("citizenship",),
            lambda c: c.foreign_citizen(),
        ),
        Derived(
            "stateless",
            "Stateless",
            "citizenship recorded as XXA (stateless person)",
            "all persons",
            "boolean",
            ("citizenship",),
            lambda c: nw.when(c.country_known("citizenship")).then(
                c.col("citizenship") == STATELESS
            ),
        ),
        Derived(
            "birth_citizenship_group",
            "Country of birth × citizenship group",
            "NB_CIT native-born citizens; NB_FOR native-born foreign citizens; FB_CIT "
            "foreign-born citizens; FB_FOR foreign-born foreign citizens (stateless included); "
            "unknown when either answer is unknown",
            "all persons",
            "category",
            ("country_birth", "citizenship"),
            lambda c: c.group(),
            categories=GROUPS,
        ),
        Derived(
            "parental_background",
            "Background by parents' country of birth",
            "NAT both parents native-born; FOR both parents foreign-born (parents='both') or at "
            "least one (parents='one'); MIX exactly one parent foreign-born (parents='both' "
            "only); unknown when the known parents do not decide it",
            "all persons",
            "category",
            ("country_birth_father", "country_birth_mother"),
            lambda c: c.background(),
            categories=BACKGROUNDS,
        ),
        Derived(
            "migrant_background",
            "Extended group: parents' background × birth × citizenship",
            "parental_background + '_' + birth_citizenship_group (UNECE CES 2030 census "
            "recommendations: 12 groups with parents='both', 8 with parents='one')",
            "all persons",
            "category",
            ("country_birth", "citizenship", "country_birth_father", "country_birth_mother"),
            lambda c: nw.concat_str([c.background(), nw.lit("_"), c.group()]),
            categories=tuple(f"{b}_{g}" for b in BACKGROUNDS for g in GROUPS),
        ),
        Derived(
            "second_generation",
            "Second generation",
            "native-born with a foreign background (both parents born abroad, or at least one "
            "under parents='one')",
            "all persons",
            "boolean",
            ("country_birth", "country_birth_father", "country_birth_mother"),
            lambda c: ~c.foreign_born() & c.foreign_background(),
        ),
        Derived(
            "acquired_citizenship",
            "Acquired citizenship",
            "citizen of the reporting country who acquired it other than at birth "
            "(naturalisation, marriage, declaration, other); foreign citizens are False",
            "all persons",
            "boolean",
            ("citizenship", "citizenship_acquired"),
            lambda c: _acquired(c),
        ),
        Derived(
            "acquired_citizenship_period",
            "Acquired citizenship in the 12 months before the reference date",
            "acquired_citizenship with the acquisition (year_citizenship, month_citizenship) "
            "in the 12 months before the reference date: the change-of-status events counted "
            "by indicator MI 1.2. Without the month, a year wholly inside the window counts, "
            "one straddling its start is unknown; with a reference year only, the window is "
            "that calendar year. False for persons who did not acquire citizenship; unknown "
            "when the acquisition or its date is unknown",
            "all persons",
            "boolean",
            ("citizenship", "citizenship_acquired", "year_citizenship"),
            lambda c: _acquired_in_period(c),
            needs_reference=True,
            optional=("month_citizenship",),
        ),
        Derived(
            "years_since_arrival",
            "Years since most recent arrival",
            "completed years between the most recent arrival and the reference date when both "
            "months are known, else the difference of calendar years (IPUMS YRSIMM); missing "
            "for persons who never lived abroad",
            "persons with an arrival year",
            "integer",
            _ARRIVAL,
            lambda c: _years_since(c),
            needs_reference=True,
            optional=("month_arrival",),
        ),
        Derived(
            "recent_immigrant_1y",
            "Arrived to live within the last year",
            "most recent arrival to live in the country within the 12 months before the "
            "reference date (nationals included); with calendar years only, an arrival in the "
            "previous calendar year is undecided; a missing or undecided arrival is settled "
            "by residence abroad 1 year ago (then True), else stays unknown",
            "all persons",
            "boolean",
            _ARRIVAL + ("country_birth",),
            lambda c: c.recent(1, "residence_1y"),
            needs_reference=True,
            optional=_ARRIVAL_OPT + ("residence_1y",),
        ),
        Derived(
            "recent_immigrant_5y",
            "Arrived to live within the last 5 years",
            "as recent_immigrant_1y with a 5-year window and residence 5 years ago",
            "all persons",
            "boolean",
            _ARRIVAL + ("country_birth",),
            lambda c: c.recent(5, "residence_5y"),
            needs_reference=True,
            optional=_ARRIVAL_OPT + ("residence_5y",),
        ),
        Derived(
            "abroad_1y_ago",
            "Usual residence abroad 1 year ago",
            "country of residence 1 year ago differs from the reporting country",
            "persons aged 1 or more",
            "boolean",
            ("residence_1y",),
            lambda c: c.abroad("residence_1y"),
        ),
        Derived(
            "abroad_5y_ago",
            "Usual residence abroad 5 years ago",
            "country of residence 5 years ago differs from the reporting country",
            "persons aged 5 or more",
            "boolean",
            ("residence_5y",),
            lambda c: c.abroad("residence_5y"),
        ),
        Derived(
            "usual_resident",
            "Usual resident (residence rule)",
            "the household roster's answer usual_member where given; otherwise rule 'a': "
            "lived in the country 12 months of the last 12, or intends to stay at least 12 "
            "months; rule 'b': lived more than 6 of the last 12 months, or intends to stay at "
            "least 6 months (UN P&R Rev.3 §2.81). Months lived come from "
            "months_in_country_last12, else from the arrival date. A person who has not lived "
            "here long enough and whose intention is not known (or not asked) is unknown",
            "persons present",
            "boolean",
            _ARRIVAL + ("country_birth",),
            lambda c: c.usual_resident(),
            needs_reference=True,
            optional=_ARRIVAL_OPT
            + ("months_in_country_last12", "intended_stay_months", "usual_member"),
            alternative=("usual_member",),
        ),
        Derived(
            "immigrant_12m",
            "Immigrant in the last 12 months (residence rule)",
            "arrived to live within the last 12 months (recent_immigrant_1y) and a usual "
            "resident under the residence rule ('a' or 'b', recorded with the result)",
            "all persons",
            "boolean",
            _ARRIVAL + ("country_birth",),
            lambda c: c.recent(1, "residence_1y") & c.usual_resident(),
            needs_reference=True,
            optional=_ARRIVAL_OPT
            + ("residence_1y", "months_in_country_last12", "intended_stay_months",
               "usual_member"),
        ),
        Derived(
            "returning_citizen",
            "Returning citizen",
            "citizen of the reporting country who, after living abroad, came back to live in "
            "the country within return_years years before the reference date (default 5) "
            "and is a usual resident: a return to the country of citizenship after having "
            "been an international migrant abroad, intending to stay (UN Recommendations on "
            "Statistics of International Migration, Rev.1, 1998, 'returning migrants'; "
            "returning citizens are immigrants in the 2021 conceptual framework). Citizens "
            "born abroad count when they lived in the country before that arrival "
            "(lived_here_before); without that question their return is unknown. Citizenship "
            "is observed at the reference date",
            "all persons",
            "boolean",
            _ARRIVAL + ("country_birth", "citizenship"),
            lambda c: (
                c.citizen()
                & c.lived_here_before()
                & c.recent(c.rules.return_years, _RESIDENCE_Q.get(c.rules.return_years))
                & c.usual_resident()
            ),
            needs_reference=True,
            optional=_ARRIVAL_OPT
            + ("residence_1y", "residence_5y", "lived_here_before", "months_in_country_last12",
               "intended_stay_months", "usual_member"),
        ),
        Derived(
            "emigrant_in_household",
            "Household reports an emigrant",
            "the household reports at least one former member who moved abroad in the last 5 "
            "years and lives there now",
            "households (value repeated on each member)",
            "boolean",
            ("hh_members_abroad",),
            lambda c: c.col("hh_members_abroad") > 0,
        ),
        Derived(
            "temporary_mobility",
            "Temporary mobility type",
            "usual residents: type of temporary stay abroad in the last 12 months "
            "(temporary_abroad); persons who arrived within 12 months but are not usual "
            "residents under the rule: inbound type from the reason for coming",
            "persons present",
            "category",
            _ARRIVAL + ("country_birth", "temporary_abroad", "reason_migration"),
            _temporary,
            needs_reference=True,
            categories=MOBILITY,
            optional=_ARRIVAL_OPT
            + ("residence_1y", "months_in_country_last12", "intended_stay_months"),
        ),
    )
}


def _years_since(c: Ctx) -> nw.Expr:
    ms = c.months_since_arrival()
    by_year = c.year_diff()
    if ms is None:
        return by_year
    return nw.when(~ms.is_null()).then(ms // 12).otherwise(by_year)
