"""XLSForm expressions (the XPath subset used in ``relevant``, ``constraint``, ``calculation``).

A small recursive-descent parser turns an expression into a tree; :func:`evaluate` runs the
tree over every row of a data frame at once (numpy arrays, no Python ``eval``).

Grammar (XPath 1.0 operator precedence, as in ODK/JavaRosa)::

    expr     := or
    or       := and ("or" and)*
    and      := compare ("and" compare)*
    compare  := relation (("=" | "!=") relation)*
    relation := additive (("<" | "<=" | ">" | ">=") additive)*
    additive := multiply (("+" | "-") multiply)*
    multiply := unary (("*" | "div" | "mod") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | STRING | "${" NAME "}" | "." | NAME "(" [expr ("," expr)*] ")"
              | "(" expr ")"

Values follow XPath 1.0 conversions: an unanswered question is the empty string ``''`` (as in
ODK), ``number('')`` is NaN, comparisons with NaN are false except ``!=``; ``=`` compares as
booleans if either side is boolean, else as numbers if either side is a number, else as text;
``<``/``>`` compare numbers (or dates). Functions: ``selected``, ``count-selected``, ``not``,
``true``, ``false``, ``boolean``, ``number``, ``int``, ``string``, ``string-length``,
``concat``, ``coalesce``, ``if``, ``regex``, ``round``, ``today``, ``format-date``.

``regex(value, 'pattern')`` takes its pattern as a literal of the form, compiled once when the
expression is parsed with Google's RE2, whose matching time is linear in the length of the
text (no catastrophic backtracking); a pattern RE2 cannot read (e.g. a backreference) is
refused at that point. Expressions longer than :data:`MAX_LENGTH` characters, nested deeper
than :data:`MAX_NESTING` parentheses or calls, or whose tree is deeper than :data:`MAX_DEPTH`
are refused.

Reference: XLSForm specification (xlsform.org), ODK XForms specification (getodk.github.io/xforms-spec).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from surveycore import SurveyError
from surveycore.regex import PatternError, compile_pattern

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.\-]*)\s*\})
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
    | (?P<dot>\.)
    | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.VERBOSE,
)

MAX_LENGTH = 10_000
"""Longest expression accepted, in characters."""
MAX_NESTING = 40
"""Deepest nesting of parentheses and function calls accepted."""
MAX_DEPTH = 200
"""Deepest expression tree accepted (a chain ``1 + 1 + …`` of k terms has depth k)."""

FUNCTIONS = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "boolean": (1, 1),
    "number": (1, 1),
    "int": (1, 1),
    "string": (1, 1),
    "string-length": (1, 1),
    "concat": (1, 99),
    "coalesce": (2, 2),
    "if": (3, 3),
    "regex": (2, 2),
    "round": (1, 2),
    "today": (0, 0),
    "format-date": (2, 2),
}


@dataclass(frozen=True)
class Node:
    """A node of the expression tree: ``kind`` is num, str, ref, dot, call, binop or neg."""

    kind: str
    value: Any = None
    args: tuple[Node, ...] = ()


def _error(expression: str, message: str, position: int | None = None) -> SurveyError:
    where = f" at character {position + 1}" if position is not None else ""
    return SurveyError(
        f"cannot read XLSForm expression: {message}{where}",
        argument="expression",
        expected="an XLSForm (XPath) expression, e.g. ${age} >= 15 and selected(${x}, 'a')",
        found=repr(expression),
    )


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _error(text, f"unexpected {text[pos:].strip()[:10]!r}", pos)
        if m.group("ref"):
            out.append(("ref", m.group("refname"), m.start("ref")))
        elif m.group("number"):
            out.append(("number", m.group("number"), m.start("number")))
        elif m.group("string"):
            out.append(("string", m.group("string")[1:-1], m.start("string")))
        elif m.group("op"):
            out.append(("op", m.group("op"), m.start("op")))
        elif m.group("dot"):
            out.append(("dot", ".", m.start("dot")))
        else:
            out.append(("name", m.group("name"), m.start("name")))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


@lru_cache(maxsize=256)
def compile_regex(pattern: str):
    """Compile a form's regular expression with RE2 (linear-time matching).

    Raises :class:`SurveyError` for a pattern RE2 cannot read.
    """
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise _error(pattern, f"a regular expression RE2 cannot read ({exc.detail})") from None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.nesting = 0

    def enter(self, pos: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise _error(self.text, f"nested more than {MAX_NESTING} levels deep", pos)

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, val, pos = self.take()
        if val != value or kind not in ("op",):
            raise _error(self.text, f"expected {value!r}, found {val or 'the end'!r}", pos)

    def is_word(self, word: str) -> bool:
        kind, val, _ = self.peek()
        return kind == "name" and val == word

    def parse(self) -> Node:
        node = self.or_()
        kind, val, pos = self.peek()
        if kind != "end":
            raise _error(self.text, f"unexpected {val!r}", pos)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.is_word("or"):
            self.take()
            node = Node("binop", "or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.compare()
        while self.is_word("and"):
            self.take()
            node = Node("binop", "and", (node, self.compare()))
        return node

    def compare(self) -> Node:
        node = self.relational()
        while self.peek()[0] == "op" and self.peek()[1] in ("=", "!="):
            op = self.take()[1]
            node = Node("binop", op, (node, self.relational()))
        return node

    def relational(self) -> Node:
        node = self.additive()
        while self.peek()[0] == "op" and self.peek()[1] in ("<", "<=", ">", ">="):
            op = self.take()[1]
            node = Node("binop", op, (node, self.additive()))
        return node

    def additive(self) -> Node:
        node = self.multiply()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            node = Node("binop", op, (node, self.multiply()))
        return node

    def multiply(self) -> Node:
        node = self.unary()
        while (
            (self.peek()[0] == "op" and self.peek()[1] == "*")
            or self.is_word("div")
            or self.is_word("mod")
        ):
            op = self.take()[1]
            node = Node("binop", op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek()[0] == "op" and self.peek()[1] == "-":
            self.take()
            return Node("neg", None, (self.unary(),))
        return self.primary()

    def primary(self) -> Node:
        kind, val, pos = self.take()
        if kind == "number":
            return Node("num", float(val))
        if kind == "string":
            return Node("str", val)
        if kind == "ref":
            return Node("ref", val)
        if kind == "dot":
            return Node("dot")
        if kind == "op" and val == "(":
            self.enter(pos)
            node = self.or_()
            self.expect(")")
            self.nesting -= 1
            return node
        if kind == "name":
            if not (self.peek()[0] == "op" and self.peek()[1] == "("):
                raise _error(self.text, f"bare name {val!r} (write ${{{val}}} for a question)", pos)
            if val not in FUNCTIONS:
                raise _error(self.text, f"unsupported function {val}()", pos)
            self.take()
            self.enter(pos)
            args: list[Node] = []
            if not (self.peek()[0] == "op" and self.peek()[1] == ")"):
                args.append(self.or_())
                while self.peek()[0] == "op" and self.peek()[1] == ",":
                    self.take()
                    args.append(self.or_())
            self.expect(")")
            self.nesting -= 1
            low, high = FUNCTIONS[val]
            if not low <= len(args) <= high:
                raise _error(
                    self.text, f"{val}() takes {low}–{high} arguments, got {len(args)}", pos
                )
            if val == "regex":
                if args[1].kind != "str":
                    raise _error(self.text, "the pattern of regex() must be a quoted literal "
                                 "(a pattern read from data or answers is not allowed)", pos)
                compile_regex(args[1].value)
            return Node("call", val, tuple(args))
        raise _error(self.text, f"unexpected {val or 'end of expression'!r}", pos)


def parse(expression: str) -> Node:
    """Parse an XLSForm expression; raise :class:`SurveyError` on a syntax error."""
    if not isinstance(expression, str) or not expression.strip():
        raise _error(str(expression), "empty expression")
    if len(expression) > MAX_LENGTH:
        raise _error(expression[:60] + "…", f"longer than {MAX_LENGTH} characters")
    node = _Parser(expression).parse()
    if _depth(node) > MAX_DEPTH:
        raise _error(expression[:60] + ("…" if len(expression) > 60 else ""),
                     f"more than {MAX_DEPTH} operations in a chain")
    return node


def _depth(node: Node) -> int:
    """Depth of the tree, computed without recursion."""
    depth, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        depth = max(depth, d)
        stack.extend((a, d + 1) for a in n.args)
    return depth


def references(node: Node) -> set[str]:
    """Names of the questions an expression reads (``${name}``)."""
    if node.kind == "ref":
        return {node.value}
    out: set[str] = set()
    for arg in node.args:
        out |= references(arg)
    return out


def uses_current(node: Node) -> bool:
    """Whether the expression reads the current answer (``.``)."""
    return node.kind == "dot" or any(uses_current(a) for a in node.args)


# ------------------------------------------------------------------------------ evaluation
@dataclass
class _Val:
    kind: str  # num, str, bool, date
    data: np.ndarray


def _num(v: _Val) -> np.ndarray:
    if v.kind == "num":
        return v.data
    if v.kind == "bool":
        return v.data.astype(float)
    if v.kind == "date":
        days = v.data.astype("datetime64[D]").astype("int64").astype(float)
        return np.where(np.isnat(v.data), np.nan, days)
    return pd.to_numeric(pd.Series(v.data, dtype=object), errors="coerce").to_numpy(dtype=float)


def _fmt_num(x: float) -> str:
    if np.isnan(x):
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _str(v: _Val) -> np.ndarray:
    if v.kind == "str":
        return v.data
    if v.kind == "num":
        return np.array([_fmt_num(x) for x in v.data], dtype=object)
    if v.kind == "bool":
        return np.where(v.data, "true", "false").astype(object)
    return np.array(["" if np.isnat(x) else str(x)[:10] for x in v.data], dtype=object)


def _bool(v: _Val) -> np.ndarray:
    if v.kind == "bool":
        return v.data
    if v.kind == "num":
        return ~np.isnan(v.data) & (v.data != 0)
    if v.kind == "date":
        return ~np.isnat(v.data)
    return np.array([len(s) > 0 for s in v.data], dtype=bool)


def _date(v: _Val) -> np.ndarray:
    if v.kind == "date":
        return v.data
    if v.kind == "num":
        out = np.full(len(v.data), np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnan(v.data)
        out[ok] = v.data[ok].astype("int64").astype("datetime64[D]")
        return out
    parsed = pd.to_datetime(pd.Series(_str(v)), errors="coerce", format="%Y-%m-%d")
    return parsed.to_numpy(dtype="datetime64[D]")


def column_value(series: pd.Series) -> _Val:
    """A data-frame column as an expression value (missing answers become ``''``/NaN)."""
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        return _Val("bool", series.to_numpy(dtype=bool))
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return _Val("num", series.astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(series):
        return _Val("date", series.to_numpy(dtype="datetime64[D]"))
    text = series.astype(object).where(series.notna(), "")
    return _Val(
        "str", np.array([v if isinstance(v, str) else _fmt_scalar(v) for v in text], dtype=object)
    )


def column_text(series: pd.Series) -> np.ndarray:
    """A column as the text an XLSForm expression sees ('' when unanswered, 3 not 3.0)."""
    return _str(column_value(series))


def _fmt_scalar(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | float | np.integer | np.floating):
        return _fmt_num(float(v))
    return str(v)


class _Evaluator:
    def __init__(self, data: pd.DataFrame, current: pd.Series | None, today: date) -> None:
        self.data = data
        self.n = len(data)
        self.current = current
        self.today = np.datetime64(today, "D")
        self.cache: dict[str, _Val] = {}

    def full(self, kind: str, value: Any) -> _Val:
        if kind == "str":
            return _Val(kind, np.full(self.n, value, dtype=object))
        if kind == "num":
            return _Val(kind, np.full(self.n, value, dtype=float))
        if kind == "bool":
            return _Val(kind, np.full(self.n, value, dtype=bool))
        return _Val(kind, np.full(self.n, value, dtype="datetime64[D]"))

    def ref(self, name: str) -> _Val:
        if name not in self.cache:
            if name not in self.data.columns:
                raise SurveyError(
                    f"the expression reads ${{{name}}}, which is not a column of the data",
                    argument="data",
                    expected=f"a column named {name!r}",
                    found="no such column",
                )
            self.cache[name] = column_value(self.data[name])
        return self.cache[name]

    def run(self, node: Node) -> _Val:
        k = node.kind
        if k == "num":
            return self.full("num", node.value)
        if k == "str":
            return self.full("str", node.value)
        if k == "ref":
            return self.ref(node.value)
        if k == "dot":
            if self.current is None:
                raise SurveyError(
                    "the expression reads '.', but no current question is given",
                    argument="expression",
                    expected="'.' only in constraints",
                )
            return column_value(self.current)
        if k == "neg":
            return _Val("num", -_num(self.run(node.args[0])))
        if k == "binop":
            return self.binop(node.value, self.run(node.args[0]), self.run(node.args[1]))
        return self.call(node.value, node.args)

    def binop(self, op: str, a: _Val, b: _Val) -> _Val:
        if op == "or":
            return _Val("bool", _bool(a) | _bool(b))
        if op == "and":
            return _Val("bool", _bool(a) & _bool(b))
        if op in ("+", "-", "*", "div", "mod"):
            x, y = _num(a), _num(b)
            with np.errstate(all="ignore"):
                if op == "+":
                    r = x + y
                elif op == "-":
                    r = x - y
                elif op == "*":
                    r = x * y
                elif op == "div":
                    r = x / y
                else:
                    r = np.fmod(x, y)
            return _Val("num", r)
        if op in ("=", "!="):
            if "bool" in (a.kind, b.kind):
                eq = _bool(a) == _bool(b)
            elif "num" in (a.kind, b.kind):
                with np.errstate(invalid="ignore"):
                    eq = _num(a) == _num(b)
                if "str" in (a.kind, b.kind):
                    # an unanswered number is the empty string, as in ODK: ${n} = '' is true
                    num, text = (a, b) if a.kind == "num" else (b, a)
                    missing = np.isnan(num.data)
                    eq = np.where(missing, text.data == "", eq)
            elif "date" in (a.kind, b.kind):
                eq = _date(a) == _date(b)
            else:
                eq = _str(a) == _str(b)
            eq = np.asarray(eq, dtype=bool)
            return _Val("bool", eq if op == "=" else ~eq)
        if "date" in (a.kind, b.kind):
            x = _num(_Val("date", _date(a)))
            y = _num(_Val("date", _date(b)))
        else:
            x, y = _num(a), _num(b)
        with np.errstate(invalid="ignore"):
            r = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
        return _Val("bool", r)

    def call(self, name: str, args: tuple[Node, ...]) -> _Val:
        if name == "true":
            return self.full("bool", True)
        if name == "false":
            return self.full("bool", False)
        if name == "today":
            return self.full("date", self.today)
        vals = [self.run(a) for a in args]
        if name == "not":
            return _Val("bool", ~_bool(vals[0]))
        if name == "boolean":
            return _Val("bool", _bool(vals[0]))
        if name == "number":
            return _Val("num", _num(vals[0]))
        if name == "int":
            return _Val("num", np.trunc(_num(vals[0])))
        if name == "round":
            digits = int(_num(vals[1])[0]) if len(vals) > 1 and self.n else 0
            return _Val("num", np.round(_num(vals[0]), digits))
        if name == "string":
            return _Val("str", _str(vals[0]))
        if name == "string-length":
            return _Val("num", np.array([len(s) for s in _str(vals[0])], dtype=float))
        if name == "concat":
            parts = [_str(v) for v in vals]
            out = parts[0].copy()
            for p in parts[1:]:
                out = out + p
            return _Val("str", out)
        if name == "coalesce":
            a, b = _str(vals[0]), _str(vals[1])
            return _Val("str", np.where(a != "", a, b).astype(object))
        if name == "if":
            cond = _bool(vals[0])
            if vals[1].kind == vals[2].kind == "num":
                return _Val("num", np.where(cond, vals[1].data, vals[2].data))
            return _Val("str", np.where(cond, _str(vals[1]), _str(vals[2])).astype(object))
        if name == "selected":
            tokens = pd.Series(_str(vals[0]), dtype=object).str.split()
            wanted = _str(vals[1])
            return _Val("bool", np.array([w in t for t, w in zip(tokens, wanted)], dtype=bool))
        if name == "count-selected":
            return _Val("num", np.array([len(s.split()) for s in _str(vals[0])], dtype=float))
        if name == "regex":
            if args[1].kind != "str":  # a tree built by hand: same rule as the parser
                raise _error("regex", "the pattern of regex() must be a quoted literal")
            search = compile_regex(args[1].value).search
            return _Val("bool", np.array([search(s) is not None for s in _str(vals[0])], dtype=bool))
        if name == "format-date":
            return self.format_date(_date(vals[0]), _str(vals[1]))
        raise _error(name, f"unsupported function {name}()")  # pragma: no cover

    @staticmethod
    def format_date(dates: np.ndarray, fmts: np.ndarray) -> _Val:
        out = []
        for d, f in zip(dates, fmts):
            if np.isnat(d):
                out.append("")
                continue
            ts = pd.Timestamp(d)
            text = (
                f.replace("%Y", f"{ts.year:04d}")
                .replace("%y", f"{ts.year % 100:02d}")
                .replace("%m", f"{ts.month:02d}")
                .replace("%n", str(ts.month))
                .replace("%d", f"{ts.day:02d}")
                .replace("%e", str(ts.day))
            )
            out.append(text)
        return _Val("str", np.array(out, dtype=object))


def evaluate(
    expression: str | Node,
    data: pd.DataFrame,
    *,
    current: pd.Series | None = None,
    today: date | None = None,
) -> np.ndarray:
    """Evaluate an expression on every row of ``data``; return the values as a numpy array.

    Boolean expressions give a ``bool`` array; others give floats (numbers) or objects
    (text). ``current`` is the column that ``.`` refers to; ``today`` is the date that
    ``today()`` returns (default: the system date).
    """
    node = parse(expression) if isinstance(expression, str) else expression
    ev = _Evaluator(data, current, today or date.today())
    return ev.run(node).data


def evaluate_bool(
    expression: str | Node,
    data: pd.DataFrame,
    *,
    current: pd.Series | None = None,
    today: date | None = None,
) -> np.ndarray:
    """Evaluate an expression and convert it to booleans (XPath ``boolean()``)."""
    node = parse(expression) if isinstance(expression, str) else expression
    ev = _Evaluator(data, current, today or date.today())
    return _bool(ev.run(node))
