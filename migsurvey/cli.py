"""The ``migsurvey`` command line.

Exit codes (for scripts)
------------------------
0   success
1   unexpected internal error (a bug: please report it with the traceback, ``--debug``)
2   usage error (unknown option, missing argument; from argparse)
3   invalid input: specification, data or option refused (the message says where and why)
4   file error: a file cannot be found, read or written

Messages go to standard error; tables and paths written go to standard output, one per line.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from surveycore import SurveyError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_FILE = 0, 1, 2, 3, 4

EPILOG = """\
examples:
  migsurvey demo --out demo-out                       # the whole pipeline on a synthetic census
  migsurvey design --template survey.yaml             # write a specification to edit
  migsurvey design --spec survey.yaml                 # check it; print strata and allocation
  migsurvey frame --synthetic 1000000 --out census/   # stream a synthetic census to Parquet
  migsurvey select --spec survey.yaml --out households.csv
  migsurvey weight --spec survey.yaml --households households.csv --persons persons.dta --out weighted.parquet
  migsurvey estimate --spec survey.yaml --households households.csv --persons persons.dta --out indicators.xlsx
  migsurvey report --spec survey.yaml --households households.csv --persons persons.dta --out report.html
  migsurvey simulate --spec survey.yaml --reps 500 --out sim/
  migsurvey questionnaire --out core.xlsx

exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input or specification, 4 file missing or unreadable
"""


def _spec(args, *, interviews: bool = False) -> dict:
    from migsurvey.inputs import check_spec_inputs
    from migsurvey.spec import default_spec_text, load_spec, parse_spec

    if getattr(args, "spec", None):
        spec = load_spec(args.spec)
    else:
        spec = parse_spec(default_spec_text(), source="demo.yaml")
    if getattr(args, "persons_census", None):
        spec["frame"]["synthetic"]["persons"] = args.persons_census
    if getattr(args, "seed", None) is not None:
        spec["seed"] = args.seed
    if getattr(args, "n_psus", None) is not None:
        spec["sample"]["psus"] = args.n_psus
    if getattr(args, "min_per_domain", None) is not None:
        spec["sample"]["min_per_domain"] = _min_per_domain(spec, args.min_per_domain)
    for key in ("households", "persons", "emigrants", "selection"):
        if getattr(args, f"interview_{key}", None):
            spec["interviews"][key] = getattr(args, f"interview_{key}")
            spec.setdefault("_options", {})[f"interviews.{key}"] = f"--{key}"
    check_spec_inputs(spec, interviews=interviews)
    return spec


def _outputs(args, spec: dict | None, *outputs: tuple[str, str | Path | None]) -> list:
    """The files the command reads (:func:`migsurvey.overwrite.input_files`), after refusing
    an output among ``outputs`` (option, path) that would replace one of them."""
    from migsurvey.overwrite import input_files, refuse_overwrite

    inputs = input_files(spec, getattr(args, "spec", None))
    refuse_overwrite([(name, p) for name, p in outputs if p], inputs)
    return inputs


def _min_per_domain(spec: dict, psus: int) -> dict | None:
    """``--min-per-domain``: the fewest PSUs of ``sample.min_per_domain`` (its domains, or the
    regions of ``strata.by``); 0 drops the rule."""
    from surveycore import SurveyError

    if psus < 0:
        raise SurveyError("invalid --min-per-domain", argument="--min-per-domain",
                          expected="a whole number >= 0 (0: no minimum)", found=str(psus))
    if psus == 0:
        return None
    rule = spec["sample"].get("min_per_domain")
    if rule is None and "region" not in spec["strata"]["by"]:
        raise SurveyError("--min-per-domain needs the domains of sample.min_per_domain",
                          argument="--min-per-domain", expected="sample.min_per_domain: "
                          "{by: ..., psus: ...} in the specification, or region in strata.by",
                          found=f"strata.by = {spec['strata']['by']!r}")
    return {"by": rule["by"] if rule else ["region"], "psus": psus}


def _say(args, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg, file=sys.stderr)


def _progress(args, label: str):
    from migsurvey.progress import Progress

    return Progress(label, 1, quiet=getattr(args, "quiet", False))


def _interviews(spec: dict, command: str) -> tuple[str, str]:
    iv = spec["interviews"]
    if not iv["households"] or not iv["persons"]:
        raise SurveyError(f"`migsurvey {command}` needs the interview files",
                          argument="--households, --persons",
                          expected="the households file (selected households with their AAPOR "
                                   "disposition) and the persons file",
                          found="households: " + (iv["households"] or "none") + ", persons: "
                                + (iv["persons"] or "none"),
                          hint="give --households and --persons, or interviews.households and "
                               "interviews.persons in the specification; `migsurvey demo` "
                               "runs a simulated survey")
    return iv["households"], iv["persons"]


# ------------------------------------------------------------------ subcommands


def cmd_demo(args) -> int:
    """Synthetic census → frame → sample → simulated fieldwork → weights → indicators → report."""
    from migsurvey.outputs import write_run_outputs
    from migsurvey.pipeline import run_survey
    from migsurvey.warning_log import recording

    spec = _spec(args)
    inputs = _outputs(args, spec, ("--out", args.out))
    t0 = time.perf_counter()
    prog = _progress(args, "demo")
    with recording() as log:  # the warnings travel with the numbers (export metadata)
        run = run_survey(spec, progress=prog.stage)
        paths = write_run_outputs(run, Path(args.out), questionnaire=True,
                                  warnings=log.messages(), protect=inputs)
    _say(args, f"demo finished in {time.perf_counter() - t0:.1f} s")
    for p in paths:
        print(p)
    return EXIT_OK


def cmd_report(args) -> int:
    """Weight the interview files, estimate, and write the HTML report and the tables."""
    from migsurvey.outputs import write_interview_outputs
    from migsurvey.pipeline import (
        estimate_indicators,
        load_census,
        selection_frame,
        weight_interviews,
    )
    from migsurvey.warning_log import recording

    spec = _spec(args, interviews=True)
    hh, pp = _interviews(spec, "report")
    inputs = _outputs(args, spec, ("--out", args.out))
    with recording() as log:  # the warnings travel with the numbers (export metadata)
        census = load_census(spec)
        iv, wt = weight_interviews(spec, hh, pp, census=census,
                                   emigrants=spec["interviews"]["emigrants"])
        table, objects = estimate_indicators(wt.persons, wt.households, wt.weights, spec,
                                             selected=iv.households,
                                             frame=selection_frame(census, spec))
        out = Path(args.out)
        folder = out.parent if out.suffix == ".html" else out
        paths = write_interview_outputs(spec, census, iv, wt, table, objects, folder,
                                        report_name=out.name if out.suffix == ".html"
                                        else "report.html", warnings=log.messages(),
                                        protect=inputs)
    for p in paths:
        print(p)
    return EXIT_OK


def cmd_frame(args) -> int:
    """Write a synthetic census (Parquet, streamed) or the stratified EA frame of a spec."""
    from migsurvey.inputs import ColumnMapping
    from migsurvey.io import write_table
    from migsurvey.pipeline import build_frame, load_census
    from migsurvey.progress import Progress
    from migsurvey.synthetic import write_census

    if args.synthetic:
        prog = Progress("census", 1, quiet=args.quiet)
        paths = write_census(args.out, args.synthetic, seed=args.seed or 1,
                             country=args.country, progress=lambda d, t: (
                                 setattr(prog, "total", t), prog.update(d))[-1])
        for p in paths.values():
            print(p)
        return EXIT_OK
    spec = _spec(args)
    _outputs(args, spec, ("--out", args.out))
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    print(write_table(ColumnMapping.from_spec(spec).restore(frame), args.out))
    return EXIT_OK


def cmd_design(args) -> int:
    """Check a specification and print its strata and allocation."""
    from migsurvey.io import write_table
    from migsurvey.pipeline import allocate_sample, build_frame, load_census
    from migsurvey.spec import default_spec_text, describe_schema

    if args.template:
        _outputs(args, None, ("--template", args.template))
        Path(args.template).write_text(default_spec_text(), encoding="utf-8")
        print(args.template)
        return EXIT_OK
    if args.keys:
        print("\n".join(describe_schema()))
        return EXIT_OK
    spec = _spec(args)
    _outputs(args, spec, ("--out", args.out))
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    # the published disaggregations known from the census get valid SDMX codes
    from migsurvey.sdmx_codes import check_sdmx_codes

    by = {c for g in spec["estimation"]["by"] for c in g}
    check_sdmx_codes(spec, {c: frame[c].unique() for c in sorted(by) if c in frame.columns})
    alloc = allocate_sample(frame, spec)
    if args.out:
        print(write_table(alloc, args.out))
    else:
        print(alloc.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return EXIT_OK


def cmd_select(args) -> int:
    """Select the sample (EAs, then screened households); write the households selected.

    The households file keeps the census's own column names and codes (through ``columns:``);
    after fieldwork, add the AAPOR final disposition of each household and give it to
    ``migsurvey weight --households``.
    """
    import numpy as np

    from migsurvey.inputs import ColumnMapping
    from migsurvey.io import write_table
    from migsurvey.pipeline import allocate_sample, build_frame, load_census, select_sample

    spec = _spec(args)
    _outputs(args, spec, ("--out", args.out), ("--psus", args.psus))
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    alloc = allocate_sample(frame, spec)
    psus, households = select_sample(frame, alloc, census, spec, np.random.default_rng(spec["seed"]))
    mapping = ColumnMapping.from_spec(spec)
    print(write_table(mapping.restore(households), args.out))
    if args.psus:
        print(write_table(mapping.restore(psus), args.psus))
    return EXIT_OK


def cmd_weight(args) -> int:
    """Weight the interview files with the specification's chain (eligibility with AAPOR
    dispositions, nonresponse, persons, calibration, trimming); write the weights."""
    from migsurvey.io import write_table
    from migsurvey.outputs import replicate_columns, replicate_meta_path, write_replicate_meta
    from migsurvey.pipeline import load_census, weight_interviews
    from migsurvey.warning_log import recording

    spec = _spec(args, interviews=True)
    hh, pp = _interviews(spec, "weight")
    _outputs(args, spec, ("--out", args.out), ("--households-out", args.households_out),
             ("--replicates", replicate_meta_path(Path(args.out)) if args.replicates else None))
    with recording() as log:  # the warnings travel with the weights (Parquet metadata)
        iv, wt = weight_interviews(spec, hh, pp, census=load_census(spec),
                                   emigrants=spec["interviews"]["emigrants"])
        persons = wt.persons
        if args.replicates:
            persons, meta = replicate_columns(wt, spec)
            write_replicate_meta(meta, Path(args.out))
        notes = log.messages()
        print(write_table(iv.mapping.restore(persons), args.out, notes=notes))
        if args.households_out:
            print(write_table(iv.mapping.restore(wt.households), args.households_out,
                              notes=notes))
    return EXIT_OK


def cmd_estimate(args) -> int:
    """Indicator tables with SEs, CIs, quality flags and suppression.

    From the interview files (``--households`` with dispositions, ``--persons``) the chain is
    run again and the linearised SEs account for it, as the Python API does; from a weighted
    file with replicate weights (``migsurvey weight --replicates``) the replicates give the
    SEs; from a weighted file alone the weights are treated as fixed (a warning says so).
    Every warning is also written in the metadata of the files (SDMX annotations, the Excel
    ``notes`` sheet, Parquet key-value metadata, the JSON beside a CSV file).
    """
    from migsurvey.warning_log import recording

    with recording() as log:  # the warnings travel with the numbers (export metadata)
        return _estimate(args, log)


def _estimate(args, log) -> int:
    import warnings

    from migsurvey.inputs import HH_KEY, ColumnMapping
    from migsurvey.interview_design import check_final_weights
    from migsurvey.io import read_header, read_table
    from migsurvey.outputs import read_replicate_design, write_indicators
    from migsurvey.pipeline import estimate_indicators, estimate_interviews, roster_frame
    from surveycore import SurveyWarning

    spec = _spec(args, interviews=True)
    inputs = _outputs(args, spec, ("--out", args.out))
    pp_path = spec["interviews"]["persons"]
    if not pp_path:
        raise SurveyError("`migsurvey estimate` needs the persons file", argument="--persons",
                          expected="interview files or a weighted file", found="none")
    mapping = ColumnMapping.from_spec(spec, "interviews")
    weighted = mapping.file_name("weight") in read_header(pp_path)
    if not weighted:
        table, objects, _wt = estimate_interviews(spec, spec["interviews"]["households"],
                                                  pp_path,
                                                  emigrants=spec["interviews"]["emigrants"])
    else:
        ids = mapping.file_names(["ea_id", "household_id"])
        persons = mapping.apply(read_table(pp_path, text=ids), what="weighted persons file",
                                spec=spec)
        check_final_weights(persons, spec, mapping, "interviews.persons")
        hh_path = spec["interviews"]["households"]
        households = None
        if hh_path:
            households = mapping.apply(read_table(hh_path, text=ids),
                                       what="weighted households file", spec=spec)
            if "weight" in households.columns:
                check_final_weights(households, spec, mapping, "interviews.households")
        _check_weighted(spec, mapping, persons, households)
        if households is not None:
            if "emigrant_record" not in households.columns:  # not yet emigrant records
                households = roster_frame(households, spec)
        elif "MI1.4" in spec["estimation"]["indicators"]:
            spec["estimation"]["indicators"] = [c for c in spec["estimation"]["indicators"]
                                                if c != "MI1.4"]
            warnings.warn("MI1.4 left out: it needs the weighted households file "
                          "(--households)", SurveyWarning, stacklevel=1)
        rep = read_replicate_design(persons, Path(pp_path))
        if rep is None:
            warnings.warn("the standard errors treat the weights as fixed: give the interview "
                          "files (or replicate weights from `migsurvey weight --replicates`) "
                          "to account for the weighting chain", SurveyWarning, stacklevel=1)
        persons = persons.drop(columns=[HH_KEY], errors="ignore") if rep is None else persons
        table, objects = estimate_indicators(persons, households, "weight", spec,
                                             replicate_design=rep)
    for p in write_indicators(table, objects, Path(args.out), spec, warnings=log.messages(),
                              protect=inputs):
        print(p)
    return EXIT_OK


def _check_weighted(spec: dict, mapping, persons, households) -> None:
    """The design checks of a weighted file (:func:`migsurvey.interview_design.check_weighted`),
    against the census frame and the allocation when the specification names a census."""
    from migsurvey.interview_design import check_weighted
    from migsurvey.pipeline import allocation_or_none, load_census

    eas = allocation = None
    if spec["frame"]["census"]:
        census = load_census(spec)
        eas = census.eas
        if not spec["interviews"]["selection"]:
            allocation = allocation_or_none(census, spec)
    check_weighted(persons, spec, mapping, households=households, eas=eas,
                   selection=spec["interviews"]["selection"], allocation=allocation)


def cmd_simulate(args) -> int:
    """Repeat selection → fieldwork → weighting → estimation; bias, SE ratio, coverage."""
    from migsurvey.simulate import SIMULATION_FILES, simulate, write_simulation

    spec = _spec(args)
    _outputs(args, spec, ("--out", args.out),
             *(("--out", Path(args.out) / name) for name in SIMULATION_FILES))
    prog = _progress(args, "simulate")
    result = simulate(spec, reps=args.reps, seed=args.seed if args.seed is not None else 1,
                      workers=args.workers,
                      progress=lambda d, t: (setattr(prog, "total", t), prog.update(d))[-1])
    for p in write_simulation(result, Path(args.out)):
        print(p)
    return EXIT_OK


def cmd_questionnaire(args) -> int:
    """Export a questionnaire module as an XLSForm (Excel)."""
    from migsurvey.outputs import write_questionnaire
    from migsurvey.overwrite import refuse_overwrite

    if Path(args.module).is_file():  # a module given as a file is read, never replaced
        refuse_overwrite([("--out", args.out)], [("--module", args.module)])
    print(write_questionnaire(Path(args.out), module=args.module))
    return EXIT_OK


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="migsurvey",
        description="Survey sampling, weighting and estimation for international migration "
                    "statistics.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"migsurvey {_version()}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="command", required=True)

    def add(name, func, help_, examples):
        sp = sub.add_parser(name, help=help_, description=textwrap.dedent(func.__doc__ or help_),
                            epilog="examples:\n" + examples,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.set_defaults(func=func)
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
        return sp

    def spec_arg(sp, required=False):
        sp.add_argument("--spec", required=required, help="survey specification (YAML); default: "
                        "the demo specification")
        sp.add_argument("--seed", type=int, default=None, help="seed of selection and fieldwork")

    sp = add("demo", cmd_demo, "run the whole pipeline on a synthetic census",
             "  migsurvey demo --out demo-out\n"
             "  migsurvey demo --out small --persons 100000 --psus 60 --min-per-domain 6\n")
    sp.add_argument("--out", default="demo-out", help="output folder (default demo-out)")
    sp.add_argument("--persons", dest="persons_census", type=int, default=None,
                    help="size of the synthetic census (default from the spec: 1000000)")
    sp.add_argument("--psus", dest="n_psus", type=int, default=None,
                    help="number of EAs to select")
    sp.add_argument("--min-per-domain", dest="min_per_domain", type=int, default=None,
                    help="fewest EAs in every domain of sample.min_per_domain (default: "
                         "regions in the demo, 0: none)")
    spec_arg(sp)

    sp = add("frame", cmd_frame, "write a synthetic census or a stratified frame",
             "  migsurvey frame --synthetic 10000000 --out census/\n"
             "  migsurvey frame --spec survey.yaml --out frame.parquet\n")
    sp.add_argument("--synthetic", type=int, default=None, metavar="N",
                    help="stream a synthetic census of about N persons to Parquet files in --out")
    sp.add_argument("--country", default="POL", help="reporting country code (synthetic census)")
    sp.add_argument("--out", required=True, help="output folder (--synthetic) or frame file")
    spec_arg(sp)

    sp = add("design", cmd_design, "check a specification; print strata and allocation",
             "  migsurvey design --template survey.yaml\n  migsurvey design --spec survey.yaml\n"
             "  migsurvey design --keys\n")
    spec_arg(sp)
    sp.add_argument("--template", metavar="PATH", help="write the demo specification to PATH")
    sp.add_argument("--keys", action="store_true", help="list every specification key")
    sp.add_argument("--out", help="write the allocation table (csv, parquet, xlsx)")

    sp = add("select", cmd_select, "select EAs and screened households",
             "  migsurvey select --spec survey.yaml --out households.csv --psus eas.csv\n")
    spec_arg(sp)
    sp.add_argument("--out", required=True, help="selected households (csv, parquet, xlsx, dta)")
    sp.add_argument("--psus", help="also write the selected EAs")

    def interview_args(sp, what="interview"):
        sp.add_argument("--households", dest="interview_households",
                        help=f"{what} households file: selected households with their AAPOR "
                             "disposition (default: interviews.households of the spec)")
        sp.add_argument("--persons", dest="interview_persons",
                        help=f"{what} persons file (csv, parquet, dta, sav, xlsx; default: "
                             "interviews.persons of the spec)")
        sp.add_argument("--emigrants", dest="interview_emigrants",
                        help="emigrant roster, one row per former household member now abroad "
                             "(MI 1.4; default: interviews.emigrants of the spec)")
        sp.add_argument("--selection", dest="interview_selection",
                        help="the selection file of `migsurvey select` (--psus: the selected "
                             "EAs, or --out: the selected households): every selected EA must "
                             "be in the households file (default: interviews.selection)")

    sp = add("weight", cmd_weight, "weight the interview files",
             "  migsurvey weight --spec survey.yaml --households hh.csv --persons p.sav "
             "--out weighted.parquet\n"
             "  migsurvey weight --spec survey.yaml --out w.parquet --replicates "
             "# + replicate weights\n")
    spec_arg(sp)
    interview_args(sp)
    sp.add_argument("--out", required=True, help="weighted persons")
    sp.add_argument("--households-out",
                    help="also write the weighted responding households (with --emigrants: "
                         "their emigrant records, the data of MI 1.4)")
    sp.add_argument("--replicates", action="store_true",
                    help="also write replicate weights (estimation.variance JKn or bootstrap; "
                         "every replicate re-weighted through the chain)")

    sp = add("estimate", cmd_estimate, "indicator tables with SEs from interview or weighted files",
             "  migsurvey estimate --spec s.yaml --households hh.csv --persons p.csv "
             "--out indicators.csv\n"
             "  migsurvey estimate --spec s.yaml --persons weighted.parquet --out out/ "
             "# csv + sdmx as in the spec\n")
    spec_arg(sp)
    interview_args(sp, "interview or weighted")
    sp.add_argument("--out", required=True,
                    help="file (.csv, .parquet, .xlsx, .sdmx.csv) or folder (formats of the spec)")

    sp = add("report", cmd_report, "HTML report of a survey from its interview files",
             "  migsurvey report --spec survey.yaml --households hh.csv --persons p.csv "
             "--out report.html\n")
    spec_arg(sp)
    interview_args(sp)
    sp.add_argument("--out", default="report.html", help="report file or folder")

    sp = add("simulate", cmd_simulate, "design-based simulation: bias, SE and CI coverage",
             "  migsurvey simulate --reps 500 --out sim/\n"
             "  migsurvey simulate --spec survey.yaml --reps 100 --out sim/ --persons 100000\n")
    spec_arg(sp)
    sp.add_argument("--reps", type=int, default=100, help="repetitions (default 100)")
    sp.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    sp.add_argument("--persons", dest="persons_census", type=int, default=None,
                    help="size of the synthetic census")
    sp.add_argument("--psus", dest="n_psus", type=int, default=None,
                    help="number of EAs to select")
    sp.add_argument("--min-per-domain", dest="min_per_domain", type=int, default=None,
                    help="fewest EAs in every domain of sample.min_per_domain (default: "
                         "regions in the demo, 0: none)")
    sp.add_argument("--out", required=True, help="output folder")

    sp = add("questionnaire", cmd_questionnaire, "export a questionnaire module as XLSForm",
             "  migsurvey questionnaire --out core.xlsx\n")
    sp.add_argument("--module", default="core", help="question module (default core)")
    sp.add_argument("--out", required=True, help="XLSForm file (.xlsx)")
    return p


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("migsurvey")
    except Exception:  # pragma: no cover - not installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``migsurvey`` command; returns the exit code.

    Every :class:`surveycore.SurveyWarning` raised while the command runs is printed to
    standard error as ``migsurvey <command>: warning: …``.
    """
    import warnings

    from surveycore import SurveyWarning

    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurveyWarning)
        try:
            return _run(args)
        finally:
            seen = set()
            for w in caught:
                if issubclass(w.category, SurveyWarning) and str(w.message) not in seen:
                    seen.add(str(w.message))
                    print(f"migsurvey {args.command}: warning: {w.message}", file=sys.stderr)
                elif not issubclass(w.category, SurveyWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _run(args) -> int:
    from migsurvey.io import InputFileError

    try:
        return args.func(args)
    except InputFileError as exc:
        print(f"migsurvey {args.command}: file error: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_FILE
    except SurveyError as exc:
        print(f"migsurvey {args.command}: error: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_INPUT
    except OSError as exc:
        print(f"migsurvey {args.command}: file error: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_FILE
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # pragma: no cover - bugs
        print(f"migsurvey {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "  rerun with --debug for the traceback and report it", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
