"""The formatter's layout machinery: output lines, comments placed between items, wrapping.

dsl/format.py says what each construct looks like; this module owns how lines
are laid out: which comment goes before, after or inside which item, where
blank lines stay, how a long condition wraps at `and`/`or`, and how trailing
comments line up.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from . import ast
from .render.expr import PRECEDENCE, expr_text

WIDTH = 100            # the line width the layout aims for; a line with no place to break may exceed it
INDENT = 2             # one level of blocks
CONTINUATION = 4       # a clause (`when …`, `because …`) that did not fit on its item's line
COMMENT_COLUMN = 39    # trailing comments line up at this column at least, as in the design example

# One token of the language, enough to find keywords and literals inside a span without re-parsing.
_TOKEN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|\d[\d_]*(?:\.\d+)?[mhdw%]?|\w+|->|[=!<>]=|\S')

_EMPTY_LINE = re.compile(r"\n[^\S\n]*\n")


@dataclass
class Line:
    """One output line: its indentation, its code, and the comment trailing it (if any)."""

    indent: int
    code: str
    comment: str | None = None
    apart: bool = False      # a blank line goes before it and the comments right above it (a funnel)

    @property
    def end(self) -> int:
        return self.indent + len(self.code)


BLANK = Line(0, "")   # a blank line; compared by identity


class Layout:
    """The source text and its comments, and the questions the formatter asks of them."""

    def __init__(self, text: str, comments: Sequence[ast.Comment], width: int = WIDTH):
        self.text = text
        self.width = width
        self.comments = sorted(comments, key=lambda c: c.span.start)
        self._starts = [c.span.start for c in self.comments]
        # where each newline is, found once: a line number is a binary search, not a count from the top
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def comments_in(self, start: int, end: int) -> list[ast.Comment]:
        """The comments that begin inside [start, end)."""
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_left(self._starts, end)
        return self.comments[lo:hi]

    def tokens(self, start: int, end: int) -> list[str]:
        """The tokens of the source between two offsets, comments left out."""
        return [m.group() for m in _TOKEN.finditer(self.text, start, end) if not m.group().startswith("#")]

    def opener(self, start: int) -> int:
        """The offset of the first character at or after `start` that is neither blank nor in a comment."""
        for m in _TOKEN.finditer(self.text, start):
            if not m.group().startswith("#"):
                return m.start()
        return len(self.text)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def blank_between(self, start: int, end: int) -> bool:
        """Whether the source has an empty line between two offsets (kept as one blank line)."""
        return _EMPTY_LINE.search(self.text, start, end) is not None

    def fits(self, indent: int, text: str) -> bool:
        return indent + len(text) <= self.width


def comment_line(comment: ast.Comment, indent: int) -> Line:
    return Line(indent, comment.text.rstrip())


def body_lines(layout: Layout, children: Sequence, comments: Sequence[ast.Comment], start: int, end: int,
               indent: int, render: Callable[[object, list[ast.Comment], int], list[Line]],
               opener_line: int | None = None) -> tuple[str | None, list[Line]]:
    """The lines of a block's items, with every comment between them placed.

    `comments` are those in [start, end) (the block's inside). A comment inside
    an item goes to that item's renderer; one on the line where an item ends
    trails it; one on the opener's line before any item trails the opener (it
    is returned apart); every other comment stands on its own line before the
    next item, or before the block's end. A blank line between two elements
    in the source stays (one), none stays after the opener or before the end.
    """
    spans = [(child.span.start, child.span.end) for child in children]
    inner: dict[int, list[ast.Comment]] = {i: [] for i in range(len(children))}
    free: list[ast.Comment] = []
    for comment in comments:
        owner = next((i for i, (s, e) in enumerate(spans) if s <= comment.span.start < e), None)
        (inner[owner].append(comment) if owner is not None else free.append(comment))
    elements = sorted([(s, 1, i) for i, (s, _) in enumerate(spans)] +
                      [(c.span.start, 0, c) for c in free], key=lambda e: e[0])
    header: str | None = None
    lines: list[Line] = []
    previous_end, last_item = start, None      # last_item: (end line, first and last line index) of the item just placed
    for offset, is_item, what in elements:
        if not is_item:
            comment = what
            if last_item is not None and last_item[0] == comment.span.line:
                _trail(lines, last_item[1], last_item[2], comment, indent)
                last_item, previous_end = None, comment.span.end
                continue
            if not lines and header is None and opener_line == comment.span.line:
                header, previous_end = comment.text.rstrip(), comment.span.end
                continue
            if lines and layout.blank_between(previous_end, offset):
                lines.append(BLANK)
            lines.append(comment_line(comment, indent))
            previous_end, last_item = comment.span.end, None
            continue
        child = children[what]
        if lines and layout.blank_between(previous_end, offset):
            lines.append(BLANK)
        rendered = render(child, inner[what], indent)
        first = len(lines) + next(i for i, line in enumerate(rendered) if not line.code.startswith("#"))
        lines.extend(rendered)
        previous_end, last_item = child.span.end, (child.span.end_line, first, len(lines) - 1)
    return header, lines


def _trail(lines: list[Line], first: int, last: int, comment: ast.Comment, indent: int) -> None:
    """A comment after an item, on the line where it ends: it trails the item's first line (where a
    suppression comment applies), else its last, else it stands on its own line after it."""
    text = comment.text.rstrip()
    for at in (first, last):
        if lines[at].comment is None:
            lines[at].comment = text
            return
    lines.insert(last + 1, Line(indent, text))


def block(layout: Layout, node, head: Sequence[Line], children: Sequence, comments: Sequence[ast.Comment],
          opener: int, closer: int, indent: int, render, inline: Callable[[list[Line]], str | None] | None = None,
          close: str = "}") -> list[Line]:
    """A construct with a body: its head lines, `{`, its items one a line, `}`.

    `head` is the construct's first line(s) without the opening bracket;
    `opener`/`closer` are the offsets of the brackets in the source. A
    comment on the construct's first line before the opener trails the first
    line; other comments before the opener move before the construct.
    `inline`, given the items' lines, may return a one-line form; it is used
    when the block holds no comment and the line fits.
    """
    before = [c for c in comments if c.span.start < opener]
    lead = next((c for c in before if c.span.line == node.span.line), None)
    inside = [c for c in comments if opener < c.span.start < closer]
    opener_line = layout.line_of(opener)
    header, body = body_lines(layout, children, inside, opener + 1, closer, indent + INDENT, render, opener_line)
    head = [Line(line.indent, line.code) for line in head]
    if lead is not None and len(head) == 1 and header is not None:
        before, lead = before, None          # the first line is the opener's, which has its own comment
    hoisted = [comment_line(c, indent) for c in before if c is not lead]
    if lead is not None:
        head[0].comment = lead.text.rstrip()
    last = head[-1]
    if not inside and inline is not None and all(line is not BLANK and line.comment is None for line in body):
        one = inline(body)
        if one is not None and len(head) == 1 and layout.fits(indent, f"{last.code} {one}"):
            return hoisted + [Line(indent, f"{last.code} {one}", last.comment)]
    if not body and header is None:
        last.code += " " + {"}": "{}", "]": "[]"}[close]
        return hoisted + head
    last.code += " " + {"}": "{", "]": "["}[close]
    if header is not None:
        last.comment = header
    return hoisted + head + body + [Line(indent, close)]


def hoisted_then(node, comments: Sequence[ast.Comment], indent: int, lines: list[Line]) -> list[Line]:
    """A construct without a body: a comment on its first line trails that line, the others move before it.

    (A comment stays on the construct's first line because `# funnel: ignore[…]` applies to its line.)
    """
    lead = next((c for c in comments if c.span.line == node.span.line), None)
    if lead is not None:
        lines[0].comment = lead.text.rstrip()
    return [comment_line(c, indent) for c in comments if c is not lead] + lines


# Wrapping --------------------------------------------------------------------

def _chain(expr, op: str) -> list:
    """The operands of a left-nested run of one operator: a and b and c -> [a, b, c]."""
    operands = []
    while isinstance(expr, ast.Binary) and expr.op == op:
        operands.append(expr.right)
        expr = expr.left
    operands.append(expr)
    return operands[::-1]


def wrap_expr(layout: Layout, prefix: str, expr, indent: int, continuation: int, suffix: str = "",
              parent: int = 0) -> list[Line]:
    """`prefix` + the expression on one line, or broken before each top-level `and`/`or` when too long.

    Operators start the continuation lines (at `continuation`); an operand that
    is itself too long breaks again, two columns further in. Parenthesised
    groups and other expressions stay whole.
    """
    text = prefix + expr_text(expr, parent) + suffix
    breakable = isinstance(expr, ast.Binary) and expr.op in ("and", "or") and parent <= PRECEDENCE[expr.op]
    if layout.fits(indent, text) or not breakable:
        return [Line(indent, text)]
    level = PRECEDENCE[expr.op] + 1
    operands = _chain(expr, expr.op)
    lines = wrap_expr(layout, prefix, operands[0], indent, continuation + INDENT, parent=level)
    for operand in operands[1:]:
        lines += wrap_expr(layout, f"{expr.op} ", operand, continuation, continuation + INDENT, parent=level)
    lines[-1].code += suffix
    return lines


def clauses(layout: Layout, head: str, parts: Sequence[tuple[str, object]], indent: int,
            suffix: str = "") -> list[Line]:
    """An item's head and its clauses (`when EXPR`, `because "…"`): one line, or one clause a line.

    `parts` holds (keyword, expression) or (keyword, text as written).
    """
    def part_text(keyword, value):
        return f"{keyword} {value if isinstance(value, str) else expr_text(value)}"

    one = " ".join([head] + [part_text(k, v) for k, v in parts]) + suffix
    if layout.fits(indent, one) or not parts:
        return [Line(indent, one)]
    lines = [Line(indent, head)]
    inner = indent + CONTINUATION
    for keyword, value in parts:
        if isinstance(value, str):
            lines.append(Line(inner, f"{keyword} {value}"))
        else:
            lines += wrap_expr(layout, f"{keyword} ", value, inner, inner + INDENT)
    lines[-1].code += suffix
    return lines


# Output ------------------------------------------------------------------------

def align_comments(lines: list[Line], width: int) -> None:
    """Trailing comments of consecutive lines at one indentation line up, at COMMENT_COLUMN or further."""
    def flush(run: list[Line]) -> None:
        column = max([COMMENT_COLUMN] + [line.end + 2 for line in run])
        for line in run:
            fits = column + len(line.comment) <= width
            line.code += " " * ((column if fits else line.end + 2) - line.end)

    run: list[Line] = []
    for line in lines:
        if line is not BLANK and line.comment is not None and line.code and (not run or run[-1].indent == line.indent):
            run.append(line)
            continue
        if run:
            flush(run)
        run = [line] if line is not BLANK and line.comment is not None and line.code else []
    if run:
        flush(run)


def lines_text(lines: list[Line], width: int) -> str:
    """The text of the lines: blank lines never doubled nor at the ends, one final newline."""
    kept: list[Line] = []
    for line in lines:
        if line.apart:
            at = len(kept)
            while at > 0 and (kept[at - 1] is BLANK or kept[at - 1].code.startswith("#")):
                at -= 1
            if at > 0 and (at == len(kept) or kept[at] is not BLANK):
                kept.insert(at, BLANK)
        if line is BLANK and (not kept or kept[-1] is BLANK):
            continue
        kept.append(line)
    while kept and kept[-1] is BLANK:
        kept.pop()
    align_comments(kept, width)
    out = []
    for line in kept:
        if line is BLANK:
            out.append("")
        elif line.comment is not None:
            out.append(" " * line.indent + line.code + line.comment)
        else:
            out.append(" " * line.indent + line.code)
    return "\n".join(out) + "\n" if out else ""
