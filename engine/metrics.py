"""Replay outcomes -> funnel metrics (DESIGN.md "Metrics"; docs/metrics.md defines each figure).

`aggregate_outcomes` folds outcomes into mergeable partial aggregates
(engine/aggregate.py); `finish` reads one aggregate into frozen figures.
`compute_metrics` does both for a whole result, per funnel and per group.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from .aggregate import FunnelAggregate, GroupedAggregate, SortedRun
from .cohorts import cohort_period
from .outcome import DealOutcome
from .shape import FunnelShape


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when whole is 0 (no deals: no rate, rather than a made-up 0 %)."""
    return part / whole if whole else None


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile of sorted values, linearly interpolated between closest ranks (numpy's default)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass(frozen=True)
class Distribution:
    """Count, mean and quantiles of durations in seconds; every figure None when count is 0."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None
    minimum: float | None
    p10: float | None
    p25: float | None
    p75: float | None
    maximum: float | None

    @classmethod
    def of(cls, run: SortedRun) -> "Distribution":
        values = run.values()
        mean = math.fsum(values) / len(values) if values else None
        q = lambda p: quantile(values, p)  # noqa: E731
        return cls(len(values), mean, q(0.5), q(0.9), q(0.0), q(0.1), q(0.25), q(0.75), q(1.0))


@dataclass(frozen=True)
class StageMetrics:
    """One open stage's figures: a stage of the main path, or (`side`) one off it, whose own figures are
    where deals came from, how many came back to the main path and where they ended."""

    id: str
    title: str
    probability: float | None
    sla: float | None
    reached: int                       # deals that entered this stage at least once
    conversion_next: float | None      # passed / reached (None off the main path)
    conversion_first: float | None     # of the deals that entered the first stage, the share that got this far
    lost_from: int                     # deals lost while in this stage
    dropped: int                       # lost deals that got no further down the main path than this stage
    open: int                          # deals in this stage at the end of the replay
    stuck: int                         # of them, over the stage's sla
    time: Distribution                 # finished stays
    over_sla: int                      # finished stays longer than the sla
    waiting: Distribution              # stays still open at the end, aged to it
    every_stay: Distribution           # finished and still open stays together (the slow-stage diagnosis)
    pipeline_value: int | float | None  # sum of the value of the open deals here (None: no value field)
    without_value: int                 # open deals here with no value
    forecast: float | None             # pipeline_value * probability (None: no probability or value field)
    entries: int = 0                   # times deals entered it (a deal that came back counts again)
    passed: int = 0                    # deals that, after entering it, went further down the main path
    skipped: int = 0                   # deals that jumped over it by hand and never entered it
    losses: int = 0                    # moves from it into a lost stage, every one (a deal lost twice: 2)
    repeat_losses: int = 0             # of them, by deals that had been lost before
    side: bool = False                 # off the main path
    came_from: tuple[tuple[str | None, int], ...] = ()   # side: moves into it by the stage they came from
    returned: int = 0                  # side: deals that came back from it to the main path (or won)
    ended: tuple[tuple[str | None, int], ...] = ()       # side: deals that were in it, by their stage at the end
    instant: int = 0                   # finished stays of 0 s that an automatic move ended (passed straight through)


@dataclass(frozen=True)
class StuckDeal:
    deal: str
    stage: str
    entered: float
    age: float                         # seconds in the stage at the end of the replay
    sla: float


@dataclass(frozen=True)
class Flow:
    source: str | None                 # None: the deal was created in `target`
    target: str
    count: int


@dataclass(frozen=True)
class MoveBack:
    source: str                        # a main-path stage
    target: str                        # an earlier main-path stage, or a side stage
    moves: int                         # every such move
    deals: int                         # deals that made it at least once
    share: float | None                # deals / deals that reached the source


@dataclass(frozen=True)
class FunnelMetrics:
    funnel: str
    as_of: float
    deals: int
    open: int
    won: int
    lost: int
    reopened: int                      # deals that left a terminal stage again
    never_open: int                    # deals that were never in an open stage (created won or lost)
    win_rate: float | None             # won / (won + lost)
    stages: tuple[StageMetrics, ...]
    won_reached: int                   # deals past every open stage (won, or won once and reopened)
    won_to_first: float | None         # won_reached / reached(first)
    won_value_total: int | float | None
    won_value_mean: float | None       # over won deals that have a value
    won_without_value: int
    cycle_won: Distribution            # created -> won
    cycle_lost: Distribution           # created -> lost
    lost_by_stage: tuple[tuple[str | None, int], ...]
    lost_by_reason: tuple[tuple[str | None, int], ...]
    pipeline_value: int | float | None
    forecast: float | None
    stuck: tuple[StuckDeal, ...]
    flows: tuple[Flow, ...]
    side_stages: tuple[StageMetrics, ...] = ()
    rework: int = 0                    # deals that moved back at least once
    rework_rate: float | None = None   # rework / deals that were ever in an open stage
    moves_back: tuple[MoveBack, ...] = ()
    skipped_deals: int = 0             # deals that jumped over at least one stage by hand
    lost_again: int = 0                # deals lost more than once (lost, reopened, lost)
    entered: tuple[tuple[str, int, int], ...] = ()   # every stage: (id, deals that entered it, entries)
    trend: object = None               # engine/trend.py Trend, with --trend (the whole's and each group's)

    @property
    def velocity(self) -> float | None:
        """Sales velocity, value a day: open deals × win rate × average won value ÷ mean days created → won."""
        days = self.cycle_won.mean / 86400 if self.cycle_won.mean else None
        if days is None or self.win_rate is None or self.won_value_mean is None:
            return None
        return self.open * self.win_rate * self.won_value_mean / days

    @property
    def lost_without_reason(self) -> int:
        return sum(n for reason, n in self.lost_by_reason if reason is None)

    @property
    def stage_by_id(self) -> dict[str, StageMetrics]:
        return {s.id: s for s in self.stages}


@dataclass(frozen=True)
class GroupMetrics:
    key: tuple                         # the values of the `by` fields, in their order
    metrics: FunnelMetrics


@dataclass(frozen=True)
class FunnelResult:
    shape: FunnelShape
    whole: FunnelMetrics
    by: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]


def finish(agg: FunnelAggregate) -> FunnelMetrics:
    """Read a (merged) aggregate into figures."""
    shape = agg.shape
    main = shape.main_stages
    count = len(main)
    first = agg.entered.get(main[0].id, 0) if count else 0
    depths = [sum(n for d, n in agg.first_depth.items() if d >= i) for i in range(count + 1)]
    has_value = shape.value_field is not None
    order = {s.id: s.order for s in shape.stages}
    stages = tuple(_stage_metrics(agg, stage, has_value, dropped=agg.furthest.get((i, "lost"), 0),
                                  conversion_first=ratio(depths[i], first)) for i, stage in enumerate(main))
    side = tuple(_side_metrics(agg, stage, has_value, order) for stage in shape.side_stages)
    won, lost = agg.status.get("won", 0), agg.status.get("lost", 0)
    valued = won - agg.won_without_value
    lost_by_stage = tuple(sorted(agg.lost_from.items(), key=lambda kv: (kv[0] is None, order.get(kv[0], 0))))
    lost_by_reason = tuple(sorted(agg.lost_reason.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or "")))
    forecasts = [s.forecast for s in stages + side if s.forecast is not None]
    stuck = tuple(sorted((StuckDeal(deal, stage, entered, age, shape.stage_by_id[stage].sla)
                          for stage, deal, entered, age in agg.stuck), key=lambda s: (-s.age, s.deal)))
    flows = tuple(Flow(a, b, n) for (a, b), n in sorted(
        agg.flows.items(), key=lambda kv: (-1 if kv[0][0] is None else order[kv[0][0]], order[kv[0][1]])))
    counts = agg.counts
    return FunnelMetrics(
        funnel=shape.id, as_of=agg.as_of, deals=agg.deals, open=agg.status.get("open", 0), won=won, lost=lost,
        reopened=counts["reopened"], never_open=counts["never_open"],
        win_rate=ratio(won, won + lost), stages=stages, won_reached=counts["won_reached"],
        won_to_first=ratio(depths[count], first) if count else None,
        won_value_total=agg.won_value.value if has_value else None,
        won_value_mean=ratio(agg.won_value.value, valued) if has_value else None,
        won_without_value=agg.won_without_value,
        cycle_won=Distribution.of(agg.cycle_won), cycle_lost=Distribution.of(agg.cycle_lost),
        lost_by_stage=lost_by_stage, lost_by_reason=lost_by_reason,
        pipeline_value=_total([s.pipeline_value for s in stages + side]) if has_value else None,
        forecast=math.fsum(forecasts) if forecasts else None, stuck=stuck, flows=flows,
        side_stages=side, rework=counts["rework"],
        rework_rate=ratio(counts["rework"], agg.deals - counts["never_open"]),
        moves_back=_moves_back(agg, order), skipped_deals=counts["skipped"], lost_again=counts["lost_again"],
        entered=tuple((s.id, agg.entered.get(s.id, 0), agg.entries.get(s.id, 0)) for s in shape.stages),
        trend=_finish_trend(agg.trend) if agg.trend is not None else None)


def _finish_trend(trend):
    from .trend import finish_trend      # engine/trend.py reads quantile and ratio from here: import it late

    return finish_trend(trend)


def _moves_back(agg: FunnelAggregate, order: dict) -> tuple[MoveBack, ...]:
    """Moves back up the path or into a side stage, the most frequent (by deals) first."""
    moves = [MoveBack(a, b, agg.flows.get((a, b), 0), n, ratio(n, agg.entered.get(a, 0)))
             for (a, b), n in agg.moves_back.items() if n]
    return tuple(sorted(moves, key=lambda m: (-m.deals, order[m.source], order[m.target])))


def _total(values: list) -> int | float:
    if all(isinstance(v, int) for v in values):
        return sum(values)
    return math.fsum(values)


def _stage_metrics(agg: FunnelAggregate, stage, has_value: bool, dropped: int = 0,
                   conversion_first: float | None = None, **side) -> StageMetrics:
    every = SortedRun()
    every.merge(agg.stays[stage.id])
    every.merge(agg.open_stays[stage.id])
    value = agg.open_value[stage.id].value if has_value else None
    forecast = value * stage.probability if value is not None and stage.probability is not None else None
    reached, passed = agg.entered.get(stage.id, 0), agg.passed.get(stage.id, 0)
    return StageMetrics(
        id=stage.id, title=stage.title, probability=stage.probability, sla=stage.sla, reached=reached,
        conversion_next=None if side else ratio(passed, reached), conversion_first=conversion_first,
        lost_from=agg.lost_from.get(stage.id, 0), dropped=dropped,
        open=agg.open_count.get(stage.id, 0), stuck=sum(1 for s in agg.stuck if s[0] == stage.id),
        time=Distribution.of(agg.stays[stage.id]), over_sla=agg.over_sla.get(stage.id, 0),
        waiting=Distribution.of(agg.open_stays[stage.id]), every_stay=Distribution.of(every),
        pipeline_value=value, without_value=agg.open_without_value.get(stage.id, 0), forecast=forecast,
        entries=agg.entries.get(stage.id, 0), passed=0 if side else passed,
        skipped=agg.skipped.get(stage.id, 0), losses=agg.losses.get(stage.id, 0),
        repeat_losses=agg.repeat_losses.get(stage.id, 0), instant=agg.instant.get(stage.id, 0), **side)


def _side_metrics(agg: FunnelAggregate, stage, has_value: bool, order: dict) -> StageMetrics:
    def by_stage(pairs):
        return tuple(sorted(pairs, key=lambda kv: (-kv[1], -1 if kv[0] is None else order[kv[0]])))

    came_from = by_stage((a, n) for (a, b), n in agg.flows.items() if b == stage.id and n)
    ended = by_stage((last, n) for (side, last), n in agg.side_ended.items() if side == stage.id and n)
    return _stage_metrics(agg, stage, has_value, side=True, came_from=came_from,
                          returned=agg.returned.get(stage.id, 0), ended=ended)


def end_of_replay(until: float | None, outcomes: Iterable[DealOutcome]) -> float:
    """The instant open stays are aged to: the replay's `until`, else the latest instant in any outcome."""
    if until is not None:
        return until
    latest = 0.0
    for outcome in outcomes:
        latest = max(latest, outcome.created, outcome.closed or 0.0)
        for visit in outcome.path:
            latest = max(latest, visit.entered, visit.left or 0.0)
    return latest


def check_group_fields(shape: FunnelShape, by: tuple[str, ...]) -> None:
    """Raise ValueError naming a `by` field the funnel does not declare."""
    if not shape.fields:
        return
    for name in by:
        if name not in shape.fields and cohort_period(name) is None:
            raise ValueError(f"funnel `{shape.id}` has no field `{name}` to group by; its fields: "
                             + ", ".join(f"`{f}`" for f in shape.fields))


def aggregate_outcomes(outcomes: Iterable[DealOutcome], shapes: Iterable[FunnelShape], as_of: float,
                       by: tuple[str, ...] = (), trend: str | None = None) -> dict[str, GroupedAggregate]:
    """One pass over outcomes: a GroupedAggregate per funnel, keyed by funnel id, in the shapes' order;
    with `trend` (week, month, quarter) the figures per period too, of the whole and of each group."""
    aggregates = {shape.id: GroupedAggregate(shape, as_of, by, trend) for shape in shapes}
    for outcome in outcomes:
        target = aggregates.get(outcome.funnel)
        if target is None:
            raise ValueError(f"deal `{outcome.deal}` is in funnel `{outcome.funnel}`, which is not in the spec")
        target.add(outcome)
    return aggregates


def group_sort_key(group: GroupMetrics) -> tuple:
    return (-group.metrics.deals, tuple("" if v is None else str(v) for v in group.key))


def cohort_sort_key(group: GroupMetrics) -> tuple:
    return tuple("" if v is None else str(v) for v in group.key)


def finish_grouped(agg: GroupedAggregate) -> FunnelResult:
    """Groups by number of deals, largest first; cohorts (when grouped by one) in time order."""
    groups = [GroupMetrics(key, finish(part)) for key, part in agg.groups.items()]
    in_time = any(cohort_period(name) for name in agg.by)
    return FunnelResult(agg.shape, finish(agg.whole), agg.by,
                        tuple(sorted(groups, key=cohort_sort_key if in_time else group_sort_key)))


def compute_metrics(outcomes: list[DealOutcome], shapes: Iterable[FunnelShape], until: float | None = None,
                    by: tuple[str, ...] = (), trend: str | None = None) -> list[FunnelResult]:
    """Every funnel's metrics, whole and per group. Raises ValueError for an unknown funnel, stage or field."""
    shapes = list(shapes)
    for shape in shapes:
        check_group_fields(shape, by)
    as_of = end_of_replay(until, outcomes)
    return [finish_grouped(agg) for agg in aggregate_outcomes(outcomes, shapes, as_of, by, trend).values()]
