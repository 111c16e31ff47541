"""A shuffle by deal id: a stream not partitioned by deal, read in pieces and sorted into one bucket per share.

A cluster's replay (engine/cluster.py) splits the deals into shares by a
hash of their id (parallel.worker_of, as `--workers` splits them). Without
a shuffle each share's task would read and decode the whole stream. Here the
stream is cut into pieces that tasks read side by side: byte ranges of a
JSON Lines file, split at line boundaries (a line belongs to the range its
first byte is in), and whole files of a folder or glob (a .gz, CSV or
Parquet file is one piece: it cannot be entered in the middle). A piece's
task reads its lines and writes each one, numbered from 1 within the piece,
to the bucket of its deal's share in a folder of its worker's local disk;
it returns where, and how many lines the piece has.

A share's task then reads its bucket of every piece, in the pieces' order:
pieces follow one another in the stream and a bucket keeps its piece's
order, so the lines come in stream order with no merge. A line's number in
the stream is its number in its piece plus the lines of the pieces before
(the counts the pieces returned), so records, rejects and messages are those
of one process, byte for byte. A bucket is read in place where the share's
worker sees it (the same machine, a shared disk), else fetched from the
worker that wrote it, a block at a time, to a local file first.

A JSON line's decoded value is not kept in its bucket: the share decodes
the line again (decoding a line costs about what pickling its value would).
CSV and Parquet values (made from the row, not from the raw text), blank
lines and lines that are not events are kept as they are.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from typing import Iterator

from .events import BLANK, NotJson, OneFileAtATime, decode_line, file_lines, is_csv, json_lines, source_files
from .lines import lines_of
from .parallel import worker_of
from .parquet import is_parquet

PIECE_BYTES = 64 << 20         # a JSON Lines file is read in ranges of about this much (at most)
MIN_PIECE_BYTES = 4 << 20      # ...and of at least this much, however many shares there are
BATCH = 2048                   # lines of one bucket pickled at once
DECODE, BLANK_LINE, KEPT = 0, 1, 2     # how a bucket keeps a line's value


@dataclass(frozen=True)
class Piece:
    """A part of the stream one task reads: file `file` of the plan, bytes [start, stop) (stop None: to its end)."""

    file: int
    start: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class Plan:
    """A stream cut into pieces, in stream order: the files as named (for messages) and as paths to open."""

    source: str
    names: list[str]
    paths: list[str]
    folder: bool                  # a directory or glob: a bad line is named in its own file too
    csv_map: dict[str, str] | None
    pieces: list[Piece]

    @property
    def lenient(self) -> bool:
        return self.csv_map is not None or any(is_csv(path) for path in self.paths)


def splittable(path: str, csv_map) -> bool:
    """Whether a file can be read from the middle: JSON Lines, not compressed."""
    return csv_map is None and not is_csv(path) and not is_parquet(path) and not path.endswith(".gz")


def plan(events: str, csv_map: dict[str, str] | None, source: str, shares: int) -> Plan:
    """The pieces of the stream at `events` (a file, a directory or a glob) for `shares` shares: whole files,
    and JSON Lines files cut into ranges of between MIN_PIECE_BYTES and PIECE_BYTES, about two per share."""
    named = source_files(events)          # OSError when a directory or glob has no event files
    names = named if named is not None else [events]
    paths = [os.path.abspath(name) for name in names]
    sizes = [os.path.getsize(path) for path in paths]
    target = min(PIECE_BYTES, max(MIN_PIECE_BYTES, -(-sum(sizes) // (2 * max(1, shares)))))
    pieces = []
    for index, (path, size) in enumerate(zip(paths, sizes)):
        count = -(-size // target) if splittable(path, csv_map) else 1
        if count <= 1:
            pieces.append(Piece(index))
            continue
        bounds = [size * k // count for k in range(count + 1)]
        pieces.extend(Piece(index, start, stop) for start, stop in zip(bounds, bounds[1:]))
    return Plan(source, names, paths, named is not None, csv_map, pieces)


@dataclass(frozen=True)
class Buckets:
    """What a piece's task returns: its buckets ({share: size in bytes}) in `folder` on `worker`, and the number
    of the piece's last line (its lines, for a range)."""

    worker: str
    folder: str
    sizes: dict[int, int]
    lines: int


def bucket_path(folder: str, share: int) -> str:
    return os.path.join(folder, f"{share}.bucket")


