"""The checked model -> what the replay runs: compiled expressions and per-stage dispatch tables.

Compiled once per spec. Each stage gets, in declaration order, its automatic
transitions, the targets a person may move a deal to, and the rules that
apply there by trigger kind (stage-scoped rules and unscoped ones merged:
an unscoped event or change rule applies in every stage, an unscoped timer
in every open stage). The replay looks nowhere else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from ..dsl.model import Action, Funnel, Rule, Spec, Stage, Transition
from ..dsl.render.expr import expr_text
from ..dsl.types import Scope, type_of
from ..stdlib.functions import FUNCTIONS
from .codegen import DEPTH_CAP, ModuleBuilder
from .encode import constant_record, encode_text, payload_head, record_tail
from .values import FieldCodec

Expr = Callable  # a compiled expression: fn(F, st, now, ent, ev)


@dataclass(eq=False)
class CompiledAction:
    kind: str                          # move | set | task | notify | emit
    span: dict
    target: int | None = None          # move: stage index
    because: str | None = None
    field: int | None = None           # set: field index
    value: Expr | None = None          # set: the value; task: the due time
    text: str | None = None            # task, notify
    recipient: str | None = None       # task (for), notify: a literal name
    recipient_field: int | None = None  # ... or the index of the field holding it
    event: str | None = None           # emit
    due_kind: str | None = None        # task: duration (from now) | datetime
    # The record's text, put together around what varies (engine/encode.py): for a move, the text after the
    # record's head by the stage it leaves (filled as met); for the other kinds, the pieces between the values.
    key: tuple[str, str] = ("", "")    # (rule, kind): what the counts of a summary are kept by
    pieces: tuple[str, ...] = ()
    move_texts: dict[int, str] = dataclasses.field(default_factory=dict)   # `field` is a name above


@dataclass(eq=False)
class CompiledRule:
    label: str
    span: dict
    kind: str                          # enter | exit | event | change | after | every | at
    stage: int | None                  # the stage it is scoped to; None: every (open) stage
    subject: str | None                # event name (event); field name (change, at)
    subject_field: int | None          # field index (change, at)
    delay: int                         # after/every: seconds; at: signed offset
    condition: Expr | None
    actions: tuple[CompiledAction, ...]
    index: int
    model: Rule
    # A timer's firing as one generated function fn(replayer, deal, due) (engine/codegen.py `add_timer`).
    fire_code: Callable | None = None


@dataclass(eq=False)
class CompiledTransition:
    label: str
    span: dict
    source: int | None
    target: int
    criterion: Expr | None
    because: str | None
    model: Transition
    key: tuple[str, str] = ("", "")    # (label, "move"): what the counts of a summary are kept by


@dataclass(eq=False)
class CompiledStage:
    id: str
    index: int
    kind: str                          # open | won | lost
    terminal: bool
    reopen: bool
    require: Expr | None
    require_text: str
    auto: tuple[CompiledTransition, ...] = ()
    auto_texts: tuple[str, ...] = ()    # each automatic move's record after its head (engine/encode.py)
    allowed: dict[int, CompiledTransition] = field(default_factory=dict)   # target -> first transition
    enter: tuple[CompiledRule, ...] = ()
    exit: tuple[CompiledRule, ...] = ()
    on_event: dict[str, tuple[CompiledRule, ...]] = field(default_factory=dict)
    on_change: dict[int, tuple[CompiledRule, ...]] = field(default_factory=dict)
    timers: tuple[CompiledRule, ...] = ()
    at_by_field: dict[int, tuple[CompiledRule, ...]] = field(default_factory=dict)
    watched: frozenset[int] = frozenset()            # fields whose change matters here (change, at)
    model: Stage | None = None
    # The automatic transitions as one generated function (engine/codegen.py `add_cascade`): the index in `auto`
    # of the first that holds and whose target admits the deal, or -1. None when the stage has none.
    cascade: Callable | None = None
    # The stage's rule lists, each as one generated function fn(replayer, deal, now, event data or None)
    # (engine/codegen.py `add_rules`): by event name, by changed field, on enter, on exit.
    on_event_code: dict[str, Callable] = field(default_factory=dict)
    on_change_code: dict[int, Callable] = field(default_factory=dict)
    enter_code: Callable | None = None
    exit_code: Callable | None = None
    schedule_code: Callable | None = None     # its timers started, fn(replayer, deal, now) (`add_schedule`)


@dataclass(eq=False)
class EventSchema:
    """A declared event: its data fields, their codecs and defaults (for `emit`)."""

    name: str
    codecs: dict[str, FieldCodec]
    defaults: dict[str, object]
    required: tuple[str, ...]


@dataclass(eq=False)
class CompiledFunnel:
    id: str
    model: Funnel
    stages: tuple[CompiledStage, ...]
    stage_index: dict[str, int]
    start: int
    field_names: tuple[str, ...]
    field_index: dict[str, int]
    codecs: tuple[FieldCodec, ...]
    defaults: tuple
    events: dict[str, EventSchema]
    route: Expr | None
    rule_count: int
    module: ModuleBuilder
    written: tuple[int, ...] = ()      # fields whose JSON form differs from their run-time value (dates)
    visit_texts: dict = field(default_factory=dict)     # (stage, via) -> an outcome's visit text around its times


@dataclass(eq=False)
class CompiledSpec:
    spec: Spec
    funnels: tuple[CompiledFunnel, ...]
    funnel_by_id: dict[str, CompiledFunnel]


def compile_spec(spec: Spec) -> CompiledSpec:
    """Compile every funnel of a checked spec (one without errors)."""
    funnels = tuple(compile_funnel(f) for f in spec.funnels)
    return CompiledSpec(spec, funnels, {f.id: f for f in funnels})


def transition_label(t: Transition) -> str:
    return t.describe()


def compile_funnel(funnel: Funnel) -> CompiledFunnel:
    field_names = tuple(f.name for f in funnel.fields)
    field_index = {name: i for i, name in enumerate(field_names)}
    stage_index = {s.id: s.index for s in funnel.stages}
    module = ModuleBuilder(funnel.id, field_index, funnel.holidays)
    pending: list[tuple[object, str, int]] = []       # (owner, attribute, handle): filled after build

    def expr(owner, attribute: str, node) -> None:
        if node is not None:
            pending.append((owner, attribute, module.add(node)))

    stages = []
    for s in funnel.stages:
        stage = CompiledStage(s.id, s.index, s.kind.value, s.terminal, s.reopen, None,
                              " and ".join(expr_text(r) for r in s.requires), model=s)
        if s.requires:
            pending.append((stage, "require", module.add_all(s.requires)))
        stages.append(stage)

    transitions = []
    for t in funnel.transitions:
        ct = CompiledTransition(transition_label(t), t.span.to_json(),
                                None if t.source is None else stage_index[t.source], stage_index[t.target],
                                None, t.because, t)
        ct.key = (ct.label, "move")
        expr(ct, "criterion", t.criterion)
        transitions.append(ct)

    rules = [_rule(r, funnel, stage_index, field_index, expr) for r in funnel.rules]
    handlers: list[tuple[CompiledStage, str, object, int]] = []     # (stage, its table, the key there, handle)
    route = None
    if funnel.route is not None:
        route_handle = module.add(funnel.route)
    by_stage = _by_stage(transitions, rules)
    for stage in stages:
        _dispatch(stage, stages, *by_stage(stage))
        if stage.auto:
            pending.append((stage, "cascade", module.add_cascade(
                stage.id, [(t.model.criterion, stages[t.target].model.requires, t.model.span) for t in stage.auto])))
        for table, key, listed in [("on_event_code", name, rs) for name, rs in stage.on_event.items()] + \
                [("on_change_code", index, rs) for index, rs in stage.on_change.items()] + \
                [(attribute, None, rs) for attribute, rs in (("enter_code", stage.enter), ("exit_code", stage.exit))
                 if rs]:
            handlers.append((stage, table, key, module.add_rules(listed, min(DEPTH_CAP, len(rules)))))
        if stage.timers:
            pending.append((stage, "schedule_code", module.add_schedule(list(stage.timers))))
    for rule in rules:
        if rule.kind in ("after", "every", "at"):
            pending.append((rule, "fire_code", module.add_timer(
                rule, min(DEPTH_CAP, len(rules)), rule.delay if rule.kind == "every" else None)))
    functions = module.build()
    for owner, attribute, handle in pending:
        setattr(owner, attribute, functions[handle])
    for stage, table, key, handle in handlers:
        if key is None:
            setattr(stage, table, functions[handle])
        else:
            getattr(stage, table)[key] = functions[handle]
    if funnel.route is not None:
        route = functions[route_handle]

    events = {}
    for e in funnel.events:
        codecs = {f.name: FieldCodec(f.name, f.type) for f in e.fields}
        required = tuple(f.name for f in e.fields if not f.type.optional and f.default is None)
        events[e.name] = EventSchema(e.name, codecs, {f.name: f.default for f in e.fields}, required)
    start = funnel.start_stage.index if funnel.start_stage is not None else 0
    codecs = tuple(FieldCodec(f.name, f.type) for f in funnel.fields)
    return CompiledFunnel(
        funnel.id, funnel, tuple(stages), stage_index, start, field_names, field_index, codecs,
        tuple(f.default for f in funnel.fields), events, route, len(rules), module,
        tuple(i for i, codec in enumerate(codecs) if codec.kind in ("datetime", "date")))


def _rule(r: Rule, funnel: Funnel, stage_index: dict[str, int], field_index: dict[str, int], expr) -> CompiledRule:
    event = funnel.event_by_name.get(r.subject) if r.kind == "event" else None
    scope = Scope({f.name: f.type for f in funnel.fields}, tuple(stage_index), r.subject if event else None,
                  event.field_types if event else None, FUNCTIONS)
    actions = tuple(_action(a, stage_index, field_index, expr, scope) for a in r.actions)
    for action in actions:
        _templates(action, r.label, r.span.to_json(), funnel)
    subject_field = field_index.get(r.subject) if r.kind in ("change", "at") else None
    rule = CompiledRule(r.label, r.span.to_json(), r.kind, None if r.stage is None else stage_index[r.stage],
                        r.subject, subject_field, r.delay or 0, None, actions, r.index, r)
    expr(rule, "condition", r.condition)
    return rule


def _action(a: Action, stage_index: dict[str, int], field_index: dict[str, int], expr, scope: Scope) -> CompiledAction:
    action = CompiledAction(a.kind, a.span.to_json())
    if a.kind == "move":
        action.target, action.because = stage_index[a.target], a.because
    elif a.kind == "set":
        action.field = field_index[a.field]
        expr(action, "value", a.value)
    elif a.kind in ("task", "notify"):
        action.text = a.text
        if a.recipient is not None:
            if a.recipient.is_field:
                action.recipient_field = field_index[a.recipient.value]
            else:
                action.recipient = a.recipient.value
        if a.kind == "task" and a.due is not None:
            expr(action, "value", a.due)
            action.due_kind = "duration" if type_of(a.due, scope).kind == "duration" else "datetime"
    elif a.kind == "emit":
        action.event = a.event
    return action


def _templates(action: CompiledAction, label: str, span: dict, funnel: Funnel) -> None:
    """The constant parts of the action's record text; see CompiledAction.pieces and Replayer._act."""
    kind = action.kind
    action.key = (label, kind)
    tail = record_tail(label, span)
    head = payload_head(kind)
    if kind == "set":
        name = funnel.fields[action.field].name
        action.pieces = (f'{head}{{"field": {encode_text(name)}, "value": ', ', "previous": ', "}" + tail)
    elif kind == "task":
        action.pieces = (f'{head}{{"text": {encode_text(action.text)}, "due": ', ', "for": ', "}" + tail)
    elif kind == "notify":
        if action.recipient_field is None:
            action.pieces = (constant_record(kind, {"to": action.recipient, "text": action.text}, label, span),)
        else:
            action.pieces = (head + '{"to": ', f', "text": {encode_text(action.text)}}}' + tail)
    elif kind == "emit":
        action.pieces = (constant_record(kind, {"event": action.event}, label, span),)
    else:
        action.pieces = (tail,)


