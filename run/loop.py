"""The process loop of `funnel run`: read lines, apply them in batches, fire timers, stop cleanly.

Lines are read straight from the file descriptor, as many as are there
(up to BATCH), and applied in one transaction (group commit): under load a
batch is large and the commit's fsync is shared; a trickle is committed a
line or two at a time, so an event's actions wait for no batch to fill.
After each batch the file position is stored with it, so a restart reads on
from the last commit instead of from the start (the event ids would make
that safe, only slower).

Clocks: `event` (simulate's time) fires timers up to the latest event time
when the input is exhausted or idle; `wall` fires them as the wall clock
passes their due time, and at start every timer that came due while the
process was down fires once, in due order.

SIGTERM and Ctrl-C: the batch in flight is finished and committed, then
the loop ends (`Stopper`).
"""
from __future__ import annotations

import os
import select
import signal
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from ..engine.events import decode_line
from .engine import RunEngine

BATCH = 1000
READ_SIZE = 1 << 16
IDLE = 0.2                   # seconds to wait for input before looking at timers and the stop flag
TIMER_TICK = 0.1             # seconds between two looks for due timers on the wall clock


class StopRequested(Exception):
    """SIGTERM or Ctrl-C arrived outside a transaction."""


class Stopper:
    """Turns SIGTERM and SIGINT into a clean stop: inside a transaction the flag is set and the loop stops
    after the commit; outside one (waiting for input) the wait is interrupted at once."""

    def __init__(self):
        self.requested = False
        self._busy = 0

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        self.requested = True
        if not self._busy:
            raise StopRequested()

    @contextmanager
    def busy(self):
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1


class LineReader:
    """JSON Lines from a file or stdin (`-`), by batches of what is there; `follow` waits for more at the end."""

    def __init__(self, path: str, *, follow: bool = False, start: str | None = None):
        self.path, self.follow = path, follow
        self.name = "<stdin>" if path == "-" else path          # in rejects and messages
        self.source = "<stdin>" if path == "-" else os.path.abspath(path)   # the key of its stored position
        self.fd = 0 if path == "-" else os.open(path, os.O_RDONLY)
        self.regular = stat.S_ISREG(os.fstat(self.fd).st_mode)
        self.number, self.offset = 0, 0
        self._buffer = b""
        self.ended = False
        if start is not None and self.regular:
            number, offset = (int(part) for part in start.split(":"))
            if offset <= os.fstat(self.fd).st_size:      # else the file was replaced: read it from the start
                os.lseek(self.fd, offset, os.SEEK_SET)
                self.number, self.offset = number, offset

    def position(self, number: int, offset: int) -> tuple[str, str] | None:
        """Where the line ending at `offset` leaves the input, to store with its batch (a file only)."""
        return (self.source, f"{number}:{offset}") if self.regular else None

    def read_batch(self, limit: int = BATCH, wait: float = IDLE) -> list[tuple[int, bytes, object, int]]:
        """Up to `limit` lines as (number, raw, value, end offset); waits up to `wait` when none is there.
        An empty list with `ended` set: the input is over."""
        lines = self._take(limit)
        while len(lines) < limit and not self.ended:
            chunk = self._read(wait if not lines else 0.0)
            if chunk is None:               # nothing there now
                break
            if chunk == b"":
                if self.follow and self.regular:
                    if lines:
                        break
                    time.sleep(wait)
                    break
                self.ended = True
                if self._buffer:            # a last line without its newline
                    self._buffer += b"\n"
            else:
                self._buffer += chunk
            lines += self._take(limit - len(lines))
        return lines

    def _read(self, wait: float) -> bytes | None:
        if not self.regular:
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                return None
        return os.read(self.fd, READ_SIZE)

    def _take(self, limit: int) -> list:
        lines = []
        buffer = self._buffer
        start = 0
        while len(lines) < limit:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            raw = buffer[start:end + 1]
            self.number += 1
            self.offset += len(raw)
            lines.append((self.number, raw, decode_line(raw), self.offset))
            start = end + 1
        self._buffer = buffer[start:]
        return lines

    def close(self) -> None:
        if self.fd != 0:
            os.close(self.fd)


