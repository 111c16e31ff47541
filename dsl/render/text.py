"""Diagnostics as a person reads them: location, message, the source line, a caret, a hint."""
from __future__ import annotations

from typing import Iterable, Mapping

from ..diagnostics import Diagnostic, Severity
from ..source import Source, Span
from .safe_text import one_line, terminal

COLORS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m", Severity.INFO: "\033[1;36m"}
BLUE, BOLD, RESET = "\033[1;34m", "\033[1m", "\033[0m"


def _snippet(span: Span, source: Source | None, mark: str, gutter: int, paint) -> list[str]:
    if source is None or not source.quote:
        return []
    line = source.line_text(span.line)
    if not line and span.line > len(source.lines):
        return []
    end_column = span.end_column if span.end_line == span.line else len(line) + 1
    width = max(1, end_column - span.column)
    pad = " " * gutter
    return [
        paint(BLUE, f"{pad} |"),
        paint(BLUE, f"{span.line:>{gutter}} |") + f" {one_line(line.expandtabs(1))}",
        paint(BLUE, f"{pad} |") + " " + " " * (span.column - 1) + mark * width,
    ]


def render_diagnostic(d: Diagnostic, sources: Mapping[str, Source], color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if color else text

    spans = [d.span] + [r.span for r in d.related]
    gutter = max(len(str(s.line)) for s in spans)
    head = f"{one_line(d.span.label())}: " + paint(COLORS[d.severity], f"{d.severity.word}[{d.code}]") + " "
    lines = [head + paint(BOLD, terminal(d.message))]
    source = sources.get(d.span.file)
    lines += _snippet(d.span, source, "^", gutter, paint)
    for related in d.related:
        lines.append(paint(BLUE, f"{' ' * gutter} ::: ") + one_line(f"{related.span.label()}: {related.message}"))
        lines += _snippet(related.span, sources.get(related.span.file), "-", gutter, paint)
    if d.hint:
        lines.append(paint(BLUE, f"{' ' * gutter} = ") + paint(BOLD, "help") + f": {terminal(d.hint)}")
    return "\n".join(lines)


def summary_line(diagnostics: list[Diagnostic], files: int) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity is s) for s in Severity}
    parts = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        n = counts[severity]
        if n:
            parts.append(f"{n} {severity.word}{'s' if n != 1 else ''}")
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    return f"{', '.join(parts)} in {checked}" if parts else f"all clean: {checked}"


def render_text(diagnostics: Iterable[Diagnostic], sources: Mapping[str, Source], color: bool = False) -> str:
    return "\n\n".join(render_diagnostic(d, sources, color) for d in diagnostics)
