"""The stage graph as a Mermaid flowchart (`funnel graph --format mermaid`), for GitHub markdown.

The same picture as DOT: the start stage's border blue and a black dot before
it, won stages green and lost red (stadium shapes), automatic transitions as
thick arrows with their criterion, moves by hand as plain arrows, rule moves
dotted with their trigger, `any ->` from one "any open stage" node, stage
blocks as subgraphs. Labels are on one line and quoted with Mermaid's entity
codes for `"`, `#`, `<`, `>`, `|`, `%` and `\\` (dsl/render/safe_text.py), so any
text (Cyrillic too) is safe and none closes the front matter or spells a directive.
"""
from __future__ import annotations

import re

from .safe_text import mermaid as _text, mermaid_comment
from .stage_picture import ANY, Edge, Node, Picture

ARROWS = {"automatic": "==>", "manual": "-->", "rule": "-.->", "unexpected": "-.->"}
LINK_STYLE = {
    "automatic": "stroke:#1d4ed8,stroke-width:2px",
    "manual": "stroke:#64748b",
    "rule": "stroke:#b45309",
    "unexpected": "stroke:#dc2626,stroke-width:2px",
    "any": "stroke:#94a3b8",
}
CLASSES = {
    "open": "fill:#f8fafc,stroke:#64748b,color:#0f172a",
    "start": "fill:#f8fafc,stroke:#1d4ed8,stroke-width:3px,color:#0f172a",
    "won": "fill:#dcfce7,stroke:#16a34a,stroke-width:2px,color:#14532d",
    "lost": "fill:#fee2e2,stroke:#dc2626,stroke-width:2px,color:#7f1d1d",
    "startDot": "fill:#111827,stroke:#111827",
    "anyNote": "fill:#ffffff,stroke:#94a3b8,stroke-dasharray:4 3,color:#64748b",
}
# Words a Mermaid node id must not be (they mean something to the flowchart parser).
RESERVED = {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle",
            "direction", "default", "call", "href", "interpolate"}
SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _ids(picture: Picture) -> dict[str | None, str]:
    """A Mermaid id for each stage: the stage id when it is plain ASCII, else `s1`, `s2`… (never clashing)."""
    taken = {n.id for n in picture.nodes if SAFE_ID.fullmatch(n.id) and n.id.lower() not in RESERVED}
    ids: dict[str | None, str] = {}
    counter = 0

    def fresh(stem: str) -> str:
        nonlocal counter
        while True:
            counter += 1
            candidate = f"{stem}{counter}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    for node in picture.nodes:
        ids[node.id] = node.id if node.id in taken else fresh("s")
    for helper in ("start_dot", "any_stage"):
        ids[helper] = helper if helper not in taken else fresh(helper)
        taken.add(ids[helper])
    ids[ANY] = ids["any_stage"]
    return ids


def _node(node: Node, ids) -> str:
    parts = [_text(node.title), _text(node.details)]
    if node.deals is not None:
        parts.append(f"{node.deals} deal{'s' if node.deals != 1 else ''}")
    label = "<br/>".join(parts)
    shape = ('(["', '"])') if node.kind != "open" else ('("', '")')
    css = "start" if node.start else node.kind
    return f"{ids[node.id]}{shape[0]}{label}{shape[1]}:::{css}"


def _edge(edge: Edge, ids) -> str:
    parts = [_text(edge.label)] if edge.label else []
    if edge.moves is not None:
        parts.append(_text(edge.traffic))
    label = f'|"{"<br/>".join(parts)}"|' if parts else ""
    return f"{ids[edge.source]} {ARROWS[edge.kind]}{label} {ids[edge.target]}"


def render_mermaid(picture: Picture) -> str:
    ids = _ids(picture)
    long = sum(1 for n in picture.nodes if n.kind == "open") > 8
    title = picture.title + (f" — {picture.deals} deals" if picture.deals is not None else "")
    out = ["---", f'title: "{_text(title)}"', "---", f"flowchart {'TB' if long else 'LR'}"]
    blocks = picture.blocks
    in_block = {n.id for _, nodes in blocks for n in nodes}
    out += [f"  {_node(n, ids)}" for n in picture.nodes if n.id not in in_block]
    for number, (title_text, nodes) in enumerate(blocks, 1):
        out.append(f'  subgraph block{number}["{_text(title_text)}"]')
        out += [f"    {_node(n, ids)}" for n in nodes]
        out.append("  end")
    links: list[str] = []
    starts = [n for n in picture.nodes if n.start]
    if starts:
        out.append(f'  {ids["start_dot"]}((" ")):::startDot')
        for node in starts:
            out.append(f"  {ids['start_dot']} --> {ids[node.id]}")
            links.append("stroke:#111827")
    if picture.has_any:
        out.append(f'  {ids["any_stage"]}>"any open stage"]:::anyNote')
    for edge in picture.edges:
        out.append(f"  {_edge(edge, ids)}")
        links.append(LINK_STYLE["any" if edge.source is ANY else edge.kind])
    for number, style in enumerate(links):
        out.append(f"  linkStyle {number} {style}")
    out += [f"  classDef {name} {style}" for name, style in CLASSES.items()]
    out += [f"  %% {mermaid_comment(note)}" for note in picture.notes]
    return "\n".join(out) + "\n"
