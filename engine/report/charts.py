"""The HTML report's charts as inline SVG: the funnel, time-in-stage distributions, groups' win rates."""
from __future__ import annotations

import math

from ...lang import _
from ..metrics import FunnelMetrics
from . import units
from .svg import svg, tag, text, wrap_label

LABEL_W, BAR_W, VALUE_W = 210, 460, 150


def funnel_chart(shape, m: FunnelMetrics) -> str:
    """Bars narrowing by reached count, centred, with the conversion between consecutive bars."""
    won_title = next((s.title for s in shape.stages if s.kind == "won"), _("won"))
    rows = [(s.title, s.reached, s.conversion_next, "stage") for s in m.stages]
    rows.append((won_title, m.won_reached, None, "won"))
    top = max((r[1] for r in rows), default=0) or 1
    bar_h, gap = 30, 24
    width = LABEL_W + BAR_W + VALUE_W
    parts = []
    y = 8.0
    centre = LABEL_W + BAR_W / 2
    for i, (title, reached, conversion, kind) in enumerate(rows):
        w = max(2.0, BAR_W * reached / top)
        parts.append(tag("rect", x=centre - w / 2, y=y, width=w, height=float(bar_h), rx=3,
                         class_=f"bar bar-{kind}", data_stage=title))
        label = wrap_label(title, 26, 1)[0]
        parts.append(text(LABEL_W - 10, y + bar_h / 2 + 4, label, class_="label", text_anchor="end"))
        share = reached / rows[0][1] if rows[0][1] else None
        parts.append(text(LABEL_W + BAR_W + 10, y + bar_h / 2 + 4,
                          f"{units.count(reached)} · {units.percent(share, 0)}", class_="value"))
        y += bar_h
        if i < len(rows) - 1:
            parts.append(text(centre, y + gap / 2 + 4, f"↓ {units.percent(conversion)}", class_="conversion",
                              text_anchor="middle"))
            y += gap
    return svg(width, y + 8, "".join(parts), _("Funnel of {funnel}: deals that reached each stage").format(
        funnel=shape.title),
               "chart funnel-chart")


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def time_chart(m: FunnelMetrics) -> str:
    """One box plot a stage: p10-p90 whiskers, p25-p75 box, median line, mean dot, still-open median ring."""
    stats = [(s.title, s.time, s.waiting) for s in m.stages]
    highest = max([d.p90 or 0 for _, d, _ in stats] + [w.median or 0 for _, _, w in stats], default=0) / units.DAY
    if highest <= 0:
        highest = 1.0
    step = _nice_step(highest)
    axis_max = step * math.ceil(highest / step)
    row_h, top = 34, 10
    width = LABEL_W + BAR_W + VALUE_W
    x = lambda seconds: LABEL_W + BAR_W * min(1.0, seconds / units.DAY / axis_max)  # noqa: E731
    parts = []
    y = float(top)
    for title, d, waiting in stats:
        mid = y + row_h / 2
        parts.append(text(LABEL_W - 10, mid + 4, wrap_label(title, 26, 1)[0], class_="label", text_anchor="end"))
        if d.count:
            parts.append(tag("line", x1=x(d.p10), x2=x(d.p90), y1=mid, y2=mid, class_="whisker"))
            parts.append(tag("rect", x=x(d.p25), y=mid - 9, width=max(1.0, x(d.p75) - x(d.p25)), height=18.0,
                             class_="box"))
            parts.append(tag("line", x1=x(d.median), x2=x(d.median), y1=mid - 9, y2=mid + 9, class_="median"))
            parts.append(tag("circle", cx=x(d.mean), cy=mid, r=3, class_="mean"))
        if waiting.count:
            parts.append(tag("circle", cx=x(waiting.median), cy=mid, r=5, class_="waiting"))
        summary = (" ".join((units.duration(d.median), "·", _("p90"), units.duration(d.p90))) if d.count
                   else _("no finished stays"))
        parts.append(text(LABEL_W + BAR_W + 10, mid + 4, summary, class_="value"))
        y += row_h
    ticks = []
    value = 0.0
    while value <= axis_max + 1e-9:
        tx = LABEL_W + BAR_W * value / axis_max
        ticks.append(tag("line", x1=tx, x2=tx, y1=float(top), y2=y, class_="grid"))
        ticks.append(text(tx, y + 14, _("{days} d").format(days=units.short(value)),
                          class_="tick", text_anchor="middle"))
        value += step
    return svg(width, y + 22, "".join(ticks + parts), _("Time in stage: quartiles, p10 to p90, median and mean"),
               "chart time-chart")


def group_chart(rows: list[tuple[str, float | None, int]], whole_rate: float | None) -> str:
    """Win rate per group as bars, with the whole's win rate as a dashed line."""
    bar_h, gap, top = 18, 8, 6
    width = LABEL_W + BAR_W + VALUE_W
    parts = []
    y = float(top)
    for label, rate, deals in rows:
        parts.append(text(LABEL_W - 10, y + bar_h - 4, wrap_label(label, 26, 1)[0], class_="label",
                          text_anchor="end"))
        if rate is not None:
            better = whole_rate is not None and rate >= whole_rate
            parts.append(tag("rect", x=float(LABEL_W), y=y, width=max(1.0, BAR_W * rate), height=float(bar_h),
                             class_="bar bar-group " + ("above" if better else "below")))
        parts.append(text(LABEL_W + BAR_W + 10, y + bar_h - 4,
                          _("{rate} of {deals}").format(rate=units.percent(rate), deals=units.count(deals)),
                          class_="value"))
        y += bar_h + gap
    if whole_rate is not None:
        wx = LABEL_W + BAR_W * whole_rate
        parts.append(tag("line", x1=wx, x2=wx, y1=float(top - 4), y2=y, class_="whole-line"))
        parts.append(text(wx, y + 12, _("whole {rate}").format(rate=units.percent(whole_rate)), class_="tick",
                          text_anchor="middle"))
    return svg(width, y + 18, "".join(parts), _("Win rate by group against the whole"), "chart group-chart")


def period_chart(rows: list[tuple[str, float | None, str]], label: str, full: float | None = None) -> str:
    """One figure per period as bars from 0 to `full` (for a share, 1), else to the largest value, its text beside
    each."""
    bar_h, gap, top = 16, 6, 6
    width = LABEL_W + BAR_W + VALUE_W
    highest = full or max((v for _, v, _ in rows if v), default=0) or 1
    parts = []
    y = float(top)
    for period, value, shown in rows:
        parts.append(text(LABEL_W - 10, y + bar_h - 3, period, class_="label", text_anchor="end"))
        if value:
            parts.append(tag("rect", x=float(LABEL_W), y=y, width=max(1.0, BAR_W * value / highest),
                             height=float(bar_h), class_="bar"))
        parts.append(text(LABEL_W + BAR_W + 10, y + bar_h - 3, shown, class_="value"))
        y += bar_h + gap
    return svg(width, y + 6, "".join(parts), label, "chart period-chart")
