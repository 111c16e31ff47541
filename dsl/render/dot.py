"""The stage graph in Graphviz DOT (`funnel graph --format dot`; svg and png are `dot` run on it).

Stages are rounded boxes with the title in bold and the id, probability and
sla below; the start stage has a blue border and a black dot leading into
it; won stages are green, lost ones red, both with a double border. Automatic
transitions are solid blue with their criterion, moves by hand solid grey,
rule moves dashed amber with their trigger; `any ->` edges come from one
dashed "any open stage" note. Stage blocks are dashed clusters. Every label
is an HTML-like label with its text on one line and escaped
(dsl/render/safe_text.py), so quotes, `<`, newlines and Cyrillic are safe.
"""
from __future__ import annotations

from .safe_text import dot_comment, dot_html as _html, dot_string as _id
from .stage_picture import ANY, Edge, Node, Picture

FONT = "DejaVu Sans"
LONG = 8                   # more open stages than this: lay the graph out top to bottom

NODE_STYLE = {
    "open": {"fillcolor": "#f8fafc", "color": "#64748b"},
    "won": {"fillcolor": "#dcfce7", "color": "#16a34a", "peripheries": "2"},
    "lost": {"fillcolor": "#fee2e2", "color": "#dc2626", "peripheries": "2"},
}
START_STYLE = {"color": "#1d4ed8", "penwidth": "2"}
EDGE_STYLE = {
    "automatic": {"color": "#1d4ed8", "fontcolor": "#1e3a8a", "penwidth": "1.5"},
    "manual": {"color": "#64748b", "fontcolor": "#334155"},
    "rule": {"color": "#b45309", "fontcolor": "#92400e", "style": "dashed"},
    "unexpected": {"color": "#dc2626", "fontcolor": "#dc2626", "style": "dotted", "penwidth": "1.5"},
}
ANY_EDGE_STYLE = {"color": "#94a3b8", "style": "dashed"}
START_DOT, ANY_NODE = "__start", "__any"
GRAPH = {"labelloc": "t", "fontname": FONT, "fontsize": "16", "nodesep": "0.35", "ranksep": "0.55", "pad": "0.3",
         "newrank": "true"}
NODE = {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "11", "margin": "0.15,0.07",
        "penwidth": "1.2"}
EDGE = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"}
CLUSTER = {"style": "rounded,dashed", "color": "#cbd5e1", "fontcolor": "#475569", "fontsize": "11"}
START_NODE = {"shape": "circle", "style": "filled", "fillcolor": "#111827", "color": "#111827", "label": "",
              "width": "0.16", "fixedsize": "true"}
START_EDGE = {"color": "#111827", "arrowsize": "0.6"}
ANY_NOTE = {"label": "<<i>any open stage</i>>", "shape": "note", "style": "dashed", "color": "#94a3b8",
            "fontcolor": "#64748b", "fontsize": "10"}


def _attrs(attrs: dict[str, str]) -> str:
    parts = [f"{k}={v if v.startswith('<') else _id(v)}" for k, v in attrs.items()]
    return f" [{', '.join(parts)}]" if parts else ""


def _node_label(node: Node) -> str:
    lines = [f"<b>{_html(node.title)}</b>", f'<font point-size="9" color="#64748b">{_html(node.details)}</font>']
    if node.deals is not None:
        deals = f"{node.deals} deal{'s' if node.deals != 1 else ''}"
        lines.append(f'<font point-size="10" color="#0f172a">{deals}</font>')
    return "<" + "<br/>".join(lines) + ">"


def _edge_label(edge: Edge) -> str | None:
    lines = [_html(edge.label)] if edge.label else []
    if edge.moves is not None:
        lines.append(f"<b>{_html(edge.traffic)}</b>")
    return "<" + "<br/>".join(lines) + ">" if lines else None


def _edge_attrs(edge: Edge) -> dict[str, str]:
    attrs = dict(EDGE_STYLE[edge.kind])
    if edge.source is ANY:
        attrs.update(ANY_EDGE_STYLE)
    label = _edge_label(edge)
    if label:
        attrs["label"] = label
    if edge.moves == 0 and edge.kind != "unexpected":
        attrs["color"] = attrs["color"] + "80"           # no deal took it: faded
    elif edge.moves:
        attrs["penwidth"] = f"{min(1.5 + edge.moves ** 0.5 / 3, 6.0):.1f}"      # thicker with traffic
    return attrs


def render_dot(picture: Picture) -> str:
    long = sum(1 for n in picture.nodes if n.kind == "open") > LONG
    title = picture.title + (f" — {picture.deals} deals" if picture.deals is not None else "")
    graph = {"rankdir": "TB" if long else "LR", "label": f"<<b>{_html(title)}</b>>", **GRAPH}
    out = [f"digraph {_id(picture.id)} {{", f"  graph{_attrs(graph)}", f"  node{_attrs(NODE)}",
           f"  edge{_attrs(EDGE)}", ""]
    blocks = picture.blocks
    in_block = {n.id for _, nodes in blocks for n in nodes}
    for node in picture.nodes:
        if node.id not in in_block:
            out.append(_node_line(node, "  "))
    for number, (title, nodes) in enumerate(blocks):
        out.append(f"  subgraph {_id(f'cluster_{number}')} {{")
        out.append(f"    graph{_attrs({'label': f'<<i>{_html(title)}</i>>', **CLUSTER})}")
        out += [_node_line(node, "    ") for node in nodes]
        out.append("  }")
    terminals = [n for n in picture.nodes if n.kind != "open" and n.id not in in_block]
    if len(terminals) > 1:      # won and lost side by side at the end of the line
        out.append("  { rank=same; " + " ".join(f"{_id(n.id)};" for n in terminals) + " }")
    out.append("")
    starts = [n for n in picture.nodes if n.start]
    if starts:
        out.append(f"  {_id(START_DOT)}{_attrs(START_NODE)}")
        out += [f"  {_id(START_DOT)} -> {_id(n.id)}{_attrs(START_EDGE)}" for n in starts]
    if picture.has_any:
        out.append(f"  {_id(ANY_NODE)}{_attrs(ANY_NOTE)}")
    for edge in picture.edges:
        source = ANY_NODE if edge.source is ANY else edge.source
        out.append(f"  {_id(source)} -> {_id(edge.target)}{_attrs(_edge_attrs(edge))}")
    for note in picture.notes:
        out.append(f"  // {dot_comment(note)}")
    out.append("}")
    return "\n".join(out) + "\n"


def _node_line(node: Node, indent: str) -> str:
    attrs = dict(NODE_STYLE[node.kind])
    if node.start:
        attrs.update(START_STYLE)
    attrs["label"] = _node_label(node)
    return f"{indent}{_id(node.id)}{_attrs(attrs)}"
