"""The report for a terminal: aligned rich tables that fit 80 columns; color only on a terminal."""
from __future__ import annotations

import io
import textwrap

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ...dsl.render.safe_text import one_line
from ...lang import _, ngettext
from ..cohorts import period_word, title_of
from ..metrics import FunnelMetrics
from . import units
from .model import (FunnelReport, Report, compare, has_paths, instant_lines, no_reason_line, path_lines,
                    side_lines)

WIDTH = 80
# rich's SIMPLE_HEAD, with a rule for sections too (before a total, after the whole in the groups table)
RULED = box.Box("    \n    \n ── \n    \n ── \n    \n    \n    \n")
STUCK_SHOWN = 10
REASONS_SHOWN = 10


def _plain(text: str, style: str = "") -> Text:
    """Text from a spec or a stream, as it is: one line, control characters visible, no rich markup read in it."""
    return Text(one_line(text), style=style)


def _table(*columns: str, title: str) -> Table:
    """A table whose title is printed above it by `_print` (a rich title would wrap to the table's width)."""
    table = Table(box=RULED, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    table.heading = title
    for i, name in enumerate(columns):
        if i == 0:
            table.add_column(name, overflow="fold", max_width=28)
        else:
            table.add_column(name, justify="right", no_wrap=True)
    return table


def _header(console: Console, report: Report, funnel: FunnelReport) -> None:
    m, shape = funnel.whole, funnel.shape
    console.print(_plain(f"{shape.title} ({shape.id})", style="bold underline"))
    console.print(ngettext("{deals} deal: {open} open, {won} won, {lost} lost; win rate {rate}",
                           "{deals} deals: {open} open, {won} won, {lost} lost; win rate {rate}", m.deals).format(
        deals=units.count(m.deals), open=units.count(m.open), won=units.count(m.won), lost=units.count(m.lost),
        rate=units.percent(m.win_rate)))
    extras = [_("as of {date}").format(date=units.date(report.as_of, report.zone))] + (
        [report.window_text] if report.window_text else [])
    if m.reopened:
        extras.append(_("{count} reopened").format(count=units.count(m.reopened)))
    if m.never_open:
        extras.append(_("{count} created lost (in no open stage)").format(count=units.count(m.never_open)))
    console.print("; ".join(extras))
    if report.snapshot_text:
        console.print(_plain(report.snapshot_text, style="yellow"))


def _funnel_table(shape, m: FunnelMetrics) -> Table:
    # entries differ from deals only where deals came back: the column is shown only then
    repeat = any(s.entries != s.reached for s in m.stages)
    columns = (_("Stage"), _("Reached")) + ((_("Entries"),) if repeat else ()) + (
        _("To next"), _("To first"), _("Lost"), _("Open"), _("Stuck"))
    table = _table(*columns, title=_("Funnel"))
    for s in m.stages:
        entries = (units.count(s.entries),) if repeat else ()
        table.add_row(_plain(s.title), units.count(s.reached), *entries, units.percent(s.conversion_next),
                      units.percent(s.conversion_first), units.count(s.lost_from), units.count(s.open),
                      units.count(s.stuck))
    won_title = next((st.title for st in shape.stages if st.kind == "won"), _("won"))
    table.add_row(_plain(won_title, style="green"), units.count(m.won_reached), *(("",) if repeat else ()), "",
                  units.percent(m.won_to_first), "", "", "", end_section=False)
    return table


def _paths(console: Console, shape, m: FunnelMetrics) -> None:
    """Paths deals took: the rework rate, moves back, side stages, stages skipped by hand, repeated losses."""
    console.print()
    console.print(Text(_("Paths deals took"), style="bold"))
    _wrapped(console, path_lines(shape, m))
    if m.moves_back:
        table = _table(_("From"), _("To"), _("Deals"), _("Moves"), _("Share"),
                       title=_("Moves back (Share: of the deals that reached the stage they left)"))
        table.columns[1].justify = "left"
        table.columns[1].max_width = 24
        table.columns[0].max_width = 24
        for b in m.moves_back:
            table.add_row(_plain(shape.title_of(b.source)), _plain(shape.title_of(b.target)), units.count(b.deals),
                          units.count(b.moves), units.percent(b.share))
        _print(console, table)
    if m.side_stages:
        table = _table(_("Side stage"), _("Deals"), _("Entries"), _("Came back"), _("Lost"), _("Open"),
                       title=_("Side stages, off the main path (Came back: to the main path or won)"))
        for s in m.side_stages:
            table.add_row(_plain(s.title), units.count(s.reached), units.count(s.entries), units.count(s.returned),
                          units.count(s.lost_from), units.count(s.open))
        _print(console, table)
        _wrapped(console, side_lines(shape, m), "    ")


def _outcome_table(m: FunnelMetrics) -> Table:
    table = _table(_("Outcome"), _("Deals"), _("Mean"), _("Median"), _("p90"), title=_("Won and lost"))
    table.columns[0].max_width = 30
    for name, n, cycle in ((_("Won, created → won"), m.won, m.cycle_won),
                           (_("Lost, created → lost"), m.lost, m.cycle_lost)):
        table.add_row(name, units.count(n), units.duration(cycle.mean), units.duration(cycle.median),
                      units.duration(cycle.p90))
    return table


def _value_lines(shape, m: FunnelMetrics) -> list[str]:
    if shape.value_field is None:
        return [_("No value field: won value, pipeline value and forecast are not computed.")]
    cur = shape.currency
    lines = [_("Won value {total}; average won deal {mean}").format(total=units.money(m.won_value_total, cur),
                                                                    mean=units.money(m.won_value_mean, cur))]
    if m.velocity is not None:
        lines.append(_("Sales velocity {velocity} a day ({open} open × {rate} × {mean} ÷ {days} days to win)").format(
            velocity=units.money(m.velocity, cur), open=units.count(m.open), rate=units.percent(m.win_rate),
            mean=units.money(m.won_value_mean, cur), days=units.grouped(m.cycle_won.mean / 86400, 1)))
    if m.won_without_value:
        n = m.won_without_value
        lines.append(ngettext("({count} won deal has no `{field}`, left out of the average)",
                              "({count} won deals have no `{field}`, left out of the average)", n).format(
            count=units.count(n), field=shape.value_field))
    return lines


def _side(title: str) -> str:
    return _("{stage} (side)").format(stage=title)


def _time_table(m: FunnelMetrics) -> Table:
    table = _table(_("Stage"), _("Stays"), _("Mean"), _("Median"), _("p90"), _("> SLA"), _("Open"), _("Waited"),
                   title=_("Time in stage: finished stays; Open: stays still open, Waited: their median"))
    table.columns[0].max_width = 24
    for s in m.stages + m.side_stages:
        table.add_row(_plain(_side(s.title) if s.side else s.title), units.count(s.time.count),
                      units.duration(s.time.mean),
                      units.duration(s.time.median), units.duration(s.time.p90),
                      units.count(s.over_sla) if s.sla is not None else units.NONE,
                      units.count(s.waiting.count), units.duration(s.waiting.median))
    return table


def _pipeline_table(shape, m: FunnelMetrics) -> Table:
    cur = shape.currency
    title = _("Open pipeline and forecast ({currency})").format(currency=cur) if cur else \
        _("Open pipeline and forecast")
    table = _table(_("Stage"), _("Open"), _("Value"), _("Prob."), _("Forecast"), title=title)
    for s in m.stages + m.side_stages:
        table.add_row(_plain(_side(s.title) if s.side else s.title), units.count(s.open),
                      units.money(s.pipeline_value), units.probability(s.probability), units.money(s.forecast))
    table.add_section()
    table.add_row(_("Total"), units.count(m.open), units.money(m.pipeline_value), "", units.money(m.forecast))
    return table


def _reasons_table(m: FunnelMetrics) -> Table:
    table = _table(_("Reason"), _("Lost"), _("Share"), title=_("Lost by reason"))
    for reason, n in m.lost_by_reason[:REASONS_SHOWN]:
        table.add_row(_plain(reason or _("(no reason)")), units.count(n), units.percent(n / m.lost if m.lost else None))
    hidden = len(m.lost_by_reason) - REASONS_SHOWN
    if hidden > 0:
        table.add_row(ngettext("… {count} more reason", "… {count} more reasons", hidden).format(
            count=units.count(hidden)), "", "")
    return table


def _stuck_table(shape, m: FunnelMetrics) -> Table:
    shown = m.stuck[:STUCK_SHOWN]
    if len(m.stuck) > len(shown):
        title = _("Stuck deals: {count} over their stage's sla, the {shown} longest shown").format(
            count=units.count(len(m.stuck)), shown=units.count(len(shown)))
    else:
        title = _("Stuck deals: {count} over their stage's sla").format(count=units.count(len(m.stuck)))
    table = _table(_("Deal"), _("Stage"), _("In stage"), _("SLA"), title=title)
    table.columns[1].justify = "left"
    for s in shown:
        table.add_row(_plain(s.deal), _plain(shape.title_of(s.stage)), units.duration(s.age), units.duration(s.sla))
    return table


TREND_COLUMNS = 6          # periods shown side by side in the conversion table (the latest)


def _trend_tables(shape, m: FunnelMetrics) -> list[Table]:
    """Won, lost, win rate, won value and cycle per period; each stage's conversion in the latest periods."""
    trend = m.trend
    table = _table(_("Period"), _("Won"), _("Lost"), _("Win rate"), _("Won value"), _("Cycle won"),
                   title=_("Trend by {period}: deals closed in each; cycle: median created → won").format(
                       period=period_word(trend.period)))
    for p in trend.points:
        table.add_row(p.period, units.count(p.won), units.count(p.lost), units.percent(p.win_rate),
                      units.money(p.won_value), units.duration(p.cycle_won_median))
    latest = trend.points[-TREND_COLUMNS:]
    if len(latest) == len(trend.points):
        title = _("Conversion to next by the {period} deals entered the stage").format(
            period=period_word(trend.period))
    else:
        title = _("Conversion to next by the {period} deals entered the stage, the latest {count}").format(
            period=period_word(trend.period), count=len(latest))
    stages = _table(_("Stage"), *(p.period for p in latest), title=title)
    for i, stage in enumerate(m.stages):
        stages.add_row(_plain(shape.title_of(stage.id)), *(units.percent(p.stages[i][2], 0) for p in latest))
    return [table, stages]


def _group_trend_table(report: Report, funnel: FunnelReport) -> Table:
    """Each group's win rate in the latest periods, the whole's first."""
    trend = funnel.whole.trend
    latest = [p.period for p in trend.points[-TREND_COLUMNS:]]
    names = ", ".join(map(title_of, report.by))
    table = _table(_("Group"), *latest, title=_("Win rate by {period}, by {names}: deals closed in each").format(
        period=period_word(trend.period), names=names))
    table.columns[0].max_width = 24
    rows = [(Text(_("(whole)"), style="bold"), funnel.whole)] + [
        (_plain(", ".join(units.NONE if v is None else str(v) for v in g.key)), g.metrics) for g in funnel.groups]
    for i, (label, m) in enumerate(rows):
        rates = {p.period: p.win_rate for p in m.trend.points} if m.trend is not None else {}
        table.add_row(label, *(units.percent(rates.get(period), 0) for period in latest), end_section=i == 0)
    return table


def _groups_table(report: Report, funnel: FunnelReport) -> Table:
    whole = funnel.whole
    title = _("By {names}: each group against the whole").format(names=", ".join(map(title_of, report.by)))
    table = _table(_("Group"), _("Deals"), _("Won"), _("Win rate"), _("vs whole"), _("Avg won"), _("Cycle won"),
                   title=title)
    table.columns[0].max_width = 24
    table.add_row(Text(_("(whole)"), style="bold"), units.count(whole.deals), units.count(whole.won),
                  units.percent(whole.win_rate), "", units.money(whole.won_value_mean),
                  units.duration(whole.cycle_won.median), end_section=True)
    for group in funnel.groups:
        m = group.metrics
        diff = compare(m, whole)
        label = ", ".join(units.NONE if v is None else str(v) for v in group.key)
        table.add_row(_plain(label), units.count(m.deals), units.count(m.won), units.percent(m.win_rate),
                      units.points(diff.win_rate), units.money(m.won_value_mean), units.duration(m.cycle_won.median))
    return table


def _diagnosis(console: Console, funnel: FunnelReport) -> None:
    console.print(Text(_("Diagnosis"), style="bold"))
    if not funnel.findings:
        console.print("  " + _("No pattern stands out (docs/metrics.md \"Diagnosis\" lists the thresholds)."))
    for finding in funnel.findings:
        lines = textwrap.wrap(one_line(f"{finding.pattern}: {finding.message}"), WIDTH - 4, break_long_words=False)
        for i, line in enumerate(lines):
            text = Text("  • " if i == 0 else "    ")
            if i == 0:
                text.append(finding.pattern, style="bold yellow")
                line = line[len(finding.pattern):]
            text.append(line)
            console.print(text)


def _wrapped(console: Console, lines: list[str], indent: str = "  ") -> None:
    """Sentences wrapped to the width, the lines after the first indented."""
    for line in lines:
        for i, part in enumerate(textwrap.wrap(line, WIDTH - len(indent), break_long_words=False)):
            console.print(_plain(("" if i == 0 else indent) + part))


def _print(console: Console, table: Table) -> None:
    console.print()
    console.print(Text(table.heading, style="bold"))
    console.print(table)


def _replay_line(report: Report) -> str | None:
    s = report.summary
    if not (s.lines or s.actions or s.violations or s.problems):
        return None
    lines = _("Replay: {lines} input lines, {applied} applied, {rejected} rejected").format(
        lines=units.count(s.lines), applied=units.count(s.applied), rejected=units.count(s.rejected))
    counts = [ngettext("{count} action", "{count} actions", s.actions).format(count=units.count(s.actions)),
              ngettext("{count} violation", "{count} violations", s.violations).format(
                  count=units.count(s.violations)),
              ngettext("{count} run-time problem", "{count} run-time problems", s.problems).format(
                  count=units.count(s.problems))]
    return lines + "\n" + ", ".join(counts)


def render_text(report: Report, color: bool = False) -> str:
    """The whole report as text, 80 columns wide; ANSI colors only when `color`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system="standard" if color else None,
                      force_terminal=color, no_color=not color, highlight=False, emoji=False,
                      legacy_windows=False, soft_wrap=False)
    replay = _replay_line(report)
    if replay:
        console.print(replay)
        console.print()
    if not report.funnels:
        console.print(_("No funnels."))
    for i, funnel in enumerate(report.funnels):
        if i:
            console.print()
        shape, m = funnel.shape, funnel.whole
        _header(console, report, funnel)
        if not m.deals:
            console.print(_("No deals: nothing to measure."))
            continue
        _print(console, _funnel_table(shape, m))
        if has_paths(m):
            _paths(console, shape, m)
        _print(console, _outcome_table(m))
        for line in _value_lines(shape, m):
            console.print(line)
        _print(console, _time_table(m))
        _wrapped(console, instant_lines(m))
        if shape.value_field is not None:
            _print(console, _pipeline_table(shape, m))
        if m.lost_by_reason:
            _print(console, _reasons_table(m))
            _wrapped(console, [line for line in (no_reason_line(m),) if line])
        if m.stuck:
            _print(console, _stuck_table(shape, m))
        if m.trend is not None and m.trend.points:
            for table in _trend_tables(shape, m):
                _print(console, table)
        if funnel.groups:
            _print(console, _groups_table(report, funnel))
            if m.trend is not None and m.trend.points:
                _print(console, _group_trend_table(report, funnel))
        console.print()
        _diagnosis(console, funnel)
    text = buffer.getvalue()
    return text if color else "".join(line.rstrip() + "\n" for line in text.splitlines())
