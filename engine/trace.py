"""The explain trace: one deal's replay told step by step, by the replay engine itself.

`TracingReplayer` is engine/replay.py's `Replayer` with its steps observed:
each override notes what happens and hands over to the replay's own method,
so the trace cannot disagree with `funnel simulate`. The plain `Replayer`
is untouched, so a replay without a trace pays nothing for it.

Every deal of the stream is replayed (the end of the replay, where due timers
fire, is the latest event of the whole stream, as in `funnel simulate`), but
only the deal asked about is traced. Conditions are explained with the
reference evaluator (engine/failing_part.py) only for that deal.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..dsl.render.safe_text import for_terminal
from ..stdlib.dates import local
from .failing_part import env_of, why
from .outcome import DealOutcome, iso
from .replay import Replayer
from .validate import Rejected, event_time, shape_problem
from .events import BLANK, NotJson
from .values import parse_time

UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")     # iso()'s text, in the messages


@dataclass
class Step:
    """One line of the trace. kind: event | rejected-line | condition | rule | timer-started |
    timer-cancelled | timer-fired | moved | action | move-rejected | problem."""

    time: float
    kind: str
    message: str
    depth: int = 1
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"time": iso(self.time), "kind": self.kind, "message": self.message, **self.detail}


@dataclass
class Trace:
    deal: str
    steps: list[Step]
    outcome: DealOutcome | None
    until: float | None
    actions: list = field(default_factory=list)
    closest: tuple[str, ...] = ()          # with no such deal: the ids of the stream nearest to the one asked for

    def to_json(self) -> dict:
        return {"deal": self.deal, "until": iso(self.until),
                "outcome": None if self.outcome is None else self.outcome.to_json(),
                "steps": [s.to_json() for s in self.steps]}


def _event_words(event: dict) -> str:
    kind = event.get("type")
    if kind == "created":
        return "created" + (f" in `{event['stage']}`" if event.get("stage") else "")
    if kind == "updated":
        changes = ", ".join(f"{k} = {_json_word(v)}" for k, v in (event.get("fields") or {}).items())
        return f"updated {changes}".rstrip()
    if kind == "moved":
        by = f" by {event['by']}" if event.get("by") else ""
        return f"moved to `{event.get('to')}`{by}"
    return f"event `{event.get('name')}`"


def _json_word(value) -> str:
    """A value as the stream or the outcome writes it, in the language's words."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TracingReplayer(Replayer):
    """A Replayer that notes, for the deal `target` only, every step of its replay."""

    def __init__(self, spec, target: str, **options):
        super().__init__(spec, on_action=self._seen_action, on_violation=self._seen_violation,
                         on_problem=self._seen_problem, **options)
        self.target = target
        self.steps: list[Step] = []
        self.actions: list = []                  # the deal's ActionRecords, in order
        self._pending: tuple[dict, float, int] | None = None
        self._expressions = _expressions(spec)

    def _note(self, time: float, kind: str, message: str, **detail) -> None:
        if kind == "condition" and self._said_since_event(time, message):
            return          # evaluated again in the same visit (a rule's action re-checks the stage): said once
        self.steps.append(Step(time, kind, message, 0 if kind in ("event", "rejected-line", "timer-fired") else 1, detail))

    # events and chains -----------------------------------------------------------

    def apply(self, event: dict, ts: float, line: int = 0) -> None:
        if str(event.get("deal")) != self.target:
            return super().apply(event, ts, line)
        self._pending = (event, ts, line)
        try:
            super().apply(event, ts, line)
        except Rejected as err:
            self._pending = None
            self._note(ts, "rejected-line", f"line {line}: {_event_words(event)}: not applied: {err}", line=line)
            raise
        finally:
            self._flush_event()

    def _said_since_event(self, time: float, message: str) -> bool:
        for step in reversed(self.steps):
            if step.depth == 0 or step.time != time or step.kind == "moved":
                return False            # a move makes a new visit: its criteria are news again
            if step.kind == "condition" and step.message == message:
                return True
        return False

    def _flush_event(self) -> None:
        if self._pending is not None:
            event, ts, line = self._pending
            self._pending = None
            self._note(ts, "event", f"line {line}: {_event_words(event)}", line=line, event=event)

    def _chain(self, deal, step, *args) -> None:
        if deal.id == self.target and step != self._fire:
            self._flush_event()          # the deal's due timers fire before the event they wait for
        super()._chain(deal, step, *args)

    # timers ------------------------------------------------------------------------

    def _fire(self, deal, due: float, rule) -> None:
        if deal.id == self.target:
            self._note(due, "timer-fired", f"timer `{rule.label}` fires", rule=rule.label)
        super()._fire(deal, due, rule)

    def _schedule(self, deal, stage, now: float) -> None:
        if deal.id != self.target:
            return super()._schedule(deal, stage, now)
        before = set(map(id, deal.timers))
        super()._schedule(deal, stage, now)
        self._timers_started(deal, now, before)

    def _timers_started(self, deal, now: float, before: set) -> None:
        for due, _, rule in sorted(t for t in deal.timers if id(t) not in before):
            self._note(now, "timer-started", f"timer `{rule.label}` starts, due {iso(due)}", rule=rule.label,
                       due=iso(due))

    def _changed(self, deal, index: int, now: float) -> None:
        if deal.id != self.target:
            return super()._changed(deal, index, now)
        rules = deal.funnel.stages[deal.stage].at_by_field.get(index, ())
        before = [t for t in deal.timers if t[2] in rules]
        visit = deal.visit
        ids = set(map(id, deal.timers))
        super()._changed(deal, index, now)
        if deal.visit != visit:
            return                      # the deal moved on: the move noted what ended
        for due, _, rule in before:
            if not any(t[2] is rule and t[0] == due for t in deal.timers):
                self._note(now, "timer-cancelled", f"timer `{rule.label}` due {iso(due)} is cancelled: "
                           f"`{deal.funnel.field_names[index]}` changed", rule=rule.label, due=iso(due))
        self._timers_started(deal, now, ids)

    # conditions and rules ------------------------------------------------------------

    def _holds(self, fn, deal, now: float, ev, owner: str) -> bool:
        result = super()._holds(fn, deal, now, ev, owner)
        if deal.id == self.target:
            expr = self._expressions.get(owner)
            because = ""
            if expr is not None:
                because = why(expr, env_of(deal, now, ev), _codecs(deal))
            word = "holds" if result else "does not hold"
            what = owner if owner.startswith(("criterion", "require")) else f"condition of `{owner}`"
            self._note(now, "condition", f"{what} {word}" + (f": {because}" if because else ""),
                       owner=owner, holds=result)
        return result

    def _run_actions(self, deal, rule, now: float, ev) -> None:
        if deal.id == self.target:
            self._note(now, "rule", f"rule `{rule.label}` runs", rule=rule.label)
        super()._run_actions(deal, rule, now, ev)

    # moves ---------------------------------------------------------------------------

    def _move(self, deal, target: int, now: float, via: str, reason, label) -> None:
        if deal.id == self.target:
            stages = deal.funnel.stages
            self._note(now, "moved", f"moves `{stages[deal.stage].id}` -> `{stages[target].id}` ({via})",
                       via=via, to=stages[target].id, **({"reason": reason} if reason else {}))
            for due, _, rule in sorted(deal.timers):
                self._note(now, "timer-cancelled", f"timer `{rule.label}` due {iso(due)} is cancelled: "
                           f"the deal leaves `{stages[deal.stage].id}`", rule=rule.label, due=iso(due))
        super()._move(deal, target, now, via, reason, label)

    # what the replay reports ------------------------------------------------------------

    def _seen_action(self, record) -> None:
        if record.deal == self.target:
            self.actions.append(record)
        if record.deal == self.target and record.kind != "move":    # a move is noted as the deal moves
            payload = ", ".join(f"{k}: {_json_word(v)}" for k, v in record.payload.items() if v is not None)
            self._note(record.time, "action", f"{record.kind} ({payload}) by `{record.rule}`",
                       action=record.kind, payload=record.payload, rule=record.rule)

    def _seen_violation(self, record) -> None:
        if record.deal == self.target:
            outcome = "made anyway (moves are recorded)" if record.applied else "refused"
            self._note(record.time, "move-rejected", f"move `{record.source}` -> `{record.target}` {outcome}: "
                       f"{record.message}", violation=record.kind)

    def _seen_problem(self, record) -> None:
        if record.deal == self.target:
            self._note(record.time, "problem", f"{record.kind}: {record.message}", problem=record.kind)


