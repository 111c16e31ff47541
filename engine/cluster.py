"""A replay on a Dask cluster: the deals split as `--workers` splits them, each share replayed by a Dask task.

This is engine/parallel.py with Dask in place of fork. Share `i` of `n` is
the deals whose id hashes to `i` (parallel.worker_of); its task reads the
stream (the path must be readable where the workers run), replays its deals
with parallel's worker code, and returns the files that code writes (records
and outcomes as JSON text, with the lines that made them), which the client
merges as `--workers` merges them (parallel.merge_shares): the output is byte
for byte that of one process. What travels: the checked spec to each task
(it is compiled there: compiled rules are generated code, which does not
pickle), each share's files back, and two small words per share.

The end of the replay is the latest event over every share. A forked worker
tells it to its parent over a pipe; a task tells it through the scheduler's
metadata: it sets `[run, "word", i]` to its latest time (or its first bad
line) and waits, out of the worker's thread pool (`secede`), for `[run,
"end"]`, which the client sets once every share has spoken (both look every
POLL_SECONDS). A task whose
worker dies is run again by Dask; it replays its share from the start, says
the same word, finds the end already set, and returns the same files.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

from .compile import compile_spec
from .parallel import _work, merge_shares, receive, settle_end
from .simulate import ReplayRun, Sink
from .sinks import SpoolingSink

INSTALL = "--cluster dask needs dask and distributed: pip install 'funnelspec[dask]'"
POLL_SECONDS = 0.2


class ClusterUnavailable(Exception):
    """Dask is not installed, or its scheduler cannot be reached: the message says which, and what to do."""


def scheduler_address(cluster: str) -> str | None:
    """`dask` -> None (a LocalCluster); `dask://HOST:PORT` -> `tcp://HOST:PORT`. Raises ValueError otherwise."""
    if cluster == "dask":
        return None
    if cluster.startswith("dask://") and len(cluster) > len("dask://"):
        return "tcp://" + cluster[len("dask://"):]
    raise ValueError(f"--cluster `{cluster}`: give `dask` (a cluster on this machine) or dask://HOST:PORT "
                     "(a running scheduler)")


def connect(address: str | None, workers: int):
    """A client of the scheduler at `address`, or of a new LocalCluster of `workers` processes on loopback."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterUnavailable(INSTALL) from None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        return Client(cluster)
    try:
        return Client(address, timeout="10s")
    except OSError as err:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: {err}") from None


def share_count(client) -> int:
    """One share per thread of the cluster's workers (a task waits for the end out of its thread, so more work too)."""
    threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
    return max(1, threads)


@dataclass(frozen=True)
class _Task:
    """What a share's task is to do: _Job's settings, with the checked spec instead of the compiled one."""

    spec: Any
    events: str
    csv_map: dict[str, str] | None
    until: float | None
    moves: str
    on_error: str
    encoded_records: bool
    encoded_outcomes: bool
    shares: int
    run: str
    count_actions: bool = False         # the client's sink only counts the actions: so do the shares


class _WorkerJob:
    """parallel._Job as a task builds it: the spec compiled here, progress counts kept for no one."""

    def __init__(self, task: _Task):
        self.spec = compile_spec(task.spec)
        self.events, self.csv_map = task.events, task.csv_map
        self.until, self.moves, self.on_error = task.until, task.moves, task.on_error
        self.encoded_records, self.encoded_outcomes = task.encoded_records, task.encoded_outcomes
        self.count_actions = task.count_actions
        self.read = [0] * (2 * task.shares)


class _SchedulerPipe:
    """What a forked worker's pipe carries, through the scheduler's metadata; the last word is the task's result."""

    def __init__(self, run: str, me: int):
        self.run, self.me = run, me
        self.last = None

    def send(self, message: tuple) -> None:
        from distributed import get_client

        if message[0] in ("latest", "bad"):
            get_client().set_metadata([self.run, "word", str(self.me)], list(message))
        else:
            self.last = message

    def recv(self) -> tuple:
        import time

        from distributed import get_client, rejoin, secede

        client = get_client()
        secede()                   # waiting takes no thread of the worker: other shares (or a retried one) run
        try:
            while (end := client.get_metadata([self.run, "end"], None)) is None:
                time.sleep(POLL_SECONDS)
            return tuple(end)
        finally:
            rejoin()

    def close(self) -> None:
        pass


def replay_share(me: int, task: _Task):
    """Run on a Dask worker: share `me`'s replay; its last word and the files it wrote ({name: bytes})."""
    pipe = _SchedulerPipe(task.run, me)
    with tempfile.TemporaryDirectory(prefix="funnel-share-") as folder:
        _work(me, task.shares, _WorkerJob(task), folder, pipe)
        files = {}
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as handle:
                files[name] = handle.read()
    return pipe.last, files


