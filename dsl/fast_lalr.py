"""The parser's fast path: lark's own LALR tables and callbacks, driven by a tight loop.

lark's general-purpose parser loop spends much of a parse in bookkeeping
(generic action objects, a lexer thread per token). For text that parses,
this module does the same work over the same tables and the same lexer rules
(dsl/lexer.py), with the steps between precedence levels of an expression
taken without a call.

It is an optimisation only: at the first character or token it cannot take,
it gives up (returns None) and the parser runs lark itself, which produces
the precise error. For any input both paths either build the same AST or the
fast path gives up: a property test checks it.
"""
from __future__ import annotations

from lark import Lark, Token
from lark.parsers.lalr_analysis import Shift

from .lexer import Scanner


class FastParser:
    def __init__(self, lark: Lark, comments: list) -> None:
        parser = lark.parser.parser.parser
        table = parser.parse_table
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        self.comments = comments
        reduce = {}
        for rule, callback in parser.callbacks.items():
            # `?rule: child` with one child is the child itself: no call, only a goto (most
            # reductions of an expression are such steps between precedence levels).
            passes_through = (len(rule.expansion) == 1 and rule.options.expand1 and not rule.alias
                              and not rule.expansion[0].name.startswith("_"))
            reduce[rule] = (len(rule.expansion), rule.origin.name, None if passes_through else callback)
        # state -> {symbol: next state (shift or goto) | (size, nonterminal, callback) (reduce)}
        self.actions: dict[int, dict] = {
            state: {symbol: arg if action is Shift else reduce[arg] for symbol, (action, arg) in row.items()}
            for state, row in table.states.items()
        }
        self.scanner = Scanner(lark.terminals, lark.lexer_conf.ignore)

    def can_shift(self, state_stack: list, symbol: str) -> bool:
        stack = list(state_stack)
        actions = self.actions
        while True:
            act = actions[stack[-1]].get(symbol)
            if act is None:
                return False
            if type(act) is int:
                return True
            size, origin, _ = act
            if size:
                del stack[-size:]
            stack.append(actions[stack[-1]][origin])

    def parse(self, text: str):
        """The start rule's value, or None when lark must parse the text itself (to report an error)."""
        actions, scanner, comments = self.actions, self.scanner, self.comments
        keywords, ignore, match = scanner.keywords, scanner.ignore, scanner.regex.match
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
                if kind == "NAME" and value in keywords:
                    # Scanner.word_kind, inlined: this runs for every keyword of the text
                    keyword, row = keywords[value], actions[state]
                    if keyword in row and ("NAME" not in row or self.can_shift(state_stack, keyword)):
                        kind = keyword
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
