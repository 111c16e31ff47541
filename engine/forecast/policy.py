"""What the spec does to a deal's forward steps, asked of the replay itself (engine/replay.py).

The forecast draws each open deal's next move from the fitted behaviour; the
spec decides what that move does. Rather than a second interpreter, each
question is a tiny replay of synthetic events through the same Replayer:

- a timer probe: the deal created in a stage at its entry time, its timers run
  to the horizon with no move; the first move the spec makes (an `after` or
  `every` rule's `move to`, an `at` timer, a criterion on entry) is the
  stage's timer exit: its delay from entry and where the deal lands.
- a move probe: the same deal, then a `moved` event to each stage the
  behaviour goes to; a move the spec refuses (no transition, a failing
  `require`) is not allowed, and an allowed one lands where the replay puts
  the deal (criteria cascading on entry included).

Fields do not change in the forward run, so a deal's answers depend on its
funnel, its field values and, for its current stage, its entry time; probes
are cached on those. In a funnel whose timers only make tasks and notifications
and whose expressions never read the clock (`now`, `time_in_stage`), the entry
time and horizon cannot matter:
its probes are cached without them, so deals with the same fields share them
(and so do the forecasts at the earlier cuts of drift, given the same probe).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..compile import CompiledSpec
from ..outcome import iso
from ..replay import Replayer
from ..validate import Rejected


@dataclass(frozen=True)
class StagePolicy:
    """One stage for one deal: the timer exit (delay in seconds, landing stage) and each move's landing."""

    timer_delay: float | None
    timer_target: str | None
    landing: dict[str, str | None]           # target -> stage the deal lands in; None: refused


class PolicyProbe:
    """Answers the spec's questions for forward steps, one small replay each, cached."""

    def __init__(self, compiled: CompiledSpec):
        self.compiled = compiled
        self._cache: dict[tuple, StagePolicy] = {}
        self._count = 0
        self._timeless = {f.id: _timeless(f) for f in compiled.funnels}

    def stage_policy(self, funnel: str, fields: dict, stage: str, entered: float, until: float,
                     targets: tuple[str, ...]) -> StagePolicy | None:
        """The policy of `stage` for a deal with these fields entering it at `entered`; None if it cannot be made there."""
        when = () if self._timeless.get(funnel) else (entered, until)
        key = (funnel, json.dumps(fields, sort_keys=True, default=str), stage, targets) + when
        cached = self._cache.get(key)
        if cached is None and key not in self._cache:
            cached = self._cache[key] = self._probe(funnel, fields, stage, entered, until, targets)
        return cached

    def _new_deal(self, replayer: Replayer, funnel: str, fields: dict, stage: str, entered: float):
        self._count += 1
        name = f"probe-{self._count}"
        event = {"deal": name, "ts": iso(entered), "type": "created", "funnel": funnel, "stage": stage,
                 "fields": fields}
        replayer.apply(event, entered)
        return replayer.deals[name]

    def _probe(self, funnel, fields, stage, entered, until, targets) -> StagePolicy | None:
        refused: list = []
        replayer = Replayer(self.compiled, on_violation=refused.append)
        try:
            deal = self._new_deal(replayer, funnel, fields, stage, entered)
        except Rejected:
            return None
        stages = deal.funnel.stages
        delay = target = None
        if stages[deal.stage].id != stage:
            delay, target = 0.0, stages[deal.stage].id
        else:
            replayer.advance(deal.id, until)
            if stages[deal.stage].id != stage:
                delay, target = deal.visits()[1][1] - entered, stages[deal.stage].id
        landing: dict[str, str | None] = {}
        for goal in targets:
            deal = self._new_deal(replayer, funnel, fields, stage, entered)
            if stages[deal.stage].id != stage:
                landing[goal] = None            # the deal never stays here: a timer or criterion moved it on
                continue
            before = len(refused)
            replayer.apply({"deal": deal.id, "ts": iso(entered), "type": "moved", "to": goal}, entered)
            landing[goal] = None if len(refused) > before else stages[deal.stage].id
        return StagePolicy(delay, target, landing)


CLOCK = frozenset({"now", "time_in_stage"})
HARMLESS = frozenset({"task", "notify"})    # timer actions that neither move a deal nor change what moves it


def _timeless(funnel) -> bool:
    """Whether a funnel's answers cannot depend on time: its timers only make tasks and notifications, and no
    expression reads the clock."""
    for stage in funnel.stages:
        rules = list(stage.timers) + [rule for group in stage.at_by_field.values() for rule in group]
        if any(action.kind not in HARMLESS for rule in rules for action in rule.actions):
            return False
    return not _reads_clock(funnel.model, set())


def _reads_clock(node, seen: set) -> bool:
    """A walk over the funnel's model for a `now` or `time_in_stage` name (conservative: any such name counts)."""
    if isinstance(node, (str, int, float, bool, type(None))) or id(node) in seen:
        return False
    seen.add(id(node))
    if type(node).__name__ == "Name" and getattr(node, "name", None) in CLOCK:
        return True
    if isinstance(node, dict):
        return any(_reads_clock(v, seen) for v in node.values())
    if isinstance(node, (list, tuple, set, frozenset)):
        return any(_reads_clock(v, seen) for v in node)
    fields = getattr(node, "__dataclass_fields__", None)
    if fields is None:
        return False
    return any(_reads_clock(getattr(node, name, None), seen) for name in fields)
