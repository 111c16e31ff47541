"""A replay's records as JSON and JSON Lines, written as they come so that nothing needs to be held.

The JSON document is self-contained: besides outcomes, actions, violations,
problems and totals it carries each funnel's shape (stages with id, title,
kind, probability, sla_seconds and order; value field; currency), so that
`funnel report RESULT.json` can render it later without the spec. Records
are written one a line, keys in a fixed order, with `json` (never orjson, so
that the bytes do not depend on what is installed).
"""
from __future__ import annotations

import json
import tempfile
from typing import IO, Iterator

from ..dsl.model import Spec
from .encode import dumps, encode_action, encode_outcome  # dumps: this module's API too
from .outcome import ActionRecord, DealOutcome, ReplayResult, RuntimeProblem, Totals, Violation
from .values import parse_time

SCHEMA_VERSION = 1
SECTIONS = ("outcomes", "actions", "violations", "problems")


def funnels_json(spec: Spec) -> list[dict]:
    """Each funnel's shape, as engine/shape.py reads it back."""
    from .shape import FunnelShape

    return [FunnelShape.from_funnel(f).to_json() for f in spec.funnels]


def _time(text: str | None) -> float | None:
    return None if text is None else parse_time(text)


def action_from_json(d: dict) -> ActionRecord:
    return ActionRecord(d["deal"], _time(d["time"]), d["kind"], d["payload"], d["rule"], d["span"])


def violation_from_json(d: dict) -> Violation:
    return Violation(d["deal"], _time(d["time"]), d["line"], d["kind"], d["from"], d["to"], d["message"],
                     d["applied"])


def problem_from_json(d: dict) -> RuntimeProblem:
    return RuntimeProblem(d["deal"], _time(d["time"]), d["kind"], d["message"], tuple(d["rules"]))


DECODERS = {"actions": action_from_json, "violations": violation_from_json, "problems": problem_from_json}


class Spool:
    """Records kept as JSON lines in a temporary file: appended to, counted, read back in order.

    Stands in for a list in a ReplayResult (len() and iteration) when the
    records of a long stream must not be held in memory.
    """

    BATCH = 512                 # lines written at once: a text file's write() costs more than the line

    def __init__(self, section: str):
        self.section = section
        self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="\n")
        self._count = 0
        self._pending: list[str] = []

    def append(self, record) -> None:
        pending = self._pending
        pending.append(encoded(record))
        self._count += 1
        if len(pending) >= self.BATCH:
            self._write_pending()

    def append_encoded(self, line: str, *_) -> None:
        """A record already encoded as `dumps(record.to_json())` would (engine/parallel.py's workers do); what
        follows the line (the replay's key and deal, engine/sinks.py) is not needed here."""
        pending = self._pending
        pending.append(line)
        self._count += 1
        if len(pending) >= self.BATCH:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            self._pending.append("")
            self._file.write("\n".join(self._pending))
            self._pending.clear()

    def __len__(self) -> int:
        return self._count

    def json_lines(self) -> Iterator[str]:
        self._write_pending()
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line.rstrip("\n")
        self._file.seek(0, 2)

    def json_line_batches(self, size: int = 1 << 18) -> Iterator[list[str]]:
        """The lines in lists of about `size` characters: read and stripped in bulk, not one by one."""
        self._write_pending()
        self._file.flush()
        self._file.seek(0)
        while True:
            lines = self._file.readlines(size)
            if not lines:
                break
            yield [line[:-1] for line in lines]          # each was written with its "\n", and holds no other
        self._file.seek(0, 2)

    def json_byte_blocks(self, size: int = 1 << 18) -> Iterator[bytes]:
        """The lines as UTF-8, each with its newline, about `size` bytes to a block: copied, never decoded."""
        self._write_pending()
        self._file.flush()
        raw = self._file.buffer
        raw.seek(0)
        while True:
            block = raw.read(size)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += raw.readline()         # whole lines only: the reader turns newlines into separators
            yield block
        self._file.seek(0, 2)

    def __iter__(self):
        decode = DECODERS[self.section]
        for line in self.json_lines():
            yield decode(json.loads(line))

    def close(self) -> None:
        self._file.close()


