"""Deal streams in Parquet: read as the events of JSON Lines are, and written by `funnel convert --to parquet`.

A Parquet stream has a column per event key (`id`, `deal`, `ts`, `type`,
...), and `fields` and `data` as JSON text (what `--to parquet` writes) or
as a struct. Each row is one event: a null cell is a key the event does not
have, as are the null members of a struct (a struct column has every member
in every row). A timestamp cell is read as ISO 8601 text in UTC. Row N is
"line N" in messages and rejects files, which hold the row as JSON.

pyarrow is optional (the `parquet` extra): without it a Parquet input or
output is refused with how to install it.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterable, Iterator

from .events import BLANK, EVENT_KEYS, NotJson, decode_line

INSTALL = "reading or writing Parquet needs pyarrow: pip install 'funnelspec[parquet]'"
BATCH_ROWS = 8192
NESTED = ("fields", "data")


def is_parquet(path: str) -> bool:
    return path.lower().endswith((".parquet", ".parq"))


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise OSError(INSTALL) from None
    return pyarrow


SNAPSHOT_KEY = b"funnelspec.snapshot"     # the schema metadata that holds a snapshot stream's caveat


class ParquetStream:
    """An open Parquet file, closed as engine/events.py's Stream is; its position is the rows read (no bytes)."""

    def __init__(self, path: str):
        pa = _pyarrow()
        self.name = path
        try:
            self.file = pa.parquet.ParquetFile(path)
        except pa.ArrowException as err:
            raise OSError(f"{path}: not a Parquet file the reader can open: {err}") from None
        self.size = None
        metadata = self.file.schema_arrow.metadata or {}
        note = metadata.get(SNAPSHOT_KEY)
        self.snapshot = note.decode("utf-8", "replace") if note is not None else None

    def position(self) -> int | None:
        return None

    def close(self) -> None:
        self.file.close()

    def rows(self) -> Iterator[tuple[int, bytes, object]]:
        """(row number from 1, the row as JSON, the event or a NotJson), as engine/events.py's json_lines."""
        number = 0
        if self.snapshot is not None:      # as the `# snapshot:` first line of the JSON Lines it was written from
            number = 1
            yield number, f"# snapshot: {self.snapshot}".encode(), BLANK
        for batch in self.file.iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                number += 1
                event = _event(row)
                yield number, _raw(row), event


def _event(row: dict):
    event = {}
    for key, value in row.items():
        if value is None:
            continue
        if key in NESTED:
            if isinstance(value, (str, bytes)):
                value = decode_line(value)
                if type(value) is NotJson:
                    return NotJson(f"column `{key}`: {value.message}")
            elif isinstance(value, dict):
                value = {k: _plain(v) for k, v in value.items() if v is not None}
        event[key] = _plain(value)
    return event


def _plain(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def _raw(row: dict) -> bytes:
    return json.dumps({k: _plain(v) for k, v in row.items() if v is not None}, ensure_ascii=False,
                      default=str).encode("utf-8")


# writing ----------------------------------------------------------------------------

class MixedColumn(ValueError):
    """A key holds values of more than one type (text and numbers): a Parquet column holds one."""


def write_parquet(events: Iterable[tuple[int, dict]], path, snapshot: str | None = None) -> int:
    """Write `(line, event)` pairs as Parquet at `path`, a file name or a binary file (the events are gone
    over twice); return the rows. A `snapshot` caveat is kept in the file's metadata.

    Event keys are columns of the type their values have (text, integers,
    numbers); `fields` and `data` are JSON text. Raises MixedColumn naming
    the first line whose value does not fit the column's type."""
    pa = _pyarrow()
    events = list(events)
    types: dict[str, tuple[type, int]] = {}
    for line, event in events:
        for key, value in event.items():
            if key in NESTED or value is None:
                continue
            kind = float if type(value) is int else type(value)
            if kind not in (str, float, bool):
                raise MixedColumn(f"line {line}: `{key}` is {_name(kind)}; a column other than fields and data "
                                  "holds text, numbers or true/false")
            seen = types.setdefault(key, (kind, line))
            if seen[0] is not kind:
                raise MixedColumn(f"line {line}: `{key}` is {_name(kind)} where line {seen[1]} has "
                                  f"{_name(seen[0])}; a Parquet column holds one type")
    ints = {key for key in types if all(type(e.get(key)) in (int, type(None)) for _, e in events)}
    columns = [k for k in EVENT_KEYS if k in types] + sorted(k for k in types if k not in EVENT_KEYS) + list(NESTED)
    schema = pa.schema([(k, pa.string() if k in NESTED else _arrow_type(pa, types[k][0], k in ints))
                        for k in columns])
    if snapshot is not None:
        schema = schema.with_metadata({SNAPSHOT_KEY: snapshot.encode("utf-8")})
    with pa.parquet.ParquetWriter(path, schema) as writer:
        for start in range(0, len(events), BATCH_ROWS * 8):
            chunk = [e for _, e in events[start:start + BATCH_ROWS * 8]]
            data = {k: [_cell(e.get(k), k) for e in chunk] for k in columns}
            writer.write_table(pa.table(data, schema=schema))
    return len(events)


def _cell(value, key: str):
    if key in NESTED and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


def _arrow_type(pa, kind: type, integers: bool):
    if kind is str:
        return pa.string()
    if kind is bool:
        return pa.bool_()
    if kind is float:
        return pa.int64() if integers else pa.float64()
    return pa.string()


def _name(kind: type) -> str:
    return {str: "text", float: "a number", bool: "true/false", dict: "an object", list: "a list"}.get(kind, kind.__name__)
