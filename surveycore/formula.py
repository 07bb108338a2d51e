"""Model formulas read as data, never run as code.

A formula such as ``"api00 ~ ell + C(stype) + I(meals / 100) + log(enroll) + ell:meals"`` is
tokenised and parsed here against the data's columns and a small whitelist of
transformations; the model matrix is then built with numpy. Nothing in the text is passed to
Python's ``eval`` or to patsy, so a formula taken from a specification file cannot run code.

Grammar (Wilkinson & Rogers 1973; R's ``?formula``)::

    formula  := [response] "~" terms
    terms    := product (("+" | "-") product)*
    product  := inter ("*" inter)*            a*b = a + b + a:b
    inter    := atom (":" atom)*
    atom     := "(" terms ")" | "0" | "1" | factor
    factor   := NAME | "C(" NAME ")" | "factor(" NAME ")" | "I(" expr ")"
              | FUNCTION "(" expr ")" | "poly(" NAME "," DEGREE ["," "raw" "=" TRUE] ")"
    expr     := arithmetic over columns and numbers, comparisons with numbers or strings,
                "&", "|", "!", and the FUNCTIONS below

``NAME`` is a column of the data: a plain name (dots allowed, ``sch.wide``), a back-quoted
name (```` `age group` ````) or ``Q('age group')``. ``FUNCTIONS`` are ``log, log2, log10, log1p,
exp, sqrt, abs``. Anything else is refused with the offending term named.

Coding follows R: a numeric column is one column; a text, categorical or boolean column (or a
boolean ``I()``) gets treatment contrasts against its first level (sorted), named
``<term><level>`` (``stypeH``, ``I(x == 'a')TRUE``), unless the model lacks the margin that
makes contrasts estimable (``0 + f``), where every level gets its column. ``poly(x, k)`` is R's
orthogonal polynomial (``poly(x, 2)1``, ``poly(x, 2)2``); ``raw=TRUE`` gives the powers.
Terms are ordered by interaction order, then by appearance (R's ``terms.formula``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveycore.errors import SurveyError

MAX_FORMULA_LENGTH = 4000
"""Longest formula accepted, in characters."""
MAX_NESTING = 32
"""Deepest nesting of parentheses and calls accepted."""
MAX_POLY_DEGREE = 10

FUNCTIONS = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
FACTOR_CALLS = ("C", "factor", "as.factor")

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<string>'[^'\\]*'|"[^"\\]*")
    | (?P<backtick>`[^`]+`)
    | (?P<op>\*\*|==|!=|<=|>=|[~+\-*/:^(),<>&|!=])
    | (?P<name>[A-Za-z.][A-Za-z0-9_.]*|_[A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)

_EXAMPLE = "e.g. 'y ~ x + C(region) + I(age ** 2) + log(income)'"


def _refuse(formula: str, message: str, found: str, hint: str | None = None,
            argument: str = "formula") -> SurveyError:
    return SurveyError(
        f"cannot read the formula: {message}",
        argument=argument,
        expected="a model formula over the data's columns, " + _EXAMPLE,
        found=found,
        hint=hint or "allowed: columns, C()/factor(), I() of arithmetic on columns, "
        + ", ".join(FUNCTIONS) + ", poly(), ':' and '*' interactions",
    )


@dataclass(frozen=True)
class Expr:
    """A node of an arithmetic expression: ``col``, ``num``, ``str``, ``call``, ``binop``,
    ``neg`` or ``not``."""

    kind: str
    value: Any = None
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Factor:
    """One factor of a model term.

    ``kind`` is ``value`` (a column or an expression), ``categorical`` (``C(x)``), or
    ``poly``; ``label`` is the R-style name used for its columns.
    """

    kind: str
    label: str
    expr: Expr
    degree: int = 0
    raw: bool = False


@dataclass(frozen=True)
class ModelFormula:
    """A parsed formula: the response factor (or ``None``), the terms (tuples of factors,
    in R's order) and whether the model has an intercept."""

    text: str
    response: Factor | None
    terms: tuple[tuple[Factor, ...], ...]
    intercept: bool

    @property
    def columns(self) -> list[str]:
        """Columns of the data that the formula reads."""
        out: list[str] = []
        factors = [f for t in self.terms for f in t]
        if self.response is not None:
            factors.insert(0, self.response)
        for f in factors:
            for name in _expr_columns(f.expr):
                if name not in out:
                    out.append(name)
        return out


def _expr_columns(e: Expr) -> list[str]:
    if e.kind == "col":
        return [e.value]
    out: list[str] = []
    for a in e.args:
        out += _expr_columns(a)
    return out


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _refuse(text, f"unexpected character at position {pos + 1}",
                          repr(text[pos:pos + 20]))
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "backtick":
            kind, value = "name", value[1:-1]
        elif kind == "string":
            value = value[1:-1]
        out.append((kind, value, m.start(kind)))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str, columns: list[str]) -> None:
        self.text = text
        self.columns = set(columns)
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    # -- helpers --------------------------------------------------------------------------
    def peek(self, k: int = 0) -> tuple[str, str, int]:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def at(self, *ops: str) -> bool:
        kind, val, _ = self.peek()
        return kind == "op" and val in ops

    def expect(self, op: str) -> None:
        kind, val, pos = self.take()
        if kind != "op" or val != op:
            raise _refuse(self.text, f"expected {op!r} at position {pos + 1}",
                          repr(val or "end of formula"))

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _refuse(self.text, "nested too deeply",
                          f"more than {MAX_NESTING} levels of parentheses or calls",
                          hint="simplify the formula or derive the variable first")

    def source(self, start: int, end: int) -> str:
        """Canonical text of tokens ``start:end`` (R/patsy spacing), used in term names."""
        parts: list[str] = []
        for kind, val, _ in self.tokens[start:end]:
            if kind == "string":
                parts.append(repr(val))
            elif kind == "op" and val in ("==", "!=", "<=", ">=", "<", ">", "&", "|", "+",
                                          "-", "*", "/", "**", "^"):
                parts.append(f" {val} ")
            elif kind == "op" and val == ",":
                parts.append(", ")
            elif kind == "name" and not (val.replace(".", "_").isidentifier()):
                parts.append(f"`{val}`")
            else:
                parts.append(val)
        text = "".join(parts)
        return re.sub(r"\(\s*-\s*", "(-", text).strip()

    def column(self, name: str, pos: int) -> Expr:
        if name not in self.columns:
            raise SurveyError(
                f"the formula names {name!r}, which is not a column of the data",
                argument="formula",
                expected="columns of the data (or C, factor, I, poly, " + ", ".join(FUNCTIONS) + ")",
                found=f"{name!r} at position {pos + 1} of {self.text!r}",
            )
        return Expr("col", name)

    # -- formula level ----------------------------------------------------------------------
    def formula(self, need_response: bool) -> ModelFormula:
        response = None
        if not self.at("~"):
            start = self.i
            response = self.factor()
            if not self.at("~"):
                kind, val, pos = self.peek()
                raise _refuse(self.text, "the response must be one term followed by '~'",
                              f"{val!r} at position {pos + 1}" if kind != "end" else repr(self.text))
            del start
        elif need_response:
            raise _refuse(self.text, "no response before '~'", repr(self.text))
        self.expect("~")
        terms, intercept = self.terms()
        kind, val, pos = self.peek()
        if kind != "end":
            raise _refuse(self.text, f"unexpected {val!r} at position {pos + 1}", repr(self.text))
        return ModelFormula(self.text, response, _order(terms), intercept)

    def terms(self) -> tuple[list[tuple[Factor, ...]], bool]:
        """A sum of terms; returns (terms, intercept)."""
        terms, intercept = self.product()
        intercept = True if intercept is None else intercept
        while self.at("+", "-"):
            op = self.take()[1]
            more, icpt = self.product()
            if op == "+":
                for t in more:
                    if t not in terms:
                        terms.append(t)
                if icpt is not None:
                    intercept = icpt
            else:
                terms = [t for t in terms if t not in more]
                if icpt is True:
                    intercept = False
                elif icpt is False:
                    intercept = True
        return terms, intercept

    def product(self) -> tuple[list[tuple[Factor, ...]], bool | None]:
        terms, icpt = self.inter()
        while self.at("*"):
            self.take()
            more, icpt2 = self.inter()
            if icpt is not None or icpt2 is not None:
                raise _refuse(self.text, "'*' with 0 or 1", repr(self.text))
            terms = _union(_union(terms, more), _interact(terms, more))
        return terms, icpt

    def inter(self) -> tuple[list[tuple[Factor, ...]], bool | None]:
        terms, icpt = self.atom()
        while self.at(":"):
            self.take()
            more, icpt2 = self.atom()
            if icpt is not None or icpt2 is not None:
                raise _refuse(self.text, "':' with 0 or 1", repr(self.text))
            terms = _interact(terms, more)
        return terms, icpt

    def atom(self) -> tuple[list[tuple[Factor, ...]], bool | None]:
        kind, val, pos = self.peek()
        if kind == "op" and val == "(":
            self.take()
            self.enter()
            terms, icpt = self.terms()
            self.depth -= 1
            self.expect(")")
            return terms, (None if icpt else False)
        if kind == "number":
            self.take()
            if val in ("0", "1"):
                return [], val == "1"
            raise _refuse(self.text, f"a number ({val}) as a term", f"{val!r} at position {pos + 1}",
                          hint="only 0 and 1 (no intercept / intercept) are terms; "
                          "use I() for arithmetic")
        return [(self.factor(),)], None

    # -- factors ----------------------------------------------------------------------------
    def factor(self) -> Factor:
        start = self.i
        kind, val, pos = self.take()
        if kind != "name":
            raise _refuse(self.text, f"unexpected {val or 'end of formula'!r} at position {pos + 1}",
                          repr(self.text))
        if not self.at("("):
            return Factor("value", val if val.replace(".", "_").isidentifier() else f"`{val}`",
                          self.column(val, pos))
        self.take()
        self.enter()
        if val == "Q":
            k, name, p = self.take()
            if k != "string":
                raise _refuse(self.text, "Q() takes a quoted column name", f"position {p + 1}")
            self.expect(")")
            self.depth -= 1
            return Factor("value", name, self.column(name, p))
        if val in FACTOR_CALLS:
            inner = self.factor()
            if inner.kind != "value" or inner.expr.kind != "col":
                raise _refuse(self.text, f"{val}() takes one column", self.source(start, self.i))
            if self.at(","):
                raise _refuse(self.text, f"{val}() with options", self.source(start, self.i + 1),
                              hint="recode the column first; treatment contrasts are used")
            self.expect(")")
            self.depth -= 1
            return Factor("categorical", self.source(start, self.i), inner.expr)
        if val == "poly":
            return self.poly(start)
        if val == "I":
            expr = self.expr()
            self.expect(")")
            self.depth -= 1
            return Factor("value", self.source(start, self.i), expr)
        if val in FUNCTIONS:
            expr = self.expr()
            self.expect(")")
            self.depth -= 1
            return Factor("value", self.source(start, self.i), Expr("call", val, (expr,)))
        raise _refuse(self.text, f"the function {val}() is not allowed", f"{val!r} at position {pos + 1}")

    def poly(self, start: int) -> Factor:
        kind, name, pos = self.take()
        if kind != "name" or self.at("("):
            raise _refuse(self.text, "poly() takes a column and a degree", self.source(start, self.i))
        col = self.column(name, pos)
        self.expect(",")
        kind, deg, pos = self.take()
        if kind != "number" or not deg.isdigit() or not 1 <= int(deg) <= MAX_POLY_DEGREE:
            raise _refuse(self.text, f"poly() degree must be an integer from 1 to {MAX_POLY_DEGREE}",
                          repr(deg))
        raw = False
        if self.at(","):
            self.take()
            k1, v1, _ = self.take()
            self.expect("=")
            k2, v2, _ = self.take()
            if v1 != "raw" or v2 not in ("TRUE", "FALSE", "True", "False"):
                raise _refuse(self.text, "poly() accepts only raw=TRUE or raw=FALSE",
                              self.source(start, self.i))
            raw = v2 in ("TRUE", "True")
        self.expect(")")
        self.depth -= 1
        return Factor("poly", self.source(start, self.i), col, int(deg), raw)

    # -- arithmetic inside I() and functions -------------------------------------------------
    _LEVELS = (("|",), ("&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/"))

    def expr(self, level: int = 0) -> Expr:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.expr(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take()[1]
            node = Expr("binop", op, (node, self.expr(level + 1)))
            self.check_size(node)
        return node

    def check_size(self, node: Expr) -> None:
        if _depth(node) > 4 * MAX_NESTING:
            raise _refuse(self.text, "expression too long", f"more than {4 * MAX_NESTING} operations in a chain",
                          hint="derive the variable in the data first")

    def unary(self) -> Expr:
        if self.at("-", "!", "+"):
            op = self.take()[1]
            self.enter()
            inner = self.unary()
            self.depth -= 1
            return inner if op == "+" else Expr("neg" if op == "-" else "not", None, (inner,))
        return self.power()

    def power(self) -> Expr:
        base = self.primary()
        if self.at("^", "**"):
            self.take()
            self.enter()
            exponent = self.unary()  # right-associative, binds tighter than unary minus on the left
            self.depth -= 1
            return Expr("binop", "**", (base, exponent))
        return base

    def primary(self) -> Expr:
        kind, val, pos = self.take()
        if kind == "number":
            return Expr("num", float(val))
        if kind == "string":
            return Expr("str", val)
        if kind == "op" and val == "(":
            self.enter()
            node = self.expr()
            self.depth -= 1
            self.expect(")")
            return node
        if kind == "name":
            if self.at("("):
                if val not in FUNCTIONS:
                    raise _refuse(self.text, f"the function {val}() is not allowed",
                                  f"{val!r} at position {pos + 1}")
                self.take()
                self.enter()
                node = Expr("call", val, (self.expr(),))
                self.depth -= 1
                self.expect(")")
                return node
            if val in ("TRUE", "FALSE", "True", "False") and val not in self.columns:
                return Expr("num", 1.0 if val.upper() == "TRUE" else 0.0)
            return self.column(val, pos)
        raise _refuse(self.text, f"unexpected {val or 'end of formula'!r} at position {pos + 1}",
                      repr(self.text))


def _depth(e: Expr) -> int:
    depth, stack = 0, [(e, 1)]
    while stack:
        node, d = stack.pop()
        depth = max(depth, d)
        stack.extend((a, d + 1) for a in node.args)
    return depth


def _union(a: list, b: list) -> list:
    return a + [t for t in b if t not in a]


def _interact(a: list[tuple[Factor, ...]], b: list[tuple[Factor, ...]]) -> list[tuple[Factor, ...]]:
    out: list[tuple[Factor, ...]] = []
    for ta in a:
        for tb in b:
            t = ta + tuple(f for f in tb if f not in ta)
            if t not in out:
                out.append(t)
    return out


def _order(terms: list[tuple[Factor, ...]]) -> tuple[tuple[Factor, ...], ...]:
    return tuple(sorted(terms, key=len))  # stable: by order, then by appearance


def parse_formula(formula: Any, columns: Any, *, response: bool = True) -> ModelFormula:
    """Parse ``formula`` against ``columns``; refuse anything outside the whitelist.

    Parameters
    ----------
    formula : str
        ``"y ~ terms"``; with ``response=False`` the right-hand side alone (``"x + C(g)"``) or
        ``"~ x + C(g)"``.
    columns : iterable of str
        The data's columns; every name in the formula must be one of them.
    response : bool
        Whether a response is required.
    """
    if not isinstance(formula, str):
        raise _refuse(str(formula), "not a string", type(formula).__name__)
    if len(formula) > MAX_FORMULA_LENGTH:
        raise _refuse(formula[:40], "too long",
                      f"{len(formula)} characters (at most {MAX_FORMULA_LENGTH})")
    text = formula.strip()
    if response and "~" not in text:
        raise SurveyError(
            "formula must be a string 'response ~ terms'",
            argument="formula",
            expected="e.g. 'api00 ~ ell + meals'",
            found=repr(formula),
        )
    if not response and not text.startswith("~"):
        text = "~ " + text
    if not text.replace("~", "").strip():
        raise _refuse(formula, "no terms", repr(formula))
    parser = _Parser(text, [str(c) for c in columns])
    parsed = parser.formula(need_response=response)
    if not response and parsed.response is not None:
        raise _refuse(formula, "a response where only terms are expected", repr(formula))
    return parsed


# ------------------------------------------------------------------------------ evaluation
def _evaluate(e: Expr, data: pd.DataFrame) -> np.ndarray:
    if e.kind == "col":
        return _column(data, e.value)
    if e.kind == "num":
        return np.full(len(data), e.value)
    if e.kind == "str":
        return np.full(len(data), e.value, dtype=object)
    args = [_evaluate(a, data) for a in e.args]
    with np.errstate(all="ignore"):
        if e.kind == "neg":
            return -_numeric(args[0], e)
        if e.kind == "not":
            return ~_truth(args[0], e)
        if e.kind == "call":
            return FUNCTIONS[e.value](_numeric(args[0], e))
        op, (a, b) = e.value, args
        if op in ("&", "|"):
            x, y = _truth(a, e), _truth(b, e)
            return x & y if op == "&" else x | y
        if op in ("==", "!="):
            missing = pd.isna(a) | pd.isna(b)
            eq = np.asarray(a == b, dtype=bool) if (a.dtype == object or b.dtype == object) else (a == b)
            out = (eq if op == "==" else ~eq).astype(object)
            out[missing] = np.nan
            return out
        x, y = _numeric(a, e), _numeric(b, e)
        if op in ("<", "<=", ">", ">="):
            missing = np.isnan(x) | np.isnan(y)
            out = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op].astype(object)
            out[missing] = np.nan
            return out
        return {"+": x + y, "-": x - y, "*": x * y, "/": x / y, "**": x ** y}[op]


