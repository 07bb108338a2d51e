"""The ``migsurvey`` command line.

Exit codes (for scripts)
------------------------
0   success
1   unexpected internal error (a bug: please report it with the traceback, ``--debug``)
2   usage error (unknown option, missing argument; from argparse)
3   invalid input: specification, data or option refused (the message says where and why)
4   file error: a file cannot be read or written

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
  migsurvey select --spec survey.yaml --out sample.csv
  migsurvey weight --spec survey.yaml --households hh.csv --persons persons.dta --out weighted.parquet
  migsurvey estimate --spec survey.yaml --persons weighted.parquet --households hh_w.parquet --out indicators.xlsx
  migsurvey report --spec survey.yaml --out report.html
  migsurvey simulate --spec survey.yaml --reps 500 --out sim/
  migsurvey questionnaire --out core.xlsx

exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input or specification, 4 file error
"""


def _spec(args) -> dict:
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
    return spec


def _say(args, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg, file=sys.stderr)


def _progress(args, label: str):
    from migsurvey.progress import Progress

    return Progress(label, 1, quiet=getattr(args, "quiet", False))


# ------------------------------------------------------------------ subcommands


def cmd_demo(args) -> int:
    """Synthetic census → frame → sample → fieldwork → weights → indicators → report."""
    from migsurvey.outputs import write_run_outputs
    from migsurvey.pipeline import run_survey

    spec = _spec(args)
    t0 = time.perf_counter()
    prog = _progress(args, "demo")
    run = run_survey(spec, progress=prog.stage)
    paths = write_run_outputs(run, Path(args.out), questionnaire=True)
    _say(args, f"demo finished in {time.perf_counter() - t0:.1f} s")
    for p in paths:
        print(p)
    return EXIT_OK


def cmd_report(args) -> int:
    """Run a specification (simulated fieldwork) and write its report and tables."""
    from migsurvey.outputs import write_run_outputs
    from migsurvey.pipeline import run_survey

    spec = _spec(args)
    run = run_survey(spec, progress=_progress(args, "report").stage)
    out = Path(args.out)
    folder = out.parent if out.suffix == ".html" else out
    paths = write_run_outputs(run, folder, questionnaire=False,
                              report_name=out.name if out.suffix == ".html" else "report.html")
    for p in paths:
        print(p)
    return EXIT_OK


def cmd_frame(args) -> int:
    """Write a synthetic census (Parquet, streamed) or the stratified EA frame of a spec."""
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
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    print(write_table(frame, args.out))
    return EXIT_OK


