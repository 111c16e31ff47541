"""Names -> model: templates merged, stages, fields and events resolved, expressions typed."""
from __future__ import annotations

import datetime as dt

from . import ast, codes
from .diagnostics import Diagnostic, Related
from .gcpause import gc_paused
from .loader import STD_PREFIX, FileSet, _load
from .model import Action, EventType, Field, Funnel, Rule, Spec, Stage, StageKind, Transition
from .parts import Parts, collect_parts, merge, place_stages
from . import type_hints as hints
from .spelling import did_you_mean
from .types import ANY, BOOL, Scope, Type, assignable, field_type, type_of
from ..lang import LANGUAGES
from ..stdlib import dates
from ..stdlib.functions import FUNCTIONS


def literal_value(expr: ast.Expr):
    """The run-time value of a constant expression; raises ValueError when it is not constant."""
    if isinstance(expr, ast.Literal):
        if expr.kind == "date":
            return dt.datetime(expr.value.year, expr.value.month, expr.value.day, tzinfo=dt.timezone.utc).timestamp()
        if expr.kind == "datetime":
            return expr.value.timestamp()
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Literal):
        return -literal_value(expr.operand)
    raise ValueError("not a constant")


class _Templates:
    """Funnel declarations visible from each file, by the name `extends` uses.

    It also remembers, for one resolve, each file's visible names and each funnel's merged parts
    that resolved without a cycle (such a result does not depend on the path that reached it): a
    chain of n funnels extending one another is merged n times, not n * n / 2."""

    def __init__(self, fileset: FileSet):
        self.fileset = fileset
        self._visible: dict[str, dict[str, tuple[str, ast.FunnelDecl]]] = {}
        self.merged: dict[int, tuple] = {}          # id(FunnelDecl) -> (parts, chain, problems)

    def visible(self, key: str) -> dict[str, tuple[str, ast.FunnelDecl]]:
        names = self._visible.get(key)
        if names is None:
            names = self._visible[key] = self._names_visible(key)
        return names

    def _names_visible(self, key: str) -> dict[str, tuple[str, ast.FunnelDecl]]:
        loaded = self.fileset.files[key]
        names: dict[str, tuple[str, ast.FunnelDecl]] = {}
        for decl, target in loaded.imports:
            if target is None or self.fileset.files[target].tree is None:
                continue
            for funnel in self.fileset.files[target].tree.funnels:
                prefix = "std." if decl.std else (decl.alias.name + "." if decl.alias else "")
                names[prefix + funnel.id.name] = (target, funnel)
                names.setdefault(funnel.id.name, (target, funnel))
        if loaded.tree is not None:
            for funnel in loaded.tree.funnels:
                names[funnel.id.name] = (key, funnel)
        return names

    def find(self, key: str, name: ast.Ident) -> tuple[str, ast.FunnelDecl] | Diagnostic:
        names = self.visible(key)
        if name.name in names:
            return names[name.name]
        if name.name.startswith("std."):
            from ..stdlib import template_names

            short = name.name[4:]
            if short in template_names():
                target = _load(self.fileset, f"{STD_PREFIX}{short}.funnel", None, [], None)
                tree = self.fileset.files[target].tree if target else None
                if tree is not None and tree.funnels:
                    match = [f for f in tree.funnels if f.id.name == short] or list(tree.funnels)
                    return target, match[0]
        from ..stdlib import template_names

        candidates = list(names) + [f"std.{n}" for n in template_names()]
        return codes.diagnostic("FNL004", f"unknown template `{name.name}`", name.span,
                                hint=did_you_mean(name.name, candidates) or self._unknown_hint(key, name.name))

    def _unknown_hint(self, key: str, name: str) -> str:
        from ..stdlib import template_names

        if name.startswith("std."):
            return "the standard templates: " + ", ".join(f"`std.{n}`" for n in template_names())
        failed = [decl.target for decl, target in self.fileset.files[key].imports
                  if not decl.std and (target is None or self.fileset.files[target].tree is None)]
        if failed:
            return f"`{failed[0]}` could not be imported (see its error); it may declare `{name}`"
        return "import the file that declares it (`import \"file.funnel\"`), or extend a standard template `std.NAME`"


