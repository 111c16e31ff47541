"""The writer between the HTTP handlers and the run engine: group commit, each request its own answers,
and a failing commit that fails only the requests in it."""
from __future__ import annotations

import asyncio
import threading

import pytest

from funnelspec.run.engine import Ingested
from funnelspec.serve.committer import Committer


class Engine:
    """Stands in for RunEngine: remembers each call's events; its first call holds the writer until `release`
    is set, so that the test decides what queues up behind it."""

    def __init__(self, fail_first: bool = False):
        self.calls: list[list[dict]] = []
        self.fail_first = fail_first
        self.started, self.release = threading.Event(), threading.Event()
        if fail_first:
            self.release.set()

    def ingest(self, events, source="api"):
        self.started.set()
        if not self.calls:
            assert self.release.wait(30)
        self.calls.append(list(events))
        if self.fail_first and len(self.calls) == 1:
            raise OSError("disk full")
        return [Ingested(n, "applied", e["id"], e["deal"]) for n, e in enumerate(events, 1)]


class Store:
    def deal(self, key):
        return None


def event(n: int) -> dict:
    return {"id": f"e{n}", "deal": f"D{n}", "ts": n, "type": "created"}


def test_waiting_requests_share_one_commit_and_get_their_own_results():
    engine = Engine()
    committer = Committer(engine, Store())

    async def main():
        first = asyncio.ensure_future(committer.ingest([event(0)]))
        await asyncio.to_thread(engine.started.wait, 30)         # the writer is busy with the first
        rest = asyncio.gather(*(committer.ingest([event(n), event(n + 100)]) for n in range(1, 11)))
        for _ in range(3000):                                    # until all ten wait in the queue
            if committer._queue.qsize() == 10:
                break
            await asyncio.sleep(0.01)
        engine.release.set()
        return await first, await rest

    try:
        first, rest = asyncio.run(main())
    finally:
        committer.close()
    assert [r.event_id for r in first] == ["e0"]
    for n, results in enumerate(rest, 1):
        assert [(r.line, r.event_id) for r in results] == [(1, f"e{n}"), (2, f"e{n + 100}")]
    assert len(engine.calls) == 2 and len(engine.calls[1]) == 20             # ten requests, one commit


def test_a_failed_commit_fails_its_requests_and_the_writer_goes_on():
    engine = Engine(fail_first=True)
    committer = Committer(engine, Store())

    async def main():
        with pytest.raises(OSError, match="disk full"):
            await committer.ingest([event(1)])
        return await committer.ingest([event(2)])

    try:
        assert [r.status for r in asyncio.run(main())] == ["applied"]
    finally:
        committer.close()
