"""One writer thread between the HTTP handlers and the run engine: group commit, nothing acknowledged early.

Every request hands its events to the writer and waits. The writer takes
whatever has queued up since its last commit (up to `MAX_EVENTS` events),
applies it with one `RunEngine.ingest` call, one transaction, and only then
answers each waiting request with its own items' results. Under load many
requests share one commit (one fsync), which is where the throughput comes
from; alone, a request pays one commit. Timer firing goes through the same
thread, so the store has one writer and the engine is never entered twice.
"""
from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import replace
from typing import Callable, Sequence

MAX_EVENTS = 5000          # per transaction: a bound on the time a commit holds the writer
STOP = object()


class Committer:
    def __init__(self, engine, store):
        self.engine, self.store = engine, store
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="funnel-writer", daemon=True)
        self._thread.start()

    async def ingest(self, events: Sequence[dict], observed: frozenset = frozenset(),
                     adopt: frozenset = frozenset()) -> list:
        """Apply `events` durably; their results (run/engine.py `Ingested`, lines numbered from 1).

        `observed`: ids of `moved` events that only report where the deal is
        (a CRM's snapshot); such a move is dropped, as `unchanged`, when the
        deal already stands in that stage. `adopt`: ids of `created` events
        for a deal the CRM had before this server knew it; each is applied
        only when the store does not have the deal yet, else left out of the
        results altogether."""
        return await self._submit(("ingest", list(events), observed, adopt))

    async def call(self, function: Callable, *args):
        """Run `function(*args)` on the writer thread, between commits (timers, maintenance)."""
        return await self._submit(("call", function, args))

    def close(self) -> None:
        """Finish the jobs already queued, then stop the writer."""
        self._queue.put(STOP)
        self._thread.join(timeout=30)

    async def _submit(self, job):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((job, future, loop))
        return await future

    # the writer thread -----------------------------------------------------------

    def _run(self) -> None:
        held = None                             # a job taken while gathering a group, run next
        while True:
            item, held = (held if held is not None else self._queue.get()), None
            if item is STOP:
                return
            if item[0][0] == "call":
                self._answer(item, lambda: item[0][1](*item[0][2]))
                continue
            group, size = [item], len(item[0][1])
            while size < MAX_EVENTS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is STOP or more[0][0] == "call":
                    held = more
                    break
                group.append(more)
                size += len(more[0][1])
            try:
                self._commit(group)
            except BaseException as err:      # a bug or the store failing: every waiting request hears of it,
                for _, future, loop in group:   # and the writer lives on for the next
                    loop.call_soon_threadsafe(_settle, future, None, err)

    def _commit(self, group: list) -> None:
        events, owners, unchanged, sizes = [], [], {}, []
        adopted: dict[str, str | None] = {}             # deal -> stage, for deals created by this group
        for index, ((_, items, observed, adopt), _, _) in enumerate(group):
            kept = 0
            for event in items:
                event_id = event.get("id") if type(event) is dict else None
                if adopt and event_id in adopt:
                    deal = str(event.get("deal"))
                    if deal in adopted or self.store.deal(deal) is not None:
                        continue
                    adopted[deal] = event.get("stage")
                elif observed and event_id in observed and self._already_there(event, adopted):
                    unchanged[(index, kept)] = event
                    kept += 1
                    continue
                events.append(event)
                owners.append((index, kept))
                kept += 1
            sizes.append(kept)
        results = self.engine.ingest(events, source="serve") if events else []
        answers = [[None] * size for size in sizes]
        for (index, position), result in zip(owners, results):
            answers[index][position] = replace(result, line=position + 1)
        for (index, position), event in unchanged.items():
            answers[index][position] = _unchanged(position + 1, event)
        for (_, future, loop), answer in zip(group, answers):
            loop.call_soon_threadsafe(_settle, future, answer, None)

    def _already_there(self, event: dict, adopted: dict) -> bool:
        deal = str(event.get("deal"))
        if deal in adopted:
            return adopted[deal] == event.get("to")
        stored = self.store.deal(deal)
        return stored is not None and stored.stage == event.get("to")

    def _answer(self, item, work: Callable) -> None:
        _, future, loop = item
        try:
            value = work()
        except BaseException as err:
            loop.call_soon_threadsafe(_settle, future, None, err)
        else:
            loop.call_soon_threadsafe(_settle, future, value, None)


def _unchanged(line: int, event: dict):
    from ..run.engine import Ingested

    return Ingested(line, "unchanged", str(event.get("id")), str(event.get("deal")),
                    f'the deal already stands in stage "{event.get("to")}"')


def _settle(future: asyncio.Future, value, error) -> None:
    if future.done():                          # cancelled (the client left), or already answered
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
