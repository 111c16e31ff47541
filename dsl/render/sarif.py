"""`funnel lint --format sarif`: SARIF 2.1.0, for code scanning (GitHub's upload-sarif and others).

Every code is a rule, its documentation the rule's description; columns are
stated as Unicode code points. Suppressed findings are included with their
in-source suppression and its reason, as SARIF expects.
"""
from __future__ import annotations

import os
from importlib import metadata
from urllib.parse import quote

from ..codes import all_codes
from ..diagnostics import Diagnostic, Severity
from ..loader import STD_PREFIX
from ..source import Span
from .safe_text import terminal

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
STDLIB_BASE = "FUNNELSPEC_STDLIB"


def _version() -> str:
    try:
        return metadata.version("funnelspec")
    except metadata.PackageNotFoundError:
        return "0"


def _artifact(path: str) -> dict:
    if path.startswith(STD_PREFIX):
        return {"uri": quote(path[len(STD_PREFIX):]), "uriBaseId": STDLIB_BASE}
    if os.path.isabs(path):
        return {"uri": "file://" + quote(path.replace(os.sep, "/"))}
    return {"uri": quote(path.replace(os.sep, "/"))}


def _location(span: Span) -> dict:
    region = {"startLine": span.line, "startColumn": span.column,
              "endLine": span.end_line, "endColumn": max(span.end_column, span.column + 1)}
    return {"physicalLocation": {"artifactLocation": _artifact(span.file), "region": region}}


def _rule(entry) -> dict:
    return {
        "id": entry.code,
        "name": entry.name,
        "shortDescription": {"text": entry.summary},
        "fullDescription": {"text": entry.doc},
        "help": {"text": entry.doc, "markdown": entry.doc},
        "defaultConfiguration": {"level": LEVELS[entry.severity]},
        "properties": {"tags": [entry.family]},
    }


def _result(d: Diagnostic, index: dict[str, int], reason: str | None = None) -> dict:
    text = terminal(d.message + (f"\nhelp: {d.hint}" if d.hint else ""))     # viewers show it as it is
    result = {
        "ruleId": d.code,
        "ruleIndex": index[d.code],
        "level": LEVELS[d.severity],
        "message": {"text": text},
        "locations": [_location(d.span)],
    }
    if d.related:
        result["relatedLocations"] = [{"id": i, **_location(r.span), "message": {"text": terminal(r.message)}}
                                      for i, r in enumerate(d.related, 1)]
    if reason is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": terminal(reason)}]
    return result


def lint_sarif(run) -> dict:
    """`run`: a dsl.lint.LintRun."""
    entries = sorted(all_codes().values(), key=lambda c: c.code)
    index = {entry.code: i for i, entry in enumerate(entries)}
    results = [_result(d, index) for d in run.findings]
    results += [_result(d, index, reason or "suppressed in the source") for d, reason in run.suppressed]
    driver = {"name": "funnel", "fullName": "funnel lint (funnelspec)", "version": _version(),
              "rules": [_rule(e) for e in entries]}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
