"""Structural diff of two specs: stages, fields, events, transitions and rules added, removed, changed.

A stage whose id changed but whose title and behaviour did not is a rename,
and the transitions and rules that only changed by that id are not reported.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Funnel, Rule, Stage, Transition
from .render.expr import duration_text, expr_text
from .source import Span


@dataclass(frozen=True)
class Change:
    """One difference. change: added | removed | changed | renamed."""

    change: str
    what: str                  # funnel | stage | field | event | transition | rule | setting
    name: str
    details: tuple[str, ...] = ()
    old_span: Span | None = None
    new_span: Span | None = None

    def to_json(self) -> dict:
        return {"change": self.change, "what": self.what, "name": self.name, "details": list(self.details),
                "old": self.old_span.to_json() if self.old_span else None,
                "new": self.new_span.to_json() if self.new_span else None}

    def describe(self) -> str:
        text = f"{self.change} {self.what} `{self.name}`"
        return text + (": " + "; ".join(self.details) if self.details else "")


def _text(expr) -> str | None:
    return None if expr is None else expr_text(expr)


def _stage_shape(stage: Stage) -> tuple:
    return (stage.kind, stage.start, stage.reopen, stage.side, stage.probability, stage.sla,
            tuple(_text(r) for r in stage.requires))


def _setting_text(label: str, value) -> str:
    """A stage setting as the spec writes it: `sla 2h -> 1d`, `probability 40% -> 60%`, not seconds and shares."""
    if value is None:
        return "(none)"
    if label == "sla":
        return duration_text(value)
    if label == "probability":
        return f"{value * 100:g}%"
    return repr(value)


def _stage_details(old: Stage, new: Stage) -> list[str]:
    details = []
    for label, a, b in (
        ("title", old.title, new.title), ("kind", old.kind.value, new.kind.value), ("start", old.start, new.start),
        ("reopen", old.reopen, new.reopen), ("side", old.side, new.side),
        ("probability", old.probability, new.probability),
        ("sla", old.sla, new.sla),
        ("require", [_text(r) for r in old.requires], [_text(r) for r in new.requires]),
    ):
        if a != b:
            details.append(f"{label} {_setting_text(label, a)} -> {_setting_text(label, b)}" if label != "require"
                           else f"require {' and '.join(a) or '(none)'} -> {' and '.join(b) or '(none)'}")
    return details


def stage_renames(old: Funnel, new: Funnel) -> dict[str, str]:
    """Old id -> new id for stages that only changed their id.

    A titled stage matches the one new stage with its title and behaviour. A
    stage without a title (its title is its id, so the title changes with the
    id) matches the one untitled new stage with its behaviour in its place in
    the declaration order.
    """
    gone = [s for s in old.stages if s.id not in new.stage_by_id]
    came = [s for s in new.stages if s.id not in old.stage_by_id]
    renames: dict[str, str] = {}
    for stage in gone:
        taken = set(renames.values())
        if stage.title != stage.id:
            matches = [s for s in came if s.title == stage.title and _stage_shape(s) == _stage_shape(stage)
                       and s.id not in taken]
        else:
            matches = [s for s in came if s.title == s.id and s.index == stage.index
                       and _stage_shape(s) == _stage_shape(stage) and s.id not in taken]
        if len(matches) == 1:
            renames[stage.id] = matches[0].id
    return renames


def _transition_key(t: Transition, rename: dict[str, str]) -> tuple:
    source = rename.get(t.source, t.source) if t.source else None
    return (source or "any", rename.get(t.target, t.target))


def _rule_key(rule: Rule, rename: dict[str, str]) -> tuple:
    if rule.name:
        return ("name", rule.name)
    stage = rename.get(rule.stage, rule.stage) if rule.stage else None
    return (rule.kind, stage, rule.subject)


def _rule_body(rule: Rule, rename: dict[str, str]) -> tuple:
    actions = tuple(
        (a.kind, rename.get(a.target, a.target) if a.target else None, a.because, a.field, _text(a.value), a.text,
         _text(a.due), (a.recipient.value, a.recipient.is_field) if a.recipient else None, a.event)
        for a in rule.actions
    )
    stage = rename.get(rule.stage, rule.stage) if rule.stage else None
    return (rule.kind, stage, rule.subject, rule.delay, _text(rule.condition), actions)


def _pair_up(old_items, new_items, old_key, new_key):
    """Match items by key, keeping order among items that share one."""
    new_by_key: dict = {}
    for item in new_items:
        new_by_key.setdefault(new_key(item), []).append(item)
    pairs, removed = [], []
    for item in old_items:
        bucket = new_by_key.get(old_key(item))
        if bucket:
            pairs.append((item, bucket.pop(0)))
        else:
            removed.append(item)
    added = [i for bucket in new_by_key.values() for i in bucket]
    return pairs, removed, sorted(added, key=lambda i: i.index)


def _data_changes(old: dict, new: dict) -> list[str]:
    """An event's data fields added, removed or retyped, in the new declaration's order then the old's."""
    out = []
    for name in dict.fromkeys([*new, *old]):
        if name not in old:
            out.append(f"data `{name}: {new[name]}` added")
        elif name not in new:
            out.append(f"data `{name}` removed")
        elif old[name] != new[name]:
            out.append(f"data `{name}` {old[name]} -> {new[name]}")
    return out


