"""docs/rules.md from the codes' docstrings: `python -m funnelspec.dsl.docs > docs/rules.md`.

The docstring of each check (or of the function that documents a parser or
resolver code) is its documentation; this module only arranges them. A test
fails when docs/rules.md differs from what this prints.
"""
from __future__ import annotations

import re
import sys

from .codes import Code, all_codes

FAMILIES = {
    "0": "Syntax, files and settings (FNL0xx)",
    "1": "Names (FNL1xx)",
    "2": "The stage graph (FNL2xx)",
    "3": "Expressions and rules (FNL3xx)",
    "4": "Advice (FNL4xx)",
}
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def examples_of(entry: Code) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """The (language, text) of the code block after "Bad:" and after "Fix:" in a code's doc."""
    found = []
    for label in ("Bad:", "Fix:"):
        at = entry.doc.find(f"\n{label}")
        block = _BLOCK.search(entry.doc, at) if at >= 0 else None
        found.append((block.group(1), block.group(2)) if block else None)
    return found[0], found[1]


def _anchor(entry: Code) -> str:
    return f"{entry.code.lower()}-{entry.name}"


def rules_markdown() -> str:
    codes = sorted(all_codes().values(), key=lambda c: c.code)
    lines = [
        "# Lint rules",
        "",
        "<!-- Generated from the checks' docstrings by `python -m funnelspec.dsl.docs > docs/rules.md`;",
        "     edit the docstrings in dsl/checks/, not this file. -->",
        "",
        "Every finding of `funnel lint` has a code, a name (for `--select`, `--ignore` and",
        "suppressions) and a default severity. `funnel explain CODE` prints the same text.",
        "[ci.md](ci.md) shows the options, `[tool.funnel]` settings, inline suppressions",
        "(`# funnel: ignore[FNL405] reason`) and how to run the linter in CI and pre-commit.",
        "",
        "| code | name | severity | summary |",
        "| --- | --- | --- | --- |",
    ]
    for entry in codes:
        lines.append(f"| [{entry.code}](#{_anchor(entry)}) | `{entry.name}` | {entry.severity.word} "
                     f"| {entry.summary.replace('|', '&#124;')} |")
    family = None
    for entry in codes:
        if entry.code[3] != family:
            family = entry.code[3]
            lines += ["", f"## {FAMILIES.get(family, 'Other')}"]
        lines += ["", f"### {entry.code} {entry.name}", "",
                  f"Severity: {entry.severity.word}" + ("" if entry.run else " (found while loading the spec)"),
                  "", entry.doc]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
