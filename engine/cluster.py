"""A replay on a Dask cluster: the deals split into shares, each share replayed by a Dask task.

This is engine/parallel.py with Dask in place of fork. By default share `i`
of `n` is the deals whose id hashes to `i` (parallel.worker_of), and the
stream is shuffled by deal first (engine/shuffle.py): tasks read pieces of
it side by side (the path must be readable where the workers run) and sort
its lines into a bucket per share on their workers' disks; share `i`'s task
reads bucket `i` of every piece. With `partitioned` (`--partitioned-by-deal`)
the files of a directory or glob each hold whole deals: each share is some of
the files, and its task reads only those (engine/partitions.py numbers their
lines as in the whole stream and checks that no deal crosses files).

A task replays its deals with parallel's worker code, which writes the
share's records and outcomes as JSON text, with the lines that made them, to
a folder on the worker; the task returns where. The client reads the folder
where it can (the same machine, a shared disk), else fetches its files a
block at a time from the worker, and merges them as `--workers` merges them
(parallel.merge_shares): the output is byte for byte that of one process,
and neither the worker nor the client holds the records in memory. What
travels: the checked spec to each task (it is compiled there: compiled rules
are generated code, which does not pickle), two small words per share, the
share's files (when not read in place), and the share's deal ids with
`partitioned`, for the check.

The end of the replay is the latest event over every share. A forked worker
tells it to its parent over a pipe; a task tells it through the scheduler's
metadata: it sets `[run, "word", i]` to its latest time (or its first bad
line) and waits, out of the worker's thread pool (`secede`), for `[run,
"end"]`, which the client sets once every share has spoken (both look every
POLL_SECONDS). A task whose worker dies is run again by Dask; it replays its
share from the start, says the same word, finds the end already set, and
writes the same files (the dead attempt's folder is removed with the run's).
"""
from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any

from .compile import compile_spec
from .parallel import _work, merge_shares, receive, settle_end
from .partitions import Partitions, ShareReader, check_deals, lines_in, partition_files, read_deals, write_deals
from .shares import AFTER_LAST_LINE
from .shuffle import BucketReader, Buckets, Plan, bucket_path, sort_piece
from .simulate import BadLine, ReplayRun, Sink, display_name
from .sinks import SpoolingSink

INSTALL = "--cluster dask needs dask and distributed: pip install 'funnelspec[dask]'"
POLL_SECONDS = 0.2
FETCH_BYTES = 8 << 20          # a share's file fetched from its worker this much at a time
DEALS_MET = "deals-met"        # a partitioned share's deals and their first lines, for the check


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
    parts: Partitions | None = None         # with --partitioned-by-deal: the files, and
    files: list[list[int]] | None = None    # which of them each share reads
    plan: Plan | None = None                # else the pieces of the shuffle
    count_actions: bool = False             # the client's sink only counts the actions: so do the shares


class _WorkerJob:
    """parallel._Job as a task builds it: the spec compiled here, progress counts kept for no one."""

    def __init__(self, task: _Task, buckets: list[Buckets] | None):
        self.spec = compile_spec(task.spec)
        self.events, self.csv_map = task.events, task.csv_map
        self.until, self.moves, self.on_error = task.until, task.moves, task.on_error
        self.encoded_records, self.encoded_outcomes = task.encoded_records, task.encoded_outcomes
        self.count_actions = task.count_actions
        self.read = [0] * (2 * task.shares)
        self.parts, self.files, self.plan, self.run = task.parts, task.files, task.plan, task.run
        self.buckets = buckets
        self.reader: ShareReader | None = None

    def share_lines(self, me: int, workers: int, current: list):
        if self.parts is None:
            stream = _bucket_reader(self.plan, self.buckets, me, self.run)
            return _marked(stream.lines(), current), self.plan.source, self.plan.lenient, stream
        self.reader = ShareReader(self.parts, self.files[me])
        return _marked(self.reader.lines(), current), self.parts.source, self.parts.lenient, self.reader


def _bucket_reader(plan: Plan, buckets: list[Buckets], me: int, run: str) -> BucketReader:
    """Share `me`'s lines from its bucket of every piece; a bucket this worker cannot see is fetched to a folder
    of the run (removed with the run's)."""
    return BucketReader(plan, buckets, me, tempfile.mkdtemp(prefix=f"{run}-fetched-{me}-"), _fetch_bucket)


def _fetch_bucket(buckets: Buckets, share: int, path: str) -> None:
    """Run in a share's task: its bucket of a piece from the worker that wrote it, to `path`, a block at a time."""
    from distributed import worker_client

    there = bucket_path(buckets.folder, share)
    with worker_client() as client, open(path, "wb") as out:       # waiting takes no thread of this worker
        for offset in range(0, buckets.sizes[share], FETCH_BYTES):
            part = client.submit(_read_part, there, offset, FETCH_BYTES, workers=[buckets.worker],
                                 allow_other_workers=False, pure=False)
            out.write(part.result())
            part.release()


