"""A replay on several processes: deals split by a stable hash of their id, records merged as one process makes them.

Deals are independent (engine/replay.py), so worker `i` of `n` replays the
deals whose id hashes to `i` (CRC-32 of the id's UTF-8 text: the same in
every process and run, unlike Python's salted `hash`). Every worker reads the
whole stream and decodes each line (with orjson, decoding costs about what
reading the deal id off the bytes would), then skips the lines of other
workers' deals; lines that name no deal (blank, not JSON, no usable `deal`)
are worker 0's.

For the CLI (a SpoolingSink) each worker encodes its own records and
outcomes as JSON text, with the runs of input lines that made them
(engine/shares.py); the parent merges the text by line, then by deal, and
writes it out, so the output is byte for byte that of one process. For any
other sink each record is pickled with its tag (its line, or the end and its
deal) and the parent merges the objects the same way.

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
import pickle
import tempfile
import traceback
import zlib
from collections import Counter
from contextlib import contextmanager
from functools import partial
from operator import itemgetter
from multiprocessing import connection
from typing import Callable, Iterator

from .compile import CompiledSpec
from .encode import encode_action
from .outcome import Totals
from .serialize import DECODERS, encoded
from .shares import AFTER_LAST_LINE, SectionWriter, merged_outcomes, merged_records, share_path, write_outcomes
from .simulate import PROGRESS_EVERY, BadLine, ReplayRun, Sink, event_lines, few_collections, run_replay
from .sinks import SpoolingSink

RECORDS = ("actions", "violations", "problems")


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
                 moves: str = "enforce", on_error: str = "stop", csv_map: dict[str, str] | None = None,
                 source: str | None = None, outcome_objects: bool = True,
                 progress: Callable[[int, int | None], None] | None = None) -> ReplayRun:
    """Replay the stream at path `events` on `workers` processes; records reach `sink` as run_replay gives them.

    `source` names the stream in messages (when `events` is a copy of it).
    With a SpoolingSink and `outcome_objects` False, the outcomes are
    returned as their JSON text (engine/shares.py), enough to write a result.
    `progress(lines, bytes)` is called now and then with how far the slowest
    worker has read, from this process (after the workers are started).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1 or not can_fork():
        lines, read_as, lenient, stream = event_lines(events, csv_map)
        read = None if progress is None else partial(_report, progress, stream)
        try:
            return run_replay(spec, lines, sink, until=until, moves=moves, on_error=on_error,
                              lenient=lenient, source=source or read_as, progress=read)
        finally:
            if stream is not None:
                stream.close()
    encoded_records = isinstance(sink, SpoolingSink)
    job = _Job(spec, events, csv_map, until, moves, on_error, encoded_records,
               encoded_records and not outcome_objects, workers, sink.action_form == "count")
    with tempfile.TemporaryDirectory(prefix="funnel-workers-") as folder, \
            forked_workers(workers, _work, job, folder) as pipes:
        end = settle_end(_first_words(pipes, job.read, progress), pipes, source)
        for pipe in pipes:
            pipe.send(("end", end))
        return merge_shares(folder, [receive(pipe) for pipe in pipes], sink, job.encoded_outcomes, end)


def merge_shares(folder: str, done: list[tuple], sink: Sink, encoded_outcomes: bool, end: float | None) -> ReplayRun:
    """The run of every worker's share in `folder` (their `done` words in order): records to `sink`, outcomes merged.

    Shared by the forked workers and by the workers of a cluster (engine/cluster.py)."""
    workers = len(done)
    totals = Totals()
    counts = []
    for _, share_totals, extra in done:
        totals.add(share_totals)
        counts.append(extra)
    paths = {section: [share_path(folder, me, section) for me in range(workers)]
             for section in RECORDS + ("outcomes",)}
    if isinstance(sink, SpoolingSink):
        _adopt_encoded(sink, paths, counts)
    else:
        _merge_objects(paths, sink)
    _merge_rejects(folder, workers, sink)
    if encoded_outcomes:
        outcomes = merged_outcomes(paths["outcomes"])
    else:
        with few_collections():
            outcomes = list(heapq.merge(*(_load_all(path) for path in paths["outcomes"]), key=_deal_of))
    return ReplayRun(outcomes, totals, end)


