"""Campaigns for the long-running surfaces: `funnel run` event batches and `funnel serve` request bodies.

These take input in process, not from files on a command line: RunEngine.ingest
on a temporary SQLite store, the CRM webhook translators, and the ASGI app of
`funnel serve` called directly (no socket at all). One oracle for all:

- no exception escapes (a translator may only refuse, with Refused),
- no answer of `funnel serve` is a 5xx,
- every event sent is accounted: one result each, applied + duplicate +
  rejected (+ unchanged, for a CRM's snapshot) = sent,
- nothing is half-stored: every event answered applied has its id in the
  store afterwards. (A rejected event may keep its id too: docs/run.md says
  so, a corrected event goes under a new id.)
"""
from __future__ import annotations

import asyncio
import json
import os
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .mutate import Corpus, choice, mutate

TESTS = Path(__file__).resolve().parents[1]
RUN_SPEC = TESTS / "run" / "timers.funnel"
STATUSES = ("applied", "duplicate", "rejected", "unchanged")


@dataclass
class LiveTally:
    surface: str
    inputs: int = 0
    events: int = 0
    failures: list = field(default_factory=list)          # (what, detail)

    def figures(self) -> str:
        return (f"{self.surface}: {self.inputs} inputs ({self.events} events), exceptions and 5xx "
                f"{sum(1 for w, _ in self.failures if w != 'unaccounted')}, events unaccounted "
                f"{sum(1 for w, _ in self.failures if w == 'unaccounted')}")


def _run_seeds() -> list[bytes]:
    base = {"deal": "D1", "ts": "2026-03-02T10:00:00Z"}
    events = [
        [{"id": "e1", **base, "type": "created", "fields": {"budget": 1000, "manager": "Ivanova"}}],
        [{"id": "e1", **base, "type": "created", "fields": {"budget": 1000, "manager": "Ivanova"}},
         {"id": "e2", **base, "type": "moved", "to": "qualified"},
         {"id": "e3", **base, "type": "event", "name": "payment", "data": {"amount": 40}},
         {"id": "e2", **base, "type": "moved", "to": "qualified"}],
        [{"id": "u1", **base, "type": "updated", "fields": {"budget": 5}}, {"id": "x", "deal": "D2"}],
    ]
    return [json.dumps(batch).encode() for batch in events]


def _as_events(data: bytes) -> list | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else [value]


def account(results: list, sent: int, applied_ids: set[str], ids: list, store) -> list[tuple[str, str]]:
    """The oracle's accounting of one batch's results against what the store holds."""
    failures = []
    statuses = [r["status"] if isinstance(r, dict) else r.status for r in results]
    if len(results) != sent or any(s not in STATUSES for s in statuses):
        failures.append(("unaccounted", f"{sent} events sent, results {statuses}"))
    with store.transaction() as tx:
        stored = tx.applied_events([i for i in ids if i is not None])
    for status, event_id in zip(statuses, ids):
        if event_id is None:
            continue
        if status == "applied" and event_id not in stored:
            failures.append(("unaccounted", f"event {event_id!r} applied but not stored"))
        if status == "applied":
            applied_ids.add(event_id)
    return failures


def _ids(events: list) -> list:
    return [str(e["id"]) if isinstance(e, dict) and "id" in e and isinstance(e["id"], (str, int)) else None
            for e in events]


def run_campaign(pick, count: int) -> LiveTally:
    """`count` mutated event batches into one RunEngine on a fresh SQLite store."""
    from funnelspec.api import analyse
    from funnelspec.engine.compile import compile_spec
    from funnelspec.run.engine import RunEngine
    from funnelspec.run.store import open_store

    tally, seeds = LiveTally("run"), _run_seeds()
    corpus = Corpus(seeds)
    spec = compile_spec(analyse(str(RUN_SPEC)).spec)
    with tempfile.TemporaryDirectory(prefix="fuzz-run-") as folder:
        engine = RunEngine(spec, open_store(os.path.join(folder, "state.db")), hash="fuzz")
        applied: set[str] = set()
        try:
            for _ in range(count):
                events = _as_events(mutate(choice(pick, seeds), pick, corpus, json_input=True))
                if not events:
                    continue
                tally.inputs += 1
                tally.events += len(events)
                try:
                    results = engine.ingest(events)
                except Exception:                                  # noqa: BLE001 - the oracle's finding
                    tally.failures.append(("traceback", traceback.format_exc()))
                    continue
                tally.failures += account(results, len(events), applied, _ids(events), engine.store)
        finally:
            engine.store.close()
    return tally


