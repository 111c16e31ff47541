"""HTTP webhook delivery: each outbox action POSTed as JSON, with its id as the `Idempotency-Key`.

A sink for run/outbox.py's `Delivery`, which `--actions http(s)://...`
selects. At-least-once: an action counts as delivered only once the
receiver answered 2xx. Any other answer, a timeout or a refused connection
fails it; `Delivery` records the failure, tries it again after its
exponential backoff with jitter, and after `dead_after` failures moves it
to the dead-letter list (`funnel state STORE outbox`). A timeout after the
receiver got the request, or a crash between its 2xx and our mark, sends
the action again: with the same id, so a receiver that keeps the keys it
has seen drops the duplicate.

When the receiver cannot be reached at all (refused, timed out), the rest of
the batch is not sent this time, each failing with that reason: waiting out
a timeout for every action of a batch would hold delivery up for minutes.
A receiver that answers an error status for one action does not hold the
others back: the batch goes on.

The standard library's http.client, not a client library: one POST at a
time over a kept-alive connection is all this needs, and an extra
dependency would bring nothing here (no HTTP/2, no async, no cookies).
"""
from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlsplit

from .store import OutboxAction, StoreError

USER_AGENT = "funnelspec-run"


class WebhookError(Exception):
    """This action was not delivered this time: the receiver's status, a timeout, a refused connection."""


class BadWebhookUrl(StoreError):
    """The `--actions` URL is not one we can POST to."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> "Endpoint":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadWebhookUrl(f"`{url}`: a webhook URL starts with http:// or https:// and names a host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise BadWebhookUrl(f"`{url}`: the port is not a number from 0 to 65535") from None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname, port, path)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


class Unreachable(WebhookError):
    """No answer at all (refused, reset, timed out): the receiver is down or too slow, not just this action."""


class WebhookSink:
    """POSTs actions to one URL, in order, one at a time over a kept-alive connection."""

    def __init__(self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None):
        self.endpoint = Endpoint.parse(url)
        self.name = str(self.endpoint)
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            end = self.endpoint
            if end.scheme == "https":
                self._connection = http.client.HTTPSConnection(end.host, end.port, timeout=self.timeout,
                                                               context=ssl.create_default_context())
            else:
                self._connection = http.client.HTTPConnection(end.host, end.port, timeout=self.timeout)
        return self._connection

    def deliver(self, actions: Sequence[OutboxAction]) -> dict[str, str]:
        """POST each action; the ones that failed, by id, with why."""
        failures: dict[str, str] = {}
        for n, action in enumerate(actions):
            try:
                self.send(action)
            except Unreachable as err:
                failures[action.id] = str(err)
                failures.update((later.id, f"not sent: {err}") for later in actions[n + 1:])
                break
            except WebhookError as err:
                failures[action.id] = str(err)
        return failures

    def send(self, action: OutboxAction) -> None:
        """Return once the receiver answered 2xx; else raise WebhookError (Unreachable: no answer at all)."""
        body = json.dumps(action.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": action.id, "User-Agent": USER_AGENT,
                   **self.headers}
        try:
            connection = self._connect()
            connection.request("POST", self.endpoint.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()          # drain it, so the kept-alive connection can carry the next request
        except (OSError, http.client.HTTPException) as err:
            self.close()             # the connection's state is unknown: start the next try on a new one
            reason = "timed out" if isinstance(err, TimeoutError) else (str(err) or type(err).__name__)
            raise Unreachable(f"POST {self.endpoint}: {reason}") from None
        if response.will_close:
            self.close()
        if not 200 <= response.status < 300:
            raise WebhookError(f"POST {self.endpoint}: HTTP {response.status} {response.reason}".rstrip())

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
