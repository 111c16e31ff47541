"""What the webhook tests share: the test funnel and mapping, the secrets, signed and authorised requests."""
from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from funnelspec.serve.hooks import Delivery

CASE = Path(__file__).resolve().parent / "cases" / "serve"
SPEC = CASE / "crm.funnel"
MAPPING = CASE / "crm.toml"
EXAMPLES = json.loads((CASE / "crm_api_examples.json").read_text(encoding="utf-8"))
ENV = {"TEST_AMOCRM_SECRET": "amo-secret-1", "TEST_HUBSPOT_SECRET": "hubspot-client-secret",
       "TEST_PIPEDRIVE_USER": "pd-hook-user", "TEST_PIPEDRIVE_PASSWORD": "pd-password",
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


@contextlib.contextmanager
def bitrix_portal():
    """A Bitrix24 portal stand-in on 127.0.0.1: `crm.deal.get.json?id=N` answers the recorded body, else 400.

    Yields its REST base URL and the list of paths it was asked for."""
    seen = []

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            seen.append(url.path)
            deal = parse_qs(url.query).get("id", [""])[0]
            recorded = CASE / "bitrix24" / f"crm.deal.get.{deal}.json"
            if url.path.endswith("/crm.deal.get.json") and deal.isdigit() and recorded.exists():
                status, body = 200, recorded.read_bytes()
            else:
                status, body = 400, json.dumps({"error": "", "error_description": "Not found"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rest/1/key/", seen
    finally:
        server.shutdown()
        server.server_close()


def delivery(body: bytes, url: str = "https://funnel.example.com/hooks/x", headers=None, query=None) -> Delivery:
    return Delivery("POST", url, body, dict(headers or {}), dict(query or {}))


# a real server in a child process --------------------------------------------------------------------

TOKEN = "test-token-7f3a"


class Server:
    """`funnel serve` in a child process on a free loopback port; `call` talks HTTP/1.1 to it."""

    def __init__(self, state, env=None, spec=SPEC, mapping=MAPPING, args=("--quiet",)):
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        environ = {**os.environ, **ENV, "FUNNEL_TOKEN": TOKEN, **(env or {})}
        self.command = command = [sys.executable, "-m", "funnelspec", "serve", str(spec), "--state", str(state),
                                  "--port", str(self.port), "--mapping", str(mapping), *args]
        self.log = open(os.path.join(os.path.dirname(str(state)), f"serve-{self.port}.log"), "w+b")
        self.process = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"funnel serve exited: {self.stderr()}")
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("funnel serve did not answer within 30 s")

    def call(self, method: str, path: str, body: bytes | None = None, headers=None, token: str | None = TOKEN,
             timeout: float = 15):
        """(status, decoded JSON body) of one request."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = dict(headers or {})
            if token is not None:
                sent.setdefault("Authorization", f"Bearer {token}")
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        return answer.status, (json.loads(data) if data else None)

    def post_events(self, events, **kwargs):
        return self.call("POST", "/events", json.dumps(events).encode(), {"Content-Type": "application/json"},
                         **kwargs)

    def kill(self) -> None:
        import signal

        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except Exception:
                self.process.kill()
                self.process.wait()
        self.logged = self.stderr()
        self.log.close()
        return self.process.returncode

    def stderr(self) -> str:
        """What the server has written to stderr (its log), up to now or up to its stop."""
        if self.log.closed:
            return self.logged
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")
