"""The stage graph as inline SVG, laid out by hand from the stage order and the moves deals made.

Open stages stand in a row in declaration order, won stages at its end,
lost stages in a row below. An edge is drawn for every move deals made
(its width grows with the count, which is written on it) and, dashed, for
every declared transition no deal took. Forward moves to the next stage
are straight; skips arc above the row; moves back arc below it.
"""
from __future__ import annotations

from ..metrics import FunnelMetrics
from . import units
from .svg import svg, tag, text, wrap_label

NODE_W, NODE_H, GAP, ROW_GAP, MARGIN = 128, 50, 62, 110, 20


def _layout(shape, arcs_above: bool) -> tuple[dict, float, float]:
    """Node centres by stage id, and the drawing's size; room above the row only when skips arc there."""
    row = _row(shape)
    lost = [s for s in shape.stages if s.kind == "lost"]
    top = MARGIN + (80.0 if arcs_above else 0.0)
    centres = {}
    for i, stage in enumerate(row):
        centres[stage.id] = (MARGIN + NODE_W / 2 + i * (NODE_W + GAP), top + NODE_H / 2)
    width = MARGIN * 2 + len(row) * NODE_W + (len(row) - 1) * GAP
    lost_y = top + NODE_H + ROW_GAP + NODE_H / 2
    span = len(lost) * NODE_W + (len(lost) - 1) * GAP
    start = (width - span) / 2
    for i, stage in enumerate(lost):
        centres[stage.id] = (start + NODE_W / 2 + i * (NODE_W + GAP), lost_y)
    return centres, width, lost_y + NODE_H / 2 + MARGIN


def _curve(x1: float, y1: float, x2: float, y2: float, bend: float) -> str:
    return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 + bend:.1f} {x2:.1f},{y2:.1f}"


def _edge_path(a: tuple, b: tuple, steps: int, width: float) -> tuple[str, tuple]:
    """An SVG path from node centre a to node centre b and where its label goes.

    steps: how many places b is right of a in the top row (0 when they are in different rows).
    """
    (ax, ay), (bx, by) = a, b
    quarter = NODE_W / 4
    if steps == 1:                           # to the next stage: straight
        x1, x2 = ax + NODE_W / 2, bx - NODE_W / 2
        return f"M{x1:.1f},{ay:.1f} L{x2:.1f},{by:.1f}", ((x1 + x2) / 2, ay - 9)
    if steps:
        lift = 28 + 12 * min(abs(steps), 4)
        if steps > 1:                        # a skip: an arc over the row, right quarter to left quarter
            x1, x2, y = ax + quarter, bx - quarter, ay - NODE_H / 2
            return _curve(x1, y, x2, y, -lift), ((x1 + x2) / 2, y - lift * 0.75 - 4)
        x1, x2, y = ax - quarter, bx + quarter, ay + NODE_H / 2   # back: an arc under the row
        return _curve(x1, y, x2, y, lift), ((x1 + x2) / 2, y + lift * 0.75 + 13)
    down = by > ay
    y1 = ay + NODE_H / 2 if down else ay - NODE_H / 2
    y2 = by - NODE_H / 2 if down else by + NODE_H / 2
    # arrive spread over the target's edge, in the order the sources stand, so arrowheads do not pile up
    x2 = bx + (ax - width / 2) / width * (NODE_W - 24)
    if not down:
        ax, x2 = ax + quarter, x2
    return f"M{ax:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}", (ax + (x2 - ax) * 0.62 + 10, y1 + (y2 - y1) * 0.62)


def _row(shape) -> list:
    """The top row: open stages in declaration order, then the won stages."""
    return sorted((s for s in shape.stages if s.kind != "lost"), key=lambda s: (s.kind == "won", s.order))


def _skips_forward(shape, edges) -> bool:
    place = {s.id: i for i, s in enumerate(_row(shape))}
    return any(a in place and b in place and place[b] > place[a] + 1 for a, b in edges)


def stage_graph(shape, m: FunnelMetrics) -> str:
    taken = {(f.source, f.target): f.count for f in m.flows if f.source is not None}
    declared = set(shape.declared_edges())
    edges = sorted(set(taken) | declared, key=lambda e: (shape.stage_by_id[e[0]].order,
                                                         shape.stage_by_id[e[1]].order))
    centres, width, height = _layout(shape, _skips_forward(shape, edges))
    place = {s.id: i for i, s in enumerate(_row(shape))}
    top = max(taken.values(), default=1)
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
             'markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/>'
             '</marker></defs>']
    labels = []
    for source, target in edges:
        if source not in centres or target not in centres or source == target:
            continue
        steps = place[target] - place[source] if source in place and target in place else 0
        path, (lx, ly) = _edge_path(centres[source], centres[target], steps, width)
        count = taken.get((source, target), 0)
        if count:
            kind = "edge" if not declared or (source, target) in declared else "edge undeclared"
            width_px = 1.2 + 5 * count / top
            parts.append(tag("path", d=path, class_=kind, stroke_width=f"{width_px:.1f}", marker_end="url(#arrow)"))
            labels.append(text(lx, ly, units.count(count), class_="edge-label", text_anchor="middle"))
        else:
            parts.append(tag("path", d=path, class_="edge unused", marker_end="url(#arrow)"))
    reached = {s.id: s.reached for s in m.stages}
    for stage in shape.stages:
        cx, cy = centres[stage.id]
        parts.append(tag("rect", x=cx - NODE_W / 2, y=cy - NODE_H / 2, width=float(NODE_W), height=float(NODE_H),
                         rx=8, class_=f"node node-{stage.kind}"))
        lines = wrap_label(stage.title, 17, 2)
        first_y = cy - (len(lines) - 1) * 7 - 3
        for i, line in enumerate(lines):
            parts.append(text(cx, first_y + i * 14, line, class_="node-title", text_anchor="middle"))
        if stage.is_open:
            note = f"reached {units.count(reached.get(stage.id, 0))}"
        else:
            note = f"{units.count(sum(f.count for f in m.flows if f.target == stage.id))} entered"
        parts.append(text(cx, cy + NODE_H / 2 - 6, note, class_="node-note", text_anchor="middle"))
    return svg(width, height, "".join(parts + labels), f"Stage graph of {shape.title}", "chart stage-graph")
