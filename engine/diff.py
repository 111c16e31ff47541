"""Two specs replay one history, read once: each line is decoded and checked once and fed to both.

`replay_pair` keeps, per deal and per side, every record the replay made (actions,
violations, run-time problems, lines the side rejected), each tied to what caused
it: an event line, or a timer. engine/diff_deals.py compares the two sides.

Stage ids renamed between the specs (dsl/spec_diff.py `stage_renames`) are
translated on the way into the new spec: a `moved` or `created` event naming
the old id of a renamed stage reaches the new spec under its new id. Any other
name that only one spec knows (a removed stage, an unknown field or event) is
rejected by that side only, and the rejection is a record like any other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .compile import CompiledSpec
from .events import BLANK, NotJson
from .outcome import DealOutcome, Totals, iso
from .replay import Replayer
from .simulate import BadLine
from .validate import Rejected, event_time, shape_problem


@dataclass(frozen=True, slots=True)
class Cause:
    """What set a record off: an event line, or a timer firing at `time`."""

    kind: str                  # event | timer
    time: float
    line: int | None = None
    event: str | None = None   # the event as a person reads it: `moved to x`, `updated`, `event payment`

    def describe(self) -> str:
        if self.kind == "timer":
            return f"timer at {iso(self.time)}"
        return f"line {self.line} ({self.event}) at {iso(self.time)}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "time": iso(self.time), "line": self.line, "event": self.event}


@dataclass(frozen=True, slots=True)
class Step:
    """One record on one side: `record` is an ActionRecord, Violation, RuntimeProblem or Rejection."""

    kind: str                  # action | manual (a person's move made: (from, to, time)) | violation | problem | rejected
    record: object
    cause: Cause


@dataclass
class Side:
    """One spec's replay and what it recorded, deal by deal."""

    spec: CompiledSpec
    moves: str
    lenient: bool
    steps: dict[str, list[Step]] = field(default_factory=dict)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)   # (line, deal, reason)
    applied: int = 0

    def __post_init__(self) -> None:
        self.cause: Cause | None = None            # made from `_event` when a record first needs it
        self._event: tuple | None = None           # (time, line, event) being fed; None at the end
        self.replayer = Replayer(self.spec, moves=self.moves, lenient=self.lenient,
                                 on_action=lambda r: self._keep("action", r.deal, r, r.time),
                                 on_violation=lambda r: self._keep("violation", r.deal, r, r.time),
                                 on_problem=lambda r: self._keep("problem", r.deal, r, r.time))

    def _keep(self, kind: str, deal: str, record, time: float) -> None:
        fed = self._event
        if fed is None or time != fed[0]:          # a timer: at the end, or due before the event it precedes
            cause = Cause("timer", time)
        else:
            cause = self.cause
            if cause is None:
                cause = self.cause = Cause("event", fed[0], fed[1], describe_event(fed[2]))
        steps = self.steps.get(deal)
        if steps is None:
            steps = self.steps[deal] = []
        steps.append(Step(kind, record, cause))

    def feed(self, event: dict, ts: float, line: int) -> None:
        self._event, self.cause = (ts, line, event), None
        try:
            if event["type"] == "moved":
                self._manual_move(event, ts)
            else:
                self.replayer.apply(event, ts, line)
            self.applied += 1
        except Rejected as err:
            deal = str(event["deal"])
            self.rejected.append((line, deal, str(err)))
            self.steps.setdefault(deal, []).append(Step("rejected", str(err),
                                                        Cause("event", ts, line, describe_event(event))))

    def _manual_move(self, event: dict, ts: float) -> None:
        """Apply a person's move, and record it when it is made: the replay itself records no action for it,
        and where two replays part is often a move one spec takes and the other refuses."""
        key = str(event["deal"])
        deal = self.replayer.deals.get(key)
        steps = self.steps.setdefault(key, [])
        start, visits = len(steps), deal.visit_count() if deal is not None else 0
        self.replayer.apply(event, ts, self._event[1])
        if deal is None or deal.visit_count() <= visits or deal.visit_at(visits)[1] != "manual":
            return
        stages = deal.funnel.stages
        while start < len(steps) and steps[start].cause.kind == "timer":    # timers due before the move fired first
            start += 1
        source, target = stages[deal.visit_at(visits - 1)[0]].id, stages[deal.visit_at(visits)[0]].id
        steps.insert(start, Step("manual", (source, target, ts), self.cause or Cause(
            "event", ts, self._event[1], describe_event(event))))

    def finish(self, end: float | None) -> list[DealOutcome]:
        self._event = None
        return self.replayer.finish(end)


