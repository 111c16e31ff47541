"""What every webhook translator shares: the request as received, its result, its refusal, form bodies.

A translator is a pure function of the request (raw body bytes, headers,
query) and the CRM's mapping; it either returns the canonical events the
request stands for or raises `Refused` with an HTTP status and a reason a
person can act on. It never stores anything, so a refused request leaves no
trace.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Delivery:
    """One HTTP request as the server received it; `headers` keys are lower case."""

    method: str
    url: str                                   # scheme://host/path?query, as the client asked for it
    body: bytes
    headers: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Translation:
    """The canonical events of one delivery, in order, and the items set aside with why.

    `observed` holds the ids of `moved` events made from a snapshot of the
    deal (the CRM said "this deal changed", not "it moved"): the server drops
    such a move when the deal already sits in that stage. `adopt` holds the
    ids of `created` events that stand for a deal the CRM had before the
    server saw it (in the stage it was in before this change): the server
    applies one only when the store does not know the deal."""

    events: tuple[dict, ...]
    ignored: tuple[str, ...] = ()
    observed: frozenset[str] = frozenset()
    adopt: frozenset[str] = frozenset()


class Refused(ValueError):
    """A request that must not be stored: `status` is the HTTP answer, the message says why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def same_secret(given: str | bytes | None, expected: str | bytes) -> bool:
    """Compare a secret in constant time, so the answer's timing tells nothing about it."""
    if given is None:
        return False
    given = given.encode("utf-8") if isinstance(given, str) else given
    expected = expected.encode("utf-8") if isinstance(expected, str) else expected
    return hmac.compare_digest(given, expected)


def read_json(body: bytes, crm: str):
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        raise Refused(400, f"{crm}: the body is not JSON ({err})") from None


def read_form(body: bytes, crm: str) -> dict:
    """A form-encoded body with bracketed keys, nested.

    `leads[status][0][id]=7` -> {"leads": {"status": {"0": {"id": "7"}}}}.

    Indexes stay string keys; `items` walks them in numeric order."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body.strip()))
    except (UnicodeDecodeError, ValueError) as err:
        raise Refused(400, f"{crm}: the body is not a form (application/x-www-form-urlencoded): {err}") from None
    root: dict = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head] + ([p for p in rest.rstrip("]").split("][")] if rest else [])
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise Refused(400, f"{crm}: form key `{key}` is both a value and a group")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise Refused(400, f"{crm}: form key `{key}` is both a value and a group")
        node[parts[-1]] = value
    return root


def adoption(key: str, deal, ts, stage: str | None, fields: dict, funnel: str | None) -> dict:
    """The `created` event of a deal first seen through a change: where it stood before, as it is now."""
    event = {"id": f"{key}:adopt", "deal": deal, "ts": ts, "type": "created", "fields": fields}
    if stage is not None:
        event["stage"] = stage
    if funnel is not None:
        event["funnel"] = funnel
    return event


def items(group) -> list:
    """The members of a form group indexed 0, 1, ... (or a JSON list), in index order."""
    if isinstance(group, list):
        return group
    if not isinstance(group, dict):
        return []
    return [group[k] for k in sorted(group, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))]
