"""Is an event line fit to replay? Its shape (schemas/events.schema.json), its time, its names and values.

The shape is checked on the hot path by `shape_problem`, a hand-written
equivalent of the schema (a property test keeps the two in agreement); only
when it fails does jsonschema run, to word the precise message. What needs
the funnel (fields, stages, events, routing) is read here too, and raises
`Rejected` before the replay changes anything.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ..dsl.spelling import closest
from ..dsl.limits import MAX_NESTING, nesting_exceeds
from .values import BadValue, OutOfRange, in_range, parse_time, shown

TYPES = frozenset(("created", "updated", "moved", "event"))
KEYS = frozenset(("id", "deal", "ts", "type", "fields", "stage", "funnel", "to", "by", "reason", "name", "data"))
TEXT_KEYS = ("stage", "funnel", "to", "by", "reason", "name")
NEEDS = {"created": "type", "updated": "fields", "moved": "to", "event": "name"}   # "type": nothing more
REQUIRED = frozenset(("id", "deal", "ts", "type"))


class Rejected(ValueError):
    """A line that cannot be replayed; the message says what is wrong, the line number is added by the caller."""


def _hint(name: str, candidates) -> str:
    match = closest(name, candidates)
    return f' (did you mean "{match}"?)' if match else ""


# shape ----------------------------------------------------------------------------

TEXT, ID, TIME, OBJECT = frozenset((str,)), frozenset((str, int)), frozenset((str, int, float)), frozenset((dict,))
KEY_TYPES = {"id": ID, "deal": ID, "ts": TIME, "type": TEXT, "fields": OBJECT, "data": OBJECT,
             **{key: TEXT for key in TEXT_KEYS}}


def shape_problem(event) -> str | None:
    """None when `event` fits the schema, else the schema's precise message.

    What the schema asks depends on the event's keys, the exact type of each
    value and which type of event it is, and on nothing else but a non-empty
    deal id; a stream has a handful of such shapes, so the shapes found to
    fit are remembered (`_fits` decides each new one)."""
    if type(event) is dict:
        kind = event.get("type")
        shape = (*event, *map(type, event.values()), kind) if type(kind) is str else None   # else it cannot fit
        if shape is not None and shape in FITTING_SHAPES:
            if event["deal"] != "":
                return None
        elif _fits(event):
            if len(FITTING_SHAPES) < MAX_SHAPES:
                FITTING_SHAPES.add(shape)
            return None
    return schema_message(event)


FITTING_SHAPES: set[tuple] = set()
MAX_SHAPES = 4096      # shapes are few in practice: a stream of odd ones is checked in full, not remembered


KEY_TYPE_PAIRS = frozenset((key, kind) for key, kinds in KEY_TYPES.items() for kind in kinds)


def _fits(event: dict) -> bool:
    """The schema, by hand: every (key, exact type) pair allowed (a bool is no integer), then the requirements.

    The pairs are tested by `issuperset` over `zip` and `map`, a loop that runs in C."""
    if not KEY_TYPE_PAIRS.issuperset(zip(event, map(type, event.values()))) or not event.keys() >= REQUIRED:
        return False
    kind = event["type"]
    return kind in TYPES and event["deal"] != "" and NEEDS[kind] in event


@lru_cache(maxsize=1)
def events_schema() -> dict:
    text = resources.files("funnelspec").joinpath("schemas", "events.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(events_schema())


def schema_message(event) -> str | None:
    """The most relevant schema error for `event`, worded for a person; None when it fits."""
    from jsonschema.exceptions import best_match

    if nesting_exceeds(event):          # jsonschema and its messages walk the value recursively
        return f"an event with lists or objects nested more than {MAX_NESTING} levels deep"
    errors = list(_validator().iter_errors(event))
    if not errors:
        return None
    extra = [e for e in errors if e.validator == "additionalProperties"]
    error = extra[0] if extra else best_match(errors)
    where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                    for i, p in enumerate(error.absolute_path))
    if error.validator == "additionalProperties":
        extra = sorted(set(event) - KEYS) if isinstance(event, dict) else []
        known = sorted(KEYS)
        names = ", ".join(f'"{e}"{_hint(e, known)}' for e in extra)
        return f"unknown key {names}; an event has " + ", ".join(f'"{k}"' for k in sorted(KEYS))
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        kind = event.get("type") if isinstance(event, dict) else None
        article = "an" if isinstance(kind, str) and kind[:1] in "aeiou" else "a"
        owner = f'{article} "{kind}" event' if error.schema_path and error.schema_path[0] == "allOf" else "an event"
        return f'{owner} needs "{missing}"'
    if error.validator == "type" and not error.absolute_path:
        return f"an event must be a JSON object, got {shown(event)}"
    if error.validator == "enum" and where == "type":
        return f'"type" must be one of "created", "updated", "moved", "event", got {shown(error.instance)}'
    return f'"{where}": {shown(error.instance)} is not {_expected(error)}' if where else error.message


def _expected(error) -> str:
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = {"string": "a string", "integer": "an integer", "number": "a number", "object": "an object"}
        return " or ".join(words.get(w, w) for w in wanted)
    if error.validator == "minLength":
        return "a non-empty string"
    return error.message


def event_time(event: dict) -> float:
    """The event's `ts` as epoch seconds; raises Rejected when it is not a date and time."""
    ts = event["ts"]
    try:
        if type(ts) is str:
            return parse_time(ts)
        if ts != ts or ts in (float("inf"), float("-inf")):
            raise Rejected(f'"ts" must be a finite number of seconds, got {shown(ts)}')
        return in_range(ts)
    except OutOfRange as err:
        raise Rejected(f'"ts" {shown(ts)} is {err}') from None
    except ValueError:
        raise Rejected(f'"ts" must be an ISO 8601 date and time, got {shown(ts)}') from None


