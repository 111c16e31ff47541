"""amoCRM: form-encoded `leads[add|update|status|delete][i][...]` webhooks, a secret in the URL.

amoCRM signs nothing, so the URL pasted into the integration carries a
secret (`/hooks/amocrm?secret=...`), compared in constant time. A delivery
has no event id of its own: a lead's change is named by the lead, the action,
its `last_modified` time and its status, so a delivery amoCRM repeats maps
to the same ids and is applied once.

- `leads[add]` -> `created` in the mapped stage, with the mapped fields;
- `leads[status]` -> `updated` (the mapped fields, when any) then `moved`;
- `leads[update]` -> `updated` with the mapped fields;
- a lead the server has not seen yet (it was in amoCRM before) is first
  created where it stood: `old_status_id` for a status change, else its status;
- `leads[delete]` and other entities (contacts, tasks...) are set aside.

Custom fields map by their id or their name (`custom_fields[i][id|name]`,
first value), plain lead keys (`price`, `responsible_user_id`...) by name.
"""
from __future__ import annotations

from .delivery import Delivery, Refused, Translation, adoption, items, read_form, same_secret

ACTIONS = ("add", "update", "status")


def translate(delivery: Delivery, mapping) -> Translation:
    if not same_secret(delivery.query.get("secret"), mapping.secrets["secret"]):
        raise Refused(401, "amoCRM: wrong or missing `secret` in the webhook URL")
    form = read_form(delivery.body, "amoCRM")
    leads = form.get("leads")
    if not isinstance(leads, dict):
        raise Refused(400, "amoCRM: no `leads[...]` in the body: subscribe the webhook to deal (lead) events")
    events, ignored = [], [f"{entity}: not a deal" for entity in form if entity not in ("leads", "account")]
    for action, group in leads.items():
        if action not in ACTIONS:
            ignored += [f"leads[{action}]: not applied" for _ in items(group)]
            continue
        for lead in items(group):
            events += _lead_events(action, lead, mapping, ignored)
    adopt = frozenset(e["id"] for e in events if e["id"].endswith(":adopt"))
    return Translation(tuple(events), tuple(ignored), adopt=adopt)


def _lead_events(action: str, lead, mapping, ignored: list) -> list[dict]:
    if not isinstance(lead, dict) or not lead.get("id"):
        raise Refused(400, f"amoCRM: a `leads[{action}]` item has no `id`")
    deal, pipeline = lead["id"], lead.get("pipeline_id")
    if not mapping.accepts(pipeline):
        ignored.append(f"lead {deal}: pipeline {pipeline} is not mapped")
        return []
    ts = _number(lead.get("last_modified") or lead.get("date_create"), deal)
    key = f"amocrm:{deal}:{action}:{lead.get('last_modified', '')}:{lead.get('status_id', '')}"
    fields = mapping.fields_of(_values(lead))
    if action == "add":
        event = {"id": key, "deal": deal, "ts": ts, "type": "created", "fields": fields}
        if mapping.funnel_of(pipeline) is not None:
            event["funnel"] = mapping.funnel_of(pipeline)
        if lead.get("status_id"):
            event["stage"] = mapping.stage(lead["status_id"], pipeline)
        return [event]
    before = lead.get("old_status_id") if action == "status" else lead.get("status_id")
    stood = mapping.stage_or_none(before, lead.get("old_pipeline_id") or pipeline)
    out = [adoption(key, deal, ts, stood, fields, mapping.funnel_of(pipeline))]
    if fields:
        out.append({"id": f"{key}:fields", "deal": deal, "ts": ts, "type": "updated", "fields": fields})
    if action == "status":
        if not lead.get("status_id"):
            raise Refused(400, f"amoCRM: lead {deal} changed status but has no `status_id`")
        target = mapping.stage(lead["status_id"], pipeline)
        out.append({"id": key, "deal": deal, "ts": ts, "type": "moved", "to": target})
    elif not fields:
        ignored.append(f"lead {deal}: no mapped field changed")
        return []
    return out


def _values(lead: dict) -> dict:
    """The lead's plain keys and its custom fields (by id and by name), first value each."""
    values = {k: v for k, v in lead.items() if isinstance(v, str)}
    for custom in items(lead.get("custom_fields")):
        if not isinstance(custom, dict):
            continue
        first = next(iter(items(custom.get("values"))), None)
        value = first.get("value") if isinstance(first, dict) else first
        for name in (custom.get("id"), custom.get("name")):
            if name:
                values[str(name)] = value
    return values


def _number(text, deal) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise Refused(400, f"amoCRM: lead {deal} has no valid `last_modified` or `date_create` time") from None
