"""Records as JSON text, fast: the bytes `json.dumps(record.to_json(), ensure_ascii=False)` writes, at less cost.

A long replay writes millions of action records and a record per deal at
the end; building each one's dict and handing it to `json.dumps` was a large
share of the run. The encoders here put the same text together from parts
encoded once (a rule's kind, label and span; a stage id; a day's date) and
the C encoders of the standard library for what varies (ids, payloads,
field values). tests/test_replay_records.py checks them against `dumps`.
"""
from __future__ import annotations

import json
import time as _time
from json import encoder as _json_encoder

from .outcome import ActionRecord, DealOutcome, _iso


encode_text = _json_encoder.encode_basestring      # dumps(str), ensure_ascii=False: the C function itself
# The standard library's C encoder with `json.dumps`'s settings (ensure_ascii off), built once: dumps() builds
# an encoder, and the C one inside it, on every call.
_PIECES = None if _json_encoder.c_make_encoder is None else _json_encoder.c_make_encoder(
    None, json.JSONEncoder().default, _json_encoder.encode_basestring, None,
    ": ", ", ", False, False, True)


def encode_object(data: dict) -> str:
    """dumps(d) for a dict, without the type test of `dumps` (payloads, field values)."""
    if _PIECES is None:
        return json.dumps(data, ensure_ascii=False)
    return "".join(_PIECES(data, 0))


def dumps(data) -> str:
    """json.dumps(data, ensure_ascii=False), the same bytes, at less cost."""
    if type(data) is str:
        return encode_text(data)
    return encode_object(data)

_PARTS: dict[tuple[str, str, int], tuple[dict, str, str]] = {}
_LAST = ["", '""', None, ""]     # the deal and the time encoded last: an event's records come together
_DAYS: dict[int, str] = {}
_CLOCK = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}Z" for s in range(60)]
_WORDS: dict[str, str] = {}      # stage ids, funnel ids, statuses, `via`: few texts, each encoded once


