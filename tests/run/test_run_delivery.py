"""The outbox delivery: at-least-once to a sink, retries with backoff, dead letters, never blocking."""
from __future__ import annotations

import json
import random

import pytest

from funnelspec.run.outbox import Delivery, JsonLinesSink, open_sink
from funnelspec.run.store import OutboxAction, StoreError, open_store


class FlakySink:
    """Fails every action `failures` times (by raising, or by answering with failures), then takes them."""

    name = "flaky"

    def __init__(self, failures: int, raising: bool = False):
        self.failures, self.raising = failures, raising
        self.tries: dict[str, int] = {}
        self.received: list[str] = []

    def deliver(self, actions):
        failed = {}
        for action in actions:
            self.tries[action.id] = self.tries.get(action.id, 0) + 1
            if self.tries[action.id] <= self.failures:
                failed[action.id] = "HTTP 500"
            else:
                self.received.append(action.id)
        if failed and self.raising:
            raise ConnectionError("connection refused")
        return failed

    def close(self):
        pass


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "state.db"))
    with opened.transaction() as tx:
        tx.add_actions([OutboxAction(f"D{i}:1", f"D{i}", float(i), "task", {"text": "Позвонить"}, "r", {})
                        for i in range(5)])
    yield opened
    opened.close()


def test_a_failing_sink_loses_nothing_and_recovers(store):
    sink, clock = FlakySink(failures=3), Clock()
    delivery = Delivery(store, sink, clock=clock, rng=random.Random(1))
    for _ in range(3):
        assert delivery.deliver_once() == 5
        assert delivery.deliver_once() == 0          # each waits for its backoff
        clock.now += 3600
    assert delivery.drain() == 5
    assert sorted(sink.received) == [f"D{i}:1" for i in range(5)]
    assert store.outbox_counts().delivered == 5 and delivery.failed == 15


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    delivery = Delivery(None, None, rng=random.Random(7))
    for attempts in range(12):
        delay = delivery.backoff(attempts)
        full = min(300.0, 2.0 ** attempts)
        assert full / 2 <= delay <= full


def test_dead_after_n_failures(store):
    sink, clock = FlakySink(failures=99, raising=True), Clock()
    delivery = Delivery(store, sink, clock=clock, dead_after=3)
    for _ in range(3):
        delivery.deliver_once()
        clock.now += 3600
    counts = store.outbox_counts()
    assert (counts.pending, counts.dead) == (0, 5)
    dead = store.actions(status="dead")
    assert dead[0].attempts == 3 and dead[0].error == "ConnectionError: connection refused"
    assert delivery.deliver_once() == 0


def test_the_thread_delivers_when_woken(store, tmp_path):
    target = tmp_path / "actions.jsonl"
    delivery = Delivery(store, JsonLinesSink(str(target)))
    delivery.start(idle=30)
    delivery.wake()
    delivery.stop(drain=True)
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [f"D{i}:1" for i in range(5)]
    assert lines[0]["payload"] == {"text": "Позвонить"} and lines[0]["time"] == "1970-01-01T00:00:00Z"


def test_an_actions_file_in_a_missing_folder(tmp_path):
    with pytest.raises(StoreError, match="cannot open the actions file"):
        open_sink(str(tmp_path / "no" / "actions.jsonl"))


def test_a_line_torn_by_a_crash_is_cut_before_appending(tmp_path):
    target = tmp_path / "actions.jsonl"
    target.write_bytes(b'{"id": "D1:1"}\n{"id": "D1:2", "de')
    sink = JsonLinesSink(str(target))
    sink.deliver([OutboxAction("D1:2", "D1", 0.0, "task", {}, "r", {})])
    sink.close()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["D1:1", "D1:2"]
