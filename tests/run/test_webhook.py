"""HTTP webhook delivery (run/webhook.py through run/outbox.py's Delivery) against a real receiver on 127.0.0.1.

The receiver (webhook_receiver.py) answers 500s, then takes longer than the
sender's timeout, then recovers: every action must arrive, each duplicate is
one the receiver had already taken when the sender stopped waiting, and
every request carries the action's id as its Idempotency-Key.
"""
from __future__ import annotations

import random
import socket

import pytest

from funnelspec.run.outbox import Delivery, open_sink
from funnelspec.run.store import OutboxAction, open_store
from funnelspec.run.webhook import BadWebhookUrl, WebhookSink
from webhook_receiver import Receiver

TIMEOUT = 0.3     # the sender's; a "slow" answer takes longer


def _actions(n: int) -> list[OutboxAction]:
    return [OutboxAction(f"D{i % 3}:{i}", f"D{i % 3}", 1_700_000_000.0 + i, "task",
                         {"text": f"Позвонить {i}", "due": None}, "r1", {"file": "a.funnel", "line": i})
            for i in range(1, n + 1)]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "postgres":
        target = request.getfixturevalue("postgres_server").new_database()
    else:
        target = str(tmp_path / "state.db")
    opened = open_store(target)
    yield opened
    opened.close()


