"""Metric deltas of a diff, side by side, and the `--fail-if` thresholds read against them.

Rows are per funnel: totals (deals, won, lost, open, win rate, pipeline value,
forecast, won value), then per open stage (reached, conversion to the next
stage, median time in the stage, forecast). An old stage id is read through
the rename map, so a renamed stage is one row.

A threshold is `NAME OP VALUE` (docs/diff.md): NAME a metric of the rows or a
count of the plan, OP one of < <= > >= == !=, VALUE a signed number with an
optional unit. The left side is the change, new minus old: for a rate, in
percentage points (`-2`, `-2%` and `-2pp` alike); for a count or an amount, a plain number is
the change itself and `%` the change relative to the old value; for a time,
`s`, `m`, `h` or `d`. Plan counts (`outcome_changes`, ...) compare their value.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .metrics import FunnelMetrics
from .shape import FunnelShape

RATE, COUNT, MONEY, TIME = "rate", "count", "money", "time"
PLAN_COUNTS = ("outcome_changes", "path_changes", "action_changes", "violations_appeared", "violations_vanished",
               "rejected_old", "rejected_new")
STAGE_METRICS = ("reached", "conversion", "time", "forecast", "over_sla", "stuck")
SLA_EFFECTS = ("over_sla.", "stuck.")     # the rows an sla change moves: finished stays over it, open deals past it
TOTALS = (("deals", COUNT), ("won", COUNT), ("lost", COUNT), ("open", COUNT), ("win_rate", RATE),
          ("pipeline_value", MONEY), ("forecast", MONEY), ("won_value", MONEY))
OPERATORS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
             "<": operator.lt, ">": operator.gt}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
THRESHOLD = re.compile(r"^\s*([\w.\-]+)\s*(<=|>=|==|!=|<|>)\s*([+-]?\d+(?:\.\d+)?)\s*(%|pp|[smhd])?\s*$")


@dataclass(frozen=True)
class MetricRow:
    funnel: str
    name: str                  # `win_rate`, `conversion.meeting`: what --fail-if names
    unit: str                  # rate | count | money | time
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    def to_json(self) -> dict:
        return {"funnel": self.funnel, "metric": self.name, "unit": self.unit, "old": self.old, "new": self.new,
                "delta": self.delta}


def _totals(m: FunnelMetrics | None) -> dict[str, float | None]:
    if m is None:
        return {}
    return {"deals": m.deals, "won": m.won, "lost": m.lost, "open": m.open, "win_rate": m.win_rate,
            "pipeline_value": m.pipeline_value, "forecast": m.forecast, "won_value": m.won_value_total}


def _stage_figures(m: FunnelMetrics | None, rename: dict[str, str]) -> dict[str, dict[str, float | None]]:
    if m is None:
        return {}
    return {rename.get(s.id, s.id): {"reached": s.reached, "conversion": s.conversion_next, "time": s.time.median,
                                     "forecast": s.forecast, "over_sla": s.over_sla, "stuck": s.stuck}
            for s in m.stages}


def rows_of(olds: dict[str, FunnelMetrics], news: dict[str, FunnelMetrics], old_shapes: list[FunnelShape],
            new_shapes: list[FunnelShape], renames: dict[str, dict[str, str]],
            funnel: str | None = None) -> list[MetricRow]:
    """Rows for every funnel in either spec (or only `funnel`), new funnels' order first, from each side's
    metrics by funnel id (engine/diff_shares.py merges them from the shares' aggregates)."""
    ids = list(dict.fromkeys([s.id for s in new_shapes] + [s.id for s in old_shapes]))
    rows = []
    for fid in ids:
        if funnel is not None and fid != funnel:
            continue
        a, b = olds.get(fid), news.get(fid)
        ta, tb = _totals(a), _totals(b)
        rows += [MetricRow(fid, name, unit, ta.get(name), tb.get(name)) for name, unit in TOTALS]
        sa, sb = _stage_figures(a, renames.get(fid, {})), _stage_figures(b, {})
        for stage in list(dict.fromkeys(list(sb) + list(sa))):
            for name, unit in (("reached", COUNT), ("conversion", RATE), ("time", TIME), ("forecast", MONEY),
                               ("over_sla", COUNT), ("stuck", COUNT)):
                rows.append(MetricRow(fid, f"{name}.{stage}", unit, sa.get(stage, {}).get(name),
                                      sb.get(stage, {}).get(name)))
    return rows


class ThresholdError(ValueError):
    """A `--fail-if` that cannot be read: the message says what and suggests a name."""


@dataclass(frozen=True)
class Threshold:
    text: str
    name: str
    op: str
    value: float
    unit: str | None           # % | pp | s | m | h | d | None

    def to_json(self) -> dict:
        return {"text": self.text, "metric": self.name, "op": self.op, "value": self.value, "unit": self.unit}


def parse_threshold(text: str) -> Threshold:
    match = THRESHOLD.match(text)
    if match is None:
        raise ThresholdError(f"--fail-if `{text}`: expected NAME OP VALUE, e.g. `win_rate < -2%` "
                             "(OP: < <= > >= == !=; VALUE: a number, with %, pp, s, m, h or d)")
    name, op, number, unit = match.groups()
    return Threshold(text, name, op, float(number), unit)


def check_names(thresholds: list[Threshold], rows: list[MetricRow]) -> None:
    """Raise ThresholdError for a name neither the rows nor the plan counts know, or a unit that does not fit."""
    from ..dsl.spelling import closest

    units = {row.name: row.unit for row in rows}
    units.update({name: COUNT for name in PLAN_COUNTS})
    for t in thresholds:
        unit = units.get(t.name)
        if unit is None:
            match = closest(t.name, units)
            hint = f" (did you mean `{match}`?)" if match else ""
            raise ThresholdError(f"--fail-if `{t.text}`: unknown metric `{t.name}`{hint}; metrics: "
                                 + ", ".join(f"`{n}`" for n, _ in TOTALS) + ", "
                                 + ", ".join(f"`{n}.STAGE`" for n in STAGE_METRICS) + ", "
                                 + ", ".join(f"`{n}`" for n in PLAN_COUNTS))
        if t.unit == "pp" and unit != RATE:
            raise ThresholdError(f"--fail-if `{t.text}`: `pp` (percentage points) fits a rate, "
                                 f"and `{t.name}` is a {unit}")
        if t.unit in UNITS and unit != TIME:
            raise ThresholdError(f"--fail-if `{t.text}`: `{t.unit}` is a time unit, and `{t.name}` is a {unit}")
        if t.name in PLAN_COUNTS and t.unit is not None:
            raise ThresholdError(f"--fail-if `{t.text}`: `{t.name}` is a count of deals or lines, given plainly")


@dataclass(frozen=True)
class Tripped:
    threshold: Threshold
    funnel: str | None
    measured: float

    def describe(self) -> str:
        where = f" in funnel `{self.funnel}`" if self.funnel else ""
        return f"`{self.threshold.text}` tripped{where}: measured {_shown(self.threshold, self.measured)}"

    def to_json(self) -> dict:
        return {"threshold": self.threshold.text, "funnel": self.funnel, "measured": self.measured}


def _shown(t: Threshold, measured: float) -> str:
    if t.unit in ("%", "pp"):
        return f"{measured:+.2f}{t.unit}"
    if t.unit in UNITS:
        return f"{measured:+g}{t.unit}"
    return f"{measured:+g}" if t.name not in PLAN_COUNTS else f"{measured:g}"


def _measure(t: Threshold, row: MetricRow) -> float | None:
    """The row's change in the threshold's unit, rounded past float noise (0.47 - 0.50 is -3 points, not
    -3.0000000000000027); None when a side has no figure (nothing to compare)."""
    measured = _change(t, row)
    return None if measured is None else round(measured, 9)


def _change(t: Threshold, row: MetricRow) -> float | None:
    delta = row.delta
    if delta is None:
        return None
    if row.unit == RATE:                  # a rate's change is always read in percentage points
        return delta * 100
    if t.unit == "%":
        if row.old == 0:
            return 0.0 if delta == 0 else float("inf") if delta > 0 else float("-inf")
        return delta / abs(row.old) * 100
    if t.unit in UNITS:
        return delta / UNITS[t.unit]
    return delta


def evaluate(thresholds: list[Threshold], rows: list[MetricRow], counts: dict[str, int]) -> list[Tripped]:
    """Every threshold that trips, for every funnel it trips in (rows are per funnel; plan counts are not)."""
    tripped = []
    for t in thresholds:
        test = OPERATORS[t.op]
        if t.name in PLAN_COUNTS:
            if test(counts[t.name], t.value):
                tripped.append(Tripped(t, None, counts[t.name]))
            continue
        for row in rows:
            if row.name != t.name:
                continue
            measured = _measure(t, row)
            if measured is not None and test(measured, t.value):
                tripped.append(Tripped(t, row.funnel, measured))
    return tripped