@contextmanager
def forked_workers(workers: int, target, *args):
    """Fork `workers` processes running `target(me, workers, *args, pipe)`; yield this side's pipes.

    On the way out every pipe is closed and every worker has ended (a
    worker still running after a few seconds, say after an error here, is
    terminated)."""
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    try:
        for me in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=target, daemon=True, args=(me, workers, *args, theirs))
            process.start()
            theirs.close()
            pipes.append(ours)
            processes.append(process)
        yield pipes
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()


def tell_failure(pipe, err: BaseException) -> None:
    """A worker's failure to the parent: an OSError as its parts (the parent raises it again), else the traceback."""
    if isinstance(err, OSError):
        pipe.send(("oserror", err.errno, err.strerror or str(err), err.filename))
    else:
        pipe.send(("error", "".join(traceback.format_exception(err))))


class _Job:
    """What every worker is to do (inherited by the forked workers, never pickled).

    `read` is shared memory where worker i keeps, at 2i and 2i+1, the lines
    and bytes it has read, for the parent's progress bar."""

    def __init__(self, spec, events, csv_map, until, moves, on_error, encoded_records, encoded_outcomes, workers,
                 count_actions=False):
        self.spec, self.events, self.csv_map = spec, events, csv_map
        self.count_actions = count_actions          # the parent's sink only counts the actions: so do the workers
        self.until, self.moves, self.on_error = until, moves, on_error
        self.encoded_records, self.encoded_outcomes = encoded_records, encoded_outcomes
        self.read = multiprocessing.get_context("fork").Array("q", 2 * workers, lock=False)

    def share_lines(self, me: int, workers: int, current: list):
        return own_lines_of_stream(self, me, workers, current)


def own_lines_of_stream(job, me: int, workers: int, current: list):
    """(worker `me`'s numbered lines, source, lenient, stream to close): the whole stream read, other deals
    skipped. A cluster's job reads only its own share of the stream instead (engine/cluster.py)."""
    lines, source, lenient, stream = event_lines(job.events, job.csv_map)
    return _own_lines(lines, me, workers, current, job.read, stream), source, lenient, stream


def _report(progress: Callable[[int, int | None], None], stream, lines: int) -> None:
    progress(lines, stream.position() if stream is not None else None)


def _first_words(pipes, read, progress) -> list[tuple]:
    """Each worker's first message (at the end of its lines), showing progress meanwhile when asked to."""
    if progress is None:
        return [receive(pipe) for pipe in pipes]
    messages: dict[int, tuple] = {}
    while len(messages) < len(pipes):
        for pipe in connection.wait([p for i, p in enumerate(pipes) if i not in messages], timeout=0.2):
            messages[pipes.index(pipe)] = receive(pipe)
        progress(min(read[0::2]), min(read[1::2]))
    return [messages[i] for i in range(len(pipes))]


def _deal_of(outcome) -> str:
    return outcome.deal


def settle_end(messages: list[tuple], pipes, source: str | None) -> float | None:
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


def receive(pipe) -> tuple:
    try:
        message = pipe.recv()
    except EOFError:
        raise RuntimeError("a replay worker ended without a word (killed, or out of memory?)") from None
    if message[0] == "oserror":               # a file a worker could not read or write: said as this process would
        raise OSError(*message[1:])
    if message[0] == "error":
        raise RuntimeError(f"a replay worker failed:\n{message[1]}")
    return message


def _adopt_encoded(sink: SpoolingSink, paths: dict[str, list[str]], counts: list[tuple[Counter, dict]]) -> None:
    """The workers' encoded records become the sink's sections, read merged when the result is written."""
    for rules, _ in counts:
        sink.action_rules.update(rules)
    for section in RECORDS:
        if section == "actions" and sink.action_form == "count":
            continue                    # counted, not written: the sink's count stands for them
        total = sum(extra[section] for _, extra in counts)
        sink.adopt(section, merged_records(paths[section], total, DECODERS[section]))


def _merge_objects(paths: dict[str, list[str]], sink: Sink) -> None:
    """Each section's record objects from every worker, in the order of the tags (line, or end and deal)."""
    with few_collections():
        for section, take in (("actions", sink.action), ("violations", sink.violation), ("problems", sink.problem)):
            for _, record in heapq.merge(*(_load_each(path) for path in paths[section]), key=itemgetter(0)):
                take(record)


def _merge_rejects(folder: str, workers: int, sink: Sink) -> None:
    streams = [_load_each(share_path(folder, me, "rejects")) for me in range(workers)]
    for line, raw, reason in heapq.merge(*streams, key=itemgetter(0)):
        sink.reject(line, raw, reason)


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


