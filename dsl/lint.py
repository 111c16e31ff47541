"""Run the lint checks over a resolved spec, then apply settings and inline suppressions.

`lint_spec` is the pure step (model -> findings). `lint_analysis` turns an
analysed file (api.analyse with lint=False) into what `funnel lint` reports:
the checks that the settings select, severities as configured, suppressed
findings set apart with their reasons, and problems with suppressions and
settings added.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from .codes import all_codes, lint_checks
from .config import Settings
from .diagnostics import Diagnostic, Severity, sorted_diagnostics
from .gcpause import gc_paused
from .loader import STD_PREFIX
from .model import Spec
from .source import Source
from .suppress import apply_suppressions, find_suppressions, unused_suppressions


def lint_spec(spec: Spec, runs: Callable[[str], bool] | None = None) -> list[Diagnostic]:
    """Every finding of the registered checks (those `runs(code)` accepts) on every funnel of `spec`."""
    found: list[Diagnostic] = []
    checks = [entry for entry in lint_checks() if runs is None or runs(entry.code)]
    with gc_paused():                   # the checks of a large spec make many small objects, and no cycles
        for funnel in spec.funnels:
            for entry in checks:
                found.extend(entry.run(funnel, spec))
    return found


@dataclass
class FileReport:
    """What `funnel lint` found in one file (and the files it imports)."""

    path: str
    findings: list[Diagnostic]
    suppressed: list[tuple[Diagnostic, str]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    advice: int = 0              # info-level findings left out (shown with --show-advice)

    @property
    def failed(self) -> bool:
        return any(d.severity >= self.fail_on for d in self.findings)


def shown(settings: Settings, d: Diagnostic) -> bool:
    """Settings choose among the checks; errors that stop a file being checked show unless ignored by name."""
    if d.code in settings.ignore:
        return False
    if settings.select is None or d.code in settings.select:
        return True
    entry = all_codes().get(d.code)
    return entry is not None and entry.run is None and d.severity is Severity.ERROR


def lint_analysis(analysis, settings: Settings) -> FileReport:
    """`analysis`: api.Analysis of one file made with lint=False (its spec is None when it has errors)."""
    spec: Spec | None = analysis.spec
    found = list(analysis.diagnostics)
    if spec is not None:
        found += lint_spec(spec, settings.runs)
    found = [dataclasses.replace(d, severity=settings.severity_of(d.code, d.severity)) for d in found]
    sources = dict(analysis.sources)
    stage_spans = [s.span for f in spec.funnels for s in f.stages] if spec is not None else []
    stdlib = frozenset(p for p in sources if p.startswith(STD_PREFIX))
    suppressions, problems = find_suppressions(sources.values(), stage_spans, quiet=stdlib)
    kept, suppressed = apply_suppressions((d for d in found if shown(settings, d)), suppressions)
    if spec is not None:
        problems += unused_suppressions(suppressions, spec.path, settings.runs)
    problems += settings.problems
    for source in settings.sources:
        sources[source.path] = source
    findings = sorted_diagnostics(kept + [d for d in problems if shown(settings, d)])
    advice = 0
    if not settings.show_advice:         # advice is shown on request: it would be noise on most funnels
        advice = sum(1 for d in findings if d.severity is Severity.INFO)
        findings = [d for d in findings if d.severity is not Severity.INFO]
    return FileReport(analysis.path, findings, suppressed, sources, settings.failing, advice)


def errors_that_stop_a_run(analysis, settings: Settings) -> list[Diagnostic]:
    """The errors `funnel lint` reports for an analysed file (its settings and suppressions applied):
    a command that runs the spec (simulate, diff, test, ...) refuses it for them.

    Only the checks that can report an error under `settings` run; findings
    about the settings themselves (pyproject.toml) are lint's alone."""
    erring = frozenset(entry.code for entry in lint_checks() if settings.runs(entry.code)
                       and settings.severity_of(entry.code, entry.severity) is Severity.ERROR)
    report = lint_analysis(analysis, dataclasses.replace(settings, select=erring, problems=(), sources=()))
    return [d for d in report.findings if d.severity is Severity.ERROR]


@dataclass
class LintRun:
    """Every file's report together: what the renderers and the exit code read."""

    files: int
    findings: list[Diagnostic]
    suppressed: list[tuple[Diagnostic, str]]
    sources: dict[str, Source]
    failed: bool
    advice: int = 0              # info-level findings left out in all files

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.findings if d.severity is severity)


def combine(reports: list[FileReport]) -> LintRun:
    """One run from many files; a finding in a file imported by several is reported once."""
    sources: dict[str, Source] = {}
    findings, suppressed, seen = [], [], set()
    for report in reports:
        sources.update(report.sources)
        findings.extend(report.findings)
        for d, reason in report.suppressed:
            if (d.sort_key(), d.severity) not in seen:
                seen.add((d.sort_key(), d.severity))
                suppressed.append((d, reason))
    suppressed.sort(key=lambda pair: pair[0].sort_key())
    return LintRun(len(reports), sorted_diagnostics(findings), suppressed, sources,
                   any(r.failed for r in reports), sum(r.advice for r in reports))
