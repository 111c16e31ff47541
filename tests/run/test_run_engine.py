"""RunEngine and the run loop: duplicates, out-of-order events, timers across a restart, bad lines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from funnelspec.api import analyse
from funnelspec.engine.compile import compile_spec
from funnelspec.engine.outcome import iso
from funnelspec.engine.values import parse_time
from funnelspec.run.engine import RunEngine
from funnelspec.run.store import open_store
from run_helpers import run_once

SPEC = str(Path(__file__).with_name("timers.funnel"))
DAY = 86400.0
T0 = parse_time("2026-03-02T10:00:00Z")


def _engine(path: str) -> RunEngine:
    return RunEngine(compile_spec(analyse(SPEC).spec), open_store(path), hash="test")


def _created(n: int, deal: str = "D1", at: float = T0, **fields) -> dict:
    return {"id": f"e{n}", "deal": deal, "ts": iso(at), "type": "created",
            "fields": {"budget": 1000, "manager": "Ivanova", **fields}}


def _moved(n: int, to: str, deal: str = "D1", at: float = T0) -> dict:
    return {"id": f"e{n}", "deal": deal, "ts": iso(at), "type": "moved", "to": to}


def _payment(n: int, amount: int, deal: str = "D1", at: float = T0) -> dict:
    return {"id": f"e{n}", "deal": deal, "ts": iso(at), "type": "event", "name": "payment", "data": {"amount": amount}}


@pytest.fixture
def engine(tmp_path):
    made = _engine(str(tmp_path / "state.db"))
    yield made
    made.store.close()


def test_a_repeated_event_is_counted_and_skipped(engine):
    first = engine.ingest([_created(1), _moved(2, "proposal", at=T0 + 60), _payment(3, 400, at=T0 + 120)])
    assert [r.status for r in first] == ["applied"] * 3
    again = engine.ingest([_payment(3, 400, at=T0 + 120), _created(1)])
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    deal = engine.store.deal("D1")
    assert deal.state["fields"]["paid"] == 400          # applied once, not twice
    assert [a.kind for a in engine.store.actions()] == ["task", "set"]


def test_duplicates_within_one_batch(engine):
    results = engine.ingest([_created(1), _payment(2, 100, at=T0 + 1), _payment(2, 100, at=T0 + 1)])
    assert [r.status for r in results] == ["applied", "applied", "duplicate"]
    assert engine.store.deal("D1").state["fields"]["paid"] == 100


def test_out_of_order_events_are_rejected_with_the_reason(engine):
    results = engine.ingest([_moved(1, "proposal"), _created(2, at=T0 + 100), _payment(3, 5, at=T0 + 50)])
    assert [r.status for r in results] == ["rejected", "applied", "rejected"]
    assert 'unknown deal "D1"' in results[0].reason
    assert "goes back in time" in results[2].reason
    rejects = engine.store.rejects()
    assert [(r.line, r.reason) for r in rejects] == [(1, results[0].reason), (3, results[2].reason)]
    assert json.loads(rejects[0].raw)["id"] == "e1"


def test_action_ids_are_stable_per_deal(engine):
    results = engine.ingest([_created(1), _created(2, deal="D2")])
    assert [r.actions for r in results] == [("D1:1",), ("D2:1",)]
    results = engine.ingest([_created(3, deal="D1")])      # a second `created` for D1 is rejected
    assert results[0].status == "rejected" and results[0].actions == ()


def test_timers_that_came_due_while_down_fire_once_in_due_order(tmp_path):
    path = str(tmp_path / "state.db")
    engine = _engine(path)
    engine.ingest([_created(1), _moved(2, "proposal", at=T0 + 60)])
    assert engine.fire_due(T0 + 3 * DAY) == 0            # nothing is due yet
    engine.store.close()

    restarted = _engine(path)                            # the process was down for 40 days
    assert restarted.fire_due(T0 + 40 * DAY) == 1
    fired = [(a.kind, a.ts) for a in restarted.store.actions()][1:]
    due = T0 + 60
    assert fired == [("notify", due + 7 * DAY), ("notify", due + 14 * DAY), ("notify", due + 21 * DAY),
                     ("notify", due + 28 * DAY), ("move", due + 30 * DAY)]
    assert restarted.store.deal("D1").stage == "lost"
    assert restarted.store.deal("D1").next_due is None
    assert restarted.fire_due(T0 + 80 * DAY) == 0        # once: nothing fires twice
    assert len(restarted.store.actions()) == 6
    restarted.store.close()


def test_pending_timers_are_stored_with_the_deal(engine):
    engine.ingest([_created(1), _moved(2, "proposal", at=T0 + 60)])
    deal = engine.store.deal("D1")
    assert deal.next_due == T0 + 60 + 7 * DAY
    timers = [(t[3].rsplit("/", 1)[-1], t[4], t[5]) for t in deal.state["timers"]]
    assert timers == [('every 7d in proposal while paid < budget: notify "Remind about the payment"', "every", 7 * 86400),
                      ("after 30d in proposal: move to lost", "after", 30 * 86400)]


def test_wall_clock_loop_fires_at_start_what_came_due(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [_created(1), _moved(2, "proposal", at=T0 + 60)]) + "\n")
    store = str(tmp_path / "state.db")
    run_once(SPEC, str(events), store, clock="wall", now=lambda: T0 + DAY)
    assert [a.kind for a in _actions(store)] == ["task"]
    totals = run_once(SPEC, str(events), store, clock="wall", now=lambda: T0 + 8 * DAY)
    assert totals.lines == 0 and totals.timers == 1      # read on from the stored position; the timer fired
    assert [a.kind for a in _actions(store)] == ["task", "notify"]


def test_on_error_stop_applies_what_came_before_and_stops_again(tmp_path):
    events = tmp_path / "events.jsonl"
    lines = [json.dumps(_created(1)), "not json", json.dumps(_created(3, deal="D3"))]
    events.write_text("\n".join(lines) + "\n")
    store = str(tmp_path / "state.db")
    totals = run_once(SPEC, str(events), store, on_error="stop")
    assert totals.stopped_at == (2, "not JSON: Expecting value (column 1)") and totals.applied == 1
    again = run_once(SPEC, str(events), store, on_error="stop")
    assert again.stopped_at[0] == 2 and again.applied == 0
    skipped = run_once(SPEC, str(events), store, on_error="skip")
    assert (skipped.rejected, skipped.applied) == (1, 1)
    opened = open_store(store)
    assert [d.deal for d in opened.deals()] == ["D1", "D3"]
    opened.close()


def _actions(path: str):
    store = open_store(path)
    try:
        return store.actions()
    finally:
        store.close()
