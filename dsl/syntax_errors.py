"""Syntax errors in the language's words: what was found, what was expected, and a hint.

The message names the token found and what the grammar accepts there, in
words ("expected a stage item … or `}`"). The hint names the usual slip, from
the most specific evidence to the least: a character another language uses
(`&&`, `'`, `;`), an unclosed or extra bracket (found on the parser's stack,
so the hint names the stage or funnel left open), a misspelled keyword, and
finally a frequent mistake recognised by the parser state it fails in
(labelled examples, as in lark's `match_examples`).
"""
from __future__ import annotations

import re
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast
from .diagnostics import Diagnostic
from .source import Source, Span
from .spelling import closest

KEYWORDS = (
    "import", "std", "funnel", "extends", "currency", "timezone", "language", "value", "route", "holidays", "fields",
    "events", "block", "stage", "before", "start", "won", "lost", "reopen", "side", "probability", "sla", "require",
    "when", "because", "any", "drop", "field", "transition", "rule", "on", "enter", "exit", "event",
    "change", "after", "every", "at", "in", "while", "move", "to", "set", "task", "due", "for",
    "notify", "emit", "and", "or", "not", "is", "true", "false",
)
FUNNEL_ITEM_STARTS = {"STAGE", "BLOCK", "FIELDS", "EVENTS", "CURRENCY", "TIMEZONE", "LANGUAGE", "VALUE", "ROUTE", "HOLIDAYS", "DROP",
                      "ANY"}

TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a string in double quotes",
    "NUMBER": "a number",
    "DURATION": "a duration such as `7d`",
    "PERCENT": "a percentage such as `25%`",
    "DATE": "a date such as `2026-03-01`",
    "DATETIME": "a date and time such as `2026-03-01T10:00`",
    "COMP_OP": "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "OPTIONAL": "`?`",
    "ANY": "`any`",
    "$END": "the end of the file",
}

# Sets of expected terminals that mean one thing to a reader, checked in order.
CONTEXTS = (
    ({"COMP_OP", "ADD_OP"}, "an operator (`==`, `<`, `+`, `and`, …) or the next item"),
    ({"STAGE", "FIELDS", "RBRACE"}, "a funnel item (`stage`, `fields`, `events`, a transition `a -> b`, "
                                    "a rule `on …`) or `}`"),
    ({"START", "SLA", "RBRACE"}, "a stage item (`start`, `won`, `lost`, `probability`, `sla`, `require`, "
                                 "a rule `on …`) or `}`"),
    ({"IMPORT", "FUNNEL"}, "`import` or `funnel`"),
    ({"NUMBER", "STRING", "NAME", "LPAR"}, "an expression"),
    ({"MOVE", "SET", "TASK"}, "an action (`move to`, `set`, `task`, `notify`, `emit`)"),
    ({"ENTER", "EXIT", "EVENT", "CHANGE"}, "`enter`, `exit`, `event` or `change`"),
)

# Frequent mistakes, labelled by the parser state they fail in.
LABELLED_EXAMPLES = {
    "a transition is written `a -> b`": [
        "funnel f { a => b }",
        "funnel f { a - b }",
        "funnel f { a > b }",
        "funnel f { a to b }",
    ],
    "put `:` after the trigger, or the actions in `{ … }`": [
        'funnel f { stage a { on enter task "x" } }',
        "funnel f { on event paid move to won }",
        "funnel f { on event paid when x move to won }",
        "funnel f { after 3d in a move to lost }",
        "funnel f { stage a { after 3d move to lost } }",
        'funnel f { every 7d in a notify m "x" }',
        'funnel f { on enter a task "x" }',
    ],
    "a rule at the funnel level names its stage: `after 30d in proposal: …`; inside a stage's "
    "`{ … }`, leave `in …` out": [
        "funnel f { after 3d: move to lost }",
        'funnel f { every 7d: notify m "x" }',
        'funnel f { on enter: task "x" }',
    ],
    "a probability is a percentage: write `10%`": [
        "funnel f { stage a { probability 10 } }",
        "funnel f { stage a { probability 0.1 } }",
    ],
    "an sla is a duration: write `7d`, `12h`, `2w` or `30m`": [
        "funnel f { stage a { sla 7 } }",
        'funnel f { stage a { sla "7d" } }',
    ],
    "a timer's delay is a duration: write `7d`, `12h`, `2w` or `30m`": [
        "funnel f { after 3 in a: move to b }",
        "funnel f { stage a { every 3: move to b } }",
        "funnel f { at d - 1: move to b }",
    ],
    "a field is declared `name: type`, as in `budget: money`": [
        "funnel f { fields { budget money } }",
        "funnel f { fields { budget = 0 } }",
    ],
    "a stage is declared `stage id \"Display name\" { … }`": [
        'funnel f { stage "Новый лид" { start } }',
        'funnel f { stage a "A" start }',
    ],
    "a reason follows `because` as a string: `because \"too expensive\"`": [
        "funnel f { a -> lost because price }",
    ],
    "a funnel needs an id: `funnel sales \"Sales\" { … }`": [
        'funnel "Sales" { }',
        "funnel { }",
    ],
    "a move names its target with `to`: `move to lost`": [
        "funnel f { stage a { on enter: move lost } }",
    ],
    "a notification names who gets it, then the text: `notify manager \"…\"`": [
        'funnel f { stage a { on enter: notify "x" } }',
    ],
    "to test for a missing value, write `is not set`": [
        "funnel f { a -> b when x is not }",
    ],
}