class Stopped(Exception):
    """The parent stopped this worker: another one met the first bad line."""


def settle_by_parent(pipe, end: float | None) -> float | None:
    """A worker's `settle`: its own latest time to the parent, the end over all workers back (or Stopped)."""
    pipe.send(("latest", end))
    word, value = pipe.recv()
    if word == "stop":
        raise Stopped()
    return value


class _WorkerSink(Sink):
    """A worker's records: encoded to its share's sections (engine/shares.py), or pickled with their tags."""

    def __init__(self, folder: str, me: int, current: list, encoded_records: bool, count_actions: bool = False):
        self.current = current
        self.rejects = open(share_path(folder, me, "rejects"), "wb")
        self.encoded_records = encoded_records
        if encoded_records:
            self.sections = {s: SectionWriter(share_path(folder, me, s), current) for s in RECORDS}
            self._add_action = self.sections["actions"].add
            self.rules: Counter[tuple[str, str]] = Counter()
            self.action_form = "count" if count_actions else "text"
            self.action_rules = self.rules
        else:
            self.files = {s: open(share_path(folder, me, s), "wb") for s in RECORDS}

    def _tagged(self, section: str, record) -> None:
        line = self.current[0]
        tag = (line, "") if line != AFTER_LAST_LINE else (float("inf"), record.deal)
        _dump((tag, record), self.files[section])

    def action(self, record) -> None:
        if self.encoded_records:
            self._add_action(encode_action(record), record.deal)
            self.rules[(record.rule, record.kind)] += 1
        else:
            self._tagged("actions", record)

    def action_text(self, text: str, key: tuple[str, str], deal: str) -> None:
        self._add_action(text, deal)            # no count by rule: a written result does not show one

    def violation(self, record) -> None:
        if self.encoded_records:
            self.sections["violations"].add(encoded(record), record.deal)
        else:
            self._tagged("violations", record)

    def problem(self, record) -> None:
        if self.encoded_records:
            self.sections["problems"].add(encoded(record), record.deal)
        else:
            self._tagged("problems", record)

    def reject(self, line: int, raw, reason: str) -> None:
        _dump((line, raw, reason), self.rejects)

    def counts(self) -> tuple[Counter, dict]:
        if not self.encoded_records:
            return Counter(), {}
        return self.rules, {s: w.count for s, w in self.sections.items()}

    def close(self) -> None:
        if self.rejects.closed:
            return
        self.rejects.close()
        if self.encoded_records:
            for writer in self.sections.values():
                writer.close()
        else:
            for handle in self.files.values():
                handle.close()


def _own_lines(lines, me: int, workers: int, current: list, read, stream):
    """This worker's lines; `current[0]` is the number of the line being replayed, then AFTER_LAST_LINE.

    Every PROGRESS_EVERY lines, the lines and bytes read so far go to `read` (shared with the parent)."""
    number = 0
    for item in lines:
        number = item[0]
        if number % PROGRESS_EVERY == 0:
            read[2 * me], read[2 * me + 1] = number, _position(stream)
        if worker_of(item[2], workers) == me:
            current[0] = number
            yield item
    current[0] = AFTER_LAST_LINE
    read[2 * me], read[2 * me + 1] = number, _position(stream)


def _position(stream) -> int:
    where = stream.position() if stream is not None else None
    return where or 0


def _work(me: int, workers: int, job: _Job, folder: str, pipe) -> None:
    stream = sink = None
    try:
        current = [0]
        lines, source, lenient, stream = job.share_lines(me, workers, current)
        sink = _WorkerSink(folder, me, current, job.encoded_records, job.count_actions)

        settle = partial(settle_by_parent, pipe)
        try:
            run = run_replay(job.spec, lines, sink, until=job.until, moves=job.moves, on_error=job.on_error,
                             lenient=lenient, source=source, settle=settle)
        except BadLine as err:
            pipe.send(("bad", err.source, err.line, err.reason))
            return
        except Stopped:
            return
        sink.close()
        path = share_path(folder, me, "outcomes")
        if job.encoded_outcomes:
            write_outcomes(path, run.outcomes)
        else:
            with open(path, "wb") as handle, few_collections():
                pickle.dump(list(run.outcomes), handle, protocol=pickle.HIGHEST_PROTOCOL)
        pipe.send(("done", run.totals, sink.counts()))
    except BaseException as err:
        tell_failure(pipe, err)
    finally:
        if sink is not None:
            sink.close()
        if stream is not None:
            stream.close()
        pipe.close()
