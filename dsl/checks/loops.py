"""Whether each loop of automatic moves can really go round forever (FNL208), or cannot be decided (FNL306)."""
from __future__ import annotations

import itertools
from functools import lru_cache

from .. import ast
from ..graph import AutomaticMove, automatic_move_cycles
from ..model import Funnel
from ..satisfy import Answer, condition, decide, example_text, funnel_terms

LOOPS, UNDECIDED, STOPS = "loops", "undecided", "stops"


def names_read(expr) -> set[str]:
    """Every plain name an expression reads (fields and `stage`, `now`, `time_in_stage`)."""
    if isinstance(expr, ast.Name):
        return {expr.name}
    found: set[str] = set()
    for child in vars(expr).values():
        items = child if isinstance(child, tuple) else (child,)
        for item in items:
            if hasattr(item, "span") and not isinstance(item, ast.Ident) and type(item).__module__ == ast.__name__:
                found |= names_read(item)
    return found


def fields_set_on_the_way(funnel: Funnel) -> set[str]:
    """Fields that rules may change while a deal moves (on enter, exit, change or an emitted event)."""
    return {a.field for r in funnel.rules if r.kind in ("enter", "exit", "change", "event")
            for a in r.actions if a.kind == "set"}


def _conditions(funnel: Funnel, loop: list[AutomaticMove]):
    for move in loop:
        at = {"stage": move.source, "time_in_stage": 0}   # each lap enters the stage afresh
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


def _verdict(funnel: Funnel, loop: list[AutomaticMove], terms, changing) -> tuple[str, str]:
    conditions = list(_conditions(funnel, loop))
    verdict = decide(conditions, terms)
    if verdict.answer is Answer.NO:
        return STOPS, ""
    touched = sorted(changing & set().union(*(names_read(c.expr) for c in conditions)))
    if touched:
        return UNDECIDED, "rules set " + ", ".join(f"`{f}`" for f in touched) + " while deals move"
    if verdict.answer is Answer.YES:
        return LOOPS, example_text(verdict, terms)
    return UNDECIDED, ", ".join(f"`{part}`" for part in verdict.undecided)


@lru_cache(maxsize=64)
def loop_verdicts(funnel: Funnel) -> list[tuple[list[AutomaticMove], str, str]]:
    """One (loop, LOOPS | UNDECIDED | STOPS, detail) per loop of stages: the way round that loops if one does,
    else one that cannot be decided. The detail is an example of looping values, or what could not be decided.
    """
    terms = funnel_terms(funnel)
    changing = fields_set_on_the_way(funnel)
    rank = {LOOPS: 0, UNDECIDED: 1, STOPS: 2}
    found = []
    for steps in automatic_move_cycles(funnel):
        best = None
        for way in itertools.islice(itertools.product(*steps), MAX_WAYS):
            verdict, detail = _verdict(funnel, list(way), terms, changing)
            if best is None or rank[verdict] < rank[best[1]]:
                best = (list(way), verdict, detail)
            if verdict == LOOPS:
                break
        found.append(best)
    return found
