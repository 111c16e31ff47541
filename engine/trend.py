"""Figures per period of time (`--trend week|month`): how the funnel changed, not how a cohort did.

Each figure is placed in the period its event fell in (periods cut at
local midnight of the funnel's zone, labelled as cohorts are, engine/cohorts.py): win rate, won
value and cycle time by the period deals were *closed* in; a stage's
conversion to next by the period deals first *entered* the stage in (of
them, the share that went further down the main path, at any time). The
state is counters, exact sums and sorted runs keyed by period, so it merges
exactly across partitions, as engine/aggregate.py does.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .aggregate import ExactSum, SortedRun
from .cohorts import cohort_label
from .metrics import quantile, ratio
from .outcome import DealOutcome
from .paths import PathFacts
from .shape import FunnelShape


@dataclass(frozen=True)
class TrendPoint:
    period: str                                            # 2026-03, 2026-W09
    won: int                                               # deals won in the period
    lost: int                                              # deals lost in it
    win_rate: float | None                                 # won / (won + lost)
    won_value: int | float | None                          # value of the deals won in it (None: no value field)
    cycle_won_median: float | None                         # seconds created -> won, of the deals won in it
    stages: tuple[tuple[str, int, float | None], ...]      # main-path stage, deals that first entered it, to next


@dataclass(frozen=True)
class Trend:
    period: str                                            # week | month | quarter
    points: tuple[TrendPoint, ...]                         # in time order


@dataclass
class TrendAggregate:
    shape: FunnelShape
    period: str
    closed: Counter = field(default_factory=Counter)       # (period, won | lost)
    won_value: dict = field(default_factory=dict)          # period -> ExactSum
    cycle_won: dict = field(default_factory=dict)          # period -> SortedRun
    entered: Counter = field(default_factory=Counter)      # (period, main stage): first entries
    passed: Counter = field(default_factory=Counter)       # (period, main stage): of them, went further

    def add(self, outcome: DealOutcome, facts: PathFacts, value) -> None:
        if outcome.status in ("won", "lost") and outcome.closed is not None:
            label = cohort_label(outcome.closed, self.period, self.shape.timezone)
            self.closed[(label, outcome.status)] += 1
            if outcome.status == "won":
                self.cycle_won.setdefault(label, SortedRun()).add(max(0.0, outcome.closed - outcome.created))
                if value is not None:
                    self.won_value.setdefault(label, ExactSum()).add(value)
        main, seen = self.shape.main_index, set()
        for visit in outcome.path:
            if visit.stage in main and visit.stage not in seen:
                seen.add(visit.stage)
                label = cohort_label(visit.entered, self.period, self.shape.timezone)
                self.entered[(label, visit.stage)] += 1
                if visit.stage in facts.passed:
                    self.passed[(label, visit.stage)] += 1

    def merge(self, other: "TrendAggregate") -> None:
        for name in ("closed", "entered", "passed"):
            getattr(self, name).update(getattr(other, name))
        for label, part in other.won_value.items():
            self.won_value.setdefault(label, ExactSum()).merge(part)
        for label, part in other.cycle_won.items():
            self.cycle_won.setdefault(label, SortedRun()).merge(part)


def finish_trend(agg: TrendAggregate) -> Trend:
    labels = sorted({label for label, _ in agg.closed} | {label for label, _ in agg.entered})
    has_value = agg.shape.value_field is not None
    points = []
    for label in labels:
        won, lost = agg.closed.get((label, "won"), 0), agg.closed.get((label, "lost"), 0)
        value = agg.won_value[label].value if label in agg.won_value else 0
        cycle = agg.cycle_won.get(label)
        stages = tuple((s.id, agg.entered.get((label, s.id), 0),
                        ratio(agg.passed.get((label, s.id), 0), agg.entered.get((label, s.id), 0)))
                       for s in agg.shape.main_stages)
        points.append(TrendPoint(label, won, lost, ratio(won, won + lost), value if has_value else None,
                                 quantile(cycle.values(), 0.5) if cycle is not None else None, stages))
    return Trend(agg.period, tuple(points))