def resolve_files(fileset: FileSet) -> tuple[Spec | None, list[Diagnostic]]:
    """The Spec of the root file; None when the root could not be parsed."""
    with gc_paused():
        return _resolve_files(fileset)


def _resolve_files(fileset: FileSet) -> tuple[Spec | None, list[Diagnostic]]:
    problems = list(fileset.diagnostics)
    root = fileset.files.get(fileset.root)
    if root is None or root.tree is None:
        return None, problems
    templates = _Templates(fileset)
    funnels, seen = [], {}
    for decl in root.tree.funnels:
        if decl.id.name in seen:
            problems.append(codes.diagnostic("FNL107", f"duplicate funnel `{decl.id.name}`", decl.id.span,
                                             related=[Related(seen[decl.id.name], "first declared here")]))
            continue
        seen[decl.id.name] = decl.id.span
        parts, chain, found = _merged_parts(templates, fileset.root, decl, [])
        problems.extend(found)
        if parts is None:
            continue
        funnel, found = build_funnel(decl, parts, chain)
        problems.extend(found)
        funnels.append(funnel)
    comments = tuple(c for f in fileset.files.values() if f.tree for c in f.tree.comments)
    return Spec(root.source.path, tuple(funnels), fileset.sources, comments), problems


def _merged_parts(templates: _Templates, key: str, decl: ast.FunnelDecl, stack: list[str]):
    known = templates.merged.get(id(decl))
    if known is not None:
        return known
    found = _merge_chain(templates, key, decl, stack)
    if found[0] is not None:
        templates.merged[id(decl)] = found
    return found


def _merge_chain(templates: _Templates, key: str, decl: ast.FunnelDecl, stack: list[str]):
    parts, problems = collect_parts(decl)
    if decl.extends is None:
        return parts, (), problems + place_stages(parts, list(parts.stages.values()))
    found = templates.find(key, decl.extends)
    if isinstance(found, Diagnostic):
        return None, (), problems + [found]
    base_key, base_decl = found
    ident = f"{base_key}:{base_decl.id.name}"
    if ident in stack or base_decl is decl:
        through = "" if base_decl is decl else f" through `{decl.extends.name}`"
        return None, (), problems + [codes.diagnostic(
            "FNL003", f"funnel `{decl.id.name}` extends itself{through}", decl.extends.span,
            hint="a funnel cannot extend a funnel that extends it: move what both share into a third funnel")]
    base, chain, base_problems = _merged_parts(templates, base_key, base_decl, stack + [ident])
    problems.extend(base_problems)
    if base is None:
        return None, (), problems
    merged, merge_problems = merge(base, parts)
    return merged, (base_decl.id.name, *chain), problems + merge_problems


