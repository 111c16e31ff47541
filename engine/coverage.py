"""Rule coverage: how often each stage, transition, rule and timer of a spec was reached on a replayed stream.

`CountingReplayer` is engine/replay.py's `Replayer` with its steps counted
(the plain replay pays nothing: only `funnel simulate --coverage` uses this
one). Counted:

- a stage: each time a deal enters it (its first stage on `created` too);
- a transition: each move it made, automatic or by a person it allowed;
- a rule: each time it ran (its condition held and its actions started);
- a timer rule likewise, and also each time it was due, whether or not its condition held.

Transitions with the same source and target are counted together (the
replay knows a transition by `source -> target`).

Whatever was never reached is "dead automation on this history": a rule or
transition the stream never exercised, often a mistake or an idea worth a test.
"""
from __future__ import annotations

import os

from collections import Counter
from dataclasses import dataclass

from ..dsl.loader import STD_PREFIX
from ..dsl.render.safe_text import for_terminal
from .replay import Replayer
from .trace import replay_all

TIMER_KINDS = ("after", "every", "at")


class CountingReplayer(Replayer):
    def __init__(self, spec, **options):
        super().__init__(spec, **options)
        self.entered: Counter = Counter()        # (funnel, stage index)
        self.moved: Counter = Counter()          # (funnel, transition label, via)
        self.ran: Counter = Counter()            # (funnel, rule index)
        self.fired: Counter = Counter()          # (funnel, rule index): timers

    def _enter_first(self, deal, now: float) -> None:
        self.entered[deal.funnel.id, deal.stage] += 1
        super()._enter_first(deal, now)

    def _move(self, deal, target: int, now: float, via: str, reason, label) -> None:
        funnel = deal.funnel
        self.entered[funnel.id, target] += 1
        if via == "auto":
            self.moved[funnel.id, label, via] += 1
        elif via == "manual":
            allowed = funnel.stages[deal.stage].allowed.get(target)
            if allowed is not None:                  # a move made anyway (--moves record) has no transition
                self.moved[funnel.id, allowed.label, via] += 1
        super()._move(deal, target, now, via, reason, label)

    def _fire(self, deal, due: float, rule) -> None:
        self.fired[deal.funnel.id, rule.index] += 1
        super()._fire(deal, due, rule)

    def _run_actions(self, deal, rule, now: float, ev) -> None:
        self.ran[deal.funnel.id, rule.index] += 1
        super()._run_actions(deal, rule, now, ev)


@dataclass(frozen=True)
class Item:
    """One thing of the spec and how often it was reached. kind: stage | transition | rule | timer."""

    kind: str
    funnel: str
    name: str
    file: str
    line: int
    count: int
    detail: dict

    def to_json(self) -> dict:
        return {"kind": self.kind, "funnel": self.funnel, "name": self.name, "file": self.file,
                "line": self.line, "count": self.count, **self.detail}


def measure_coverage(spec, lines, *, until: float | None = None, moves: str = "enforce",
                     lenient: bool = False) -> list[Item]:
    """Replay the lines of a stream and count what each part of `spec` (a CompiledSpec) did."""
    replayer = CountingReplayer(spec, moves=moves, lenient=lenient)
    end = replay_all(replayer, lines, until)
    replayer.finish(end)
    return coverage_items(spec, replayer)


def coverage_items(spec, counted: CountingReplayer) -> list[Item]:
    items: list[Item] = []
    for funnel in spec.funnels:
        model = funnel.model
        for stage in model.stages:
            items.append(Item("stage", funnel.id, stage.id, stage.span.file, stage.span.line,
                              counted.entered[funnel.id, stage.index], {}))
        for t in model.transitions:
            label = t.describe()
            auto, manual = counted.moved[funnel.id, label, "auto"], counted.moved[funnel.id, label, "manual"]
            items.append(Item("transition", funnel.id, label, t.span.file, t.span.line, auto + manual,
                              {"auto": auto, "manual": manual}))
        for rule in model.rules:
            ran = counted.ran[funnel.id, rule.index]
            name = rule.name or rule.describe()
            if rule.kind in TIMER_KINDS:
                fired = counted.fired[funnel.id, rule.index]
                items.append(Item("timer", funnel.id, name, rule.span.file, rule.span.line, ran,
                                  {"trigger": rule.kind, "label": rule.label, "due": fired}))
            else:
                items.append(Item("rule", funnel.id, name, rule.span.file, rule.span.line, ran,
                                  {"trigger": rule.kind, "label": rule.label}))
    return items


def never_reached(items: list[Item]) -> list[Item]:
    return [item for item in items if item.count == 0]


def _count_words(item: Item) -> str:
    if item.kind == "stage":
        return f"entered {item.count}"
    if item.kind == "transition":
        return f"made {item.count} (auto {item.detail['auto']}, by hand {item.detail['manual']})"
    if item.kind == "timer":
        return f"ran {item.count} (due {item.detail['due']})"
    return f"ran {item.count}"


@for_terminal
def coverage_text(items: list[Item], source: str) -> str:
    reached = len(items) - len(never_reached(items))
    out = [f"coverage on {source}: {reached} of {len(items)} stages, transitions and rules reached"]
    for kind, title in (("stage", "stages"), ("transition", "transitions"), ("rule", "rules"), ("timer", "timers")):
        group = [i for i in items if i.kind == kind]
        if not group:
            continue
        out.append(f"{title}:")
        width = max(len(i.name) for i in group)
        words = [_count_words(i) for i in group]
        counts = max(map(len, words))
        for i, said in zip(group, words):
            out.append(f"  {i.name:<{width}}  {said:<{counts}}  {i.file}:{i.line}")
    dead = never_reached(items)
    if dead:
        out.append("dead automation on this history (never reached):")
        out += [f"  {i.kind} `{i.name}`  {i.file}:{i.line}" for i in dead]
    return "\n".join(out) + "\n"


def coverage_json(items: list[Item], source: str) -> dict:
    dead = never_reached(items)
    return {"events": source, "items": [i.to_json() for i in items],
            "reached": len(items) - len(dead), "total": len(items),
            "never": [{"kind": i.kind, "name": i.name, "file": i.file, "line": i.line} for i in dead]}


def coverage_lcov(items: list[Item]) -> str:
    """LCOV tracefile lines (SF/DA/LF/LH), one record per spec file: editors shade each declaration's line.

    A line holding several things (a stage and its rules) counts their sum. A standard
    template's lines are recorded against the template's file where the package is
    installed: a funnel made by `funnel new` is all template, and its tracefile
    would otherwise be empty.
    """
    files: dict[str, Counter] = {}
    for item in items:
        file = _template_file(item.file) if item.file.startswith(STD_PREFIX) else item.file
        if file is None:
            continue
        lines = files.setdefault(file, Counter())
        lines[item.line] += item.count
    out = []
    for file in sorted(files):
        lines = files[file]
        out += ["TN:funnel", f"SF:{file}"]
        out += [f"DA:{line},{count}" for line, count in sorted(lines.items())]
        out += [f"LF:{len(lines)}", f"LH:{sum(1 for c in lines.values() if c)}", "end_of_record"]
    return "\n".join(out) + ("\n" if out else "")


def _template_file(key: str) -> str | None:
    """`<stdlib>/b2b_classic.funnel` -> the template's path on disk; None when it is not a plain file (a zip)."""
    from importlib import resources

    path = resources.files("funnelspec.stdlib").joinpath(key[len(STD_PREFIX):])
    return str(path) if isinstance(path, os.PathLike) and os.path.isfile(path) else None
