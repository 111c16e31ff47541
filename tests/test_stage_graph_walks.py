"""dsl/graph.py answers reachability and "is there a loop" without networkx: the same answers as networkx."""
from __future__ import annotations

import networkx as nx
from hypothesis import given, strategies as st

from funnelspec.dsl.graph import _has_cycle, _reached

NODES = st.sampled_from([f"s{i}" for i in range(8)])
EDGES = st.lists(st.tuples(NODES, NODES), max_size=24)


@given(EDGES)
def test_a_loop_is_found_exactly_when_networkx_finds_a_cycle(edges):
    graph = nx.DiGraph(edges)
    assert _has_cycle(edges) == any(True for _ in nx.simple_cycles(graph))


@given(EDGES, st.lists(NODES, min_size=1, max_size=3))
def test_the_stages_reached_are_networkx_descendants(edges, starts):
    neighbours: dict[str, list[str]] = {}
    for source, target in edges:
        neighbours.setdefault(source, []).append(target)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(starts)
    graph.add_edges_from(edges)
    expected = set(starts).union(*(nx.descendants(graph, s) for s in starts))
    assert _reached(neighbours, starts) == expected
