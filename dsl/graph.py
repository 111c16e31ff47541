"""The stage graph: a networkx MultiDiGraph built once per funnel, and questions asked of it.

Nodes are stage ids (with the Stage as `stage`); edges come from
transitions (kind "manual" or "automatic"), `any ->` (expanded to every open
stage), and every rule's `move to` (kind "rule": a stage-scoped rule from its
stage, an unscoped one from every open stage).
"""
from __future__ import annotations

from functools import lru_cache

import networkx as nx

from .model import Funnel, Rule, Transition


def _rule_sources(funnel: Funnel, rule: Rule) -> list[str]:
    if rule.stage is not None:
        return [rule.stage]
    return [s.id for s in funnel.open_stages]


@lru_cache(maxsize=256)
def stage_graph(funnel: Funnel) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for stage in funnel.stages:
        graph.add_node(stage.id, stage=stage)
    for t in funnel.transitions:
        sources = [t.source] if t.source is not None else [s.id for s in funnel.open_stages if s.id != t.target]
        for source in sources:
            graph.add_edge(source, t.target, kind="automatic" if t.automatic else "manual", transition=t,
                           from_any=t.source is None)
    for rule in funnel.rules:
        for action in rule.actions:
            if action.kind == "move":
                for source in _rule_sources(funnel, rule):
                    if source != action.target:
                        graph.add_edge(source, action.target, kind="rule", rule=rule, action=action)
    return graph


def edges_of(graph: nx.MultiDiGraph, kind: str | None = None):
    """(source, target, data) for every edge, optionally of one kind, in a stable order."""
    for source, target, data in graph.edges(data=True):
        if kind is None or data["kind"] == kind:
            yield source, target, data


def transition_edges(funnel: Funnel, transition: Transition) -> list[tuple[str, str]]:
    graph = stage_graph(funnel)
    return [(s, t) for s, t, d in edges_of(graph) if d.get("transition") is transition]
