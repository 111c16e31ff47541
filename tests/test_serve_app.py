"""`funnel serve` for real: uvicorn in a child process on a free 127.0.0.1 port, spoken to over HTTP.

What is checked is what a client sees (status, body) and what the store then
holds (`GET /deals/...`): a 202 means stored, a refusal stores nothing, a
repeated delivery is applied once, and timers fire on the wall clock.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from serve_support import (ENV, TOKEN, Server, basic, bitrix_form, bitrix_portal, body_of, hubspot_headers)

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


@pytest.fixture(scope="module")
def portal():
    with bitrix_portal() as found:
        yield found


@pytest.fixture(scope="module")
def server(tmp_path_factory, portal):
    running = Server(tmp_path_factory.mktemp("serve") / "state.db", env={"TEST_BITRIX24_URL": portal[0]})
    running.state = running.command[running.command.index("--state") + 1]
    yield running
    assert running.stop() == 0                                   # SIGTERM: a clean exit


def iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat()


def created(event_id: str, deal: str, ts: str = "2026-01-05T10:00:00Z", **extra) -> dict:
    return {"id": event_id, "deal": deal, "ts": ts, "type": "created", **extra}


def deal(server, deal_id: str) -> dict | None:
    status, body = server.call("GET", f"/deals/{deal_id}")
    return body if status == 200 else None


# POST /events ------------------------------------------------------------------------------------

def test_one_event_then_a_batch_with_a_repeat_and_a_bad_item(server):
    status, body = server.post_events(created("ev-1", "E-1", fields={"budget": 100}))
    assert (status, body["applied"]) == (202, 1)
    batch = [created("ev-1", "E-1"),                                      # repeated id
             {"id": "ev-2", "deal": "E-1", "ts": "2026-01-06T10:00:00Z", "type": "event", "name": "payment",
              "data": {"amount": 40}},
             {"id": "ev-3", "deal": "E-1", "ts": "2026-01-06T11:00:00Z", "type": "moved", "to": "proposl"},
             {"id": "ev-4", "deal": "E-1", "ts": "2026-01-06T12:00:00Z", "type": "updated", "fields": {"hot": True}}]
    status, body = server.post_events(batch)
    assert status == 400
    assert [r["status"] for r in body["results"]] == ["duplicate", "applied", "rejected", "applied"]
    assert body["results"][2]["reason"] == 'unknown stage "proposl" (did you mean "proposal"?) in funnel "crm"'
    again = server.post_events(batch[1])
    assert again == (202, again[1]) and again[1]["duplicate"] == 1
    stored = deal(server, "E-1")
    assert stored["fields"]["paid"] == 40 and stored["fields"]["hot"] is True and stored["stage"] == "new"


def test_not_json_and_empty_and_oversized(server):
    assert server.call("POST", "/events", b'{"id": ')[0] == 400
    assert server.post_events([])[0] == 400
    big = [created(f"big-{i}", "BIG") for i in range(20000)]
    status, body = server.post_events(big)
    assert status == 413 and "larger than" in body["error"]
    assert deal(server, "BIG") is None


def test_a_wrong_or_missing_token_stores_nothing(server):
    for token in (None, "guess"):
        status, body = server.post_events(created("tok-1", "TOK"), token=token)
        assert status == 401 and "bearer token" in body["error"]
    assert server.call("GET", "/deals/E-1", token="guess")[0] == 401
    assert server.call("GET", "/funnel", token=None)[0] == 401
    assert deal(server, "TOK") is None


def test_reads(server, cli):
    assert server.call("GET", "/deals/nobody") == (404, {"error": 'no deal "nobody" in the store'})
    status, report = server.call("GET", "/funnel?by=hot")
    assert status == 200 and report["kind"] == "funnel-report" and report["funnels"][0]["id"] == "crm"
    printed = cli("state", server.state, "summary", "--format", "json", "--by", "hot")
    assert report == json.loads(printed.output)                  # the same JSON as `funnel state ... summary`
    assert server.call("GET", "/funnel?by=colour")[0] == 400
    status, document = server.call("GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/events", "/hooks/amocrm", "/hooks/hubspot", "/hooks/pipedrive", "/hooks/bitrix24",
            "/deals/{deal}", "/funnel", "/health"} <= set(document["paths"])


def test_a_due_timer_fires_on_the_wall_clock(server):
    """Created in `meeting` two days ago: `after 1d in meeting` is overdue and fires with no further event."""
    event = {"id": "tm-1", "deal": "TM", "ts": iso(-timedelta(days=2)), "type": "created", "stage": "meeting"}
    assert server.post_events(event)[0] == 202
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        actions = deal(server, "TM")["actions"]
        if actions:
            break
        time.sleep(0.2)
    assert [(a["kind"], a["payload"]["text"]) for a in actions] == [("task", "Follow up the meeting")]


# /hooks ------------------------------------------------------------------------------------------

def test_amocrm_verbatim_status_change(server):
    assert server.post_events(created("amo-c", "10701093", "2018-10-17T13:16:49Z", stage="proposal"))[0] == 202
    body = body_of("amocrm_lead_status_change_urlencoded")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert server.call("POST", "/hooks/amocrm?secret=guess", body, form, token=None)[0] == 401
    status, answer = server.call("POST", f"/hooks/amocrm?secret={ENV['TEST_AMOCRM_SECRET']}", body, form, token=None)
    assert status == 202 and [r["status"] for r in answer["results"]] == ["applied", "applied"]
    again = server.call("POST", f"/hooks/amocrm?secret={ENV['TEST_AMOCRM_SECRET']}", body, form, token=None)
    assert [r["status"] for r in again[1]["results"]] == ["duplicate", "duplicate"]
    stored = deal(server, "10701093")
    assert stored["stage"] == "won" and stored["fields"]["budget"] == 22500
    assert [v["stage"] for v in stored["path"]] == ["proposal", "won"]


def test_hubspot_signed_batch_and_refusals(server):
    url = f"http://127.0.0.1:{server.port}/hooks/hubspot"
    now = int(time.time() * 1000)
    batch = [{"eventId": 7001, "occurredAt": now, "subscriptionType": "deal.creation", "objectId": 5501},
             {"eventId": 7002, "occurredAt": now + 1, "subscriptionType": "deal.propertyChange", "objectId": 5501,
              "propertyName": "dealstage", "propertyValue": "qualifiedtobuy"}]
    body = json.dumps(batch).encode()
    tampered = body.replace(b"qualifiedtobuy", b"closedwon")
    assert server.call("POST", "/hooks/hubspot", tampered, hubspot_headers(body, url), token=None)[0] == 401
    stale = hubspot_headers(body, url, at=time.time() - 600)
    assert server.call("POST", "/hooks/hubspot", body, stale, token=None)[0] == 401
    assert deal(server, "5501") is None                                 # nothing stored by a refusal
    unknown = body.replace(b"qualifiedtobuy", b"qualifiedtobuyy")
    status, answer = server.call("POST", "/hooks/hubspot", unknown, hubspot_headers(unknown, url), token=None)
    assert status == 422 and 'did you mean "qualifiedtobuy"?' in answer["error"]
    assert deal(server, "5501") is None
    status, answer = server.call("POST", "/hooks/hubspot", body, hubspot_headers(body, url), token=None)
    assert status == 202 and answer["applied"] == 2
    status, answer = server.call("POST", "/hooks/hubspot", body, hubspot_headers(body, url), token=None)
    assert (status, answer["duplicate"]) == (202, 2)                    # HubSpot's retry: applied once
    assert deal(server, "5501")["stage"] == "qualification"


def test_contact_events_are_set_aside(server):
    url = f"http://127.0.0.1:{server.port}/hooks/hubspot"
    body = body_of("hubspot_webhook_batch_docs_example")
    status, answer = server.call("POST", "/hooks/hubspot", body, hubspot_headers(body, url), token=None)
    assert status == 202 and answer["applied"] == 0 and len(answer["ignored"]) == 2


def test_pipedrive_verbatim_create_then_change(server):
    headers = basic()
    create = body_of("pipedrive_v2_deal_pipedream_test_event")
    assert server.call("POST", "/hooks/pipedrive", create, basic(password="guess"), token=None)[0] == 401
    status, answer = server.call("POST", "/hooks/pipedrive", create, headers, token=None)
    assert status == 202 and answer["applied"] == 1
    status, answer = server.call("POST", "/hooks/pipedrive", body_of("pipedrive_v2_deal_prismatic_example"),
                                 headers, token=None)
    assert status == 202 and answer["applied"] == 1
    stored = deal(server, "1")
    assert stored["stage"] == "meeting" and stored["fields"]["title"] == "test deal"
    assert server.call("POST", "/hooks/pipedrive", b"{not json", headers, token=None)[0] == 400


def test_bitrix24_reads_back_and_drops_a_move_to_where_the_deal_is(server, portal):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, answer = server.call("POST", "/hooks/bitrix24", bitrix_form("ONCRMDEALADD", "410"), form, token=None)
    assert status == 202 and answer["applied"] == 1
    status, answer = server.call("POST", "/hooks/bitrix24", bitrix_form("ONCRMDEALUPDATE", "410", ts="1725020999"),
                                 form, token=None)
    assert [r["status"] for r in answer["results"]] == ["applied", "unchanged"]
    assert deal(server, "410")["stage"] == "qualification"
    bad = bitrix_form("ONCRMDEALADD", "410", token="guess")
    assert server.call("POST", "/hooks/bitrix24", bad, form, token=None)[0] == 401


def test_an_unmapped_crm_is_404(server):
    status, body = server.call("POST", "/hooks/salesforce", b"{}", token=None)
    assert status == 404 and "/hooks/amocrm" in body["error"]


def test_a_deal_the_crm_had_before_is_adopted_where_it_stood(server):
    """amoCRM reports a status change of a lead this server never saw: it is created in its old status
    (20067736, mapped to `meeting`) and then moved, once, however often amoCRM repeats the delivery."""
    body = body_of("amocrm_lead_status_change_urlencoded").replace(b"10701093", b"20701093")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    path = f"/hooks/amocrm?secret={ENV['TEST_AMOCRM_SECRET']}"
    status, answer = server.call("POST", path, body, form, token=None)
    assert status == 202 and [(r["id"].rsplit(":", 1)[-1], r["status"]) for r in answer["results"]] == [
        ("adopt", "applied"), ("fields", "applied"), ("142", "applied")]
    status, answer = server.call("POST", path, body, form, token=None)
    assert [r["status"] for r in answer["results"]] == ["duplicate", "duplicate"]      # no second adoption
    assert [v["stage"] for v in deal(server, "20701093")["path"]] == ["meeting", "won"]


def test_the_command_refuses_to_start_with_the_reason(cli, tmp_path, monkeypatch):
    import socket

    from serve_support import MAPPING, SPEC

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FUNNEL_TOKEN", raising=False)
    state = str(tmp_path / "state.db")
    beyond = cli("serve", str(SPEC), "--state", state, "--host", "0.0.0.0", "--mapping", str(MAPPING))
    assert beyond.exit_code == 2 and "serving on 0.0.0.0 needs a token" in beyond.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = cli("serve", str(SPEC), "--state", state, "--port", str(taken.getsockname()[1]),
                   "--mapping", str(MAPPING))
    assert busy.exit_code == 2 and "cannot listen on 127.0.0.1:" in busy.output
    monkeypatch.delenv("TEST_HUBSPOT_SECRET")
    unset = cli("serve", str(SPEC), "--state", state, "--port", "0", "--mapping", str(MAPPING))
    assert unset.exit_code == 2 and "`TEST_HUBSPOT_SECRET` (client-secret-env) is not set" in unset.output
    assert "Traceback" not in beyond.output + busy.output + unset.output


def test_the_log_never_holds_a_secret(tmp_path):
    """With the access log on, requests carrying every kind of secret leave none of them in the log."""
    server = Server(tmp_path / "state.db", args=())
    try:
        amo = body_of("amocrm_lead_status_change_urlencoded")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        server.call("POST", f"/hooks/amocrm?secret={ENV['TEST_AMOCRM_SECRET']}", amo, form, token=None)
        server.call("POST", "/hooks/amocrm?secret=wrong-guess-1", amo, form, token=None)
        server.call("POST", "/hooks/pipedrive", body_of("pipedrive_v2_deal_prismatic_example"), basic(), token=None)
        url = f"http://127.0.0.1:{server.port}/hooks/hubspot"
        hub = body_of("hubspot_webhook_prismatic_example")
        server.call("POST", "/hooks/hubspot", hub, hubspot_headers(hub, url), token=None)
        server.post_events(created("log-1", "LOG"))
        server.post_events(created("log-2", "LOG"), token="wrong-guess-2")
    finally:
        assert server.stop() == 0
    log = server.stderr()
    assert "POST /hooks/amocrm 202" in log and "POST /events 401" in log        # the access log is on
    for secret in (*ENV.values(), "wrong-guess-1", "wrong-guess-2", TOKEN):
        assert secret not in log
