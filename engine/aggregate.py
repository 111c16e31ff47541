"""Partial aggregates of deal outcomes that merge exactly.

Every figure the metrics report is derived from counters, exact sums and
exact sorted runs of durations. Aggregating partitions of the outcomes apart
and merging them (in any order) gives the very same state as one pass, so
the figures are identical to the last bit: sums are kept as Shewchuk partials
(exact until read), quantiles come from the full multiset of durations.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field

from .cohorts import cohort_label, cohort_period
from .outcome import DealOutcome
from .paths import PathFacts, read_path
from .shape import FunnelShape


class ExactSum:
    """A sum of numbers with no rounding until it is read; ints stay ints."""

    __slots__ = ("_int", "_partials")

    def __init__(self) -> None:
        self._int = 0
        self._partials: list[float] = []

    def add(self, value: int | float) -> None:
        if isinstance(value, int):
            self._int += value
            return
        partials, x, i = self._partials, float(value), 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            high = x + y
            low = y - (high - x)
            if low:
                partials[i] = low
                i += 1
            x = high
        partials[i:] = [x]

    def merge(self, other: "ExactSum") -> None:
        self._int += other._int
        for part in other._partials:
            self.add(part)

    @property
    def value(self) -> int | float:
        if not self._partials:
            return self._int
        return math.fsum([*self._partials, self._int])


class SortedRun:
    """A multiset of numbers: merge by concatenation, read sorted (so order of arrival never matters)."""

    __slots__ = ("_values", "_sorted")

    def __init__(self) -> None:
        self._values: list[float] = []
        self._sorted = True

    def add(self, value: float) -> None:
        self._values.append(value)
        self._sorted = False

    def merge(self, other: "SortedRun") -> None:
        self._values.extend(other._values)
        self._sorted = False

    def __len__(self) -> int:
        return len(self._values)

    def values(self) -> list[float]:
        if not self._sorted:
            self._values.sort()
            self._sorted = True
        return self._values


AUTOMATIC = ("auto", "rule")    # how a deal moves on by itself (Visit.via), not by a person


def numeric_value(value) -> int | float | None:
    """A deal's value as a number, or None when it has none (unset, not a number, not finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class FunnelAggregate:
    """The merged partial state of one funnel's outcomes (whole stream or one group).

    `as_of` is the end of the replay: open stays are aged to it. Partitions
    that are merged must share the shape and `as_of`. What a deal's path says
    (entries, passes, skips, moves back) is read by engine/paths.py.
    """

    shape: FunnelShape
    as_of: float
    deals: int = 0
    status: Counter = field(default_factory=Counter)          # open | won | lost
    furthest: Counter = field(default_factory=Counter)        # (main-path position reached, status)
    first_depth: Counter = field(default_factory=Counter)     # of deals that entered the first stage: furthest
    entered: Counter = field(default_factory=Counter)         # stage -> deals that entered it
    entries: Counter = field(default_factory=Counter)         # stage -> times it was entered
    passed: Counter = field(default_factory=Counter)          # main stage -> deals that went further down
    skipped: Counter = field(default_factory=Counter)         # main stage -> deals that jumped over it by hand
    moves_back: Counter = field(default_factory=Counter)      # (from, to) -> deals that made that move back
    returned: Counter = field(default_factory=Counter)        # side stage -> deals that came back from it
    side_ended: Counter = field(default_factory=Counter)      # (side stage, stage at the end) -> deals
    losses: Counter = field(default_factory=Counter)          # stage -> moves from it into a lost stage
    repeat_losses: Counter = field(default_factory=Counter)   # stage -> of them, by deals lost before
    counts: Counter = field(default_factory=Counter)          # reopened, never_open, won_reached, rework, ...
    lost_from: Counter = field(default_factory=Counter)       # open stage id, None if never in one
    lost_reason: Counter = field(default_factory=Counter)
    stays: dict = field(default_factory=dict)                 # open stage -> SortedRun of finished stays
    over_sla: Counter = field(default_factory=Counter)        # open stage -> finished stays over sla
    instant: Counter = field(default_factory=Counter)         # open stage -> stays of 0 s ended by an automatic move
    open_stays: dict = field(default_factory=dict)            # open stage -> SortedRun of ages at as_of
    open_count: Counter = field(default_factory=Counter)      # open stage -> open deals in it at the end
    open_value: dict = field(default_factory=dict)            # open stage -> ExactSum of open deals' values
    open_without_value: Counter = field(default_factory=Counter)
    cycle_won: SortedRun = field(default_factory=SortedRun)
    cycle_lost: SortedRun = field(default_factory=SortedRun)
    won_value: ExactSum = field(default_factory=ExactSum)
    won_without_value: int = 0
    stuck: list = field(default_factory=list)                 # (stage, deal, entered, age)
    flows: Counter = field(default_factory=Counter)           # (from stage or None for created, to stage)
    trend: object = None                                      # engine/trend.py TrendAggregate, with --trend

    COUNTERS = ("status", "furthest", "first_depth", "entered", "entries", "passed", "skipped", "moves_back",
                "returned", "side_ended", "losses", "repeat_losses", "counts", "lost_from", "lost_reason",
                "over_sla", "instant", "open_count", "open_without_value", "flows")

    def __post_init__(self) -> None:
        for stage in self.shape.open_stages:
            self.stays.setdefault(stage.id, SortedRun())
            self.open_stays.setdefault(stage.id, SortedRun())
            self.open_value.setdefault(stage.id, ExactSum())

    def add(self, outcome: DealOutcome) -> None:
        shape = self.shape
        for visit in outcome.path:
            if visit.stage not in shape.stage_by_id:
                raise ValueError(f"deal `{outcome.deal}`: stage `{visit.stage}` is not a stage of funnel "
                                 f"`{shape.id}`")
        if outcome.status not in ("open", "won", "lost"):
            raise ValueError(f"deal `{outcome.deal}`: status must be open, won or lost, not `{outcome.status}`")
        self.deals += 1
        self.status[outcome.status] += 1
        facts = read_path(shape, outcome)
        self._add_facts(outcome, facts)
        self._add_stays(outcome)
        value = numeric_value(outcome.fields.get(shape.value_field)) if shape.value_field else None
        if self.trend is not None:
            self.trend.add(outcome, facts, value)
        if outcome.status == "won":
            if outcome.closed is not None:
                self.cycle_won.add(max(0.0, outcome.closed - outcome.created))
            if value is None:
                self.won_without_value += 1
            else:
                self.won_value.add(value)
        elif outcome.status == "lost":
            if outcome.closed is not None:
                self.cycle_lost.add(max(0.0, outcome.closed - outcome.created))
            self.lost_from[self._lost_from(outcome)] += 1
            self.lost_reason[outcome.lost_reason] += 1
        elif outcome.path and outcome.path[-1].left is None and outcome.path[-1].stage in self.open_value:
            current = outcome.path[-1]
            self.open_count[current.stage] += 1
            if value is None:
                self.open_without_value[current.stage] += 1
            else:
                self.open_value[current.stage].add(value)

    def _add_facts(self, outcome: DealOutcome, facts: PathFacts) -> None:
        # plain loops: Counter.update on a handful of items costs more than the counting
        self.furthest[(facts.depth, outcome.status)] += 1
        shape = self.shape
        if shape.main_stages and shape.main_stages[0].id in facts.entered:
            self.first_depth[facts.depth] += 1
        entered, side = self.entered, shape.side_ids
        last = outcome.path[-1].stage if outcome.path else None
        for stage in facts.entered:
            entered[stage] += 1
            if stage in side:
                self.side_ended[(stage, last)] += 1
        for stage in facts.passed:
            self.passed[stage] += 1
        counts = self.counts
        if facts.skipped:
            counts["skipped"] += 1
            for stage in facts.skipped:
                self.skipped[stage] += 1
        if facts.moves_back:
            counts["rework"] += 1
            for move in facts.moves_back:
                self.moves_back[move] += 1
        for stage in facts.returned:
            self.returned[stage] += 1
        lost_again = False
        for stage, again in facts.losses:
            self.losses[stage] += 1
            if again:
                self.repeat_losses[stage] += 1
                lost_again = True
        counts["lost_again"] += lost_again
        counts["reopened"] += facts.reopened
        counts["never_open"] += not facts.was_open and not facts.won_ever
        counts["won_reached"] += facts.won_ever

    def _lost_from(self, outcome: DealOutcome) -> str | None:
        """The open stage the deal was in just before its last entry into a lost stage."""
        path = outcome.path
        for i in range(len(path) - 1, 0, -1):
            if self.shape.stage_by_id[path[i].stage].kind == "lost":
                before = path[i - 1].stage
                return before if before in self.open_value else None
        return None

    def _add_stays(self, outcome: DealOutcome) -> None:
        shape = self.shape
        previous, path = None, outcome.path
        for i, visit in enumerate(path):
            self.flows[(previous, visit.stage)] += 1
            self.entries[visit.stage] += 1
            previous = visit.stage
            stage = shape.stage_by_id[visit.stage]
            if not stage.is_open:
                continue
            if visit.left is not None:
                duration = max(0.0, visit.left - visit.entered)
                self.stays[stage.id].add(duration)
                if not duration and i + 1 < len(path) and path[i + 1].via in AUTOMATIC:
                    self.instant[stage.id] += 1
                if stage.sla is not None and duration > stage.sla:
                    self.over_sla[stage.id] += 1
            else:
                age = max(0.0, self.as_of - visit.entered)
                self.open_stays[stage.id].add(age)
                if outcome.status == "open" and stage.sla is not None and age > stage.sla:
                    self.stuck.append((stage.id, outcome.deal, visit.entered, age))

    def merge(self, other: "FunnelAggregate") -> "FunnelAggregate":
        if other.shape.id != self.shape.id or other.as_of != self.as_of:
            raise ValueError("only aggregates of the same funnel and the same end of replay merge")
        self.deals += other.deals
        self.won_without_value += other.won_without_value
        for name in self.COUNTERS:
            getattr(self, name).update(getattr(other, name))
        for name in ("stays", "open_stays", "open_value"):
            mine = getattr(self, name)
            for stage, part in getattr(other, name).items():
                mine[stage].merge(part)
        self.cycle_won.merge(other.cycle_won)
        self.cycle_lost.merge(other.cycle_lost)
        self.won_value.merge(other.won_value)
        self.stuck.extend(other.stuck)
        if self.trend is not None:
            self.trend.merge(other.trend)
        return self


