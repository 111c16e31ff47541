"""The resolved model as JSON (`funnel export`), conforming to schemas/spec.schema.json."""
from __future__ import annotations

import datetime as dt

from .model import Funnel, Rule, Spec
from .render.expr import expr_text

SCHEMA_VERSION = 1


def _expr(expr) -> dict | None:
    return None if expr is None else {"text": expr_text(expr), "span": expr.span.to_json()}


def _value(value, kind: str):
    if value is None:
        return None
    if kind in ("datetime", "date"):
        stamp = dt.datetime.fromtimestamp(value, dt.timezone.utc)
        return stamp.date().isoformat() if kind == "date" else stamp.isoformat().replace("+00:00", "Z")
    return value


def _rule(rule: Rule) -> dict:
    actions = []
    for a in rule.actions:
        item = {"kind": a.kind, "span": a.span.to_json()}
        if a.kind == "move":
            item.update(target=a.target, because=a.because)
        elif a.kind == "set":
            item.update(field=a.field, value=_expr(a.value))
        elif a.kind in ("task", "notify"):
            item.update(text=a.text)
            if a.kind == "task":
                item.update(due=_expr(a.due))
            if a.recipient is not None:
                item.update(recipient={"value": a.recipient.value, "field": a.recipient.is_field})
            else:
                item.update(recipient=None)
        elif a.kind == "emit":
            item.update(event=a.event)
        actions.append(item)
    return {
        "name": rule.name, "trigger": rule.kind, "description": rule.describe(), "stage": rule.stage,
        "subject": rule.subject, "delay_seconds": rule.delay, "condition": _expr(rule.condition),
        "actions": actions, "span": rule.span.to_json(),
    }


def funnel_to_json(funnel: Funnel) -> dict:
    return {
        "id": funnel.id,
        "title": funnel.title,
        "extends": list(funnel.extends),
        "currency": funnel.currency,
        "timezone": funnel.timezone,
        "language": funnel.language,
        "value_field": funnel.value_field,
        "route": _expr(funnel.route),
        "holidays": list(funnel.holidays),
        "fields": [
            {"name": f.name, "type": f.type.kind, "options": list(f.type.options), "optional": f.type.optional,
             "default": _value(f.default, f.type.kind), "span": f.span.to_json()}
            for f in funnel.fields
        ],
        "events": [
            {"name": e.name, "fields": [{"name": f.name, "type": f.type.kind, "options": list(f.type.options),
                                         "optional": f.type.optional} for f in e.fields],
             "span": e.span.to_json()}
            for e in funnel.events
        ],
        "stages": [
            {"id": s.id, "title": s.title, "kind": s.kind.value, "start": s.start, "reopen": s.reopen,
             "side": s.side, "probability": s.probability, "sla_seconds": s.sla,
             "requires": [_expr(r) for r in s.requires], "block": s.block, "span": s.span.to_json()}
            for s in funnel.stages
        ],
        "transitions": [
            {"from": t.source, "to": t.target, "automatic": t.automatic, "criterion": _expr(t.criterion),
             "because": t.because, "span": t.span.to_json()}
            for t in funnel.transitions
        ],
        "rules": [_rule(r) for r in funnel.rules],
    }


def spec_to_json(spec: Spec) -> dict:
    return {"schema_version": SCHEMA_VERSION, "file": spec.path,
            "funnels": [funnel_to_json(f) for f in spec.funnels]}
