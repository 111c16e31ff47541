"""Read a saved simulate result (`funnel simulate … --format json|jsonl -o FILE`) back for metrics.

Only what metrics need is read: the funnels' shapes, the end of the replay,
the outcomes (ISO times back to epoch seconds) and the replay's counts. Every
problem is a ValueError naming where in the file it is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

from ..dsl.limits import JsonRefused, json_document
from .outcome import DealOutcome, Visit
from .values import OutOfRange, in_range, parse_time as time_of, shown
from .report.model import ReplaySummary
from .shape import FunnelShape

STATUSES = ("open", "won", "lost")


@dataclass(frozen=True)
class SavedResult:
    spec: str
    until: float | None
    shapes: tuple[FunnelShape, ...]
    outcomes: tuple[DealOutcome, ...]
    summary: ReplaySummary
    snapshot: str | None = None           # the caveat of a stream rebuilt from a snapshot


def parse_time(value, where: str) -> float | None:
    """An ISO 8601 instant (with `Z` or an offset) or epoch seconds, in the supported years; None stays None."""
    if value is None:
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return in_range(value)
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected an ISO 8601 time, not {value!r}")
        return time_of(value)
    except OutOfRange as err:
        raise ValueError(f"{where}: {shown(value)} is {err}") from None
    except ValueError as err:
        if str(err).startswith(where):
            raise
        raise ValueError(f"{where}: `{value}` is not an ISO 8601 time") from None


def _visit(raw, where: str) -> Visit:
    if not isinstance(raw, dict) or not isinstance(raw.get("stage"), str):
        raise ValueError(f"{where}: a visit needs a `stage`")
    entered = parse_time(raw.get("entered"), f"{where}: `entered`")
    if entered is None:
        raise ValueError(f"{where}: `entered` is missing")
    return Visit(raw["stage"], entered, parse_time(raw.get("left"), f"{where}: `left`"), str(raw.get("via", "")))


def outcome_from_json(raw, where: str) -> DealOutcome:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    deal = raw.get("deal")
    if not isinstance(deal, str):
        raise ValueError(f"{where}: `deal` must be a string")
    where = f"{where} (deal `{deal}`)"
    status = raw.get("status")
    if status not in STATUSES:
        raise ValueError(f"{where}: `status` must be open, won or lost, not {status!r}")
    path = raw.get("path")
    if not isinstance(path, list):
        raise ValueError(f"{where}: `path` must be a list")
    visits = tuple(_visit(v, f"{where}, path[{i}]") for i, v in enumerate(path))
    created = parse_time(raw.get("created"), f"{where}: `created`")
    if created is None:
        created = visits[0].entered if visits else 0.0
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        raise ValueError(f"{where}: `fields` must be an object")
    return DealOutcome(deal, str(raw.get("funnel", "")), created, str(raw.get("stage", "")), status,
                       raw.get("lost_reason"), parse_time(raw.get("closed"), f"{where}: `closed`"), visits, fields)


def _summary(data: dict) -> ReplaySummary:
    totals = data.get("totals") if isinstance(data.get("totals"), dict) else {}

    def number(value) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def size(key: str) -> int:
        value = data.get(key)
        if isinstance(value, list):
            return len(value)
        return number(value) or number(totals.get(key))

    return ReplaySummary(lines=number(totals.get("lines")), applied=number(totals.get("applied")),
                         rejected=number(totals.get("rejected")), actions=size("actions"),
                         violations=size("violations"), problems=size("problems"))


def result_from_json(data, name: str = "result") -> SavedResult:
    """A parsed saved result; ValueError names what is missing or malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a JSON object (a saved `funnel simulate --format json` result)")
    funnels = data.get("funnels")
    if not isinstance(funnels, list) or not funnels:
        raise ValueError(f"{name}: no `funnels` with their stages; save the result with "
                         f"`funnel simulate … --format json -o FILE`")
    shapes = tuple(FunnelShape.from_json(f, f"{name}: funnels[{i}]") for i, f in enumerate(funnels))
    raw_outcomes = data.get("outcomes")
    if not isinstance(raw_outcomes, list):
        raise ValueError(f"{name}: `outcomes` must be a list")
    outcomes = tuple(outcome_from_json(o, f"{name}: outcomes[{i}]") for i, o in enumerate(raw_outcomes))
    if len(shapes) == 1:
        outcomes = tuple(o if o.funnel else _with_funnel(o, shapes[0].id) for o in outcomes)
    until = parse_time(data.get("until"), f"{name}: `until`")
    snapshot = data.get("snapshot")
    if snapshot is not None and not isinstance(snapshot, str):
        raise ValueError(f"{name}: `snapshot` must be the caveat's text or absent")
    return SavedResult(str(data.get("spec") or ""), until, shapes, outcomes, _summary(data), snapshot or None)


def _with_funnel(outcome: DealOutcome, funnel: str) -> DealOutcome:
    return replace(outcome, funnel=funnel)


def _jsonl_document(handle, path: str) -> dict:
    """A JSON Lines result (`--format jsonl`: one record a line) gathered into the JSON document's shape."""
    data: dict = {"funnels": [], "outcomes": [], "actions": 0, "violations": 0, "problems": 0}
    sections = {"funnel": "funnels", "outcome": "outcomes"}
    counted = {"action": "actions", "violation": "violations", "problem": "problems"}
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json_document(line)
        except JsonRefused as err:
            raise ValueError(f"{path}:{number}: {err}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not valid JSON: {err.msg}") from None
        kind = record.pop("record", None) if isinstance(record, dict) else None
        if kind in sections:
            data[sections[kind]].append(record)
        elif kind in counted:
            data[counted[kind]] += 1
        elif kind == "summary":
            data.update(record)
        else:
            raise ValueError(f"{path}:{number}: expected a record of kind funnel, outcome, action, violation, "
                             f"problem or summary")
    return data


def read_saved_result(path: str) -> SavedResult:
    """Read a saved result, JSON or JSON Lines; OSError for I/O, ValueError (naming the line) for its content."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
        handle.seek(0)
        try:
            head = json_document(first)
        except ValueError:              # not JSON, or too deep: read as a whole document below
            head = None
        if isinstance(head, dict) and "record" in head:
            return result_from_json(_jsonl_document(handle, path), path)
        text = handle.read()
    try:
        data = json_document(text)
    except JsonRefused as err:
        raise ValueError(f"{path}: {err}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from None
    return result_from_json(data, path)