def cmd_design(args) -> int:
    """Check a specification and print its strata and allocation."""
    from migsurvey.io import write_table
    from migsurvey.pipeline import allocate_sample, build_frame, load_census
    from migsurvey.spec import default_spec_text, describe_schema

    if args.template:
        Path(args.template).write_text(default_spec_text(), encoding="utf-8")
        print(args.template)
        return EXIT_OK
    if args.keys:
        print("\n".join(describe_schema()))
        return EXIT_OK
    spec = _spec(args)
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    alloc = allocate_sample(frame, spec)
    if args.out:
        print(write_table(alloc, args.out))
    else:
        print(alloc.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return EXIT_OK


def cmd_select(args) -> int:
    """Select the sample (EAs, then screened households); write the households selected."""
    import numpy as np

    from migsurvey.io import write_table
    from migsurvey.pipeline import allocate_sample, build_frame, load_census, select_sample

    spec = _spec(args)
    census = load_census(spec)
    frame = build_frame(census.eas, spec)
    alloc = allocate_sample(frame, spec)
    psus, households = select_sample(frame, alloc, census, spec, np.random.default_rng(spec["seed"]))
    print(write_table(households, args.out))
    if args.psus:
        print(write_table(psus, args.psus))
    return EXIT_OK


def cmd_weight(args) -> int:
    """Weight interviewed persons: household nonresponse, then calibration to census totals."""
    from migsurvey.io import read_table, write_table
    from migsurvey.pipeline import derive_persons, household_frame, load_census, weight_sample

    spec = _spec(args)
    households = read_table(args.households)
    persons = read_table(args.persons)
    for col in ("responded", "disposition", "base_weight"):
        if col not in households.columns:
            raise SurveyError("households file lacks a column", argument="--households",
                              expected="household_id, base_weight, disposition, responded and "
                                       "the nonresponse cells", found=f"no column {col!r}",
                              hint="the output of `migsurvey select` plus the fieldwork outcome")
    households["responded"] = households["responded"].astype(bool)
    design_cols = [c for c in households.columns
                   if c not in persons.columns or c == "household_id"]
    persons = persons.merge(households.loc[households["responded"], design_cols],
                            on="household_id", how="inner", validate="many_to_one")
    census = load_census(spec)
    persons = derive_persons(persons, spec)
    pp, hh, _steps, _w = weight_sample(households, persons, census, spec)
    print(write_table(pp, args.out))
    if args.households_out:
        roster = read_table(args.emigrants) if args.emigrants else None
        print(write_table(household_frame(hh, roster, spec), args.households_out))
    return EXIT_OK


def cmd_estimate(args) -> int:
    """Indicator tables with SEs, CIs, quality flags and suppression from weighted data."""
    from migsurvey.io import read_table
    from migsurvey.outputs import write_indicators
    from migsurvey.pipeline import estimate_indicators

    spec = _spec(args)
    persons = read_table(args.persons)
    households = read_table(args.households) if args.households else None
    codes = spec["estimation"]["indicators"]
    if households is None:
        spec["estimation"]["indicators"] = [c for c in codes if c != "MI1.4"]
    table, objects = estimate_indicators(persons, households, "weight", spec)
    for p in write_indicators(table, objects, Path(args.out), spec):
        print(p)
    return EXIT_OK


def cmd_simulate(args) -> int:
    """Repeat selection → fieldwork → weighting → estimation; bias, SE ratio, coverage."""
    from migsurvey.simulate import simulate, write_simulation

    spec = _spec(args)
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
             "  migsurvey demo --out small --persons 100000 --psus 60\n")
    sp.add_argument("--out", default="demo-out", help="output folder (default demo-out)")
    sp.add_argument("--persons", dest="persons_census", type=int, default=None,
                    help="size of the synthetic census (default from the spec: 1000000)")
    sp.add_argument("--psus", dest="n_psus", type=int, default=None,
                    help="number of EAs to select")
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

    sp = add("weight", cmd_weight, "weight interviewed households and persons",
             "  migsurvey weight --spec survey.yaml --households hh.csv --persons p.sav "
             "--out weighted.parquet\n")
    spec_arg(sp)
    sp.add_argument("--households", required=True,
                    help="selected households with base_weight, disposition, responded")
    sp.add_argument("--persons", required=True, help="person answers (csv, parquet, dta, sav, xlsx)")
    sp.add_argument("--out", required=True, help="weighted persons")
    sp.add_argument("--households-out",
                    help="also write the emigrant records of the weighted responding households "
                         "(the data of MI 1.4; needs --emigrants)")
    sp.add_argument("--emigrants",
                    help="emigrant roster: one row per former household member now abroad "
                         "(household_id, emigrant_sex, emigrant_age, emigrant_year_departure, "
                         "emigrant_month_departure, emigrant_destination)")

    sp = add("estimate", cmd_estimate, "indicator tables from weighted data",
             "  migsurvey estimate --persons weighted.parquet --households hh.parquet "
             "--out indicators.csv\n  migsurvey estimate --persons w.parquet --out out/ "
             "# csv + sdmx as in the spec\n")
    spec_arg(sp)
    sp.add_argument("--persons", required=True, help="weighted persons (column weight)")
    sp.add_argument("--households", help="weighted households (for MI 1.4)")
    sp.add_argument("--out", required=True,
                    help="file (.csv, .parquet, .xlsx, .sdmx.csv) or folder (formats of the spec)")

    sp = add("report", cmd_report, "run a specification and write its HTML report",
             "  migsurvey report --spec survey.yaml --out report.html\n")
    spec_arg(sp)
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
    """Entry point of the ``migsurvey`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
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
