"""Reading a deal stream: JSON Lines from a file, stdin or .gz, and CSV with a column mapping.

A reader yields `(line number, raw line, value)` for every physical line, so
that each one is accounted for: value is the decoded JSON (or the event a CSV
row maps to), `BLANK` for an empty or `#` comment line (and a CSV header), or
a `NotJson` with the decoder's message. The raw line is kept only until the
next one, to be written verbatim to a rejects file.

This is the one place that refuses what no event can be (docs/limits.md,
"Streams and exports"): a line over MAX_LINE_BYTES, JSON nested deeper than
MAX_DEPTH, a CSV row that is not UTF-8 or has a cell over the csv module's
limit. Each is a NotJson for its line, so that `--on-error skip` sets it aside
and goes on. A stream that cannot be read on (a .gz cut short or damaged)
ends with a NotJson for the line where reading stopped.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass
from functools import partial
from typing import Iterable, Iterator

try:
    import orjson

    _loads = orjson.loads
except ImportError:       # orjson is optional (the `fast` extra): the standard library reads the same values
    _loads = json.loads

BLANK = object()
EVENT_KEYS = ("id", "deal", "ts", "type", "stage", "funnel", "to", "by", "reason", "name")
MAX_LINE_BYTES = 16 << 20     # an event is a few hundred bytes; a longer line is refused without being held whole
MAX_DEPTH = 64                # an event is nested 3 deep; deeper JSON would exhaust the recursion of what reads it
KEPT_OF_LONG_LINE = 1024      # the start of an over-long line that goes to the rejects file
# What reading a .gz raises when the file is cut short (EOFError) or damaged (BadGzipFile, zlib.error).
STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


@dataclass(frozen=True)
class NotJson:
    message: str


@dataclass(frozen=True)
class Unread:
    """A line that lines_of could not hand over whole: why, and what of it was read (for the rejects file)."""

    message: str
    start: bytes = b""


class Stream:
    """An open input: its lines (bytes), and how far into it the reader is, for progress."""

    def __init__(self, name: str, binary, raw=None, size: int | None = None):
        self.name = name
        self.binary = binary
        self._raw = raw if raw is not None else binary
        self.size = size

    def position(self) -> int | None:
        try:
            return self._raw.tell()
        except (OSError, ValueError, AttributeError):
            return None

    def close(self) -> None:
        if self.binary is not getattr(sys.stdin, "buffer", None):
            self.binary.close()


def open_stream(path: str) -> Stream:
    """`-` is stdin; a name ending in .gz is gunzipped. Raises OSError when it cannot be opened."""
    if path == "-":
        return Stream("<stdin>", sys.stdin.buffer, size=None)
    size = os.path.getsize(path)
    if path.endswith(".gz"):
        raw = open(path, "rb")
        return Stream(path, gzip.GzipFile(fileobj=raw, mode="rb"), raw, size)
    handle = open(path, "rb")
    return Stream(path, handle, handle, size)


def is_csv(path: str) -> bool:
    name = path[:-3] if path.endswith(".gz") else path
    return name.lower().endswith(".csv")


def json_lines(lines: Iterable[bytes | str | Unread]) -> Iterator[tuple[int, bytes | str, object]]:
    """Every line with its number and decoded value (BLANK, NotJson or the JSON value)."""
    for number, raw in enumerate(lines, 1):
        if type(raw) is Unread:
            yield number, raw.start, NotJson(raw.message)
        else:
            yield number, raw, decode_line(raw)


def decode_line(raw: bytes | str):
    """One line's value: BLANK (empty or a `#` comment), NotJson, or the decoded JSON.

    The line is decoded as it is first (JSON allows the newline around a value): stripping
    every line cost a fifth of decoding it. Only a line that does not decode is looked at.
    A line with more brackets than MAX_DEPTH is measured before any decoder recurses into it."""
    if type(raw) is bytes:
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(raw) > MAX_DEPTH:
            return NotJson(TOO_DEEP)
    elif type(raw) is str and raw.count("[") + raw.count("{") > MAX_DEPTH \
            and nesting_depth(raw.encode("utf-8", "surrogatepass")) > MAX_DEPTH:
        return NotJson(TOO_DEEP)
    try:
        return _loads(raw)
    except ValueError:
        return _odd_line(raw)


TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep; an event needs 3"
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def nesting_depth(raw: bytes) -> int:
    """How deep the brackets of a line nest, outside strings (a quote left open runs to the end)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _odd_line(raw: bytes | str):
    text = raw.strip()
    if not text or text[:1] in (b"#", "#"):
        return BLANK
    try:
        return _loads(text)
    except ValueError:                # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        return NotJson(json_problem(text))


