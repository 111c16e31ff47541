"""The store contract: what every store (run/store.py) must do, as tests parametrised by a store factory.

A test module for one implementation defines a `store` fixture (a fresh, empty
store; closed afterwards) and imports these tests: `from store_contract import *`.
"""
from __future__ import annotations

import threading

import pytest

from funnelspec.run.store import OutboxAction, StoredDeal, StoredReject

__all__ = [name for name in dir() if name.startswith("test_")]   # filled again at the end


def _deal(name: str, stage: str = "new", due: float | None = None, n: int = 0) -> StoredDeal:
    return StoredDeal(name, "sales", stage, "h1", due, {"n": n, "name": name, "unicode": "Сделка"})


def _action(action_id: str, deal: str = "D1", ts: float = 1.0) -> OutboxAction:
    return OutboxAction(action_id, deal, ts, "task", {"text": "Позвонить", "due": None}, "r1",
                        {"file": "a.funnel", "line": 3})


def test_claim_event_once(store):
    with store.transaction() as tx:
        assert tx.claim_event("e1", "D1") is True
        assert tx.claim_event("e1", "D1") is False
    with store.transaction() as tx:
        assert tx.claim_event("e1", "D1") is False
        assert tx.claim_event("e2", "D1") is True


def test_applied_events_are_the_claimed_ones(store):
    with store.transaction() as tx:
        tx.claim_event("e1", "D1")
        tx.claim_event("e3", "D2")
    ids = ["e1", "e2", "e3"] + [f"x{n}" for n in range(1200)]     # more than one look's worth
    with store.transaction() as tx:
        assert tx.applied_events(ids) == {"e1", "e3"}
        tx.claim_event("x1100", "D3")
        assert tx.applied_events(ids) == {"e1", "e3", "x1100"}
        assert tx.applied_events([]) == set()


def test_rollback_undoes_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.claim_event("e1", "D1")
            tx.save_deal(_deal("D1"))
            tx.add_actions([_action("a1")])
            tx.add_reject(StoredReject("s", 1, "{}", "bad"))
            tx.set_meta("k", "v")
            raise RuntimeError("crash before commit")
    with store.transaction() as tx:
        assert tx.load_deal("D1") is None
        assert tx.get_meta("k") is None
        assert tx.claim_event("e1", "D1") is True
    assert store.actions() == [] and store.rejects() == []


def test_deal_round_trip_and_replace(store):
    with store.transaction() as tx:
        tx.save_deal(_deal("D1", due=5.5))
    with store.transaction() as tx:
        assert tx.load_deal("D1") == _deal("D1", due=5.5)
        tx.save_deal(_deal("D1", stage="won", n=2))
    assert store.deal("D1") == _deal("D1", stage="won", n=2)
    assert store.deal("nope") is None


def test_deals_sorted_and_stage_counts(store):
    with store.transaction() as tx:
        for name, stage in (("b", "new"), ("a", "won"), ("c", "new")):
            tx.save_deal(_deal(name, stage))
    assert [d.deal for d in store.deals()] == ["a", "b", "c"]
    counts = [(c.funnel, c.stage, c.spec_hash, c.deals) for c in store.stage_counts()]
    assert counts == [("sales", "new", "h1", 2), ("sales", "won", "h1", 1)]


def test_due_deals_earliest_first(store):
    with store.transaction() as tx:
        tx.save_deal(_deal("late", due=30.0))
        tx.save_deal(_deal("early", due=10.0))
        tx.save_deal(_deal("none", due=None))
        tx.save_deal(_deal("future", due=100.0))
    with store.transaction() as tx:
        assert tx.due_deals(30.0) == ["early", "late"]
        assert tx.due_deals(30.0, limit=1) == ["early"]
        assert tx.due_deals(5.0) == []


def test_actions_kept_once_in_order(store):
    with store.transaction() as tx:
        tx.add_actions([_action("a2", ts=2.0), _action("a1", ts=1.0)])
    with store.transaction() as tx:
        tx.add_actions([_action("a1", ts=9.0), _action("a3", deal="D2")])
    actions = store.actions()
    assert [a.id for a in actions] == ["a2", "a1", "a3"]
    assert actions[1].ts == 1.0 and actions[1].payload == {"text": "Позвонить", "due": None}
    assert actions[1].span == {"file": "a.funnel", "line": 3} and actions[1].status == "pending"
    assert [a.id for a in store.actions(deal="D2")] == ["a3"]


def test_delivery_marks_and_failures(store):
    with store.transaction() as tx:
        tx.add_actions([_action("a1"), _action("a2"), _action("a3")])
    assert [a.id for a in store.pending_actions(now=0.0)] == ["a1", "a2", "a3"]
    store.mark_delivered(["a1"], at=1.0)
    assert store.record_failure("a2", "HTTP 500", next_try=50.0, dead_after=2) is False
    assert [a.id for a in store.pending_actions(now=10.0)] == ["a3"]
    retry = store.pending_actions(now=50.0)
    assert [a.id for a in retry] == ["a2", "a3"] and retry[0].attempts == 1 and retry[0].error == "HTTP 500"
    assert store.record_failure("a2", "timeout", next_try=60.0, dead_after=2) is True
    assert [a.id for a in store.pending_actions(now=1e9)] == ["a3"]
    counts = store.outbox_counts()
    assert (counts.pending, counts.delivered, counts.dead) == (1, 1, 1)
    assert [a.id for a in store.actions(status="dead")] == ["a2"]


def test_rejects_in_order(store):
    with store.transaction() as tx:
        tx.add_reject(StoredReject("events.jsonl", 3, "not json", "not JSON: Expecting value (column 1)"))
        tx.add_reject(StoredReject("events.jsonl", 7, '{"id": 1}', "missing \"deal\""))
    rejects = store.rejects()
    assert [(r.line, r.raw) for r in rejects] == [(3, "not json"), (7, '{"id": 1}')]
    assert rejects[0].at > 0


def test_add_meta_counts_from_zero(store):
    with store.transaction() as tx:
        tx.add_meta("applied", 3)
        tx.add_meta("applied", 4)
    with store.transaction() as tx:
        tx.add_meta("applied", 10)
        assert tx.get_meta("applied") == "17"
    assert store.meta("applied") == "17"


def test_meta(store):
    with store.transaction() as tx:
        tx.set_meta("spec", "abc")
        tx.set_meta("spec", "def")
    assert store.meta("spec") == "def"
    assert store.meta("missing") is None


def test_delivery_from_another_thread(store):
    """The delivery side runs on its own thread beside the writer."""
    with store.transaction() as tx:
        tx.add_actions([_action("a1")])
    seen = []

    def deliver():
        seen.extend(a.id for a in store.pending_actions(now=0.0))
        store.mark_delivered(seen, at=1.0)

    thread = threading.Thread(target=deliver)
    thread.start()
    thread.join()
    assert seen == ["a1"] and store.outbox_counts().delivered == 1


__all__ = [name for name in dir() if name.startswith("test_")]
