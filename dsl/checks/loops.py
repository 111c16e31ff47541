"""Whether each loop of automatic moves can really go round forever (FNL208), or cannot be decided (FNL306)."""
from __future__ import annotations

import itertools

from .. import ast
from ..graph import AutomaticMove, automatic_move_cycles
from ..model import Funnel, per_funnel
from ..resolve import literal_value
from ..satisfy import Answer, condition, decide
from ..terms import example_text, funnel_terms, value_text

LOOPS, UNDECIDED, STOPS = "loops", "undecided", "stops"


def rules_on_the_way(funnel: Funnel, stages: set[str]) -> list:
    """The rules that may run while a deal goes round a loop through `stages`.

    Enter and exit rules of those stages run on every lap; a `set` they make may
    start an `on change` rule, an `emit` an `on event` rule, and so on. Rules
    started only by outside events (a payment, an update) do not run in between.
    """
    running = [r for r in funnel.rules if r.kind in ("enter", "exit") and r.stage in stages]
    while True:
        changed = {a.field for r in running for a in r.actions if a.kind == "set"}
        emitted = {a.event for r in running for a in r.actions if a.kind == "emit"}
        more = [r for r in funnel.rules if r not in running and (
            (r.kind == "change" and r.subject in changed) or (r.kind == "event" and r.subject in emitted))]
        if not more:
            return running
        running += more


def setters_on_the_way(funnel: Funnel, stages: set[str]) -> dict[str, list]:
    """Field -> the (rule, `set` action) pairs that may change it while a deal goes round the loop."""
    found: dict[str, list] = {}
    for rule in rules_on_the_way(funnel, stages):
        for action in rule.actions:
            if action.kind == "set":
                found.setdefault(action.field, []).append((rule, action))
    return found


def _settled_value(funnel: Funnel, setters: list, stages: set[str]):
    """The one constant a field holds from the second lap on, when only this loop's enter/exit rules set it."""
    values = set()
    for rule, action in setters:
        if rule.kind not in ("enter", "exit") or rule.stage not in stages:
            return _UNSETTLED
        try:
            values.add(literal_value(action.value))
        except ValueError:
            return _UNSETTLED
    return values.pop() if len(values) == 1 else _UNSETTLED


_UNSETTLED = object()


def _conditions(funnel: Funnel, loop: list[AutomaticMove], settled: dict):
    for move in loop:
        at = {"stage": move.source, "time_in_stage": 0, **settled}   # each lap enters the stage afresh
        if move.condition is not None:
            yield condition(move.condition, **at)
        if move.transition is not None:
            for require in funnel.stage_by_id[move.target].requires:
                yield condition(require, **at)


def loop_from_its_first_line(loop: list[AutomaticMove]) -> list[AutomaticMove]:
    """The same loop, starting from the move written first (where a finding points)."""
    first = min(range(len(loop)), key=lambda i: (loop[i].span.file, loop[i].span.line, loop[i].span.column))
    return loop[first:] + loop[:first]


def loop_path(loop: list[AutomaticMove]) -> str:
    return " -> ".join(f"`{m.source}`" for m in loop) + f" -> `{loop[0].source}`"


MAX_WAYS = 16      # combinations of parallel moves tried per loop


def _verdict(funnel: Funnel, loop: list[AutomaticMove], terms) -> tuple[str, str]:
    """A loop goes round forever when its conditions hold together. Fields that rules set on the way are
    decided only when those rules set each to one constant, every lap: from the second lap on it holds that
    value (and a deal that starts with it sees no change at all)."""
    stages = {m.source for m in loop}
    setters = setters_on_the_way(funnel, stages)
    read = set().union(*(ast.names_read(c.expr) for c in _conditions(funnel, loop, {})))
    settled, unsettled = {}, []
    for name in sorted(read & set(setters)):
        value = _settled_value(funnel, setters[name], stages)
        if value is _UNSETTLED:
            unsettled.append(name)
        else:
            settled[name] = value
    if unsettled:
        return UNDECIDED, "rules set " + ", ".join(f"`{f}`" for f in unsettled) + " while deals move"
    verdict = decide(list(_conditions(funnel, loop, settled)), terms)
    if verdict.answer is Answer.NO:
        return STOPS, ""
    if verdict.answer is Answer.UNKNOWN:
        return UNDECIDED, ", ".join(f"`{part}`" for part in verdict.undecided)
    set_on_the_way = [f"`{name}` = {value_text(value, terms[name])} (set on the way)"
                      for name, value in settled.items() if name in terms]
    return LOOPS, ", ".join(part for part in [example_text(verdict, terms), *set_on_the_way] if part)


@per_funnel
def loop_verdicts(funnel: Funnel) -> list[tuple[list[AutomaticMove], str, str]]:
    """One (loop, LOOPS | UNDECIDED | STOPS, detail) per loop of stages: the way round that loops if one does,
    else one that cannot be decided. The detail is an example of looping values, or what could not be decided.
    """
    terms = funnel_terms(funnel)
    rank = {LOOPS: 0, UNDECIDED: 1, STOPS: 2}
    found = []
    for steps in automatic_move_cycles(funnel):
        best = None
        for way in itertools.islice(itertools.product(*steps), MAX_WAYS):
            verdict, detail = _verdict(funnel, list(way), terms)
            if best is None or rank[verdict] < rank[best[1]]:
                best = (list(way), verdict, detail)
            if verdict == LOOPS:
                break
        found.append(best)
    return found