def sort_piece(plan: Plan, index: int, shares: int, run: str) -> Buckets:
    """Run on a Dask worker: piece `index`'s lines into one bucket per share, in a folder of this worker."""
    from distributed import get_worker

    piece = plan.pieces[index]
    folder = tempfile.mkdtemp(prefix=f"{run}-piece-{index}-")       # removed by the client, with the run's
    outs = [open(bucket_path(folder, share), "wb") for share in range(shares)]
    pending: list[list] = [[] for _ in range(shares)]
    path = plan.paths[piece.file]
    decode_again = splittable(path, plan.csv_map)
    lines, stream = _piece_lines(path, piece, plan.csv_map)
    number = 0
    try:
        for number, raw, value in lines:
            share = worker_of(value, shares)
            if type(value) is dict and decode_again:
                entry = (number, raw, DECODE, None)
            elif value is BLANK:
                entry = (number, raw, BLANK_LINE, None)
            else:
                entry = (number, raw, KEPT, value)
            bucket = pending[share]
            bucket.append(entry)
            if len(bucket) >= BATCH:
                pickle.dump(bucket, outs[share], protocol=pickle.HIGHEST_PROTOCOL)
                bucket.clear()
        for share, bucket in enumerate(pending):
            if bucket:
                pickle.dump(bucket, outs[share], protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        stream.close()
        for out in outs:
            out.close()
    sizes = {share: os.path.getsize(bucket_path(folder, share)) for share in range(shares)}
    return Buckets(get_worker().address, folder, sizes, number)


def _piece_lines(path: str, piece: Piece, csv_map):
    """(numbered lines, stream to close) of a piece: a whole file as engine/events.py reads it, or a range."""
    if piece.stop is None:
        lines, _, stream = file_lines(path, csv_map)
        return lines, stream
    handle = open(path, "rb")
    return json_lines(lines_of(_Range(handle, piece.start, piece.stop), first_of_stream=piece.start == 0)), handle


class _Range:
    """The lines of a file that start in bytes [start, stop): a line that starts before `start` is the range
    before's, one that starts before `stop` is read to its end."""

    def __init__(self, handle, start: int, stop: int):
        self.handle, self.stop = handle, stop
        self.at = start
        self.line_start = True
        if start > 0:                 # skip the end of the line that starts before the range
            handle.seek(start - 1)
            self.at = start - 1
            while True:
                part = handle.readline(1 << 16)
                self.at += len(part)
                if not part or part.endswith(b"\n"):
                    break

    def readline(self, size: int = -1) -> bytes:
        if self.line_start and self.at >= self.stop:
            return b""
        line = self.handle.readline(size)
        self.at += len(line)
        self.line_start = line.endswith(b"\n")
        return line


class BucketReader(OneFileAtATime):
    """A share's lines from its bucket of every piece, in stream order, numbered as in the whole stream.

    Closed as a Stream is. `fetch(buckets, share, path)` copies a bucket the worker cannot see to `path`."""

    def __init__(self, plan: Plan, buckets: list[Buckets], share: int, folder: str, fetch):
        self.plan, self.buckets, self.share = plan, buckets, share
        self.folder, self.fetch = folder, fetch
        self.current = None
        self.size = None

    def lines(self) -> Iterator[tuple[int, object, object]]:
        plan, share = self.plan, self.share
        offset = 0
        in_file: dict[int, int] = {}          # lines of a file's pieces before the current one
        for index, (piece, buckets) in enumerate(zip(plan.pieces, self.buckets)):
            before = in_file.get(piece.file, 0)
            shown = plan.names[piece.file]
            for number, raw, kind, value in self._entries(index, buckets):
                if kind == DECODE:
                    value = decode_line(raw)
                elif kind == BLANK_LINE:
                    value = BLANK
                elif plan.folder and type(value) is NotJson:     # named in its own file too, as FileSet names it
                    value = NotJson(f"({shown}, line {before + number}) {value.message}", value.ends_stream)
                yield offset + number, raw, value
            offset += buckets.lines
            in_file[piece.file] = before + buckets.lines

    def _entries(self, index: int, buckets: Buckets) -> Iterator[tuple]:
        size = buckets.sizes[self.share]
        if not size:
            return
        there = bucket_path(buckets.folder, self.share)
        path = there if _readable_here(there, size) else os.path.join(self.folder, f"{index}.bucket")
        if path != there:
            self.fetch(buckets, self.share, path)
        self.current = open(path, "rb")
        try:
            while True:
                try:
                    batch = pickle.load(self.current)
                except EOFError:
                    break
                yield from batch
        finally:
            self.close()
            if path != there:
                os.remove(path)


def _readable_here(path: str, size: int) -> bool:
    try:
        return os.path.getsize(path) == size
    except OSError:
        return False
