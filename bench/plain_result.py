"""The benchmark's funnel by hand, doing the whole job: every action recorded, the result written as JSON.

bench/plain.py replays the funnel and only counts the actions; `funnel
simulate` also records every action with its deal, time, payload and the
rule that made it (its source span), keeps each deal's path, and writes
it all out. This is that job written by hand for exactly this funnel, as a
careful programmer would after a look at the profiler: dicts and a heap per
deal, the records as dicts, a cache for the ISO texts of instants, the
cycle collector off while the records pile up (as the engine does), and
the whole result written in one call by orjson where installed (compact
JSON: the fastest writer there is). Its outcomes and actions, decoded, must equal ours before
its time is shown: the fair baseline for the command's end-to-end speed.
It is a program of its own, not built from bench/plain.py: sharing code
would slow one of them with the other's needs.
"""
from __future__ import annotations

import gc
import time
from datetime import datetime
from functools import lru_cache
from heapq import heappop, heappush

from .plain import (DAY, DEMO, LOSE_AFTER, LOST, NEGOTIATION, NEW, PROPOSAL, QUALIFIED, REMIND, STAGES, TERMINAL, WON,
                    loads_function)
from .workload import SPEC_TEXT

STATUS = ("open",) * 5 + ("won", "lost")
DEFAULTS = {"budget": None, "score": 0, "segment": None, "demo_done": False, "proposal_sent": False, "paid": 0,
            "manager": "team"}
SET_FIELD = {"call": "score", "demo": "demo_done", "proposal": "proposal_sent", "payment": "paid"}
LOSE_REASON = {NEW: "no response", QUALIFIED: "stalled", PROPOSAL: "no answer"}


