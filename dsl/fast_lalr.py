"""The parser's fast path: lark's own LALR tables and callbacks, driven by a tight loop.

lark's general-purpose lexer and parser loop spend most of a parse in
bookkeeping (per-token line counters, generic action objects). For text that
parses, this module does the same work with one regular expression built from
grammar.lark's terminals and a loop over the precomputed tables; keywords are
told from names by the parser state, exactly as lark's contextual lexer does.

It is an optimisation only: at the first character or token it cannot take,
it gives up (returns None) and the parser runs lark itself, which produces
the precise error. For any input both paths either build the same AST or the
fast path gives up — a property test checks it.
"""
from __future__ import annotations

import re

from lark import Lark, Token
from lark.parsers.lalr_analysis import Shift


class FastParser:
    def __init__(self, lark: Lark, comments: list) -> None:
        parser = lark.parser.parser.parser
        table = parser.parse_table
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        self.comments = comments
        # state -> {symbol: next state (shift or goto) | (size, nonterminal, callback) (reduce)}
        self.actions: dict[int, dict] = {}
        reduce = {}
        for rule, callback in parser.callbacks.items():
            # `?rule: child` with one child is the child itself: no call, only a goto (most
            # reductions of an expression are such steps between precedence levels).
            passes_through = (len(rule.expansion) == 1 and rule.options.expand1 and not rule.alias
                              and not rule.expansion[0].name.startswith("_"))
            reduce[rule] = (len(rule.expansion), rule.origin.name, None if passes_through else callback)
        for state, row in table.states.items():
            self.actions[state] = {symbol: arg if action is Shift else reduce[arg]
                                   for symbol, (action, arg) in row.items()}
        word = re.compile(r"(?!\d)\w+")
        self.keywords: dict[str, str] = {}
        patterns = []
        ordered = sorted(lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                        -len(t.pattern.value), t.name))
        blank = None
        for terminal in ordered:
            pattern = terminal.pattern
            if terminal.name == "WS":
                blank = pattern.to_regexp()
            elif pattern.type == "str" and word.fullmatch(pattern.value):
                self.keywords[pattern.value] = terminal.name
            else:
                patterns.append(f"(?P<{terminal.name}>{pattern.to_regexp()})")
        # Whitespace is skipped by the same match that finds the next token; `$END` matches at the end.
        self.regex = re.compile(f"(?:{blank})?(?:{'|'.join(patterns)}|(?P<_END>\\Z))")
        self.ignore = frozenset(lark.lexer_conf.ignore)

    def parse(self, text: str):
        """The start rule's value, or None when lark must parse the text itself (to report an error)."""
        actions, keywords, ignore, comments = self.actions, self.keywords, self.ignore, self.comments
        match = self.regex.match
        state_stack = [self.start_state]
        value_stack: list = []
        state = self.start_state
        pos, line, line_start = 0, 1, 0
        last = None
        while True:
            m = match(text, pos)
            if m is None:
                return None
            kind = m.lastgroup
            start = m.start(kind)
            stop = m.end()
            if start != pos:                      # whitespace before the token
                newlines = text.count("\n", pos, start)
                if newlines:
                    line += newlines
                    line_start = text.rindex("\n", pos, start) + 1
            pos = stop
            if kind == "_END":
                kind = "$END"
                token = Token.new_borrow_pos("$END", "", last) if last is not None else Token("$END", "", 0, 1, 1)
            else:
                if kind in ignore:
                    if kind == "COMMENT":
                        comments.append(Token(kind, text[start:stop], start, line, start - line_start + 1,
                                              line, stop - line_start + 1, stop))
                    continue
                value = text[start:stop]
                if kind == "NAME" and value in keywords and keywords[value] in actions[state]:
                    kind = keywords[value]
                token = last = Token(kind, value, start, line, start - line_start + 1,
                                     line, stop - line_start + 1, stop)
            while True:
                act = actions[state].get(kind)
                if act is None:
                    return None
                if type(act) is int:
                    state_stack.append(act)
                    value_stack.append(token)
                    state = act
                    break
                size, origin, callback = act
                if callback is None:
                    state_stack.pop()
                elif size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                    value_stack.append(callback(children))
                else:
                    value_stack.append(callback([]))
                state = actions[state_stack[-1]][origin]
                state_stack.append(state)
                if state == self.end_state and kind == "$END":
                    return value_stack[-1]
