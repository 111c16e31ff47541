"""Delivering the outbox: a thread that hands pending actions to a sink, and the JSON Lines sink.

Applying events never waits for delivery: the run loop commits actions to
the store's outbox and wakes this thread, which reads them back in its own
short transactions. An action is marked delivered only after the sink has
taken it (a file sink has written and fsync'ed it), so delivery is
at-least-once: a crash after the sink took a batch and before the mark
delivers that batch again. The duplicates are bounded: at most one batch
(`Delivery.batch`, 500 actions) per crash, every one with the same stable id,
which a receiver uses to drop them.

A sink that fails an action gets it again later, after an exponential
backoff with jitter (1 s, 2 s, 4 s ... up to 5 minutes, each between half
and all of that); after `dead_after` failed attempts it is dead (`funnel
state STORE outbox` lists it) and is not tried again. A failing sink never
loses an action and never stops events being applied.

Sinks are pluggable: `open_sink(target)` picks the JSON Lines sink for a
path or `-`, and the HTTP webhook sink (run/webhook.py) for an http(s) URL.
"""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Callable, Protocol, Sequence

from .store import OutboxAction, Store, StoreError

BATCH = 500
READ_BACK = 1 << 16
DEAD_AFTER = 10
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 300.0


class ActionSink(Protocol):
    """Where delivered actions go."""

    name: str

    def deliver(self, actions: Sequence[OutboxAction]) -> dict[str, str]:
        """Hand the actions over, in order; the ones that failed, by id, with why (empty: all arrived).
        Raising means every one of them failed."""

    def close(self) -> None:
        """Release what the sink holds."""


class JsonLinesSink:
    """One JSON object a line (the action as `simulate` writes it, plus its `id`), to a file or stdout.

    A file is opened for appending and fsync'ed after each batch, before the
    actions count as delivered."""

    def __init__(self, target: str):
        self.name = "stdout" if target == "-" else target
        self._stdout = target == "-"
        if self._stdout:
            self._out = sys.stdout.buffer
        else:
            try:
                self._out = open(target, "ab")
                _drop_torn_line(self._out)
            except OSError as err:
                raise StoreError(f"{target}: cannot open the actions file: {err.strerror or err}") from None

    def deliver(self, actions: Sequence[OutboxAction]) -> dict[str, str]:
        text = "".join(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in actions)
        self._out.write(text.encode("utf-8"))
        self._out.flush()
        if not self._stdout:
            os.fsync(self._out.fileno())
        return {}

    def close(self) -> None:
        if not self._stdout:
            self._out.close()


def _drop_torn_line(handle) -> None:
    """Cut a last line without its newline: a crash tore it while it was written, and its action, never
    marked delivered, is written again whole."""
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return
    with open(handle.name, "rb") as reader:
        start = max(0, size - READ_BACK)
        while True:
            reader.seek(start)
            tail = reader.read(size - start)
            cut = tail.rfind(b"\n")
            if cut >= 0 or start == 0:
                break
            start = max(0, start - READ_BACK)
    keep = start + cut + 1 if cut >= 0 else 0
    if keep < size:
        handle.truncate(keep)
        handle.seek(keep)


def open_sink(target: str) -> ActionSink:
    """The sink for `--actions TARGET`: an http(s) URL is a webhook, anything else a JSON Lines file (`-`: stdout)."""
    if target.startswith(("http://", "https://")):
        try:
            from .webhook import WebhookSink
        except ImportError:
            raise StoreError(f"{target}: webhook delivery is not available in this installation") from None
        return WebhookSink(target)
    return JsonLinesSink(target)


class Delivery:
    """Moves actions from the store's outbox to a sink: `deliver_once` by hand, or `start` a thread."""

    def __init__(self, store: Store, sink: ActionSink, *, batch: int = BATCH, dead_after: int = DEAD_AFTER,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None):
        self.store, self.sink = store, sink
        self.batch, self.dead_after, self.clock = batch, dead_after, clock
        self.rng = rng or random.Random()
        self.delivered = self.failed = self.dead = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def deliver_once(self) -> int:
        """Try one batch of pending actions that are due for a try; how many were tried."""
        pending = self.store.pending_actions(self.clock(), self.batch)
        if not pending:
            return 0
        try:
            failures = self.sink.deliver(pending)
        except Exception as err:            # a sink's fault is the actions' failure, never the run's
            failures = {a.id: f"{type(err).__name__}: {err}" for a in pending}
        now = self.clock()
        arrived = [a.id for a in pending if a.id not in failures]
        if arrived:
            self.store.mark_delivered(arrived, now)
            self.delivered += len(arrived)
        for action in pending:
            reason = failures.get(action.id)
            if reason is not None:
                self.failed += 1
                if self.store.record_failure(action.id, reason, now + self.backoff(action.attempts), self.dead_after):
                    self.dead += 1
        return len(pending)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` earlier failures: exponential, capped, jittered."""
        delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** min(attempts, 30))
        return delay * (0.5 + self.rng.random() / 2)

    def drain(self) -> int:
        """Deliver until nothing pending is due for a try now; how many were tried."""
        total = 0
        while True:
            tried = self.deliver_once()
            total += tried
            if tried == 0:
                return total

    # the thread --------------------------------------------------------------------

    def start(self, idle: float = 0.5) -> None:
        self._thread = threading.Thread(target=self._run, args=(idle,), name="funnel-delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New actions were committed: look now rather than at the next idle tick."""
        self._wake.set()

    def stop(self, drain: bool = True) -> None:
        """Finish the batch in hand (and, with `drain`, every pending action due now), then end the thread."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        if drain and self.error is None:
            self.drain()

    def _run(self, idle: float) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()          # before looking: a wake during the look is not lost
                if self.deliver_once() == 0:
                    self._wake.wait(idle)
        except BaseException as err:        # the store failed: the run loop reports it
            self.error = err
