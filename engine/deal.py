"""A deal's state during a replay, and the outcome made from it: as a record, or straight as its JSON text."""
from __future__ import annotations

from .compile import CompiledFunnel
from .encode import outcome_json, visits_json
from .outcome import DealOutcome, Visit


class LoopDetected(Exception):
    def __init__(self, time: float, message: str, rules: tuple[str, ...]):
        super().__init__(message)
        self.time, self.message, self.rules = time, message, rules


class DealState:
    __slots__ = ("id", "funnel", "stage", "entered", "fields", "path", "timers", "last", "created",
                 "closed", "lost_reason", "visit", "seq", "at_fired", "line")

    def __init__(self, deal_id: str, funnel: CompiledFunnel, stage: int, ts: float, fields: list, line: int):
        self.id, self.funnel, self.stage, self.entered, self.fields = deal_id, funnel, stage, ts, fields
        # The stages visited, flat: stage, entered, via for each visit; a visit left when the next was entered.
        # A list per visit cost a fifth of a live deal's memory (bench/speed.py: memory per live deal).
        self.path: list = [stage, ts, "created"]
        self.timers: list = []
        self.last = self.created = ts
        self.closed = ts if funnel.stages[stage].terminal else None
        self.lost_reason = None
        self.visit = 0
        self.seq = 0
        self.at_fired: set | None = None
        self.line = line

    def visits(self) -> list[tuple[int, float, float | None, str]]:
        """(stage index, entered, left or None, via) for each visit, in order."""
        path = self.path
        lefts = path[4::3] + [None]
        return list(zip(path[0::3], path[1::3], lefts, path[2::3]))

    def visit_count(self) -> int:
        return len(self.path) // 3

    def visit_at(self, index: int) -> tuple[int, str]:
        """(stage index, via) of the visit at `index`."""
        return self.path[3 * index], self.path[3 * index + 2]

    def set_visits(self, visits) -> None:
        """The path from (stage index, entered, left, via) visits (a saved state's)."""
        self.path = [item for stage, entered, _, via in visits for item in (stage, entered, via)]


def deal_outcome(deal: DealState) -> DealOutcome:
    """Where the deal stands now, as the record the results keep."""
    stages = deal.funnel.stages
    path = tuple(Visit(stages[s].id, entered, left, via) for s, entered, left, via in deal.visits())
    return DealOutcome(*_standing(deal), path, deal_fields(deal))


def deal_json(deal: DealState) -> str:
    """`encode_outcome(deal_outcome(deal))`, without building the record and its visits: each visit's text around
    its times is made once per funnel, stage and via (CompiledFunnel.visit_texts)."""
    funnel = deal.funnel
    return outcome_json(*_standing(deal), visits_json(deal.path, funnel.stages, funnel.visit_texts),
                        deal_fields(deal))


def _standing(deal: DealState) -> tuple:
    """An outcome's first fields: deal, funnel, created, stage, status, lost reason, closed."""
    funnel = deal.funnel
    stage = funnel.stages[deal.stage]
    return (deal.id, funnel.id, deal.created, stage.id, stage.kind,
            deal.lost_reason if stage.kind == "lost" else None, deal.closed)


def deal_fields(deal: DealState) -> dict:
    """The deal's field values by name, as JSON values (dates as their text)."""
    funnel = deal.funnel
    fields = dict(zip(funnel.field_names, deal.fields))
    for index in funnel.written:
        name = funnel.field_names[index]
        fields[name] = funnel.codecs[index].write(fields[name])
    return fields
