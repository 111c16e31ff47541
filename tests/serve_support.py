"""What the webhook tests share: the test funnel and mapping, the secrets, signed and authorised requests."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import urlencode

from funnelspec.serve.hooks import Delivery

CASE = Path(__file__).resolve().parent / "cases" / "serve"
SPEC = CASE / "crm.funnel"
MAPPING = CASE / "crm.toml"
EXAMPLES = json.loads((CASE / "crm_api_examples.json").read_text(encoding="utf-8"))
ENV = {"TEST_AMOCRM_SECRET": "amo-secret-1", "TEST_HUBSPOT_SECRET": "hubspot-client-secret",
       "TEST_PIPEDRIVE_USER": "funnel", "TEST_PIPEDRIVE_PASSWORD": "pd-password",
       "TEST_BITRIX24_TOKEN": "51856fefc120afa4b628cc82d3935cce", "TEST_BITRIX24_URL": "http://127.0.0.1:9/rest/1/key/"}


def body_of(name: str) -> bytes:
    """An example's body as the CRM sends it: the form text, or the JSON as bytes."""
    body = EXAMPLES[name]["body"]
    return body.encode("utf-8") if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode("utf-8")


def hubspot_headers(body: bytes, url: str, secret: str = ENV["TEST_HUBSPOT_SECRET"], at: float | None = None) -> dict:
    from funnelspec.serve.hooks.hubspot import signature

    stamp = str(int((time.time() if at is None else at) * 1000))
    return {"content-type": "application/json", "x-hubspot-request-timestamp": stamp,
            "x-hubspot-signature-v3": signature(secret, "POST", url, body, stamp)}


def basic(user: str = ENV["TEST_PIPEDRIVE_USER"], password: str = ENV["TEST_PIPEDRIVE_PASSWORD"]) -> dict:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "content-type": "application/json"}


def bitrix_form(event: str, deal: str, ts: str = "1725020946", token: str = ENV["TEST_BITRIX24_TOKEN"]) -> bytes:
    """A Bitrix24 event as it posts it (the documented handler payload, form-encoded)."""
    return urlencode({"event": event, "event_handler_id": "679", "data[FIELDS][ID]": deal, "ts": ts,
                      "auth[domain]": "some-domain.bitrix24.com", "auth[member_id]": "a223c6b3710f85df22e9377d6c4f7553",
                      "auth[application_token]": token}).encode()


def delivery(body: bytes, url: str = "https://funnel.example.com/hooks/x", headers=None, query=None) -> Delivery:
    return Delivery("POST", url, body, dict(headers or {}), dict(query or {}))
