"""The stage graph: its edges listed once per funnel, and questions asked of them.

Nodes are stage ids (with the Stage as `stage`); edges come from
transitions (kind "manual" or "automatic"), `any ->` (expanded to every open
stage), and every rule's `move to` (kind "rule": a stage-scoped rule from its
stage, an unscoped one from every open stage).

The checks that run before every replay (reachability, dead ends, loops of
automatic moves) walk plain adjacency lists; networkx is imported only where
its graph is wanted (`stage_graph`, for `funnel graph`) or a loop is there to
be listed, as it costs a third of a command's start-up.
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ast
from .model import Action, Funnel, Rule, Stage, StageKind, Transition, per_funnel
from .source import Span

if TYPE_CHECKING:
    import networkx as nx


def _rule_sources(funnel: Funnel, rule: Rule) -> list[str]:
    if rule.stage is not None:
        return [rule.stage]
    required = condition_stages(rule)
    return [s.id for s in funnel.open_stages if not required or s.id in required]


def condition_stages(rule: Rule) -> frozenset[str]:
    """The stages a rule's condition requires the deal to be in: `stage == "proposal"` (or `stage in [...]`),
    alone or as a part of an `and`; empty when it does not say."""
    found: frozenset[str] | None = None
    pending = [rule.condition] if rule.condition is not None else []
    while pending:
        expr = pending.pop()
        named = _stage_test(expr)
        if named is not None:
            found = named if found is None else found & named
        elif type(expr) is ast.Binary and expr.op == "and":
            pending += [expr.left, expr.right]
    return found or frozenset()


def _stage_test(expr) -> frozenset[str] | None:
    def is_stage(e) -> bool:
        return type(e) is ast.Name and e.name == "stage"

    def text(e) -> str | None:
        return e.value if type(e) is ast.Literal and e.kind == "string" else None

    if type(expr) is ast.Binary and expr.op == "==":
        for a, b in ((expr.left, expr.right), (expr.right, expr.left)):
            if is_stage(a) and text(b) is not None:
                return frozenset({text(b)})
    if type(expr) is ast.InList and not expr.negated and is_stage(expr.operand):
        items = [text(i) for i in expr.items.items]
        if items and all(i is not None for i in items):
            return frozenset(items)
    return None


@per_funnel
def stage_edges(funnel: Funnel) -> list[tuple[str, str, dict]]:
    """Every edge of the stage graph as (source, target, data), in the order of the funnel's text."""
    edges = []
    for t in funnel.transitions:
        sources = [t.source] if t.source is not None else [s.id for s in funnel.open_stages if s.id != t.target]
        for source in sources:
            edges.append((source, t.target, {"kind": "automatic" if t.automatic else "manual", "transition": t,
                                             "from_any": t.source is None}))
    for rule in funnel.rules:
        for action in rule.actions:
            if action.kind == "move":
                for source in _rule_sources(funnel, rule):
                    if source != action.target:
                        edges.append((source, action.target, {"kind": "rule", "rule": rule, "action": action}))
    return edges