def _words_for(names: set[str], lark: Lark) -> str:
    for needed, phrase in CONTEXTS:
        if needed <= names:
            return phrase
    words = []
    for name in sorted(names):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
            continue
        try:
            pattern = lark.get_terminal(name).pattern
        except KeyError:
            words.append(name.lower())
            continue
        words.append(f"`{pattern.value}`" if pattern.type == "str" else name.lower())
    words = sorted(set(words), key=lambda w: (not w.startswith("`"), w))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _at_end(err: UnexpectedInput) -> bool:
    return isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END")


def _bad_word(err: UnexpectedInput, source: Source) -> str | None:
    """`7days`, `1x`: a word that starts with a digit, which no token allows."""
    if not isinstance(err, UnexpectedCharacters):
        return None
    m = re.compile(r"\d[\w.]*").match(source.text, err.pos_in_stream)
    return m.group() if m and not m.group().replace("_", "").replace(".", "").isdigit() else None


def _found(err: UnexpectedInput, source: Source) -> str:
    if _at_end(err):
        return "end of file"
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "NAME":
            return f"name `{tok}`"
        if tok.type == "STRING":
            return f"string {tok}"
        return f"`{tok}`"
    word = _bad_word(err, source)
    if word:
        return f"`{word}`"
    char = source.text[err.pos_in_stream] if err.pos_in_stream < len(source.text) else ""
    return f"character `{char}`"


def _error_span(err: UnexpectedInput, source: Source) -> Span:
    if isinstance(err, UnexpectedToken) and err.token.type != "$END" and err.token.start_pos is not None:
        tok = err.token
        return Span(source.path, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)
    if isinstance(err, UnexpectedCharacters):
        word = _bad_word(err, source)
        return source.span_at(err.pos_in_stream, len(word) if word else 1)
    end = len(source.text.rstrip())
    return source.span_at(max(end - 1, 0), 1) if end else source.span_at(0, 1)


def _stack(err: UnexpectedInput) -> list:
    """The parser's value stack at the error: tokens and the AST nodes already built."""
    state = getattr(err, "state", None)
    return list(getattr(state, "value_stack", None) or ())


def _flat(stack: list) -> list:
    """The stack with lark's helper trees (for `item*`) opened."""
    items = []
    for item in stack:
        items.extend(_flat(item.children) if isinstance(item, Tree) else [item])
    return items


def _tok(item, kind: str) -> bool:
    return isinstance(item, Token) and item.type == kind


def _open_bracket(stack: list, opener: str) -> tuple[int, str] | None:
    """The innermost `{` (or `(`) still open, with what it opened: (line, "the stage `a`")."""
    closer = {"LBRACE": "RBRACE", "LPAR": "RPAR"}[opener]
    depth = 0
    for i in range(len(stack) - 1, -1, -1):
        item = stack[i]
        if _tok(item, closer):
            depth += 1
        elif _tok(item, opener):
            if depth:
                depth -= 1
                continue
            return item.line, _what_opens(stack, i) if opener == "LBRACE" else "the `(`"
    return None


