"""The XLSForm expression parser and its vectorised evaluation."""

from __future__ import annotations

import inspect
from datetime import date

import numpy as np
import pandas as pd
import pytest

from questionnaires import expressions
from questionnaires.expressions import evaluate, evaluate_bool, parse, references, uses_current
from surveycore import SurveyError

TODAY = date(2025, 6, 30)
DF = pd.DataFrame(
    {
        "age": [3, 20, np.nan, 70],
        "cob": ["FRA", "MAR", None, ""],
        "langs": ["fr ar", "ar", None, "en"],
        "yr": [2020.0, 2026.0, np.nan, 1999.0],
    }
)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("${age} >= 5", [False, True, False, True]),  # missing number: comparison false
        ("${age} != 5", [True, True, True, True]),  # NaN != 5 is true (XPath)
        ("${cob} = ''", [False, False, True, True]),  # unanswered is the empty string
        ("${cob} != 'FRA' and ${cob} != ''", [False, True, False, False]),
        ("${cob} = 'FRA' or ${age} > 60", [True, False, False, True]),
        ("not(${age} < 5)", [False, True, True, True]),
        ("selected(${langs}, 'ar')", [True, True, False, False]),
        ("count-selected(${langs}) = 2", [True, False, False, False]),
        ("${yr} <= int(format-date(today(), '%Y'))", [True, False, False, True]),
        ("string-length(${cob}) = 3", [True, True, False, False]),
        ("regex(${cob}, '^[A-Z]{3}$')", [True, True, False, False]),
        ("true() and not(false())", [True, True, True, True]),
        ("(${age} + 1) * 2 > 40", [False, True, False, True]),
        ("${age} mod 2 = 1 or ${age} div 4 = 5", [True, True, False, False]),
        ("-${age} < -10", [False, True, False, True]),
        ("if(${age} > 10, 'adult', 'child') = 'adult'", [False, True, False, True]),
        ("coalesce(${cob}, 'none') = 'none'", [False, False, True, True]),
        ("${age} = '20'", [False, True, False, False]),  # number vs text: compared as numbers
    ],
)
def test_semantics(expression, expected):
    assert evaluate_bool(expression, DF, today=TODAY).tolist() == expected


def test_values_and_current():
    out = evaluate("concat(${cob}, '-', ${age})", DF, today=TODAY)
    assert out.tolist() == ["FRA-3", "MAR-20", "-", "-70"]
    current = pd.Series([1, 13, np.nan, 12])
    ok = evaluate_bool(". >= 1 and . <= 12", DF, current=current, today=TODAY)
    assert ok.tolist() == [True, False, False, True]
    assert evaluate("format-date(today(), '%Y-%n')", DF.iloc[:1], today=TODAY).tolist() == [
        "2025-6"
    ]


def test_precedence():
    # and binds tighter than or; * tighter than +; comparison after arithmetic
    one = pd.DataFrame({"x": [1.0]})
    assert evaluate("1 + 2 * 3", one).tolist() == [7.0]
    assert evaluate("10 - 4 - 3", one).tolist() == [3.0]
    assert evaluate_bool("1 = 1 or 1 = 2 and 1 = 3", one).tolist() == [True]
    assert evaluate_bool("(1 = 1 or 1 = 2) and 1 = 3", one).tolist() == [False]
    # relational binds tighter than equality (XPath 1.0): (1 < 2) = (3 < 4)
    assert evaluate_bool("1 < 2 = 3 < 4", one).tolist() == [True]


def test_references():
    tree = parse("${a} > 1 and selected(${b}, 'x') or . < ${c}")
    assert references(tree) == {"a", "b", "c"}
    assert uses_current(tree)
    assert not uses_current(parse("${a} = 1"))


@pytest.mark.parametrize(
    "bad",
    [
        "${age} >",
        "foo(1)",
        "age > 3",
        "${age} >= 5 5",
        "'abc",
        "",
        "selected(${a})",
        "(${a} = 1",
        "__import__('os')",
        "${a}; ${b}",
    ],
)
def test_syntax_errors(bad):
    with pytest.raises(SurveyError, match="cannot read XLSForm expression"):
        parse(bad)


def test_missing_column_is_an_error():
    with pytest.raises(SurveyError, match="not a column"):
        evaluate("${nope} = 1", DF)


def test_no_python_eval():
    source = inspect.getsource(expressions)
    assert "eval(" not in source
    assert "exec(" not in source
