"""The survey pipeline: census → frame → strata → allocation → selection → fieldwork →
weights → indicators.

Each stage is one function that takes the checked specification (:mod:`migsurvey.spec`) and
the previous stage's tables, and calls the layer that does the statistics:

==============================  ===============================================================
stage                           layer and call
==============================  ===============================================================
:func:`load_census`             the office's census (:mod:`migsurvey.inputs`) or a synthetic one
:func:`build_frame`             prevalence classes of the EA frame (application logic)
:func:`allocate_sample`         :mod:`sampling` allocation of PSUs to strata
:func:`select_sample`           :mod:`sampling` PPS selection of EAs, then screening and
                                selection of households within screening classes
:func:`~migsurvey.fieldwork.run_fieldwork`  simulated response (demo, simulation)
:func:`weight_interviews`       real fieldwork: the interview files through the chain
:func:`weight_sample`           :class:`weighting.Weights` chain
:func:`estimate_indicators`     :class:`estimation.SurveyDesign` and
                                :func:`estimation.indicators.indicator_table`
==============================  ===============================================================

:func:`run_survey` chains them and returns a :class:`SurveyRun`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from migsurvey.design_units import design_keywords, design_units
from migsurvey.empty_eas import (
    EMPTY_EA,
    eas_without_covered,
    keep_empty_eas,
    with_eas_without_households,
)
from migsurvey.fieldwork import Fieldwork, run_fieldwork
from migsurvey.inputs import (
    HH_KEY,
    ColumnMapping,
    PersonCensus,
    census_path,
    read_census,
    read_interviews,
    read_roster,
    with_columns,
)
from migsurvey.interview_design import check_against_frame, check_selection
from migsurvey.synthetic import Census, ParquetCensus, synthetic_census
from surveycore import SurveyError, SurveyWarning
from surveycore.groups import joined_labels

Progress = Callable[[str, int, int], None]


@dataclass
class SurveyRun:
    """Every table one run of the pipeline produced (plain data, for reports and exports)."""

    spec: dict
    census: Census | None = None
    frame: pd.DataFrame | None = None
    allocation: pd.DataFrame | None = None
    psus: pd.DataFrame | None = None
    households: pd.DataFrame | None = None  # selected households (+ response)
    persons: pd.DataFrame | None = None  # respondents with derived variables and weights
    household_sample: pd.DataFrame | None = None  # emigrant records of responding households
    weight_steps: list = field(default_factory=list)
    weights: Any = None  # the person-level weighting.Weights
    diagnostics: list[str] = field(default_factory=list)  # weighting warnings
    indicators: pd.DataFrame | None = None
    indicator_table: Any = None  # estimation IndicatorTable objects, by unit
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# census and frame


def load_census(spec: dict, progress: Progress | None = None, *, columns: Any = None
                ) -> Census | ParquetCensus | PersonCensus:
    """The census named by ``spec["frame"]``.

    ``frame.census`` is the office's census read through ``columns:``
    (:func:`migsurvey.inputs.read_census`: one person-level file, a Parquet dataset, a DuckDB
    table or a folder with ``persons`` and ``eas`` tables), or a folder written by
    ``migsurvey frame --synthetic`` (:class:`~migsurvey.synthetic.ParquetCensus`, read where
    needed). Without ``frame.census`` a synthetic census is generated in memory.
    """
    spec = with_columns(spec, columns)  # columns= means what columns: means
    fr = spec["frame"]
    if fr["census"]:
        _path, kind = census_path(spec)
        if kind == "synthetic-folder":
            return ParquetCensus(fr["census"], country=spec["country"],
                                 reference_year=spec["reference_year"])
        return read_census(spec)
    syn = fr["synthetic"]
    return synthetic_census(syn["persons"], seed=syn["seed"], country=spec["country"],
                            reference_year=spec["reference_year"], n_regions=syn["regions"])


_FLAG_UNITS = {"foreign_born": "persons", "foreign_citizens": "persons",
               "migrant_households": "households"}
"""The unit each census flag of the frame counts."""


def build_frame(eas: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """EA frame with prevalence, prevalence class and stratum (a new frame).

    The prevalence of EA ``i`` is ``p_i = prevalence_i / population_i`` (census counts,
    e.g. foreign-born persons over persons); when the frame counts the units of unknown status
    (``<prevalence>_unknown``) they leave the denominator when it counts the same units, with
    a warning: ``p_i = prevalence_i / (population_i - unknown_i)``. Classes are the intervals
    of ``strata.cuts``, a prevalence equal to a cut going to the class above it
    (:func:`sampling.prevalence_class`);
    strata cross the explicit ``strata.by`` columns with the class. A class with fewer than
    ``strata.collapse_below`` EAs in an explicit stratum is merged into the neighbouring
    class of the same explicit stratum (the next higher one, the lower one for the top class).
    """
    from sampling import prevalence_class

    fr, st = spec["frame"], spec["strata"]
    need = [fr["psu"], fr["size"], fr["prevalence"], fr["population"], *st["by"]]
    missing = [c for c in need if c not in eas.columns]
    if missing:
        raise SurveyError("frame columns missing", argument="frame",
                          expected="columns " + ", ".join(need), found=", ".join(missing),
                          hint="check frame.psu, frame.size, frame.prevalence and strata.by")
    out = eas.copy()
    pop = out[fr["population"]].to_numpy(float)
    unknown = f"{fr['prevalence']}_unknown"
    if unknown in out.columns and out[unknown].sum() > 0:
        # units of unknown status are neither migrants nor not: the prevalence is that of the
        # units of known status when the population counts the same units
        n_unknown = out[unknown].to_numpy(float)
        same = _FLAG_UNITS.get(fr["prevalence"]) == fr["population"]
        warnings.warn(f"{int(n_unknown.sum()):,} {_FLAG_UNITS.get(fr['prevalence'], 'units')} "
                      f"in {int((n_unknown > 0).sum()):,} EAs "
                      f"have an unknown {fr['prevalence']} status: "
                      + (f"the prevalence of each EA is {fr['prevalence']} over the "
                         f"{fr['population']} of known status" if same else
                         f"they count in {fr['population']} and not in {fr['prevalence']}, "
                         "so the prevalence is a lower bound"), SurveyWarning, stacklevel=2)
        if same:
            pop = pop - n_unknown
    prev = np.divide(out[fr["prevalence"]].to_numpy(float), pop, out=np.zeros(len(out)),
                     where=pop > 0)
    cls = prevalence_class(prev, st["cuts"])
    explicit = (joined_labels(out, list(st["by"]), ":") if st["by"]
                else pd.Series("all", index=out.index))
    k = len(st["labels"])
    # collapse small classes (few strata: a loop over strata is fine here)
    for key in pd.unique(explicit):
        rows = (explicit == key).to_numpy()
        for _ in range(k):
            counts = np.bincount(cls[rows], minlength=k)
            small = [c for c in range(k) if 0 < counts[c] < st["collapse_below"]]
            if not small or (counts > 0).sum() == 1:
                break
            c = small[0]
            present = [j for j in range(k) if counts[j] > 0 and j != c]
            target = min(present, key=lambda j: (abs(j - c), -j))
            sub = cls[rows]
            sub[sub == c] = target
            cls[rows] = sub
    labels = np.asarray(st["labels"], dtype=object)
    out["prevalence"] = prev
    out["prevalence_class"] = labels[cls]
    out["stratum"] = (explicit + ":" + out["prevalence_class"]).to_numpy()
    return out


def allocation_table(frame: pd.DataFrame, n_psu: pd.Series | dict, spec: dict) -> pd.DataFrame:
    """Per stratum: frame EAs, households, persons, target group, prevalence and sample PSUs."""
    fr = spec["frame"]
    g = frame.groupby("stratum", sort=True)
    tab = pd.DataFrame({
        "eas": g.size(),
        "households": g[fr["size"]].sum(),
        "persons": g[fr["population"]].sum(),
        "target_group": g[fr["prevalence"]].sum(),
    })
    tab["prevalence"] = tab["target_group"] / tab["persons"]
    tab["psus"] = pd.Series(n_psu).reindex(tab.index).fillna(0).astype(int)
    tab["frame_share"] = tab["households"] / tab["households"].sum()
    tab["sample_share"] = tab["psus"] / tab["psus"].sum()
    tab["target_share"] = tab["target_group"] / tab["target_group"].sum()
    return tab.reset_index()


# --------------------------------------------------------------------------------------
# weighting

_CLUSTER_NAMES = ("household", "household_id", HH_KEY)


def _margin_key(m: str | list[str]) -> str | tuple[str, ...]:
    return m if isinstance(m, str) else (m[0] if len(m) == 1 else tuple(m))


def census_targets(census: Any, margins: list) -> dict:
    """Census person counts of each margin: ``{var: {level: count}}``; a list of names is a
    crossed margin ``{(v1, v2): {(l1, l2): count}}`` (e.g. ``[region, sex, age_group]``)."""
    out = {}
    for m in margins:
        key = _margin_key(m)
        if getattr(census, "counts_crossed", False):  # counted where the census is stored
            out[key] = census.person_counts(key)
            continue
        if isinstance(key, tuple):
            persons = getattr(census, "persons", None)
            if persons is None:
                raise SurveyError("crossed margins need the census persons in memory",
                                  argument="weighting", expected="a person-level census",
                                  found="a streamed Parquet census",
                                  hint="give the margins one at a time (rake)")
            missing = [c for c in key if c not in persons.columns]
            if missing:
                raise SurveyError("calibration margin not in the census", argument="weighting",
                                  expected="person columns of the census",
                                  found=", ".join(missing))
            out[key] = persons.groupby(list(key), observed=True).size().to_dict()
            continue
        if isinstance(census, Census) and key not in census.persons.columns:
            raise SurveyError("calibration margin not in the census", argument="weighting",
                              expected="person columns of the census", found=key)
        out[key] = census.person_counts(key)
    _warn_uncounted(census, out)
    return out


def _matched_targets(pw: Any, census: Any, margins: list, i: int, name: str) -> dict:
    """The census targets of a step, after a check that the interviews code each margin
    variable as the census does."""
    targets = census_targets(census, margins)
    check_margin_coding(pw.data, targets, f"weighting[{i}].{name}.margins")
    return targets


def _code_form(value: Any) -> str:
    """A code without the form of writing: ``"01"``, ``1`` and ``1.0`` are all ``"1"``."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def check_margin_coding(persons: pd.DataFrame, targets: dict, argument: str) -> None:
    """Refuse a calibration margin whose codes differ between census and interviews only in
    how they are written (``"01"`` in the census, ``1`` in the interviews).

    Such a margin would otherwise meet no sample level at all, and the message would be about
    empty cells; the cause is the coding of the files.
    """
    for key, counts in targets.items():
        names = key if isinstance(key, tuple) else (key,)
        for j, col in enumerate(names):
            if col not in persons.columns:
                continue
            census_codes = {(lv[j] if isinstance(key, tuple) else lv) for lv in counts}
            sample = {v.item() if isinstance(v, np.generic) else v
                      for v in pd.unique(persons[col].dropna())}
            stray = sample - census_codes
            if not stray:
                continue
            forms = {_code_form(c): c for c in census_codes}
            same = sorted((c for c in stray if _code_form(c) in forms), key=str)
            if same:
                pairs = ", ".join(f"{c!r} ↔ census {forms[_code_form(c)]!r}" for c in same[:6])
                raise SurveyError(
                    f"coding mismatch between the census and the interviews: {col}",
                    argument=argument, expected=f"the census codes of {col} in the interviews",
                    found=f"codes written differently: {pairs}",
                    hint="write the codes the same way in both files (the census keeps leading "
                         "zeros, e.g. 01), or recode the interviews with interviews.columns: "
                         f"{{{col}: {{column: ..., codes: {{...}}}}}}")


