"""`funnel lint --format json`: the findings and a summary, for machines.

Lines and columns are 1-based and count Unicode code points (a Cyrillic
letter is one column); `end_column` is the column just after the span.
"""
from __future__ import annotations

from ..diagnostics import Severity

COLUMNS = "1-based Unicode code points; end_column is just after the span"


def lint_json(run) -> dict:
    """`run`: a dsl.lint.LintRun."""
    return {
        "columns": COLUMNS,
        "findings": [d.to_json() for d in run.findings],
        "suppressed": [{**d.to_json(), "reason": reason} for d, reason in run.suppressed],
        "summary": {
            "files": run.files,
            "errors": run.count(Severity.ERROR),
            "warnings": run.count(Severity.WARNING),
            "infos": run.count(Severity.INFO),
            "suppressed": len(run.suppressed),
            "failed": run.failed,
        },
    }
