"""`funnel serve` killed with SIGKILL under load, then restarted: every event that got a 202 is applied once.

Four clients send `payment` events (each adds 1 to the deal's `paid`) one
request at a time, each client owning its deals so their events stay in
time order. The server is killed mid-stream. After the restart every event
that was answered 202 must already be stored (resending it answers
`duplicate`), and once every event has been resent each deal's `paid` equals
its number of events: nothing lost, nothing applied twice. Bounded: 4 x 150
events, loopback only.
"""
from __future__ import annotations

import threading
import time

import pytest

from serve_support import Server

pytest.importorskip("uvicorn")

CLIENTS, DEALS, EVENTS = 4, 16, 600


def payments() -> dict[int, list[dict]]:
    """The events each client sends, in order: its deals' payments, one second apart."""
    out = {k: [] for k in range(CLIENTS)}
    for i in range(EVENTS):
        deal = i % DEALS
        out[deal % CLIENTS].append({"id": f"pay-{i}", "deal": f"K-{deal}", "ts": 1_767_225_600 + i,
                                    "type": "event", "name": "payment", "data": {"amount": 1}})
    return out


def send_all(server, streams, acked: list, stop_after: int | None = None, kill=None) -> dict[str, str]:
    """Send each stream from its own thread; collect 202'd ids in `acked` and every id's status."""
    statuses, lock = {}, threading.Lock()

    def client(events):
        for event in events:
            try:
                status, body = server.post_events(event, timeout=10)
            except OSError:
                return                                     # the server is gone
            with lock:
                if status == 202:
                    acked.append(event["id"])
                statuses[event["id"]] = body["results"][0]["status"] if body and "results" in body else str(status)
                if stop_after is not None and len(acked) == stop_after and kill is not None:
                    kill()

    threads = [threading.Thread(target=client, args=(events,)) for events in streams.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_sigkill_under_load_loses_no_acknowledged_event_and_applies_none_twice(tmp_path):
    state = tmp_path / "state.db"
    streams = payments()
    server = Server(state)
    try:
        created = [{"id": f"new-{d}", "deal": f"K-{d}", "ts": 1_767_225_000, "type": "created"} for d in range(DEALS)]
        assert server.post_events(created)[0] == 202
        acked: list[str] = []
        killed = threading.Event()

        def kill():
            killed.set()
            server.kill()

        send_all(server, streams, acked, stop_after=EVENTS // 4, kill=kill)
        assert killed.is_set() and len(acked) >= EVENTS // 4
    finally:
        if server.process.poll() is None:
            server.kill()
        server.stop()

    again = Server(state)
    try:
        statuses = send_all(again, streams, [])
        lost = [event_id for event_id in acked if statuses.get(event_id) != "duplicate"]
        assert lost == [], f"{len(lost)} event(s) answered 202 before the kill were not stored: {lost[:5]}"
        assert set(statuses.values()) <= {"applied", "duplicate"}
        for deal in range(DEALS):
            status, body = again.call("GET", f"/deals/K-{deal}")
            sent = sum(1 for i in range(EVENTS) if i % DEALS == deal)
            assert (status, body["fields"]["paid"]) == (200, sent), f"K-{deal}"
    finally:
        assert again.stop() == 0