class _Builder:
    """Resolves one funnel's merged declarations into a Funnel."""

    def __init__(self, parts: Parts):
        self.parts = parts
        self.problems: list[Diagnostic] = []
        self.uses: set[str] = set()
        self.fields: dict[str, Type] = {}
        self.stage_ids = tuple(parts.stages)
        self.events: dict[str, dict[str, Type]] = {}

    def report(self, code, message, span, hint=None, related=()):
        self.problems.append(codes.diagnostic(code, message, span, hint=hint, related=related))

    def scope(self, event: str | None = None) -> Scope:
        return Scope(self.fields, self.stage_ids, event, self.events.get(event) if event else None,
                     FUNCTIONS, self.report, self.parts.drop_note)

    def typed(self, expr, scope: Scope, want: Type | None = None, what: str = "a condition"):
        ast.names_read(expr, self.uses)          # for the unused-field check
        found = type_of(expr, scope)
        if want is BOOL and found.kind not in ("bool", "any"):
            self.report("FNL301", f"{what} must be true or false; `{hints.text_of(expr)}` is `{found}`", expr.span,
                        hint=hints.condition_hint(expr, found))
        return found

    def stage_ref(self, ident: ast.Ident) -> bool:
        if ident.name in self.parts.stages:
            return True
        self.report("FNL102", f"unknown stage `{ident.name}`", ident.span,
                    hint=self.parts.drop_note("stage", ident.name) or hints.names_hint(ident.name, self.stage_ids,
                                                                                       "stages"))
        return False

    def field_ref(self, ident: ast.Ident | str, span=None) -> bool:
        name = ident.name if isinstance(ident, ast.Ident) else ident
        self.uses.add(name)
        if name in self.fields:
            return True
        self.report("FNL103", f"unknown field `{name}`", span or ident.span,
                    hint=self.parts.drop_note("field", name) or hints.names_hint(name, self.fields, "fields"))
        return False

    def declare_field(self, decl: ast.FieldDecl, owner: str = "field") -> Field | None:
        ftype = field_type(decl.type)
        if ftype is None:
            self.report("FNL108", f"unknown type `{decl.type.name}`", decl.type.span,
                        hint=did_you_mean(decl.type.name, ("money", "number", "int", "text", "bool", "datetime",
                                                           "date", "duration", "percent"))
                        or "the types are money, number, int, text, bool, datetime, date, duration, percent, "
                           "or an enum of strings")
            return Field(decl.name.name, ANY, None, decl.span)   # known by name, so its uses do not cascade
        default = None
        if decl.default is not None:
            try:
                default = literal_value(decl.default)
            except ValueError:
                self.report("FNL301", "a default must be a constant", decl.default.span)
                return None
            found = type_of(decl.default, Scope({}, ()))
            if ftype.kind == "enum" and isinstance(default, str):
                if default not in ftype.options:
                    self.report("FNL301", f"the default \"{default}\" is not a value of {owner} `{decl.name.name}`",
                                decl.default.span, hint=hints.value_hint(default, ftype.options, decl.name.name))
            elif not assignable(found, ftype):
                self.report("FNL301", f"the default of {owner} `{decl.name.name}` (`{ftype}`) cannot be "
                                      f"`{hints.text_of(decl.default)}` (`{found}`)", decl.default.span,
                            hint=hints.assign_hint(ftype, decl.default, found))
        return Field(decl.name.name, ftype, default, decl.span)


def build_funnel(decl: ast.FunnelDecl, parts: Parts, chain: tuple[str, ...]) -> tuple[Funnel, list[Diagnostic]]:
    b = _Builder(parts)
    fields = [f for f in (b.declare_field(d) for d in parts.fields.values()) if f]
    b.fields = {f.name: f.type for f in fields}
    events = []
    for e in parts.events.values():
        data = tuple(f for f in (b.declare_field(d, "event field") for d in e.fields) if f)
        events.append(EventType(e.name.name, data, e.span))
        b.events[e.name.name] = {f.name: f.type for f in data}

    stages = [_stage(b, s, i) for i, s in enumerate(parts.stages.values())]
    transitions = []
    for i, t in enumerate(parts.transitions):
        ok = (t.from_any or b.stage_ref(t.source)) & b.stage_ref(t.target)
        if t.criterion is not None:
            b.typed(t.criterion, b.scope(), BOOL, f"the criterion of `{t.source.name} -> {t.target.name}`")
        if ok:
            transitions.append(Transition(None if t.from_any else t.source.name, t.target.name, t.criterion,
                                          t.because.value if t.because else None, i, t.span,
                                          t.source.span, t.target.span))
    rule_decls = [(r, s.id.name) for s in parts.stages.values() for r in s.rules] + [(r, None) for r in parts.rules]
    rules = [r for r in (_rule(b, decl, scope, i) for i, (decl, scope) in enumerate(rule_decls)) if r]

    value_field = None
    if parts.value is not None:
        value_field = parts.value.field.name
        if b.field_ref(parts.value.field) and b.fields[value_field].kind not in ("money", "number", "int", "any"):
            b.report("FNL301", f"the value field `{value_field}` must be money or a number, "
                               f"not `{b.fields[value_field]}`", parts.value.field.span,
                     hint="`value` names the field that holds the deal's amount, e.g. `budget: money`")
    if parts.route is not None:
        b.typed(parts.route.condition, b.scope(), BOOL, "a route")
    timezone = _timezone(b, parts.timezone)
    language = _language(b, parts.language)
    title = decl.title.value if decl.title else decl.id.name
    funnel = Funnel(
        id=decl.id.name, title=title,
        currency=parts.currency.code.name if parts.currency else None,
        value_field=value_field,
        route=parts.route.condition if parts.route else None,
        holidays=tuple(d.text for d in parts.holidays.dates) if parts.holidays else (),
        fields=tuple(fields), events=tuple(events), stages=tuple(stages), transitions=tuple(transitions),
        rules=tuple(rules), span=decl.span, extends=chain, field_uses=frozenset(b.uses), timezone=timezone,
        language=language,
    )
    return funnel, b.problems


