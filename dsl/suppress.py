"""Inline suppressions: `# funnel: ignore[FNL405, no-sla] the reason`.

A suppression comment after code covers that line; alone on a line it covers
the next line of code. When the covered line opens a stage (`stage x … {`),
it covers the whole stage. It names codes (or kebab names) and gives a reason.

Problems with suppressions are findings too: no reason or no codes (FNL006),
a code that does not exist (FNL007), and, in the file being linted, a
suppression whose finding is not there (FNL008).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from . import codes
from .diagnostics import Diagnostic
from .source import Source, Span

DIRECTIVE = re.compile(r"#\s*funnel:\s*ignore\b(.*)$")
CODES_AND_REASON = re.compile(r"\[([^\]]*)\]\s*(.*)$")
FORM = "`# funnel: ignore[CODE] reason`"
ABOUT_SUPPRESSIONS = frozenset({"FNL006", "FNL007", "FNL008"})


@dataclass
class Suppression:
    file: str
    first: int                                     # the lines it covers
    last: int
    codes: dict[str, Span]                         # code -> where it is written
    reason: str
    span: Span                                     # the comment
    used: set[str] = field(default_factory=set)

    def covers(self, d: Diagnostic) -> bool:
        return d.span.file == self.file and self.first <= d.span.line <= self.last and d.code in self.codes


@dataclass(frozen=True)
class _Comment:
    line: int
    column: int          # 1-based, of the `#`
    text: str
    alone: bool          # nothing but spaces before it


def comments(source: Source) -> Iterator[_Comment]:
    """Every `#` comment, skipping `#` inside strings (a string never spans lines)."""
    for number, line in enumerate(source.lines, 1):
        first = line.find("#")
        if first < 0:                   # most lines: no comment, and no need to walk their characters
            continue
        if '"' not in line[:first]:     # no string before it: the first `#` starts the comment
            yield _Comment(number, first + 1, line[first:].rstrip("\r"), not line[:first].strip())
            continue
        in_string, escaped = False, False
        for column, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                yield _Comment(number, column + 1, line[column:].rstrip("\r"), not line[:column].strip())
                break


def _next_code_line(source: Source, line: int) -> int:
    for number in range(line + 1, len(source.lines) + 1):
        text = source.line_text(number).strip()
        if text and not text.startswith("#"):
            return number
    return line


def _covered(source: Source, comment: _Comment, stage_lines: Mapping[int, int]) -> tuple[int, int]:
    line = _next_code_line(source, comment.line) if comment.alone else comment.line
    return line, stage_lines.get(line, line)


def _span_in(source: Source, comment: _Comment, start: int, length: int) -> Span:
    offset = sum(len(text) + 1 for text in source.lines[: comment.line - 1]) + comment.column - 1 + start
    return source.span_at(offset, max(1, length))


def _parse(source: Source, comment: _Comment, stage_lines, problems: list[Diagnostic]) -> Suppression | None:
    match = DIRECTIVE.search(comment.text)
    if match is None or match.start() != 0:
        return None
    whole = _span_in(source, comment, 0, len(comment.text.rstrip()))
    found = CODES_AND_REASON.match(match.group(1).lstrip())
    if found is None:
        problems.append(codes.diagnostic("FNL006", "a suppression must name its codes in brackets", whole,
                                         hint=f"write {FORM}"))
        return None
    inside_at = comment.text.index("[", match.start(1)) + 1
    codes.all_codes()    # a file with errors is not linted, so the checks may not be registered yet
    named: dict[str, Span] = {}
    for item in re.finditer(r"[^,\s]+", found.group(1)):
        span = _span_in(source, comment, inside_at + item.start(), len(item.group()))
        entry = codes.lookup(item.group())
        if entry is None:
            from .config import unknown_code_hint
            problems.append(codes.diagnostic("FNL007", f"unknown code `{item.group()}` in a suppression", span,
                                             hint=unknown_code_hint(item.group())))
        else:
            named[entry.code] = span
    if not found.group(1).strip():
        problems.append(codes.diagnostic("FNL006", "a suppression must name the codes it suppresses", whole,
                                         hint=f"write {FORM}"))
        return None
    reason = found.group(2).strip()
    if not reason:
        problems.append(codes.diagnostic("FNL006", "a suppression must give its reason", whole,
                                         hint=f"say why the finding is right to ignore: {FORM}"))
    first, last = _covered(source, comment, stage_lines)
    return Suppression(source.path, first, last, named, reason, whole)


def find_suppressions(sources: Iterable[Source], stage_spans: Iterable[Span],
                      quiet: frozenset[str] = frozenset()) -> tuple[list[Suppression], list[Diagnostic]]:
    """The suppressions written in `sources`; problems with them (none reported for files in `quiet`)."""
    stage_lines: dict[str, dict[int, int]] = {}
    for span in stage_spans:
        stage_lines.setdefault(span.file, {})[span.line] = span.end_line
    found, problems = [], []
    for source in sources:
        if "funnel:" not in source.text:    # no directive in the file: its comments need not be looked for
            continue
        lines = stage_lines.get(source.path, {})
        local: list[Diagnostic] = []
        for comment in comments(source):
            if "funnel:" in comment.text:
                suppression = _parse(source, comment, lines, local)
                if suppression is not None:
                    found.append(suppression)
        if source.path not in quiet:
            problems.extend(local)
    return found, problems


def apply_suppressions(diagnostics: Iterable[Diagnostic], suppressions: list[Suppression]):
    """(kept, suppressed as (diagnostic, reason)); suppressions note which of their codes they used."""
    kept, suppressed = [], []
    for d in diagnostics:
        match = None if d.code in ABOUT_SUPPRESSIONS else next((s for s in suppressions if s.covers(d)), None)
        if match is None:
            kept.append(d)
        else:
            match.used.add(d.code)
            suppressed.append((d, match.reason))
    return kept, suppressed


def unused_suppressions(suppressions: list[Suppression], file: str, judged) -> list[Diagnostic]:
    """FNL008 for codes suppressed in `file` with no finding, among the codes `judged(code)` says ran."""
    found = []
    for s in suppressions:
        if s.file != file:
            continue
        for code, span in s.codes.items():
            if code not in s.used and judged(code):
                found.append(codes.diagnostic("FNL008", f"nothing to suppress: no `{code}` finding here", span,
                                              hint="remove the suppression (or this code from it)"))
    return found