def _what_opens(stack: list, brace: int) -> str:
    before = stack[max(0, brace - 3):brace]
    for j in range(len(before) - 1, -1, -1):
        item = before[j]
        if _tok(item, "STAGE") or _tok(item, "FUNNEL"):
            name = before[j + 1] if j + 1 < len(before) else None
            return f"the {item.value} `{name}`" if _tok(name, "NAME") else f"the {item.value}"
        if _tok(item, "BLOCK"):
            return f"the block {before[j + 1]}" if j + 1 < len(before) else "the block"
        if _tok(item, "FIELDS") or _tok(item, "EVENTS"):
            return f"the `{item.value}` block"
    previous = before[-1] if before else None
    if _tok(previous, "NAME"):
        return f"the event `{previous}`"
    return "the actions `{ … }`"


def _bracket_hint(err: UnexpectedInput, source: Source, expected: set[str]) -> str | None:
    stack = _stack(err)
    token = getattr(err, "token", None)
    if _at_end(err) or (token is not None and token.type in FUNNEL_ITEM_STARTS and "START" in expected):
        opened = _open_bracket(stack, "LBRACE")
        if opened is not None:
            line, what = opened
            where = "before this line" if not _at_end(err) else "at its end"
            return f"{what} opened on line {line} is never closed: add `}}` {where}"
    if token is not None and token.type == "RPAR" and _open_bracket(stack, "LPAR") is None:
        return "this `)` has no matching `(`"
    if "RPAR" in expected and (token is None or token.type != "RPAR"):
        opened = _open_bracket(stack, "LPAR")
        if opened is not None:
            return f"the `(` opened on line {opened[0]} is never closed: add `)`"
    if token is not None and token.type == "RBRACE" and _open_bracket(stack, "LBRACE") is None:
        return "this `}` closes nothing: remove it, or look for a `{` missing before it"
    if token is not None and "FUNNEL" in expected and "$END" in expected and token.type != "FUNNEL":
        ended = _ended_funnel(_flat(stack))
        if ended and token.type in FUNNEL_ITEM_STARTS | {"NAME", "ON", "AFTER", "EVERY", "AT", "RULE"}:
            name, line = ended
            return f"the funnel `{name}` already ended on line {line}: is there one `}}` too many before it?"
    return None


def _ended_funnel(items: list) -> tuple[str, int] | None:
    """The funnel closed last, and the line of its `}` (it may not be reduced to a node yet)."""
    if items and _tok(items[-1], "RBRACE"):
        names = [items[i + 1] for i in range(len(items) - 1) if _tok(items[i], "FUNNEL")]
        if names:
            return str(names[-1]), items[-1].line
    funnels = [item for item in items if isinstance(item, ast.FunnelDecl)]
    if funnels:
        return funnels[-1].id.name, funnels[-1].span.end_line
    return None


def _character_hint(err: UnexpectedInput, source: Source, expected: set[str]) -> str | None:
    offset = err.pos_in_stream if isinstance(err, UnexpectedCharacters) else getattr(err.token, "start_pos", None)
    if offset is None or offset >= len(source.text):
        return None
    rest = source.text[offset:offset + 2]
    if rest == "&&" or rest[:1] == "&":
        return "to require both conditions, write `and`"
    if rest == "||":
        return "to accept either condition, write `or`"
    if rest[:1] == "!" and rest != "!=":
        return "to negate a condition, write `not`"
    if rest[:1] == "=" and rest != "==" and "COMP_OP" in expected:
        return "to compare, write `==`; a single `=` only assigns, in `set field = value`"
    if rest[:1] == "'":
        return 'strings are written in double quotes: "…"'
    if rest[:1] == ";":
        return "no `;` is needed: put each item on its own line"
    if rest[:1] == '"' and isinstance(err, UnexpectedCharacters):
        return 'this string is never closed: end it with `"` on the same line (a string cannot span lines)'
    word = _bad_word(err, source)
    if word and re.fullmatch(r"[\d_.]+[kKкК]", word):
        return f"write the number in full, with `_` between thousands if you like: `{word[:-1]}_000`"
    if word:
        return (f"`{word}` is neither a number nor a duration: a duration is a whole number and a unit "
                f"(`30m`, `12h`, `7d`, `2w`), and a name cannot start with a digit")
    return None


