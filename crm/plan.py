"""What `funnel export --to CRM` prints: the API requests in order, and per stage what an admin sets by hand."""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """One API call; `{name}` placeholders in path or body are ids an earlier request returns."""

    method: str
    path: str
    body: object
    why: str


@dataclass(frozen=True)
class Plan:
    crm: str
    requests: tuple[Request, ...]
    checklist: tuple[tuple[str, str], ...]     # (stage title, what to set up there, in the CRM's words)

    def to_json(self) -> dict:
        return {"crm": self.crm,
                "requests": [{"method": r.method, "path": r.path, "body": r.body, "why": r.why}
                             for r in self.requests],
                "checklist": [{"stage": s, "do": d} for s, d in self.checklist]}

    def to_text(self) -> str:
        out = [f"# {len(self.requests)} request(s) to review before applying them in {self.crm}"]
        for n, r in enumerate(self.requests, 1):
            out += ["", f"{n}. {r.method} {r.path}    # {r.why}",
                    json.dumps(r.body, ensure_ascii=False, indent=2)]
        if self.checklist:
            out += ["", "# Set up by hand (the API cannot):"]
            out += [f"- [ ] {stage}: {item}" for stage, item in self.checklist]
        return "\n".join(out) + "\n"


def rule_text(spec, rule) -> str:
    """A rule as the spec writes it (its source text, one line), for a person to rebuild in the CRM."""
    source = spec.sources.get(rule.span.file)
    text = source.text[rule.span.start:rule.span.end] if source is not None and rule.span.end else rule.kind
    return " ".join(text.split())


def checklist(spec, funnel, automation: str, extra=None) -> list[tuple[str, str]]:
    """Each stage's rules, deadline and required fields, as items under the CRM's name for them.

    `automation` is the CRM's word for its automations ("Digital Pipeline", "robots"...); `extra(stage)`
    gives more items a CRM needs (a probability it cannot store).
    """
    out = []
    for stage in funnel.stages:
        rules = [r for r in funnel.rules if r.stage == stage.id]
        for rule in rules:
            out.append((stage.title, f"{automation}: {rule_text(spec, rule)}"))
        if stage.requires:
            out.append((stage.title, f"{automation}: required before entering the stage: "
                                     + ", ".join(_expr(spec, e) for e in stage.requires)))
        if stage.sla:
            out.append((stage.title, f"{automation}: deal idle longer than {_days(stage.sla)} (sla)"))
        out += [(stage.title, item) for item in (extra(stage) if extra else ())]
    return out


def _expr(spec, expr) -> str:
    span = getattr(expr, "span", None)
    source = spec.sources.get(span.file) if span is not None else None
    return " ".join(source.text[span.start:span.end].split()) if source is not None and span.end else "condition"


def _days(seconds: int) -> str:
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds // 3600}h"


def percent(probability: float | None) -> int | None:
    return None if probability is None else round(probability * 100)


def plans(crm: str, spec, funnel_id: str | None = None) -> list[Plan]:
    """One plan per funnel of `spec` (or the one named), for `crm`; ValueError names an unknown funnel."""
    from . import module
    from ..dsl.spelling import closest

    funnels = list(spec.funnels)
    if funnel_id is not None:
        if funnel_id not in spec.funnel_by_id:
            near = closest(funnel_id, spec.funnel_by_id)
            hint = f"; did you mean `{near}`?" if near else f"; its funnels are {', '.join(spec.funnel_by_id)}"
            raise ValueError(f"no funnel `{funnel_id}` in the spec{hint}")
        funnels = [spec.funnel_by_id[funnel_id]]
    return [module(crm).plan(spec, funnel) for funnel in funnels]