def _warn_uncounted(census: Any, targets: dict) -> None:
    """Warn when census persons with an unknown value of a margin are in none of its cells:
    the weights are then calibrated to the persons whose value is known (unknown is not a
    level, and it is never spread over the others without saying so)."""
    n = getattr(census, "n_persons", None)
    if n is None:
        return
    total = float(n() if callable(n) else n)
    for key, counts in targets.items():
        covered = float(sum(counts.values()))
        if covered < total - 0.5:
            name = " × ".join(key) if isinstance(key, tuple) else key
            warnings.warn(
                f"{total - covered:,.0f} of {total:,.0f} census persons have no value of {name} "
                f"and are in no cell of that calibration margin: the weights add up to the "
                f"{covered:,.0f} persons whose value is known", SurveyWarning, stacklevel=3)


@dataclass
class Weighted:
    """The result of the weighting chain.

    Attributes
    ----------
    persons : DataFrame
        Respondents with ``weight`` (and ``household_weight``, the weight before the person
        steps).
    households : DataFrame
        Responding households with ``weight``.
    steps : list
        The steps for the report (:class:`migsurvey.report.WeightStep`).
    weights : weighting.Weights
        The person-level chain; its calibration records feed the linearised variance.
    household_weights : weighting.Weights
        The household-level chain (eligibility, nonresponse) on every selected household.
    diagnostics : list of str
        The warnings of :func:`migsurvey.diagnostics.weighting_diagnostics`.
    """

    persons: pd.DataFrame
    households: pd.DataFrame
    steps: list
    weights: Any
    household_weights: Any
    diagnostics: list[str] = field(default_factory=list)


