"""A deal's replay state (engine/deal.py `DealState`) to JSON and back, pending timers included.

What the store keeps must outlive the process and survive a change of the
spec, so nothing refers to Python objects or positions that an edit shifts:
the stage is its id, fields go by name, and a pending timer names its rule by
index, label, kind and delay (a timer whose rule is gone is dropped; see `_rule_for`).
Run-time values are JSON already (numbers, text, bool, None), and floats read
back exactly; dates are written as their ISO text, as `simulate` shows them.

`migrate` maps stage ids the spec no longer has to ones it has (`funnel run
--migrate OLD=NEW`); it applies to the current stage and to the deal's path.
"""
from __future__ import annotations

from ..engine.compile import CompiledFunnel, CompiledRule, CompiledSpec
from ..engine.deal import DealState, deal_fields
from ..engine.outcome import DealOutcome, Visit

FORMAT = 1


class CodecError(ValueError):
    """A stored deal this spec cannot hold (its funnel or a stage is gone and not migrated)."""


def encode_deal(deal: DealState) -> dict:
    """The JSON form of a deal's state."""
    funnel = deal.funnel
    stages = funnel.stages
    return {
        "format": FORMAT,
        "funnel": funnel.id,
        "stage": stages[deal.stage].id,
        "status": stages[deal.stage].kind,
        "entered": deal.entered,
        "fields": deal_fields(deal),
        "path": [[stages[s].id, entered, left, via] for s, entered, left, via in deal.visits()],
        "timers": [[due, seq, rule.index, rule.label, rule.kind, rule.delay]
                   for due, seq, rule in sorted(deal.timers, key=_timer_key)],
        "last": deal.last,
        "created": deal.created,
        "closed": deal.closed,
        "lost_reason": deal.lost_reason,
        "visit": deal.visit,
        "seq": deal.seq,
        "at_fired": None if deal.at_fired is None else sorted([index, due] for index, due in deal.at_fired),
        "line": deal.line,
    }


def decode_deal(deal_id: str, state: dict, spec: CompiledSpec, migrate: dict[str, str] | None = None) -> DealState:
    """The deal's `DealState` under `spec`; raises CodecError when the spec cannot hold it."""
    funnel = spec.funnel_by_id.get(state["funnel"])
    if funnel is None:
        raise CodecError(f'deal "{deal_id}": the spec has no funnel `{state["funnel"]}` any more')
    migrate = migrate or {}
    stage = _stage(funnel, state["stage"], migrate, deal_id)
    fields = list(funnel.defaults)
    stored = state["fields"]
    written = funnel.written
    for name, index in funnel.field_index.items():
        if name in stored:
            value = stored[name]
            fields[index] = funnel.codecs[index].read(value) if index in written and value is not None else value
    deal = DealState(deal_id, funnel, stage, state["entered"], fields, state["line"])
    deal.set_visits([(_stage(funnel, s, migrate, deal_id), entered, left, via) for s, entered, left, via in state["path"]])
    rules = _rules(funnel)
    timers = []
    for due, seq, index, label, kind, delay in state["timers"]:
        rule = _rule_for(rules, index, label, kind, delay)
        if rule is not None:
            timers.append((due, seq, rule))
    timers.sort(key=_timer_key)             # a sorted list is a heap
    deal.timers = timers
    deal.last, deal.created, deal.closed = state["last"], state["created"], state["closed"]
    deal.lost_reason, deal.visit, deal.seq = state["lost_reason"], state["visit"], state["seq"]
    fired = state["at_fired"]
    deal.at_fired = None if fired is None else {(index, due) for index, due in fired}
    return deal


def next_due(deal: DealState) -> float | None:
    """When the deal's earliest pending timer is due (the heap's top), None without timers."""
    return deal.timers[0][0] if deal.timers else None


def stored_outcome(deal_id: str, state: dict) -> DealOutcome:
    """The outcome record of a stored deal, as `simulate` gives it, without the spec (for `funnel state`)."""
    status = state["status"]
    visits = tuple(Visit(stage, entered, left, via) for stage, entered, left, via in state["path"])
    return DealOutcome(deal_id, state["funnel"], state["created"], state["stage"], status,
                       state["lost_reason"] if status == "lost" else None, state["closed"], visits, state["fields"])


def pending_timers(state: dict) -> list[dict]:
    """A stored deal's pending timers, earliest first, for people: due time, rule label."""
    return [{"due": timer[0], "rule": timer[3]} for timer in state["timers"]]


def _timer_key(timer: tuple) -> tuple:
    return timer[0], timer[1]


def _stage(funnel: CompiledFunnel, stage_id: str, migrate: dict[str, str], deal_id: str) -> int:
    index = funnel.stage_index.get(migrate.get(stage_id, stage_id))
    if index is None:
        raise CodecError(f'deal "{deal_id}": funnel `{funnel.id}` has no stage `{stage_id}` any more '
                         f"(map it with --migrate {stage_id}=NEW)")
    return index


_RULES: dict[int, tuple[CompiledFunnel, dict[int, CompiledRule], dict[str, CompiledRule]]] = {}


def _rules(funnel: CompiledFunnel) -> tuple[dict[int, CompiledRule], dict[str, CompiledRule]]:
    """The funnel's timer rules by index and by label (built once per compiled funnel)."""
    cached = _RULES.get(id(funnel))
    if cached is not None and cached[0] is funnel:
        return cached[1], cached[2]
    by_index: dict[int, CompiledRule] = {}
    for stage in funnel.stages:
        for rule in stage.timers:
            by_index[rule.index] = rule
    by_label = {rule.label: rule for rule in by_index.values()}
    _RULES[id(funnel)] = (funnel, by_index, by_label)
    return by_index, by_label


def _rule_for(rules, index: int, label: str, kind: str, delay: int) -> CompiledRule | None:
    """The rule a stored timer belongs to: same index and label; else the same label, kind and delay (a
    named rule that moved); else the same index, kind and delay (an unnamed rule, labelled by its line,
    that an edit above it shifted); else None: the rule changed or is gone, and its timer with it."""
    by_index, by_label = rules
    rule = by_index.get(index)
    if rule is not None and rule.label == label:
        return rule
    for candidate in (by_label.get(label), rule):
        if candidate is not None and candidate.kind == kind and candidate.delay == delay:
            return candidate
    return None
