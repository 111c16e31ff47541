"""Deal by deal, what changed between the two replays of a history (engine/diff.py).

Old stage ids are read through the rename map, so a renamed stage compares as
the same stage. Rule labels are not compared (a rule that moved down a line
has a new `file:line` label and still does the same); they are shown where the
replays part. Actions compared as "actions": tasks, notifications and emitted
events; a `set` or `move` that differs shows in the path or where they part.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .diff import Cause, PairRun, Step
from .outcome import ActionRecord, DealOutcome, RuntimeProblem, iso

COUNTED_ACTIONS = ("task", "notify", "emit")


@dataclass(frozen=True)
class Parting:
    """The first record where the two replays of a deal differ; None on a side that has none there."""

    old_cause: Cause | None
    new_cause: Cause | None
    old_rule: str | None
    new_rule: str | None
    old_what: str | None
    new_what: str | None

    @property
    def cause(self) -> Cause:
        """The earlier of the two sides' causes: where the replays stop agreeing."""
        causes = [c for c in (self.old_cause, self.new_cause) if c is not None]
        return min(causes, key=lambda c: (c.time, c.line is None, c.line or 0))

    def to_json(self) -> dict:
        side = lambda cause, rule, what: None if what is None else {  # noqa: E731
            "cause": cause.to_json(), "rule": rule, "what": what}
        return {"cause": self.cause.to_json(), "old": side(self.old_cause, self.old_rule, self.old_what),
                "new": side(self.new_cause, self.new_rule, self.new_what)}


@dataclass(frozen=True)
class DealChange:
    deal: str
    funnel: str
    old: DealOutcome | None
    new: DealOutcome | None
    outcome_changed: bool
    path_changed: bool
    actions_added: tuple[str, ...]
    actions_removed: tuple[str, ...]
    violations_appeared: tuple[str, ...]
    violations_vanished: tuple[str, ...]
    parting: Parting | None

    @property
    def rank(self) -> int:
        """outcome 0, path 1, actions 2, violations 3: the order the plan lists deals in."""
        if self.outcome_changed:
            return 0
        if self.path_changed:
            return 1
        return 2 if self.actions_added or self.actions_removed else 3

    def to_json(self) -> dict:
        return {"deal": self.deal, "funnel": self.funnel,
                "old": outcome_json(self.old), "new": outcome_json(self.new),
                "outcome_changed": self.outcome_changed, "path_changed": self.path_changed,
                "old_path": path_text(self.old), "new_path": path_text(self.new),
                "actions_added": list(self.actions_added), "actions_removed": list(self.actions_removed),
                "violations_appeared": list(self.violations_appeared),
                "violations_vanished": list(self.violations_vanished),
                "parted_at": self.parting.to_json() if self.parting else None}


def outcome_json(outcome: DealOutcome | None) -> dict | None:
    if outcome is None:
        return None
    return {"stage": outcome.stage, "status": outcome.status, "lost_reason": outcome.lost_reason,
            "closed": iso(outcome.closed)}


def outcome_text(outcome: DealOutcome | None) -> str:
    if outcome is None:
        return "(not replayed)"
    text = f"{outcome.stage} ({outcome.status})" if outcome.status != "open" else outcome.stage
    return text + (f", lost: {outcome.lost_reason}" if outcome.lost_reason else "")


def path_text(outcome: DealOutcome | None) -> str:
    return "" if outcome is None else " -> ".join(v.stage for v in outcome.path)


def _renamed_outcome(outcome: DealOutcome, rename: dict[str, str]) -> DealOutcome:
    from dataclasses import replace

    if not rename:
        return outcome
    path = tuple(replace(v, stage=rename.get(v.stage, v.stage)) for v in outcome.path)
    return replace(outcome, stage=rename.get(outcome.stage, outcome.stage), path=path)


def _step_key(step: Step, rename: dict[str, str]) -> tuple:
    record = step.record
    if step.kind == "action":
        payload = record.payload
        if rename and record.kind == "move":
            payload = {**payload, "from": rename.get(payload["from"], payload["from"]),
                       "to": rename.get(payload["to"], payload["to"])}
        # a kind's payload always has the same keys in the same order (engine/replay.py writes them)
        return ("action", record.time, record.kind, repr(tuple(payload.values())))
    if step.kind == "violation":
        return ("violation", record.time, record.kind, rename.get(record.source, record.source),
                rename.get(record.target, record.target), record.applied)
    if step.kind == "problem":
        return ("problem", record.time, record.kind)
    if step.kind == "manual":
        return ("manual", record[2], rename.get(record[0], record[0]), rename.get(record[1], record[1]))
    return ("rejected", step.cause.line)


def _step_text(step: Step, rename: dict[str, str], listed: bool = False) -> str:
    """The record for a person; `listed`: under a heading that already says it is a violation."""
    record = step.record
    if step.kind == "action":
        return action_text(record, rename)
    if step.kind == "violation":
        return ("" if listed else "violation ") + f"{record.kind}: {record.message}"
    if step.kind == "problem":
        return f"{record.kind}: {record.message}"
    if step.kind == "manual":
        return f"moved {rename.get(record[0], record[0])} -> {rename.get(record[1], record[1])} by a person"
    return f"line rejected: {record}"


