"""The per-deal replay loop: stages, timers, rules, cascades and the loop guard.

Deals are independent: each keeps its own state and timer heap, and only its
own events move it. `Replayer.apply` takes one checked event (engine/validate.py
read it); `Replayer.finish` fires the timers due by the end and returns the
outcomes. What the rules do is handed to the callbacks as it happens, so a
caller can stream it out instead of keeping it (memory grows with the deals
and their timers, never with the events).

One event, one timer firing or one `created` is a *chain*: everything it
sets off runs before the next. Within a chain, a deal moved by the spec more
times than the funnel has stages, or rules starting one another deeper than
the funnel has rules, is a loop: it is reported with the rules involved and
the chain stops there; the deal and every other deal go on.
"""
from __future__ import annotations

from collections import Counter
from heapq import heappop, heappush, heapify
from typing import Callable

from ..dsl.limits import NUMBER_DIGITS, NUMBER_LIMIT
from .codegen import DEPTH_CAP     # nested rule runs; keeps Python's own recursion limit far away
from .compile import CompiledRule, CompiledSpec, CompiledStage, move_text
from .deal import DealState, LoopDetected, deal_outcome
from .encode import record_head, time_json, value_json
from .outcome import ActionRecord, DealOutcome, RuntimeProblem, Violation, iso
from .validate import Rejected, read_event_data, read_fields, route_deal, stage_of

EXPRESSION_ERRORS = (ArithmeticError, TypeError, ValueError)
# What the replay makes of an action (`actions=`): an ActionRecord for `on_action`; its JSON text for
# `on_action_text(text, (rule, kind), deal)`, the text `encode_action` writes for that record, put together from
# the action's templates (engine/compile.py) without the record; or only a count by (rule, kind).
ACTION_FORMS = ("records", "text", "count")
RECORDS, TEXT, COUNT = range(3)


def _ignore(record) -> None:
    return None


