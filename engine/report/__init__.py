"""Report renderers for replay results and metrics: text, json, csv, html (one module a format).

`render_report` is what `funnel simulate --report FMT` calls on a fresh
replay; `funnel report RESULT.json` builds the same `Report` from a saved
result (engine/saved.py) and calls `render`.
"""
from __future__ import annotations

from ...lang import DEFAULT, using
from ..diagnosis import Thresholds
from ..outcome import ReplayResult
from ..shape import FunnelShape
from .model import Report, ReplaySummary, build_report

FORMATS = ("text", "json", "csv", "html")


def render(report: Report, fmt: str, color: bool = False, language: str | None = None) -> str:
    """A built report in one format; `color` (ANSI) only matters for text. Text and HTML are worded in
    `language` (`--lang`), else the spec's, else English; JSON and CSV read the same in every language."""
    if fmt == "text":
        from .text import render_text
        with using(language or report.language or DEFAULT):
            return render_text(report, color)
    if fmt == "json":
        from .json_out import render_json
        with using(DEFAULT):
            return render_json(report)
    if fmt == "csv":
        from .csv_out import render_csv
        with using(DEFAULT):
            return render_csv(report)
    if fmt == "html":
        from .html import render_html
        with using(language or report.language or DEFAULT):
            return render_html(report)
    raise ValueError(f"unknown report format `{fmt}`; one of: {', '.join(FORMATS)}")


def summary_of(result: ReplayResult) -> ReplaySummary:
    t = result.totals
    return ReplaySummary(lines=t.lines, applied=t.applied, rejected=t.rejected, actions=len(result.actions),
                         violations=len(result.violations), problems=len(result.problems))


def render_report(result: ReplayResult, spec, fmt: str, by: tuple[str, ...] = (), *,
                  thresholds: Thresholds | None = None, color: bool = False, since: float | None = None,
                  trend: str | None = None, zone: str | None = None, language: str | None = None) -> str:
    """The metrics, groups and diagnosis of a replay as text|json|csv|html.

    `spec` is the checked model (dsl/model.py Spec) the replay ran against.
    `zone` (`--tz`) overrides the funnels' `timezone`, `language` (`--lang`) their `language`. Raises ValueError with
    a message for people when `by` names a field a funnel does not have, or
    the format is unknown.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format `{fmt}`; one of: {', '.join(FORMATS)}")
    shapes = [FunnelShape.from_funnel(f) for f in spec.funnels]
    report = build_report(result.outcomes, shapes, result.until, tuple(by), thresholds, result.spec or spec.path,
                          summary_of(result), (since, None), trend, zone, result.snapshot)
    return render(report, fmt, color, language)
