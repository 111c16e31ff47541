"""The `*.funnel-test` format: named journeys of one deal each, with the outcome they expect.

    # tests of b2b_basic.funnel (the spec with the same name, unless a `spec` line names another)
    spec b2b_basic.funnel

    journey "a target lead who pays is won"
      {"ts": "2026-03-02T09:00:00Z", "type": "created", "fields": {"budget": 100000}}
      {"ts": "2026-03-02T10:00:00Z", "type": "updated", "fields": {"form_filled": true, "segment": "target"}}
      until 2026-03-10T00:00:00Z
      expect stage qualification
      expect status open
      expect lost_reason none
      expect field form_filled = true
      expect action task {"text": "Позвонить клиенту для уточнения потребностей"}
      expect no action notify

Events are the stream's JSON objects (engine/events.py) without `deal` and
`id`, which the runner fills in. `until` (optional) ends the replay later than
the last event, so that timers due by then fire. Indentation is free; `#`
starts a comment line. A mistake inside a journey (a bad event, an unknown
`expect`) is that journey's error, kept in `Journey.errors`, and the file's
other journeys still run; one outside every journey raises `JourneyFileError`.
Every message is `file:line: what is wrong`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .limits import TooDeep, json_document

SUFFIX = ".funnel-test"
EXPECTATIONS = ("stage", "status", "lost_reason", "field", "action", "no")
STATUSES = ("open", "won", "lost")


class JourneyFileError(Exception):
    """A `.funnel-test` file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Expectation:
    line: int
    kind: str            # stage | status | lost_reason | field | action | no-action
    name: str | None     # field name, action kind
    value: object        # stage id, status, reason (None: no reason), field value, action payload subset
    text: str            # as written, for messages


@dataclass
class Journey:
    name: str
    line: int
    events: list[tuple[int, dict]] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    until: str | None = None
    errors: list[str] = field(default_factory=list)     # its lines that could not be read: it runs as an error


@dataclass
class JourneyFile:
    path: str
    spec: str
    journeys: list[Journey]


def _json(text: str, where: str, what: str):
    try:
        return json_document(text)
    except TooDeep as err:
        raise JourneyFileError(f"{where}: {what} has {err}") from None
    except json.JSONDecodeError as err:
        raise JourneyFileError(f"{where}: {what} is not valid JSON: {err.msg} (column {err.colno})") from None


def _expectation(rest: str, line: int, where: str) -> Expectation:
    words = rest.split(None, 1)
    if not words or words[0] not in EXPECTATIONS:
        raise JourneyFileError(f"{where}: expected `expect stage|status|lost_reason|field|action|no action …`")
    kind, tail = words[0], (words[1].strip() if len(words) > 1 else "")
    text = f"expect {rest}"
    if kind in ("stage", "status"):
        if not tail or " " in tail:
            raise JourneyFileError(f"{where}: `expect {kind}` needs one {'stage id' if kind == 'stage' else 'word'}")
        if kind == "status" and tail not in STATUSES:
            raise JourneyFileError(f"{where}: status `{tail}` is none of open, won, lost")
        return Expectation(line, kind, None, tail, text)
    if kind == "lost_reason":
        if not tail:
            raise JourneyFileError(f'{where}: `expect lost_reason` needs a "text" or `none`')
        value = None if tail == "none" else _json(tail, where, "the reason")
        if value is not None and not isinstance(value, str):
            raise JourneyFileError(f'{where}: the reason must be a "text" or `none`')
        return Expectation(line, kind, None, value, text)
    if kind == "field":
        name, equals, value = tail.partition("=")
        if not equals or not name.strip():
            raise JourneyFileError(f"{where}: expected `expect field NAME = VALUE` (VALUE as JSON)")
        return Expectation(line, kind, name.strip(), _json(value.strip(), where, "the value"), text)
    negated = kind == "no"
    if negated:
        if not tail.startswith("action"):
            raise JourneyFileError(f"{where}: expected `expect no action KIND`")
        tail = tail[len("action"):].strip()
    action, _, payload = tail.partition(" ")
    if action not in ("move", "set", "task", "notify", "emit"):
        raise JourneyFileError(f"{where}: action kind `{action}` is none of move, set, task, notify, emit")
    subset = _json(payload.strip(), where, "the action's details") if payload.strip() else {}
    if not isinstance(subset, dict):
        raise JourneyFileError(f"{where}: the action's details must be a JSON object")
    return Expectation(line, "no-action" if negated else "action", action, subset, text)


def _journey_line(journey: Journey, line: str, number: int, where: str) -> None:
    """An event, `until` or `expect` line of `journey`."""
    if line.startswith("{"):
        event = _json(line, where, "the event")
        if not isinstance(event, dict):
            raise JourneyFileError(f"{where}: an event must be a JSON object")
        journey.events.append((number, event))
        return
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word == "until":
        journey.until = rest
    elif word == "expect":
        journey.expectations.append(_expectation(rest, number, where))
    else:
        raise JourneyFileError(f"{where}: expected `journey`, an event {{…}}, `until` or `expect`, not `{word}`")


def parse_journeys(text: str, path: str) -> JourneyFile:
    """The journeys of one `.funnel-test` file; its spec is resolved against the file's folder."""
    spec = None
    journeys: list[Journey] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line or line.startswith("#"):
            continue
        if journeys and not line.startswith(("journey ", "spec ")) and line not in ("journey", "spec"):
            try:
                _journey_line(journeys[-1], line, number, where)
            except JourneyFileError as err:       # this journey's error: the file's other journeys still run
                journeys[-1].errors.append(str(err))
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "spec":
            if spec is not None or journeys:
                raise JourneyFileError(f"{where}: `spec` must come once, before the first journey")
            spec = rest
        elif word == "journey":
            name = _json(rest, where, "the journey's name") if rest.startswith('"') else rest
            if not isinstance(name, str) or not name:
                raise JourneyFileError(f'{where}: a journey needs a name: journey "what it shows"')
            if any(j.name == name for j in journeys):
                raise JourneyFileError(f"{where}: a second journey named {json.dumps(name, ensure_ascii=False)}")
            journeys.append(Journey(name, number))
        elif line.startswith("{"):
            raise JourneyFileError(f"{where}: an event before the first `journey`")
        elif word in ("expect", "until"):
            raise JourneyFileError(f"{where}: `{word}` before the first `journey`")
        else:
            raise JourneyFileError(f"{where}: expected `spec`, `journey`, an event {{…}}, `until` or `expect`, "
                                   f"not `{word}`")
    if not journeys:
        raise JourneyFileError(f"{path}: no journeys")
    for journey in journeys:
        if not journey.events and not journey.errors:
            journey.errors.append(f"{path}:{journey.line}: journey {journey.name!r} has no events")
        elif not journey.expectations and not journey.errors:
            journey.errors.append(f"{path}:{journey.line}: journey {journey.name!r} expects nothing")
    folder = os.path.dirname(path)
    spec_path = os.path.join(folder, spec) if spec else path[: -len(SUFFIX)] + ".funnel"
    return JourneyFile(path, os.path.normpath(spec_path), journeys)
