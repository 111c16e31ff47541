"""Bitrix24: `ONCRMDEALADD` / `ONCRMDEALUPDATE` events, the deal read back through REST `crm.deal.get`.

Bitrix24 posts a form (`event`, `data[FIELDS][ID]`, `ts`, `auth[...]`)
whose `auth[application_token]` must equal the application's token
(constant-time). The payload names only the deal, so the deal is read from
the portal's REST address in the mapping (`url`, e.g. an inbound webhook
`https://PORTAL/rest/1/KEY/`): `crm.deal.get?id=ID`.

- `ONCRMDEALADD` -> `created` in the mapped stage (`STAGE_ID`; `C1:WON`
  and `C1:LOSE` count as the system WON and LOSE), with the mapped fields;
- `ONCRMDEALUPDATE` -> `updated` with the mapped fields, then a `moved` to
  the deal's stage that the server drops when the deal is already there
  (Bitrix24 does not say what changed); a deal the server has not seen yet
  is first created in that stage.
The event id is the deal, the event and Bitrix24's `ts`, the same on a retry.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from .delivery import Delivery, Refused, Translation, adoption, read_form, same_secret

EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE")
TIMEOUT = 10          # seconds to wait for the portal; Bitrix24 itself waits a little longer for our answer


def read_deal(url: str, deal_id: str) -> dict:
    """The deal as the portal's `crm.deal.get` answers it; Refused(502) naming the portal (never its key)."""
    address = url.rstrip("/") + "/crm.deal.get.json?" + urllib.parse.urlencode({"id": deal_id})
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(address, timeout=TIMEOUT) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as err:
        detail = ""
        try:
            detail = json.loads(err.read()).get("error_description", "")
        except (ValueError, AttributeError):
            pass
        answer = f"{err.code} {detail}".rstrip()
        raise Refused(502, f"Bitrix24: {host} answered crm.deal.get for deal {deal_id} with {answer}")
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise Refused(502, f"Bitrix24: could not read deal {deal_id} from {host}: {reason}") from None
    if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
        raise Refused(502, f"Bitrix24: {host} answered crm.deal.get for deal {deal_id} without a `result` deal")
    return body["result"]


def translate(delivery: Delivery, mapping, fetch=read_deal) -> Translation:
    form = read_form(delivery.body, "Bitrix24")
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    if not same_secret(auth.get("application_token"), mapping.secrets["application-token"]):
        raise Refused(401, "Bitrix24: wrong or missing auth[application_token]")
    event = form.get("event")
    if event not in EVENTS:
        return Translation((), (f"{event}: not applied (subscribe to ONCRMDEALADD and ONCRMDEALUPDATE)",))
    data = form.get("data")
    deal_id = data.get("FIELDS", {}).get("ID") if isinstance(data, dict) else None
    if not deal_id or not isinstance(deal_id, str) or not form.get("ts"):
        raise Refused(400, "Bitrix24: an event needs data[FIELDS][ID] and ts")
    deal = fetch(mapping.url, deal_id)
    if not mapping.accepts(deal.get("CATEGORY_ID")):
        return Translation((), (f"deal {deal_id}: category {deal.get('CATEGORY_ID')} is not mapped",))
    stage = _stage(deal, mapping)
    key = f"bitrix24:{deal_id}:{event}:{form['ts']}"
    fields = mapping.fields_of(deal)
    if event == "ONCRMDEALADD":
        created = {"id": key, "deal": deal_id, "ts": deal.get("DATE_CREATE") or int(form["ts"]), "type": "created",
                   "fields": fields, "stage": stage}
        funnel = mapping.funnel_of(deal.get("CATEGORY_ID"))
        return Translation(({**created, "funnel": funnel} if funnel else created,))
    ts = deal.get("DATE_MODIFY") or int(form["ts"])
    first = adoption(key, deal_id, ts, stage, fields, mapping.funnel_of(deal.get("CATEGORY_ID")))
    events = [first]
    if fields:
        events.append({"id": f"{key}:fields", "deal": deal_id, "ts": ts, "type": "updated", "fields": fields})
    events.append({"id": key, "deal": deal_id, "ts": ts, "type": "moved", "to": stage})
    return Translation(tuple(events), observed=frozenset((key,)), adopt=frozenset((first["id"],)))


def _stage(deal: dict, mapping) -> str:
    stage, category = deal.get("STAGE_ID"), deal.get("CATEGORY_ID")
    if not stage:
        raise Refused(502, f"Bitrix24: deal {deal.get('ID')} came back without STAGE_ID")
    system = stage.rpartition(":")[2]
    if stage not in mapping.stages and f"{category}/{stage}" not in mapping.stages and system in ("WON", "LOSE"):
        stage = system
    return mapping.stage(stage, category)
