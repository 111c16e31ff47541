"""A stream already partitioned by deal: files that each hold whole deals, read each by one share of a replay.

`--partitioned-by-deal` says that the files of a directory or glob split the
deals between them (no deal has events in two files), so that a share of a
cluster's replay (engine/cluster.py) reads only its own files: no shuffle,
and no share reads another's lines. The stream is still the files one after
the other in name order, as engine/events.py's FileSet reads it: a file's
lines are numbered on from the lines of the files before it (counted first,
cheaply: a Parquet file's row count is in its footer, a JSON Lines file's
lines are its newlines), so that records, rejects and messages are those of
one process, byte for byte.

The layout is checked as the shares read: each keeps the first line of every
deal it meets and the first line of a deal met again in a later file of its
own; the client merges the shares' deals (sorted by id) and a deal in two
files stops the run with a BadLine at its first line outside its first file.
"""
from __future__ import annotations

import heapq
import json
import os
from bisect import bisect_right
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Iterable, Iterator

from .events import NotJson, OneFileAtATime, file_lines, is_csv, source_files
from .parquet import ParquetStream, is_parquet
from .simulate import BadLine

FLAG = "--partitioned-by-deal"
COUNT_CHUNK = 1 << 24          # bytes read at once when counting a file's newlines


class NotPartitioned(ValueError):
    """The input cannot be read as partitions (one file, stdin): the message says what to give instead."""


def partition_files(events: str) -> list[str]:
    """The files of a directory or glob, in name order, as the user named them; NotPartitioned for one file."""
    if events == "-":
        raise NotPartitioned(f"{FLAG} reads each file of a directory or glob by one share; stdin is one stream")
    files = source_files(events)          # OSError when a directory or glob has no event files
    if files is None:
        raise NotPartitioned(f"{FLAG}: `{events}` is one file; give a directory or a glob of files, each "
                             "holding whole deals")
    return files


def lines_in(path: str, csv_map: dict[str, str] | None) -> tuple[int, int]:
    """(the line numbers the file takes in a stream of files, its size in bytes): FileSet.lines' count.

    That is the number of the file's last line: a Parquet file's rows (and its
    snapshot line), a JSON Lines file's lines; CSV and .gz are read through."""
    size = os.path.getsize(path)
    if is_parquet(path):
        parquet = ParquetStream(path)
        try:
            return parquet.file.metadata.num_rows + (parquet.snapshot is not None), size
        finally:
            parquet.close()
    if csv_map is None and not is_csv(path) and not path.endswith(".gz"):
        count, last = 0, b"\n"
        with open(path, "rb") as handle:
            while chunk := handle.read(COUNT_CHUNK):
                count += chunk.count(b"\n")
                last = chunk[-1:]
        return count + (last != b"\n"), size
    lines, _, stream = file_lines(path, csv_map)
    number = 0
    try:
        for number, _, _ in lines:
            pass
    finally:
        stream.close()
    return number, size


@dataclass(frozen=True)
class Partitions:
    """The files of a partitioned stream: names as given (for messages), paths to open, where their lines start."""

    source: str
    names: list[str]
    paths: list[str]
    offsets: list[int]            # the number of the line before each file's first
    sizes: list[int]
    csv_map: dict[str, str] | None

    @classmethod
    def of(cls, source: str, names: list[str], counts: list[tuple[int, int]], csv_map) -> "Partitions":
        offsets, at = [], 0
        for lines, _ in counts:
            offsets.append(at)
            at += lines
        return cls(source, names, [os.path.abspath(n) for n in names], offsets, [s for _, s in counts], csv_map)

    @property
    def lenient(self) -> bool:
        return self.csv_map is not None or any(is_csv(path) for path in self.names)

    def split(self, shares: int) -> list[list[int]]:
        """The files of each share (by index, in name order), balanced by size: largest first to the lightest."""
        load = [(0, me) for me in range(shares)]
        owned: list[list[int]] = [[] for _ in range(shares)]
        for index in sorted(range(len(self.names)), key=lambda i: (-self.sizes[i], i)):
            size, me = heapq.heappop(load)
            owned[me].append(index)
            heapq.heappush(load, (size + self.sizes[index], me))
        return [sorted(files) for files in owned]

    def where(self, line: int) -> str:
        """`(FILE, line N)` for a line number of the stream."""
        index = max(0, bisect_right(self.offsets, line - 1) - 1)
        return f"({self.names[index]}, line {line - self.offsets[index]})"


class ShareReader(OneFileAtATime):
    """A share's files read one after the other, lines numbered as in the whole stream, deals' first lines kept.

    Closed as a Stream is; `deals()` gives (deal, first line, first line in a
    later file or 0) for every deal met, sorted by deal."""

    def __init__(self, parts: Partitions, files: list[int]):
        self.parts, self.files = parts, files
        self.current = None
        self.size = None
        self.first: dict[str, int] = {}
        self.again: dict[str, int] = {}

    def lines(self) -> Iterator[tuple[int, object, object]]:
        first, again = self.first, self.again
        for index in self.files:
            name, offset = self.parts.names[index], self.parts.offsets[index]
            start = offset + 1
            lines, _, self.current = file_lines(self.parts.paths[index], self.parts.csv_map)
            try:
                for number, raw, value in lines:
                    if type(value) is dict:
                        deal = value.get("deal")
                        if type(deal) is int:
                            deal = str(deal)
                        if type(deal) is str:
                            seen = first.setdefault(deal, offset + number)
                            if seen < start and deal not in again:
                                again[deal] = offset + number
                    elif type(value) is NotJson:       # named in its own file too, as FileSet names it
                        value = NotJson(f"({name}, line {number}) {value.message}", value.ends_stream)
                    yield offset + number, raw, value
            finally:
                self.close()

    def deals(self) -> list[tuple[str, int, int]]:
        again = self.again
        return [(deal, line, again.get(deal, 0)) for deal, line in sorted(self.first.items())]


def write_deals(path: str, deals: Iterable[tuple[str, int, int]]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for entry in deals:
            out.write(json.dumps(entry, ensure_ascii=False))
            out.write("\n")


def read_deals(path: str) -> Iterator[tuple[str, int, int]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            deal, first, again = json.loads(line)
            yield deal, first, again


def check_deals(parts: Partitions, shares: list[Iterable[tuple[str, int, int]]], before: int | None = None) -> None:
    """Raise BadLine at the first line, over every deal, of a deal outside the file of its first line (only up
    to line `before`, when given: a run stopped there, and its shares read no further).

    Each share's deals come sorted by id (ShareReader.deals); they are merged
    a line at a time, so the check holds one deal of each share at once."""
    worst = None
    for deal, entries in groupby(heapq.merge(*shares), key=itemgetter(0)):
        entries = list(entries)
        firsts = sorted(first for _, first, _ in entries)
        later = firsts[1:] + [again for _, _, again in entries if again]
        if later and (worst is None or min(later) < worst[0]):
            worst = (min(later), deal, firsts[0])
    if worst is not None and (before is None or worst[0] <= before):
        line, deal, first = worst
        raise BadLine(parts.source, line,
                      f"{parts.where(line)} deal `{deal}` also has events in {parts.where(first)[1:-1]}: "
                      f"with {FLAG} every deal's events must be in one file")
