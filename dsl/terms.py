"""What a condition can name (the terms dsl/satisfy.py reasons about), and examples written as the language writes them."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from .domains import ANY_VALUE, Term
from .model import per_funnel
from .render.expr import duration_text
from .types import NUMERIC, Type

TIME_STEPS = (86400, 3600, 60, 1)     # a day, an hour, a minute, a second


def term_for(name: str, ftype: Type) -> Term | None:
    if ftype.kind in ("duration", "datetime", "date"):
        return Term(name, "number", ftype.optional, shown_as=ftype.kind, steps=TIME_STEPS)
    if ftype.kind in NUMERIC:
        steps = (0.01, 0.001) if ftype.kind == "percent" else (1, 0.01)
        return Term(name, "number", ftype.optional, integral=ftype.kind == "int", shown_as=ftype.kind, steps=steps)
    if ftype.kind in ("text", "enum", "stage"):
        universe = frozenset(ftype.options) if ftype.kind in ("enum", "stage") else None
        return Term(name, "text", ftype.optional, universe=universe, shown_as=ftype.kind)
    if ftype.kind == "bool":
        return Term(name, "bool", ftype.optional, shown_as="bool")
    return None


@per_funnel
def funnel_terms(funnel, event: str | None = None) -> dict[str, Term]:
    """What a condition in `funnel` can name: its fields, `stage`, `now`, `time_in_stage`, and `event.X`.

    Remembered per funnel and event: read-only for its callers."""
    types = {"stage": Type("stage", tuple(s.id for s in funnel.stages)), "now": Type("datetime"),
             "time_in_stage": Type("duration")}
    types.update({f.name: f.type for f in funnel.fields})
    if event is not None and event in funnel.event_by_name:
        types.update({f"event.{f.name}": f.type for f in funnel.event_by_name[event].fields})
    terms = {name: term_for(name, t) for name, t in types.items()}
    return {name: term for name, term in terms.items() if term is not None}


def value_text(value, term: Term) -> str:
    """A run-time value as the language writes it, for examples in messages."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if term.shown_as == "duration" and float(value).is_integer() and value > 0:
        return duration_text(int(value))
    if term.shown_as in ("datetime", "date"):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d")
    if term.shown_as == "percent":
        return f"{value * 100:g}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def example_text(verdict, terms: Mapping[str, Term]) -> str:
    """`segment` = "target", `budget` = 101, `meeting_at` is set"""
    def one(name: str, value) -> str:
        if value is None:
            return f"`{name}` is not set"
        if value is ANY_VALUE:
            return f"`{name}` is set"
        return f"`{name}` = {value_text(value, terms[name])}"

    return ", ".join(one(name, value) for name, value in verdict.example if name in terms)
