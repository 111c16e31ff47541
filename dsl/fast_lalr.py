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

# Token(...) goes through a deprecation shim that takes *args and **kwargs (1.0 µs a token);
# the constructor behind it takes the same arguments in half the time.
new_token = getattr(Token, "_future_new", Token)
_str_new = str.__new__


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
        self.shift_depths: dict[tuple[str, int], int] = {}
        self.shift_answers: dict[tuple, bool] = {}

    def can_shift(self, state_stack: list, symbol: str) -> bool:
        """Would the parser, with these states, reduce and then shift `symbol`? (No side effects.)

        The answer depends only on the top states the reductions reach, so it is remembered
        by those states: the keywords that start a funnel's item are asked about after every
        item, each time reducing the whole item before the answer comes.
        """
        pair = (symbol, state_stack[-1])
        depth = self.shift_depths.get(pair)
        if depth is not None and depth <= len(state_stack):
            known = self.shift_answers.get((symbol, *state_stack[-depth:]))
            if known is not None:
                return known
        answer, used = self._walk(state_stack, symbol)
        if depth is None or used > depth:
            depth = self.shift_depths[pair] = used
        self.shift_answers[(symbol, *state_stack[-depth:])] = answer
        return answer

    def _walk(self, state_stack: list, symbol: str) -> tuple[bool, int]:
        """(can shift, how many of the top states the answer read)."""
        actions = self.actions
        top, pushed, consumed = state_stack[-1], [], 0   # the stack is state_stack[:-consumed] + pushed
        while True:
            act = actions[top].get(symbol)
            if act is None:
                return False, consumed + 1
            if type(act) is int:
                return True, consumed + 1
            size, origin, _ = act
            if size > len(pushed):
                consumed += size - len(pushed)
                pushed.clear()
            elif size:
                del pushed[-size:]
            top = actions[pushed[-1] if pushed else state_stack[-1 - consumed]][origin]
            pushed.append(top)

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
                # What new_token does, inlined (this runs for every token of the text): the same Token
                token = last = _str_new(Token, value)
                token.type = kind
                token.start_pos = start
                token.value = value
                token.line = token.end_line = line
                token.column = start - line_start + 1
                token.end_column = stop - line_start + 1
                token.end_pos = stop
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
