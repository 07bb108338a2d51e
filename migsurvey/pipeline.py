"""The survey pipeline: census → frame → strata → allocation → selection → fieldwork →
weights → indicators.

Each stage is one function that takes the checked specification (:mod:`migsurvey.spec`) and
the previous stage's tables, and calls the layer that does the statistics:

==============================  ===============================================================
stage                           layer and call
==============================  ===============================================================
:func:`load_census`             :mod:`migsurvey.synthetic` (or a Parquet census)
:func:`build_frame`             prevalence classes of the EA frame (application logic)
:func:`allocate_sample`         :mod:`sampling` allocation of PSUs to strata
:func:`select_sample`           :mod:`sampling` PPS selection of EAs, then screening and
                                selection of households within screening classes
:func:`~migsurvey.fieldwork.run_fieldwork`  simulated response (demo, simulation)
:func:`weight_sample`           :class:`weighting.Weights` chain
:func:`estimate_indicators`     :class:`estimation.SurveyDesign` and
                                :func:`estimation.indicators.indicator_table`
==============================  ===============================================================

:func:`run_survey` chains them and returns a :class:`SurveyRun`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from migsurvey.fieldwork import Fieldwork, run_fieldwork
from migsurvey.synthetic import Census, ParquetCensus, synthetic_census
from surveycore import SurveyError

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
    indicators: pd.DataFrame | None = None
    indicator_table: Any = None  # estimation IndicatorTable objects, by unit
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# census and frame


def load_census(spec: dict, progress: Progress | None = None) -> Census | ParquetCensus:
    """The census named by ``spec["frame"]``: a synthetic one generated in memory, or a
    Parquet census folder (:class:`~migsurvey.synthetic.ParquetCensus`, read where needed)."""
    fr = spec["frame"]
    if fr["census"]:
        return ParquetCensus(fr["census"], country=spec["country"],
                             reference_year=spec["reference_year"])
    syn = fr["synthetic"]
    return synthetic_census(syn["persons"], seed=syn["seed"], country=spec["country"],
                            reference_year=spec["reference_year"], n_regions=syn["regions"])


def build_frame(eas: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """EA frame with prevalence, prevalence class and stratum (a new frame).

    The prevalence of EA ``i`` is ``p_i = prevalence_i / population_i`` (census counts,
    e.g. foreign-born persons over persons). Classes are the intervals of ``strata.cuts``;
    strata cross the explicit ``strata.by`` columns with the class. A class with fewer than
    ``strata.collapse_below`` EAs in an explicit stratum is merged into the neighbouring
    class of the same explicit stratum (the next higher one, the lower one for the top class).
    """
    fr, st = spec["frame"], spec["strata"]
    need = [fr["psu"], fr["size"], fr["prevalence"], fr["population"], *st["by"]]
    missing = [c for c in need if c not in eas.columns]
    if missing:
        raise SurveyError("frame columns missing", argument="frame",
                          expected="columns " + ", ".join(need), found=", ".join(missing),
                          hint="check frame.psu, frame.size, frame.prevalence and strata.by")
    out = eas.copy()
    pop = out[fr["population"]].to_numpy(float)
    prev = np.divide(out[fr["prevalence"]].to_numpy(float), pop, out=np.zeros(len(out)),
                     where=pop > 0)
    cls = np.digitize(prev, st["cuts"])
    explicit = (out[st["by"]].astype(str).agg(":".join, axis=1) if st["by"]
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


_PERSON_STEPS = ("rake", "calibrate", "trim")


def census_targets(census: Census, variables: list[str]) -> dict[str, dict]:
    """Census person counts of each margin variable: ``{var: {level: count}}``."""
    out = {}
    for v in variables:
        if isinstance(census, Census) and v not in census.persons.columns:
            raise SurveyError("calibration margin not in the census", argument="weighting",
                              expected="person columns of the census", found=v)
        out[v] = census.person_counts(v)
    return out


def _expand(hw: Any, households: pd.DataFrame, persons: pd.DataFrame, spec: dict):
    """The person rows with their household's weight, and the chain continued on them."""
    hh_w = pd.Series(hw.values, index=households["household_id"].to_numpy())
    person_frame = persons.assign(household_weight=hh_w.reindex(
        persons["household_id"].to_numpy()).to_numpy())
    return person_frame, hw.expand(person_frame, household="household_id",
                                   psu=spec["frame"]["psu"])


