"""`funnel lint --format github`: workflow commands that GitHub Actions shows as annotations on the diff.

    ::error file=sales.funnel,line=14,col=14,endLine=14,endColumn=20,title=FNL102 unknown-stage::unknown stage `proposl`

Columns count code points; `endColumn` is the last column of the span.
"""
from __future__ import annotations

from ..diagnostics import Diagnostic, Severity
from .safe_text import github_data as _data, github_property as _property

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def annotation(d: Diagnostic) -> str:
    span = d.span
    last_column = max(span.column, span.end_column - 1)
    props = [f"file={_property(span.file)}", f"line={span.line}", f"col={span.column}",
             f"endLine={span.end_line}", f"endColumn={last_column}", f"title={_property(f'{d.code} {d.name}')}"]
    message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
    return f"::{COMMANDS[d.severity]} {','.join(props)}::{_data(message)}"


def lint_github(run) -> str:
    """`run`: a dsl.lint.LintRun; one line per finding."""
    return "".join(annotation(d) + "\n" for d in run.findings)