def _column(data: pd.DataFrame, name: str) -> np.ndarray:
    series = data[name]
    if isinstance(series, pd.DataFrame):
        raise SurveyError("a column name is duplicated in the data", argument="formula",
                          expected="unique column names", found=repr(name))
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        raise SurveyError("a date is not a model variable", argument="formula",
                          expected="numeric or categorical columns",
                          found=f"{name!r} has dtype {series.dtype}",
                          hint="derive a number from it first (e.g. years since a date)")
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        return series.to_numpy(dtype=bool).astype(object)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    values = series.astype(object).to_numpy()
    return np.where(pd.isna(values), np.nan, values).astype(object)


def _is_numeric(a: np.ndarray) -> bool:
    return a.dtype.kind in "fiu"


def _numeric(a: np.ndarray, e: Expr) -> np.ndarray:
    if _is_numeric(a):
        return a.astype(float)
    vals = a[~pd.isna(a)]
    if all(isinstance(v, bool | np.bool_) for v in vals):
        out = np.full(len(a), np.nan)
        ok = ~pd.isna(a)
        out[ok] = a[ok].astype(float)
        return out
    raise SurveyError("arithmetic on a text column", argument="formula",
                      expected="numbers inside I(), log(), exp() ...",
                      found=f"text values such as {vals[0]!r}" if len(vals) else "text",
                      hint="compare text with == 'value', or use C(column)")