def weight_sample(households: pd.DataFrame, persons: pd.DataFrame, census: Census,
                  spec: dict) -> tuple[pd.DataFrame, pd.DataFrame, list, Any]:
    """Run the weighting chain of ``spec["weighting"]``.

    Household steps (``nonresponse``) run on every selected household, from the base weight
    ``1 / (π₁ π₂|₁)``; person steps (``rake``, ``calibrate``, ``trim``) run on the persons of
    responding households, starting from their household's weight. Both are one
    :class:`weighting.Weights` chain (``expand`` carries the household weights to the
    persons), so the linearised variance and replicate weights include the nonresponse
    adjustment. With ``calibrate`` and
    ``cluster: household_id`` (integrated calibration) every member keeps one weight, which
    is then also the household weight; otherwise the household weight is the weight before
    the person steps.

    Returns
    -------
    persons, households, steps, weights
        Persons with ``weight``; responding households with ``weight``; the steps for the
        report (:class:`migsurvey.report.WeightStep`); the person-level
        :class:`weighting.Weights` (its calibration record feeds the variance).
    """
    from migsurvey.report import WeightStep
    from weighting import Weights

    steps: list[WeightStep] = []
    hw = Weights(households, "base_weight")
    resp = households["responded"].to_numpy(bool)
    steps.append(WeightStep("base", hw.values[resp], "1 / (π_EA · π_household|EA), respondents"))
    pw = None
    person_frame = None
    integrated = False
    for i, step in enumerate(spec["weighting"]):
        (name, opt), = step.items()
        if name == "nonresponse":
            if pw is not None:
                raise SurveyError("nonresponse must come before person-level steps",
                                  argument=f"weighting[{i}]", expected="nonresponse first",
                                  found=name)
            hw = hw.adjust_nonresponse("disposition", by=opt["cells"])
            rec = hw.history[-1]
            steps.append(WeightStep("nonresponse", hw.values[resp],
                                    f"weighting classes {' × '.join(opt['cells'])}"
                                    + (f"; {'; '.join(rec.notes)}" if rec.notes else "")))
            continue
        if pw is None:
            person_frame, pw = _expand(hw, households, persons, spec)
        before = pw.values
        if name == "rake":
            pw = pw.rake(census_targets(census, opt["margins"]), tol=opt["tol"],
                         max_iter=opt["max_iter"])
            desc = "raking to census counts of " + ", ".join(opt["margins"])
        elif name == "calibrate":
            kw = {"method": opt["method"]}
            if opt["bounds"]:
                kw["bounds"] = tuple(opt["bounds"])
            if opt.get("cluster"):
                kw["cluster"] = opt["cluster"]
                integrated = opt["cluster"] == "household_id"
            pw = pw.calibrate(census_targets(census, opt["margins"]), **kw)
            desc = f"{opt['method']} calibration to census counts of " + ", ".join(opt["margins"])
        else:
            kw = {k: v for k, v in opt.items() if v is not None}
            pw = pw.trim(**kw)
            desc = "trimming " + ", ".join(f"{k}={v:g}" for k, v in kw.items())
        rec = pw.history[-1]
        margins = None
        if rec.targets is not None:
            margins = rec.targets.rename(columns={"margin": "variable"})
        steps.append(WeightStep(name, pw.values, desc, g=pw.values / np.where(before > 0, before, 1),
                                margins=margins, convergence=list(rec.trace) or None))
    if pw is None:
        person_frame, pw = _expand(hw, households, persons, spec)
    persons_out = person_frame.assign(weight=pw.values)
    hh_resp = households.loc[resp].copy()
    if integrated:
        first = persons_out.drop_duplicates("household_id").set_index("household_id")["weight"]
        hh_resp["weight"] = first.reindex(hh_resp["household_id"]).to_numpy()
    else:
        hh_resp["weight"] = hw.values[resp]
    return persons_out, hh_resp.reset_index(drop=True), steps, pw


# --------------------------------------------------------------------------------------
# estimation