def action_text(record: ActionRecord, rename: dict[str, str] | None = None) -> str:
    rename = rename or {}
    p = record.payload
    if record.kind == "move":
        return f"move {rename.get(p['from'], p['from'])} -> {rename.get(p['to'], p['to'])}"
    if record.kind == "set":
        return f"set {p['field']} = {p['value']!r}"
    if record.kind == "task":
        return f"task \"{p['text']}\"" + (f" due {p['due']}" if p.get("due") else "") + \
            (f" for {p['for']}" if p.get("for") else "")
    if record.kind == "notify":
        return f"notify {p['to']}: \"{p['text']}\""
    return f"emit {p['event']}"


def _step_rule(step: Step) -> str | None:
    record = step.record
    if isinstance(record, ActionRecord):
        return record.rule
    if isinstance(record, RuntimeProblem) and record.rules:
        return record.rules[0]
    return None


def _parting(old_steps: list[Step], new_steps: list[Step], rename: dict[str, str]) -> Parting | None:
    for index in range(max(len(old_steps), len(new_steps))):
        a = old_steps[index] if index < len(old_steps) else None
        b = new_steps[index] if index < len(new_steps) else None
        if a is not None and b is not None and _step_key(a, rename) == _step_key(b, {}):
            continue
        return Parting(a.cause if a else None, b.cause if b else None, _step_rule(a) if a else None,
                       _step_rule(b) if b else None, _step_text(a, rename) if a else None,
                       _step_text(b, {}) if b else None)
    return None


def _multiset_change(old_steps, new_steps, rename, wanted) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, removed) among the steps `wanted` picks, compared by key, described by text."""
    olds = Counter()
    texts = {}
    for step in old_steps:
        if wanted(step):
            key = _step_key(step, rename)
            olds[key] += 1
            texts[key] = f"{_step_text(step, rename, listed=True)} at {iso(step.record.time)}"
    news = Counter()
    for step in new_steps:
        if wanted(step):
            key = _step_key(step, {})
            news[key] += 1
            texts[key] = f"{_step_text(step, {}, listed=True)} at {iso(step.record.time)}"
    added = tuple(texts[k] for k in sorted((news - olds).elements(), key=repr))
    removed = tuple(texts[k] for k in sorted((olds - news).elements(), key=repr))
    return added, removed


def _same_steps(old_steps: list[Step], new_steps: list[Step], rename: dict[str, str]) -> bool:
    """The two sides recorded the same (the hot path: most deals are unchanged; dicts compare in C)."""
    if len(old_steps) != len(new_steps):
        return False
    for a, b in zip(old_steps, new_steps):
        if a.kind == b.kind == "action" and not rename:
            x, y = a.record, b.record
            if x.time != y.time or x.kind != y.kind or x.payload != y.payload:
                return False
        elif _step_key(a, rename) != _step_key(b, {}):
            return False
    return True


def _is_counted_action(step: Step) -> bool:
    return step.kind == "action" and step.record.kind in COUNTED_ACTIONS


def _is_violation(step: Step) -> bool:
    return step.kind == "violation"


def compare_deals(run: PairRun, renames: dict[str, dict[str, str]], funnel: str | None = None) -> list[DealChange]:
    """Every deal whose replay differs, in the plan's order (outcome, path, actions, violations; then id)."""
    olds = {o.deal: o for o in run.old_outcomes}
    news = {o.deal: o for o in run.new_outcomes}
    changes = []
    for deal in sorted(olds.keys() | news.keys()):
        old, new = olds.get(deal), news.get(deal)
        funnel_id = (new or old).funnel
        if funnel is not None and funnel_id != funnel and (old is None or old.funnel != funnel):
            continue
        rename = renames.get(old.funnel, {}) if old is not None else {}
        mapped = _renamed_outcome(old, rename) if old is not None else None
        if old is None or new is None:
            outcome_changed = path_changed = True
        else:
            outcome_changed = (mapped.funnel, mapped.stage, mapped.status, mapped.lost_reason) != \
                (new.funnel, new.stage, new.status, new.lost_reason)
            path_changed = mapped.path != new.path
        old_steps = run.old.steps.get(deal, [])
        new_steps = run.new.steps.get(deal, [])
        if not (outcome_changed or path_changed) and _same_steps(old_steps, new_steps, rename):
            continue            # most deals: nothing to describe, so nothing worded
        added, removed = _multiset_change(old_steps, new_steps, rename, _is_counted_action)
        appeared, vanished = _multiset_change(old_steps, new_steps, rename, _is_violation)
        parting = _parting(old_steps, new_steps, rename)
        if not (outcome_changed or path_changed or added or removed or appeared or vanished):
            continue
        changes.append(DealChange(deal, funnel_id, mapped, new, outcome_changed, path_changed, added, removed,
                                  appeared, vanished, parting))
    return sorted(changes, key=lambda c: (c.rank, c.deal))
