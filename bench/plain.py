"""The benchmark's funnel replayed by hand: plain Python, dicts and a heap per deal for its timers, no framework.

This is what a careful programmer would write for exactly this funnel
(bench/workload.py) and nothing else: the practical limit of CPython for the
job, against which the engine's speed is measured. It reads with the same
JSON parser as the engine and keeps the same semantics (timers due at or
before an event fire first, in due order; automatic transitions cascade,
first that holds; a person's move out of a won or lost stage is refused;
the end is the latest event, and timers due by then fire). It checks
nothing the workload does not need and records the actions only as counts.
"""
from __future__ import annotations

from datetime import datetime
from heapq import heappop, heappush

DAY = 86_400
NEW, QUALIFIED, DEMO, PROPOSAL, NEGOTIATION, WON, LOST = range(7)
STAGES = ("new", "qualified", "demo", "proposal", "negotiation", "won", "lost")
TERMINAL = (False, False, False, False, False, True, True)
LOSE_AFTER = {NEW: 14 * DAY, QUALIFIED: 30 * DAY, PROPOSAL: 21 * DAY}   # `after D in STAGE: move to lost`
REMIND = 7 * DAY                                                          # `every 7d in negotiation`


def loads_function():
    try:
        import orjson

        return orjson.loads
    except ImportError:
        import json

        return json.loads


def replay(path: str) -> tuple[dict[str, str], int, dict[str, int]]:
    """(final stage by deal, events applied, actions by kind) for a workload stream."""
    with open(path, "rb") as lines:
        return replay_events(map(loads_function(), lines))


def replay_events(events) -> tuple[dict[str, str], int, dict[str, int]]:
    """`replay` on events already decoded (or decoded as they come: `map(loads, lines)`)."""
    fromiso = datetime.fromisoformat
    deals: dict[str, list] = {}
    actions = {"set": 0, "move": 0, "task": 0, "notify": 0}
    latest = None
    count = 0

    def enter(d: list, stage: int, now: float) -> None:
        d[0] = stage
        timers = d[2] = []
        if stage in LOSE_AFTER:
            d[3] += 1
            heappush(timers, (now + LOSE_AFTER[stage], d[3], "lose"))
        elif stage == NEGOTIATION:
            d[3] += 1
            heappush(timers, (now + REMIND, d[3], "remind"))
            actions["task"] += 1
        elif stage == WON:
            actions["notify"] += 1

    def cascade(d: list, now: float) -> None:
        f = d[1]
        while True:
            stage = d[0]
            if stage == NEW:
                target = LOST if f["segment"] == "spam" else QUALIFIED if f["score"] >= 30 else None
            elif stage == QUALIFIED:
                target = DEMO if f["demo_done"] else None
            elif stage == DEMO:
                target = PROPOSAL if f["proposal_sent"] else None
            elif stage == PROPOSAL:
                target = NEGOTIATION if f["score"] >= 60 else None
            elif stage == NEGOTIATION:
                target = WON if f["paid"] >= f["budget"] else None
            else:
                target = None
            if target is None:
                return
            actions["move"] += 1
            enter(d, target, now)

    def fire_due(d: list, until: float) -> None:
        timers = d[2]
        while timers and timers[0][0] <= until:
            due, _, what = heappop(timers)
            if what == "lose":
                actions["move"] += 1
                enter(d, LOST, due)
                timers = d[2]
            elif d[1]["paid"] < d[1]["budget"]:
                actions["notify"] += 1
                d[3] += 1
                heappush(timers, (due + REMIND, d[3], "remind"))
            cascade(d, due)

    for event in events:
        ts = event["ts"]
        now = fromiso(ts).timestamp()
        deal = event["deal"]
        kind = event["type"]
        count += 1
        if latest is None or now > latest:
            latest = now
        if kind == "created":
            fields = {"score": 0, "demo_done": False, "proposal_sent": False, "paid": 0, "manager": "team"}
            fields.update(event["fields"])
            d = deals[deal] = [NEW, fields, [], 0]
            enter(d, NEW, now)
            cascade(d, now)
            continue
        d = deals[deal]
        if d[2] and d[2][0][0] <= now:
            fire_due(d, now)
        f = d[1]
        if kind == "event":
            name = event["name"]
            actions["set"] += 1
            if name == "call":
                f["score"] += 10
            elif name == "demo":
                f["demo_done"] = True
            elif name == "proposal":
                f["proposal_sent"] = True
            else:
                f["paid"] += event["data"]["amount"]
        elif kind == "updated":
            f.update(event["fields"])
        elif not TERMINAL[d[0]]:                       # moved, to lost: allowed from any open stage
            actions["move"] += 1
            enter(d, LOST, now)
        cascade(d, now)
    for d in deals.values():
        if latest is not None and d[2] and d[2][0][0] <= latest:
            fire_due(d, latest)
    return {deal: STAGES[d[0]] for deal, d in deals.items()}, count, actions
