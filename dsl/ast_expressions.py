"""Parse callbacks for expressions and literals, and the span helpers every callback uses.

Part of the AST builder (dsl/ast_builder.py): lark calls these while it
parses, each with the children of one grammar rule. Literal values are
decoded here (durations in seconds, percentages as fractions, dates as
date objects); a literal with the right shape but no meaning raises
InvalidSyntax, which the parser turns into a diagnostic.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from lark import Token

from . import ast
from .limits import MAX_EXPRESSION_DEPTH, NUMBER_DIGITS
from .source import Span

DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    return int(text[:-1].replace("_", "")) * DURATION_UNITS[text[-1]]


def unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class InvalidSyntax(Exception):
    """Text the grammar accepts but the language does not: a bad date, a keyword as a stage id."""

    def __init__(self, code: str, message: str, span: Span, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.hint = hint


class ExpressionCallbacks:
    """Expressions and literals; `file` names the file being parsed.

    `depths` holds the nesting depth of each expression node deeper than a
    leaf, by id() (the nodes are alive until the parse ends, which clears it):
    a node past MAX_EXPRESSION_DEPTH is refused as it is built (FNL307), before
    anything walks the expression recursively."""

    file = "<text>"
    depths: dict[int, int]

    # spans ------------------------------------------------------------------
    def tok_span(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)

    def cover(self, first, last) -> Span:
        """The span from the start of `first` to the end of `last` (tokens or nodes)."""
        if type(first) is Token:
            line, column, start = first.line, first.column, first.start_pos
        else:
            s = first.span
            line, column, start = s.line, s.column, s.start
        if type(last) is Token:
            return Span(self.file, line, column, last.end_line, last.end_column, start, last.end_pos)
        e = last.span
        return Span(self.file, line, column, e.end_line, e.end_column, start, e.end)

    def whole(self, children) -> Span:
        return self.cover(children[0], children[-1])

    def ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(str(tok), self.tok_span(tok))

    def lit_string(self, tok: Token) -> ast.Literal:
        return ast.Literal(unquote(str(tok)), "string", str(tok), self.tok_span(tok))

    # expressions ----------------------------------------------------------------
    def _nested(self, node, *children):
        """`node`, one level deeper than the deepest of `children`; InvalidSyntax (FNL307) past the limit."""
        depths = self.depths
        deepest = 1
        for child in children:          # one or two children nearly always: no list, no max()
            below = depths.get(id(child), 1)
            if below > deepest:
                deepest = below
        depth = deepest + 1
        if depth > MAX_EXPRESSION_DEPTH:
            raise InvalidSyntax("FNL307", f"this expression nests more than {MAX_EXPRESSION_DEPTH} levels deep "
                                          "(operators in a chain, `not`s, signs and calls each add one)",
                                node.span, hint="split the condition into fields that rules set, or use "
                                                "`in [...]` for a long list of values")
        depths[id(node)] = depth
        return node

    def _fold(self, c):
        """`a op b op c` -> ((a op b) op c); the children alternate operand, operator."""
        result = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            result = self._nested(ast.Binary(c[i].value, result, right, self.cover(result, right)), result, right)
        return result

    or_expr = and_expr = sum = product = _fold

    def not_(self, c):
        return self._nested(ast.Unary("not", c[1], self.whole(c)), c[1])

    def neg(self, c):
        if c[0].value == "+":
            return c[1]
        return self._nested(ast.Unary("-", c[1], self.whole(c)), c[1])

    def compare(self, c):
        return self._nested(ast.Binary(c[1].value, c[0], c[2], self.whole(c)), c[0], c[2])

    def is_set(self, c):
        return self._nested(ast.IsSet(c[0], False, self.whole(c)), c[0])

    def is_not_set(self, c):
        return self._nested(ast.IsSet(c[0], True, self.whole(c)), c[0])

    def in_list(self, c):
        return self._nested(ast.InList(c[0], c[2], False, self.whole(c)), c[0], c[2])

    def not_in_list(self, c):
        return self._nested(ast.InList(c[0], c[3], True, self.whole(c)), c[0], c[3])

    def list_lit(self, c):
        items = tuple(x for x in c if not type(x) is Token)
        return self._nested(ast.ListLit(items, self.whole(c)), *items)

    def paren(self, c):
        """`(expr)`: the expression, its span widened to the parentheses so carets stay balanced."""
        node = replace(c[1], span=self.whole(c))
        depth = self.depths.pop(id(c[1]), None)        # the old node is dropped: its id may be reused
        if depth is not None:
            self.depths[id(node)] = depth
        return node

    def number(self, c):
        text = c[0].value
        clean = text.replace("_", "")
        self._check_digits(c[0], clean.partition(".")[0], "a number")
        value = float(clean) if "." in clean else int(clean)
        return ast.Literal(value, "number", text, self.tok_span(c[0]))

    def string(self, c):
        return self.lit_string(c[0])

    def true(self, c):
        return ast.Literal(True, "bool", "true", self.tok_span(c[0]))

    def false(self, c):
        return ast.Literal(False, "bool", "false", self.tok_span(c[0]))

    def duration(self, c):
        return self._duration(c[0])

    def percent(self, c):
        return self._percent(c[0])

    def date(self, c):
        return self._date(c[0])

    def datetime(self, c):
        tok = c[0]
        text = tok.value
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidSyntax("FNL005", f"`{text}` is not a valid date and time", self.tok_span(tok),
                                hint="write it as YYYY-MM-DDTHH:MM, with an optional zone: `2026-03-01T10:00+03:00`")
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return ast.Literal(value, "datetime", text, self.tok_span(tok))

    def event_ref(self, c):
        return ast.EventRef(c[2].value, self.whole(c))

    def call(self, c):
        args = tuple(x for x in c[2:-1] if not type(x) is Token)
        return self._nested(ast.Call(self.ident(c[0]), args, self.whole(c)), *args)

    def name(self, c):
        return ast.Name(c[0].value, self.tok_span(c[0]))

    def _check_digits(self, tok, digits: str, what: str) -> None:
        """Refuse a literal whose whole part has more than NUMBER_DIGITS digits (InvalidSyntax, FNL005)."""
        if len(digits.lstrip("0")) > NUMBER_DIGITS:
            text = tok.value
            shown = text if len(text) <= 30 else text[:29] + "…"
            raise InvalidSyntax("FNL005", f"`{shown}` is too large: {what} has at most {NUMBER_DIGITS} digits "
                                          f"in its whole part", self.tok_span(tok),
                                hint="a number up to 999_999_999_999_999 is exact; write amounts in the "
                                     "currency's units and long durations in weeks")

    def _duration(self, tok) -> ast.Literal:
        self._check_digits(tok, tok.value[:-1].replace("_", ""), "a duration")
        return ast.Literal(parse_duration(tok.value), "duration", tok.value, self.tok_span(tok))

    def _percent(self, tok) -> ast.Literal:
        text = tok.value
        value = float(text[:-1].replace("_", "")) / 100
        if not 0 <= value <= 1:
            raise InvalidSyntax("FNL005", f"`{text}` is not a percentage between 0% and 100%", self.tok_span(tok),
                                hint="a probability or a share is between `0%` and `100%`")
        return ast.Literal(value, "percent", text, self.tok_span(tok))

    def _date(self, tok) -> ast.Literal:
        text = tok.value
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidSyntax("FNL005", f"`{text}` is not a valid date", self.tok_span(tok),
                                hint="dates are written YYYY-MM-DD, with a month from 01 to 12 "
                                     "and a day that exists in that month")
        return ast.Literal(value, "date", text, self.tok_span(tok))