def derive_persons(persons: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Add the migration concepts (:func:`questionnaires.derive`) and the indicator columns.

    ``derive`` gives ``acquired_citizenship_period`` (acquired the reporting country's
    citizenship in the reference year), the numerator of MI 1.2; this adds
    ``foreign_citizen_start`` (foreign citizen at the start of the year: ``foreign_citizen``
    or ``acquired_citizenship_period``), its denominator.
    """
    from estimation.indicators import indicator_variables
    from questionnaires import derive

    ref = spec.get("reference_date") or f"{spec['reference_year']}-12-31"
    d = derive(persons, country=spec["country"], reference_date=ref)
    # unknown stays unknown (<NA>): an indicator that needs an unknown value is refused
    return indicator_variables(d)


#: Indicator variable → column of the pipeline's data (see :func:`derive_persons`).
INDICATOR_VARIABLES: dict[str, str] = {}
HOUSEHOLD_INDICATORS = ("MI1.4",)


def household_frame(households: pd.DataFrame, emigrants: pd.DataFrame | None,
                    spec: dict) -> pd.DataFrame:
    """Emigrant-level records of the responding households, the data of MI 1.4.

    The emigrant roster (:func:`questionnaires.derive_emigrants`) gives one record per
    emigrant with the reporting household's design columns and weight; households without
    an emigrant keep one record outside the universe
    (:func:`estimation.indicators.emigrant_records`). Without a roster the households are
    returned as they are, and MI 1.4 is refused for lack of its variables, never 0.
    """
    from estimation.indicators import emigrant_records
    from migsurvey.synthetic import AGE_BREAKS
    from questionnaires import derive_emigrants

    if emigrants is None:
        return households.copy()
    ref = spec.get("reference_date") or f"{spec['reference_year']}-12-31"
    roster = derive_emigrants(emigrants.drop(columns=["ea_id"], errors="ignore"),
                              country=spec["country"], reference_date=ref)
    return emigrant_records(households, roster, household="household_id",
                            age_breaks=AGE_BREAKS)


def estimate_indicators(persons: pd.DataFrame, households: pd.DataFrame, weights: Any,
                        spec: dict) -> tuple[pd.DataFrame, dict]:
    """Indicator tables with SEs, CIs, quality flags and suppression, for every ``by``.

    Person indicators use ``SurveyDesign(persons, ids="ea_id", strata="stratum",
    weights=<Weights>)`` so the linearised variance accounts for the calibration; household
    indicators (MI 1.4) a household design with the household weights. Each disaggregation
    of ``estimation.by`` is one :func:`estimation.indicators.indicator_table` call (margins
    included); the national totals are kept once.
    """
    from estimation import SurveyDesign
    from estimation.indicators import indicator_table

    est = spec["estimation"]
    codes = est["indicators"]
    person_codes = [c for c in codes if c not in HOUSEHOLD_INDICATORS]
    hh_codes = [c for c in codes if c in HOUSEHOLD_INDICATORS]
    designs = {}
    if person_codes:
        designs["person"] = (SurveyDesign(persons, ids="ea_id", strata="stratum", weights=weights,
                                          lonely_psu=est["lonely_psu"]), person_codes)
    if hh_codes:
        designs["household"] = (SurveyDesign(households, ids="ea_id", strata="stratum",
                                             weights="weight", lonely_psu=est["lonely_psu"]),
                                hh_codes)
    if est["variance"] != "taylor":
        # replicate weights: JKn (delete-one-EA jackknife within strata, Wolter 2007 ch. 4)
        # or the Rao-Wu rescaling bootstrap; with a Weights chain every replicate is
        # re-weighted through the recorded steps
        opts = {"replicates": est["replicates"], "seed": spec["seed"]} \
            if est["variance"] == "bootstrap" else {}
        designs = {u: (d.replicate(est["variance"], **opts), c) for u, (d, c) in designs.items()}
    frames, objects = [], {}
    has_total = [] in est["by"]
    first: dict[str, list] = {}
    for unit, (design, unit_codes) in designs.items():
        have = design_columns(design)
        usable = [g for g in est["by"] if all(c in have for c in g)]
        first[unit] = usable[0] if usable else []
        for grouping in est["by"]:
            if any(c not in have for c in grouping):
                if unit == "household":
                    continue  # person characteristics do not classify households
                raise SurveyError("disaggregation variable not in the data",
                                  argument="estimation.by", expected="columns of the sample",
                                  found=", ".join(c for c in grouping if c not in have))
            kw = {} if spec["quality"]["suppress"] else {"suppression": None}
            t = indicator_table(design, unit_codes, by=list(grouping), margins=True,
                                variables=INDICATOR_VARIABLES, quality=spec["quality"]["preset"],
                                level=est["level"], **kw)
            objects[(unit, tuple(grouping))] = t
            tab = t.table
            if grouping and (has_total or grouping != first[unit]):
                # national totals once: from the by=[] call, else from the first grouping
                tab = tab[~(tab[list(grouping)].astype(str) == TOTAL).all(axis=1)]
            frames.append(tab.assign(unit=unit))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    dims = list(dict.fromkeys(c for g in est["by"] for c in g))
    for c in dims:
        if c in table.columns:
            table[c] = table[c].astype(object).where(table[c].notna(), TOTAL)
    return table, objects


TOTAL = "_T"


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
    household is screened into ``"migrant"`` or ``"other"`` by ``selection.household.
    screening``; stage 2 selects ``selection.household.take[class]`` households per EA and
    class. Returns the selected EAs (with ``pi``) and the selected households with ``pi1``,
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
    alloc = allocate(n_eas, sm["psus"], sm["allocation"], **kw)
    return allocation_table(frame, alloc.sizes, spec).assign(allocation_deff=alloc.deff)


def _sampling_select(frame, allocation, census, spec, rng):
    from sampling import select

    fr, sel = spec["frame"], spec["selection"]
    n_h = allocation.set_index("stratum")["psus"]
    size = sel["psu"]["size"] if sel["psu"]["method"] not in ("srs", "systematic") else None
    s1 = select(frame, n_h, method=sel["psu"]["method"], size=size, strata="stratum",
                id=fr["psu"], seed=rng)
    psus = s1.units.rename(columns={"pi": "pi1"})[[fr["psu"], "stratum", "pi1"]]
    # listing and screening of the selected EAs
    listing = census.households_in(psus[fr["psu"]])
    hsel = sel["household"]
    screen_col = hsel["screening"]
    if screen_col not in listing.columns:
        raise SurveyError("screening column not in the listing", argument="selection.household."
                          "screening", expected="a household column", found=screen_col)
    listing["screen"] = np.where(listing[screen_col].astype(bool), "migrant", "other")
    take = hsel["take"]
    unknown = sorted(set(listing["screen"]) - set(take))
    if unknown:
        raise SurveyError("no take for a screening class", argument="selection.household.take",
                          expected="a number of households for each of migrant, other",
                          found=f"missing {unknown}")
    listing = listing.loc[listing["screen"].map(take).to_numpy() > 0]
    cells = listing.groupby([fr["psu"], "screen"]).size()
    wanted = np.minimum(cells.index.get_level_values("screen").map(take).to_numpy(),
                        cells.to_numpy())
    n2 = pd.Series(wanted, index=cells.index)
    s2 = select(listing, n2, method=hsel["method"], strata=[fr["psu"], "screen"],
                id="household_id", seed=rng)
    units = s2.units.rename(columns={"pi": "pi2"}).drop(
        columns=[c for c in ("pi_1", "fpc_1", "weight") if c in s2.units.columns])
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
        fw: Fieldwork = run_fieldwork(selected, run.census.persons_in(run.psus["ea_id"]),
                                      response=spec["fieldwork"]["response"], seed=rng,
                                      emigrants=run.census.emigrants_in(run.psus["ea_id"]))
        run.households = fw.households
        persons = derive_persons(fw.persons, spec)
    tick(3)
    with _stopwatch(t, "weighting"):
        run.persons, hh, run.weight_steps, run.weights = weight_sample(
            fw.households, persons, run.census, spec)
        run.household_sample = household_frame(hh, fw.emigrants, spec)
    tick(4)
    if estimate:
        with _stopwatch(t, "estimation"):
            run.indicators, run.indicator_table = estimate_indicators(
                run.persons, run.household_sample, run.weights, spec)
    tick(5)
    return run