def diff_funnels(old: Funnel, new: Funnel) -> list[Change]:
    changes: list[Change] = []
    rename = stage_renames(old, new)
    for label, a, b in (("title", old.title, new.title), ("currency", old.currency, new.currency),
                        ("value", old.value_field, new.value_field), ("route", _text(old.route), _text(new.route)),
                        ("holidays", old.holidays, new.holidays)):
        if a != b:
            changes.append(Change("changed", "setting", label, (f"{a!r} -> {b!r}",), old.span, new.span))

    for stage in old.stages:
        if stage.id in rename:
            target = new.stage_by_id[rename[stage.id]]
            changes.append(Change("renamed", "stage", f"{stage.id} -> {target.id}", (), stage.span, target.span))
        elif stage.id not in new.stage_by_id:
            changes.append(Change("removed", "stage", stage.id, (stage.title,), stage.span, None))
        else:
            details = _stage_details(stage, new.stage_by_id[stage.id])
            if details:
                changes.append(Change("changed", "stage", stage.id, tuple(details), stage.span,
                                      new.stage_by_id[stage.id].span))
    for stage in new.stages:
        if stage.id not in old.stage_by_id and stage.id not in rename.values():
            changes.append(Change("added", "stage", stage.id, (stage.title,), None, stage.span))

    old_fields, new_fields = old.field_by_name, new.field_by_name
    for name, f in old_fields.items():
        g = new_fields.get(name)
        if g is None:
            changes.append(Change("removed", "field", name, (str(f.type),), f.span, None))
        elif (f.type, f.default) != (g.type, g.default):
            changes.append(Change("changed", "field", name, (f"{f.type} = {f.default!r} -> {g.type} = {g.default!r}",),
                                  f.span, g.span))
    changes += [Change("added", "field", name, (str(g.type),), None, g.span)
                for name, g in new_fields.items() if name not in old_fields]

    old_events, new_events = old.event_by_name, new.event_by_name
    for name in old_events.keys() | new_events.keys():
        a, b = old_events.get(name), new_events.get(name)
        if a is None:
            changes.append(Change("added", "event", name, (), None, b.span))
        elif b is None:
            changes.append(Change("removed", "event", name, (), a.span, None))
        elif a.field_types != b.field_types:
            changes.append(Change("changed", "event", name, tuple(_data_changes(a.field_types, b.field_types)),
                                  a.span, b.span))

    # old transitions and rules are keyed after renaming, so a renamed stage's ones pair up
    pairs, removed, added = _pair_up(old.transitions, new.transitions,
                                     lambda t: _transition_key(t, rename), lambda t: _transition_key(t, {}))
    for a, b in pairs:
        details = []
        if _text(a.criterion) != _text(b.criterion):
            details.append(f"criterion {_text(a.criterion) or '(manual)'} -> {_text(b.criterion) or '(manual)'}")
        if a.because != b.because:
            details.append(f"because {a.because!r} -> {b.because!r}")
        if details:
            changes.append(Change("changed", "transition", b.describe(), tuple(details), a.span, b.span))
    changes += [Change("removed", "transition", t.describe(), (_text(t.criterion) or "manual",), t.span, None)
                for t in removed]
    changes += [Change("added", "transition", t.describe(), (_text(t.criterion) or "manual",), None, t.span)
                for t in added]

    pairs, removed, added = _pair_up(old.rules, new.rules,
                                     lambda r: _rule_key(r, rename), lambda r: _rule_key(r, {}))
    for a, b in pairs:
        if _rule_body(a, rename) != _rule_body(b, {}):
            changes.append(Change("changed", "rule", b.name or b.describe(), (f"{a.describe()} -> {b.describe()}",),
                                  a.span, b.span))
    changes += [Change("removed", "rule", r.name or r.describe(), (), r.span, None) for r in removed]
    changes += [Change("added", "rule", r.name or r.describe(), (), None, r.span) for r in added]
    order = {"setting": 0, "stage": 1, "field": 2, "event": 3, "transition": 4, "rule": 5}
    return sorted(changes, key=lambda c: (order[c.what], c.name, c.change))
