"""Reading a deal stream: JSON Lines from a file, stdin or .gz, and CSV with a column mapping.

A reader yields `(line number, raw line, value)` for every physical line, so
that each one is accounted for: value is the decoded JSON (or the event a CSV
row maps to), `BLANK` for an empty or `#` comment line (and a CSV header), or
a `NotJson` with the decoder's message. The raw line is kept only until the
next one, to be written verbatim to a rejects file.

With engine/lines.py, which reads the lines and CSV records within limits,
this is the one place that refuses what no event can be (docs/limits.md,
"Streams and exports"): a line over MAX_LINE_BYTES, JSON nested deeper than
MAX_DEPTH, a CSV row that is not UTF-8 or has a cell over the csv module's
limit. Each is a NotJson for its line, so that `--on-error skip` sets it aside
and goes on. A stream that cannot be read on (a .gz cut short or damaged)
ends with a NotJson for the line where reading stopped.
"""
from __future__ import annotations

import errno
import glob
import gzip
import itertools
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..dsl.limits import MAX_NESTING
from .lines import MAX_LINE_BYTES, BadRecord, Unread, csv_records, lines_of

try:
    import orjson

    _loads = orjson.loads
except ImportError:       # orjson is optional (the `fast` extra): the standard library reads the same values
    _loads = json.loads

BLANK = object()
# A stream's first line may say that it was rebuilt from a snapshot of current stages (a comment, so that
# every reader still skips it): `# snapshot: NOTE`. Reports then carry the note as a caveat.
SNAPSHOT_LINE = re.compile(r"#\s*snapshot\b:?\s*(.*)")
SNAPSHOT_NOTE = ("every deal's history is rebuilt from its current stage in a snapshot, not recorded as it "
                 "happened: times in stage and when deals moved are the least the snapshot implies")
EVENT_KEYS = ("id", "deal", "ts", "type", "stage", "funnel", "to", "by", "reason", "name")
# An event is nested 3 deep; deeper JSON would exhaust the recursion of what reads it. One limit for every JSON
# input (dsl/limits.py, docs/limits.md).
MAX_DEPTH = MAX_NESTING


@dataclass(frozen=True)
class NotJson:
    message: str
    ends_stream: bool = False       # no line can be read after this one (a .gz cut short, a CSV header unread)


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


STREAM_SUFFIXES = (".jsonl", ".ndjson", ".json", ".gz", ".csv", ".parquet", ".parq")


def source_files(path: str) -> list[str] | None:
    """The files a directory or a glob pattern names, in name order; None for one file (or `-`).

    A directory holds the files with a stream's suffix (.jsonl, .ndjson,
    .json, .gz, .csv, .parquet), not looking into subdirectories. Raises
    OSError when none is there."""
    if path == "-" or os.path.isfile(path):
        return None
    if os.path.isdir(path):
        files = sorted(os.path.join(path, name) for name in os.listdir(path)
                       if name.lower().endswith(STREAM_SUFFIXES) and os.path.isfile(os.path.join(path, name)))
        where = f"in the directory {path}"
    elif glob.has_magic(path):
        files = sorted(name for name in glob.glob(path) if os.path.isfile(name))
        where = f"matching {path}"
    else:
        return None
    if not files:
        raise OSError(errno.ENOENT, f"no event files {where}", path)
    return files


def file_lines(path: str, csv_map: dict[str, str] | None):
    """(numbered lines, lenient, stream to close) of one file or `-`: JSON Lines, .gz, CSV or Parquet."""
    from .parquet import ParquetStream, is_parquet

    if is_parquet(path):
        parquet = ParquetStream(path)
        return parquet.rows(), False, parquet
    stream = open_stream(path)
    if csv_map is not None or is_csv(path):
        return csv_rows(stream.binary, csv_map or {}), True, stream
    return json_lines(lines_of(stream.binary)), False, stream


class OneFileAtATime:
    """A stream read one file after another: `current` is the open one, closed when done or abandoned."""

    current = None

    def position(self) -> int | None:
        return None             # no byte position across several files: progress counts lines

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