def weight_sample(households: pd.DataFrame, persons: pd.DataFrame, census: Any,
                  spec: dict) -> Weighted:
    """Run the weighting chain of ``spec["weighting"]``.

    Household steps run on every selected household from the base weight ``1 / (π₁ π₂|₁)``:
    ``eligibility`` spreads the weight of unknown-eligibility cases (AAPOR 3.x) over the
    cases of known eligibility within its cells; ``nonresponse`` moves the weight of eligible
    nonrespondents (2.x) to the respondents (1.x) of their cells; not-eligible cases (4.x)
    keep their weight and have no persons. Person steps (``rake``, ``calibrate``, ``trim``)
    run on the persons of responding households, starting from their household's weight;
    margins are census counts, a list of names being a crossed margin. With ``calibrate`` and
    ``cluster: household`` (integrated calibration) every member keeps one weight, which is
    then also the household weight; otherwise the household weight is the weight before the
    person steps. Household and person steps are one :class:`weighting.Weights` chain
    (``expand`` carries the household weights to the persons), so the linearised variance and
    the replicate weights include the eligibility and nonresponse adjustments.
    """
    from migsurvey.diagnostics import weighting_diagnostics
    from migsurvey.report import WeightStep
    from migsurvey.spec import covered_universe
    from weighting import Weights

    disp = spec.get("interviews", {}).get("disposition", "disposition")
    households = _with_key(households)
    persons = _with_key(persons)
    # an EA with no interviewed person stays a PSU of the design (rows of weight 0)
    households, persons = keep_empty_eas(households, persons, spec, key=HH_KEY)
    steps: list[WeightStep] = []
    hw = Weights(households, "base_weight")
    resp = households["responded"].to_numpy(bool)
    steps.append(WeightStep("base", hw.values[resp], "1 / (π_EA · π_household|EA), respondents"))
    pw = None
    person_frame = None
    integrated = False
    for i, step in enumerate(spec["weighting"]):
        (name, opt), = step.items()
        if name in ("eligibility", "nonresponse"):
            if pw is not None:
                raise SurveyError(f"{name} must come before person-level steps",
                                  argument=f"weighting[{i}]",
                                  expected="eligibility and nonresponse first", found=name)
            cells = opt["cells"] or None
            try:
                if name == "eligibility":
                    hw = hw.adjust_eligibility(disp, by=cells)
                    desc = ("unknown eligibility (AAPOR 3.x) spread over known eligibility"
                            + (f" within {' × '.join(cells)}" if cells else ""))
                else:
                    hw = hw.adjust_nonresponse(disp, by=cells,
                                               min_respondents=opt["min_respondents"])
                    desc = f"weighting classes {' × '.join(cells or ['all'])}"
            except SurveyError as exc:
                raise _step_error(spec, i, name, exc) from None
            rec = hw.history[-1]
            steps.append(WeightStep(name, hw.values[resp],
                                    desc + (f"; {'; '.join(rec.notes)}" if rec.notes else "")))
            continue
        if pw is None:
            person_frame, pw = _person_weights(hw, households, persons, spec)
        before = pw.values
        try:
            step_census = census
            if opt.get("population") == "covered":
                from migsurvey.coverage import covered_census

                step_census = covered_census(census, spec, f"weighting[{i}].{name}.population")
            pw, desc, integrated = _person_step(pw, name, opt, i, step_census, integrated)
            if opt.get("population") == "covered":
                desc += "; margins of the covered population (" + covered_universe(spec) + ")"

        except SurveyError as exc:
            raise _step_error(spec, i, name, exc) from None
        rec = pw.history[-1]
        margins = None
        if rec.targets is not None:
            margins = rec.targets.rename(columns={"margin": "variable"})
        steps.append(WeightStep(name, pw.values, desc, g=pw.values / np.where(before > 0, before, 1),
                                margins=margins, convergence=list(rec.trace) or None))
    if pw is None:
        person_frame, pw = _person_weights(hw, households, persons, spec)
    persons_out = person_frame.assign(weight=pw.values)
    # the responding households, and the rows of weight 0 that keep the EAs without any in
    # the household designs (MI 1.4)
    keep = resp | (households[EMPTY_EA].fillna(False).to_numpy(bool)
                   if EMPTY_EA in households.columns else False)
    hh_resp = households.loc[keep].copy()
    if integrated:
        first = persons_out.drop_duplicates(HH_KEY).set_index(HH_KEY)["weight"]
        hh_resp["weight"] = first.reindex(hh_resp[HH_KEY]).to_numpy()
    else:
        hh_resp["weight"] = hw.values[keep]
    hh_resp = hh_resp.reset_index(drop=True)
    diag = weighting_diagnostics(persons_out, pw, steps, spec)
    return Weighted(persons_out, hh_resp, steps, pw, hw, diag)


def _person_step(pw: Any, name: str, opt: dict, i: int, census: Any, integrated: bool):
    """One person-level step of the chain: (new Weights, description, integrated)."""
    if name == "rake":
        pw = pw.rake(_matched_targets(pw, census, opt["margins"], i, name), tol=opt["tol"],
                     max_iter=opt["max_iter"])
        desc = "raking to census counts of " + _margins_text(opt["margins"])
    elif name == "calibrate":
        kw: dict[str, Any] = {"method": opt["method"]}
        if opt["bounds"]:
            kw["bounds"] = tuple(opt["bounds"])
        if opt.get("cluster"):
            if opt["cluster"] not in _CLUSTER_NAMES:
                raise SurveyError("integrated calibration clusters households",
                                  argument=f"weighting[{i}].calibrate.cluster",
                                  expected="household", found=repr(opt["cluster"]))
            kw["cluster"] = HH_KEY
            integrated = True
        pw = pw.calibrate(_matched_targets(pw, census, opt["margins"], i, name), **kw)
        desc = (f"{opt['method']} calibration to census counts of "
                + _margins_text(opt["margins"])
                + ("; one weight per household (integrated)" if integrated else ""))
    else:
        kw = {k: v for k, v in opt.items() if v is not None}
        pw = pw.trim(**kw)
        desc = "trimming " + ", ".join(f"{k}={v:g}" for k, v in kw.items())
    return pw, desc, integrated


def _step_error(spec: dict, i: int, name: str, exc: SurveyError) -> SurveyError:
    """The weighting layer's refusal, pointed at the step of the specification."""
    from migsurvey.spec import spec_error

    where = f"weighting[{i}].{name}"
    inner = exc.argument if exc.argument and not exc.argument.startswith(where) else None
    return spec_error(spec, where, exc.message + (f" ({inner})" if inner else ""),
                      exc.expected or "", exc.found or "", exc.hint, key=True)


def _margins_text(margins: list) -> str:
    return ", ".join(m if isinstance(m, str) else " × ".join(m) for m in margins)


def _with_key(df: pd.DataFrame) -> pd.DataFrame:
    if HH_KEY in df.columns:
        return df
    return df.assign(**{HH_KEY: df["household_id"].to_numpy()})


def _person_weights(hw: Any, households: pd.DataFrame, persons: pd.DataFrame, spec: dict):
    """The person rows with their household's weight, and the chain continued on them."""
    hh_w = pd.Series(hw.values, index=households[HH_KEY].to_numpy())
    w = hh_w.reindex(persons[HH_KEY].to_numpy()).to_numpy()
    if np.isnan(w).any():
        raise SurveyError("persons whose household has no weight", argument="persons",
                          expected="every person in a selected household",
                          found=f"{int(np.isnan(w).sum())} persons")
    frame = persons.assign(household_weight=w)
    return frame, hw.expand(frame, household=HH_KEY, psu=spec["frame"]["psu"])


# --------------------------------------------------------------------------------------
# estimation