class FakeClock:
    """Wall time the test moves on by hand: backoff waits without the test waiting."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _deliver_until_settled(delivery: Delivery, store, clock: FakeClock, rounds: int = 40) -> int:
    """Drain, move the clock past any backoff, again, until nothing is pending; how many rounds it took."""
    for n in range(1, rounds + 1):
        delivery.drain()
        if store.outbox_counts().pending == 0:
            return n
        clock.now += 400.0            # past the longest backoff (300 s)
    raise AssertionError(f"still pending after {rounds} rounds: {store.outbox_counts()}")


def test_a_failing_then_recovering_receiver_gets_every_action(store):
    actions = _actions(8)
    with store.transaction() as tx:
        tx.add_actions(actions)
    clock = FakeClock()
    # requests 1-3 fail with 500 (three actions, the batch goes on), 4 and 5 time out (the rest of each batch
    # waits for the next try), then every answer is 200
    with Receiver([500, 500, 500, "slow", "slow"], slow=TIMEOUT * 4) as receiver:
        sink = WebhookSink(receiver.url, timeout=TIMEOUT)
        delivery = Delivery(store, sink, clock=clock, rng=random.Random(7))
        rounds = _deliver_until_settled(delivery, store, clock)
        sink.close()
    expected = {a.id: a.to_json() for a in actions}
    assert set(receiver.keys()) == set(expected)
    assert receiver.duplicates() == 2            # the two slow answers: taken, then sent again
    for key, body, headers in receiver.arrivals:
        assert body == expected[key] and headers["Content-Type"] == "application/json"
    assert rounds == 3 and receiver.requests == 5 + 8
    counts = store.outbox_counts()
    assert (counts.pending, counts.delivered, counts.dead) == (0, 8, 0)
    assert delivery.delivered == 8


def test_failures_are_recorded_with_a_backoff_that_grows(store):
    with store.transaction() as tx:
        tx.add_actions(_actions(1))
    clock = FakeClock()
    waits = []
    with Receiver([], then=503) as receiver:
        sink = WebhookSink(receiver.url, timeout=TIMEOUT)
        delivery = Delivery(store, sink, clock=clock, rng=random.Random(1), dead_after=5)
        for _ in range(4):
            delivery.drain()
            (action,) = store.actions()
            waits.append(action.next_try - clock.now)
            clock.now = action.next_try
        sink.close()
    assert action.attempts == 4 and action.error == f"POST {sink.name}: HTTP 503 Service Unavailable"
    for n, wait in enumerate(waits):             # 1, 2, 4, 8 s, each between half and all of that
        assert 2 ** n / 2 <= wait <= 2 ** n


def test_after_n_failures_an_action_is_dead_not_lost(store):
    actions = _actions(3)
    with store.transaction() as tx:
        tx.add_actions(actions)
    clock = FakeClock()
    with Receiver([], then=500) as receiver:
        sink = WebhookSink(receiver.url, timeout=TIMEOUT)
        delivery = Delivery(store, sink, clock=clock, rng=random.Random(3), dead_after=3)
        for _ in range(5):
            delivery.drain()
            clock.now += 400.0
        sink.close()
    assert receiver.requests == 3 * 3 and receiver.keys() == []
    dead = store.actions(status="dead")
    assert [a.id for a in dead] == [a.id for a in actions]
    assert all(a.attempts == 3 and a.error.endswith("HTTP 500 Internal Server Error") for a in dead)
    assert store.pending_actions(now=clock.now + 1e6) == []


def test_a_receiver_nobody_listens_on_fails_the_batch_after_one_try(tmp_path):
    with socket.socket() as probe:            # a port that was free a moment ago: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = WebhookSink(f"http://127.0.0.1:{port}/x", timeout=TIMEOUT)
    failures = sink.deliver(_actions(3))
    assert list(failures) == ["D1:1", "D2:2", "D0:3"]
    assert "refused" in failures["D1:1"].lower()
    assert all(reason.startswith("not sent: POST ") for reason in list(failures.values())[1:])


@pytest.mark.parametrize("url, message", [
    ("http://", "a webhook URL starts with http:// or https:// and names a host"),
    ("http://127.0.0.1:99999/x", "the port is not a number from 0 to 65535"),
])
def test_a_bad_webhook_url_is_named(url, message):
    with pytest.raises(BadWebhookUrl, match=message) as caught:
        open_sink(url)
    assert f"`{url}`" in str(caught.value)


@pytest.fixture
def stream(tmp_path, monkeypatch):
    """tests/run/timers.funnel and a few events for it (they give 4 actions), in the current folder."""
    import json
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).with_name("timers.funnel"), tmp_path / "timers.funnel")
    events = [{"id": "e1", "deal": "D1", "ts": "2026-03-02T10:00:00Z", "type": "created",
               "fields": {"budget": 1000, "manager": "Иванова"}},
              {"id": "e2", "deal": "D2", "ts": "2026-03-02T11:00:00Z", "type": "created", "fields": {"budget": 500}},
              {"id": "e3", "deal": "D1", "ts": "2026-03-03T10:00:00Z", "type": "moved", "to": "proposal"},
              {"id": "e4", "deal": "D1", "ts": "2026-03-12T10:00:00Z", "type": "event", "name": "payment",
               "data": {"amount": 400}}]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events),
                                           encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_funnel_run_posts_to_a_url_and_a_failing_receiver_blocks_nothing(stream, cli):
    import json
    import sqlite3

    args = ["run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl", "--format", "json"]
    with Receiver([], then=500) as down:
        result = cli(*args, "--actions", down.url)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    store = open_store("state.db")
    actions = store.actions()
    store.close()
    # every event applied; every action tried, failed, and kept for later: none lost, none delivered
    assert summary["applied"] == 4 and len(actions) >= 2 and down.keys() == []
    assert summary["outbox"] == {"pending": len(actions), "delivered": 0, "dead": 0}
    assert all(a.attempts >= 1 and a.error.endswith("HTTP 500 Internal Server Error") for a in actions)
    with sqlite3.connect("state.db") as db:          # as if their backoff had passed
        db.execute("UPDATE outbox SET next_try = 0")
    with Receiver([]) as up:                          # the receiver is back: the next run delivers what waited
        result = cli(*args, "--actions", up.url)
    assert result.exit_code == 0, result.output
    assert sorted(up.keys()) == sorted(a.id for a in actions) and up.duplicates() == 0
    assert json.loads(result.output)["outbox"] == {"pending": 0, "delivered": len(actions), "dead": 0}


def test_funnel_run_with_a_bad_url_says_so(stream, cli):
    result = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl",
                 "--actions", "http://:80/x")
    assert result.exit_code == 2
    assert "`http://:80/x`: a webhook URL starts with http:// or https:// and names a host" in result.output