# against the funnel ---------------------------------------------------------------

def read_fields(funnel, values: dict, lenient: bool = False) -> list[tuple[int, object]]:
    """[(field index, run-time value)] for a `fields` object; raises Rejected naming the first misfit."""
    index = funnel.field_index
    codecs = funnel.codecs
    out = []
    for name, value in values.items():
        i = index.get(name)
        if i is None:
            raise Rejected(f'unknown field "{name}"{_hint(name, funnel.field_names)} in funnel "{funnel.id}"')
        try:
            out.append((i, codecs[i].read(value, lenient)))
        except BadValue as err:
            raise Rejected(str(err)) from None
    return out


def read_event_data(funnel, name: str, data: dict | None, lenient: bool = False) -> dict:
    """An event's data with defaults filled in; raises Rejected for an unknown event, datum or value."""
    schema = funnel.events.get(name)
    if schema is None:
        raise Rejected(f'unknown event "{name}"{_hint(name, funnel.events)} in funnel "{funnel.id}"')
    out = dict(schema.defaults)
    for key, value in (data or {}).items():
        codec = schema.codecs.get(key)
        if codec is None:
            raise Rejected(f'event "{name}" has no field "{key}"{_hint(key, schema.codecs)}')
        try:
            out[key] = codec.read(value, lenient)
        except BadValue as err:
            raise Rejected(f'event "{name}": {err}') from None
    for key in schema.required:
        if out.get(key) is None:
            raise Rejected(f'event "{name}" needs "{key}" in its "data"')
    return out


def stage_of(funnel, stage_id: str) -> int:
    index = funnel.stage_index.get(stage_id)
    if index is None:
        raise Rejected(f'unknown stage "{stage_id}"{_hint(stage_id, funnel.stage_index)} in funnel "{funnel.id}"')
    return index


def route_deal(spec, event: dict, ts: float, lenient: bool = False):
    """The funnel a `created` event goes to and its checked field values.

    The funnel it names; else the first whose `route when` holds on the
    created fields (fields that do not fit a funnel rule it out); else the
    first funnel without a route.
    """
    fields = event.get("fields") or {}
    named = event.get("funnel")
    if named is not None:
        funnel = spec.funnel_by_id.get(named)
        if funnel is None:
            raise Rejected(f'unknown funnel "{named}"{_hint(named, spec.funnel_by_id)}')
        return funnel, read_fields(funnel, fields, lenient)
    for funnel in spec.funnels:
        if funnel.route is None:
            continue
        try:
            values = read_fields(funnel, fields, lenient)
        except Rejected:
            continue
        current = list(funnel.defaults)
        for i, value in values:
            current[i] = value
        try:
            taken = funnel.route(current, funnel.stages[funnel.start].id, ts, ts, None)
        except (ArithmeticError, TypeError, ValueError):
            taken = False
        if taken:
            return funnel, values
    for funnel in spec.funnels:
        if funnel.route is None:
            return funnel, read_fields(funnel, fields, lenient)
    raise Rejected("no funnel takes this deal: no `route when` holds for its fields and every funnel has a route")
