"""`funnel lint --format concise`: one line per finding, for grep, editors' quickfix lists and terminals.

    sales.funnel:14:14: error[FNL102] unknown stage `proposl`

Columns count code points. The last line is the usual summary.
"""
from __future__ import annotations

from .safe_text import one_line
from .text import summary_line


def lint_concise(run) -> str:
    """`run`: a dsl.lint.LintRun."""
    lines = [one_line(f"{d.span.file}:{d.span.line}:{d.span.column}: {d.severity.word}[{d.code}] {d.message}")
             for d in run.findings]
    lines.append(summary_line(run.findings, run.files))
    return "\n".join(lines) + "\n"