def _truth(a: np.ndarray, e: Expr) -> np.ndarray:
    return np.asarray(_numeric(a, e) != 0, dtype=bool)


def _levels(values: np.ndarray, series: pd.Series | None) -> list:
    ok = values[~pd.isna(values)]
    if series is not None and isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    uniq = pd.unique(ok)
    if all(isinstance(v, bool | np.bool_) for v in uniq):
        return [False, True]
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _level_label(level: Any) -> str:
    if isinstance(level, bool | np.bool_):
        return "TRUE" if level else "FALSE"
    if isinstance(level, float) and level.is_integer():
        return str(int(level))
    return str(level)


@dataclass
class _Coded:
    """A factor's columns before interaction: values (n, k), names, missing mask, levels."""

    values: np.ndarray
    names: list[str]
    missing: np.ndarray
    categorical: bool
    levels: list


def _code(f: Factor, data: pd.DataFrame) -> _Coded:
    raw = _evaluate(f.expr, data)
    missing = np.zeros(len(data), dtype=bool)
    for name in _expr_columns(f.expr):
        missing |= np.asarray(pd.isna(_column(data, name)), dtype=bool)
    undefined = np.asarray(pd.isna(raw), dtype=bool) & ~missing
    if undefined.any():
        raise SurveyError(
            "the formula gives undefined values",
            argument="formula",
            expected="values defined on every row (e.g. log() of positive numbers)",
            found=f"{f.label}: {int(undefined.sum())} rows",
        )
    series = data[f.expr.value] if f.expr.kind == "col" else None
    if f.kind == "poly":
        x = _numeric(raw, f.expr)
        return _Coded(_poly(x, ~missing, f.degree, f.raw), [f"{f.label}{j}" for j in range(1, f.degree + 1)],
                      missing, False, [])
    categorical = f.kind == "categorical" or not _is_numeric(raw)
    if not categorical:
        return _Coded(raw.astype(float)[:, None], [f.label], missing, False, [])
    levels = _levels(raw, series)
    codes = np.full(len(raw), -1)
    for j, lv in enumerate(levels):
        codes[~missing & np.asarray(raw == lv, dtype=bool)] = j
    dummies = (codes[:, None] == np.arange(len(levels))[None, :]).astype(float)
    return _Coded(dummies, [f"{f.label}{_level_label(lv)}" for lv in levels], missing, True, levels)


