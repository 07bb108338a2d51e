"""Hostile-input cases whose fix lives in the specification, the CLI, MI 1.4 and publication:
NaN and duplicate keys in a spec, YAML bombs and tags, a spec with missing sections, checks made
when a spec is parsed, a non-spec file given as a spec, published flags of suppressed cells.
MI 1.4's row-order invariance is in tests/estimation/test_indicator_definitions.py."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from migsurvey.cli import EXIT_INPUT, main
from migsurvey.spec import default_spec_text


def _spec(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _small_spec(**changes):
    raw = yaml.safe_load(default_spec_text())
    raw["frame"]["synthetic"]["persons"] = 120_000
    raw["sample"]["psus"] = 60
    raw["sample"]["min_per_domain"] = {"by": "region", "psus": 6}
    for section, values in changes.items():
        if values is None:
            raw.pop(section, None)
        else:
            raw.setdefault(section, {}).update(values)
    return yaml.safe_dump(raw, sort_keys=False)


# -- production: the specification ------------------------------------------------------------
@pytest.mark.parametrize(
    "case, changes",
    [
        ("05_C07_power_nan", {"sample": {"power": float("nan")}}),
        ("20_C06_level_nan", {"estimation": {"level": float("nan")}}),
    ],
)
def test_spec_nan_refused_with_line(tmp_path, capsys, case, changes):
    path = _spec(tmp_path, _small_spec(**changes))
    assert main(["design", "--spec", str(path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{path}:" in err and "finite" in err


def test_23_C08_duplicate_key_refused(tmp_path, capsys):
    text = _small_spec() + "sample:\n  psus: 48\n"
    path = _spec(tmp_path, text)
    assert main(["design", "--spec", str(path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "each key once" in err and "a second 'sample'" in err


def test_30_C10_billion_laughs_refused_fast(tmp_path):
    import subprocess
    import sys

    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]\n" for k in range(1, 6))
    path = _spec(tmp_path, text)
    # CPU seconds of the refusal (an expansion would spend them), not wall time on a busy machine
    code = ("import sys, time; from migsurvey.cli import main; t = time.process_time(); "
            f"rc = main(['design', '--spec', {str(path)!r}]); "
            "print(rc, time.process_time() - t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # a hang fails here instead of blocking the suite
    rc, elapsed = proc.stdout.split()[-2:]
    # the aliases are refused before any expansion: seconds of imports, not minutes of nodes
    assert int(rc) == EXIT_INPUT and float(elapsed) < 5.0


def test_35_C23_no_weighting_key_uses_defaults(tmp_path):
    from migsurvey.spec import load_spec

    path = _spec(tmp_path, _small_spec(weighting=None, estimation=None, quality=None, output=None))
    spec = load_spec(path)
    assert spec["weighting"] and spec["estimation"]["level"] == 0.95
    assert spec["quality"]["preset"] and spec["output"]["formats"]
    assert main(["demo", "--spec", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0


def test_37_C03_python_tag_refused(tmp_path, capsys):
    path = _spec(tmp_path, f"!!python/object/apply:os.system ['touch {tmp_path}/pwned']: 1\n")
    assert main(["design", "--spec", str(path)]) == EXIT_INPUT
    assert "tag" in capsys.readouterr().err and not (tmp_path / "pwned").exists()


def test_38_C09_recursive_alias_refused(tmp_path, capsys):
    path = _spec(tmp_path, _small_spec() + "extra:\n  by: &x [*x]\n")
    assert main(["design", "--spec", str(path)]) == EXIT_INPUT


def _with_steps(steps):
    raw = yaml.safe_load(_small_spec())
    raw["weighting"] = steps
    return yaml.safe_dump(raw, sort_keys=False)


@pytest.mark.parametrize(
    "text",
    [
        _with_steps([{"calibrate": {"margins": ["region"], "method": "logit", "bounds": [3, 1]}}]),
        _with_steps([{"calibrate": {"margins": ["region"]}}, {"trim": {"upper": float("nan")}}]),
        _small_spec(quality={"preset": "oecd"}),
    ],
    ids=["bounds_reversed", "trim_nan", "unknown_preset"],
)
def test_39_C11_C14_checked_when_parsed(tmp_path, capsys, text):
    path = _spec(tmp_path, text)
    assert main(["design", "--spec", str(path)]) == EXIT_INPUT
    assert f"{path}:" in capsys.readouterr().err


def test_39_C14_unknown_by_column_named_with_its_key_and_line(tmp_path):
    """`by` columns may be derived variables, so they are checked when the indicators are
    estimated, with the spec key and line of the grouping."""
    from migsurvey.pipeline import run_survey
    from migsurvey.spec import load_spec
    from surveycore import SurveyError

    raw = yaml.safe_load(_small_spec())
    raw["frame"]["synthetic"]["persons"] = 20_000
    raw["sample"]["psus"] = 30
    raw["sample"]["min_per_domain"] = None  # 30 EAs of a census of 20,000: no regional minimum
    raw["estimation"]["by"] = [[], ["nationality"]]
    path = _spec(tmp_path, yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SurveyError) as info:
        run_survey(load_spec(path))
    assert "estimation.by[1]" in str(info.value) and "nationality" in str(info.value)


def test_50_C15_spec_etc_passwd_not_echoed(capsys):
    assert main(["design", "--spec", "/etc/passwd"]) == EXIT_INPUT
    assert "root:x:0:0" not in capsys.readouterr().err


# -- publication: disclosure (rows 31-34) -------------------------------------------------------
def test_34_I14_published_blanks_flags_of_suppressed_cells():
    from estimation.indicators.export import published_table

    class R:
        table = pd.DataFrame({"estimate": [1.0, 2.0], "se": 0.1, "ci_low": 0.0, "ci_high": 3.0,
                              "cv": 0.1, "n": 3, "suppressed": ["primary", ""],
                              "flag": ["F", "A"], "reliability": ["unreliable", "reliable"]})
        metadata: dict = {}

    t = published_table(R(), withhold_unreliable=False)
    assert t.loc[0, "flag"] in ("", None) or pd.isna(t.loc[0, "flag"])
    assert t.loc[0, "reliability"] in ("", None) or pd.isna(t.loc[0, "reliability"])