def json_problem(text: bytes | str) -> str:
    """Why a line is not JSON, worded by the standard library whichever decoder read it (stable messages)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            return f"not valid UTF-8 (byte {err.start + 1})"
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        return f"not JSON: {err.msg} (column {err.colno})"
    except ValueError as err:
        return f"not JSON: {err}"
    return "not JSON: a value the decoder cannot hold (an integer too large?)"


# CSV --------------------------------------------------------------------------------

def parse_csv_map(specs: Iterable[str]) -> dict[str, str]:
    """`deal=opportunity_id,ts=date,fields.budget=amount,ignore=notes` (repeatable) -> {key: column}.

    Keys are the event's keys, `fields.NAME`, `data.NAME`, or `ignore` (a
    column to leave out; it may repeat). Raises ValueError naming a bad item.
    """
    mapping: dict[str, str] = {}
    for spec in specs:
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, column = item.partition("=")
            key, column = key.strip(), column.strip()
            if not sep or not key or not column:
                raise ValueError(f"`{item}` is not KEY=COLUMN")
            if key == "ignore":
                mapping[f"ignore.{column}"] = column
                continue
            if key not in EVENT_KEYS and not key.startswith(("fields.", "data.")):
                raise ValueError(f"`{key}` is not an event key; use one of {', '.join(EVENT_KEYS)}, "
                                 "fields.NAME, data.NAME or ignore")
            mapping[key] = column
    return mapping


class _LineTooLong(Exception):
    """Raised through the csv module for a physical line over the limit (the csv reader starts afresh after it)."""


class _RawLines:
    """Text lines handed to the csv module, counted, remembering those of the current row.

    Bytes that are not UTF-8 are kept as lone surrogates (`surrogateescape`),
    so that one bad row is found and refused, and written to the rejects file
    as it was, while the rows after it are read."""

    def __init__(self, binary, limit: int):
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
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


NOT_UTF8 = re.compile("[\udc80-\udcff]")      # the surrogates that `surrogateescape` makes of bytes that are not UTF-8


def _not_utf8(raw: str) -> str | None:
    """Why a row's text is not UTF-8 (the first bad byte, counted from 1 in the row), or None."""
    if raw.isascii():
        return None
    bad = NOT_UTF8.search(raw)
    if bad is None:
        return None
    return f"not valid UTF-8 (byte {len(raw[:bad.start()].encode('utf-8', 'surrogateescape')) + 1})"


def _verbatim(raw: str) -> bytes:
    return raw.encode("utf-8", "surrogateescape")


def csv_rows(binary, mapping: dict[str, str], limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, object, object]]:
    """Each CSV row as the event it maps to; the header line is BLANK.

    Columns named like event keys map to them; a `KEY=COLUMN` mapping renames.
    Every other column is a deal field (created, updated) or event datum
    (event). Empty cells are left out; cell text is read by the field's type.
    A row the csv module cannot read (a cell over its field limit, a line
    over `limit`) or that is not UTF-8 is a NotJson for its first line.
    """
    lines = _RawLines(binary, limit)
    reader = csv.reader(lines)
    number = 0
    header = None
    while True:
        first = number + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except STREAM_ERRORS as err:
            yield lines.count + 1, _verbatim(lines.take()), NotJson(unreadable(err))
            return
        except (csv.Error, _LineTooLong) as err:
            number = lines.count
            yield first, _verbatim(lines.take()), NotJson(_csv_problem(err))
            continue
        number = lines.count
        raw = lines.take()
        bad = _not_utf8(raw)
        if header is None:
            if bad is not None:
                yield first, _verbatim(raw), NotJson(f"the header row is {bad}; no row can be read without it")
                return
            header = row
            columns = _column_keys(header, mapping, set(mapping.values()))
            yield first, raw, BLANK
        elif bad is not None:
            yield first, _verbatim(raw), NotJson(bad)
        elif not any(cell.strip() for cell in row):
            yield first, raw, BLANK
        elif len(row) != len(header):
            yield first, raw, NotJson(f"a CSV row of {len(row)} cells under a header of {len(header)}")
        else:
            yield first, raw, _row_event(row, columns, first)


def _csv_problem(err: Exception) -> str:
    text = str(err)
    if text.startswith("field larger than field limit"):
        return f"a CSV cell over {csv.field_size_limit():,} characters, the most the csv module reads"
    return f"not CSV: {text}"


def _column_keys(header: list[str], mapping: dict[str, str], used: set[str]) -> list[tuple[int, str]]:
    keys = []
    by_column = {column: key for key, column in mapping.items()}
    for i, column in enumerate(header):
        if column in by_column:
            key = by_column[column]
            if not key.startswith("ignore."):
                keys.append((i, key))
        elif column in EVENT_KEYS and column not in used:
            keys.append((i, column))
        else:
            keys.append((i, "*." + column))
    return keys


def _row_event(row: list[str], columns: list[tuple[int, str]], line: int) -> dict:
    event: dict = {}
    loose: dict = {}
    for i, key in columns:
        cell = row[i]
        if cell == "":
            continue
        if key.startswith("*."):
            loose[key[2:]] = cell
        elif key.startswith("fields."):
            event.setdefault("fields", {})[key[7:]] = cell
        elif key.startswith("data."):
            event.setdefault("data", {})[key[5:]] = cell
        else:
            event[key] = cell
    if loose:
        target = "data" if event.get("type") == "event" else "fields" if event.get("type") != "moved" else None
        if target is not None:
            event.setdefault(target, {}).update(loose)
    event.setdefault("id", line)
    if event.get("type") == "updated":
        event.setdefault("fields", {})
    return event


def lines_of(binary, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | Unread]:
    """The lines of a binary stream, decoding nothing (a UTF-8 BOM on the first line is dropped).

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
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8):]
        for line in itertools.chain((first,), lines):
            if len(line) > limit:
                line = _long_line(line, read, limit)
            yield line
    except STREAM_ERRORS as err:
        yield Unread(unreadable(err))


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
    """Why a compressed stream cannot be read on from here, and what the reader keeps."""
    if isinstance(err, EOFError):
        what = "the compressed stream ends here, before its end marker (a .gz file cut short?)"
    elif isinstance(err, zlib.error):
        what = f"the compressed data is damaged here ({err})"
    else:
        what = f"not a readable .gz stream from here ({err})"
    return what + "; no line after this one can be read"