class _Said:
    """One word already received, for parallel.receive (which raises a worker's error as the fork pool does)."""

    def __init__(self, message):
        self.message = message

    def recv(self):
        if self.message is None:
            raise EOFError
        return self.message


class _EndWord:
    """settle_end's pipe to one share: `stop` goes to every waiting share at once, as the end."""

    def __init__(self, client, run: str):
        self.client, self.run = client, run

    def send(self, message) -> None:
        self.client.set_metadata([self.run, "end"], list(message))


def run_on_cluster(spec, events: str, sink: Sink, *, client, until: float | None = None, moves: str = "enforce",
                   on_error: str = "stop", csv_map: dict[str, str] | None = None, source: str | None = None,
                   outcome_objects: bool = True, shares: int | None = None) -> ReplayRun:
    """Replay the stream at path `events` against the checked `spec` on the cluster of `client`.

    As parallel.run_parallel: records reach `sink`, and with a SpoolingSink
    and `outcome_objects` False the outcomes come as JSON text."""
    shares = shares or share_count(client)
    encoded_records = isinstance(sink, SpoolingSink)
    task = _Task(spec, os.path.abspath(events), csv_map, until, moves, on_error, encoded_records,
                 encoded_records and not outcome_objects, shares, _run_name(), sink.action_form == "count")
    end, results = _run_shares(client, replay_share, task, shares, source)
    with tempfile.TemporaryDirectory(prefix="funnel-cluster-") as folder:
        for _, files in results:
            for name, data in files.items():
                with open(os.path.join(folder, name), "wb") as handle:
                    handle.write(data)
        done = [receive(_Said(last)) for last, _ in results]
        return merge_shares(folder, done, sink, task.encoded_outcomes, end)


@dataclass(frozen=True)
class _DiffTask:
    """What a share of a diff replays: the two checked specs (compiled on the worker) and diff_shares.DiffJob's
    settings."""

    old: Any
    new: Any
    renames: dict
    funnel: str | None
    until: float | None
    moves: str
    events: str
    csv_map: dict[str, str] | None
    shares: int
    run: str


def diff_share(me: int, task: _DiffTask):
    """Run on a Dask worker: share `me` of a diff (diff_shares.Share), or None when a bad line stopped it."""
    from .diff_shares import DiffJob, own_share

    job = DiffJob(compile_spec(task.old), compile_spec(task.new), task.renames, task.funnel, task.until, task.moves)
    return own_share(job, task.events, task.csv_map, me, task.shares, _SchedulerPipe(task.run, me))


def diff_on_cluster(old, new, renames: dict, events: str, *, client, funnel: str | None, until: float | None,
                    moves: str, csv_map: dict[str, str] | None, source: str | None) -> list:
    """The shares of a diff's replay (diff_shares.Share), one per task, in order; raises BadLine as one process."""
    shares = share_count(client)
    task = _DiffTask(old, new, renames, funnel, until, moves, os.path.abspath(events), csv_map, shares, _run_name())
    return _run_shares(client, diff_share, task, shares, source)[1]


def _run_name() -> str:
    return f"funnel-{uuid.uuid4().hex}"


def _run_shares(client, function, task, shares: int, source: str | None) -> tuple[float | None, list]:
    """Submit `function(me, task)` for every share, settle the end over their words, and gather what they return.

    Raises BadLine for the first bad line over every share (the others are stopped)."""
    futures = [client.submit(function, me, task, key=f"{task.run}-share-{me}", pure=False) for me in range(shares)]
    try:
        words = _words(client, task.run, futures)
        end = settle_end(words, [_EndWord(client, task.run)] * shares, source)
        client.set_metadata([task.run, "end"], ["end", end])
        return end, client.gather(futures)
    finally:
        client.cancel(futures)
        client.set_metadata([task.run], {})          # the run's words, no longer needed


def _words(client, run: str, futures) -> list[tuple]:
    """Each share's word at the end of its lines (latest time or first bad line); a task that ended without
    one (it failed) has its error raised as parallel.receive raises a forked worker's."""
    import time

    words: dict[int, tuple] = {}
    while len(words) < len(futures):
        for me, future in enumerate(futures):
            if me in words:
                continue
            word = client.get_metadata([run, "word", str(me)], None)
            if word is not None:
                words[me] = tuple(word)
            elif future.done():
                result = future.result()          # raises the task's error, if it raised one
                if isinstance(result, tuple):
                    receive(_Said(result[0]))     # raises the error a simulate share caught and told
                raise RuntimeError(f"share {me} ended without saying where its lines end")
        if len(words) < len(futures):
            time.sleep(POLL_SECONDS)
    return [words[me] for me in range(len(futures))]