def describe_event(event: dict) -> str:
    kind = event["type"]
    if kind == "moved":
        return f"moved to {event['to']}"
    if kind == "event":
        return f"event {event['name']}"
    if kind == "updated":
        return "updated " + ", ".join(event["fields"])
    return kind


@dataclass
class PairRun:
    old: Side
    new: Side
    old_outcomes: list[DealOutcome]
    new_outcomes: list[DealOutcome]
    totals: Totals
    until: float | None


def replay_pair(old: CompiledSpec, new: CompiledSpec, lines, *, renames: dict[str, dict[str, str]],
                until: float | None = None, moves: str = "enforce", lenient: bool = False,
                source: str = "events", settle=None) -> PairRun:
    """Replay `lines` (engine/events.py readers) against both specs, reading each line once.

    renames: funnel id -> {old stage id: new stage id}. A line that is not an
    event at all (not JSON, not the event schema, no time) raises BadLine: the
    history is broken, and neither side could say anything about it. `settle`,
    as for run_replay, is told the end and returns the one to finish with.
    """
    old_side, new_side = Side(old, moves, lenient), Side(new, moves, lenient)
    totals = Totals()
    latest = None
    for number, _raw, value in lines:
        totals.lines += 1
        if value is BLANK:
            totals.blank += 1
            continue
        if type(value) is NotJson:
            raise BadLine(source, number, value.message)
        reason = shape_problem(value)
        if reason is not None:
            raise BadLine(source, number, reason)
        try:
            ts = event_time(value)
        except Rejected as err:
            raise BadLine(source, number, str(err)) from None
        if until is not None and ts > until:
            totals.after_until += 1
            continue
        old_side.feed(value, ts, number)
        new_side.feed(_translate(value, new, new_side, renames), ts, number)
        totals.applied += 1
        if latest is None or ts > latest:
            latest = ts
    end = until if until is not None else latest
    if settle is not None:
        end = settle(end)
    old_outcomes, new_outcomes = old_side.finish(end), new_side.finish(end)
    totals.deals = len({o.deal for o in old_outcomes} | {o.deal for o in new_outcomes})
    return PairRun(old_side, new_side, old_outcomes, new_outcomes, totals, end)


def _translate(event: dict, spec: CompiledSpec, side: Side, renames: dict[str, dict[str, str]]) -> dict:
    """The event as the new spec should read it: a renamed stage's old id becomes its new id."""
    if not renames:
        return event
    kind = event["type"]
    if kind == "moved":
        deal = side.replayer.deals.get(str(event["deal"]))
        if deal is None:
            return event
        mapped = renames.get(deal.funnel.id, {}).get(event["to"])
        if mapped is not None and event["to"] not in deal.funnel.stage_index:
            return {**event, "to": mapped}
    elif kind == "created" and event.get("stage") is not None:
        named = event.get("funnel")
        funnels = [spec.funnel_by_id[named]] if named in spec.funnel_by_id else spec.funnels
        for funnel in funnels:
            mapped = renames.get(funnel.id, {}).get(event["stage"])
            if mapped is not None and event["stage"] not in funnel.stage_index:
                return {**event, "stage": mapped}
    return event