@dataclass
class LoopTotals:
    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    timers: int = 0
    stopped_at: tuple[int, str] | None = None     # (line, reason) with --on-error stop
    rejects: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"lines": self.lines, "applied": self.applied, "duplicates": self.duplicates,
                "rejected": self.rejected, "timer_deals": self.timers}


def run_loop(engine: RunEngine, reader: LineReader, *, clock: str = "event", on_error: str = "skip",
             now: Callable[[], float] = time.time, stopper: Stopper | None = None,
             on_batch: Callable[[LoopTotals], None] | None = None) -> LoopTotals:
    """Consume the reader until it ends (never, with follow) or a stop is requested; the totals."""
    stopper = stopper or Stopper()
    totals = LoopTotals()
    try:
        _loop(engine, reader, clock, on_error == "stop", now, stopper, totals, on_batch)
    except StopRequested:           # raised only outside a transaction: nothing is half done
        pass
    return totals


def _loop(engine, reader, clock, stop_at_reject, now, stopper, totals, on_batch) -> None:
    if clock == "wall":
        with stopper.busy():
            totals.timers += engine.fire_due(now())      # what came due while the process was down
    last_tick = time.monotonic()
    carried: list = []           # lines whose deal another process held (a shared store): offered again
    while not stopper.requested:
        lines = reader.read_batch()
        with stopper.busy():
            if lines or carried:
                # at the end of the input, wait for the deals still held rather than offer their lines again
                last = reader.ended and not lines
                carried = _apply(engine, reader, carried + lines, totals, stop_at_reject, defer_busy=not last)
                if totals.stopped_at is not None:
                    return
                if on_batch is not None:
                    on_batch(totals)
            idle = len(lines) < BATCH
            if clock == "wall" and time.monotonic() - last_tick >= TIMER_TICK:
                last_tick = time.monotonic()
                totals.timers += engine.fire_due(now())
            elif clock == "event" and idle:
                position = engine.clock()
                if position is not None:
                    totals.timers += engine.fire_due(position)
        if reader.ended and not lines and not carried:
            return


def _apply(engine: RunEngine, reader: LineReader, lines: list, totals: LoopTotals, stop_at_reject: bool,
           defer_busy: bool = False) -> list:
    """Apply a batch; the lines deferred because another process held their deal."""

    def position(results) -> tuple[str, str] | None:
        # A restart reads on after the batch, or from its first deferred line: nothing deferred is skipped.
        for (number, raw, _, offset), result in zip(lines, results):
            if result.status == "deferred":
                return reader.position(number - 1, offset - len(raw))
        number, _, _, offset = lines[-1]
        return reader.position(number, offset)

    results = engine.ingest_lines([line[:3] for line in lines], reader.name, position=position,
                                  stop_at_reject=stop_at_reject, defer_busy=defer_busy)
    if stop_at_reject and results and results[0].status == "rejected" and len(results) == 1:
        bad = results[0]
        good = [line for line in lines if line[0] < bad.line]
        results = []
        if good:       # the batch rolled back: apply what came before the bad line, and stop there
            number, _, _, offset = good[-1]
            results = engine.ingest_lines([line[:3] for line in good], reader.name,
                                          position=reader.position(number, offset))
        totals.stopped_at = (bad.line, bad.reason)
        totals.rejected += 1
        totals.lines += 1
    deferred = []
    for line, result in zip(lines, results):
        if result.status == "deferred":
            deferred.append(line)
            continue
        totals.lines += 1
        if result.status == "applied":
            totals.applied += 1
        elif result.status == "duplicate":
            totals.duplicates += 1
        elif result.status == "rejected":
            totals.rejected += 1
    return deferred