class FileSet(OneFileAtATime):
    """The files of a directory or glob read one after the other as one stream.

    Line numbers run on from one file to the next (the replay orders its
    records by line); a line that is not an event is named in its own file too."""

    def __init__(self, name: str, files: list[str], csv_map: dict[str, str] | None):
        self.name, self.files, self.csv_map = name, files, csv_map
        self.size = None
        self.current = None

    @property
    def lenient(self) -> bool:
        return self.csv_map is not None or any(is_csv(path) for path in self.files)

    def lines(self) -> Iterator[tuple[int, object, object]]:
        offset = 0
        for path in self.files:
            lines, _, self.current = file_lines(path, self.csv_map)
            number = 0
            try:
                for number, raw, value in lines:
                    if type(value) is NotJson:          # named in its own file too, where a user would look
                        value = NotJson(f"({path}, line {number}) {value.message}", value.ends_stream)
                    yield offset + number, raw, value
            finally:
                self.close()
            offset += number


def is_csv(path: str) -> bool:
    name = path[:-3] if path.endswith(".gz") else path
    return name.lower().endswith(".csv")


def snapshot_note(raw) -> str | None:
    """The caveat a `# snapshot: NOTE` line gives (NOTE, or the standard one), None for any other line (or an
    event given as a dict)."""
    if not isinstance(raw, (bytes, str)):
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    match = SNAPSHOT_LINE.fullmatch(text.strip())
    return None if match is None else (match.group(1).strip() or SNAPSHOT_NOTE)


def peek_snapshot(lines: Iterator[tuple]) -> tuple[Iterator[tuple], str | None]:
    """Numbered lines, unchanged, and the snapshot caveat their first line gives (None: not a snapshot)."""
    first = next(lines, None)
    if first is None:
        return iter(()), None
    return itertools.chain([first], lines), snapshot_note(first[1]) if first[0] == 1 else None


def file_snapshot_note(path: str) -> str | None:
    """`peek_snapshot` for a stream read by path (a parallel replay's workers read it themselves): its first
    file's first line, or a Parquet file's caveat."""
    from .parquet import ParquetStream, is_parquet

    files = source_files(path)
    first = files[0] if files else path
    if is_parquet(first):
        parquet = ParquetStream(first)
        parquet.close()
        return parquet.snapshot
    stream = open_stream(first)
    try:
        return snapshot_note(stream.binary.readline())
    finally:
        stream.close()


def json_lines(lines: Iterable[bytes | str | Unread]) -> Iterator[tuple[int, bytes | str, object]]:
    """Every line with its number and decoded value (BLANK, NotJson or the JSON value)."""
    for number, raw in enumerate(lines, 1):
        if type(raw) is Unread:
            yield number, raw.start, NotJson(raw.message, raw.ends_stream)
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


def csv_rows(binary, mapping: dict[str, str], limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, object, object]]:
    """Each CSV row as the event it maps to; the header line is BLANK.

    Columns named like event keys map to them; a `KEY=COLUMN` mapping renames.
    Every other column is a deal field (created, updated) or event datum
    (event). Empty cells are left out; cell text is read by the field's type.
    A record that cannot be read (engine/lines.py) is a NotJson for its first
    line; without a header no row can be read, so a bad header ends the rows.
    """
    header = None
    for first, raw, row in csv_records(binary, limit):
        if type(row) is BadRecord:
            if header is None:
                yield first, raw, NotJson(f"the header row: {row.message}; no row can be read without it", True)
                return
            yield first, raw, NotJson(record_problem(row, header), row.ends_stream)
            if row.ends_stream:
                return
        elif header is None:
            header = row
            columns = _column_keys(header, mapping, set(mapping.values()))
            yield first, raw, BLANK
        elif not any(cell.strip() for cell in row):
            yield first, raw, BLANK
        elif len(row) != len(header):
            yield first, raw, NotJson(f"a CSV row of {len(row)} cells under a header of {len(header)}")
        else:
            yield first, raw, _row_event(row, columns, first)


def record_problem(bad: BadRecord, header: list[str]) -> str:
    """A bad CSV record's message, naming the column at fault by its number and header."""
    if bad.column is None:
        return bad.message
    name = f" `{header[bad.column - 1]}`" if bad.column <= len(header) else ""
    return f"column {bad.column}{name}: {bad.message}"


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
