"""Each worker's share of a parallel replay's result, written as JSON text by the worker, read back merged.

A worker (engine/parallel.py) encodes its records and outcomes itself, so
that the encoding, most of a record's cost, is spread over the cores. Each
section (actions, violations, problems) goes to a text file, one record a
line, beside the *runs* that say which input line made how many of them
(or, for the timers fired at the end, which deal). Input lines and deals
each belong to one worker, so merging the runs by line, then by deal, gives
the records in the order of a single process; the parent copies lines and
never decodes or re-encodes a record. Outcomes are sorted by deal in each
worker and merged by deal id the same way.

Memory stays bounded by the deals: runs are written out as they are made
and read back a block at a time; only the end's runs and the deal ids,
one per deal, are held.
"""
from __future__ import annotations

import heapq
import json
import os
import pickle
from array import array
from itertools import islice
from typing import Callable, Iterator


AFTER_LAST_LINE = -1        # the line of the records made by the timers fired at the end
BLOCK = 1 << 16             # run numbers written and read at once
BATCH = 4096                # lines handed to the writer at once


class SectionWriter:
    """One section of one worker's share: encoded records, and (line, count) runs; (deal, count) at the end."""

    def __init__(self, path: str, current: list):
        self.text = open(path + ".jsonl", "w", encoding="utf-8", newline="\n")
        self.runs = open(path + ".runs", "wb")
        self.ends_path = path + ".ends"
        self.current = current              # current[0]: the input line being replayed, or AFTER_LAST_LINE
        self.pending: list[str] = []
        self.numbers = array("q")           # line, count, line, count, ...
        self.ends: list[list] = []          # [deal, count] after the last line: one per deal at most
        self.count = 0

    def add(self, text: str, deal: str) -> None:
        self.pending.append(text)
        self.count += 1
        line = self.current[0]
        if line == AFTER_LAST_LINE:
            ends = self.ends
            if ends and ends[-1][0] == deal:
                ends[-1][1] += 1
            else:
                ends.append([deal, 1])
        else:
            numbers = self.numbers
            if numbers and numbers[-2] == line:
                numbers[-1] += 1
            else:
                numbers.append(line)
                numbers.append(1)
        if len(self.pending) >= BATCH:
            self._flush()

    def _flush(self, last: bool = False) -> None:
        if self.pending:
            self.pending.append("")
            self.text.write("\n".join(self.pending))
            self.pending.clear()
        numbers = self.numbers
        if len(numbers) > BLOCK or (last and numbers):
            keep = 0 if last else 2         # the last run may still grow
            numbers[:len(numbers) - keep].tofile(self.runs)
            del numbers[:len(numbers) - keep]

    def close(self) -> None:
        self._flush(last=True)
        self.text.close()
        self.runs.close()
        with open(self.ends_path, "wb") as handle:
            pickle.dump(self.ends, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def discard(self) -> None:
        self.text.close()
        self.runs.close()


def write_outcomes(path: str, outcomes) -> None:
    """A worker's outcomes (engine/simulate.py's DealOutcomes, sorted by deal): their JSON lines, and the deal ids
    to merge them by."""
    with open(path + ".jsonl", "w", encoding="utf-8", newline="\n") as text:
        for batch in outcomes.json_line_batches():
            batch.append("")
            text.write("\n".join(batch))
    with open(path + ".deals", "wb") as handle:
        pickle.dump(outcomes.deal_ids(), handle, protocol=pickle.HIGHEST_PROTOCOL)


class MergedLines:
    """Lines from every worker's text file in merged order; stands in for a list of records (len, iteration).

    `order()` says, in output order, which worker's file gives the next
    lines and how many. The files are opened at once (the parent's temporary
    folder may be gone when they are read) and may be read more than once.
    """

    def __init__(self, paths: list[str], count: int, decode, order: Callable[[], Iterator[tuple[int, int]]],
                 also_open: list = ()):
        self.files = [open(path + ".jsonl", "rb") for path in paths]     # UTF-8 lines, copied as bytes
        self._count = count
        self._decode = decode
        self._order = order
        self._also_open = list(also_open)        # what `order` reads, closed with the text files

    def __len__(self) -> int:
        return self._count

    def json_byte_blocks(self) -> Iterator[bytes]:
        """The lines in merged order, each with its newline, a few thousand to a block, never decoded."""
        texts = []
        for handle in self.files:
            handle.seek(0)
            texts.append(iter(handle))
        batch: list[bytes] = []
        for worker, count in self._order():
            batch.extend(islice(texts[worker], count))
            if len(batch) >= BATCH:
                yield b"".join(batch)
                batch = []
        if batch:
            yield b"".join(batch)

    def json_line_batches(self) -> Iterator[list[str]]:
        for block in self.json_byte_blocks():
            yield block[:-1].decode("utf-8").split("\n")

    def json_lines(self) -> Iterator[str]:
        for batch in self.json_line_batches():
            yield from batch

    def __iter__(self):
        decode = self._decode
        for line in self.json_lines():
            yield decode(json.loads(line))

    def close(self) -> None:
        for handle in self.files + self._also_open:
            handle.close()


def merged_records(paths: list[str], count: int, decode) -> MergedLines:
    """A section's records over every worker, in the order of the lines (then the deals, at the end) that made them."""
    runs = [open(path + ".runs", "rb") for path in paths]
    ends = []
    for path in paths:
        with open(path + ".ends", "rb") as handle:
            ends.append(pickle.load(handle))

    def order() -> Iterator[tuple[int, int]]:
        for _, worker, count in heapq.merge(*(_runs(handle, worker) for worker, handle in enumerate(runs))):
            yield worker, count
        by_deal = heapq.merge(*([(deal, worker, count) for deal, count in share] for worker, share in enumerate(ends)))
        for _, worker, count in by_deal:
            yield worker, count

    return MergedLines(paths, count, decode, order, runs)


def merged_outcomes(paths: list[str]) -> MergedLines:
    """The outcomes over every worker, sorted by deal id as one process sorts them."""
    from .saved import outcome_from_json

    deals = []
    for path in paths:
        with open(path + ".deals", "rb") as handle:
            deals.append(pickle.load(handle))

    def order() -> Iterator[tuple[int, int]]:
        for _, worker in heapq.merge(*([(deal, worker) for deal in share] for worker, share in enumerate(deals))):
            yield worker, 1

    return MergedLines(paths, sum(map(len, deals)), lambda raw: outcome_from_json(raw, "outcome"), order)


def _runs(handle, worker: int) -> Iterator[tuple[int, int, int]]:
    handle.seek(0)
    while True:
        block = array("q")
        try:
            block.fromfile(handle, BLOCK)
        except EOFError:                   # the last block: fewer numbers, still read into `block`
            pass
        if not block:
            return
        numbers = iter(block)
        for line, count in zip(numbers, numbers):
            yield line, worker, count


def share_path(folder: str, worker: int, section: str) -> str:
    return os.path.join(folder, f"{worker}.{section}")
