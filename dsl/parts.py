"""A funnel's declarations gathered by kind, and templates merged into the funnels that extend them."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import ast, codes
from .diagnostics import Diagnostic, Related
from .spelling import did_you_mean


@dataclass
class Parts:
    """What one funnel declares, by kind, in declaration order."""

    currency: ast.CurrencyDecl | None = None
    timezone: ast.TimezoneDecl | None = None
    language: ast.LanguageDecl | None = None
    value: ast.ValueDecl | None = None
    route: ast.RouteDecl | None = None
    holidays: ast.HolidaysDecl | None = None
    fields: dict[str, ast.FieldDecl] = field(default_factory=dict)
    events: dict[str, ast.EventDecl] = field(default_factory=dict)
    stages: dict[str, ast.StageDecl] = field(default_factory=dict)
    transitions: list[ast.TransitionDecl] = field(default_factory=list)
    rules: list[ast.RuleDecl] = field(default_factory=list)
    drops: list[ast.DropDecl] = field(default_factory=list)
    dropped: dict[str, ast.DropDecl] = field(default_factory=dict)   # "stage:meeting" -> the drop that removed it

    def copy(self) -> "Parts":
        return replace(self, fields=dict(self.fields), events=dict(self.events), stages=dict(self.stages),
                       transitions=list(self.transitions), rules=list(self.rules), drops=list(self.drops),
                       dropped=dict(self.dropped))

    def drop_note(self, kind: str, name: str) -> str | None:
        """A hint for a name that a `drop` removed: where, and what to do."""
        drop = self.dropped.get(f"{kind}:{name}")
        if drop is None:
            return None
        return (f"{kind} `{name}` is dropped at {drop.span.label()}: "
                f"drop or change what still refers to it, or keep the {kind}")


def _duplicate(code: str, what: str, name: str, new, old) -> Diagnostic:
    return codes.diagnostic(code, f"duplicate {what} `{name}`", new.span,
                            related=[Related(old.span, f"`{name}` is first declared here")],
                            hint=f"rename one of them, or remove this {what}")


def collect_parts(decl: ast.FunnelDecl) -> tuple[Parts, list[Diagnostic]]:
    parts, problems = Parts(), []
    named_rules: dict[str, ast.RuleDecl] = {}

    def add_rule(rule: ast.RuleDecl) -> None:
        if rule.name is not None:
            if rule.name.name in named_rules:
                problems.append(_duplicate("FNL111", "rule", rule.name.name, rule.name, named_rules[rule.name.name]))
                return
            named_rules[rule.name.name] = rule
        parts.rules.append(rule)

    def add_stage(stage: ast.StageDecl) -> None:
        if stage.id.name in parts.stages:
            problems.append(_duplicate("FNL101", "stage", stage.id.name, stage.id, parts.stages[stage.id.name].id))
        else:
            parts.stages[stage.id.name] = stage
        for rule in stage.rules:
            if rule.name is None:
                continue
            if rule.name.name in named_rules:
                problems.append(_duplicate("FNL111", "rule", rule.name.name, rule.name, named_rules[rule.name.name]))
            else:
                named_rules[rule.name.name] = rule

    for item in decl.items:
        kind = type(item)
        if kind is ast.CurrencyDecl:
            parts.currency = item
        elif kind is ast.TimezoneDecl:
            parts.timezone = item
        elif kind is ast.LanguageDecl:
            parts.language = item
        elif kind is ast.ValueDecl:
            parts.value = item
        elif kind is ast.RouteDecl:
            parts.route = item
        elif kind is ast.HolidaysDecl:
            parts.holidays = item
        elif kind is ast.FieldsBlock:
            for f in item.fields:
                if f.name.name in parts.fields:
                    problems.append(_duplicate("FNL104", "field", f.name.name, f.name, parts.fields[f.name.name].name))
                else:
                    parts.fields[f.name.name] = f
        elif kind is ast.EventsBlock:
            for e in item.events:
                if e.name.name in parts.events:
                    problems.append(_duplicate("FNL110", "event", e.name.name, e.name, parts.events[e.name.name].name))
                else:
                    parts.events[e.name.name] = e
        elif kind is ast.StageDecl:
            add_stage(item)
        elif kind is ast.BlockDecl:
            for stage in item.stages:
                add_stage(stage)
        elif kind is ast.TransitionDecl:
            parts.transitions.append(item)
        elif kind is ast.RuleDecl:
            add_rule(item)
        elif kind is ast.DropDecl:
            parts.drops.append(item)
    return parts, problems


def merge(base: Parts, child: Parts) -> tuple[Parts, list[Diagnostic]]:
    """The child's declarations over the template's: same names replace, new ones are added."""
    merged, problems = base.copy(), []
    for drop in child.drops:
        problems.extend(_apply_drop(merged, drop))
    for attr in ("currency", "timezone", "language", "value", "route", "holidays"):
        if getattr(child, attr) is not None:
            setattr(merged, attr, getattr(child, attr))
    merged.fields.update(child.fields)
    merged.events.update(child.events)
    for stage_id, stage in child.stages.items():
        # a replacing stage keeps the template's place, and so its block, unless it names one
        inherited = merged.stages.get(stage_id)
        if inherited is not None and stage.block is None and inherited.block is not None:
            stage = replace(stage, block=inherited.block)
        merged.stages[stage_id] = stage
    merged.stages = _new_stages_before_ends(merged.stages, set(base.stages))
    problems.extend(place_stages(merged, child.stages.values()))
    replaced = {(t.source.name, t.target.name) for t in child.transitions}
    merged.transitions = [t for t in merged.transitions if (t.source.name, t.target.name) not in replaced]
    merged.transitions.extend(child.transitions)
    child_names = {r.name.name for r in child.rules if r.name is not None}
    child_names |= {r.name.name for s in child.stages.values() for r in s.rules if r.name is not None}
    merged.rules = [r for r in merged.rules if r.name is None or r.name.name not in child_names]
    for stage_id, stage in list(merged.stages.items()):
        if stage_id not in child.stages and any(r.name and r.name.name in child_names for r in stage.rules):
            kept = tuple(r for r in stage.rules if r.name is None or r.name.name not in child_names)
            merged.stages[stage_id] = replace(stage, rules=kept)
    merged.rules.extend(child.rules)
    merged.drops = []
    return merged, problems


def _is_terminal(stage: ast.StageDecl) -> bool:
    return stage.has("won") or stage.has("lost")


def _new_stages_before_ends(stages: dict[str, ast.StageDecl], inherited: set[str]) -> dict[str, ast.StageDecl]:
    """An extending funnel's new open stages go after the template's open ones, before its won and lost."""
    order = [i for i in stages if i in inherited]
    added = [i for i in stages if i not in inherited]
    ends = next((n for n, i in enumerate(order) if _is_terminal(stages[i])), len(order))
    order[ends:ends] = [i for i in added if not _is_terminal(stages[i])]
    order += [i for i in added if _is_terminal(stages[i])]
    return {i: stages[i] for i in order}


def place_stages(parts: Parts, stages) -> list[Diagnostic]:
    """Move each stage declared `before X` or `after X` to its place in the order of stages."""
    problems = []
    for stage in stages:
        anchor = stage.before or stage.after
        if anchor is None or stage.id.name not in parts.stages:
            continue
        if anchor.name == stage.id.name or anchor.name not in parts.stages:
            others = [i for i in parts.stages if i != stage.id.name]
            problems.append(codes.diagnostic(
                "FNL102", f"unknown stage `{anchor.name}` to place stage `{stage.id.name}` "
                          f"{'before' if stage.before else 'after'}", anchor.span,
                hint=did_you_mean(anchor.name, others) or "name a stage of this funnel or of its template"))
            continue
        order = [i for i in parts.stages if i != stage.id.name]
        at = order.index(anchor.name) + (0 if stage.before else 1)
        order.insert(at, stage.id.name)
        parts.stages = {i: parts.stages[i] for i in order}
    return problems


def _apply_drop(parts: Parts, drop: ast.DropDecl) -> list[Diagnostic]:
    name = drop.name.name
    if drop.kind == "stage":
        if name not in parts.stages:
            return [codes.diagnostic("FNL102", f"unknown stage `{name}` to drop", drop.name.span,
                                     hint=did_you_mean(name, parts.stages))]
        del parts.stages[name]
        parts.dropped[f"stage:{name}"] = drop
        parts.transitions = [t for t in parts.transitions if name not in (t.source.name, t.target.name)]
        parts.rules = [r for r in parts.rules if r.trigger.stage is None or r.trigger.stage.name != name]
    elif drop.kind == "field":
        if name not in parts.fields:
            return [codes.diagnostic("FNL103", f"unknown field `{name}` to drop", drop.name.span,
                                     hint=did_you_mean(name, parts.fields))]
        del parts.fields[name]
        parts.dropped[f"field:{name}"] = drop
    elif drop.kind == "rule":
        before = len(parts.rules)
        parts.rules = [r for r in parts.rules if r.name is None or r.name.name != name]
        found = len(parts.rules) != before
        for stage_id, stage in list(parts.stages.items()):
            kept = tuple(r for r in stage.rules if r.name is None or r.name.name != name)
            if len(kept) != len(stage.rules):
                parts.stages[stage_id] = replace(stage, rules=kept)
                found = True
        if not found:
            named = [r.name.name for r in parts.rules if r.name] + \
                    [r.name.name for s in parts.stages.values() for r in s.rules if r.name]
            return [codes.diagnostic("FNL112", f"no rule named `{name}` to drop", drop.name.span,
                                     hint=did_you_mean(name, named) or (
                                         "the named rules: " + ", ".join(f"`{n}`" for n in named) if named
                                         else "only a named rule (`rule NAME on …`) can be dropped"))]
    elif drop.kind == "transition":
        target = drop.target.name
        kept = [t for t in parts.transitions if (t.source.name, t.target.name) != (name, target)]
        if len(kept) == len(parts.transitions):
            same_source = [f"`{t.source.name} -> {t.target.name}`" for t in parts.transitions if t.source.name == name]
            return [codes.diagnostic("FNL112", f"no transition `{name} -> {target}` to drop", drop.span,
                                     hint=f"the transitions from `{name}`: {', '.join(same_source)}" if same_source
                                     else f"no transition leaves `{name}`")]
        parts.transitions = kept
    return []
