"""The OpenAPI 3.1 document of `funnel serve` (`GET /openapi.json`), written out rather than derived.

The routes are few and their bodies are the project's own formats (the
events JSON Schema, the report JSON), so the document states them directly
and points at the shipped schema instead of repeating it.
"""
from __future__ import annotations

from ..engine.validate import events_schema

HOOKS = {
    "amocrm": "amoCRM: form-encoded `leads[add|update|status]`; `?secret=` in the URL",
    "hubspot": "HubSpot: a JSON batch, `X-HubSpot-Signature-v3` and `X-HubSpot-Request-Timestamp`",
    "pipedrive": "Pipedrive: webhooks v2 (`meta`, `data`, `previous`), HTTP Basic auth",
    "bitrix24": "Bitrix24: `ONCRMDEALADD` / `ONCRMDEALUPDATE`, `auth[application_token]`",
}


def _answer(text: str, schema: dict | None = None) -> dict:
    out = {"description": text}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


RESULTS = {"type": "object", "properties": {
    "applied": {"type": "integer"}, "duplicate": {"type": "integer"}, "rejected": {"type": "integer"},
    "unchanged": {"type": "integer"},
    "results": {"type": "array", "items": {"type": "object", "properties": {
        "line": {"type": "integer"}, "status": {"enum": ["applied", "duplicate", "rejected", "unchanged"]},
        "id": {"type": ["string", "null"]}, "deal": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]}, "actions": {"type": "array", "items": {"type": "string"}}}}}}}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
DENIED = _answer("no or wrong bearer token; nothing stored", ERROR)


def openapi_document(crms: list[str]) -> dict:
    event = events_schema()
    hooks = {f"/hooks/{crm}": {"post": {
        "summary": HOOKS[crm], "security": [],
        "responses": {"202": _answer("stored durably (each item's result; `ignored` lists what was set aside)",
                                     RESULTS),
                      "400": _answer("malformed body; nothing stored", ERROR),
                      "401": _answer("wrong signature, token or secret; nothing stored", ERROR),
                      "413": _answer("body over the size limit; nothing stored", ERROR),
                      "422": _answer("a stage the mapping does not know (named, with the closest); nothing stored",
                                     ERROR),
                      "502": _answer("Bitrix24 only: the deal could not be read back from the portal", ERROR)}}}
             for crm in crms}
    return {
        "openapi": "3.1.0",
        "info": {"title": "funnel serve", "version": "1",
                 "description": "Deal events and CRM webhooks in, the running funnel's deals and figures out."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Event": event}},
        "security": [{"bearer": []}],
        "paths": {
            "/events": {"post": {
                "summary": "One canonical deal event or a batch (the events JSON Schema)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}]}}}},
                "responses": {"202": _answer("every event stored durably (a repeated id: `duplicate`, not "
                                             "applied twice)", RESULTS),
                              "400": _answer("some events rejected, each with its reason; the others stored",
                                             RESULTS),
                              "401": DENIED, "413": _answer("body over the size limit; nothing stored", ERROR)}}},
            **hooks,
            "/deals/{deal}": {"get": {
                "summary": "A deal: stage, fields, history, pending timers, actions",
                "parameters": [{"name": "deal", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _answer("the deal", {"type": "object"}), "401": DENIED,
                              "404": _answer("no such deal", ERROR)}}},
            "/funnel": {"get": {"summary": "The live funnel's figures, as `funnel report --report json`",
                                "responses": {"200": _answer("the report", {"type": "object"}), "401": DENIED}}},
            "/health": {"get": {"summary": "The server is up; the event clock and the outbox counts",
                                "responses": {"200": _answer("up", {"type": "object"}), "401": DENIED}}},
            "/openapi.json": {"get": {"summary": "This document",
                                      "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"})}}},
        },
    }
