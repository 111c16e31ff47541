"""Findings for the parts that parse, in a file with a syntax error.

The parser stops at the first syntax error. To check the rest while a person
types, the server blanks out the item the error is in (its line, or the whole
`{ … }` block that line opens) with spaces, so that every other offset, line
and column stays where it was, and analyses the text again; up to MAX_HOLES
times. The syntax errors are reported as they are; of the other findings,
those that name something written in a blanked part are dropped, since they
only say that the part is missing (a stage blanked out is an unknown stage).
"""
from __future__ import annotations

import re

from ..dsl.diagnostics import Diagnostic

MAX_HOLES = 5
_NAME = re.compile(r"[^\W\d]\w*")
_NAMED = re.compile(r"`([^`]+)`")


def blank_item(text: str, offset: int) -> tuple[str, str]:
    """`text` with the item at `offset` replaced by spaces (line ends kept), and the text blanked."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    depth = text.count("{", start, end) - text.count("}", start, end)
    while depth > 0 and end < len(text):          # the line opens a block: blank to its closing brace
        following = text.find("\n", end + 1)
        following = len(text) if following < 0 else following
        depth += text.count("{", end, following) - text.count("}", end, following)
        end = following
    hole = text[start:end]
    return text[:start] + re.sub(r"[^\n]", " ", hole) + text[end:], hole


def recovered(path: str, text: str, syntax: list[Diagnostic], analyse) -> list[Diagnostic]:
    """The findings of the text with its syntax errors blanked out, less those about what was blanked.

    `syntax`: the syntax errors of `text`, `analyse(text)`: the findings of a text (api.lint_report's).
    """
    holes, current, errors = [], text, [d for d in syntax if d.code == "FNL001"]
    for _ in range(MAX_HOLES):
        if not errors:
            break
        current, hole = blank_item(current, errors[0].span.start)
        holes.append(hole)
        findings = analyse(current)
        errors = [d for d in findings if d.code == "FNL001"]
        if not errors:
            missing = {name for hole in holes for name in _NAME.findall(hole)}
            return [d for d in findings if not (set(_NAMED.findall(d.message)) & missing)]
    return []