def derive_persons(persons: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Add the migration concepts (:func:`questionnaires.derive`) and the indicator columns.

    Unknown stays unknown: a derived value that cannot be decided stays missing, and an
    indicator that reads it is refused by :func:`estimate_indicators` with the missing question
    named. :func:`estimation.indicators.indicator_variables` adds ``foreign_citizen_start``
    (foreign citizens at the start of the year, the MI 1.2 denominator) and ``age_group``
    (``frame.age_breaks``) where their inputs are present.
    """
    from estimation.indicators.variables import indicator_variables
    from questionnaires import derive

    ref = spec.get("reference_date") or f"{spec['reference_year']}-12-31"
    d = derive(persons, country=spec["country"], reference_date=ref)
    age = "age" if "age" in d.columns else None
    # unknown stays unknown (<NA>): an indicator that needs an unknown value is refused
    return indicator_variables(d, age=age, age_breaks=spec["frame"]["age_breaks"])


#: Indicator variable → column of the pipeline's data (see :func:`derive_persons`).
INDICATOR_VARIABLES: dict[str, str] = {}
HOUSEHOLD_INDICATORS = ("MI1.4",)


def household_frame(households: pd.DataFrame, emigrants: pd.DataFrame | None,
                    spec: dict) -> pd.DataFrame:
    """Emigrant-level records of the responding households, the data of MI 1.4.

    The emigrant roster (:func:`questionnaires.derive_emigrants`) gives one record per
    emigrant with the reporting household's design columns and weight; households without
    an emigrant keep one record outside the universe
    (:func:`estimation.indicators.emigrant_records`). Households and roster are matched on
    ``hh_key`` (EA and household number, :mod:`migsurvey.inputs`). Without a roster the
    households are returned as they are, and MI 1.4 is refused for lack of its variables,
    never 0.
    """
    from estimation.indicators import emigrant_records
    from questionnaires import derive_emigrants

    households = _with_key(households)
    if emigrants is None:
        return households.copy()
    ref = spec.get("reference_date") or f"{spec['reference_year']}-12-31"
    if HH_KEY not in emigrants.columns and "household_id" not in emigrants.columns:
        raise SurveyError("the emigrant roster does not name its households",
                          argument="interviews.emigrants",
                          expected="the EA and household columns of each emigrant",
                          found=", ".join(map(str, emigrants.columns[:10])) or "no columns")
    em = _with_key(emigrants)
    roster = derive_emigrants(em.drop(columns=["ea_id", "household_id"], errors="ignore"),
                              country=spec["country"], reference_date=ref)
    return emigrant_records(households, roster, household=HH_KEY,
                            age_breaks=spec["frame"]["age_breaks"])


def indicator_inputs(code: str) -> tuple[str, ...]:
    """The data columns indicator ``code`` reads (numerators, denominators, universes)."""
    from estimation.indicators import REGISTRY

    cols: list[str] = []
    for m in REGISTRY[code].measures:
        cols += [c for c in m.variables if c not in cols]
    return tuple(cols)


def check_indicator_inputs(code: str, data: pd.DataFrame, *, unit: str = "person",
                           columns: dict[str, str] | None = None) -> None:
    """Refuse indicator ``code`` before anything is estimated when a variable it reads is
    absent or unknown, naming the question that would settle it
    (:func:`estimation.indicators.variables.questions_for`); unknown is never published as
    "no". Unknown values are traced to the questions left unanswered in their rows (named with
    the file's column, ``columns`` being the standard name → file column mapping) and to the
    questions absent from the data."""
    from estimation.indicators.variables import questions_for

    for col in indicator_inputs(code):
        absent, names = questions_for(col, data)
        also = [q for q in names if q not in absent and q not in data.columns
                and col not in data.columns]
        extra = (" (or declare interviews.usual_residents: true when the persons file lists "
                 "only usual residents)" if col == "usual_resident" else "")
        if col not in data.columns:
            missing = absent or [col]
            raise SurveyError(
                f"{code} cannot be estimated: the interviews lack the question"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                argument="estimation.indicators",
                expected=f"the answer column(s) {', '.join(missing)} ({unit} file)",
                found=f"no {col!r} could be derived",
                hint=f"map the question with columns: {{{missing[0]}: YOUR_COLUMN}}, or remove "
                     f"{code} from estimation.indicators{extra}"
                     + (f"; without {', '.join(also)} some values would stay unknown"
                        if also else ""))
        missing = pd.isna(data[col]).to_numpy()
        unknown = int(missing.sum())
        if unknown:
            units = f"{unknown:,} {unit}s"
            if HH_KEY in data.columns and data[HH_KEY].duplicated().any():
                homes = data.loc[missing, HH_KEY].nunique()
                units = (f"{unknown:,} record{'s' if unknown > 1 else ''} of "
                         f"{homes:,} household{'s' if homes > 1 else ''}")
            blank, rest = unanswered(data, names, missing)
            plural = len(absent) > 1
            because = []
            if blank:
                qs = [q for q, _n in blank]
                because.append(
                    f"the answer{'s' if len(qs) > 1 else ''} to "
                    + ", ".join(f"{q} ({_column_of(q, columns)}{n:,} "
                                f"row{'s' if n > 1 else ''})" for q, n in blank)
                    + f" {'are' if len(qs) > 1 else 'is'} missing, 'dk' or 'XXX', e.g. "
                    + row_examples(data, missing & _unanswered_mask(data, qs)))
            if rest.any() and absent:
                because.append(f"{'for the others, ' if blank else ''}the question"
                               f"{'s' if plural else ''} {', '.join(absent)} "
                               f"{'are' if plural else 'is'} not in the interviews")
            elif rest.any():
                because.append(f"its answers are missing, 'dk' or 'XXX', e.g. "
                               f"{row_examples(data, rest)}")
            hints = []
            if blank:
                hints.append(f"follow up or impute the missing answers to "
                             f"{', '.join(q for q, _n in blank)}")
            if rest.any() and absent:
                hints.append(f"ask {absent[0]} (and map it with columns:)")
            if not hints:
                hints.append("follow up or impute the unknown answers")
            raise SurveyError(
                f"{code} cannot be estimated: {col} is unknown for {units} because "
                f"{'; '.join(because)}", argument="estimation.indicators",
                expected=f"{col} known for every {unit}", found=f"{unknown:,} unknown values",
                hint=f"{', or '.join(hints)}, or remove {code} from "
                     f"estimation.indicators{extra}; unknown is never counted as no")


def _column_of(question: str, columns: dict[str, str] | None) -> str:
    col = (columns or {}).get(question)
    return f"column {col}, " if col and col != question else ""


#: Answers that mean "not known" in the standard codes (besides a missing value).
NOT_KNOWN = ("dk", "XXX")


def _unanswered_mask(data: pd.DataFrame, questions: list[str]) -> np.ndarray:
    """Rows where any of ``questions`` (columns of ``data``) is missing, 'dk' or 'XXX'."""
    out = np.zeros(len(data), dtype=bool)
    for q in questions:
        values = data[q]
        out |= pd.isna(values).to_numpy() | values.astype(object).isin(NOT_KNOWN).to_numpy()
    return out


def unanswered(data: pd.DataFrame, questions: list[str], rows: np.ndarray
               ) -> tuple[list[tuple[str, int]], np.ndarray]:
    """Which of the ``questions`` in the data are unanswered in ``rows`` (a mask), and the
    rows where all of them are answered.

    Returns ``([(question, rows without an answer among rows), ...], rest)``: the questions
    with missing, 'dk' or 'XXX' answers in ``rows``, the most often unanswered first, and the
    mask of ``rows`` where every question present is answered (their unknown value comes from
    a question absent from the data).
    """
    counts = []
    any_blank = np.zeros(len(data), dtype=bool)
    for q in questions:
        if q not in data.columns:
            continue
        blank = rows & _unanswered_mask(data, [q])
        if blank.any():
            counts.append((q, int(blank.sum())))
            any_blank |= blank
    counts.sort(key=lambda qn: -qn[1])
    return counts, rows & ~any_blank


def row_examples(data: pd.DataFrame, rows: np.ndarray, k: int = 3) -> str:
    """Up to ``k`` of the ``rows`` (a mask) as the office finds them: EA/household and the
    person's line when the data have one."""
    idx = np.flatnonzero(rows)[:k]
    line = next((c for c in data.columns if str(c).lower() == "line"), None)
    parts = []
    for i in idx:
        key = str(data[HH_KEY].iloc[i]) if HH_KEY in data.columns else f"row {i + 1}"
        parts.append(f"EA/household {key}" + (f" line {data[line].iloc[i]}" if line else ""))
    more = int(rows.sum()) - len(idx)
    return ", ".join(parts) + (f" … ({more:,} more)" if more > 0 else "")


def _at_indicator(spec: dict, code: str, check: Callable, *args, **kwargs) -> None:
    """Run ``check``; its refusal of ``code`` points at the code in
    ``estimation.indicators`` (with its line in the specification)."""
    from migsurvey.spec import spec_error

    try:
        check(*args, **kwargs)
    except SurveyError as exc:
        i = spec["estimation"]["indicators"].index(code)
        raise spec_error(spec, f"estimation.indicators[{i}]", exc.message, exc.expected or "",
                         exc.found or "", exc.hint) from None


def indicator_designs(persons: pd.DataFrame, households: pd.DataFrame | None, weights: Any,
                      spec: dict, *, selected: pd.DataFrame | None = None,
                      frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """The person and household designs of the indicators, and which design each is.

    With the selected households' screening description (``screen``, ``pi1``, ``pi2``) the
    designs are the two-phase design of the screening
    (:func:`migsurvey.twophase.screening_design`, the full Horvitz–Thompson two-phase variance,
    R ``twophase`` ``method="full"``), carrying the weighting chain, with phase 1 as
    :func:`migsurvey.twophase.phase1_choice` declares it: EAs by ``srs`` or ``systematic`` with
    their sampling fractions; EAs by Sampford's (or another exact) πps method without
    replacement with their exact joint inclusion probabilities, recomputed from the EA
    ``frame`` (Särndal, Swensson & Wretman 1992, result 9.3.1); EAs by Brewer's method with
    Brewer's approximation. Otherwise — systematic PPS, whose joint probabilities vanish for
    some pairs, or no frame — the ultimate-cluster design ``SurveyDesign(ids=EA,
    strata=stratum)`` is used: its variance, computed from EA totals, includes every later
    selection within the EAs (Hansen, Hurwitz & Madow 1953) and treats the EAs as drawn with
    replacement. The two-phase design's degrees of freedom are those of phase 1 (EAs minus
    strata in each domain), on which its variance mostly rests, as the ultimate-cluster
    design's are. An EA selected with certainty is there a stratum of its own with its
    households as PSUs (:func:`migsurvey.design_units.design_units`). Returns ``{unit: (design,
    kind, note, phase1)}``, ``kind`` ``"two-phase"`` or ``"ultimate cluster"``, ``note`` the
    design units' note, ``phase1`` the sentence saying how phase 1 entered the variance.
    """
    from estimation import SurveyDesign
    from migsurvey.twophase import phase1_choice, screening_design

    est = spec["estimation"]
    choice, phase1 = phase1_choice(spec, selected, frame)
    sel = _with_key(selected) if choice is not None else None
    out: dict[str, Any] = {}
    for unit, data, w in (("person", persons, weights), ("household", households, "weight")):
        if data is None:
            continue
        if choice is not None:
            out[unit] = (screening_design(_with_key(data), _with_empty_eas(sel, data, spec), w,
                                          spec, key=HH_KEY, degf="phase1", **choice),
                         "two-phase", "", phase1)
        else:
            units, note = design_units(data, spec)  # certainty EAs: households are the PSUs
            out[unit] = (SurveyDesign(units, **design_keywords(units), weights=w,
                                      lonely_psu=est["lonely_psu"]), "ultimate cluster", note,
                         "EAs with replacement (ultimate clusters): " + phase1)
    return out


def _with_empty_eas(selected: pd.DataFrame, data: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The selected households of the two-phase design with the households standing for EAs
    without interviewed persons (:mod:`migsurvey.empty_eas`): each is a class of its own
    (``screen`` ``"_empty"``) taken with certainty at phase 2 (``pi2`` = 1) in its EA, so it
    adds a unit of zero totals and no variance; the EA itself is in phase 1 through its listed
    households."""
    from migsurvey.empty_eas import EMPTY_EA

    if EMPTY_EA not in data.columns:
        return selected
    keys = pd.unique(data.loc[data[EMPTY_EA].astype(bool).to_numpy(), HH_KEY])
    keys = [k for k in keys if k not in set(selected[HH_KEY])]
    if not keys:
        return selected
    psu = spec["frame"]["psu"]
    rows = data.loc[data[HH_KEY].isin(keys)].drop_duplicates(HH_KEY)
    first = selected.drop_duplicates(psu).set_index(psu)
    add = pd.DataFrame({HH_KEY: rows[HH_KEY].to_numpy(), psu: rows[psu].to_numpy()})
    for c in ("stratum", "pi1"):
        add[c] = add[psu].map(first[c]).to_numpy()
    # the EA's other columns of the selection (its region ...) from its own rows, so that no
    # column of the selection gains missing values or changes type through these rows
    for c in selected.columns.difference([*add.columns, "screen", "pi2"]).intersection(rows.columns):
        add[c] = rows[c].to_numpy()
    add = add.assign(screen="_empty", pi2=1.0)
    return pd.concat([selected, add], ignore_index=True)


def estimate_indicators(persons: pd.DataFrame, households: pd.DataFrame | None, weights: Any,
                        spec: dict, *, replicate_design: Any = None,
                        selected: pd.DataFrame | None = None,
                        frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Indicator tables with SEs, CIs, quality flags and suppression, for every ``by``.

    Person indicators use the person design of :func:`indicator_designs` with the weighting
    chain (``SurveyDesign(persons, ids=<frame.psu>, strata="stratum", weights=<Weights>)``, or
    the two-phase design of the screening when ``selected`` describes it and the EAs were
    drawn with equal probabilities), so the linearised variance accounts for nonresponse and
    calibration; household indicators (MI 1.4) a household design with the household weights.
    An EA selected with certainty is a stratum of its own with its households as PSUs
    (:func:`migsurvey.design_units.design_units`, recorded in each table's
    ``metadata["design_units"]``). Intervals are the bounded ones of ``indicator_table`` (log
    for counts, logit for shares) with Student-t critical values on each domain's design
    degrees of freedom (Korn & Graubard 1999, §5.2; R ``svyciprop`` uses
    ``df = degf(design)``). ``estimation.variance``
    ``JKn`` or ``bootstrap`` re-weights every replicate through the recorded chain. All
    disaggregations of ``estimation.by`` go into one
    :func:`estimation.indicators.indicator_table` call per unit (margins included, each cell
    once), so that disclosure control protects the groupings together. An indicator whose
    inputs are absent or unknown is refused (:func:`check_indicator_inputs`).
    """
    from estimation.indicators import indicator_table

    est = spec["estimation"]
    codes = est["indicators"]
    person_codes = [c for c in codes if c not in HOUSEHOLD_INDICATORS]
    hh_codes = [c for c in codes if c in HOUSEHOLD_INDICATORS]
    file_columns = ColumnMapping.from_spec(spec, "interviews").columns
    for c in person_codes:
        _at_indicator(spec, c, check_indicator_inputs, c, persons, columns=file_columns)
    if hh_codes:
        if households is None:
            raise SurveyError(f"{hh_codes[0]} needs the households file",
                              argument="estimation.indicators",
                              expected="weighted households (--households)", found="none")
        for c in hh_codes:
            _at_indicator(spec, c, check_indicator_inputs, c, households, unit="household")
    designs = {}
    if est["variance"] != "taylor":
        selected = None  # replicate weights are built on the ultimate-cluster design
    built = indicator_designs(persons, households if hh_codes else None, weights, spec,
                              selected=selected, frame=frame) if (person_codes and replicate_design is None
                                                     ) or hh_codes else {}
    kinds = {u: k for u, (_d, k, _n, _p) in built.items()}
    notes = {u: n for u, (_d, _k, n, _p) in built.items()}
    phase1 = {u: p for u, (_d, _k, _n, p) in built.items()}
    if person_codes:
        if replicate_design is not None:
            notes["person"] = "replicate weights as given"
        d = replicate_design if replicate_design is not None else built["person"][0]
        designs["person"] = (d, person_codes)
        if replicate_design is not None:
            kinds["person"] = "replicate weights"
    if hh_codes:
        designs["household"] = (built["household"][0], hh_codes)
    if est["variance"] != "taylor":
        # replicate weights: JKn (delete-one-EA jackknife within strata, Wolter 2007 ch. 4)
        # or the Rao-Wu rescaling bootstrap; with a Weights chain every replicate is
        # re-weighted through the recorded steps
        from migsurvey.replication import replicate

        designs = {u: (d if (u == "person" and replicate_design is not None)
                       else replicate(d, spec), c)
                   for u, (d, c) in designs.items()}
    if not spec["quality"].get("disclosure", True):
        warnings.warn("quality.disclosure is false: indicator tables are not protected by cell "
                      "suppression and may disclose confidential cells", SurveyWarning,
                      stacklevel=2)
    frames, objects = [], {}
    for unit, (design, unit_codes) in designs.items():
        have = design_columns(design)
        groupings = []
        for i, grouping in enumerate(est["by"]):
            if any(c not in have for c in grouping):
                if unit == "household":
                    continue  # person characteristics do not classify households
                from migsurvey.spec import spec_error

                raise spec_error(spec, f"estimation.by[{i}]",
                                 "disaggregation variable not in the data",
                                 "columns of the persons (after the columns: mapping) or "
                                 "derived variables",
                                 ", ".join(c for c in grouping if c not in have))
            groupings.append(list(grouping))
        # one call for all groupings: they are published from the same data, so their cells
        # are suppressed together (a cell hidden in one table is not recoverable from another)
        kw = {} if spec["quality"].get("disclosure", True) else {"suppression": None}
        try:
            t = indicator_table(design, unit_codes, by=groupings or [[]], margins=True,
                                variables=INDICATOR_VARIABLES, quality=quality_rule(spec),
                                level=est["level"], df="design",
                                domains=design_domains(design, groupings, spec), **kw)
        except SurveyError as exc:
            if exc.argument != "denominator":
                raise
            raise _empty_denominator(spec, unit_codes, exc) from None
        t = _covered_only(t, spec)
        if unit == "person":
            from migsurvey.diagnostics import caution_for_calibration_cells

            t = caution_for_calibration_cells(t, persons, spec)
        t.metadata["design"] = (kinds.get(unit, "ultimate cluster") if est["variance"] == "taylor"
                                else f"{est['variance']} replicates")
        t.metadata["design_units"] = notes.get(unit, "")
        if est["variance"] == "taylor" and unit in phase1:
            t.metadata["phase1_variance"] = phase1[unit]
        objects[(unit, tuple(tuple(g) for g in groupings))] = t
        frames.append(t.table.assign(unit=unit))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    dims = list(dict.fromkeys(c for g in est["by"] for c in g))
    for c in dims:
        if c in table.columns:
            table[c] = table[c].astype(object).where(table[c].notna(), TOTAL)
    if len(table):
        # a margin of one grouping is a domain of another ([sex] and [sex, age_group]): once
        key = ["unit", "indicator", "measure", *[c for c in dims if c in table.columns]]
        table = table.drop_duplicates(key, keep="first").reset_index(drop=True)
    return table, objects


TOTAL = "_T"


def _covered_only(t: Any, spec: dict) -> Any:
    """The measures of an indicator table that the design's coverage supports, and its universe.

    When ``selection.household.take`` gives a screening class 0, its households have a zero
    inclusion probability: a Horvitz–Thompson total ``Σ y_k / π_k`` over the sample estimates the
    total of ``y`` over the covered households only (Särndal, Swensson & Wretman 1992, §2.8),
    and a share or rate whose denominator counts every person cannot be estimated. Counts are
    kept, with the universe they describe in ``metadata["universe"]``; the shares and rates are
    withheld with a :class:`surveycore.SurveyWarning` naming them.
    """
    from migsurvey.spec import covered_universe, uncovered_classes

    t.metadata["universe"] = covered_universe(spec)
    if not uncovered_classes(spec):
        return t
    keep = t.table["kind"].eq("total").to_numpy()
    if keep.all():
        return t
    gone = t.table.loc[~keep, ["indicator", "measure"]].drop_duplicates()
    warnings.warn("the sample covers only " + t.metadata["universe"] + ": shares and rates "
                  "whose denominators count the households left out are not estimated ("
                  + ", ".join(f"{a} {b}" for a, b in gone.itertuples(index=False)) + ")",
                  SurveyWarning, stacklevel=3)
    return dataclasses.replace(t, table=t.table.loc[keep].reset_index(drop=True))


def _empty_denominator(spec: dict, codes: list[str], exc: SurveyError) -> SurveyError:
    """A rate whose denominator has no sample unit in a domain, pointed at the
    disaggregation of ``estimation.by`` (or at the indicator) that asked for the domain."""
    from estimation.indicators import REGISTRY
    from migsurvey.spec import spec_error

    found = exc.found or ""
    var = found.split(" in ", 1)[0]
    which = [c for c in codes if any(m.denominator == var for m in REGISTRY[c].measures)]
    by = spec["estimation"]["by"]
    domain = next((i for i, g in enumerate(by) if g and all(f"{c}=" in found for c in g)), None)
    if domain is not None:
        path = f"estimation.by[{domain}]"
    elif which:
        path = f"estimation.indicators[{spec['estimation']['indicators'].index(which[0])}]"
    else:
        path = "estimation.indicators"
    return spec_error(
        spec, path,
        f"{', '.join(which) or 'an indicator'} cannot be estimated in a domain: the sample has "
        f"no unit of its denominator {var} there ({exc.message})",
        exc.expected or "", found,
        "leave the disaggregation out of estimation.by, or the indicator out of "
        "estimation.indicators; a whole group lost to nonresponse (check the fieldwork) "
        "leaves its rate unknown, never 0")


def quality_rule(spec: dict) -> Any:
    """The quality rule of ``spec["quality"]``: its preset, with the limit on the degrees of
    freedom of ``quality.caution_df`` when given."""
    from estimation.indicators.quality import get_rule

    q = spec["quality"]
    rule = get_rule(q["preset"])
    return rule if q.get("caution_df") is None else rule.with_df_limit(q["caution_df"])


def selection_frame(census: Any, spec: dict) -> pd.DataFrame | None:
    """The EA frame the EAs were selected from (:func:`build_frame` of the census), whose
    sizes give the joint inclusion probabilities of a πps selection; None without a census or
    when the selection method does not need it."""
    from migsurvey.twophase import EXACT_JOINT

    if spec["selection"]["psu"]["method"] not in EXACT_JOINT:
        return None
    if census is None or getattr(census, "eas", None) is None:
        return None
    return build_frame(census.eas, spec)


def design_domains(design: Any, groupings: list[list[str]], spec: dict) -> dict:
    """The levels of the disaggregation columns that describe EAs (``region``, ``stratum``,
    ``strata.by`` …: one value per EA), over every row of the design, those of weight 0 that
    keep an EA without interviewed persons in it included (:mod:`migsurvey.empty_eas`).

    Each is a domain of the design whether or not a sampled person of an indicator's universe
    falls in it: a region whose every selected household was out of scope has a total of 0
    and a share that cannot be estimated (``domains=`` of
    :func:`estimation.indicators.indicator_table`), never a missing row."""
    from migsurvey.interview_design import EA_COLUMNS

    data = getattr(design, "data", None)
    if data is None:
        return {}
    ea_level = {*EA_COLUMNS, *spec["strata"]["by"]}
    cols = {c for g in groupings for c in g if c in ea_level and c in data.columns}
    return {c: list(pd.unique(data[c].dropna())) for c in sorted(cols)}


def design_columns(design: Any) -> set[str]:
    data = getattr(design, "data", None)
    return set(data.columns) if data is not None else set()


# --------------------------------------------------------------------------------------
# selection (sampling layer)


def allocate_sample(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """PSUs per stratum by the allocation of ``spec["sample"]`` (sampling layer)."""
    return _sampling_allocate(frame, spec)


def select_sample(frame: pd.DataFrame, allocation: pd.DataFrame, census: Census, spec: dict,
                  seed: int | np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two-stage selection with screening (sampling layer).

    Stage 1 selects ``allocation.psus`` EAs per stratum with probability proportional to
    ``selection.psu.size``; the selected EAs are listed (their census households) and each
    household is screened into ``"migrant"``, ``"other"`` or ``"unknown"`` by
    ``selection.household.screening`` (:func:`screening_classes`); stage 2 selects
    ``selection.household.take[class]`` households per EA and class (:func:`screening_take`). Returns the selected EAs (with ``pi``) and the selected households with ``pi1``,
    ``pi2``, ``base_weight = 1 / (pi1 · pi2)``, ``stratum`` and ``screen``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return _sampling_select(frame, allocation, census, spec, rng)


def _sampling_allocate(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    from sampling import allocate

    fr, sm = spec["frame"], spec["sample"]
    g = frame.groupby("stratum", sort=True)
    n_eas = g.size()
    target = g[fr["prevalence"]].sum().astype(float)
    prev = target / g[fr["population"]].sum().clip(lower=1)
    if sm["psus"] > len(frame):
        raise SurveyError("more PSUs requested than the frame has", argument="sample.psus",
                          expected=f"at most {len(frame)} (EAs in the frame)",
                          found=str(sm["psus"]),
                          hint="reduce sample.psus (--psus) or use a larger census")
    kw: dict[str, Any] = {"minimum": min(sm["min_per_stratum"], int(n_eas.min()))}
    if sm["allocation"] == "power":
        kw.update(measure=target.clip(lower=1.0), power=sm["power"])
    elif sm["allocation"] == "neyman":
        kw.update(sd=np.sqrt(prev * (1 - prev)).clip(lower=1e-6))
    if sm.get("min_per_domain"):
        kw.update(_domain_minimum(frame, sm["min_per_domain"]))
    try:
        alloc = allocate(n_eas, sm["psus"], sm["allocation"], **kw)
    except SurveyError as exc:
        if exc.argument != "domain_minimum":
            raise
        raise SurveyError(exc.message, argument="sample.min_per_domain", expected=exc.expected,
                          found=exc.found, hint="lower sample.min_per_domain.psus (--min-per-domain) "
                          "or raise sample.psus (--psus)") from None
    tab = allocation_table(frame, alloc.sizes, spec).assign(allocation_deff=alloc.deff)
    if "domain" in alloc.table.columns:
        tab.insert(1, "domain", alloc.table["domain"].reindex(tab["stratum"]).to_numpy())
    return tab


def _domain_minimum(frame: pd.DataFrame, rule: dict) -> dict:
    """``domain`` (stratum → domain label) and ``domain_minimum`` for :func:`sampling.allocate`."""
    by = rule["by"]
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise SurveyError("a column of sample.min_per_domain.by is not in the frame",
                          argument="sample.min_per_domain.by", expected="frame columns",
                          found=repr(missing))
    g = frame.groupby("stratum", sort=True)[by]
    if (g.nunique(dropna=False) > 1).any(axis=None):
        raise SurveyError("a stratum spans several domains of sample.min_per_domain",
                          argument="sample.min_per_domain.by",
                          expected="domains made of whole strata (columns of strata.by)",
                          found=repr(by))
    labels = joined_labels(g.first(), list(by), ":")
    return {"domain": labels, "domain_minimum": int(rule["psus"])}


def screening_classes(flag: pd.Series) -> np.ndarray:
    """The screening class of each listed household: ``"migrant"`` where the screening column
    is true, ``"other"`` where it is false, ``"unknown"`` where it is missing (a household
    with a member of unknown country of birth and none known born abroad): unknown is a class
    of its own, never "other"."""
    known = flag.notna().to_numpy()
    yes = np.zeros(len(flag), dtype=bool)
    yes[known] = flag[known].astype(bool).to_numpy()
    return np.where(~known, "unknown", np.where(yes, "migrant", "other"))


def screening_take(take: dict) -> dict:
    """``selection.household.take`` with every class: ``unknown`` takes as many households
    as ``migrant`` unless it is given."""
    return {"unknown": take["migrant"], **take}


def _sampling_select(frame, allocation, census, spec, rng):
    from sampling import select

    fr, sel = spec["frame"], spec["selection"]
    n_h = allocation.set_index("stratum")["psus"]
    size = sel["psu"]["size"] if sel["psu"]["method"] not in ("srs", "systematic") else None
    s1 = select(frame, n_h, method=sel["psu"]["method"], size=size, strata="stratum",
                id=fr["psu"], seed=rng)
    psus = s1.units.rename(columns={"pi": "pi1"})[[fr["psu"], "stratum", "pi1"]]
    # listing and screening of the selected EAs
    listing = _with_key(census.households_in(psus[fr["psu"]]))
    hsel = sel["household"]
    screen_col = hsel["screening"]
    if screen_col not in listing.columns:
        raise SurveyError("screening column not in the listing", argument="selection.household."
                          "screening", expected="a household column", found=screen_col)
    listing["screen"] = screening_classes(listing[screen_col])
    take = screening_take(hsel["take"])
    n_unknown = int((listing["screen"] == "unknown").sum())
    if n_unknown:
        warnings.warn(f"{n_unknown:,} listed households have an unknown {screen_col} (a member "
                      "of unknown status and none known to be a migrant): they form the "
                      f"screening class 'unknown', {take['unknown']} selected per EA "
                      "(selection.household.take.unknown)", SurveyWarning, stacklevel=3)
    listing = listing.loc[listing["screen"].map(take).to_numpy() > 0]
    cells = listing.groupby([fr["psu"], "screen"]).size()
    wanted = np.minimum(cells.index.get_level_values("screen").map(take).to_numpy(),
                        cells.to_numpy())
    n2 = pd.Series(wanted, index=cells.index)
    s2 = select(listing, n2, method=hsel["method"], strata=[fr["psu"], "screen"],
                id=HH_KEY, seed=rng)
    units = s2.units.rename(columns={"pi": "pi2"}).drop(
        columns=[c for c in ("pi_1", "fpc_1", "weight", "stratum_1") if c in s2.units.columns])
    units = units.merge(psus, on=fr["psu"], how="left", validate="many_to_one")
    units["base_weight"] = 1.0 / (units["pi1"] * units["pi2"])
    return psus.reset_index(drop=True), units.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the whole run


def _stopwatch(timings: dict, key: str):
    class _T:
        def __enter__(self):
            self.t = time.perf_counter()

        def __exit__(self, *exc):
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - self.t

    return _T()


def run_survey(spec: dict, *, census: Census | None = None, seed: int | None = None,
               progress: Progress | None = None, estimate: bool = True) -> SurveyRun:
    """Run the whole pipeline once: frame, allocation, selection, fieldwork, weights, estimates.

    Parameters
    ----------
    spec : dict
        A checked specification (:func:`migsurvey.spec.load_spec`).
    census : Census, optional
        Reuse a census already in memory (the simulation does).
    seed : int, optional
        Seed of selection and fieldwork; default ``spec["seed"]``.
    progress : callable, optional
        ``progress(stage, done, total)``.
    """
    stages = ("census", "frame", "selection", "fieldwork", "weighting", "estimation")
    tick = (lambda i: progress(stages[i], i + 1, len(stages))) if progress else (lambda i: None)
    run = SurveyRun(spec=spec)
    t = run.timings
    with _stopwatch(t, "census"):
        run.census = census if census is not None else load_census(spec)
    tick(0)
    with _stopwatch(t, "frame"):
        run.frame = build_frame(run.census.eas, spec)
        run.allocation = allocate_sample(run.frame, spec)
    tick(1)
    rng = np.random.default_rng(spec["seed"] if seed is None else seed)
    with _stopwatch(t, "selection"):
        run.psus, selected = select_sample(run.frame, run.allocation, run.census, spec, rng)
    tick(2)
    with _stopwatch(t, "fieldwork"):
        psu_ids = run.psus[spec["frame"]["psu"]]
        emigrants_in = getattr(run.census, "emigrants_in", None)
        fw: Fieldwork = run_fieldwork(selected, run.census.persons_in(psu_ids),
                                      response=spec["fieldwork"]["response"], seed=rng,
                                      emigrants=emigrants_in(psu_ids) if emigrants_in else None)
        run.households = fw.households
        persons = derive_persons(fw.persons, spec)
    tick(3)
    with _stopwatch(t, "weighting"):
        wt = weight_sample(fw.households, persons, run.census, spec)
        run.persons, run.weight_steps, run.weights = wt.persons, wt.steps, wt.weights
        run.diagnostics = wt.diagnostics
        run.household_sample = household_frame(wt.households, fw.emigrants, spec)
    tick(4)
    if estimate:
        with _stopwatch(t, "estimation"):
            run.indicators, run.indicator_table = estimate_indicators(
                run.persons, run.household_sample, run.weights, spec,
                selected=run.households, frame=run.frame)
    tick(5)
    return run


# --------------------------------------------------------------------------------------
# real fieldwork


def weight_interviews(spec: dict, households: Any, persons: Any, *,
                      census: Any = None, emigrants: Any = None, columns: Any = None,
                      interview_columns: Any = None, selection: Any = None
                      ) -> tuple[Any, Weighted]:
    """Weight the office's interview files with the chain of the specification.

    Parameters
    ----------
    spec : dict
        A checked specification.
    households, persons : path or DataFrame
        The households file (selected households with their AAPOR disposition, base weight
        and stratum; the output of ``migsurvey select`` plus the disposition) and the persons
        file (one row per interviewed person), read through ``interviews.columns`` (or
        ``columns``).
    census : optional
        The census for calibration targets (default: :func:`load_census`).
    columns, interview_columns : dict or ColumnMapping, optional
        Column mappings with the meaning of ``columns:`` and ``interviews.columns`` of the
        specification (:func:`migsurvey.inputs.with_columns`); their keys replace the
        specification's.
    emigrants : path or DataFrame, optional
        The emigrant roster (default ``interviews.emigrants``): the households of the result
        are then the emigrant records of MI 1.4 (:func:`household_frame`).
    selection : path or DataFrame, optional
        The selection file of ``migsurvey select`` (default ``interviews.selection``): the
        selected EAs (``--psus``) or households (``--out``). Every EA in it must be in the
        households file, and only those (:func:`migsurvey.interview_design.check_selection`);
        without it, the EAs of each stratum are counted against the allocation of
        ``sample.psus``.

    Returns
    -------
    interviews, weighted
        The :class:`migsurvey.inputs.Interviews` read, and the :class:`Weighted` result
        whose persons carry the derived variables.
    """
    spec = with_columns(spec, columns, interview_columns)  # as columns: of the spec
    iv = read_interviews(spec, households, persons)
    census = census if census is not None else load_census(spec)
    check_against_frame(iv.households, census.eas, spec, iv.mapping)
    sel = selection if selection is not None else spec["interviews"].get("selection")
    nothing = check_selection(iv.households, spec, iv.mapping, selection=sel,
                              allocation=None if sel is not None
                              else allocation_or_none(census, spec),
                              uncovered=eas_without_covered(census, spec) if sel is not None
                              else ())
    if nothing:
        iv = dataclasses.replace(iv, households=with_eas_without_households(
            iv.households, nothing, sel, census, spec))
    answers = iv.persons
    if spec["interviews"]["usual_residents"]:
        # the roster lists usual residents: a person without an answer of their own is one
        member = answers["usual_member"].astype(object) if "usual_member" in answers else None
        answers = answers.assign(usual_member=("yes" if member is None
                                               else member.where(member.notna(), "yes")))
    try:
        derived = derive_persons(answers, spec)
    except SurveyError as exc:
        raise _answer_error(spec, iv.mapping, exc) from None
    wt = weight_sample(iv.households, derived, census, spec)
    wt.households = roster_frame(wt.households, spec, emigrants)
    return iv, wt


def allocation_or_none(census: Any, spec: dict) -> pd.DataFrame | None:
    """The allocation of the specification (EAs per stratum), or None when the census cannot
    give it (then the households file is not compared with it)."""
    try:
        return allocate_sample(build_frame(census.eas, spec), spec)
    except SurveyError:
        return None


def roster_frame(households: pd.DataFrame, spec: dict, emigrants: Any = None) -> pd.DataFrame:
    """:func:`household_frame` of the weighted households and the emigrant roster
    (``emigrants``, default ``interviews.emigrants``), with the roster's refusals pointed at
    the specification: its key and line (``interviews.emigrants``, or the mapping of the
    column concerned) and hints in YAML, never a Python argument."""
    from migsurvey.inputs import ColumnMapping
    from migsurvey.io import InputFileError

    try:
        return household_frame(households, read_roster(spec, emigrants), spec)
    except InputFileError:
        raise  # a file that cannot be read keeps its own exit code
    except SurveyError as exc:
        mapping = ColumnMapping.from_spec(spec, "interviews")
        where = ("the emigrant roster given in Python (emigrants=)"
                 if isinstance(emigrants, pd.DataFrame) else None)
        raise _file_error(spec, mapping, exc, "interviews.emigrants", "emigrant roster",
                          where) from None


def _answer_error(spec: dict, mapping: Any, exc: SurveyError) -> SurveyError:
    """A refusal of :func:`questionnaires.derive`, pointed at the mapped column of the
    persons file (and its line in the specification) instead of a Python argument."""
    return _file_error(spec, mapping, exc, "interviews.persons", "persons file")


def _yaml_hint(hint: str | None, key: str) -> str | None:
    """A hint of the questionnaires layer in the words of the specification:
    ``columns={'name': 'YOUR_COL'}`` becomes ``key: {name: YOUR_COL}``."""
    import re

    if not hint:
        return hint
    return re.sub(r"columns=\{'?([^':}]+)'?: '?([^'}]+)'?[^}]*\}",
                  lambda m: f"{key}: {{{m.group(1)}: {m.group(2)}}}", hint)


def _file_error(spec: dict, mapping: Any, exc: SurveyError, file_key_: str, what: str,
                where: str | None = None) -> SurveyError:
    """A refusal about an interview file, pointed at the specification: the mapping of the
    column it names (``interviews.columns.x`` or ``columns.x``) when there is one, else the
    key of the file (``interviews.persons``, ``interviews.emigrants``) with its line."""
    import re

    from migsurvey.inputs import file_key
    from migsurvey.spec import spec_error

    hit = re.search(r"column '([^']+)'", exc.message)
    std = hit.group(1) if hit else None
    hint = _yaml_hint(exc.hint, mapping.key)
    if std is not None and std in mapping.columns:
        return spec_error(spec, f"{mapping.key}.{std}",
                          f"{exc.message} ({what} column {mapping.file_name(std)!r})",
                          exc.expected or "", exc.found or "", hint)
    place = where or file_key(spec, file_key_)
    return SurveyError(exc.message + (f" ({what} column {std!r})" if std else f" ({what})"),
                       argument=place, expected=exc.expected, found=exc.found, hint=hint)


def estimate_interviews(spec: dict, households: Any, persons: Any, *, census: Any = None,
                        emigrants: Any = None, columns: Any = None,
                        interview_columns: Any = None, selection: Any = None
                        ) -> tuple[pd.DataFrame, dict, Weighted]:
    """:func:`weight_interviews` then :func:`estimate_indicators` (the API of
    ``migsurvey estimate --households … --persons … [--emigrants …]``)."""
    from migsurvey.warning_log import merge, recording

    spec = with_columns(spec, columns, interview_columns)
    with recording() as log:  # the warnings travel with the tables (metadata["warnings"])
        census = census if census is not None else load_census(spec)  # weights and EA frame
        iv, wt = weight_interviews(spec, households, persons, census=census,
                                   emigrants=emigrants, selection=selection)
        table, objects = estimate_indicators(wt.persons, wt.households, wt.weights, spec,
                                             selected=iv.households,
                                             frame=selection_frame(census, spec))
    for t in objects.values():
        t.metadata["warnings"] = merge(t.metadata.get("warnings"), wt.diagnostics,
                                       log.messages())
    return table, objects, wt