def _marked(lines, current: list):
    """Every line is the share's own: `current[0]` is the one being replayed, then AFTER_LAST_LINE."""
    for item in lines:
        current[0] = item[0]
        yield item
    current[0] = AFTER_LAST_LINE


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


@dataclass(frozen=True)
class _ShareFiles:
    """What a share's task returns: its last word, and the files it wrote ({name: size}) in `folder` on `worker`."""

    last: tuple | None
    worker: str
    folder: str
    sizes: dict[str, int]


def replay_share(me: int, task: _Task, buckets: list[Buckets] | None = None) -> _ShareFiles:
    """Run on a Dask worker: share `me`'s replay (of its buckets, after a shuffle), its files left in a folder of
    this worker for the client."""
    from distributed import get_worker

    pipe = _SchedulerPipe(task.run, me)
    folder = tempfile.mkdtemp(prefix=f"{task.run}-{me}-")      # removed by the client, with the run's
    job = _WorkerJob(task, buckets)
    _work(me, task.shares, job, folder, pipe)
    if job.reader is not None and (pipe.last is None or pipe.last[0] == "done"):    # done, or stopped by a bad line
        write_deals(os.path.join(folder, f"{me}.{DEALS_MET}"), job.reader.deals())
    sizes = {name: os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)}
    return _ShareFiles(pipe.last, get_worker().address, folder, sizes)


def _read_part(path: str, offset: int, size: int) -> bytes:
    """Run on the worker that wrote `path`: `size` bytes of it from `offset`."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def _remove_run_folders(run: str) -> None:
    """Run on every worker (and the client): the folders the run's tasks wrote, those of dead attempts too."""
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), f"{run}-*")):
        shutil.rmtree(folder, ignore_errors=True)


def _readable_here(path: str, size: int) -> bool:
    """Whether the client sees a share's file where its worker wrote it (the same machine, a shared disk)."""
    try:
        return os.path.getsize(path) == size
    except OSError:
        return False


def _collect(client, results: list[_ShareFiles], folder: str, only: str | None = None) -> None:
    """Every share's files (those ending in `only`, when given) in `folder`: linked where the client sees them,
    else fetched a block at a time, so that no more than FETCH_BYTES of them are in this process's memory."""
    for result in results:
        for name, size in result.sizes.items():
            if only is not None and not name.endswith(only):
                continue
            there, here = os.path.join(result.folder, name), os.path.join(folder, name)
            if _readable_here(there, size):
                os.symlink(there, here)
                continue
            with open(here, "wb") as out:
                for offset in range(0, size, FETCH_BYTES):
                    part = client.submit(_read_part, there, offset, FETCH_BYTES, workers=[result.worker],
                                         allow_other_workers=False, pure=False)
                    out.write(part.result())
                    part.release()


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
                   outcome_objects: bool = True, shares: int | None = None, partitioned: bool = False) -> ReplayRun:
    """Replay the stream at path `events` against the checked `spec` on the cluster of `client`.

    As parallel.run_parallel: records reach `sink`, and with a SpoolingSink
    and `outcome_objects` False the outcomes come as JSON text. With
    `partitioned`, `events` is a directory or glob whose files each hold whole
    deals, and each share reads only its own files (engine/partitions.py);
    raises NotPartitioned for one file, BadLine for a deal in two files."""
    shares = shares or share_count(client)
    run = _run_name()
    parts, files = _partitions(client, events, csv_map, source, shares) if partitioned else (None, None)
    plan = None if partitioned else shuffle_plan(events, csv_map, source, shares)
    encoded_records = isinstance(sink, SpoolingSink)
    task = _Task(spec, os.path.abspath(events), csv_map, until, moves, on_error, encoded_records,
                 encoded_records and not outcome_objects, len(files) if files else shares, run, parts, files, plan,
                 sink.action_form == "count")

    def checked(results: list[_ShareFiles], before: int | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="funnel-cluster-deals-") as folder:
            _collect(client, results, folder, DEALS_MET)
            check_deals(parts, [read_deals(os.path.join(folder, name)) for name in sorted(os.listdir(folder))],
                        before)

    try:
        end, results = _run_shares(client, replay_share, task, task.shares, source, checked if parts else None,
                                   _sort_pieces(client, plan, task.shares, run))
        with tempfile.TemporaryDirectory(prefix="funnel-cluster-") as folder:
            done = [receive(_Said(result.last)) for result in results]
            if parts is not None:
                checked(results)
            _collect(client, results, folder)
            return merge_shares(folder, done, sink, task.encoded_outcomes, end)   # every file opened: folders may go
    finally:
        client.run(_remove_run_folders, run)
        _remove_run_folders(run)


def shuffle_plan(events: str, csv_map, source: str | None, shares: int) -> Plan:
    """The pieces a shuffle cuts the stream at `events` into (engine/shuffle.py)."""
    from .shuffle import plan

    return plan(events, csv_map, source or display_name(events), shares)


