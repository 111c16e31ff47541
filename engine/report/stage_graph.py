"""The stage graph as inline SVG, laid out by hand from the stage order and the moves deals made.

The main path's stages stand in declaration order, the won stages at the
end of that line, and beside it the side stages (off the main path: rework,
waiting) followed by the lost stages: a row left to right with lost
below for funnels of up to ROW_LIMIT stages, a column top to bottom with
lost on the right for longer ones (so 18 stages stay readable). An edge is
drawn for every move deals made (its width grows with the count, which is
written on it), dashed for every declared transition no deal took, and red
for a move the spec does not declare. Moves to the next stage are straight;
skips arc on one side of the line, moves back on the other. A node's count
is the deals that entered the stage (and its entries, when deals came back).

Geometry is worked out along the line (`along`) and across it (`across`)
and turned into x, y at the end, so both layouts share it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...lang import _
from ..metrics import FunnelMetrics
from . import units
from .svg import svg, tag, text, wrap_label

NODE_W, NODE_H, MARGIN = 128.0, 50.0, 20.0
ROW_LIMIT = 8                  # more stages than this in the line: lay it out as a column


@dataclass(frozen=True)
class Axis:
    """Which way the line runs, and the spacing that suits it."""

    vertical: bool
    gap: float                 # between two nodes of the line
    side_gap: float            # between the line and the lost stages

    @property
    def along_size(self) -> float:
        return NODE_H if self.vertical else NODE_W

    @property
    def across_size(self) -> float:
        return NODE_W if self.vertical else NODE_H

    def xy(self, along: float, across: float) -> tuple[float, float]:
        return (across, along) if self.vertical else (along, across)


ROW = Axis(vertical=False, gap=62.0, side_gap=110.0)
COLUMN = Axis(vertical=True, gap=36.0, side_gap=170.0)


def _line(shape) -> list:
    """The main line: the main path's stages in declaration order, then the won stages."""
    return sorted((s for s in shape.stages if s.kind != "lost" and s.id not in shape.side_ids),
                  key=lambda s: (s.kind == "won", s.order))


def _row_of(stages: list, axis: Axis, length: float, across: float, centres: dict) -> None:
    """Stages beside the line (lost, side), centred along it."""
    span = len(stages) * axis.along_size + (len(stages) - 1) * axis.gap
    start = (length - span) / 2
    for i, stage in enumerate(stages):
        centres[stage.id] = (start + axis.along_size / 2 + i * (axis.along_size + axis.gap), across)


def _layout(shape, axis: Axis, room_for_skips: bool) -> tuple[dict, float, float]:
    """Node centres (along, across) by stage id, and the extent along and across."""
    line = _line(shape)
    lost = [s for s in shape.stages if s.kind == "lost"]
    across = MARGIN + (80.0 if room_for_skips else 0.0) + axis.across_size / 2
    centres = {s.id: (MARGIN + axis.along_size / 2 + i * (axis.along_size + axis.gap), across)
               for i, s in enumerate(line)}
    length = MARGIN * 2 + len(line) * axis.along_size + (len(line) - 1) * axis.gap
    lost_across = across + axis.across_size + axis.side_gap
    _row_of(list(shape.side_stages) + lost, axis, length, lost_across, centres)
    return centres, length, lost_across + axis.across_size / 2 + MARGIN


def _curve(axis: Axis, a: tuple, b: tuple, bend: float) -> str:
    """A cubic from a to b (along, across), both controls pushed `bend` across."""
    points = [axis.xy(*a), axis.xy(a[0], a[1] + bend), axis.xy(b[0], b[1] + bend), axis.xy(*b)]
    (x1, y1), (c1x, c1y), (c2x, c2y), (x2, y2) = points
    return f"M{x1:.1f},{y1:.1f} C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}"


def _straight(axis: Axis, a: tuple, b: tuple) -> str:
    (x1, y1), (x2, y2) = axis.xy(*a), axis.xy(*b)
    return f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"