def _codecs(deal) -> dict:
    return dict(zip(deal.funnel.field_names, deal.funnel.codecs))


def _expressions(spec) -> dict:
    """The expression behind each owner name the replay gives `_holds`."""
    from ..dsl import ast

    found = {}
    for funnel in spec.funnels:
        for stage in funnel.stages:
            requires = stage.model.requires if stage.model is not None else ()
            if requires:
                expr = requires[0]
                for more in requires[1:]:
                    expr = ast.Binary("and", expr, more, more.span)
                found[f"require of `{stage.id}`"] = expr
            for t in stage.auto:
                found[f"criterion of `{t.label}`"] = t.model.criterion
        for stage in funnel.stages:
            for rules in (stage.enter, stage.exit, stage.timers, *stage.on_event.values(),
                          *stage.on_change.values()):
                for rule in rules:
                    if rule.model.condition is not None:
                        found[rule.label] = rule.model.condition
    return found


def replay_all(replayer: Replayer, lines, until: float | None = None) -> float | None:
    """Apply every good line to `replayer` (bad ones skipped, as `--on-error skip` does); the end of the replay."""
    latest = None
    for number, _raw, value in lines:
        if value is BLANK or type(value) is NotJson or shape_problem(value) is not None:
            continue
        try:
            ts = event_time(value)
            if until is not None and ts > until:
                continue
            replayer.apply(value, ts, number)
        except Rejected:
            continue
        if latest is None or ts > latest:
            latest = ts
    return until if until is not None else latest