def move_text(rule: CompiledRule, action: CompiledAction, source: str, goal: str) -> str:
    """A rule's move record after its head, leaving stage `source` (the payload names it)."""
    return constant_record("move", {"from": source, "to": goal, "because": action.because}, rule.label, rule.span)


def _applies(rule: CompiledRule, stage: CompiledStage) -> bool:
    if rule.stage is not None:
        return rule.stage == stage.index
    if rule.kind in ("after", "every", "at"):
        return not stage.terminal
    return True


def _by_stage(transitions: list[CompiledTransition], rules: list[CompiledRule]):
    """stage -> (the transitions and the rules that may apply there), each in declaration order.

    Indexed by stage once, so that a funnel of a thousand stages is not a thousand scans of every
    transition and rule."""
    from_stage: dict[int | None, list[tuple[int, CompiledTransition]]] = {}
    for position, t in enumerate(transitions):
        from_stage.setdefault(t.source, []).append((position, t))
    scoped: dict[int | None, list[CompiledRule]] = {}
    for r in rules:
        scoped.setdefault(r.stage, []).append(r)

    def of(stage: CompiledStage) -> tuple[list[CompiledTransition], list[CompiledRule]]:
        near = sorted(from_stage.get(stage.index, []) + from_stage.get(None, []), key=lambda pair: pair[0])
        return [t for _, t in near], scoped.get(stage.index, []) + scoped.get(None, [])
    return of