def time_text(ts: float) -> str:
    """`outcome.iso(ts)`: whole seconds put together from a day's text and two tables, not by strftime."""
    whole = int(ts)
    if whole != ts or not 0 <= whole < 253402300800:
        return _iso(ts)
    day, second = divmod(whole, 86400)
    text = _DAYS.get(day)
    if text is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        text = _DAYS[day] = _time.strftime("%Y-%m-%d", _time.gmtime(day * 86400))
    return text + _CLOCK[second // 60] + _SECONDS[second % 60]


def _time_json(ts: float | None) -> str:
    return "null" if ts is None else f'"{time_text(ts)}"'


def _word(text: str) -> str:
    encoded = _WORDS.get(text)
    if encoded is None:
        if len(_WORDS) > 10_000:
            _WORDS.clear()
        encoded = _WORDS[text] = encode_text(text)
    return encoded


def encode_action(record: ActionRecord) -> str:
    """`dumps(record.to_json())`: the kind, rule and span (the same for every record of a rule) encoded once,
    the deal id once for its records in a row; an ISO time needs no escaping."""
    span = record.span
    key = (record.kind, record.rule, id(span))
    parts = _PARTS.get(key)
    if parts is None or parts[0] is not span:
        parts = _PARTS[key] = (span, f'", "kind": {encode_text(record.kind)}, "payload": ',
                               f', "rule": {encode_text(record.rule)}, "span": {encode_object(span)}}}')
    when = record.time
    if when is None:
        return f'{{"deal": {_deal_text(record.deal)}, "time": null{parts[1][1:]}{encode_object(record.payload)}{parts[2]}'
    return f'{record_head(record.deal, when)}{parts[1]}{encode_object(record.payload)}{parts[2]}'


def encode_outcome(outcome: DealOutcome) -> str:
    """`dumps(outcome.to_json())`, without the dicts: a deal's path and fields put together as text."""
    return outcome_text(outcome.deal, outcome.funnel, outcome.created, outcome.stage, outcome.status,
                        outcome.lost_reason, outcome.closed,
                        [(v.stage, v.entered, v.left, v.via) for v in outcome.path], outcome.fields)


def outcome_text(deal: str, funnel: str, created: float, stage: str, status: str, lost_reason: str | None,
                 closed: float | None, path, fields: dict) -> str:
    """An outcome's JSON text from its parts; `path` is (stage, entered, left, via) for each visit.

    engine/deal.py writes a deal's outcome straight from its state with it, without a DealOutcome."""
    word, when = _word, _time_json
    visits = ", ".join([f'{{"stage": {word(stage_id)}, "entered": {when(entered)}, "left": {when(left)}, '
                        f'"via": {word(via)}}}' for stage_id, entered, left, via in path])
    return outcome_json(deal, funnel, created, stage, status, lost_reason, closed, visits, fields)


def visits_json(path: list, stages, texts: dict) -> str:
    """The visits of a deal's flat path (stage index, entered, via for each; engine/deal.py) as an outcome writes
    them. `texts` keeps each (stage, via)'s text around the times; a visit's leaving time is the next one's entry."""
    when = _time_json
    times = [when(entered) for entered in path[1::3]]
    times.append("null")
    out = []
    for i, key in enumerate(zip(path[0::3], path[2::3])):
        parts = texts.get(key)
        if parts is None:
            parts = texts[key] = (f'{{"stage": {encode_text(stages[key[0]].id)}, "entered": ',
                                  f', "via": {encode_text(key[1])}}}')
        out.append(f'{parts[0]}{times[i]}, "left": {times[i + 1]}{parts[1]}')
    return ", ".join(out)


def outcome_json(deal: str, funnel: str, created: float, stage: str, status: str, lost_reason: str | None,
                 closed: float | None, visits: str, fields: dict) -> str:
    """An outcome's JSON text, its visits already text."""
    word, when = _word, _time_json
    return (f'{{"deal": {encode_text(deal)}, "funnel": {word(funnel)}, "created": {when(created)}, '
            f'"stage": {word(stage)}, "status": {word(status)}, '
            f'"lost_reason": {"null" if lost_reason is None else encode_text(lost_reason)}, '
            f'"closed": {when(closed)}, "path": [{visits}], "fields": {encode_object(fields)}}}')


# Records written straight from the replay, without an ActionRecord or its payload's dict ------------------------
#
# What an action writes is mostly known when the spec is compiled: its kind, its rule's label and span, and for a
# move, a notice or an emit the whole payload (engine/compile.py keeps that text as the action's template). The
# replay puts a record together from a template and the few values that vary; tests/test_replay_records.py checks
# the text against `encode_action` of the same record.

def value_json(value) -> str:
    """dumps(value) for a field's value or an action's payload value."""
    kind = type(value)
    if kind is str:
        return encode_text(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float and value - value == 0:        # finite: json writes repr; NaN and infinity its own words
        return float.__repr__(value)
    return dumps(value)


def _deal_text(deal: str) -> str:
    """The deal id encoded, once for its records in a row."""
    last = _LAST
    if deal is not last[0]:
        last[0], last[1] = deal, encode_text(deal)
    return last[1]


def record_head(deal: str, when: float) -> str:
    """A record's text up to its time's closing quote: `{"deal": "D", "time": "T`; the deal and the time encoded
    once for the records in a row that share them."""
    last = _LAST
    if when != last[2]:
        last[2], last[3] = when, time_text(when)
    return f'{{"deal": {_deal_text(deal)}, "time": "{last[3]}'


def record_tail(rule: str, span: dict) -> str:
    """What follows an action's payload: its rule and span, and the record's closing brace."""
    return f', "rule": {encode_text(rule)}, "span": {encode_object(span)}}}'


def payload_head(kind: str) -> str:
    """What follows the time: its closing quote, the kind and the payload's key."""
    return f'", "kind": {encode_text(kind)}, "payload": '


def constant_record(kind: str, payload: dict, rule: str, span: dict) -> str:
    """The text after `record_head` of an action whose payload never varies (a move, a notice to a name, an emit)."""
    return payload_head(kind) + encode_object(payload) + record_tail(rule, span)


def time_json(ts: float | None) -> str:
    """dumps(iso(ts))."""
    if ts is None:
        return "null"
    if type(ts) is not float and type(ts) is not int:
        return dumps(ts)
    return f'"{time_text(ts)}"'