class Replayer:
    """Replays checked events deal by deal. moves: enforce | record."""

    def __init__(self, spec: CompiledSpec, *, moves: str = "enforce", lenient: bool = False,
                 on_action: Callable[[ActionRecord], None] = _ignore,
                 on_violation: Callable[[Violation], None] = _ignore,
                 on_problem: Callable[[RuntimeProblem], None] = _ignore, actions: str = "records",
                 on_action_text: Callable[[str, tuple[str, str], str], None] | None = None,
                 action_counts: Counter | None = None, reference: bool = False):
        if moves not in ("enforce", "record"):
            raise ValueError(f"moves must be `enforce` or `record`, not `{moves}`")
        if actions not in ACTION_FORMS:
            raise ValueError(f"actions must be one of {', '.join(ACTION_FORMS)}, not `{actions}`")
        self._form = ACTION_FORMS.index(actions)
        self.on_action_text = on_action_text
        self.action_counts = Counter() if action_counts is None else action_counts
        self.spec = spec
        self.record_moves = moves == "record"
        self.lenient = lenient
        self.on_action, self.on_violation, self.on_problem = on_action, on_violation, on_problem
        self.deals: dict[str, DealState] = {}
        self._moves = 0
        self._moved: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._leaving = 0
        self._chain_start = ""
        # The hot path calls what `_chain` and `_holds` do inline; a subclass that observes them
        # (engine/trace.py) gets them called.
        self._inline = type(self)._chain is Replayer._chain and type(self)._holds is Replayer._holds
        # Each stage's automatic transitions run as one generated function (engine/codegen.py); `reference`
        # (tests) and a subclass that observes `_holds` take them one by one, the reference loop.
        self._generated = self._inline and not reference
        # ... and a stage's `set` rules for an event, unless a subclass observes how rules run (engine/coverage.py)
        cls = type(self)
        self._generated_rules = self._generated and all(
            getattr(cls, name) is getattr(Replayer, name) for name in ("_event", "_run_rules", "_run_actions", "_act", "_fire", "_schedule", "_changed"))

    # events ----------------------------------------------------------------------

    def apply(self, event: dict, ts: float, line: int = 0) -> None:
        """Replay one event whose shape is checked; raises Rejected (nothing changed) when it does not fit."""
        key = event["deal"]
        if type(key) is not str:
            key = str(key)
        deal = self.deals.get(key)
        kind = event["type"]
        if kind == "created":
            if deal is not None:
                raise Rejected(f'deal "{key}" is already created (line {deal.line})')
            self._create(key, event, ts, line)
            return
        if deal is None:
            raise Rejected(f'unknown deal "{key}": no "created" event for it before this line')
        if ts < deal.last:
            raise Rejected(f'deal "{key}" goes back in time: {iso(ts)} is before its previous event at {iso(deal.last)}')
        funnel = deal.funnel
        if kind == "updated":
            values = read_fields(funnel, event["fields"], self.lenient)
            target = data = None
        elif kind == "moved":
            target = stage_of(funnel, event["to"])
        else:
            data = read_event_data(funnel, event["name"], event.get("data"), self.lenient)
        deal.last = ts
        if deal.timers and deal.timers[0][0] <= ts:
            self._fire_due(deal, ts)
        if not self._inline:
            if kind == "updated":
                self._chain(deal, self._update, ts, values)
            elif kind == "moved":
                self._chain(deal, self._manual_move, ts, target, event, line)
            else:
                self._chain(deal, self._event, ts, event["name"], data)
            return
        self._moves = 0             # a new chain, as `_chain` starts one (inlined: this runs for every event)
        self._moved.clear()
        self._stack.clear()
        self._leaving = 0
        try:
            if kind == "updated":
                self._update(deal, ts, values)
            elif kind == "moved":
                self._manual_move(deal, ts, target, event, line)
            else:
                name = event["name"]
                handler = funnel.stages[deal.stage].on_event_code.get(name) if self._generated_rules else None
                if handler is None:
                    self._event(deal, ts, name, data)
                else:                       # the stage's rules for the event as one generated function
                    handler(self, deal, ts, data)
                    self._cascade(deal, ts)
        except LoopDetected as loop:
            self.on_problem(RuntimeProblem(deal.id, loop.time, "loop", loop.message, loop.rules))

    def advance(self, key: str, until: float) -> None:
        """Fire one deal's timers due at or before `until` (as its next event at that time would)."""
        deal = self.deals[key]
        if deal.timers and deal.timers[0][0] <= until:
            self._fire_due(deal, until)

    def finish(self, until: float | None) -> list[DealOutcome]:
        """Fire every deal's timers due by `until` and return the outcomes, sorted by deal id."""
        return [self.outcome(deal) for deal in self.ended_deals(until)]

    def ended_deals(self, until: float | None) -> list[DealState]:
        """Fire every deal's timers due by `until`; the deals, sorted by id, as they end."""
        deals = []
        for key in sorted(self.deals):
            deal = self.deals[key]
            if until is not None and deal.timers and deal.timers[0][0] <= until:
                self._fire_due(deal, until)
            deals.append(deal)
        return deals

    def outcome(self, deal: DealState) -> DealOutcome:
        return deal_outcome(deal)

    def _create(self, key: str, event: dict, ts: float, line: int) -> None:
        funnel, values = route_deal(self.spec, event, ts, self.lenient)
        if not funnel.stages:          # lint refuses such a spec (FNL201); a model built by hand may still have one
            raise Rejected(f'funnel "{funnel.id}" has no stages to create a deal in')
        named = event.get("stage")
        stage = funnel.start if named is None else stage_of(funnel, named)
        fields = list(funnel.defaults)
        for index, value in values:
            fields[index] = value
        deal = DealState(key, funnel, stage, ts, fields, line)
        self.deals[key] = deal
        self._chain(deal, self._enter_first, ts)

    # chains ----------------------------------------------------------------------

    def _chain(self, deal: DealState, step, *args) -> None:
        self._moves = 0
        self._moved.clear()
        self._stack.clear()
        self._leaving = 0
        try:
            step(deal, *args)
        except LoopDetected as loop:
            self.on_problem(RuntimeProblem(deal.id, loop.time, "loop", loop.message, loop.rules))

    def _enter_first(self, deal: DealState, now: float) -> None:
        stage = deal.funnel.stages[deal.stage]
        self._schedule(deal, stage, now)
        if stage.enter:
            if self._generated_rules:
                stage.enter_code(self, deal, now, None)
            else:
                self._run_rules(deal, stage.enter, now, None)
        self._cascade(deal, now)

    def _update(self, deal: DealState, now: float, values) -> None:
        fields = deal.fields
        changed = []
        for index, value in values:
            if fields[index] != value:
                fields[index] = value
                changed.append(index)
        stages = deal.funnel.stages
        for index in changed:
            if index in stages[deal.stage].watched:     # the stage may change as rules run
                self._changed(deal, index, now)
        self._cascade(deal, now)

    def _event(self, deal: DealState, now: float, name: str, data: dict) -> None:
        stage = deal.funnel.stages[deal.stage]
        if self._generated_rules:
            handler = stage.on_event_code.get(name)
            if handler is not None:
                handler(self, deal, now, data)
        else:
            rules = stage.on_event.get(name)
            if rules:
                self._run_rules(deal, rules, now, data)
        self._cascade(deal, now)

    def _manual_move(self, deal: DealState, now: float, target: int, event: dict, line: int) -> None:
        funnel = deal.funnel
        stage = funnel.stages[deal.stage]
        if target == deal.stage:
            self._cascade(deal, now)
            return
        goal = funnel.stages[target]
        transition = stage.allowed.get(target)
        kind = message = None
        if stage.terminal and not stage.reopen:
            kind, message = "from-terminal", f"the deal is {stage.kind} in `{stage.id}`, which does not allow reopening"
        elif transition is None:
            kind, message = "no-transition", f"no transition `{stage.id} -> {goal.id}`"
        elif goal.require is not None and not self._holds(goal.require, deal, now, None, f"require of `{goal.id}`"):
            kind, message = "require-failed", f"`require` of `{goal.id}` does not hold: {goal.require_text}"
        if kind is not None:
            self.on_violation(Violation(deal.id, now, line, kind, stage.id, goal.id, message, self.record_moves))
            if not self.record_moves:
                self._cascade(deal, now)
                return
        reason = event.get("reason") or (transition.because if transition is not None else None)
        self._move(deal, target, now, "manual", reason, None)
        self._cascade(deal, now)

    # timers ----------------------------------------------------------------------

    def _fire_due(self, deal: DealState, until: float) -> None:
        """Fire the deal's timers due at or before `until`, in order of due time (ties: declaration)."""
        if self._generated_rules:           # each firing a chain, as `_chain` starts one, calling the generated code
            while deal.timers and deal.timers[0][0] <= until:
                due, _, rule = heappop(deal.timers)
                self._moves = 0
                self._moved.clear()
                self._stack.clear()
                self._leaving = 0
                try:
                    rule.fire_code(self, deal, due)
                except LoopDetected as loop:
                    self.on_problem(RuntimeProblem(deal.id, loop.time, "loop", loop.message, loop.rules))
            return
        while deal.timers and deal.timers[0][0] <= until:
            due, _, rule = heappop(deal.timers)
            self._chain(deal, self._fire, due, rule)

    def _fire(self, deal: DealState, due: float, rule: CompiledRule) -> None:
        if self._generated_rules:
            rule.fire_code(self, deal, due)
            return
        visit = deal.visit
        if rule.kind == "at":
            if deal.at_fired is None:
                deal.at_fired = set()
            deal.at_fired.add((rule.index, due))
        holds = rule.condition is None or self._holds(rule.condition, deal, due, None, rule.label)
        if holds:
            self._run_actions(deal, rule, due, None)
        if rule.kind == "every" and holds and deal.visit == visit:
            deal.seq += 1
            heappush(deal.timers, (due + rule.delay, deal.seq, rule))
        if holds:
            self._cascade(deal, due)

    def _schedule(self, deal: DealState, stage: CompiledStage, now: float) -> None:
        if self._generated_rules:
            if stage.schedule_code is not None:
                stage.schedule_code(self, deal, now)
            return
        for rule in stage.timers:
            due = self._at_due(deal, rule, now) if rule.kind == "at" else now + rule.delay
            if due is not None:
                deal.seq += 1
                heappush(deal.timers, (due, deal.seq, rule))

    def _at_due(self, deal: DealState, rule: CompiledRule, now: float) -> float | None:
        """When an `at` timer is due; None when its field is unset, the time is past, or it fired for that time."""
        base = deal.fields[rule.subject_field]
        if base is None:
            return None
        due = base + rule.delay
        if due < now or (deal.at_fired is not None and (rule.index, due) in deal.at_fired):
            return None
        return due

    def _changed(self, deal: DealState, index: int, now: float) -> None:
        stage = deal.funnel.stages[deal.stage]
        timers = stage.at_by_field.get(index)
        if timers:
            deal.timers = [t for t in deal.timers if t[2] not in timers]
            heapify(deal.timers)
            for rule in timers:
                due = self._at_due(deal, rule, now)
                if due is not None:
                    deal.seq += 1
                    heappush(deal.timers, (due, deal.seq, rule))
        if self._generated_rules:
            handler = stage.on_change_code.get(index)
            if handler is not None:
                handler(self, deal, now, None)
            return
        rules = stage.on_change.get(index)
        if rules:
            self._run_rules(deal, rules, now, None)

    # rules and actions ---------------------------------------------------------

    def _holds(self, fn, deal: DealState, now: float, ev, owner: str) -> bool:
        try:
            return bool(fn(deal.fields, deal.funnel.stages[deal.stage].id, now, deal.entered, ev))
        except EXPRESSION_ERRORS as err:
            self._error(deal, now, f"{owner}: the condition failed: {_reason(err)}", owner)
            return False

    def _error(self, deal: DealState, now: float, message: str, label: str) -> None:
        self.on_problem(RuntimeProblem(deal.id, now, "error", message, (label,)))

    def _run_rules(self, deal: DealState, rules: tuple[CompiledRule, ...], now: float, ev) -> None:
        run_actions = self._run_actions
        inline = self._inline
        for rule in rules:
            if rule.stage is not None and rule.stage != deal.stage:
                continue        # an earlier rule moved the deal out of this rule's stage
            condition = rule.condition
            if condition is not None:
                if not inline:
                    holds = self._holds(condition, deal, now, ev, rule.label)
                else:
                    try:        # what `_holds` does, without its call
                        holds = condition(deal.fields, deal.funnel.stages[deal.stage].id, now, deal.entered, ev)
                    except EXPRESSION_ERRORS as err:
                        self._error(deal, now, f"{rule.label}: the condition failed: {_reason(err)}", rule.label)
                        holds = False
                if not holds:
                    continue
            run_actions(deal, rule, now, ev)

    def _run_actions(self, deal: DealState, rule: CompiledRule, now: float, ev) -> None:
        stack = self._stack
        stack.append(rule.label)
        if len(stack) > DEPTH_CAP or len(stack) > deal.funnel.rule_count:
            self.too_deep(now)
        act = self._act
        try:
            for action in rule.actions:
                try:
                    act(deal, rule, action, now, ev)
                except EXPRESSION_ERRORS as err:
                    self._error(deal, now, f"rule `{rule.label}`: {action.kind} failed: {_reason(err)}", rule.label)
                    return
        finally:
            stack.pop()

    def _act(self, deal: DealState, rule: CompiledRule, action, now: float, ev) -> None:
        kind = action.kind
        funnel = deal.funnel
        fields = deal.fields
        if kind == "set":
            self.set_field(deal, rule, action, now,
                           action.value(fields, funnel.stages[deal.stage].id, now, deal.entered, ev))
        elif kind == "move":
            self._rule_move(deal, rule, action, now)
        elif kind == "task":
            due = None
            if action.value is not None:
                due = action.value(fields, funnel.stages[deal.stage].id, now, deal.entered, ev)
                if due is not None and action.due_kind == "duration":
                    due = now + due
            self.act_task(deal, rule, action, now, due)
        elif kind == "notify":
            self.act_notify(deal, rule, action, now)
        else:
            self.act_emit(deal, rule, action, now)

    def act_task(self, deal: DealState, rule: CompiledRule, action, now: float, due) -> None:
        """A task with its due time computed: its record from the action's templates."""
        form = self._form
        if form == TEXT:
            pieces = action.pieces
            self.on_action_text(f"{record_head(deal.id, now)}{pieces[0]}{time_json(due)}{pieces[1]}"
                                f"{value_json(_recipient(deal, action))}{pieces[2]}", action.key, deal.id)
        elif form == RECORDS:
            self.on_action(ActionRecord(deal.id, now, "task", {"text": action.text, "due": iso(due),
                                                               "for": _recipient(deal, action)},
                                        rule.label, rule.span))
        else:
            self.action_counts[action.key] += 1

    def act_notify(self, deal: DealState, rule: CompiledRule, action, now: float) -> None:
        form = self._form
        if form == TEXT:
            pieces = action.pieces
            text = pieces[0] if len(pieces) == 1 else \
                f"{pieces[0]}{value_json(deal.fields[action.recipient_field])}{pieces[1]}"
            self.on_action_text(record_head(deal.id, now) + text, action.key, deal.id)
        elif form == RECORDS:
            self.on_action(ActionRecord(deal.id, now, "notify", {"to": _recipient(deal, action),
                                                                 "text": action.text}, rule.label, rule.span))
        else:
            self.action_counts[action.key] += 1

    def act_emit(self, deal: DealState, rule: CompiledRule, action, now: float) -> None:
        """An `emit`: its record, then the event with its defaults, as if it came in."""
        form = self._form
        if form == TEXT:
            self.on_action_text(record_head(deal.id, now) + action.pieces[0], action.key, deal.id)
        elif form == RECORDS:
            self.on_action(ActionRecord(deal.id, now, "emit", {"event": action.event}, rule.label, rule.span))
        else:
            self.action_counts[action.key] += 1
        schema = deal.funnel.events[action.event]
        self._event(deal, now, action.event, dict(schema.defaults))

    def set_field(self, deal: DealState, rule: CompiledRule, action, now: float, value) -> None:
        """A `set` with its value computed: checked, recorded, applied; the rules and moves it sets off run."""
        if (type(value) is float or type(value) is int) and not -NUMBER_LIMIT < value < NUMBER_LIMIT:
            raise OverflowError(_too_large(value))      # 1e308 + 1e308: JSON has no infinity
        funnel = deal.funnel
        fields = deal.fields
        index = action.field
        old = fields[index]
        form = self._form
        if form == COUNT:
            self.action_counts[action.key] += 1
        elif index in funnel.written:               # a date: its JSON text
            codec = funnel.codecs[index]
            self._set_record(deal, now, rule, action, codec.write(value), codec.write(old))
        elif form == TEXT:
            pieces = action.pieces
            self.on_action_text(f"{record_head(deal.id, now)}{pieces[0]}{value_json(value)}{pieces[1]}"
                                f"{value_json(old)}{pieces[2]}", action.key, deal.id)
        else:
            self.on_action(ActionRecord(deal.id, now, "set", {"field": funnel.field_names[index], "value": value,
                                                              "previous": old}, rule.label, rule.span))
        if old != value:
            fields[index] = value
            if index in funnel.stages[deal.stage].watched:
                self._changed(deal, index, now)
            self._cascade(deal, now)

    def too_deep(self, now: float) -> None:
        """Rules set one another off deeper than the funnel has rules: the loop, raised (see `_run_actions`)."""
        stack = self._stack
        chain = " -> ".join(f"`{label}`" for label in stack)
        raise LoopDetected(now, f"rules set one another off without end: {chain}", tuple(dict.fromkeys(stack)))

    def rule_failed(self, deal: DealState, now: float, rule: CompiledRule, kind: str | None, err: Exception) -> None:
        """A generated handler's condition (kind None) or action failed: told as `_run_rules` tells it."""
        if kind is None:
            self._error(deal, now, f"{rule.label}: the condition failed: {_reason(err)}", rule.label)
        else:
            self._error(deal, now, f"rule `{rule.label}`: {kind} failed: {_reason(err)}", rule.label)

    def _set_record(self, deal: DealState, now: float, rule: CompiledRule, action, value, old) -> None:
        """A `set`'s record, its values already as written (a date's text)."""
        if self._form == TEXT:
            pieces = action.pieces
            self.on_action_text(f"{record_head(deal.id, now)}{pieces[0]}{value_json(value)}{pieces[1]}"
                                f"{value_json(old)}{pieces[2]}", action.key, deal.id)
        else:
            self.on_action(ActionRecord(deal.id, now, "set", {"field": deal.funnel.field_names[action.field],
                                                              "value": value, "previous": old}, rule.label, rule.span))

    def _rule_move(self, deal: DealState, rule: CompiledRule, action, now: float) -> None:
        stages = deal.funnel.stages
        stage, goal = stages[deal.stage], stages[action.target]
        if action.target == deal.stage:
            return
        refusal = None
        if self._leaving:
            refusal = f"cannot move the deal while it leaves `{stage.id}` (an `on exit` rule)"
        elif stage.terminal and not stage.reopen:
            refusal = f"the deal is {stage.kind} in `{stage.id}`, which does not allow reopening"
        elif goal.require is not None and not self._holds(goal.require, deal, now, None, f"require of `{goal.id}`"):
            refusal = f"`require` of `{goal.id}` does not hold: {goal.require_text}"
        if refusal is not None:
            self.on_problem(RuntimeProblem(deal.id, now, "refused",
                                           f"rule `{rule.label}`: move to `{goal.id}` not made: {refusal}",
                                           (rule.label,)))
            return
        form = self._form
        if form == TEXT:
            text = action.move_texts.get(deal.stage)
            if text is None:
                text = action.move_texts[deal.stage] = move_text(rule, action, stage.id, goal.id)
            self.on_action_text(record_head(deal.id, now) + text, action.key, deal.id)
        elif form == RECORDS:
            self.on_action(ActionRecord(deal.id, now, "move", {"from": stage.id, "to": goal.id,
                                                               "because": action.because}, rule.label, rule.span))
        else:
            self.action_counts[action.key] += 1
        self._move(deal, action.target, now, "rule", action.because, rule.label)
        self._cascade(deal, now)

    # moves -----------------------------------------------------------------------

    def _cascade(self, deal: DealState, now: float) -> None:
        """Automatic transitions from the current stage, first that holds (and whose target admits), until none."""
        if self._leaving:
            return
        stages = deal.funnel.stages
        if self._generated:
            while True:
                stage = stages[deal.stage]
                cascade = stage.cascade
                if cascade is None:
                    return
                k = cascade(deal.fields, now, deal.entered, self, deal)
                if k < 0:
                    return
                t = stage.auto[k]
                form = self._form
                if form == TEXT:
                    self.on_action_text(record_head(deal.id, now) + stage.auto_texts[k], t.key, deal.id)
                elif form == RECORDS:
                    self.on_action(ActionRecord(deal.id, now, "move", {"from": stage.id, "to": stages[t.target].id,
                                                                       "because": t.because}, t.label, t.span))
                else:
                    self.action_counts[t.key] += 1
                self._move(deal, t.target, now, "auto", t.because, t.label)
        inline = self._inline
        while True:
            stage = stages[deal.stage]
            for k, t in enumerate(stage.auto):
                if not inline:
                    holds = self._holds(t.criterion, deal, now, None, f"criterion of `{t.label}`")
                else:
                    try:        # what `_holds` does, without its call: most criteria are tried and fail
                        holds = t.criterion(deal.fields, stage.id, now, deal.entered, None)
                    except EXPRESSION_ERRORS as err:
                        self._error(deal, now, f"criterion of `{t.label}`: the condition failed: {_reason(err)}",
                                    f"criterion of `{t.label}`")
                        holds = False
                if not holds:
                    continue
                goal = stages[t.target]
                if goal.require is not None and not self._holds(goal.require, deal, now, None,
                                                                f"require of `{goal.id}`"):
                    continue
                form = self._form
                if form == TEXT:
                    self.on_action_text(record_head(deal.id, now) + stage.auto_texts[k], t.key, deal.id)
                elif form == RECORDS:
                    self.on_action(ActionRecord(deal.id, now, "move", {"from": stage.id, "to": goal.id,
                                                                       "because": t.because}, t.label, t.span))
                else:
                    self.action_counts[t.key] += 1
                self._move(deal, t.target, now, "auto", t.because, t.label)
                break
            else:
                return

    def auto_failed(self, deal: DealState, now: float, k: int, which: str, err: Exception) -> None:
        """A generated cascade's criterion or target's `require` failed: told as the reference loop tells it."""
        stage = deal.funnel.stages[deal.stage]
        t = stage.auto[k]
        owner = f"criterion of `{t.label}`" if which == "criterion" else f"require of `{deal.funnel.stages[t.target].id}`"
        self._error(deal, now, f"{owner}: the condition failed: {_reason(err)}", owner)

    def _move(self, deal: DealState, target: int, now: float, via: str, reason: str | None,
              label: str | None) -> None:
        stages = deal.funnel.stages
        if label is not None:
            if not self._moved:
                self._chain_start = stages[deal.stage].id
            self._moves += 1
            self._moved.append((label, stages[target].id))
            if self._moves > len(stages):
                trail = " -> ".join([self._chain_start] + [s for _, s in self._moved])
                raise LoopDetected(now, f"moved more than {len(stages)} times in a row without end: {trail}",
                                   tuple(dict.fromkeys(lbl for lbl, _ in self._moved)))
        old = stages[deal.stage]
        if old.exit:
            self._leaving += 1
            try:
                if self._generated_rules:
                    old.exit_code(self, deal, now, None)
                else:
                    self._run_rules(deal, old.exit, now, None)
            finally:
                self._leaving -= 1
        deal.timers = []                  # the stage's timers end with the stay
        new = stages[target]
        deal.stage, deal.entered = target, now
        deal.visit += 1
        deal.path += (target, now, via)
        deal.closed = now if new.terminal else None
        deal.lost_reason = reason if new.kind == "lost" else None
        self._schedule(deal, new, now)
        if new.enter:
            if self._generated_rules:
                new.enter_code(self, deal, now, None)
            else:
                self._run_rules(deal, new.enter, now, None)


def _recipient(deal: DealState, action):
    if action.recipient_field is not None:
        return deal.fields[action.recipient_field]
    return action.recipient


def _too_large(value) -> str:
    if value - value != 0:          # NaN and ±infinity give NaN
        return "the result is not a finite number"
    return f"the result is too large: a number has at most {NUMBER_DIGITS} digits in its whole part"


def _reason(err: Exception) -> str:
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    return str(err) or type(err).__name__

