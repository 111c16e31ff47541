"""Syntax errors in the language's words: what was found, what was expected, and a hint."""
from __future__ import annotations

import re

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic
from .source import Source, Span
from .spelling import closest

KEYWORDS = (
    "import", "std", "funnel", "extends", "currency", "value", "route", "holidays", "fields",
    "events", "stage", "start", "won", "lost", "reopen", "probability", "sla", "require", "when",
    "because", "any", "drop", "field", "transition", "rule", "on", "enter", "exit", "event",
    "change", "after", "every", "at", "in", "while", "move", "to", "set", "task", "due", "for",
    "notify", "emit", "and", "or", "not", "is", "true", "false",
)

TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a string in double quotes',
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
    ({"STAGE", "FIELDS", "RBRACE"}, "a funnel item (`stage`, `fields`, `events`, a transition `a -> b`, a rule `on …`) or `}`"),
    ({"START", "SLA", "RBRACE"}, "a stage item (`start`, `won`, `lost`, `probability`, `sla`, `require`, a rule `on …`) or `}`"),
    ({"IMPORT", "FUNNEL"}, "`import` or `funnel`"),
    ({"NUMBER", "STRING", "NAME", "LPAR"}, "an expression"),
    ({"MOVE", "SET", "TASK"}, "an action (`move to`, `set`, `task`, `notify`, `emit`)"),
    ({"ENTER", "EXIT", "EVENT", "CHANGE"}, "`enter`, `exit`, `event` or `change`"),
)

# Frequent mistakes, labelled by the parser state they fail in (lark's match_examples).
LABELLED_EXAMPLES = {
    "a transition is written `a -> b`": [
        'funnel f { a => b }',
        'funnel f { a - b }',
    ],
    "put `:` after the trigger, or the actions in `{ … }`": [
        'funnel f { stage a { on enter task "x" } }',
        'funnel f { on event paid move to won }',
        'funnel f { after 3d in a move to lost }',
    ],
    "a probability is a percentage: write `10%`": [
        'funnel f { stage a { probability 10 } }',
        'funnel f { stage a { probability 0.1 } }',
    ],
    "an sla is a duration: write `7d`, `12h`, `2w` or `30m`": [
        'funnel f { stage a { sla 7 } }',
        'funnel f { stage a { sla "7d" } }',
    ],
    "a field is declared `name: type`, as in `budget: money`": [
        'funnel f { fields { budget money } }',
        'funnel f { fields { budget = 0 } }',
    ],
    "a stage is declared `stage id \"Display name\" { … }`": [
        'funnel f { stage "Новый лид" { start } }',
        'funnel f { stage a "A" start }',
    ],
    "a reason follows `because` as a string: `because \"too expensive\"`": [
        'funnel f { a -> lost because price }',
    ],
    "a funnel needs an id: `funnel sales \"Sales\" { … }`": [
        'funnel "Sales" { }',
        'funnel { }',
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


def _found(err: UnexpectedInput, source: Source) -> str:
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        return "end of file"
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "NAME":
            return f"name `{tok}`"
        if tok.type == "STRING":
            return f"string {tok}"
        return f"`{tok}`"
    char = source.text[err.pos_in_stream] if err.pos_in_stream < len(source.text) else ""
    return f"character `{char}`"


def _unclosed_brace(text: str) -> int | None:
    """Offset of the last `{` never closed, skipping strings and comments."""
    stack, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            m = re.compile(r'"([^"\\\n]|\\.)*"').match(text, i)
            i = m.end() if m else i + 1
            continue
        if c == "#":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


def _error_span(err: UnexpectedInput, source: Source) -> Span:
    if isinstance(err, UnexpectedToken) and err.token.type != "$END" and err.token.start_pos is not None:
        tok = err.token
        return Span(source.path, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)
    if isinstance(err, UnexpectedCharacters):
        return source.span_at(err.pos_in_stream, 1)
    end = len(source.text.rstrip())
    return source.span_at(max(end - 1, 0), 1) if end else source.span_at(0, 1)


def _previous_word(text: str, offset: int) -> str | None:
    m = re.search(r"(\w+)\W*$", text[:offset])
    return m.group(1) if m else None


def _hint(err: UnexpectedInput, source: Source, expected: set[str], lark: Lark) -> str | None:
    labelled = None
    if isinstance(err, (UnexpectedToken, UnexpectedCharacters)):
        try:
            labelled = err.match_examples(lark.parse, LABELLED_EXAMPLES, use_accepts=True)
        except Exception:  # a labelling failure must never hide the error itself
            labelled = None
    token = getattr(err, "token", None)
    offset = getattr(err, "pos_in_stream", None) or 0
    char = source.text[offset] if isinstance(err, UnexpectedCharacters) and offset < len(source.text) else ""
    if (token is not None and str(token) == "=" and "COMP_OP" in expected) or (char == "=" and "COMP_OP" in expected):
        return "to compare, write `==`; a single `=` only assigns, in `set field = value`"
    if char == "'":
        return "strings are written in double quotes: \"…\""
    if char == ";":
        return "no `;` is needed: put each item on its own line"
    if isinstance(err, UnexpectedEOF) or (token is not None and token.type == "$END"):
        opened = _unclosed_brace(source.text)
        if opened is not None:
            line = source.text.count("\n", 0, opened) + 1
            return f"the `{{` opened on line {line} is never closed: add `}}`"
    if token is not None and token.type == "NAME" and "START" in expected and "SLA" in expected:
        rest = source.text[token.end_pos:].lstrip()
        if rest.startswith("->"):
            opened = source.text.rfind("stage", 0, token.start_pos)
            line = source.text.count("\n", 0, opened) + 1
            return f"the stage opened on line {line} is not closed: add `}}` before this transition"
    words = []
    if token is not None and token.type == "NAME":
        words.append(str(token))
    previous = _previous_word(source.text, token.start_pos if token is not None and token.start_pos is not None else offset)
    if previous:
        words.append(previous)
    for word in words:
        if word in KEYWORDS:
            continue
        match = closest(word, KEYWORDS, max_ratio=0.25)
        if match:
            return f"`{word}` is not a keyword; did you mean `{match}`?"
    return labelled


def describe_syntax_error(source: Source, err: UnexpectedInput, lark: Lark) -> Diagnostic:
    from . import codes

    expected = set(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())
    if isinstance(err, UnexpectedToken):
        expected = set(err.accepts or err.expected)
    message = f"unexpected {_found(err, source)}"
    if expected:
        message += f", expected {_words_for(expected, lark)}"
    return codes.diagnostic("FNL001", message, _error_span(err, source), hint=_hint(err, source, expected, lark))
