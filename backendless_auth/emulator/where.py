"""A safe subset of Backendless's ``where`` clauses, parsed and evaluated in Python.

Never SQL: the clause is tokenized and parsed into a small tree, then evaluated over each user's
JSON. What it understands (keywords in any case)::

    clause  := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | "(" clause ")" | test
    test    := column op literal
             | column "IS" ["NOT"] "NULL"
             | column ["NOT"] "LIKE" string
             | column ["NOT"] "IN" "(" literal ("," literal)* ")"
    op      := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    literal := 'text' (a quote doubled inside) | number | TRUE | FALSE | NULL
    column  := a name ([A-Za-z_][A-Za-z0-9_]*) or a `backquoted` name

As in SQL, logic has three values: a comparison with a missing or null column is unknown, and
so is its ``NOT`` (``IS NULL`` finds those rows); a row matches when the clause is true. A
number compares with a number and a text with a text (anything else is unknown), ``LIKE``
takes ``%`` and ``_`` and ignores case, as MySQL's default collation does. Relations,
functions, date arithmetic and sub-queries are not part of the subset: they are refused with
:class:`WhereError`, as are clauses over 2,000 characters or nested more than 32 deep.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 2000
MAX_DEPTH = 32

Predicate = Callable[[dict[str, Any]], bool]
_Tri = Callable[[dict[str, Any]], "bool | None"]  # SQL's true, false and unknown (None)


class WhereError(ValueError):
    """The clause is outside the supported subset or malformed."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<bq>`[A-Za-z_][A-Za-z0-9_]*`)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "LIKE", "IN", "TRUE", "FALSE"}


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise WhereError(f"unexpected text at position {pos} of the where clause")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            out.append(("lit", value[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("lit", float(value) if any(c in value for c in ".eE") else int(value)))
        elif kind == "bq":
            out.append(("col", value[1:-1]))
        elif kind == "word":
            upper = value.upper()
            if upper == "TRUE":
                out.append(("lit", True))
            elif upper == "FALSE":
                out.append(("lit", False))
            elif upper == "NULL":
                out.append(("null", None))
            elif upper in _KEYWORDS:
                out.append(("kw", upper))
            else:
                out.append(("col", value))
        else:
            out.append((kind, value))
    return out


def _compare(left: Any, op: str, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    numeric = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)):
            return None
        if op not in ("=", "!=", "<>"):
            return None
    elif isinstance(left, numeric) and isinstance(right, numeric):
        pass
    elif not (isinstance(left, str) and isinstance(right, str)):
        return None
    if op == "=":
        return bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _like(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise WhereError("the where clause ends too early")
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Any = None) -> tuple[str, Any]:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise WhereError(f"expected {value or kind} in the where clause")
        return tok

    def clause(self) -> _Tri:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise WhereError("the where clause is nested too deeply")
        parts = [self.conj()]
        while self.accept("kw", "OR"):
            parts.append(self.conj())
        self.depth -= 1
        if len(parts) == 1:
            return parts[0]
        return lambda row: _or([p(row) for p in parts])

    def conj(self) -> _Tri:
        parts = [self.neg()]
        while self.accept("kw", "AND"):
            parts.append(self.neg())
        if len(parts) == 1:
            return parts[0]
        return lambda row: _and([p(row) for p in parts])

    def neg(self) -> _Tri:
        if self.accept("kw", "NOT"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise WhereError("the where clause is nested too deeply")
            inner = self.neg()
            self.depth -= 1
            return lambda row: _not(inner(row))
        if self.accept("punct", "("):
            inner = self.clause()
            self.expect("punct", ")")
            return inner
        return self.test()

    def literal(self) -> Any:
        tok = self.take()
        if tok[0] == "lit":
            return tok[1]
        if tok[0] == "null":
            return None
        raise WhereError("expected a value (a quoted text, a number, TRUE, FALSE or NULL)")

    def test(self) -> _Tri:
        kind, name = self.take()
        if kind != "col":
            raise WhereError("expected a column name in the where clause")
        column = str(name)
        if self.accept("kw", "IS"):
            negate = self.accept("kw", "NOT")
            self.expect("null")
            if negate:
                return lambda row: row.get(column) is not None
            return lambda row: row.get(column) is None
        negate = self.accept("kw", "NOT")
        if self.accept("kw", "LIKE"):
            pat = self.literal()
            if not isinstance(pat, str):
                raise WhereError("LIKE takes a quoted pattern")
            rx = _like(pat)

            def like(row: dict[str, Any]) -> bool | None:
                value = row.get(column)
                if not isinstance(value, str):
                    return None
                return (rx.fullmatch(value) is not None) != negate

            return like
        if self.accept("kw", "IN"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.expect("punct", ")")

            def within(row: dict[str, Any]) -> bool | None:
                found = _or([_compare(row.get(column), "=", v) for v in values])
                return found if not negate else _not(found)

            return within
        if negate:
            raise WhereError("NOT after a column must be followed by LIKE or IN")
        op_tok = self.take()
        if op_tok[0] != "op":
            raise WhereError("expected a comparison (=, !=, <>, <, <=, >, >=)")
        op = str(op_tok[1])
        value = self.literal()
        return lambda row: _compare(row.get(column), op, value)


def compile_where(text: str) -> Predicate:
    """Parse ``text`` into a predicate over a user's JSON; :class:`WhereError` if unsupported."""
    if len(text) > MAX_LENGTH:
        raise WhereError(f"the where clause is longer than {MAX_LENGTH} characters")
    tokens = _tokens(text)
    if not tokens:
        return lambda row: True
    parser = _Parser(tokens)
    tri = parser.clause()
    if parser.peek() is not None:
        raise WhereError("unexpected text after the end of the where clause")
    return lambda row: tri(row) is True


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _and(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False
