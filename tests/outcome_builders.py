"""Hand-made funnel shapes and deal outcomes for the metrics, diagnosis and report tests.

Times are given in days from an origin and turned into epoch seconds, so a
test reads like the case it computes by hand.
"""
from __future__ import annotations

from dataclasses import replace

from funnelspec.engine.outcome import DealOutcome, ReplayResult, Totals, Visit
from funnelspec.engine.shape import FunnelShape, StageShape

DAY = 86400.0
ORIGIN = 1_767_225_600.0          # 2026-01-01T00:00:00Z


def at(days: float) -> float:
    return ORIGIN + days * DAY


def security_shape(value_field: str | None = "budget", side: tuple[str, ...] = ()) -> FunnelShape:
    """The shape of examples/security_b2b.funnel: five open stages, won and lost; `side` ones declared so."""
    stages = tuple(replace(s, side=s.id in side) for s in (
        StageShape("new", "Новый лид", "open", None, 1 * DAY, 0),
        StageShape("qualification", "Квалификация", "open", 0.1, None, 1),
        StageShape("meeting", "Встреча/Звонок", "open", 0.25, None, 2),
        StageShape("proposal", "Коммерческое предложение", "open", 0.5, 7 * DAY, 3),
        StageShape("negotiation", "Согласование", "open", 0.75, 14 * DAY, 4),
        StageShape("won", "Успех", "won", None, None, 5),
        StageShape("lost", "Отклонено", "lost", None, None, 6),
    ))
    transitions = (("new", "qualification"), ("new", "lost"), ("qualification", "meeting"), ("meeting", "proposal"),
                   ("proposal", "negotiation"), ("negotiation", "won"), (None, "lost"), ("proposal", "lost"))
    return FunnelShape("security", "Системы безопасности (B2B)", "RUB", value_field, stages,
                       ("budget", "source", "segment", "meeting_at", "proposal_sent", "paid", "manager"),
                       transitions)


def deal(name: str, *stays: tuple, fields: dict | None = None, reason: str | None = None,
         created: float | None = None, funnel: str = "security", via: str = "auto") -> DealOutcome:
    """A deal from its stays: ("stage", entered_day, left_day or None), in order.

    Status follows the last stay: won/lost when it is the won/lost stage, else open.
    Every move but the creation is made `via` (auto; manual for moves by hand).
    """
    visits = []
    for i, (stage, entered, left) in enumerate(stays):
        visits.append(Visit(stage, at(entered), None if left is None else at(left),
                            "created" if i == 0 else via))
    last = visits[-1]
    status = last.stage if last.stage in ("won", "lost") else "open"
    closed = last.entered if status != "open" else None
    start = visits[0].entered if created is None else at(created)
    return DealOutcome(name, funnel, start, last.stage, status, reason if status == "lost" else None, closed,
                       tuple(visits), dict(fields or {}))


def straight(name: str, stages: list[str], end: str | None = None, start: float = 0.0, step: float = 1.0,
             **kwargs) -> DealOutcome:
    """A deal that spends `step` days in each of `stages`, then enters `end` (won/lost) or stays open."""
    stays, t = [], start
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1 and end is None
        stays.append((stage, t, None if last else t + step))
        t += step
    if end is not None:
        stays.append((end, t, None))
    return deal(name, *stays, **kwargs)


def sample_outcomes() -> list[DealOutcome]:
    """Twelve deals touching every section of the report: won, lost with reasons, stuck, skips, no value."""
    return [
        straight("D-01", ["new", "qualification", "meeting", "proposal", "negotiation"], "won", 0, 2,
                 fields={"budget": 450_000, "manager": "Иванова", "source": "ads"}),
        straight("D-02", ["new", "qualification", "meeting", "proposal", "negotiation"], "won", 1, 3,
                 fields={"budget": 120_000, "manager": "Петров", "source": "referral"}),
        deal("D-03", ("new", 2, 3), ("proposal", 3, 9), ("negotiation", 9, 20), ("won", 20, None),
             fields={"budget": None, "manager": "Иванова", "source": "ads"}),
        straight("D-04", ["new"], "lost", 3, 0.5, reason="не целевой",
                 fields={"budget": 80_000, "manager": "Петров", "source": "cold_call"}),
        straight("D-05", ["new", "qualification"], "lost", 4, 1, reason="нет ответа",
                 fields={"budget": 200_000, "manager": "Иванова", "source": "email"}),
        straight("D-06", ["new", "qualification", "meeting", "proposal"], "lost", 5, 4, reason="нет ответа",
                 fields={"budget": 300_000, "manager": "Петров", "source": "ads"}),
        straight("D-07", ["new", "qualification", "meeting", "proposal", "negotiation"], "lost", 6, 3,
                 reason="дорого", fields={"budget": 900_000, "manager": "Иванова", "source": "referral"}),
        straight("D-08", ["new", "qualification", "meeting", "proposal", "negotiation"], None, 10, 2,
                 fields={"budget": 640_000, "manager": "Петров", "source": "ads"}),
        straight("D-09", ["new", "qualification", "meeting"], None, 25, 1,
                 fields={"budget": 150_000, "manager": "Иванова", "source": "ads"}),
        straight("D-10", ["new"], None, 28, 1, fields={"manager": "Сидоренко", "source": "email"}),
        straight("D-11", ["new", "qualification", "meeting", "proposal"], None, 12, 1,
                 fields={"budget": 500_000, "manager": "Сидоренко", "source": "referral"}),
        straight("D-12", ["new", "qualification"], "lost", 14, 2,
                 fields={"budget": 70_000, "manager": "Сидоренко", "source": "cold_call"}),
    ]


SAMPLE_UNTIL = at(30)


def sample_result() -> ReplayResult:
    outcomes = sample_outcomes()
    return ReplayResult(spec="examples/security_b2b.funnel", until=SAMPLE_UNTIL, outcomes=outcomes,
                        totals=Totals(lines=61, applied=60, rejected=1, blank=0, deals=len(outcomes)))
