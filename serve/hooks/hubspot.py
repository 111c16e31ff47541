"""HubSpot: batched JSON webhooks, signed with the v3 signature.

The signature (`X-HubSpot-Signature-v3`) is base64 HMAC-SHA256, keyed with
the app's client secret, over method + URI + raw body + the
`X-HubSpot-Request-Timestamp` header; it is checked on the bytes received,
before the body is parsed, in constant time. A timestamp more than five
minutes away from the server's clock is refused, so a captured request
cannot be replayed later. The URI is the one HubSpot posted to: the
request's own URL, or `url` in the mapping when a proxy stands in between.

A batch (up to 100 events) is sorted by `occurredAt` (ties: batch order):
- `deal.creation` -> `created` in the start stage;
- `deal.propertyChange` of `dealstage` -> `moved` to the mapped stage;
- another property -> `updated` when the property is mapped;
- anything else (contacts, companies, deletions) is set aside.
The event id is HubSpot's `eventId`, the same on every retry.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .delivery import Delivery, Refused, Translation, read_json, same_secret

TOLERANCE = 300                 # seconds: HubSpot's own advice for the v3 timestamp
# HubSpot decodes these in the URI before signing (its v3 documentation lists them).
DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
           "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature HubSpot sends for this request (tests and the docs' curl example use it too)."""
    for encoded, plain in DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    message = method.upper().encode() + uri.encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def translate(delivery: Delivery, mapping, now: float | None = None) -> Translation:
    _verify(delivery, mapping, time.time() if now is None else now)
    batch = read_json(delivery.body, "HubSpot")
    if not isinstance(batch, list) or not all(isinstance(item, dict) for item in batch):
        raise Refused(400, "HubSpot: the body must be a JSON array of event objects")
    events, ignored = [], []
    ordered = sorted(enumerate(batch), key=lambda pair: (_occurred(pair[1]), pair[0]))
    for _, item in ordered:
        event = _event(item, mapping)
        if isinstance(event, str):
            ignored.append(event)
        else:
            events.append(event)
    return Translation(tuple(events), tuple(ignored))


def _verify(delivery: Delivery, mapping, now: float) -> None:
    given = delivery.headers.get("x-hubspot-signature-v3")
    stamp = delivery.headers.get("x-hubspot-request-timestamp", "")
    if not given or not stamp:
        raise Refused(401, "HubSpot: no X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp headers")
    try:
        sent = int(stamp) / 1000
    except ValueError:
        raise Refused(401, "HubSpot: X-HubSpot-Request-Timestamp is not milliseconds since the epoch") from None
    if abs(now - sent) > TOLERANCE:
        raise Refused(401, f"HubSpot: the request timestamp is {abs(now - sent):.0f} s away from now "
                           f"(more than {TOLERANCE} s): refused as a possible replay")
    expected = signature(mapping.secrets["client-secret"], delivery.method, mapping.url or delivery.url,
                         delivery.body, stamp)
    if not same_secret(given, expected):
        raise Refused(401, "HubSpot: the v3 signature does not match the body (wrong client secret, "
                           "or a proxy changed the URL: set `url` in [tool.funnel.crm.hubspot])")


def _occurred(item: dict) -> float:
    value = item.get("occurredAt")
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else float("inf")


def _event(item: dict, mapping) -> dict | str:
    kind = item.get("subscriptionType") or item.get("eventType")       # the docs' example says eventType
    deal, event_id, occurred = item.get("objectId"), item.get("eventId"), item.get("occurredAt")
    if not isinstance(kind, str) or not kind.startswith("deal."):
        return f"event {event_id}: {kind} is not about a deal"
    if deal is None or event_id is None or _occurred(item) == float("inf"):
        raise Refused(400, f"HubSpot: event {event_id} needs objectId, eventId and occurredAt")
    base = {"id": f"hubspot:{event_id}", "deal": deal, "ts": occurred / 1000}
    if kind == "deal.creation":
        funnel = mapping.funnel_of()
        return {**base, "type": "created", "fields": {}, **({"funnel": funnel} if funnel else {})}
    if kind == "deal.propertyChange":
        name, value = item.get("propertyName"), item.get("propertyValue")
        if name == "dealstage":
            return {**base, "type": "moved", "to": mapping.stage(value)}
        fields = mapping.fields_of({name: value})
        if fields:
            return {**base, "type": "updated", "fields": fields}
        return f"event {event_id}: property {name} is not mapped"
    return f"event {event_id}: {kind} not applied"
