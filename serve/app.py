"""The ASGI application of `funnel serve` (Starlette): events and CRM webhooks in, deals and the funnel out.

Every write goes through the one writer (serve/committer.py) and is answered
only after its commit: 202 means stored durably. `/hooks/*` are verified by
each CRM's own signature, token or secret (serve/hooks/); every other route
wants `Authorization: Bearer TOKEN` when the server has a token. A body over
the size limit is refused before it is read in full. The log names method,
path (never the query, where amoCRM's secret rides), status and time; no
header or body is ever logged.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.report import render
from ..run.views import deal_view, live_report
from .committer import Committer
from .hooks import Delivery, Refused, translator
from .hooks.delivery import same_secret
from .openapi import openapi_document
from .service import Service

log = logging.getLogger("funnelspec.serve")

try:                                    # the `fast` extra: parsing and writing JSON a few times faster
    import orjson

    read_json, write_json = orjson.loads, orjson.dumps
except ImportError:                     # pragma: no cover - without the extra
    def read_json(body: bytes):
        return json.loads(body)

    def write_json(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Answer(Response):
    """A JSON response written by `write_json`."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return write_json(content)


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, message: str, **headers) -> Answer:
    return Answer({"error": message}, status_code=status, headers=headers or None)


def build_app(service: Service) -> Starlette:
    def authorised(request: Request) -> bool:
        if service.token is None:
            return True
        return same_secret(request.headers.get("authorization"), f"Bearer {service.token}")

    def guarded(handler):
        async def route(request: Request):
            if not authorised(request):
                return error(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)",
                             **{"WWW-Authenticate": "Bearer"})
            return await handler(request)
        return route

    async def post_events(request: Request):
        try:
            body = await read_body(request, service.max_body)
        except TooLarge:
            return error(413, f"the body is larger than {service.max_body} bytes: send smaller batches")
        try:
            value = read_json(body)
        except (UnicodeDecodeError, ValueError) as err:
            return error(400, f"the body is not JSON: {err}")
        events = value if isinstance(value, list) else [value]
        if not events:
            return error(400, "no events: send one event object or a non-empty array of them")
        try:
            results = await service.committer.ingest(events)
        except Exception as err:
            return _store_failed(err)
        return _results(results, 400 if any(r.status == "rejected" for r in results) else 202)

    async def post_hook(request: Request):
        crm = request.path_params["crm"]
        mapping = service.mappings.get(crm)
        if mapping is None:
            known = ", ".join(f"/hooks/{c}" for c in service.mappings) or "none: no [tool.funnel.crm] mapping"
            return error(404, f"no CRM mapping for `{crm}`; served: {known}")
        try:
            body = await read_body(request, service.max_body)
        except TooLarge:
            return error(413, f"the body is larger than {service.max_body} bytes")
        delivery = Delivery(request.method, str(request.url), body,
                            {k.lower(): v for k, v in request.headers.items()}, dict(request.query_params))
        translate = translator(crm)
        try:
            if crm == "bitrix24":                 # reads the deal back over HTTP: off the event loop
                found = await run_in_threadpool(translate, delivery, mapping)
            else:
                found = translate(delivery, mapping)
        except Refused as refused:
            return error(refused.status, refused.reason)
        try:
            results = await service.committer.ingest(found.events, found.observed, found.adopt) if found.events else []
        except Exception as err:
            return _store_failed(err)
        return _results(results, 202, ignored=list(found.ignored))

    async def get_deal(request: Request):
        view = await run_in_threadpool(deal_view, service.store, request.path_params["deal"])
        if view is None:
            return error(404, f'no deal "{request.path_params["deal"]}" in the store')
        return Answer(view)

    async def get_funnel(request: Request):
        by = tuple(name for value in request.query_params.getlist("by") for name in value.split(",") if name)
        try:
            report = await run_in_threadpool(live_report, service.store, by, service.thresholds)
        except ValueError as err:                # a --by field no funnel has
            return error(400, str(err))
        return Response(render(report, "json"), media_type="application/json")

    async def get_health(request: Request):
        counts = await run_in_threadpool(service.store.outbox_counts)
        return Answer({"status": "ok", "clock": service.engine.clock(),
                       "outbox": {"pending": counts.pending, "delivered": counts.delivered, "dead": counts.dead}})

    async def get_openapi(request: Request):
        return Answer(openapi_document(sorted(service.mappings)))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        service.committer = Committer(service.engine, service.store)
        service.start()
        timers = asyncio.create_task(_fire_timers(service))
        try:
            yield
        finally:
            timers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timers
            service.committer.close()          # what is queued is committed and answered first

    routes = [
        Route("/events", guarded(post_events), methods=["POST"]),
        Route("/hooks/{crm}", post_hook, methods=["POST"]),
        Route("/deals/{deal:path}", guarded(get_deal), methods=["GET"]),
        Route("/funnel", guarded(get_funnel), methods=["GET"]),
        Route("/health", guarded(get_health), methods=["GET"]),
        Route("/openapi.json", guarded(get_openapi), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[])


def _results(results: list, status: int, **extra) -> Answer:
    counts = {"applied": 0, "duplicate": 0, "rejected": 0, "unchanged": 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return Answer({**counts, **extra, "results": [r.to_json() for r in results]}, status_code=status)


def _store_failed(err: Exception) -> Answer:
    """The transaction failed (the store is gone, the disk is full...): nothing was stored, say so; the client
    sends again."""
    log.error("applying events failed, nothing stored: %s: %s", type(err).__name__, err)
    return error(503, f"nothing stored: the store failed ({type(err).__name__}: {err}); send again later",
                 **{"Retry-After": "5"})


async def _fire_timers(service: Service) -> None:
    """Fire due timers on the wall clock: at once (those that came due while the server was down), then
    every `tick` seconds."""
    while True:
        try:
            fired = await service.committer.call(service.engine.fire_due, time.time())
            if fired:
                log.info("timers fired for %d deal(s)", fired)
        except Exception:                       # a failing store must not end the loop; the next tick retries
            log.exception("firing due timers failed")
        await asyncio.sleep(service.tick)


class AccessLog:
    """ASGI middleware: one log line a request, method, path, status and milliseconds; never the query."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("%s %s %d %.1fms", scope["method"], scope["path"], status[0],
                     (time.perf_counter() - started) * 1000)
