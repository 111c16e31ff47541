"""`funnel lint --format junit`: JUnit XML, which CI systems (GitLab, Jenkins, Azure) show as test results.

One <testsuite> per file checked; a file with no findings is one passing
<testcase>, and every finding is a <testcase> with a <failure> (errors and
warnings) or a passing case with the finding in <system-out> (infos), so the
counts read like a test run.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from ..diagnostics import Severity
from .safe_text import xml


def _case(suite: ET.Element, d) -> None:
    file, message = xml(d.span.file), xml(d.message)
    case = ET.SubElement(suite, "testcase", classname=f"{d.code} {d.name}".strip(),
                         name=f"{file}:{d.span.line}:{d.span.column}: {message}",
                         file=file, line=str(d.span.line))
    detail = f"{file}:{d.span.line}:{d.span.column}: {d.severity.word}[{d.code}] {message}"
    if d.hint:
        detail += f"\nhelp: {xml(d.hint)}"
    if d.severity is Severity.INFO:
        ET.SubElement(case, "system-out").text = detail
        return
    failure = ET.SubElement(case, "failure", message=message, type=d.severity.word)
    failure.text = detail


def lint_junit(run, files: list[str]) -> str:
    """`run`: a dsl.lint.LintRun; `files`: the files checked, so that clean ones show as passing."""
    by_file = defaultdict(list)
    for d in run.findings:
        by_file[d.span.file].append(d)
    names = list(dict.fromkeys(list(files) + list(by_file)))
    root = ET.Element("testsuites", name="funnel lint")
    total_cases = total_failures = 0
    for name in names:
        findings = by_file.get(name, [])
        failures = sum(1 for d in findings if d.severity is not Severity.INFO)
        suite = ET.SubElement(root, "testsuite", name=xml(name), tests=str(max(1, len(findings))),
                              failures=str(failures), errors="0", skipped="0")
        if not findings:
            ET.SubElement(suite, "testcase", classname="funnel lint", name=f"{xml(name)}: clean", file=xml(name))
        for d in findings:
            _case(suite, d)
        total_cases += max(1, len(findings))
        total_failures += failures
    root.set("tests", str(total_cases))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