def closest_ids(wanted: str, ids, count: int = 3) -> tuple[str, ...]:
    """The ids most like `wanted` (`B3` -> `B-3`, `B30`), else the first of the stream, so a person sees the form."""
    import difflib

    known = [str(i) for i in ids]
    near = difflib.get_close_matches(wanted, known, n=count, cutoff=0.5)
    return tuple(near or known[:count])


def trace_deal(spec, lines, deal: str, *, until: float | None = None, moves: str = "enforce",
               lenient: bool = False) -> Trace:
    """Replay every line and trace `deal`."""
    replayer = TracingReplayer(spec, deal, moves=moves, lenient=lenient)
    end = replay_all(replayer, lines, until)
    state = replayer.deals.get(deal)
    if state is None:
        return Trace(deal, replayer.steps, None, end, closest=closest_ids(deal, replayer.deals))
    if end is not None and state.timers and state.timers[0][0] <= end:
        replayer.advance(deal, end)
    return Trace(deal, replayer.steps, replayer.outcome(state), end, replayer.actions)


@for_terminal
def trace_text(trace: Trace, zone: str | None = None) -> str:
    """The trace for people: each event or timer with its time, what it set off indented below; every time
    (in the messages too) local to the IANA `zone` with its offset, UTC (`Z`) when None."""
    if trace.outcome is None:
        return f'deal "{trace.deal}": no "created" event for it in the stream\n'
    shown = iso if zone is None else (lambda ts: None if ts is None else local(ts, zone).isoformat())

    def text(message: str) -> str:
        return message if zone is None else UTC_TIME.sub(lambda m: shown(parse_time(m.group())), message)

    out = [f'deal "{trace.deal}" in funnel `{trace.outcome.funnel}`, replayed until {shown(trace.until)}', ""]
    last = None
    for step in trace.steps:
        if step.depth == 0:
            out.append(f"{shown(step.time)}  {text(step.message)}")
            last = step.time
            continue
        when = f"[{shown(step.time)}] " if step.time != last else ""
        out.append(f"  {when}{text(step.message)}")
    o = trace.outcome
    out += ["", f"ends in `{o.stage}` ({o.status})" + (f", lost because {o.lost_reason}" if o.lost_reason else "")]
    out.append("fields: " + ", ".join(f"{k} = {_json_word(v)}" for k, v in o.fields.items()))
    return "\n".join(out) + "\n"
