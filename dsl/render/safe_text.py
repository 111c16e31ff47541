"""Text from users made safe for each output format: the one place every renderer escapes through.

Titles, stage names, reasons, deal ids and journey names come from specs,
event streams and result files that someone else may have written. Written
raw, a newline and `---` close Mermaid's front matter, `%%{init:…}%%` passes a
directive to Mermaid, a newline ends a DOT `//` comment, `\\x1b` drives the
reader's terminal, and a control character makes JUnit XML unparsable.

Control characters (C0 but the ones a format keeps, DEL, C1) and the bidi
overrides that reorder what a reader sees become one visible stand-in each
(`\\x1b` is shown as `␛`), so columns stay aligned under a caret.
"""
from __future__ import annotations

import re
from functools import wraps
from html import escape
from typing import Callable

REPLACEMENT = "\ufffd"
BIDI = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
SEPARATORS = [0x2028, 0x2029]           # line and paragraph separators: line breaks to some readers


def _table(keep: str) -> dict[int, str]:
    table = {code: chr(0x2400 + code) for code in range(0x20)}        # the Unicode control pictures
    table[0x7F] = "\u2421"
    table.update({code: REPLACEMENT for code in [*range(0x80, 0xA0), *BIDI, *SEPARATORS, 0xFFFE, 0xFFFF]})
    for char in keep:
        table.pop(ord(char))
    return table


_ONE_LINE = _table("")
_LINES = _table("\n\t")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")      # no encoder writes one; XML may not hold one
# Most text has nothing to replace: a search is some 13 times faster than translate's lookup per character.
_OTHERS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufffe\uffff"
_ANY_CONTROL = re.compile(f"[\x00-\x1f{_OTHERS}]")
_CONTROL_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")


def one_line(text: str) -> str:
    """A label on one line: every control character, newlines and tabs too, shown as a visible stand-in."""
    return text.translate(_ONE_LINE) if _ANY_CONTROL.search(text) else text


def terminal(text: str) -> str:
    """Text for a terminal: lines and tabs kept, escape sequences and other control characters made visible."""
    return text.translate(_LINES) if _CONTROL_BUT_LINES.search(text) else text


def for_terminal(render: Callable[..., str]) -> Callable[..., str]:
    """A renderer of text for people whose result goes through `terminal` (it paints no colors of its own)."""
    @wraps(render)
    def safe(*args, **kwargs) -> str:
        return terminal(render(*args, **kwargs))
    return safe


def xml(text: str) -> str:
    """Text XML 1.0 may hold (no C0 control but tab and newline, no lone surrogate); ElementTree escapes `&<>`."""
    return _LONE_SURROGATE.sub(REPLACEMENT, terminal(text))


def markup(text: str) -> str:
    """Text or an attribute value in HTML or SVG written by hand: XML's characters, `&<>"'` escaped."""
    return escape(xml(text), quote=True)


def mermaid(text: str) -> str:
    """Text inside a quoted Mermaid label or title: on one line, and the characters Mermaid reads as entity codes.

    A `%` before another too, so that no `%%{init: …}%%` directive can be spelled
    (`10%` stays as it is); `\\` too, for the YAML front matter that holds the title.
    """
    text = one_line(text).replace("#", "#35;")
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;"), ("\\", "#92;")):
        text = text.replace(char, code)
    return _DOUBLE_PERCENT.sub("#37;", text)


_DOUBLE_PERCENT = re.compile("%(?=%)")


def mermaid_comment(text: str) -> str:
    """A `%% …` comment line: one line, and no `%` that could open a directive."""
    return one_line(text).replace("%", "\uff05")


def dot_string(text: str) -> str:
    """A double-quoted DOT id or attribute value."""
    return '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_html(text: str) -> str:
    """Text inside a DOT HTML-like label `<…>`."""
    return escape(one_line(text), quote=True)


def dot_comment(text: str) -> str:
    """The text of a `// …` DOT comment: one line, so that nothing after it is read as DOT."""
    return one_line(text)


def github_data(text: str) -> str:
    """The message of a GitHub Actions workflow command (`::error …::MESSAGE`), its line breaks encoded."""
    return terminal(text).replace("%", "%25").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (`file=…,title=…`)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
