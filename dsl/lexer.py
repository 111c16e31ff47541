"""The lexer: grammar.lark's terminals as one regular expression, keywords told from names
by what the parser can do next.

Keywords are contextual: `start` is a flag inside a stage and may be a field
name elsewhere. A word that spells a keyword is that keyword only where the
parser can shift it; where it can only take a name, it is a name. The check
follows the parser's reductions (lark's LALR tables merge the lookaheads of
similar states, so "the keyword is in this state's row" is not enough: after
a field's default `= 0`, `start` is in the row because a stage's `require 0`
may be followed by `start`, yet only a name can follow a field). Words are
always lexed whole: `tolost` is a name, never `to` + `lost`.

The same rules serve lark (`FunnelLexer`, the error path) and the parser's
fast path (dsl/fast_lalr.py), so both read any text into the same tokens.
"""
from __future__ import annotations

import re
from typing import Callable

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer
from lark.parsers.lalr_analysis import Shift

WORD = re.compile(r"(?!\d)\w+")


class Scanner:
    """One regex for every terminal but the keywords; whitespace is skipped by the same match."""

    def __init__(self, terminals, ignore) -> None:
        self.keywords: dict[str, str] = {}
        self.ignore = frozenset(ignore)
        patterns, blank = [], None
        ordered = sorted(terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        for terminal in ordered:
            pattern = terminal.pattern
            if terminal.name == "WS":
                blank = pattern.to_regexp()
            elif pattern.type == "str" and WORD.fullmatch(pattern.value):
                self.keywords[pattern.value] = terminal.name
            else:
                patterns.append(f"(?P<{terminal.name}>{pattern.to_regexp()})")
        # `_END` matches at the end of the text, after any whitespace
        self.regex = re.compile(f"(?:{blank})?(?:{'|'.join(patterns)}|(?P<_END>\\Z))")

    def word_kind(self, value: str, row, can_shift: Callable[[str], bool]) -> str:
        """NAME or the keyword a word is, given the parser's current row and a shift test."""
        keyword = self.keywords.get(value)
        if keyword is None or keyword not in row:
            return "NAME"
        if "NAME" not in row or can_shift(keyword):
            return keyword
        return "NAME"


def lark_can_shift(states, state_stack: list, symbol: str) -> bool:
    """Would lark's LALR parser, in this state, reduce and then shift `symbol`? (No side effects.)"""
    stack = list(state_stack)
    while True:
        entry = states[stack[-1]].get(symbol)
        if entry is None:
            return False
        action, arg = entry
        if action is Shift:
            return True
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][arg.origin.name][1])


class FunnelLexer(Lexer):
    """lark's lexer for this grammar: it gets the parser state with each token it is asked for."""

    __future_interface__ = 2

    def __init__(self, lexer_conf) -> None:
        self.scanner = Scanner(lexer_conf.terminals, lexer_conf.ignore)
        self.callbacks = dict(lexer_conf.callbacks)

    def lex(self, lexer_state, parser_state):
        text = getattr(lexer_state.text, "text", lexer_state.text)
        scanner, callbacks = self.scanner, self.callbacks
        states = parser_state.parse_conf.states
        pos, line, line_start, last = 0, 1, 0, None
        while True:
            m = scanner.regex.match(text, pos)
            if m is None:
                stop = pos + len(text[pos:]) - len(text[pos:].lstrip(" \t\f\r\n"))
                line += text.count("\n", pos, stop)
                line_start = text.rfind("\n", 0, stop) + 1
                allowed = {t for t in states[parser_state.position] if t.isupper()}
                raise UnexpectedCharacters(text, stop, line, stop - line_start + 1, allowed=allowed,
                                           state=parser_state, token_history=[last] if last else None)
            kind = m.lastgroup
            start, stop = m.start(kind), m.end()
            if start != pos:
                newlines = text.count("\n", pos, start)
                if newlines:
                    line += newlines
                    line_start = text.rindex("\n", pos, start) + 1
            pos = stop
            if kind == "_END":
                return
            value = text[start:stop]
            token = Token(kind, value, start, line, start - line_start + 1, line, stop - line_start + 1, stop)
            if kind in scanner.ignore:
                if kind in callbacks:
                    callbacks[kind](token)
                continue
            if kind == "NAME":
                row = states[parser_state.position]
                token.type = scanner.word_kind(value, row, lambda symbol: lark_can_shift(
                    states, parser_state.state_stack, symbol))
            last = token
            yield token