# funnel serve ----------------------------------------------------------------------------------------

def _hook_requests():
    """(crm, example body, how to authorise a body) for the CRMs that need no call back to the CRM."""
    from serve_support import ENV, basic, body_of, hubspot_headers

    url = "http://testserver/hooks/hubspot"
    return [
        ("amocrm", body_of("amocrm_lead_status_change_urlencoded"),
         lambda body: ({"content-type": "application/x-www-form-urlencoded"}, f"secret={ENV['TEST_AMOCRM_SECRET']}")),
        ("hubspot", body_of("hubspot_webhook_batch_docs_example"), lambda body: (hubspot_headers(body, url), "")),
        ("hubspot", body_of("hubspot_webhook_prismatic_example"), lambda body: (hubspot_headers(body, url), "")),
        ("pipedrive", body_of("pipedrive_v1_updated_deal_excerpt"), lambda body: (basic(), "")),
        ("pipedrive", body_of("pipedrive_v2_deal_prismatic_example"), lambda body: (basic(), "")),
    ]


async def _call(app, path: str, body: bytes, headers: dict, query: str = "") -> tuple[int, bytes]:
    """One POST through the ASGI app, in process: (status, body)."""
    sent, answer = False, {"status": 0, "body": b""}

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    await app(scope, receive, send)
    return answer["status"], answer["body"]


def serve_campaign(pick, count: int) -> tuple[LiveTally, LiveTally]:
    """`count` mutated bodies to POST /events and `count` to POST /hooks/CRM, in one app on a fresh store."""
    from serve_support import ENV, MAPPING, SPEC, TOKEN
    from funnelspec.serve.app import build_app
    from funnelspec.serve.service import open_service

    events_tally, hooks_tally = LiveTally("serve-events"), LiveTally("serve-hooks")
    seeds, hooks = _run_seeds(), _hook_requests()
    event_corpus, hook_corpus = Corpus(seeds), Corpus([body for _, body, _ in hooks])
    with tempfile.TemporaryDirectory(prefix="fuzz-serve-") as folder:
        service = open_service(str(SPEC), os.path.join(folder, "state.db"), mapping=str(MAPPING), token=TOKEN,
                               environ={**os.environ, **ENV})
        app = build_app(service)

        async def campaign():
            applied: set[str] = set()
            async with app.router.lifespan_context(app):
                for _ in range(count):
                    body = mutate(choice(pick, seeds), pick, event_corpus, json_input=True)
                    await _judge(events_tally, "/events", body, {"authorization": f"Bearer {TOKEN}",
                                                                 "content-type": "application/json"}, "", applied)
                    crm, seed, authorise = choice(pick, hooks)
                    body = mutate(seed, pick, hook_corpus, json_input=seed.startswith((b"{", b"[")))
                    headers, query = authorise(body)
                    await _judge(hooks_tally, f"/hooks/{crm}", body, headers, query, applied)

        async def _judge(tally, path, body, headers, query, applied):
            tally.inputs += 1
            try:
                status, answer = await _call(app, path, body, headers, query)
            except Exception:                                      # noqa: BLE001 - the oracle's finding
                tally.failures.append(("traceback", f"{path} {body[:200]!r}\n{traceback.format_exc()}"))
                return
            if status >= 500:
                tally.failures.append(("5xx", f"{path} {status} {answer[:300]!r} for {body[:200]!r}"))
                return
            if path == "/events" and status in (202, 400) and answer.startswith(b"{") and b'"results"' in answer:
                events = _as_events(body) or []
                tally.events += len(events)
                results = json.loads(answer)["results"]
                tally.failures.extend(account(results, len(events), applied, _ids(events), service.store))

        try:
            asyncio.run(campaign())
        finally:
            service.close()
    return events_tally, hooks_tally
