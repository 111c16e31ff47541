"""The CRM webhook translators: real payloads -> canonical deal events; bad requests refused with the reason.

The payloads are the verbatim ones in tests/cases/serve/crm_api_examples.json
(see the README there); each becomes the events in the snapshot. Bitrix24's
deals are read back from a local HTTP server on 127.0.0.1 that answers the
recorded `crm.deal.get` bodies.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from hypothesis import given, strategies as st

from funnelspec.api import load
from funnelspec.engine.validate import shape_problem
from funnelspec.serve.hooks import Refused, translator
from funnelspec.serve.hooks.delivery import read_form
from funnelspec.serve.mapping import MappingError, read_mappings
from serve_support import (ENV, MAPPING, SPEC, basic, bitrix_form, bitrix_portal, body_of, delivery,
                           hubspot_headers)

HUBSPOT_URL = "https://funnel.example.com/hooks/hubspot"


@pytest.fixture(scope="module")
def spec():
    model, diagnostics = load(str(SPEC))
    assert model is not None, diagnostics
    return model


@pytest.fixture(scope="module")
def mappings(spec):
    return read_mappings(spec, str(MAPPING), environ=ENV)


@pytest.fixture(scope="module")
def portal():
    with bitrix_portal() as found:
        yield found


def translate(crm, mappings, body, **kwargs):
    return translator(crm)(delivery(body, **kwargs), mappings[crm])


def shown(translation) -> dict:
    for event in translation.events:
        assert shape_problem(event) is None, event              # every event fits the events schema
    return {"events": list(translation.events), "ignored": list(translation.ignored),
            "observed": sorted(translation.observed), "adopt": sorted(translation.adopt)}


# the real payloads -------------------------------------------------------------------------------

def test_amocrm_status_change(mappings, snapshot):
    found = translate("amocrm", mappings, body_of("amocrm_lead_status_change_urlencoded"),
                      query={"secret": ENV["TEST_AMOCRM_SECRET"]})
    assert [e["type"] for e in found.events] == ["created", "updated", "moved"]
    assert found.adopt == {found.events[0]["id"]}               # only if the lead is new to the server
    assert found.events[0]["stage"] == "meeting"                # where it stood: old_status_id 20067736
    assert found.events[2]["to"] == "won"                      # status 142: amoCRM's "successfully realized"
    assert found.events[1]["fields"]["budget"] == 22500         # form text read as the money field wants it
    assert shown(found) == snapshot


@pytest.mark.parametrize("name", ["hubspot_webhook_batch_docs_example", "hubspot_webhook_prismatic_example"])
def test_hubspot_examples_are_contacts_and_set_aside(mappings, name, snapshot):
    body = body_of(name)
    found = translate("hubspot", mappings, body, url=HUBSPOT_URL, headers=hubspot_headers(body, HUBSPOT_URL))
    assert found.events == () and found.ignored
    assert shown(found) == snapshot


def test_hubspot_deal_batch_in_occurred_order(mappings, snapshot):
    """A deal batch of the documented shape (our own, the shared examples carry only contacts), out of order."""
    batch = [
        {"eventId": 102, "subscriptionId": 7, "portalId": 33, "appId": 1160452, "occurredAt": 1462216309000,
         "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 901,
         "propertyName": "dealstage", "propertyValue": "qualifiedtobuy", "changeSource": "CRM_UI"},
        {"eventId": 100, "subscriptionId": 5, "portalId": 33, "appId": 1160452, "occurredAt": 1462216307945,
         "subscriptionType": "deal.creation", "attemptNumber": 0, "objectId": 901, "changeSource": "CRM_UI"},
        {"eventId": 101, "subscriptionId": 6, "portalId": 33, "appId": 1160452, "occurredAt": 1462216308000,
         "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 901,
         "propertyName": "amount", "propertyValue": "15000", "changeSource": "CRM_UI"},
        {"eventId": 103, "subscriptionId": 6, "portalId": 33, "appId": 1160452, "occurredAt": 1462216310000,
         "subscriptionType": "deal.propertyChange", "attemptNumber": 1, "objectId": 901,
         "propertyName": "hs_lastmodifieddate", "propertyValue": "1462216310000", "changeSource": "CRM_UI"},
        {"eventId": 104, "subscriptionId": 7, "portalId": 33, "appId": 1160452, "occurredAt": 1462216311000,
         "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 901,
         "propertyName": "dealstage", "propertyValue": "closedwon", "changeSource": "CRM_UI"},
    ]
    body = json.dumps(batch).encode()
    found = translate("hubspot", mappings, body, url=HUBSPOT_URL, headers=hubspot_headers(body, HUBSPOT_URL))
    assert [e["id"] for e in found.events] == ["hubspot:100", "hubspot:101", "hubspot:102", "hubspot:104"]
    assert [e.get("to") for e in found.events] == [None, None, "qualification", "won"]
    assert shown(found) == snapshot


@pytest.mark.parametrize("name", ["pipedrive_v1_updated_deal_excerpt", "pipedrive_v2_deal_pipedream_test_event",
                                  "pipedrive_v2_deal_prismatic_example"])
def test_pipedrive_examples(mappings, name, snapshot):
    found = translate("pipedrive", mappings, body_of(name), headers=basic())
    assert found.events, found.ignored
    assert shown(found) == snapshot


def test_pipedrive_lost_status_is_the_lost_stage(mappings):
    body = json.loads(body_of("pipedrive_v2_deal_prismatic_example"))
    body["meta"]["action"] = "change"
    body["data"].update(status="lost", lost_reason="Too expensive")
    body["previous"] = {"status": "open"}
    found = translate("pipedrive", mappings, json.dumps(body).encode(), headers=basic())
    assert [(e["type"], e.get("stage") or e.get("to"), e.get("reason")) for e in found.events] == [
        ("created", "qualification", None), ("moved", "lost", "Too expensive")]   # created only if new here


def test_bitrix24_add_reads_the_deal_back(mappings, portal, snapshot):
    url, seen = portal
    mapping = {"bitrix24": replace(mappings["bitrix24"], url=url)}
    found = translate("bitrix24", mapping, bitrix_form("ONCRMDEALADD", "410"))
    assert seen[-1] == "/rest/1/key/crm.deal.get.json"
    assert found.events[0]["stage"] == "qualification" and found.events[0]["fields"]["hot"] is True
    assert shown(found) == snapshot


def test_bitrix24_update_in_a_second_pipeline_won(mappings, portal, snapshot):
    url, _ = portal
    mapping = {"bitrix24": replace(mappings["bitrix24"], url=url)}
    found = translate("bitrix24", mapping, bitrix_form("ONCRMDEALUPDATE", "411", ts="1726843500"))
    assert found.events[-1]["to"] == "won" and found.observed == {found.events[-1]["id"]}
    assert shown(found) == snapshot


def test_a_repeated_delivery_maps_to_the_same_ids(mappings):
    body = body_of("amocrm_lead_status_change_urlencoded")
    once, twice = (translate("amocrm", mappings, body, query={"secret": ENV["TEST_AMOCRM_SECRET"]}) for _ in "ab")
    assert [e["id"] for e in once.events] == [e["id"] for e in twice.events] and len(once.events) == 3
    pipedrive = [translate("pipedrive", mappings, body_of("pipedrive_v2_deal_pipedream_test_event"), headers=basic())
                 for _ in "ab"]
    assert pipedrive[0].events == pipedrive[1].events


# refused ------------------------------------------------------------------------------------------

def refusal(crm, mappings, body, **kwargs) -> tuple[int, str]:
    with pytest.raises(Refused) as caught:
        translate(crm, mappings, body, **kwargs)
    return caught.value.status, caught.value.reason


def test_hubspot_tampered_signature(mappings):
    body = body_of("hubspot_webhook_prismatic_example")
    headers = hubspot_headers(body, HUBSPOT_URL)
    tampered = body.replace(b"65059681032", b"65059681033")
    assert refusal("hubspot", mappings, tampered, url=HUBSPOT_URL, headers=headers)[0] == 401
    status, reason = refusal("hubspot", mappings, body, url=HUBSPOT_URL,
                             headers=hubspot_headers(body, HUBSPOT_URL, secret="not-the-secret"))
    assert status == 401 and "signature does not match" in reason
    assert refusal("hubspot", mappings, body, url=HUBSPOT_URL + "?x=1", headers=headers)[0] == 401


def test_hubspot_stale_timestamp(mappings):
    body = body_of("hubspot_webhook_prismatic_example")
    status, reason = refusal("hubspot", mappings, body, url=HUBSPOT_URL,
                             headers=hubspot_headers(body, HUBSPOT_URL, at=time.time() - 301))
    assert status == 401 and "possible replay" in reason


def test_wrong_secrets(mappings, portal):
    body = body_of("amocrm_lead_status_change_urlencoded")
    assert refusal("amocrm", mappings, body, query={"secret": "guess"}) == (
        401, "amoCRM: wrong or missing `secret` in the webhook URL")
    assert refusal("amocrm", mappings, body)[0] == 401
    pipedrive = body_of("pipedrive_v2_deal_prismatic_example")
    assert refusal("pipedrive", mappings, pipedrive, headers=basic(password="guess"))[0] == 401
    assert refusal("pipedrive", mappings, pipedrive)[0] == 401
    url, seen = portal
    before = len(seen)
    mapping = {"bitrix24": replace(mappings["bitrix24"], url=url)}
    assert refusal("bitrix24", mapping, bitrix_form("ONCRMDEALADD", "410", token="guess"))[0] == 401
    assert len(seen) == before                                   # refused before the portal is asked


def test_malformed_bodies(mappings):
    secret = {"secret": ENV["TEST_AMOCRM_SECRET"]}
    assert refusal("amocrm", mappings, b"leads[status][0][id]=1&&=x&%%%", query=secret)[0] == 400
    assert refusal("amocrm", mappings, b"account[subdomain]=x", query=secret)[0] == 400
    assert refusal("amocrm", mappings, b"leads[status][0][name]=x", query=secret)[1] == \
        "amoCRM: a `leads[status]` item has no `id`"
    broken = b'[{"eventId": 1,'
    status, reason = refusal("hubspot", mappings, broken, url=HUBSPOT_URL, headers=hubspot_headers(broken, HUBSPOT_URL))
    assert status == 400 and reason.startswith("HubSpot: the body is not JSON")
    assert refusal("pipedrive", mappings, b'{"meta": 1}', headers=basic()) == (
        400, "Pipedrive: the body must be a webhook object with `meta`")


def test_unknown_stage_named_with_the_closest(mappings):
    body = body_of("amocrm_lead_status_change_urlencoded").replace(b"status_id]=142", b"status_id]=19283711")
    status, reason = refusal("amocrm", mappings, body, query={"secret": ENV["TEST_AMOCRM_SECRET"]})
    assert (status, reason) == (422, 'amoCRM: unknown stage "19283711" (pipeline 9217056): map it in '
                                     '[tool.funnel.crm.amocrm] stages; did you mean "19283710"?')
    batch = json.dumps([{"eventId": 5, "occurredAt": 1, "subscriptionType": "deal.propertyChange", "objectId": 1,
                         "propertyName": "dealstage", "propertyValue": "qualifedtobuy"}]).encode()
    status, reason = refusal("hubspot", mappings, batch, url=HUBSPOT_URL, headers=hubspot_headers(batch, HUBSPOT_URL))
    assert status == 422 and 'unknown stage "qualifedtobuy"' in reason and 'did you mean "qualifiedtobuy"?' in reason


def test_bitrix24_portal_errors_are_502_without_the_key(mappings, portal):
    url, _ = portal
    mapping = {"bitrix24": replace(mappings["bitrix24"], url=url)}
    status, reason = refusal("bitrix24", mapping, bitrix_form("ONCRMDEALADD", "999"))
    assert status == 502 and "Not found" in reason and "key" not in reason


# the mapping --------------------------------------------------------------------------------------

def test_mapping_mistakes_name_the_closest(spec, tmp_path):
    path = tmp_path / "crm.toml"
    path.write_text('[amocrm]\nsecret-env = "S"\nstages = { "1" = "qualifcation" }\n', encoding="utf-8")
    with pytest.raises(MappingError, match='"1" = "qualifcation": no such stage in funnel `crm`; '
                                           'did you mean "qualification"'):
        read_mappings(spec, str(path), environ={"S": "x"})
    path.write_text('[amocrm]\nsecret = "in the file"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="would put a secret in the file"):
        read_mappings(spec, str(path), environ={})
    path.write_text('[amocrm]\nsecret-env = "MISSING"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="`MISSING` .* is not set"):
        read_mappings(spec, str(path), environ={})
    path.write_text('[hubspt]\n', encoding="utf-8")
    with pytest.raises(MappingError, match='unknown CRM; did you mean "hubspot"'):
        read_mappings(spec, str(path), environ={})


def test_mapping_in_pyproject(spec, tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.funnel]\nfail-on = "error"\n\n[tool.funnel.crm.pipedrive]\nuser-env = "U"\n'
                    'password-env = "P"\nstages = { "7" = "meeting" }\n', encoding="utf-8")
    found = read_mappings(spec, str(path), environ={"U": "user-7", "P": "password-7"})
    assert found["pipedrive"].stage(7) == "meeting" and found["pipedrive"].stage("won") == "won"
    assert "password-7" not in repr(found["pipedrive"]) and "user-7" not in repr(found)


# forms --------------------------------------------------------------------------------------------

names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="[]&="), min_size=1, max_size=6)


@given(st.dictionaries(names, st.dictionaries(names, st.text(max_size=8), min_size=1, max_size=3),
                       min_size=1, max_size=3))
def test_bracketed_form_keys_nest(groups):
    body = urlencode({f"{g}[{k}]": v for g, values in groups.items() for k, v in values.items()}).encode()
    assert read_form(body, "test") == groups


@given(st.binary(max_size=300), st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_changed_byte_breaks_the_hubspot_signature(body, where, byte):
    """Any signed body passes the v3 check; the same body with any one byte changed is refused with 401."""
    import types

    mapping = types.SimpleNamespace(secrets={"client-secret": "s3cret"}, url=None)
    from funnelspec.serve.hooks.hubspot import _verify

    headers = hubspot_headers(body, HUBSPOT_URL, secret="s3cret")
    _verify(delivery(body, url=HUBSPOT_URL, headers=headers), mapping, time.time())
    if body:
        i = where % len(body)
        changed = body[:i] + bytes([byte]) + body[i + 1:]
        if changed != body:
            with pytest.raises(Refused) as refused:
                _verify(delivery(changed, url=HUBSPOT_URL, headers=headers), mapping, time.time())
            assert refused.value.status == 401
