"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that follows a script of answers.

Each request takes the next answer of the script (then `then`, once the
script is used up): an HTTP status, or "slow", which reads the request, waits
longer than the sender's timeout and only then answers 200. A request the
receiver answered 2xx (a slow one too: it did the work, the sender just
stopped waiting) is an arrival; the same Idempotency-Key arriving again is a
duplicate.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, script: list, then=200, slow: float = 1.0):
        self.script, self.then, self.slow = list(script), then, slow
        self.requests = 0
        self.arrivals: list[tuple[str, dict, dict]] = []     # (Idempotency-Key, body, headers) answered 2xx
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = False               # `stop` waits for a slow answer to be counted
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/funnel"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()                       # joins the handler threads still answering
        self._thread.join(10)

    def keys(self) -> list[str]:
        with self._lock:
            return [key for key, _, _ in self.arrivals]

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.keys()).values())

    def _answer(self) -> object:
        with self._lock:
            self.requests += 1
            return self.script.pop(0) if self.script else self.then

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 2.0            # an idle kept-alive connection ends, so `stop` never waits on a sender

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver._answer()
                if answer == "slow":
                    threading.Event().wait(receiver.slow)
                    answer = 200
                if 200 <= answer < 300:
                    with receiver._lock:
                        receiver.arrivals.append((self.headers.get("Idempotency-Key"), json.loads(body),
                                                  dict(self.headers)))
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass                                      # the sender gave up waiting

            def log_message(self, *args):
                pass

        return Handler
