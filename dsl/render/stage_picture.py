"""What `funnel graph` draws, whatever the format: stages, moves and (given a replay's result) traffic.

Built from dsl/graph.py's stage graph. `any -> lost` and rules that apply in
every open stage are expanded there into one edge per open stage; here each
is drawn once, from a single "any open stage" node, so that the picture of a
funnel with many stages stays readable. dsl/render/dot.py and
dsl/render/mermaid.py only decide how each thing looks.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from ..graph import condition_stages, stage_graph
from ..model import Funnel
from .expr import duration_text, expr_text, short

ANY = None                 # the source of an edge drawn from "any open stage"
LABEL_WIDTH = 40           # edge labels are shortened to this many characters


@dataclass
class Node:
    id: str
    title: str
    kind: str                          # open | won | lost
    start: bool
    details: str                       # `new · 10% · sla 1d`
    block: str | None
    deals: int | None = None           # deals that entered the stage (with results)


@dataclass
class Edge:
    source: str | None                 # None: from any open stage
    target: str
    kind: str                          # manual | automatic | rule | unexpected (a move the spec has no edge for)
    label: str = ""
    moves: int | None = None           # with results: how many moves took this edge
    share: float | None = None         # moves / times the source stage was entered

    @property
    def traffic(self) -> str:
        if self.moves is None:
            return ""
        return f"{self.moves} · {self.share:.0%}" if self.share is not None else f"{self.moves}"


@dataclass
class Picture:
    id: str
    title: str
    nodes: list[Node]
    edges: list[Edge]
    deals: int | None = None           # deals of this funnel in the results
    notes: list[str] = field(default_factory=list)

    @property
    def blocks(self) -> list[tuple[str, list[Node]]]:
        """Stage blocks in the order they first appear, with their stages."""
        order: dict[str, list[Node]] = {}
        for node in self.nodes:
            if node.block is not None:
                order.setdefault(node.block, []).append(node)
        return list(order.items())

    @property
    def has_any(self) -> bool:
        return any(e.source is ANY for e in self.edges)

    @property
    def with_traffic(self) -> bool:
        return self.deals is not None


def _details(stage) -> str:
    parts = [stage.id, "side"] if stage.side else [stage.id]
    if stage.probability is not None:
        parts.append(f"{stage.probability * 100:g}%")
    if stage.sla is not None:
        parts.append(f"sla {duration_text(stage.sla)}")
    return " · ".join(parts)


def _rule_label(rule, action) -> str:
    trigger = replace(rule, stage=None).describe()        # the edge starts at the stage: no `in STAGE`
    because = f" «{action.because}»" if action.because else ""
    return short(trigger + because, LABEL_WIDTH)


def _transition_label(transition) -> str:
    text = expr_text(transition.criterion) if transition.criterion is not None else ""
    if transition.because:
        text = f"{text} «{transition.because}»".strip()
    return short(text, LABEL_WIDTH)


def stage_picture(funnel: Funnel) -> Picture:
    nodes = [Node(s.id, s.title, s.kind.value, s.start, _details(s), s.block) for s in funnel.stages]
    edges: list[Edge] = []
    drawn_from_any: set[int] = set()
    for source, target, data in stage_graph(funnel).edges(data=True):
        if data["kind"] == "rule":
            rule, action = data["rule"], data["action"]
            if rule.stage is None and not condition_stages(rule):    # a rule of every open stage: drawn once
                if id(action) in drawn_from_any:
                    continue
                drawn_from_any.add(id(action))
                source = ANY
            edges.append(Edge(source, target, "rule", _rule_label(rule, action)))
            continue
        transition = data["transition"]
        if data.get("from_any"):
            if id(transition) in drawn_from_any:
                continue
            drawn_from_any.add(id(transition))
            source = ANY
        edges.append(Edge(source, target, data["kind"], _transition_label(transition)))
    return Picture(funnel.id, funnel.title, nodes, edges)


# Traffic from a replay's result ------------------------------------------------------------

class ResultsError(ValueError):
    """The results file is not what `funnel simulate --format json` writes."""


# How a deal entered a stage (Visit.via) -> the kinds of edge such a move may follow, best first:
# a person may move a deal along any transition, a criterion or a rule only along its own.
VIA_KINDS = {"auto": ("automatic",), "manual": ("manual", "automatic"), "rule": ("rule",)}
ALL_KINDS = ("automatic", "manual", "rule")


def add_traffic(picture: Picture, results: dict) -> Picture:
    """Deals per stage and moves per edge, from `funnel simulate --format json` output."""
    outcomes = results.get("outcomes") if isinstance(results, dict) else None
    if not isinstance(outcomes, list):
        raise ResultsError("no `outcomes` list: write it with `funnel simulate … --format json -o FILE`")
    known = {n.id for n in picture.nodes}
    entered: Counter = Counter()         # visits of each stage
    deals: Counter = Counter()           # distinct deals in each stage
    moves: Counter = Counter()           # (from, to, via)
    count, strangers = 0, set()
    for number, outcome in enumerate(outcomes, 1):
        if not isinstance(outcome, dict) or not isinstance(outcome.get("path"), list):
            raise ResultsError(f"outcome {number} has no `path` list")
        if outcome.get("funnel", picture.id) != picture.id:
            continue
        count += 1
        stages = []
        for visit in outcome["path"]:
            if not isinstance(visit, dict) or not isinstance(visit.get("stage"), str):
                raise ResultsError(f"outcome {number} (deal {outcome.get('deal')}): a path step has no `stage`")
            via = visit.get("via")
            if via is not None and not isinstance(via, str):
                raise ResultsError(f"outcome {number} (deal {outcome.get('deal')}): a path step's `via` is "
                                   f"a {type(via).__name__}, not text such as `auto` or `manual`")
            stages.append((visit["stage"], via))
        for stage, _ in stages:
            entered[stage] += 1
        for stage in {s for s, _ in stages}:
            deals[stage] += 1
        for (before, _), (after, via) in zip(stages, stages[1:]):
            moves[(before, after, via)] += 1
        strangers |= {s for s, _ in stages if s not in known}
    for node in picture.nodes:
        node.deals = deals[node.id]
    for edge in picture.edges:
        edge.moves = 0
    for (source, target, via), n in sorted(moves.items(), key=lambda item: tuple(map(str, item[0]))):
        if source not in known or target not in known:
            continue
        edge = _edge_for(picture, source, target, VIA_KINDS.get(via, ALL_KINDS))
        edge.moves += n
    for edge in picture.edges:
        if edge.source is not ANY and entered[edge.source]:
            edge.share = edge.moves / entered[edge.source]
    picture.deals = count
    if strangers:
        picture.notes.append(f"stages in the results but not in the spec: {', '.join(sorted(strangers))}")
    return picture


def _edge_for(picture: Picture, source: str, target: str, kinds: tuple[str, ...]) -> Edge:
    """The drawn edge a move followed (its own stages first, then from any open stage), else a new red one."""
    for kind in kinds:
        for edge in picture.edges:
            if edge.source == source and edge.target == target and edge.kind == kind:
                return edge
    for kind in kinds:
        for edge in picture.edges:
            if edge.source is ANY and edge.target == target and edge.kind == kind:
                return edge
    for edge in picture.edges:
        if edge.source == source and edge.target == target and edge.kind == "unexpected":
            return edge
    edge = Edge(source, target, "unexpected", "not in the spec", moves=0)
    picture.edges.append(edge)
    return edge