@per_funnel
def stage_graph(funnel: Funnel) -> nx.MultiDiGraph:
    """The stage graph as a networkx MultiDiGraph (its edges in networkx's order: by source stage)."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    for stage in funnel.stages:
        graph.add_node(stage.id, stage=stage)
    for source, target, data in stage_edges(funnel):
        graph.add_edge(source, target, **data)
    return graph


@per_funnel
def _neighbours(funnel: Funnel, backwards: bool) -> dict[str, list[str]]:
    """Stage id -> the stages one edge leads to (or, `backwards`, comes from)."""
    found: dict[str, list[str]] = {}
    for source, target, _ in stage_edges(funnel):
        if backwards:
            source, target = target, source
        found.setdefault(source, []).append(target)
    return found


def _reached(neighbours: dict[str, list[str]], starts: list[str]) -> set[str]:
    """`starts` and every stage a path of edges leads to from them."""
    reached, pending = set(starts), deque(starts)
    while pending:
        for step in neighbours.get(pending.popleft(), ()):
            if step not in reached:
                reached.add(step)
                pending.append(step)
    return reached


def stages_unreachable_from_start(funnel: Funnel) -> list[Stage]:
    """Stages no path of moves (by hand, automatic or by a rule) leads to from any start stage."""
    starts = [s.id for s in funnel.stages if s.start]
    if not starts:
        return []
    reached = _reached(_neighbours(funnel, False), starts)
    return [s for s in funnel.stages if s.id not in reached]


def stages_without_path_to_terminal(funnel: Funnel) -> list[Stage]:
    """Open stages from which no path leads to a won or lost stage: deals that enter them are stuck."""
    terminals = [s.id for s in funnel.stages if s.terminal]
    if not terminals:
        return []
    leads_out = _reached(_neighbours(funnel, True), terminals)
    return [s for s in funnel.open_stages if s.id not in leads_out]


def moves_out_of_terminals(funnel: Funnel) -> list[tuple[Stage, Transition | None, Rule | None, Action | None]]:
    """Transitions and rule moves that leave a won or lost stage that does not declare `reopen`."""
    found = []
    closed = {s.id: s for s in funnel.stages if s.terminal and not s.reopen}
    for t in funnel.transitions:
        if t.source in closed and t.target != t.source:
            found.append((closed[t.source], t, None, None))
    for rule in funnel.rules:
        if rule.stage in closed:
            for action in rule.actions:
                if action.kind == "move" and action.target != rule.stage:
                    found.append((closed[rule.stage], None, rule, action))
    return found


def stages_left_only_by_hand(funnel: Funnel) -> list[Stage]:
    """Open stages with no automatic transition and no rule that moves a deal on (to a stage other than lost)."""
    onward: set[str] = set()
    lost = {s.id for s in funnel.stages if s.kind is StageKind.LOST}
    for source, target, data in stage_edges(funnel):
        if data["kind"] in ("automatic", "rule") and target not in lost and target != source:
            onward.add(source)
    return [s for s in funnel.open_stages if s.id not in onward]


@dataclass(frozen=True)
class AutomaticMove:
    """A move that happens by itself as soon as its condition holds: an automatic transition or an `on enter` move."""

    source: str
    target: str
    condition: ast.Expr | None
    span: Span
    transition: Transition | None = None
    rule: Rule | None = None

    def describe(self) -> str:
        if self.transition is not None:
            return f"transition `{self.transition.describe()}`"
        return f"`on enter` of `{self.source}` moves to `{self.target}`"


def automatic_moves(funnel: Funnel) -> list[AutomaticMove]:
    moves = []
    open_ids = [s.id for s in funnel.open_stages]
    for t in funnel.transitions:
        if t.automatic:
            for source in ([t.source] if t.source is not None else [s for s in open_ids if s != t.target]):
                moves.append(AutomaticMove(source, t.target, t.criterion, t.span, transition=t))
    for rule in funnel.rules:
        if rule.kind == "enter" and rule.stage is not None:
            for action in rule.actions:
                if action.kind == "move":
                    moves.append(AutomaticMove(rule.stage, action.target, rule.condition, action.span, rule=rule))
    return moves


def automatic_move_cycles(funnel: Funnel, limit: int = 50) -> list[list[list[AutomaticMove]]]:
    """Loops of automatic moves (`a -> b when …`, `b -> a when …`, or `on enter: move to …`), shortest first.

    Each loop is one list per step of the automatic moves that make that step
    (two transitions `a -> b` give a step two ways); at most `limit` loops.
    """
    moves_between: dict[tuple[str, str], list[AutomaticMove]] = {}
    for move in automatic_moves(funnel):
        moves_between.setdefault((move.source, move.target), []).append(move)
    if not _has_cycle(list(moves_between)):
        return []
    import networkx as nx

    graph = nx.DiGraph(list(moves_between))
    found = itertools.islice(nx.simple_cycles(graph, length_bound=len(funnel.stages)), 10 * limit)
    cycles = sorted(found, key=lambda c: (len(c), c))[:limit]
    return [[moves_between[(a, cycle[(i + 1) % len(cycle)])] for i, a in enumerate(cycle)] for cycle in cycles]


def _has_cycle(pairs: list[tuple[str, str]]) -> bool:
    """Whether the directed edges `pairs` make a loop (a self-loop counts): Kahn's sort, which takes
    every node off only when there is none."""
    into: dict[str, int] = {}
    onward: dict[str, list[str]] = {}
    for source, target in pairs:
        into.setdefault(source, 0)
        into[target] = into.get(target, 0) + 1
        onward.setdefault(source, []).append(target)
    free = [node for node, count in into.items() if count == 0]
    taken = 0
    while free:
        node = free.pop()
        taken += 1
        for target in onward.get(node, ()):
            into[target] -= 1
            if into[target] == 0:
                free.append(target)
    return taken < len(into)
