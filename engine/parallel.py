"""A replay on several processes: deals split by a stable hash of their id, records merged as one process makes them.

Deals are independent (engine/replay.py), so worker `i` of `n` replays the
deals whose id hashes to `i` (CRC-32 of the id's UTF-8 text: the same in
every process and run, unlike Python's salted `hash`). Every worker reads the
whole stream and decodes each line, then skips the lines of other workers'
deals; lines that name no deal (blank, not JSON, no usable `deal`) are
worker 0's. Each worker tags every record with the line that made it (or,
for timers fired at the end, with its deal id, the order the end goes in),
so that merging the workers' records by that tag gives back the order of a
single process: the output is byte for byte the same.

The end of the replay is the latest event over every worker, so each worker
stops after its last line, tells the parent its own latest time, and fires
its remaining timers up to the end the parent sends back. With
`on_error="stop"`, the bad line that stops the run is the first one over all
workers, as it is for one process. Workers are forked (they inherit the
compiled spec); where `fork` is not available the replay runs in this process.
"""
from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import tempfile
import traceback
import zlib
from functools import partial
from operator import itemgetter
from typing import Iterator

from .compile import CompiledSpec
from .outcome import Totals
from .serialize import dumps
from .simulate import BadLine, ReplayRun, Sink, event_lines, run_replay
from .sinks import SpoolingSink

AFTER_LAST_LINE = float("inf")      # the tag of records made by the timers fired at the end
SECTIONS = ("actions", "violations", "problems", "rejects")
TOTALS = ("lines", "applied", "rejected", "blank", "deals", "after_until")


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def worker_of(value, workers: int) -> int:
    """Which worker replays a decoded line: by its deal id (as the replay keys deals: text), else worker 0."""
    if type(value) is dict:
        deal = value.get("deal")
        if type(deal) is int:
            deal = str(deal)
        if type(deal) is str:
            return zlib.crc32(deal.encode("utf-8", "surrogatepass")) % workers
    return 0


def run_parallel(spec: CompiledSpec, events: str, sink: Sink, *, workers: int, until: float | None = None,
                 moves: str = "enforce", on_error: str = "stop",
                 csv_map: dict[str, str] | None = None, source: str | None = None) -> ReplayRun:
    """Replay the stream at path `events` on `workers` processes; records reach `sink` as run_replay gives them.

    `source` names the stream in messages (when `events` is a copy of it).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1 or not can_fork():
        lines, read_as, lenient, stream = event_lines(events, csv_map)
        try:
            return run_replay(spec, lines, sink, until=until, moves=moves, on_error=on_error,
                              lenient=lenient, source=source or read_as)
        finally:
            if stream is not None:
                stream.close()
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="funnel-workers-") as folder:
        pipes, processes = [], []
        try:
            for me in range(workers):
                ours, theirs = context.Pipe()
                process = context.Process(target=_work, daemon=True,
                                          args=(me, workers, spec, events, csv_map, until, moves, on_error,
                                                folder, isinstance(sink, SpoolingSink), theirs))
                process.start()
                theirs.close()
                pipes.append(ours)
                processes.append(process)
            end = _settle([_receive(pipe) for pipe in pipes], pipes, source)
            for pipe in pipes:
                pipe.send(("end", end))
            totals = Totals()
            for pipe in pipes:
                counts = _receive(pipe)[1]
                for name in TOTALS:
                    setattr(totals, name, getattr(totals, name) + counts[name])
            _merge_records(folder, workers, sink)
            outcomes = list(heapq.merge(*(_load_all(_path(folder, me, "outcomes")) for me in range(workers)),
                                        key=_deal_of))
        finally:
            for pipe in pipes:
                pipe.close()
            for process in processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.terminate()
                    process.join()
    return ReplayRun(outcomes, totals, end)


def _deal_of(outcome) -> str:
    return outcome.deal


def _settle(messages: list[tuple], pipes, source: str | None) -> float | None:
    """The end over every worker's latest time, or the first bad line over all of them (raised as BadLine)."""
    bad = [m for m in messages if m[0] == "bad"]
    if bad:
        for pipe, message in zip(pipes, messages):
            if message[0] == "latest":
                pipe.send(("stop", None))
        _, read_as, line, reason = min(bad, key=itemgetter(2))
        raise BadLine(source or read_as, line, reason)
    ends = [m[1] for m in messages if m[1] is not None]
    return max(ends) if ends else None


def _receive(pipe) -> tuple:
    try:
        message = pipe.recv()
    except EOFError:
        raise RuntimeError("a replay worker ended without a word (killed, or out of memory?)") from None
    if message[0] == "error":
        raise RuntimeError(f"a replay worker failed:\n{message[1]}")
    return message


