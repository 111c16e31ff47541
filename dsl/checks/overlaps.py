"""Which automatic transitions leaving one stage can fire for the same deal (FNL304), or cannot be told (FNL306)."""
from __future__ import annotations

from dataclasses import dataclass

from ..model import Funnel, Transition, per_funnel
from ..satisfy import Answer, Verdict, condition, decide
from ..terms import funnel_terms


@dataclass(frozen=True)
class Overlap:
    first: Transition             # tried first: it wins when both hold
    second: Transition
    stage: str                    # the stage both leave (the first one found)
    verdict: Verdict


def automatic_transitions_leaving(funnel: Funnel, stage_id: str) -> list[Transition]:
    """In the order they are tried: explicit ones from the stage and `any -> X when …` (for an open stage)."""
    return _automatic_transitions_by_stage(funnel)[stage_id]


@per_funnel
def _automatic_transitions_by_stage(funnel: Funnel) -> dict[str, list[Transition]]:
    """`automatic_transitions_leaving` for every stage, in one pass over the transitions."""
    leaving: dict[str, list[Transition]] = {s.id: [] for s in funnel.stages}
    open_ids = [s.id for s in funnel.open_stages]
    for t in funnel.transitions:
        if not t.automatic:
            continue
        if t.source is not None:
            if t.source in leaving:
                leaving[t.source].append(t)
        else:
            for stage_id in open_ids:
                if stage_id != t.target:
                    leaving[stage_id].append(t)
    return leaving


def _conditions(funnel: Funnel, transition: Transition, stage: str):
    yield condition(transition.criterion, stage=stage)
    for require in funnel.stage_by_id[transition.target].requires:
        yield condition(require, stage=stage)


@per_funnel
def overlaps(funnel: Funnel) -> list[Overlap]:
    """Pairs of automatic transitions to different stages whose criteria (and targets' `require`) can hold together.

    A pair is decided once: YES on any stage they both leave wins over UNKNOWN.
    """
    terms = funnel_terms(funnel)
    found: dict[tuple[int, int], Overlap] = {}
    for stage in funnel.stages:
        leaving = automatic_transitions_leaving(funnel, stage.id)
        for i, first in enumerate(leaving):
            for second in leaving[i + 1:]:
                key = (first.index, second.index)
                if first.target == second.target or (key in found and found[key].verdict.answer is Answer.YES):
                    continue
                verdict = decide([*_conditions(funnel, first, stage.id), *_conditions(funnel, second, stage.id)],
                                 terms)
                if verdict.answer is not Answer.NO:
                    found[key] = Overlap(first, second, stage.id, verdict)
    return [found[key] for key in sorted(found)]


def grouped_overlaps(funnel: Funnel, answer: Answer) -> list[tuple[Transition | None, list[Overlap]]]:
    """Overlaps with the given answer, those of one `any -> …` transition together (it overlaps stage by stage).

    Each group is (the shared `any` transition or None, its overlaps); a pair of two
    transitions with explicit sources, or of two `any` transitions, is a group of its own.
    """
    groups: dict[object, tuple[Transition | None, list[Overlap]]] = {}
    for overlap in overlaps(funnel):
        if overlap.verdict.answer is not answer:
            continue
        anys = [t for t in (overlap.first, overlap.second) if t.source is None]
        key = ("any", anys[0].index) if len(anys) == 1 else ("pair", overlap.first.index, overlap.second.index)
        groups.setdefault(key, (anys[0] if len(anys) == 1 else None, []))[1].append(overlap)
    return list(groups.values())