def _batches(lines: Iterator[str], size: int = 1024) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def encoded(item) -> str:
    """One record as its JSON text; outcomes and actions by the fast encoders (the same bytes)."""
    kind = type(item)
    if kind is DealOutcome:
        return encode_outcome(item)
    if kind is ActionRecord:
        return encode_action(item)
    return dumps(item.to_json())


def _section_batches(items) -> Iterator[list[str]]:
    if hasattr(items, "json_line_batches"):        # a Spool, or records already encoded (engine/parallel.py)
        return items.json_line_batches()
    return _batches(map(encoded, items))


def _section_lines(items) -> Iterator[str]:
    if hasattr(items, "json_lines"):
        yield from items.json_lines()
    else:
        yield from map(encoded, items)


def header_json(result: ReplayResult) -> dict:
    from .outcome import iso

    head = {"schema_version": SCHEMA_VERSION, "spec": result.spec, "until": iso(result.until),
            "moves": result.moves}
    if result.snapshot:
        head["snapshot"] = result.snapshot
    return head


def write_json(result: ReplayResult, out: IO[str], raw: IO[bytes] | None = None) -> None:
    """The whole result as one JSON document: top-level keys on their own lines, one record a line.

    raw: the binary file under `out`, when `out` writes UTF-8 and "\n" as they are; records already encoded
    (spooled, or a parallel replay's shares) are then copied to it as bytes, never decoded."""
    out.write("{\n")
    for key, value in header_json(result).items():
        out.write(f"  {dumps(key)}: {dumps(value)},\n")
    _write_list(out, "funnels", _batches(dumps(f) for f in result.funnels))
    for section in SECTIONS:
        items = getattr(result, section)
        if raw is not None and hasattr(items, "json_byte_blocks"):
            _copy_list(out, raw, section, items.json_byte_blocks())
        else:
            _write_list(out, section, _section_batches(items))
    out.write(f'  "totals": {dumps(result.totals.to_json())}\n}}\n')


def _write_list(out: IO[str], key: str, batches: Iterator[list[str]]) -> None:
    out.write(f"  {dumps(key)}: [")
    first = True
    for batch in batches:               # joined and written together: a write() a line is most of the cost
        if batch:
            out.write(("\n    " if first else ",\n    ") + ",\n    ".join(batch))
            first = False
    out.write("]," if first else "\n  ],")
    out.write("\n")


def _copy_list(out: IO[str], raw: IO[bytes], key: str, blocks: Iterator[bytes]) -> None:
    """`_write_list` for records already encoded as UTF-8 lines (a spool, a parallel replay's shares): copied
    as bytes, each newline but the last turned into the list's separator, without decoding a line."""
    out.write(f"  {dumps(key)}: [")
    out.flush()                         # what the text layer holds goes first
    first = True
    for block in blocks:
        if block:
            raw.write((b"\n    " if first else b",\n    ") + block[:-1].replace(b"\n", b",\n    "))
            first = False
    out.write("]," if first else "\n  ],")
    out.write("\n")


def jsonl_record(kind: str, data: dict) -> str:
    return dumps({"record": kind, **data}) + "\n"


def write_jsonl_head(result: ReplayResult, out: IO[str]) -> None:
    """What a JSON Lines result starts with: the funnels' shapes."""
    for funnel in result.funnels:
        out.write(jsonl_record("funnel", funnel))


def write_jsonl_tail(result: ReplayResult, out: IO[str]) -> None:
    """What a JSON Lines result ends with: the outcomes, then a summary (header fields and totals)."""
    for line in _section_lines(result.outcomes):
        out.write(f'{{"record": "outcome", {line[1:]}\n')
    out.write(jsonl_record("summary", {**header_json(result), "totals": result.totals.to_json()}))


def write_jsonl(result: ReplayResult, out: IO[str]) -> None:
    """A JSON Lines result from a result held in memory (the CLI streams the same records as they come)."""
    write_jsonl_head(result, out)
    for section, kind in (("actions", "action"), ("violations", "violation"), ("problems", "problem")):
        for line in _section_lines(getattr(result, section)):
            out.write(f'{{"record": "{kind}", {line[1:]}\n')
    write_jsonl_tail(result, out)


def totals_from_json(d: dict) -> Totals:
    return Totals(**{k: d.get(k, 0) for k in ("lines", "applied", "rejected", "blank", "deals", "after_until")})