def group_key(outcome: DealOutcome, by: tuple[str, ...], zone: str | None = None) -> tuple:
    """The group a deal belongs to: its values of the `by` fields (lists and objects as JSON text), and of
    its creation cohort for a `cohort:PERIOD` name (engine/cohorts.py)."""
    key = []
    for name in by:
        period = cohort_period(name)
        if period is not None:
            key.append(cohort_label(outcome.created, period, zone))
            continue
        value = outcome.fields.get(name)
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        key.append(value)
    return tuple(key)


@dataclass
class GroupedAggregate:
    """One funnel's aggregate over the whole stream plus one per group of the `by` fields; with `trend`
    (week, month, quarter) the whole and each group keep their figures per period too."""

    shape: FunnelShape
    as_of: float
    by: tuple[str, ...] = ()
    trend: str | None = None
    whole: FunnelAggregate = field(init=False)
    groups: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.whole = self._part()

    def _part(self) -> FunnelAggregate:
        part = FunnelAggregate(self.shape, self.as_of)
        if self.trend is not None:
            from .trend import TrendAggregate     # engine/trend.py builds on this module: import it late

            part.trend = TrendAggregate(self.shape, self.trend)
        return part

    def add(self, outcome: DealOutcome) -> None:
        self.whole.add(outcome)
        if self.by:
            key = group_key(outcome, self.by, self.shape.timezone)
            if key not in self.groups:
                self.groups[key] = self._part()
            self.groups[key].add(outcome)

    def merge(self, other: "GroupedAggregate") -> "GroupedAggregate":
        if other.by != self.by or other.trend != self.trend:
            raise ValueError("only aggregates grouped by the same fields, with the same trend period, merge")
        self.whole.merge(other.whole)
        for key, part in other.groups.items():
            if key in self.groups:
                self.groups[key].merge(part)
            else:
                self.groups[key] = self._part().merge(part)
        return self
