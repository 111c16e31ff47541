"""The report as ONE self-contained HTML file: inline CSS, JS and SVG, nothing fetched when viewed.

The page is built here from report.html, report.css and report.js (package
data beside this module); charts are inline SVG drawn in charts.py and
stage_graph.py, so the page reads and prints the same with scripts off.
"""
from __future__ import annotations

import re
from importlib import resources

from ...dsl.render.safe_text import markup as escape
from ..metrics import FunnelMetrics
from . import units
from ..cohorts import title_of
from .charts import funnel_chart, group_chart, period_chart, time_chart
from .model import (FunnelReport, Report, compare, group_label, has_paths, instant_lines, no_reason_line, path_lines,
                    side_lines, value_text)
from .stage_graph import stage_graph

STUCK_SHOWN = 50
GROUPS_SHOWN = 40


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _cell(value: str, sort: float | int | None = None, css: str | None = None) -> str:
    sort_attr = f' data-sort="{sort}"' if sort is not None else ""
    class_attr = f' class="{css}"' if css else ""
    return f"<td{sort_attr}{class_attr}>{escape(value)}</td>"


def _table(headers: list[str], rows: list[str], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    if "Stage" in headers[1:]:
        head = head.replace("<th>Stage</th>", '<th class="text">Stage</th>')
    return (f'<table class="sortable {css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _row(*cells: str) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def _cards(shape, m: FunnelMetrics) -> str:
    cur = shape.currency
    items = [("Deals", units.count(m.deals)), ("Won", units.count(m.won)), ("Lost", units.count(m.lost)),
             ("Open", units.count(m.open)), ("Win rate", units.percent(m.win_rate)),
             ("Median cycle to won", units.duration(m.cycle_won.median))]
    if shape.value_field is not None:
        items += [("Won value", units.money(m.won_value_total, cur)),
                  ("Average won deal", units.money(m.won_value_mean, cur)),
                  ("Open pipeline", units.money(m.pipeline_value, cur)),
                  ("Sales velocity a day", units.money(m.velocity, cur)),
                  ("Forecast", units.money(m.forecast, cur))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="card-label">{escape(k)}</div><div class="card-value">{escape(v)}</div></div>'
        for k, v in items) + "</div>"


def _diagnosis(funnel: FunnelReport) -> str:
    if not funnel.findings:
        return '<p class="muted">No pattern stands out at the configured thresholds.</p>'
    items = "".join(f'<li><span class="pattern">{escape(f.pattern)}</span> {escape(f.message)}</li>'
                    for f in funnel.findings)
    return f'<ul class="findings">{items}</ul>'


def _funnel_table(m: FunnelMetrics) -> str:
    rows = [_row(_cell(s.title), _cell(units.count(s.reached), s.reached), _cell(units.count(s.entries), s.entries),
                 _cell(units.percent(s.conversion_next), s.conversion_next),
                 _cell(units.percent(s.conversion_first), s.conversion_first),
                 _cell(units.count(s.skipped), s.skipped),
                 _cell(units.count(s.lost_from), s.lost_from), _cell(units.count(s.open), s.open),
                 _cell(units.count(s.stuck), s.stuck))
            for s in m.stages]
    return _table(["Stage", "Reached", "Entries", "To next", "To first", "Skipped", "Lost here", "Open", "Stuck"],
                  rows)


def _paths(shape, m: FunnelMetrics) -> str:
    """Rework rate, moves back, side stages, skips and repeated losses (text.path_lines words them)."""
    parts = ["".join(f"<p>{escape(line)}</p>" for line in path_lines(shape, m))]
    if m.moves_back:
        rows = [_row(_cell(shape.title_of(b.source)), _cell(shape.title_of(b.target), css="text"),
                     _cell(units.count(b.deals), b.deals), _cell(units.count(b.moves), b.moves),
                     _cell(units.percent(b.share), b.share))
                for b in m.moves_back]
        parts.append("<h4>Moves back</h4>" + _table(["From", "To", "Deals", "Moves", "Share of reached"], rows))
    if m.side_stages:
        rows = [_row(_cell(s.title), _cell(units.count(s.reached), s.reached), _cell(units.count(s.entries), s.entries),
                     _cell(units.count(s.returned), s.returned), _cell(units.count(s.lost_from), s.lost_from),
                     _cell(units.count(s.open), s.open))
                for s in m.side_stages]
        parts.append("<h4>Side stages, off the main path</h4>"
                     + _table(["Side stage", "Deals", "Entries", "Came back", "Lost here", "Open"], rows)
                     + "".join(f'<p class="muted">{escape(line)}</p>' for line in side_lines(shape, m)))
    return "".join(parts)


def _title(s) -> str:
    return f"{s.title} (side)" if s.side else s.title


def _time_table(m: FunnelMetrics) -> str:
    rows = [_row(_cell(_title(s)), _cell(units.count(s.time.count), s.time.count),
                 _cell(units.duration(s.time.mean), s.time.mean), _cell(units.duration(s.time.median), s.time.median),
                 _cell(units.duration(s.time.p90), s.time.p90),
                 _cell(units.count(s.over_sla) if s.sla is not None else units.NONE, s.over_sla),
                 _cell(units.duration(s.sla), s.sla), _cell(units.count(s.waiting.count), s.waiting.count),
                 _cell(units.duration(s.waiting.median), s.waiting.median))
            for s in m.stages + m.side_stages]
    return _table(["Stage", "Stays", "Mean", "Median", "p90", "Over SLA", "SLA", "Still open", "Their median"],
                  rows)


def _outcome_tables(shape, m: FunnelMetrics) -> str:
    cycles = [_row(_cell(name), _cell(units.count(d.count), d.count), _cell(units.duration(d.mean), d.mean),
                   _cell(units.duration(d.median), d.median), _cell(units.duration(d.p90), d.p90))
              for name, d in (("Created → won", m.cycle_won), ("Created → lost", m.cycle_lost))]
    by_stage = [_row(_cell(shape.title_of(stage) if stage else "(never in an open stage)"), _cell(units.count(n), n))
                for stage, n in m.lost_by_stage]
    by_reason = [_row(_cell(reason or "(no reason)"), _cell(units.count(n), n),
                      _cell(units.percent(n / m.lost if m.lost else None), n))
                 for reason, n in m.lost_by_reason]
    return ('<div class="columns">'
            f'<div><h4>Cycle time</h4>{_table(["", "Deals", "Mean", "Median", "p90"], cycles)}</div>'
            f'<div><h4>Lost by stage</h4>{_table(["Stage", "Lost"], by_stage)}</div>'
            f'<div><h4>Lost by reason</h4>{_table(["Reason", "Lost", "Share"], by_reason)}'
            f'{_notes([line for line in (no_reason_line(m),) if line])}</div></div>')


def _pipeline_table(shape, m: FunnelMetrics) -> str:
    rows = [_row(_cell(_title(s)), _cell(units.count(s.open), s.open), _cell(units.money(s.pipeline_value),
                                                                             s.pipeline_value),
                 _cell(units.count(s.without_value), s.without_value),
                 _cell(units.probability(s.probability), s.probability), _cell(units.money(s.forecast), s.forecast))
            for s in m.stages + m.side_stages]
    rows.append('<tr class="total">' + _cell("Total") + _cell(units.count(m.open)) + _cell(units.money(m.pipeline_value))
                + _cell("") + _cell("") + _cell(units.money(m.forecast)) + "</tr>")
    currency = f" ({shape.currency})" if shape.currency else ""
    return _table(["Stage", "Open deals", f"Value{currency}", "Without value", "Probability",
                   f"Forecast{currency}"], rows)


def _stuck_table(shape, m: FunnelMetrics) -> str:
    rows = [_row(_cell(s.deal), _cell(shape.title_of(s.stage), css="text"), _cell(units.date(s.entered, shape.timezone), s.entered),
                 _cell(units.duration(s.age), s.age), _cell(units.duration(s.sla), s.sla))
            for s in m.stuck[:STUCK_SHOWN]]
    note = (f'<p class="muted">The {STUCK_SHOWN} longest of {len(m.stuck)} shown; the JSON report lists all.</p>'
            if len(m.stuck) > STUCK_SHOWN else "")
    return _table(["Deal", "Stage", "Entered", "In stage", "SLA"], rows) + note


def _groups(report: Report, funnel: FunnelReport) -> str:
    whole, groups = funnel.whole, funnel.groups[:GROUPS_SHOWN]
    chart = group_chart([(", ".join(value_text(v) for v in g.key), g.metrics.win_rate, g.metrics.deals)
                         for g in groups], whole.win_rate)
    summary_rows, stage_rows = [], []
    for group in groups:
        m, diff = group.metrics, compare(group.metrics, whole)
        label = _cell(group_label(report.by, group.key))
        summary_rows.append(_row(
            label, _cell(units.count(m.deals), m.deals), _cell(units.count(m.won), m.won),
            _cell(units.count(m.lost), m.lost), _cell(units.percent(m.win_rate), m.win_rate),
            _cell(units.points(diff.win_rate), diff.win_rate, _sign(diff.win_rate)),
            _cell(units.money(m.won_value_mean), m.won_value_mean),
            _cell(units.duration(m.cycle_won.median), m.cycle_won.median)))
        cells = [label]
        for stage, (_, delta) in zip(m.stages, diff.conversion_next):
            cells.append(f'<td data-sort="{stage.conversion_next}" class="{_sign(delta)}" '
                         f'title="{escape(units.points(delta))} against the whole">'
                         f"{escape(units.percent(stage.conversion_next, 0))}</td>")
        stage_rows.append(_row(*cells))
    whole_summary = _row(_cell("(whole)"), _cell(units.count(whole.deals)), _cell(units.count(whole.won)),
                         _cell(units.count(whole.lost)), _cell(units.percent(whole.win_rate)), _cell(""),
                         _cell(units.money(whole.won_value_mean)), _cell(units.duration(whole.cycle_won.median)))
    whole_stages = _row(_cell("(whole)"), *[_cell(units.percent(s.conversion_next, 0)) for s in whole.stages])
    summary = _table(["Group", "Deals", "Won", "Lost", "Win rate", "vs whole", "Avg won", "Cycle won"],
                     summary_rows, "groups")
    stages = _table(["Group"] + [s.title for s in whole.stages], stage_rows, "groups by-stage")
    summary = summary.replace("<tbody>", "<tbody>" + whole_summary.replace("<tr>", '<tr class="whole">', 1), 1)
    stages = stages.replace("<tbody>", "<tbody>" + whole_stages.replace("<tr>", '<tr class="whole">', 1), 1)
    note = (f'<p class="muted">The {GROUPS_SHOWN} largest of {len(funnel.groups)} groups shown; the JSON report '
            f"has all.</p>" if len(funnel.groups) > GROUPS_SHOWN else "")
    return (f'{chart}<div class="scroll">{summary}</div><h4>Conversion to the next stage, from each stage</h4>'
            f'<p class="legend">Green: above the whole, red: below it (hover for the difference).</p>'
            f'<div class="scroll">{stages}</div>{note}')


def _trend(shape, m: FunnelMetrics) -> str:
    """A chart per figure (win rate, won value, cycle), then the figures and each stage's conversion per period."""
    points = m.trend.points
    charts = [("Win rate of the deals closed", [(p.period, p.win_rate, units.percent(p.win_rate)) for p in points]),
              ("Median cycle created → won", [(p.period, p.cycle_won_median, units.duration(p.cycle_won_median))
                                              for p in points])]
    if shape.value_field is not None:
        charts.insert(1, ("Won value", [(p.period, p.won_value, units.money(p.won_value, shape.currency))
                                        for p in points]))
    parts = [f"<h4>{escape(title)}</h4>" + period_chart(rows, f"{title} by {m.trend.period}",
                                                         1.0 if title.startswith("Win rate") else None)
             for title, rows in charts]
    rows = [_row(_cell(p.period), _cell(units.count(p.won), p.won), _cell(units.count(p.lost), p.lost),
                 _cell(units.percent(p.win_rate), p.win_rate), _cell(units.money(p.won_value), p.won_value),
                 _cell(units.duration(p.cycle_won_median), p.cycle_won_median),
                 *[_cell(units.percent(rate, 0), rate) for _, _, rate in p.stages])
            for p in points]
    headers = ["Period", "Won", "Lost", "Win rate", "Won value", "Cycle won"] + [s.title for s in m.stages]
    return ("".join(parts) + '<p class="legend">Won, lost, win rate, won value and cycle: the deals closed in the '
            "period; a stage's column: of the deals that first entered it in the period, the share that went "
            f'further down the path.</p><div class="scroll">{_table(headers, rows, "by-stage")}</div>')


def _sign(delta: float | None) -> str:
    if delta is None or abs(delta) < 0.005:
        return "same"
    return "better" if delta > 0 else "worse"


def _section(title: str, content: str, css: str = "") -> str:
    return f'<section class="block {css}"><h3>{escape(title)}</h3>{content}</section>'


def _funnel(report: Report, funnel: FunnelReport) -> str:
    shape, m = funnel.shape, funnel.whole
    head = (f'<h2>{escape(shape.title)} <span class="muted">({escape(shape.id)})</span></h2>'
            + _cards(shape, m))
    if not m.deals:
        return f'<article class="funnel">{head}<p class="muted">No deals: nothing to measure.</p></article>'
    parts = [head, _section("Diagnosis", _diagnosis(funnel), "diagnosis"),
             _section("Funnel", funnel_chart(shape, m) + _funnel_table(m), "funnel-block"),
             *([_section("Paths deals took", _paths(shape, m), "paths-block")] if has_paths(m) else []),
             _section("Stage graph", stage_graph(shape, m) + _graph_legend(), "graph-block"),
             _section("Time in stage", time_chart(m) + _time_legend() + _time_table(m) + _notes(instant_lines(m))),
             _section("Won and lost", _outcome_tables(shape, m))]
    if shape.value_field is not None:
        parts.append(_section("Open pipeline and forecast", _pipeline_table(shape, m)))
    if m.stuck:
        parts.append(_section(f"Stuck deals ({units.count(len(m.stuck))} over their stage's SLA)",
                              _stuck_table(shape, m)))
    if m.trend is not None and m.trend.points:
        parts.append(_section(f"Trend by {m.trend.period}", _trend(shape, m), "trend-block"))
    if funnel.groups:
        parts.append(_section(f"By {', '.join(map(title_of, report.by))}: each group against the whole", _groups(report, funnel),
                              "groups-block"))
    return f'<article class="funnel" id="funnel-{escape(shape.id)}">{"".join(parts)}</article>'


def _graph_legend() -> str:
    return ('<p class="legend"><span class="key key-edge"></span> moves deals made (width and number: how many) '
            '<span class="key key-unused"></span> declared, never taken '
            '<span class="key key-undeclared"></span> made but not declared</p>')


def _notes(lines: list[str]) -> str:
    return "".join(f'<p class="muted">{escape(line)}</p>' for line in lines)


def _time_legend() -> str:
    return ('<p class="legend">Finished stays: the box spans the middle half (p25–p75), the whisker p10–p90, the '
            'bar is the median and the dot the mean; the ring is the median wait of the stays still open.</p>')


def _summary(report: Report) -> str:
    s = report.summary
    bits = [f"as of {units.date(report.as_of, report.zone)}"] + ([report.window_text] if report.window_text else [])
    if s.lines or s.actions:
        bits.append(f"{units.count(s.lines)} lines, {units.count(s.applied)} applied, "
                    f"{units.count(s.rejected)} rejected; {units.count(s.actions)} actions; "
                    f"{units.count(s.violations)} violations; {units.count(s.problems)} run-time problems")
    return " · ".join(bits)


def render_html(report: Report) -> str:
    titles = ", ".join(f.shape.title for f in report.funnels) or "funnel report"
    body = "".join(_funnel(report, f) for f in report.funnels) or '<p class="muted">No funnels.</p>'
    parts = {"title": escape(f"{titles} — funnel report"), "heading": escape(titles),
             "summary": escape(_summary(report)), "spec": escape(report.spec), "style": _asset("report.css"),
             "script": _asset("report.js"), "body": body,
             "caveat": f'<p class="caveat">{escape(report.snapshot_text)}</p>' if report.snapshot_text else ""}
    return re.sub(r"\{\{ (\w+) \}\}", lambda match: parts[match.group(1)], _asset("report.html"))