def _misspelling_hint(err: UnexpectedInput, expected: set[str], lark: Lark) -> str | None:
    """A name where a keyword was expected, or a name just before the error, close to a keyword."""
    token = getattr(err, "token", None)
    candidates = []
    if isinstance(token, Token) and token.type == "NAME":
        wanted = [_keyword(name, lark) for name in expected]
        wanted = [w for w in wanted if w]
        candidates.append((str(token), wanted or KEYWORDS))
    stack = _stack(err)
    if stack and _tok(stack[-1], "NAME"):
        candidates.append((str(stack[-1]), KEYWORDS))
    for word, keywords in candidates:
        if len(word) < 3 or word in KEYWORDS:
            continue
        match = closest(word, keywords, max_ratio=0.3)
        if match:
            return f"`{word}` is not a keyword; did you mean `{match}`?"
    return None


def _keyword(terminal: str, lark: Lark) -> str | None:
    try:
        pattern = lark.get_terminal(terminal).pattern
    except KeyError:
        return None
    return pattern.value if pattern.type == "str" and pattern.value.isalpha() else None


@lru_cache(maxsize=1)
def _labelled_states(lark: Lark) -> dict:
    """(parser state, accepted terminals) -> label, from parsing each labelled example."""
    found: dict = {}
    for label, examples in LABELLED_EXAMPLES.items():
        for example in examples:
            try:
                lark.parse(example)
            except UnexpectedInput as err:
                key = _state_key(err)
                if key is not None:
                    found.setdefault(key, label)
                    found.setdefault(key[0], label)
            except Exception:  # an example that fails otherwise labels nothing
                continue
    return found


def _state_key(err: UnexpectedInput):
    position = getattr(getattr(err, "state", None), "position", None)
    if position is None:
        return None
    return position, frozenset(_expected(err))


def _labelled_hint(err: UnexpectedInput, lark: Lark) -> str | None:
    key = _state_key(err)
    if key is None:
        return None
    states = _labelled_states(lark)
    return states.get(key) or states.get(key[0])


def _empty_file_hint(err: UnexpectedInput, source: Source) -> str | None:
    if _at_end(err) and not re.search(r"^\s*funnel\b", source.text, re.M):
        return "the file declares no funnel: add one, e.g. `funnel sales \"Продажи\" { … }`"
    return None


def _expected(err: UnexpectedInput) -> set[str]:
    if isinstance(err, UnexpectedToken):
        try:
            accepts = err.accepts
        except Exception:  # probing the parser may run into another error; the plain set still helps
            accepts = None
        return set(accepts or err.expected or ())
    state = getattr(err, "state", None)
    if state is not None and hasattr(state, "parse_conf"):
        # the parser's view: the lexer's would list keywords only as "a name"
        return {t for t in state.parse_conf.states[state.position] if t.isupper()}
    return set(getattr(err, "allowed", None) or getattr(err, "expected", None) or ())


@lru_cache(maxsize=1)
def _keyword_terminals(lark: Lark) -> dict[str, str]:
    return {t.pattern.value: t.name for t in lark.terminals
            if t.pattern.type == "str" and re.fullmatch(r"\w+", t.pattern.value)}


def _as_keyword(err: UnexpectedInput, lark: Lark) -> None:
    """A keyword where it cannot stand is lexed as a name; speak of it as the keyword it is."""
    token = getattr(err, "token", None)
    if isinstance(token, Token) and token.type == "NAME":
        kind = _keyword_terminals(lark).get(str(token))
        if kind is not None:
            err.token = Token.new_borrow_pos(kind, str(token), token)


def describe_syntax_error(source: Source, err: UnexpectedInput, lark: Lark) -> Diagnostic:
    from . import codes

    _as_keyword(err, lark)
    expected = _expected(err)
    message = f"unexpected {_found(err, source)}"
    if isinstance(err, UnexpectedCharacters) and source.text[err.pos_in_stream:err.pos_in_stream + 1] == '"':
        message = "unterminated string"
    elif expected:
        message += f", expected {_words_for(expected, lark)}"
    hint = (_empty_file_hint(err, source) or _character_hint(err, source, expected)
            or _bracket_hint(err, source, expected) or _misspelling_hint(err, expected, lark)
            or _labelled_hint(err, lark))
    return codes.diagnostic("FNL001", message, _error_span(err, source), hint=hint)