def _source_of(text: str) -> tuple[int, dict]:
    """(line, span as the result writes it, without its file) of the spec line starting with `text`."""
    for number, line in enumerate(SPEC_TEXT.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(text):
            column = len(line) - len(line.lstrip()) + 1
            return number, {"line": number, "column": column, "end_line": number,
                            "end_column": column + len(stripped)}
    raise LookupError(f"the workload's spec has no line starting with {text!r}")


def rule_sources(source: str) -> dict[str, tuple[str, dict]]:
    """What names each rule and transition in a record: (label, span), keyed by the spec text they start with.

    A rule without a name is labelled by its trigger and actions, a transition `from -> to`; `source` is the
    spec's name as the result gives it."""
    labels = {}
    for start in ("on event call", "on event demo", "on event proposal", "on event payment", "after 14d in new",
                  "after 30d in qualified", "after 21d in proposal", "every 7d", "on enter negotiation",
                  "on enter won", "new -> lost", "new -> qualified", "qualified -> demo", "demo -> proposal",
                  "proposal -> negotiation", "negotiation -> won"):
        number, span = _source_of(start)
        labels[start] = (RULE_LABELS.get(start, start), {"file": source, **span})
    return labels


RULE_LABELS = {      # the workload's rules as the language names a rule written without a name
    "on event call": "on event call: set score = score + 10",
    "on event demo": "on event demo: set demo_done = true",
    "on event proposal": "on event proposal: set proposal_sent = true",
    "on event payment": "on event payment: set paid = paid + event.amount",
    "after 14d in new": "after 14d in new: move to lost",
    "after 30d in qualified": "after 30d in qualified: move to lost",
    "after 21d in proposal": "after 21d in proposal: move to lost",
    "every 7d": 'every 7d in negotiation while paid < budget: notify "payment reminder"',
    "on enter negotiation": 'on enter negotiation: task "send the contract"',
    "on enter won": 'on enter won: notify "won"',
}


def replay_result(path: str, out: str, source: str) -> tuple[int, int]:
    """Replay the workload stream at `path`, write {"outcomes", "actions"} to `out`; (events, actions)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as lines:
            outcomes, actions, count = _replay(map(loads_function(), lines), rule_sources(source))
        with open(out, "wb") as handle:
            handle.write(_dumps({"outcomes": outcomes, "actions": actions}))
    finally:
        if enabled:
            gc.enable()
    return count, len(actions)


def _dumps(value) -> bytes:
    try:
        import orjson

        return orjson.dumps(value)
    except ImportError:         # the same reader as the engine's, and the standard library's writer
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@lru_cache(maxsize=1 << 16)
def _iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _replay(events, sources: dict[str, tuple[str, dict]]) -> tuple[list[dict], list[dict], int]:
    iso = _iso
    fromiso = datetime.fromisoformat
    auto = {(NEW, LOST): sources["new -> lost"], (NEW, QUALIFIED): sources["new -> qualified"],
            (QUALIFIED, DEMO): sources["qualified -> demo"], (DEMO, PROPOSAL): sources["demo -> proposal"],
            (PROPOSAL, NEGOTIATION): sources["proposal -> negotiation"],
            (NEGOTIATION, WON): sources["negotiation -> won"]}
    setters = {name: sources[f"on event {name}"] for name in SET_FIELD}
    losers = {NEW: sources["after 14d in new"], QUALIFIED: sources["after 30d in qualified"],
              PROPOSAL: sources["after 21d in proposal"]}
    remind, contract, won = sources["every 7d"], sources["on enter negotiation"], sources["on enter won"]
    deals: dict[str, list] = {}     # id -> [stage, fields, timers, sequence, path, lost reason, id, created]
    actions: list[dict] = []
    act = actions.append
    latest = None
    count = 0

    def record(d: list, now: float, kind: str, payload: dict, rule: tuple[str, dict]) -> None:
        act({"deal": d[6], "time": iso(now), "kind": kind, "payload": payload, "rule": rule[0], "span": rule[1]})

    def move(d: list, target: int, now: float, via: str, reason: str | None) -> None:
        d[4][-1][2] = now
        d[4].append([target, now, None, via])
        d[5] = reason if target == LOST else None
        enter(d, target, now)

    def enter(d: list, stage: int, now: float) -> None:
        d[0] = stage
        timers = d[2] = []
        if stage in LOSE_AFTER:
            d[3] += 1
            heappush(timers, (now + LOSE_AFTER[stage], d[3], "lose"))
        elif stage == NEGOTIATION:
            d[3] += 1
            heappush(timers, (now + REMIND, d[3], "remind"))
            record(d, now, "task", {"text": "send the contract", "due": iso(now + 2 * DAY), "for": d[1]["manager"]},
                   contract)
        elif stage == WON:
            record(d, now, "notify", {"to": d[1]["manager"], "text": "won"}, won)

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
            because = "spam" if target == LOST else None
            record(d, now, "move", {"from": STAGES[stage], "to": STAGES[target], "because": because},
                   auto[stage, target])
            move(d, target, now, "auto", because)

    def fire_due(d: list, until: float) -> None:
        timers = d[2]
        while timers and timers[0][0] <= until:
            due, _, what = heappop(timers)
            if what == "lose":
                stage, reason = d[0], LOSE_REASON[d[0]]
                record(d, due, "move", {"from": STAGES[stage], "to": "lost", "because": reason}, losers[stage])
                move(d, LOST, due, "rule", reason)
                timers = d[2]
            elif d[1]["paid"] < d[1]["budget"]:
                record(d, due, "notify", {"to": d[1]["manager"], "text": "payment reminder"}, remind)
                d[3] += 1
                heappush(timers, (due + REMIND, d[3], "remind"))
            else:
                continue            # a condition that does not hold ends the `every` and sets nothing off
            cascade(d, due)

    for event in events:
        now = fromiso(event["ts"]).timestamp()
        deal = event["deal"]
        kind = event["type"]
        count += 1
        if latest is None or now > latest:
            latest = now
        if kind == "created":
            fields = dict(DEFAULTS)
            fields.update(event["fields"])
            d = deals[deal] = [NEW, fields, [], 0, [[NEW, now, None, "created"]], None, deal, now]
            enter(d, NEW, now)
            cascade(d, now)
            continue
        d = deals[deal]
        if d[2] and d[2][0][0] <= now:
            fire_due(d, now)
        f = d[1]
        if kind == "event":
            name = event["name"]
            field = SET_FIELD[name]
            old = f[field]
            new = old + 10 if name == "call" else old + event["data"]["amount"] if name == "payment" else True
            record(d, now, "set", {"field": field, "value": new, "previous": old}, setters[name])
            f[field] = new
        elif kind == "updated":
            f.update(event["fields"])
        elif not TERMINAL[d[0]]:                       # moved, to lost: allowed from any open stage
            move(d, LOST, now, "manual", event.get("reason"))
        cascade(d, now)
    outcomes = []
    for deal in sorted(deals):
        d = deals[deal]
        if latest is not None and d[2] and d[2][0][0] <= latest:
            fire_due(d, latest)
        stage = d[0]
        path = [{"stage": STAGES[s], "entered": iso(entered), "left": iso(left), "via": via}
                for s, entered, left, via in d[4]]
        outcomes.append({"deal": deal, "funnel": "pipeline", "created": iso(d[7]), "stage": STAGES[stage],
                         "status": STATUS[stage], "lost_reason": d[5] if stage == LOST else None,
                         "closed": path[-1]["entered"] if TERMINAL[stage] else None, "path": path, "fields": d[1]})
    return outcomes, actions, count