def _timezone(b: _Builder, decl: ast.TimezoneDecl | None) -> str | None:
    """The declared zone's IANA name, or None (UTC) after reporting one the database does not know."""
    if decl is None:
        return None
    try:
        dates.zone_named(decl.name)
    except dates.ZoneError:
        hint = did_you_mean(decl.name, dates.zone_names()) or "use an IANA name such as `Europe/Moscow` or `UTC`"
        b.report("FNL113", f"unknown time zone `{decl.name}`", decl.name_span, hint=hint)
        return None
    return decl.name


def _language(b: _Builder, decl: ast.LanguageDecl | None) -> str | None:
    """The declared language of the reports, or None (English) after reporting one there is no catalogue for."""
    if decl is None:
        return None
    if decl.name.name not in LANGUAGES:
        hint = did_you_mean(decl.name.name, LANGUAGES) or ""
        b.report("FNL114", f"unknown language `{decl.name.name}`; the reports speak "
                           + ", ".join(f"`{name}`" for name in LANGUAGES), decl.name.span,
                 hint=hint or "write `language ru` for Russian reports, or leave it out for English")
        return None
    return decl.name.name


def _stage(b: _Builder, s: ast.StageDecl, index: int) -> Stage:
    kind = StageKind.WON if s.has("won") else StageKind.LOST if s.has("lost") else StageKind.OPEN
    if s.has("won") and s.has("lost"):
        b.report("FNL210", f"stage `{s.id.name}` is marked both `won` and `lost`", s.id.span,
                 hint="a deal is either won or lost: keep one of the two")
    side = next((f for f in s.flags if f.name == "side"), None)
    if side is not None and (kind is not StageKind.OPEN or s.has("start")):
        what = "the start stage" if kind is StageKind.OPEN else f"a {kind.value} stage"
        b.report("FNL211", f"stage `{s.id.name}` is {what} and cannot be `side`", side.span,
                 hint="`side` marks an open stage off the main path, such as rework: drop it here")
    for expr in s.requires:
        b.typed(expr, b.scope(), BOOL, f"the `require` of stage `{s.id.name}`")
    return Stage(
        id=s.id.name, title=s.title.value if s.title else s.id.name, kind=kind, start=s.has("start"),
        reopen=s.has("reopen"), probability=s.probability.value if s.probability else None,
        sla=s.sla.value if s.sla else None, requires=s.requires, index=index, span=s.span, id_span=s.id.span,
        block=s.block, side=s.has("side") and kind is StageKind.OPEN and not s.has("start"),
    )