def _edge(axis: Axis, a: tuple, b: tuple, steps: int, length: float) -> tuple[str, tuple, str]:
    """Path from node a to node b, its label's (along, across) and text anchor.

    steps: how many places b is after a on the line (0 when one of them is off it).
    """
    (a_al, a_ac), (b_al, b_ac) = a, b
    half_al, half_ac, quarter = axis.along_size / 2, axis.across_size / 2, axis.along_size / 4
    side_anchor = "end" if axis.vertical else "middle"
    if steps == 1:                           # to the next stage: straight
        start, end = (a_al + half_al, a_ac), (b_al - half_al, b_ac)
        return _straight(axis, start, end), ((start[0] + end[0]) / 2 + (4 if axis.vertical else 0),
                                             a_ac - (8 if axis.vertical else 9)), side_anchor
    if steps:
        lift = 28 + 12 * min(abs(steps), 4)
        if steps > 1:                        # a skip: an arc on the near side
            start, end = (a_al + quarter, a_ac - half_ac), (b_al - quarter, b_ac - half_ac)
            return _curve(axis, start, end, -lift), ((start[0] + end[0]) / 2, start[1] - lift * 0.75 - 4), \
                side_anchor
        start, end = (a_al - quarter, a_ac + half_ac), (b_al + quarter, b_ac + half_ac)   # back: the far side
        return _curve(axis, start, end, lift), ((start[0] + end[0]) / 2, start[1] + lift * 0.75 + 12), \
            "start" if axis.vertical else "middle"
    if a_ac == b_ac:                         # within the row beside the line: from a side stage to a lost one
        sign = 1 if b_al > a_al else -1
        start, end = (a_al + sign * half_al, a_ac), (b_al - sign * half_al, b_ac)
        return _straight(axis, start, end), ((start[0] + end[0]) / 2, a_ac - 8), "middle"
    toward = b_ac > a_ac                     # into the row beside the line, or back out of it
    start_ac = a_ac + half_ac if toward else a_ac - half_ac
    end_ac = b_ac - half_ac if toward else b_ac + half_ac
    # arrive spread over the target's side, in the order the sources stand, so arrowheads do not pile up
    if toward:
        end_al = b_al + (a_al - length / 2) / length * (axis.along_size - 24)
        start_al = a_al
    else:                                    # back to the line: apart from the moves that came the other way
        start_al = a_al + quarter / 2 + (b_al - length / 2) / length * (axis.along_size / 2 - 12)
        end_al = b_al + quarter
    label = (start_al + (end_al - start_al) * 0.62 + (0 if axis.vertical else 10),
             start_ac + (end_ac - start_ac) * 0.62 - (6 if axis.vertical else 0))
    return _straight(axis, (start_al, start_ac), (end_al, end_ac)), label, "middle"


def _skips_forward(shape, edges) -> bool:
    place = {s.id: i for i, s in enumerate(_line(shape))}
    return any(a in place and b in place and place[b] > place[a] + 1 for a, b in edges)


ARROW = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
         'markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
         'class="arrowhead"/></marker></defs>')


def _node(stage, cx: float, cy: float, note: str) -> list[str]:
    parts = [tag("rect", x=cx - NODE_W / 2, y=cy - NODE_H / 2, width=NODE_W, height=NODE_H, rx=8,
                 class_=f"node node-{stage.kind}")]
    lines = wrap_label(stage.title, 17, 2)
    first_y = cy - (len(lines) - 1) * 7 - 3
    for i, line in enumerate(lines):
        parts.append(text(cx, first_y + i * 14, line, class_="node-title", text_anchor="middle"))
    parts.append(text(cx, cy + NODE_H / 2 - 6, note, class_="node-note", text_anchor="middle"))
    return parts


def stage_graph(shape, m: FunnelMetrics) -> str:
    known = shape.stage_by_id       # a results file may name stages its funnel lacks: the graph draws the funnel's
    taken = {(f.source, f.target): f.count for f in m.flows if f.source in known and f.target in known}
    declared = {e for e in shape.declared_edges() if e[0] in known and e[1] in known}
    edges = sorted(set(taken) | declared, key=lambda e: (shape.stage_by_id[e[0]].order,
                                                         shape.stage_by_id[e[1]].order))
    axis = COLUMN if len(_line(shape)) > ROW_LIMIT else ROW
    centres, length, breadth = _layout(shape, axis, _skips_forward(shape, edges))
    place = {s.id: i for i, s in enumerate(_line(shape))}
    top = max(taken.values(), default=1)
    parts, labels = [ARROW], []
    for source, target in edges:
        if source not in centres or target not in centres or source == target:
            continue
        steps = place[target] - place[source] if source in place and target in place else 0
        path, (l_al, l_ac), anchor = _edge(axis, centres[source], centres[target], steps, length)
        count = taken.get((source, target), 0)
        if count:
            kind = "edge" if not declared or (source, target) in declared else "edge undeclared"
            parts.append(tag("path", d=path, class_=kind, stroke_width=f"{1.2 + 5 * count / top:.1f}",
                             marker_end="url(#arrow)"))
            lx, ly = axis.xy(l_al, l_ac)
            labels.append(text(lx, ly + (4 if axis.vertical else 0), units.count(count), class_="edge-label",
                               text_anchor=anchor))
        else:
            parts.append(tag("path", d=path, class_="edge unused", marker_end="url(#arrow)"))
    entered = {stage: (deals, entries) for stage, deals, entries in m.entered}
    for stage in shape.stages:
        cx, cy = axis.xy(*centres[stage.id])
        deals, entries = entered.get(stage.id, (0, 0))
        note = (_("reached {count}") if stage.is_open else _("{count} entered")).format(count=units.count(deals))
        if entries != deals:
            note += ", " + _("{count} entries").format(count=units.count(entries))
        parts.extend(_node(stage, cx, cy, note))
    width, height = axis.xy(length, breadth)
    return svg(width, height, "".join(parts + labels), _("Stage graph of {funnel}").format(funnel=shape.title), "chart stage-graph")