def _merge_records(folder: str, workers: int, sink: Sink) -> None:
    """Each section's records from every worker, in the order of the lines (and deals, at the end) that made them.

    A SpoolingSink takes them as the workers encoded them (the encoding is
    most of a record's cost, and it is spread over the workers); any other
    sink gets the record objects.
    """
    encoded = isinstance(sink, SpoolingSink)
    for section, take in (("actions", sink.action), ("violations", sink.violation), ("problems", sink.problem)):
        streams = [_load_each(_path(folder, me, section)) for me in range(workers)]
        for item in heapq.merge(*streams, key=itemgetter(0)):
            if encoded:
                sink.take_encoded(section, *item[1:])
            else:
                take(item[1])
    streams = [_load_each(_path(folder, me, "rejects")) for me in range(workers)]
    for line, raw, reason in heapq.merge(*streams, key=itemgetter(0)):
        sink.reject(line, raw, reason)


def _path(folder: str, me: int, section: str) -> str:
    return os.path.join(folder, f"{me}.{section}")


def _load_each(path: str) -> Iterator:
    with open(path, "rb") as handle:
        load = partial(pickle.load, handle)         # a fresh unpickler each time: no memo of every record read
        while True:
            try:
                yield load()
            except EOFError:
                return


def _load_all(path: str) -> list:
    with open(path, "rb") as handle:
        return pickle.load(handle)


# in a worker -------------------------------------------------------------------------

def _dump(item, file) -> None:
    """One record to its file; a fresh pickler each time (a shared one would remember every record it wrote)."""
    pickle.dump(item, file, protocol=pickle.HIGHEST_PROTOCOL)


class _Stopped(Exception):
    """The parent stopped this worker: another one met the first bad line."""


class _TaggingSink(Sink):
    """Pickles each record with its tag (the line being replayed, or the end and the deal id) to its section's file."""

    def __init__(self, folder: str, me: int, current: list, encoded: bool):
        self.encoded = encoded
        self.files = {section: open(_path(folder, me, section), "wb") for section in SECTIONS}
        self.dumpers = {section: partial(_dump, file=handle) for section, handle in self.files.items()}
        self.current = current

    def _tag(self, record) -> tuple:
        line = self.current[0]
        return (line, "") if line != AFTER_LAST_LINE else (line, record.deal)

    def action(self, record) -> None:
        if self.encoded:
            self.dumpers["actions"]((self._tag(record), dumps(record.to_json()), record.kind, record.rule))
        else:
            self.dumpers["actions"]((self._tag(record), record))

    def violation(self, record) -> None:
        self.dumpers["violations"]((self._tag(record), dumps(record.to_json()) if self.encoded else record))

    def problem(self, record) -> None:
        self.dumpers["problems"]((self._tag(record), dumps(record.to_json()) if self.encoded else record))

    def reject(self, line: int, raw, reason: str) -> None:
        self.dumpers["rejects"]((line, raw, reason))

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def _own_lines(lines, me: int, workers: int, current: list):
    """This worker's lines; `current[0]` is the number of the line being replayed, then AFTER_LAST_LINE."""
    for item in lines:
        if worker_of(item[2], workers) == me:
            current[0] = item[0]
            yield item
    current[0] = AFTER_LAST_LINE


def _work(me: int, workers: int, spec: CompiledSpec, events: str, csv_map, until, moves: str, on_error: str,
          folder: str, encoded: bool, pipe) -> None:
    stream = sink = None
    try:
        lines, source, lenient, stream = event_lines(events, csv_map)
        current = [0]
        sink = _TaggingSink(folder, me, current, encoded)

        def settle(end: float | None) -> float | None:
            pipe.send(("latest", end))
            word, value = pipe.recv()
            if word == "stop":
                raise _Stopped()
            return value

        try:
            run = run_replay(spec, _own_lines(lines, me, workers, current), sink, until=until, moves=moves,
                             on_error=on_error, lenient=lenient, source=source, settle=settle)
        except BadLine as err:
            pipe.send(("bad", err.source, err.line, err.reason))
            return
        except _Stopped:
            return
        sink.close()
        with open(_path(folder, me, "outcomes"), "wb") as handle:
            pickle.dump(run.outcomes, handle, protocol=pickle.HIGHEST_PROTOCOL)
        pipe.send(("done", {name: getattr(run.totals, name) for name in TOTALS}))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
    finally:
        if sink is not None:
            sink.close()
        if stream is not None:
            stream.close()
        pipe.close()
