"""A forecast in HTML: its own page, or a section of simulate's report; the won deals as P10-P90 bars, the tables.

It uses the report's page, style and SVG helpers; simulate's report gets the
section added before the end of its main part (`funnel simulate --report html
--forecast MODEL`), its own rendering unchanged.
"""
from __future__ import annotations

import json
import re

from ...dsl.render.safe_text import markup as escape
from ...lang import DEFAULT, _, current
from .html import _asset, _cell, _row, _section, _table, page_words
from . import units
from .svg import svg, tag, text

WIDTH, ROW, LEFT, RIGHT = 720.0, 34.0, 90.0, 60.0


def forecast_chart(rows: list[tuple[str, dict]], caption: str) -> str:
    """Horizontal P10-P90 bars, one per row, with a tick at the median and the figures at the right."""
    top = max((r["p90"] for _, r in rows), default=0.0) or 1.0
    scale = (WIDTH - LEFT - RIGHT) / top
    parts = []
    for i, (label, spread) in enumerate(rows):
        y = 10 + i * ROW
        x10, x50, x90 = (LEFT + spread[k] * scale for k in ("p10", "p50", "p90"))
        parts.append(text(LEFT - 8, y + 16, label, class_="label", text_anchor="end"))
        parts.append(tag("rect", x=x10, y=y + 6, width=max(x90 - x10, 1.5), height=14.0, class_="bar", rx=2))
        parts.append(tag("line", x1=x50, x2=x50, y1=y + 2, y2=y + 24, class_="whole-line"))
        parts.append(text(x90 + 6, y + 17, f"{_n(spread['p10'], 0)}–{_n(spread['p90'], 0)}", class_="value"))
    return svg(WIDTH, 20 + len(rows) * ROW, "".join(parts), caption, "chart")


def _n(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}" if current() == DEFAULT else units.grouped(x, digits)


def forecast_sections(data: dict) -> str:
    """The forecast's sections: the figures, the interval's sources, the charts by month, stage and group."""
    from ..forecast.notes import note_text
    from ..forecast.render import uncertainty_text

    months = [(r["month"], r["won_count"]) for r in data["by_month"]]
    stages = [(r["stage"], r["won_count"]) for r in data["by_stage"]]
    won, typed = data["won"], data["typed_probabilities"]
    figures = _table(["", _("P10"), _("P50"), _("P90"), _("typed probabilities")], [
        _row(_cell(_("deals won")), *(_cell(_n(won["count"][k], 0)) for k in ("p10", "p50", "p90")),
             _cell(_n(typed["count"], 1))),
        _row(_cell(_("value won")), *(_cell(_n(won["value"][k], 0)) for k in ("p10", "p50", "p90")),
             _cell(_n(typed["value"], 0)))])
    carries = _("The P10–P90 interval carries {sources}.").format(sources=uncertainty_text(data["uncertainty"]))
    body = (_section(_("Won by the horizon"), figures + f'<p class="muted">{escape(carries)}</p>')
            + _section(_("Deals won by month (P10–P90, median marked)"), forecast_chart(months, _("deals won by month")))
            + _section(_("Deals won by stage at the cut"), forecast_chart(stages, _("deals won by stage"))))
    if data["by_group"]:
        body += _section(_("Deals won by group"), forecast_chart([(r["group"], r["won_count"]) for r in data["by_group"]],
                                                                 _("deals won by group")))
    if data["notes"]:
        body += _section(_("Notes"), "".join(f"<p>{escape(note_text(n))}</p>" for n in data["notes"]))
    return body


def _summary(data: dict) -> str:
    from ..forecast.render import _int

    return _("from {start}, {days} days ahead, {open} open deals, {runs} runs, seed {seed}").format(
        start=data["history_end"], days=units.short(data["horizon_days"]), open=_int(data["open_deals"]),
        runs=_int(data["runs"]), seed=data["seed"])


def render_forecast_html(data: dict) -> str:
    """The JSON form of a Forecast as an HTML page."""
    body = forecast_sections(data)
    summary = _summary(data)
    parts = {"title": escape(_("forecast")), "heading": escape(_("Forecast of the open pipeline")),
             "summary": escape(summary), "spec": escape(data["spec"]), "style": _asset("report.css"),
             "script": "", "body": body, **page_words()}
    # the page shares the report's template: a slot only the report fills (its caveat, ...) stays empty here
    return re.sub(r"\{\{ (\w+) \}\}", lambda match: parts.get(match.group(1), ""), _asset("report.html"))


def with_forecast(report: str, fmt: str, data: dict) -> str:
    """Simulate's report with the forecast added: a section of the HTML page, the text after the report's, a key
    `forecast` in the JSON. Raises ValueError for a format that cannot carry it (csv)."""
    if fmt == "html":
        heading = escape(_("Forecast of the open pipeline"))
        section = (f'<article class="funnel forecast" id="forecast"><h2>{heading} '
                   f'<span class="muted">({escape(_summary(data))})</span></h2>{forecast_sections(data)}</article>\n')
        head, found, tail = report.rpartition("</main>")
        if not found:
            raise ValueError("the HTML report has no main part to add the forecast to")
        return head + section + found + tail
    if fmt == "text":
        from ..forecast.render import render_forecast_text

        return report.rstrip("\n") + "\n\n" + render_forecast_text(data)
    if fmt == "json":
        whole = json.loads(report)
        whole["forecast"] = data
        return json.dumps(whole, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"--forecast: a {fmt} report cannot carry the forecast; use --report html, text or json")