def _poly(x: np.ndarray, ok: np.ndarray, degree: int, raw: bool) -> np.ndarray:
    """R's ``poly(x, degree)``: orthonormal polynomials from the QR of centred powers."""
    out = np.full((len(x), degree), np.nan)
    xs = x[ok]
    if raw:
        out[ok] = xs[:, None] ** np.arange(1, degree + 1)[None, :]
        return out
    if len(np.unique(xs)) <= degree:
        raise SurveyError("poly() degree must be less than the number of distinct values",
                          argument="formula", expected=f"more than {degree} distinct values",
                          found=f"{len(np.unique(xs))} distinct values")
    xc = xs - xs.mean()
    powers = xc[:, None] ** np.arange(degree + 1)[None, :]
    q, r = np.linalg.qr(powers)
    z = q * np.diag(r)[None, :]
    z = z / np.sqrt((z**2).sum(axis=0))[None, :]
    out[ok] = z[:, 1:]
    return out


@dataclass(frozen=True)
class ModelMatrices:
    """Response (n,) or ``None``, model matrix (n, p), R-style column names, and the rows
    with a missing value in any model variable."""

    y: np.ndarray | None
    X: np.ndarray
    names: list[str]
    missing: np.ndarray


def model_matrices(data: pd.DataFrame, formula: str | ModelFormula, *,
                   response: bool = True) -> ModelMatrices:
    """Build the response and model matrix of ``formula`` on ``data`` (numpy; no ``eval``).

    Rows with a missing value get ``missing=True`` and zeros in ``X``/``y``; the caller
    decides whether they are allowed (e.g. only where the weight is zero).
    """
    parsed = formula if isinstance(formula, ModelFormula) else parse_formula(
        formula, list(data.columns), response=response)
    n = len(data)
    missing = np.zeros(n, dtype=bool)
    y = None
    if parsed.response is not None:
        coded = _code(parsed.response, data)
        missing |= coded.missing
        if coded.categorical:
            if len(coded.levels) != 2:
                raise SurveyError(
                    "the response must be one numeric column",
                    argument="formula",
                    expected="a numeric response or an indicator such as I(x == 'Yes')",
                    found=f"{len(coded.levels)} columns: " + ", ".join(coded.names[:5]),
                )
            y = coded.values[:, 1].copy()
        else:
            y = coded.values[:, 0].copy()
    blocks: list[np.ndarray] = []
    names: list[str] = []
    if parsed.intercept:
        blocks.append(np.ones((n, 1)))
        names.append("(Intercept)")
    cache: dict[Factor, _Coded] = {}
    present = {frozenset()} if parsed.intercept else set()
    for term in parsed.terms:
        cols = np.ones((n, 1))
        labels = [""]
        for f in term:
            if f not in cache:
                cache[f] = _code(f, data)
            c = cache[f]
            missing |= c.missing
            vals, nm = c.values, c.names
            if c.categorical:
                rest = frozenset(term) - {f}
                if rest in present:  # the margin is in the model: treatment contrasts
                    vals, nm = vals[:, 1:], nm[1:]
            # the earlier factor varies fastest (R's column order)
            cols = (cols[:, :, None] * vals[:, None, :]).reshape(n, -1, order="F")
            labels = [f"{a}:{b}" if a else b for b in nm for a in labels]
        present.add(frozenset(term))
        blocks.append(cols)
        names += labels
    X = np.column_stack(blocks) if blocks else np.zeros((n, 0))
    X = np.where(missing[:, None], 0.0, X)
    if y is not None:
        y = np.where(missing, 0.0, y)
    if not np.isfinite(X).all() or (y is not None and not np.isfinite(y).all()):
        bad = [names[j] for j in np.flatnonzero(~np.isfinite(X).all(axis=0))]
        raise SurveyError(
            "the formula gives infinite or undefined values",
            argument="formula",
            expected="finite values (e.g. log() of positive numbers)",
            found=", ".join(bad) if bad else "the response",
        )
    if X.shape[1] == 0:
        raise _refuse(parsed.text, "no terms and no intercept", repr(parsed.text))
    return ModelMatrices(y, X, names, missing)
