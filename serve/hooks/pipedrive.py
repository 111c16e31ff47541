"""Pipedrive: deal webhooks v2 (`meta`, `data`, `previous`), behind HTTP Basic auth.

The webhook is created with a user name and password (Pipedrive's "HTTP
Auth"); both are checked in constant time. Won and lost are a deal's
`status` in Pipedrive, not stages, so a status that becomes won or lost is a
move to the funnel's won or lost stage (with `lost_reason`).

- `create` -> `created` in the mapped stage, with the mapped fields;
- `change` -> `updated` when a mapped field is among `previous`'s keys (or
  `previous` is empty), then `moved` when `stage_id` or `status` changed;
- `delete`, and any entity but a deal, is set aside;
- a deal the server has not seen yet is first created where it stood
  before the change (`previous`), with its mapped fields.
Webhooks v1 (`current` instead of `data`, actions added/updated/deleted) are
read the same way. The event id is the deal, Pipedrive's `meta.id` and
`meta.timestamp`: a retried delivery (`meta.attempt` > 1) keeps all three.
"""
from __future__ import annotations

import base64

from .delivery import Delivery, Refused, Translation, adoption, read_json, same_secret

ACTIONS = {"added": "create", "updated": "change", "deleted": "delete"}      # v1 -> v2


def translate(delivery: Delivery, mapping) -> Translation:
    credentials = f"{mapping.secrets['user']}:{mapping.secrets['password']}".encode("utf-8")
    expected = "Basic " + base64.b64encode(credentials).decode()
    if not same_secret(delivery.headers.get("authorization"), expected):
        raise Refused(401, "Pipedrive: wrong or missing HTTP Basic credentials (the webhook's HTTP Auth)")
    body = read_json(delivery.body, "Pipedrive")
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        raise Refused(400, "Pipedrive: the body must be a webhook object with `meta`")
    meta = body["meta"]
    entity = meta.get("entity") or meta.get("object")
    action = ACTIONS.get(meta.get("action"), meta.get("action"))
    deal = body.get("data") if "data" in body else body.get("current")
    previous = body.get("previous") or {}
    if entity != "deal":
        return Translation((), (f"{entity} {meta.get('entity_id', meta.get('id'))}: not a deal",))
    if action == "delete":
        return Translation((), (f"deal {meta.get('entity_id')}: deletion not applied",))
    if not isinstance(deal, dict) or deal.get("id") is None or not isinstance(previous, dict):
        raise Refused(400, "Pipedrive: a deal webhook needs `data` (the deal, with its `id`) and `previous`")
    if not mapping.accepts(deal.get("pipeline_id")):
        return Translation((), (f"deal {deal['id']}: pipeline {deal.get('pipeline_id')} is not mapped",))
    stamp = meta.get("timestamp")
    if stamp is None:
        raise Refused(400, "Pipedrive: `meta.timestamp` is missing")
    key = f"pipedrive:{deal['id']}:{meta.get('id', '')}:{stamp}"
    base = {"deal": deal["id"], "ts": stamp}
    fields = mapping.fields_of(deal)
    if action == "create":
        event = {"id": key, **base, "type": "created", "fields": fields, "stage": _stage(deal, mapping)}
        funnel = mapping.funnel_of(deal.get("pipeline_id"))
        return Translation(({**event, "funnel": funnel} if funnel else event,))
    if action != "change":
        return Translation((), (f"deal {deal['id']}: action {action} not applied",))
    before = {**deal, **previous}                       # the deal as it stood before this change
    stood = mapping.stage_or_none(before["status"]) if before.get("status") in ("won", "lost") else \
        mapping.stage_or_none(before.get("stage_id"), before.get("pipeline_id"))
    events = [adoption(key, deal["id"], stamp, stood, fields, mapping.funnel_of(deal.get("pipeline_id")))]
    changed = {k: v for k, v in fields.items() if not previous or _crm_field(mapping, k) in previous}
    if changed:
        events.append({"id": f"{key}:fields", **base, "type": "updated", "fields": changed})
    if "stage_id" in previous or "status" in previous:
        move = {"id": key, **base, "type": "moved", "to": _stage(deal, mapping)}
        if deal.get("status") == "lost" and deal.get("lost_reason"):
            move["reason"] = str(deal["lost_reason"])
        events.append(move)
    if len(events) == 1:
        return Translation((), (f"deal {deal['id']}: no mapped field changed",))
    return Translation(tuple(events), adopt=frozenset((events[0]["id"],)))


def _stage(deal: dict, mapping) -> str:
    """The spec stage of a Pipedrive deal: its won/lost status, else its stage in its pipeline."""
    if deal.get("status") in ("won", "lost"):
        return mapping.stage(deal["status"])
    if deal.get("stage_id") is None:
        raise Refused(400, f"Pipedrive: deal {deal.get('id')} has no `stage_id`")
    return mapping.stage(deal["stage_id"], deal.get("pipeline_id"))


def _crm_field(mapping, spec_field: str) -> str | None:
    return next((crm for crm, spec in mapping.fields.items() if spec == spec_field), None)