def _dispatch(stage: CompiledStage, stages: list[CompiledStage], transitions: list[CompiledTransition],
              rules: list[CompiledRule]) -> None:
    """Fill one stage's tables, in declaration order (`transitions` and `rules`: those that may apply here)."""
    leaves = not stage.terminal or stage.reopen
    auto, allowed = [], {}
    for t in transitions:
        from_here = t.source == stage.index or (t.source is None and not stage.terminal)
        if not from_here or t.target == stage.index:
            continue
        allowed.setdefault(t.target, t)
        if t.model.criterion is not None and leaves:
            auto.append(t)
    stage.auto, stage.allowed = tuple(auto), allowed
    stage.auto_texts = tuple(constant_record("move", {"from": stage.id, "to": stages[t.target].id, "because": t.because},
                                             t.label, t.span) for t in auto)
    here = sorted((r for r in rules if _applies(r, stage)), key=lambda r: r.index)
    stage.enter = tuple(r for r in here if r.kind == "enter")
    stage.exit = tuple(r for r in here if r.kind == "exit")
    stage.timers = tuple(r for r in here if r.kind in ("after", "every", "at"))
    on_event: dict[str, list[CompiledRule]] = {}
    on_change: dict[int, list[CompiledRule]] = {}
    at_by_field: dict[int, list[CompiledRule]] = {}
    for r in here:
        if r.kind == "event":
            on_event.setdefault(r.subject, []).append(r)
        elif r.kind == "change" and r.subject_field is not None:
            on_change.setdefault(r.subject_field, []).append(r)
        elif r.kind == "at" and r.subject_field is not None:
            at_by_field.setdefault(r.subject_field, []).append(r)
    stage.on_event.update((key, tuple(listed)) for key, listed in on_event.items())
    stage.on_change.update((key, tuple(listed)) for key, listed in on_change.items())
    stage.at_by_field.update((key, tuple(listed)) for key, listed in at_by_field.items())
    stage.watched = frozenset(stage.on_change) | frozenset(stage.at_by_field)
