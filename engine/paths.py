"""What one deal's path of stays says about the way it took through the funnel (docs/metrics.md "Paths").

The figures follow the stages a deal actually entered, in the order it
entered them, not the order the stages are written in: a stage is reached
when the deal entered it, a stage entered twice has two entries, a deal
passed a stage of the main path when, after entering it, it entered a stage
further down the path (or a won stage). `read_path` reads all of it in one
walk over the path; engine/aggregate.py only counts what it returns.
"""
from __future__ import annotations

from dataclasses import dataclass

from .outcome import DealOutcome
from .shape import LOST, OPEN, WON, FunnelShape


@dataclass(frozen=True, slots=True)
class PathFacts:
    entered: frozenset[str]                    # every stage the deal entered at least once
    depth: int                                 # furthest main-path position; len(main path) once won; -1: never on it
    passed: tuple[str, ...]                    # main-path stages the deal went on from, further down the path
    skipped: frozenset[str]                    # main-path stages jumped over by hand and never entered
    moves_back: frozenset[tuple[str, str]]     # (from, to): back up the path, or into a side stage
    losses: tuple[tuple[str, bool], ...]       # (stage left for a lost one, whether the deal had been lost before)
    returned: tuple[str, ...]                  # side stages the deal came back from to the main path (or won)
    was_open: bool                             # ever in an open stage (main path or side)
    won_ever: bool                             # ever in a won stage
    reopened: bool                             # entered an open stage again after a won or lost one


def read_path(shape: FunnelShape, outcome: DealOutcome) -> PathFacts:
    """The facts of one deal's path; its stages must be the shape's."""
    places, side = shape.path_places, shape.side_ids
    positions: list[int] = []                  # per stay: main-path position, len(main path) for won, -1 otherwise
    entered: set[str] = set()
    skipped: set[str] = set()
    moves_back: set[tuple[str, str]] = set()
    losses: list[tuple[str, bool]] = []
    previous, before, last_main, lost_before = None, None, -1, False
    was_open = won_ever = terminal_seen = reopened = False
    for visit in outcome.path:
        stage = visit.stage
        kind, position = places[stage]
        positions.append(position)
        entered.add(stage)
        if before == OPEN:
            back_from = places[previous][1]
            if back_from >= 0 and (stage in side or 0 <= position < back_from):
                moves_back.add((previous, stage))
            if position > last_main + 1 and last_main >= 0 and visit.via == "manual":
                skipped.update(s.id for s in shape.main_stages[last_main + 1:position])
        if kind == OPEN:
            was_open = True
            reopened = reopened or terminal_seen
            if position >= 0:
                last_main = position
        else:
            terminal_seen = True
            if kind == LOST:
                if previous is not None:
                    losses.append((previous, lost_before))
                lost_before = True
            else:
                won_ever = True
        previous, before = stage, kind
    end = len(shape.main_stages)
    passed, returned, further = [], [], -1
    for visit, position in zip(reversed(outcome.path), reversed(positions)):
        if 0 <= position < end:                # on the main path (a won stage's place is its end)
            if further > position:
                passed.append(visit.stage)
        elif further >= 0 and visit.stage in side:
            returned.append(visit.stage)
        if position > further:
            further = position
    depth = end if won_ever or outcome.status == WON else max(positions, default=-1)
    return PathFacts(frozenset(entered), depth, tuple(dict.fromkeys(passed)), frozenset(skipped - entered),
                     frozenset(moves_back), tuple(losses), tuple(dict.fromkeys(returned)), was_open, won_ever,
                     reopened)
