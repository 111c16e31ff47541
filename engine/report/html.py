"""The report as ONE self-contained HTML file: inline CSS, JS and SVG, nothing fetched when viewed.

The page is built here from report.html, report.css and report.js (package
data beside this module); charts are inline SVG drawn in charts.py and
stage_graph.py, so the page reads and prints the same with scripts off.
"""
from __future__ import annotations

import json
import re
from importlib import resources

from ...dsl.render.safe_text import markup as escape
from ...lang import _, current
from ..metrics import FunnelMetrics
from . import units
from ..cohorts import period_word, title_of
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
    stage = _("Stage")
    head = "".join(f'<th class="text">{escape(h)}</th>' if h == stage and i else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    return (f'<table class="sortable {css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _tag(name: str, text: str, css: str = "") -> str:
    """`<name class="css">text</name>`, the text escaped: a heading or paragraph of words from the catalogue.

    The words are translated by the caller, outside any f-string, where the catalogue's extractor finds them."""
    return f'<{name} class="{css}">{escape(text)}</{name}>' if css else f"<{name}>{escape(text)}</{name}>"


def _row(*cells: str) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def _cards(shape, m: FunnelMetrics) -> str:
    cur = shape.currency
    items = [(_("Deals"), units.count(m.deals)), (_("Won"), units.count(m.won)), (_("Lost"), units.count(m.lost)),
             (_("Open"), units.count(m.open)), (_("Win rate"), units.percent(m.win_rate)),
             (_("Median cycle to won"), units.duration(m.cycle_won.median))]
    if shape.value_field is not None:
        items += [(_("Won value"), units.money(m.won_value_total, cur)),
                  (_("Average won deal"), units.money(m.won_value_mean, cur)),
                  (_("Open pipeline"), units.money(m.pipeline_value, cur)),
                  (_("Sales velocity a day"), units.money(m.velocity, cur)),
                  (_("Forecast"), units.money(m.forecast, cur))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="card-label">{escape(k)}</div><div class="card-value">{escape(v)}</div></div>'
        for k, v in items) + "</div>"


def _diagnosis(funnel: FunnelReport) -> str:
    if not funnel.findings:
        return _tag("p", _("No pattern stands out at the configured thresholds."), "muted")
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
    return _table([_("Stage"), _("Reached"), _("Entries"), _("To next"), _("To first"), _("Skipped"), _("Lost here"),
                   _("Open"), _("Stuck")], rows)


def _paths(shape, m: FunnelMetrics) -> str:
    """Rework rate, moves back, side stages, skips and repeated losses (text.path_lines words them)."""
    parts = ["".join(f"<p>{escape(line)}</p>" for line in path_lines(shape, m))]
    if m.moves_back:
        rows = [_row(_cell(shape.title_of(b.source)), _cell(shape.title_of(b.target), css="text"),
                     _cell(units.count(b.deals), b.deals), _cell(units.count(b.moves), b.moves),
                     _cell(units.percent(b.share), b.share))
                for b in m.moves_back]
        parts.append(_tag("h4", _("Moves back"))
                     + _table([_("From"), _("To"), _("Deals"), _("Moves"), _("Share of reached")], rows))
    if m.side_stages:
        rows = [_row(_cell(s.title), _cell(units.count(s.reached), s.reached), _cell(units.count(s.entries), s.entries),
                     _cell(units.count(s.returned), s.returned), _cell(units.count(s.lost_from), s.lost_from),
                     _cell(units.count(s.open), s.open))
                for s in m.side_stages]
        parts.append(_tag("h4", _("Side stages, off the main path"))
                     + _table([_("Side stage"), _("Deals"), _("Entries"), _("Came back"), _("Lost here"), _("Open")],
                              rows)
                     + "".join(f'<p class="muted">{escape(line)}</p>' for line in side_lines(shape, m)))
    return "".join(parts)


def _title(s) -> str:
    return _("{stage} (side)").format(stage=s.title) if s.side else s.title


def _time_table(m: FunnelMetrics) -> str:
    rows = [_row(_cell(_title(s)), _cell(units.count(s.time.count), s.time.count),
                 _cell(units.duration(s.time.mean), s.time.mean), _cell(units.duration(s.time.median), s.time.median),
                 _cell(units.duration(s.time.p90), s.time.p90),
                 _cell(units.count(s.over_sla) if s.sla is not None else units.NONE, s.over_sla),
                 _cell(units.duration(s.sla), s.sla), _cell(units.count(s.waiting.count), s.waiting.count),
                 _cell(units.duration(s.waiting.median), s.waiting.median))
            for s in m.stages + m.side_stages]
    return _table([_("Stage"), _("Stays"), _("Mean"), _("Median"), _("p90"), _("Over SLA"), _("SLA"), _("Still open"),
                   _("Their median")], rows)


def _outcome_tables(shape, m: FunnelMetrics) -> str:
    cycles = [_row(_cell(name), _cell(units.count(d.count), d.count), _cell(units.duration(d.mean), d.mean),
                   _cell(units.duration(d.median), d.median), _cell(units.duration(d.p90), d.p90))
              for name, d in ((_("Created → won"), m.cycle_won), (_("Created → lost"), m.cycle_lost))]
    by_stage = [_row(_cell(shape.title_of(stage) if stage else _("(never in an open stage)")),
                     _cell(units.count(n), n))
                for stage, n in m.lost_by_stage]
    by_reason = [_row(_cell(reason or _("(no reason)")), _cell(units.count(n), n),
                      _cell(units.percent(n / m.lost if m.lost else None), n))
                 for reason, n in m.lost_by_reason]
    return ('<div class="columns">'
            + "<div>" + _tag("h4", _("Cycle time"))
            + _table(["", _("Deals"), _("Mean"), _("Median"), _("p90")], cycles) + "</div>"
            + "<div>" + _tag("h4", _("Lost by stage")) + _table([_("Stage"), _("Lost")], by_stage) + "</div>"
            + "<div>" + _tag("h4", _("Lost by reason")) + _table([_("Reason"), _("Lost"), _("Share")], by_reason)
            + _notes([line for line in (no_reason_line(m),) if line]) + "</div></div>")


def _pipeline_table(shape, m: FunnelMetrics) -> str:
    rows = [_row(_cell(_title(s)), _cell(units.count(s.open), s.open), _cell(units.money(s.pipeline_value),
                                                                             s.pipeline_value),
                 _cell(units.count(s.without_value), s.without_value),
                 _cell(units.probability(s.probability), s.probability), _cell(units.money(s.forecast), s.forecast))
            for s in m.stages + m.side_stages]
    rows.append('<tr class="total">' + _cell(_("Total")) + _cell(units.count(m.open)) + _cell(units.money(m.pipeline_value))
                + _cell("") + _cell("") + _cell(units.money(m.forecast)) + "</tr>")
    if shape.currency:
        value, forecast = (_("Value ({currency})").format(currency=shape.currency),
                           _("Forecast ({currency})").format(currency=shape.currency))
    else:
        value, forecast = _("Value"), _("Forecast")
    return _table([_("Stage"), _("Open deals"), value, _("Without value"), _("Probability"), forecast], rows)


def _stuck_table(shape, m: FunnelMetrics) -> str:
    rows = [_row(_cell(s.deal), _cell(shape.title_of(s.stage), css="text"), _cell(units.date(s.entered, shape.timezone), s.entered),
                 _cell(units.duration(s.age), s.age), _cell(units.duration(s.sla), s.sla))
            for s in m.stuck[:STUCK_SHOWN]]
    note = (_tag("p", _("The {shown} longest of {count} shown; the JSON report lists all.").format(
        shown=STUCK_SHOWN, count=units.count(len(m.stuck))), "muted") if len(m.stuck) > STUCK_SHOWN else "")
    return _table([_("Deal"), _("Stage"), _("Entered"), _("In stage"), _("SLA")], rows) + note


def _groups(report: Report, funnel: FunnelReport) -> str:
    whole, groups = funnel.whole, funnel.groups[:GROUPS_SHOWN]
    chart = group_chart([(", ".join(value_text(v) for v in g.key), g.metrics.win_rate, g.metrics.deals)
                         for g in groups], whole.win_rate)
    summary_rows, stage_rows = [], []
    against = _("{points} against the whole")
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
        for stage, (_stage, delta) in zip(m.stages, diff.conversion_next):
            cells.append(f'<td data-sort="{stage.conversion_next}" class="{_sign(delta)}" '
                         f'title="{escape(against.format(points=units.points(delta)))}">'
                         f"{escape(units.percent(stage.conversion_next, 0))}</td>")
        stage_rows.append(_row(*cells))
    whole_summary = _row(_cell(_("(whole)")), _cell(units.count(whole.deals)), _cell(units.count(whole.won)),
                         _cell(units.count(whole.lost)), _cell(units.percent(whole.win_rate)), _cell(""),
                         _cell(units.money(whole.won_value_mean)), _cell(units.duration(whole.cycle_won.median)))
    whole_stages = _row(_cell(_("(whole)")), *[_cell(units.percent(s.conversion_next, 0)) for s in whole.stages])
    summary = _table([_("Group"), _("Deals"), _("Won"), _("Lost"), _("Win rate"), _("vs whole"), _("Avg won"),
                      _("Cycle won")], summary_rows, "groups")
    stages = _table([_("Group")] + [s.title for s in whole.stages], stage_rows, "groups by-stage")
    summary = summary.replace("<tbody>", "<tbody>" + whole_summary.replace("<tr>", '<tr class="whole">', 1), 1)
    stages = stages.replace("<tbody>", "<tbody>" + whole_stages.replace("<tr>", '<tr class="whole">', 1), 1)
    note = (_tag("p", _("The {shown} largest of {count} groups shown; the JSON report has all.").format(
        shown=GROUPS_SHOWN, count=units.count(len(funnel.groups))), "muted") if len(funnel.groups) > GROUPS_SHOWN
            else "")
    return (f'{chart}<div class="scroll">{summary}</div>'
            + _tag("h4", _("Conversion to the next stage, from each stage"))
            + _tag("p", _("Green: above the whole, red: below it (hover for the difference)."), "legend")
            + f'<div class="scroll">{stages}</div>{note}')


def _trend(shape, m: FunnelMetrics) -> str:
    """A chart per figure (win rate, won value, cycle), then the figures and each stage's conversion per period."""
    points = m.trend.points
    charts = [(_("Win rate of the deals closed"), [(p.period, p.win_rate, units.percent(p.win_rate)) for p in points],
               1.0),
              (_("Median cycle created → won"), [(p.period, p.cycle_won_median, units.duration(p.cycle_won_median))
                                                 for p in points], None)]
    if shape.value_field is not None:
        charts.insert(1, (_("Won value"), [(p.period, p.won_value, units.money(p.won_value, shape.currency))
                                           for p in points], None))
    parts = [f"<h4>{escape(title)}</h4>"
             + period_chart(rows, _("{figure} by {period}").format(figure=title, period=period_word(m.trend.period)),
                            full)
             for title, rows, full in charts]
    rows = [_row(_cell(p.period), _cell(units.count(p.won), p.won), _cell(units.count(p.lost), p.lost),
                 _cell(units.percent(p.win_rate), p.win_rate), _cell(units.money(p.won_value), p.won_value),
                 _cell(units.duration(p.cycle_won_median), p.cycle_won_median),
                 *[_cell(units.percent(rate, 0), rate) for _, _, rate in p.stages])
            for p in points]
    headers = [_("Period"), _("Won"), _("Lost"), _("Win rate"), _("Won value"), _("Cycle won")] + [
        s.title for s in m.stages]
    legend = _("Won, lost, win rate, won value and cycle: the deals closed in the period; a stage's column: of the "
               "deals that first entered it in the period, the share that went further down the path.")
    return ("".join(parts) + f'<p class="legend">{escape(legend)}</p>'
            f'<div class="scroll">{_table(headers, rows, "by-stage")}</div>')


def _group_trend(report: Report, funnel: FunnelReport) -> str:
    """Each group's win rate, won deals and won value per period, the whole's first (every period)."""
    periods = [p.period for p in funnel.whole.trend.points]
    groups = [(_("(whole)"), funnel.whole)] + [(group_label(report.by, g.key), g.metrics)
                                              for g in funnel.groups[:GROUPS_SHOWN]]
    figures = [(_("Win rate"), lambda p: (units.percent(p.win_rate, 0), p.win_rate)),
               (_("Won"), lambda p: (units.count(p.won), p.won))]
    if funnel.shape.value_field is not None:
        figures.append((_("Won value"), lambda p: (units.money(p.won_value), p.won_value)))
    period = period_word(funnel.whole.trend.period)
    parts = []
    for title, shown in figures:
        rows = []
        for i, (label, m) in enumerate(groups):
            points = {p.period: p for p in m.trend.points} if m.trend is not None else {}
            cells = [_cell(units.NONE) if period not in points else _cell(*shown(points[period]))
                     for period in periods]
            row = _row(_cell(label), *cells)
            rows.append(row.replace("<tr>", '<tr class="whole">', 1) if i == 0 else row)
        parts.append(_tag("h4", _("{figure} by {period}").format(figure=title, period=period))
                     + f'<div class="scroll">{_table([_("Group"), *periods], rows, "groups")}</div>')
    return "".join(parts) + _tag("p", _("Per group, the deals closed in each period."), "legend")


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
        return f'<article class="funnel">{head}' + _tag("p", _("No deals: nothing to measure."), "muted") + "</article>"
    parts = [head, _section(_("Diagnosis"), _diagnosis(funnel), "diagnosis"),
             _section(_("Funnel"), funnel_chart(shape, m) + _funnel_table(m), "funnel-block"),
             *([_section(_("Paths deals took"), _paths(shape, m), "paths-block")] if has_paths(m) else []),
             _section(_("Stage graph"), stage_graph(shape, m) + _graph_legend(), "graph-block"),
             _section(_("Time in stage"), time_chart(m) + _time_legend() + _time_table(m) + _notes(instant_lines(m))),
             _section(_("Won and lost"), _outcome_tables(shape, m))]
    if shape.value_field is not None:
        parts.append(_section(_("Open pipeline and forecast"), _pipeline_table(shape, m)))
    if m.stuck:
        parts.append(_section(_("Stuck deals ({count} over their stage's SLA)").format(
            count=units.count(len(m.stuck))), _stuck_table(shape, m)))
    if m.trend is not None and m.trend.points:
        parts.append(_section(_("Trend by {period}").format(period=period_word(m.trend.period)), _trend(shape, m),
                              "trend-block"))
    if funnel.groups:
        parts.append(_section(_("By {names}: each group against the whole").format(
            names=", ".join(map(title_of, report.by))), _groups(report, funnel)
            + (_group_trend(report, funnel) if m.trend is not None and m.trend.points else ""), "groups-block"))
    return f'<article class="funnel" id="funnel-{escape(shape.id)}">{"".join(parts)}</article>'


def _graph_legend() -> str:
    made, unused, undeclared = (_("moves deals made (width and number: how many)"), _("declared, never taken"),
                                _("made but not declared"))
    return (f'<p class="legend"><span class="key key-edge"></span> {escape(made)} '
            f'<span class="key key-unused"></span> {escape(unused)} '
            f'<span class="key key-undeclared"></span> {escape(undeclared)}</p>')


def _notes(lines: list[str]) -> str:
    return "".join(f'<p class="muted">{escape(line)}</p>' for line in lines)


def _time_legend() -> str:
    legend = _("Finished stays: the box spans the middle half (p25–p75), the whisker p10–p90, the bar is the median "
               "and the dot the mean; the ring is the median wait of the stays still open.")
    return f'<p class="legend">{escape(legend)}</p>'


def _summary(report: Report) -> str:
    s = report.summary
    bits = [_("as of {date}").format(date=units.date(report.as_of, report.zone))] + (
        [report.window_text] if report.window_text else [])
    if s.lines or s.actions:
        bits.append(_("{lines} lines, {applied} applied, {rejected} rejected; {actions} actions; {violations} "
                      "violations; {problems} run-time problems").format(
            lines=units.count(s.lines), applied=units.count(s.applied), rejected=units.count(s.rejected),
            actions=units.count(s.actions), violations=units.count(s.violations), problems=units.count(s.problems)))
    return " · ".join(bits)


def _script() -> str:
    """report.js with its one word for people (the headers' tooltip) in the language in use."""
    return _asset("report.js").replace('"Sort by this column"',
                                       json.dumps(_("Sort by this column"), ensure_ascii=False))


def page_words() -> dict:
    """The page's own slots in the language in use: `lang` and the footer."""
    return {"lang": current(),
            "footer": escape(_("Made by funnelspec. Figures are defined in docs/metrics.md; the JSON report carries "
                               "every one."))}


def render_html(report: Report) -> str:
    titles = ", ".join(f.shape.title for f in report.funnels) or _("funnel report")
    body = "".join(_funnel(report, f) for f in report.funnels) or _tag("p", _("No funnels."), "muted")
    parts = {"title": escape(_("{titles} — funnel report").format(titles=titles)), "heading": escape(titles),
             "summary": escape(_summary(report)), "spec": escape(report.spec), "style": _asset("report.css"),
             "script": _script(), "body": body, **page_words(),
             "caveat": f'<p class="caveat">{escape(report.snapshot_text)}</p>' if report.snapshot_text else ""}
    return re.sub(r"\{\{ (\w+) \}\}", lambda match: parts[match.group(1)], _asset("report.html"))
