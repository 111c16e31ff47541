"""The checked model: names resolved, templates merged, expressions typed.

Expressions stay as AST nodes (typed by dsl/types.py during resolution);
everything else is plain values. The linter and the engine read only this.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from functools import cached_property, wraps

from . import ast
from .source import Source, Span
from .types import Type


class StageKind(enum.Enum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    default: object            # a run-time value (see stdlib/functions.py), None when unset
    span: Span


@dataclass(frozen=True)
class EventType:
    name: str
    fields: tuple[Field, ...]
    span: Span

    @cached_property
    def field_types(self) -> dict[str, Type]:
        return {f.name: f.type for f in self.fields}


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    kind: StageKind
    start: bool
    reopen: bool
    probability: float | None
    sla: int | None            # seconds
    requires: tuple[ast.Expr, ...]
    index: int
    span: Span
    id_span: Span
    block: str | None = None   # the title of the `block` the stage is grouped in
    side: bool = False         # off the funnel's main path (a rework or waiting stage): figures shown apart

    @property
    def terminal(self) -> bool:
        return self.kind is not StageKind.OPEN

    @property
    def is_open(self) -> bool:
        return self.kind is StageKind.OPEN


@dataclass(frozen=True)
class Transition:
    source: str | None         # None for `any ->`
    target: str
    criterion: ast.Expr | None
    because: str | None
    index: int
    span: Span
    source_span: Span
    target_span: Span

    @property
    def automatic(self) -> bool:
        return self.criterion is not None

    def describe(self) -> str:
        return f"{self.source or 'any'} -> {self.target}"


@dataclass(frozen=True)
class Action:
    """kind: move | set | task | notify | emit."""

    kind: str
    span: Span
    target: str | None = None          # move: the stage
    because: str | None = None         # move
    field: str | None = None           # set
    value: ast.Expr | None = None      # set
    text: str | None = None            # task, notify
    due: ast.Expr | None = None        # task: a duration (from now) or a datetime
    recipient: ast.Recipient | None = None   # task (for), notify
    event: str | None = None           # emit


@dataclass(frozen=True)
class Rule:
    """A trigger and its actions.

    kind: enter | exit | event | change | after | every | at.
    stage: the stage the rule is scoped to (None: every stage for event/change,
    every open stage for timers). subject: event name or field name.
    delay: seconds (after, every) or the signed offset (at).
    """

    name: str | None
    kind: str
    stage: str | None
    subject: str | None
    delay: int | None
    condition: ast.Expr | None
    actions: tuple[Action, ...]
    index: int
    span: Span
    trigger_span: Span

    @property
    def is_timer(self) -> bool:
        return self.kind in ("after", "every", "at")

    def describe(self) -> str:
        from .render.expr import describe_trigger
        return describe_trigger(self)

    @cached_property
    def label(self) -> str:
        """How reports, traces and diffs name the rule: its name, or its trigger and actions
        (`after 30d in proposal: move to lost`), which say more than where it is written."""
        from .render.expr import default_rule_name
        return self.name or default_rule_name(self)


@dataclass(frozen=True)
class Funnel:
    id: str
    title: str
    currency: str | None
    value_field: str | None
    route: ast.Expr | None
    holidays: tuple[str, ...]          # ISO dates
    fields: tuple[Field, ...]
    events: tuple[EventType, ...]
    stages: tuple[Stage, ...]
    transitions: tuple[Transition, ...]
    rules: tuple[Rule, ...]
    span: Span
    extends: tuple[str, ...] = ()      # the template chain, nearest first
    field_uses: frozenset[str] = frozenset()   # fields read or written anywhere
    timezone: str | None = None        # IANA name the reports cut days in (`timezone Europe/Moscow`); None: UTC
    language: str | None = None        # the reports' words (`language ru`); None: English unless --lang says

    @cached_property
    def stage_by_id(self) -> dict[str, Stage]:
        return {s.id: s for s in self.stages}

    @cached_property
    def field_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def event_by_name(self) -> dict[str, EventType]:
        return {e.name: e for e in self.events}

    @cached_property
    def start_stage(self) -> Stage | None:
        starts = [s for s in self.stages if s.start]
        return starts[0] if starts else None

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)

    def __getstate__(self) -> dict:
        # Only the fields: what `cached_property` and `per_funnel` remember is derived, and not pickled
        # (dsl/analysis_cache.py keeps checked specs on disk).
        return {f.name: self.__dict__[f.name] for f in fields(self)}


def per_funnel(fn):
    """Remember `fn(funnel, *args)` on the funnel: computed once per funnel and arguments.

    For what the checks derive from a funnel (its stage graph, overlaps, terms).
    Not `lru_cache`: that hashes its arguments, and a frozen funnel's hash is
    the hash of its whole model, every stage, transition and rule, on every
    call; on a spec of 1,000 stages that cost more than the checks. Kept in
    the funnel's `__dict__`, as `cached_property` keeps its values: fields,
    equality and hash are untouched, and it goes when the funnel goes."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def remembered(funnel, *args):
        memo = funnel.__dict__.get("_per_funnel")
        if memo is None:
            memo = funnel.__dict__["_per_funnel"] = {}
        key = (name, *args)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(funnel, *args)
            return value

    return remembered


@dataclass(frozen=True)
class Spec:
    """Every funnel of a file and its imports, with the sources for quoting diagnostics."""

    path: str
    funnels: tuple[Funnel, ...]
    sources: dict[str, Source] = field(default_factory=dict, compare=False, repr=False)
    comments: tuple[ast.Comment, ...] = field(default=(), compare=False, repr=False)

    @cached_property
    def funnel_by_id(self) -> dict[str, Funnel]:
        return {f.id: f for f in self.funnels}