def _rule(b: _Builder, r: ast.RuleDecl, scoped_to: str | None, index: int) -> Rule | None:
    trig = r.trigger
    ok = True
    stage = scoped_to
    if trig.stage is not None:
        ok &= b.stage_ref(trig.stage)
        stage = trig.stage.name
    event = None
    if trig.kind == "event":
        event = trig.subject.name
        if event not in b.events:
            b.report("FNL106", f"unknown event `{event}`", trig.subject.span,
                     hint=did_you_mean(event, b.events) or f"declare it: `events {{ {event} {{ … }} }}`")
            ok = False
    elif trig.kind in ("change", "at"):
        ok &= b.field_ref(trig.subject)
        if ok and trig.kind == "at" and b.fields[trig.subject.name].kind not in ("datetime", "date", "any"):
            dates = [name for name, t in b.fields.items() if t.kind in ("datetime", "date")]
            b.report("FNL301", f"`at` needs a date field; `{trig.subject.name}` is "
                               f"`{b.fields[trig.subject.name]}`", trig.subject.span,
                     hint="the date fields here: " + ", ".join(f"`{d}`" for d in dates) if dates
                     else "declare a `datetime` field for the date the timer counts from")
            ok = False
    if trig.kind in ("after", "every") and trig.delay is not None and trig.delay <= 0:
        b.report("FNL301", "a timer's delay must be longer than zero", trig.span,
                 hint="for something to happen as the deal enters the stage, write `on enter`")
        ok = False
    scope = b.scope(event)
    if trig.condition is not None:
        b.typed(trig.condition, scope, BOOL, "a rule's condition")
    actions = []
    for a in r.actions:
        action = _action(b, a, scope)
        ok &= action is not None
        if action is not None:
            actions.append(action)
    if not ok:
        return None
    subject = trig.subject.name if trig.subject else None
    return Rule(r.name.name if r.name else None, trig.kind, stage, subject, trig.delay, trig.condition,
                tuple(actions), index, r.span, trig.span)


def _action(b: _Builder, a, scope: Scope) -> Action | None:
    if isinstance(a, ast.MoveAction):
        if not b.stage_ref(a.target):
            return None
        return Action("move", a.span, target=a.target.name, because=a.because.value if a.because else None)
    if isinstance(a, ast.SetAction):
        if not b.field_ref(a.field):
            b.typed(a.value, scope)
            return None
        target = b.fields[a.field.name]
        found = b.typed(a.value, scope, None)
        if isinstance(a.value, ast.Literal) and a.value.kind == "string" and target.kind == "enum":
            found = Type("enum", (a.value.value,))
            if a.value.value not in target.options:
                b.report("FNL301", f"\"{a.value.value}\" is not a value of `{a.field.name}`", a.value.span,
                         hint=hints.value_hint(a.value.value, target.options, a.field.name))
                return None
        if not assignable(found, target.required if found.kind != "null" else target):
            b.report("FNL301", f"cannot set `{a.field.name}` (`{target}`) to `{hints.text_of(a.value)}` (`{found}`)",
                     a.value.span, hint=hints.assign_hint(target, a.value, found))
            return None
        return Action("set", a.span, field=a.field.name, value=a.value)
    if isinstance(a, (ast.TaskAction, ast.NotifyAction)):
        recipient = a.assignee if isinstance(a, ast.TaskAction) else a.recipient
        if recipient is not None and recipient.is_field and not b.field_ref(recipient.value, recipient.span):
            return None
        if isinstance(a, ast.TaskAction):
            if a.due is not None:
                due = b.typed(a.due, scope)
                if due.kind not in ("duration", "datetime", "date", "any"):
                    b.report("FNL301", f"a task is due after a duration or at a date; `{hints.text_of(a.due)}` is "
                                       f"`{due}`", a.due.span,
                             hint="write `due 1d` (a day from now) or `due meeting_at - 1d` (a date)")
                    return None
            return Action("task", a.span, text=a.text.value, due=a.due, recipient=recipient)
        return Action("notify", a.span, text=a.text.value, recipient=recipient)
    if isinstance(a, ast.EmitAction):
        if a.event.name not in b.events:
            b.report("FNL106", f"unknown event `{a.event.name}`", a.event.span,
                     hint=did_you_mean(a.event.name, b.events) or "declare it in `events { … }`")
            return None
        return Action("emit", a.span, event=a.event.name)
    raise TypeError(type(a).__name__)