def _sort_pieces(client, plan: Plan | None, shares: int, run: str) -> list | None:
    """The first step of a shuffle: a task per piece, sorting its lines into a bucket per share (their futures)."""
    if plan is None:
        return None
    return [client.submit(sort_piece, plan, index, shares, run, key=f"{run}-piece-{index}", pure=False)
            for index in range(len(plan.pieces))]


def _partitions(client, events: str, csv_map, source: str | None, shares: int) -> tuple[Partitions, list[list[int]]]:
    """The files of a partitioned stream, their lines counted by the cluster, and each share's files (no more
    shares than files)."""
    names = partition_files(events)
    counted = client.gather([client.submit(lines_in, os.path.abspath(name), csv_map, pure=False)
                             for name in names])
    parts = Partitions.of(source or display_name(events), names, counted, csv_map)
    return parts, parts.split(min(shares, len(names)))


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
    parts: Partitions | None = None
    files: list[list[int]] | None = None
    plan: Plan | None = None


@dataclass(frozen=True)
class _DiffShare:
    """What a share of a diff returns: diff_shares.Share (None when a bad line stopped it), and with
    --partitioned-by-deal its deals and their first lines, for the check."""

    share: Any
    deals: list | None


def diff_share(me: int, task: _DiffTask, buckets: list[Buckets] | None = None) -> _DiffShare:
    """Run on a Dask worker: share `me` of a diff (of its buckets, after a shuffle)."""
    from .diff_shares import DiffJob, own_share

    job = DiffJob(compile_spec(task.old), compile_spec(task.new), task.renames, task.funnel, task.until, task.moves)
    pipe = _SchedulerPipe(task.run, me)
    if task.parts is None:
        stream = _bucket_reader(task.plan, buckets, me, task.run)
        return _DiffShare(own_share(job, task.events, task.csv_map, me, task.shares, pipe,
                                    (stream.lines(), task.plan.source, task.plan.lenient, stream)), None)
    reader = ShareReader(task.parts, task.files[me])
    read = (reader.lines(), task.parts.source, task.parts.lenient, reader)
    share = own_share(job, task.events, task.csv_map, me, task.shares, pipe, read)
    return _DiffShare(share, reader.deals())          # when stopped, those read: a deal in two files may be why


def diff_on_cluster(old, new, renames: dict, events: str, *, client, funnel: str | None, until: float | None,
                    moves: str, csv_map: dict[str, str] | None, source: str | None, partitioned: bool = False) -> list:
    """The shares of a diff's replay (diff_shares.Share), one per task, in order; raises BadLine as one process
    (and for a deal in two files, with `partitioned`: see run_on_cluster)."""
    shares = share_count(client)
    parts, files = _partitions(client, events, csv_map, source, shares) if partitioned else (None, None)
    plan = None if partitioned else shuffle_plan(events, csv_map, source, shares)
    run = _run_name()
    task = _DiffTask(old, new, renames, funnel, until, moves, os.path.abspath(events), csv_map,
                     len(files) if files else shares, run, parts, files, plan)

    def checked(results: list[_DiffShare], before: int | None = None) -> None:
        check_deals(parts, [result.deals or () for result in results], before)

    try:
        results = _run_shares(client, diff_share, task, task.shares, source, checked if parts else None,
                              _sort_pieces(client, plan, task.shares, run))[1]
    finally:
        client.run(_remove_run_folders, run)
        _remove_run_folders(run)
    if parts is not None:
        checked(results)
    return [result.share for result in results]


def _run_name() -> str:
    return f"funnel-{uuid.uuid4().hex}"


def _run_shares(client, function, task, shares: int, source: str | None,
                checked=None, pieces: list | None = None) -> tuple[float | None, list]:
    """Submit `function(me, task)` for every share (`function(me, task, buckets)` after a shuffle's `pieces`),
    settle the end over their words, and gather what they return.

    Raises BadLine for the first bad line over every share (the others are
    stopped). Given `checked(results, line)`, a partitioned run's check of
    its deals up to the bad line, it is called first: a deal in two files
    before the bad line is said instead (often the bad line's cause)."""
    extra = () if pieces is None else (pieces,)           # Dask hands each share every piece's Buckets
    futures = [client.submit(function, me, task, *extra, key=f"{task.run}-share-{me}", pure=False)
               for me in range(shares)]
    try:
        words = _words(client, task.run, futures)
        try:
            end = settle_end(words, [_EndWord(client, task.run)] * shares, source)
        except BadLine as bad:
            if checked is not None:               # stopped shares still return the deals they read
                checked(client.gather(futures), bad.line)
            raise
        client.set_metadata([task.run, "end"], ["end", end])
        return end, client.gather(futures)
    finally:
        client.cancel(futures + (pieces or []))
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
                if isinstance(result, _ShareFiles):
                    receive(_Said(result.last))   # raises the error a simulate share caught and told
                raise RuntimeError(f"share {me} ended without saying where its lines end")
        if len(words) < len(futures):
            time.sleep(POLL_SECONDS)
    return [words[me] for me in range(len(futures))]
