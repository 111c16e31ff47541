"""The lines and CSV records of a stream, read within limits: what engine/events.py and the converters read.

Nothing here fails on what the bytes hold. A line over MAX_LINE_BYTES is
read past in pieces, never held whole; a CSV record that is not UTF-8, or
that the csv module cannot read (a cell over its field limit), comes with
its line number and the column at fault; a .gz cut short or damaged ends
the lines with the reason, at the line where reading stopped. Callers decide
what each becomes: a rejected line of a replay, an error of a converter.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import zlib
from dataclasses import dataclass
from functools import partial
from typing import Iterator

MAX_LINE_BYTES = 16 << 20     # an event is a few hundred bytes; a longer line is refused without being held whole
KEPT_OF_LONG_LINE = 1024      # the start of an over-long line that is kept (for a rejects file)
# What reading a .gz raises when the file is cut short (EOFError) or damaged (BadGzipFile, zlib.error).
STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
NOT_UTF8 = re.compile("[\udc80-\udcff]")      # the surrogates that `surrogateescape` makes of bytes that are not UTF-8


@dataclass(frozen=True)
class Unread:
    """A line that could not be handed over whole: why, what of it was read, and whether no line comes after."""

    message: str
    start: bytes = b""
    ends_stream: bool = False


@dataclass(frozen=True)
class BadRecord:
    """A CSV record that cannot be read: what is wrong, and its column (from 1) when one is at fault."""

    message: str
    column: int | None = None
    ends_stream: bool = False


def lines_of(binary, limit: int = MAX_LINE_BYTES, first_of_stream: bool = True) -> Iterator[bytes | Unread]:
    """The lines of a binary stream, decoding nothing (a UTF-8 BOM on the first line is dropped, unless the
    lines are not the stream's first: a range of a file read by engine/shuffle.py).

    A line longer than `limit` bytes is read past, never held whole, and
    comes as an Unread; so does the point where a .gz stream cannot be read
    on (cut short or damaged), which ends the lines."""
    if hasattr(binary, "readline"):
        read = partial(binary.readline, limit + 1)
        lines = iter(read, b"")
    else:                                    # an iterable of lines passed for a file: its lines come whole
        read, lines = bytes, iter(binary)
    try:
        first = next(lines, b"")
        if not first:
            return
        if first_of_stream and first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8):]
        for line in itertools.chain((first,), lines):
            if len(line) > limit:
                line = _long_line(line, read, limit)
            yield line
    except STREAM_ERRORS as err:
        yield Unread(unreadable(err), ends_stream=True)


def _long_line(start: bytes, read, limit: int) -> Unread:
    """Read past the rest of a line over `limit` bytes (it may be cut short by a damaged .gz: raised then)."""
    size = len(start)
    chunk = start
    while not chunk.endswith(b"\n"):
        chunk = read()
        if not chunk:
            break
        size += len(chunk)
    return Unread(f"a line of {size:,} bytes; an event line may have at most {limit:,} "
                  f"(its first {KEPT_OF_LONG_LINE:,} are kept)", start[:KEPT_OF_LONG_LINE])


def unreadable(err: BaseException) -> str:
    """Why a compressed stream cannot be read on from here."""
    if isinstance(err, EOFError):
        what = "the compressed stream ends here, before its end marker (a .gz file cut short?)"
    elif isinstance(err, zlib.error):
        what = f"the compressed data is damaged here ({err})"
    else:
        what = f"not a readable .gz stream from here ({err})"
    return what + "; no line after this one can be read"


# CSV ---------------------------------------------------------------------------------

class _LineTooLong(Exception):
    """Raised through the csv module for a physical line over the limit (the csv reader starts afresh after it)."""


class _RawLines:
    """Text lines handed to the csv module, counted, remembering those of the current record.

    Bytes that are not UTF-8 are kept as lone surrogates (`surrogateescape`),
    so that one bad record is found by itself, and can be written out as it
    was, while the records after it are read."""

    def __init__(self, text, limit: int):
        self._read = partial(text.readline, limit + 1)
        self._limit = limit
        self.row: list[str] = []
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self._read()
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > self._limit:
            self.row.append(line[:KEPT_OF_LONG_LINE])
            while not line.endswith(("\n", "\r")) and line:
                line = self._read()
            raise _LineTooLong(f"a line over {self._limit:,} characters")
        self.row.append(line)
        return line

    def take(self) -> str:
        raw = "".join(self.row)
        self.row = []
        return raw


def csv_records(binary, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str | bytes, list[str] | BadRecord]]:
    """Each CSV record of a binary stream as (its first line, raw text, cells).

    A record that cannot be read comes as a BadRecord, its raw text as the
    bytes it was (so that it can be written out verbatim); one that ends the
    stream (a .gz cut short) is the last."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _RawLines(text, limit)
    reader = csv.reader(lines)
    while True:
        first = lines.count + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except STREAM_ERRORS as err:
            yield lines.count + 1, verbatim(lines.take()), BadRecord(unreadable(err), ends_stream=True)
            return
        except _LineTooLong as err:
            yield first, verbatim(lines.take()), BadRecord(str(err))
            continue
        except csv.Error as err:
            raw = lines.take()
            yield first, verbatim(raw), _unparsed(err, raw)
            continue
        raw = lines.take()
        if not raw.isascii() and NOT_UTF8.search(raw):
            yield first, verbatim(raw), _not_utf8(raw, row)
        else:
            yield first, raw, row


def verbatim(raw: str) -> bytes:
    """Text read with `surrogateescape` as the bytes it was read from."""
    return raw.encode("utf-8", "surrogateescape")


def _not_utf8(raw: str, row: list[str]) -> BadRecord:
    """The first byte that is not UTF-8 (counted from 1 in the record) and the first cell holding one."""
    byte = len(verbatim(raw[:NOT_UTF8.search(raw).start()])) + 1
    column = next((i for i, cell in enumerate(row, 1) if NOT_UTF8.search(cell)), None)
    return BadRecord(f"not valid UTF-8 (byte {byte})", column)


def _unparsed(err: csv.Error, raw: str) -> BadRecord:
    limit = csv.field_size_limit()
    if not str(err).startswith("field larger than field limit"):
        return BadRecord(f"not CSV: {err}")
    return BadRecord(f"a cell over {limit:,} characters, the most the csv module reads", _long_cell(raw, limit))


def _long_cell(raw: str, limit: int) -> int | None:
    """Which cell of a record is over the field limit: the record read again with the limit lifted for it.

    The limit is the csv module's, for the whole process; it is put back before anything else reads."""
    try:
        csv.field_size_limit(len(raw) + 1)
        cells = next(csv.reader(io.StringIO(raw, newline="")), [])
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return next((i for i, cell in enumerate(cells, 1) if len(cell) > limit), None)
