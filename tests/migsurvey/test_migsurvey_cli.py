"""Command line: help, exit codes, subcommands on a small census."""

from __future__ import annotations

import pandas as pd
import pytest
from migsurvey_support import small_spec_text

from migsurvey.cli import EXIT_FILE, EXIT_INPUT, build_parser, main


def test_help_lists_every_subcommand_with_examples(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("demo", "frame", "design", "select", "weight", "estimate", "report", "simulate",
                "questionnaire"):
        assert cmd in out
    assert "examples:" in out and "exit codes" in out
    for cmd in ("demo", "simulate", "design"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "examples:" in capsys.readouterr().out


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as e:
        main(["select"])  # --out missing
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["nonsense"])
    assert e.value.code == 2


def test_invalid_spec_exits_3_with_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsample:\n  psus: -4\n")
    assert main(["design", "--spec", str(bad)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{bad}:3:9: sample.psus" in err and "error" in err


def test_missing_spec_and_unreadable_data(tmp_path, capsys):
    assert main(["design", "--spec", str(tmp_path / "none.yaml")]) == EXIT_FILE
    spec = tmp_path / "s.yaml"
    spec.write_text(small_spec_text())
    assert main(["estimate", "--spec", str(spec), "--persons", str(tmp_path / "x.csv"),
                 "--out", str(tmp_path / "o.csv")]) == EXIT_FILE
    assert "file not found" in capsys.readouterr().err
    out_dir = tmp_path / "ro"
    out_dir.write_text("a file, not a folder")
    assert main(["frame", "--synthetic", "2000", "--out", str(out_dir), "-q"]) == EXIT_FILE


def test_design_template_keys_and_allocation(tmp_path, capsys):
    tpl = tmp_path / "t.yaml"
    assert main(["design", "--template", str(tpl)]) == 0
    assert "weighting:" in tpl.read_text()
    assert main(["design", "--keys"]) == 0
    assert "sample.psus" in capsys.readouterr().out
    spec = tmp_path / "s.yaml"
    spec.write_text(small_spec_text())
    alloc = tmp_path / "alloc.csv"
    assert main(["design", "--spec", str(spec), "--out", str(alloc)]) == 0
    a = pd.read_csv(alloc)
    assert a["psus"].sum() == 60
    assert {"stratum", "eas", "prevalence", "psus"} <= set(a.columns)


def test_frame_select_weight_estimate_chain(tmp_path, small_spec):
    """The subcommands one after the other reproduce the pipeline's estimates."""
    import numpy as np

    from migsurvey.fieldwork import run_fieldwork
    from migsurvey.pipeline import load_census

    spec = tmp_path / "s.yaml"
    spec.write_text(small_spec_text())
    census_dir = tmp_path / "census"
    assert main(["frame", "--synthetic", "20000", "--out", str(census_dir), "-q"]) == 0
    assert (census_dir / "persons.parquet").exists()
    hh = tmp_path / "hh.csv"
    assert main(["select", "--spec", str(spec), "--out", str(hh), "--psus",
                 str(tmp_path / "eas.csv"), "--seed", "5"]) == 0
    sel = pd.read_csv(hh)
    assert {"household_id", "ea_id", "stratum", "screen", "pi1", "pi2", "base_weight"} <= set(sel.columns)
    np.testing.assert_allclose(sel["base_weight"], 1 / (sel["pi1"] * sel["pi2"]))
    # fieldwork outcome, as an NSO would record it
    census = load_census(small_spec)
    fw = run_fieldwork(sel, census.persons, response=small_spec["fieldwork"]["response"], seed=5)
    fw.households.to_csv(tmp_path / "hh_out.csv", index=False)
    answers = census.persons[census.persons["household_id"].isin(
        fw.households.loc[fw.households["responded"], "household_id"])]
    answers.to_parquet(tmp_path / "persons.parquet", index=False)
    census.emigrants[census.emigrants["household_id"].isin(answers["household_id"])].to_csv(
        tmp_path / "emigrants.csv", index=False)
    weighted = tmp_path / "weighted.parquet"
    assert main(["weight", "--spec", str(spec), "--households", str(tmp_path / "hh_out.csv"),
                 "--persons", str(tmp_path / "persons.parquet"), "--out", str(weighted),
                 "--households-out", str(tmp_path / "hhw.parquet"),
                 "--emigrants", str(tmp_path / "emigrants.csv")]) == 0
    w = pd.read_parquet(weighted)
    # calibrated to the census counts of the margins
    for var in ("sex", "region", "age_group"):
        got = w.groupby(var)["weight"].sum()
        want = census.persons[var].value_counts()
        np.testing.assert_allclose(got.sort_index(), want.sort_index(), rtol=1e-8)
    out = tmp_path / "ind.xlsx"
    assert main(["estimate", "--spec", str(spec), "--persons", str(weighted), "--households",
                 str(tmp_path / "hhw.parquet"), "--out", str(out)]) == 0
    t = pd.read_excel(out, sheet_name=0)
    assert {"MI1.1", "MI1.4"} <= set(t["indicator"])
    sdmx = tmp_path / "ind.sdmx.csv"
    assert main(["estimate", "--spec", str(spec), "--persons", str(weighted),
                 "--out", str(sdmx)]) == 0
    assert sdmx.read_text().startswith("STRUCTURE")


def test_questionnaire_export(tmp_path):
    out = tmp_path / "core.xlsx"
    assert main(["questionnaire", "--out", str(out)]) == 0
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"survey", "choices", "settings"} <= set(sheets)


def test_parser_has_progress_and_quiet_everywhere():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        opts = {o for a in sp._actions for o in a.option_strings}
        assert "--quiet" in opts, name


def test_simulate_command(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(small_spec_text(estimation={"by": [[]], "indicators": ["MI1.1"]}))
    out = tmp_path / "sim"
    assert main(["simulate", "--spec", str(spec), "--reps", "2", "--out", str(out), "-q"]) == 0
    s = pd.read_csv(out / "summary.csv")
    assert set(s["measure"]) == {"count", "share"} and (s["reps"] == 2).all()
    assert (out / "summary.md").read_text().startswith("| indicator")
