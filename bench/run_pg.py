"""`funnel run` on PostgreSQL (one process, two sharing a store) and HTTP webhook delivery latency.

Throughput: the sample stream of bench/run.py goes through `funnel run SPEC
--state postgresql://... --events FILE --clock event --format json` in fresh
processes, one alone and then two sharing a new database and the same file
(each reads all of it; every event is applied by one of them). events/s
counts the lines over the slowest process's consume time. The server runs
with its crash safety as shipped (fsync on, synchronous_commit on).

Latency: as in bench/run.py (500 events/s into a pipe), on a PostgreSQL
store and on SQLite, with the actions POSTed to a webhook receiver on
127.0.0.1 that notes when each arrives (its 2xx sent at once).

The server: $FUNNEL_BENCH_POSTGRES (a postgresql:// URL whose user may
create databases: each run gets a new one) or, without it, a throwaway one
started as the tests start theirs (Debian's postgresql package: initdb into
a temporary folder).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.run import SPEC, _sample, latency

ROOT = Path(__file__).resolve().parent.parent


def _databases_on(url: str):
    """New databases on the server of `url` (its user may create databases), each run on an empty one."""
    import itertools

    import psycopg

    names = itertools.count(1)

    def new_database() -> str:
        name = f"funnel_bench_{os.getpid()}_{next(names)}"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return psycopg.conninfo.make_conninfo(url, dbname=name)

    return new_database


@contextmanager
def _server():
    """A function that makes a new empty database and returns its URL; None (and why) when there is no server."""
    given = os.environ.get("FUNNEL_BENCH_POSTGRES")
    if given:
        yield _databases_on(given), ""
        return
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from postgres_server import find_bin_dir, start_server
    finally:
        sys.path.remove(str(ROOT / "tests"))
    bin_dir = find_bin_dir()
    if bin_dir is None:
        yield None, "PostgreSQL is not installed (apt-get install postgresql), or set FUNNEL_BENCH_POSTGRES"
        return
    try:
        server = start_server(bin_dir, durable=True)
    except (RuntimeError, OSError) as err:
        yield None, f"could not start a PostgreSQL server: {err}"
        return
    try:
        yield server.new_database, ""
    finally:
        server.stop()


def throughput(folder: Path, new_database, deals: int) -> None:
    events = folder / "events.jsonl"
    count = len(_sample(events, deals))
    for processes in (1, 2):
        url = new_database()
        command = [sys.executable, "-m", "funnelspec", "run", str(SPEC), "--state", url, "--events", str(events),
                   "--clock", "event", "--format", "json"]
        started = time.perf_counter()
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(processes)]
        outputs = [run.communicate() for run in runs]
        whole = time.perf_counter() - started
        for run, (_, err) in zip(runs, outputs):
            if run.returncode != 0:
                raise SystemExit(f"funnel run failed ({run.returncode}): {err.strip()[-500:]}")
        summaries = [json.loads(out) for out, _ in outputs]
        seconds = max(s["seconds"] for s in summaries)
        shares = " + ".join(f"{s['applied']:,}" for s in summaries)
        print(f"   PostgreSQL, {processes} process{'es' if processes > 1 else ''}: {count:,} events "
              f"({shares} applied), consume {seconds:.2f} s: {count / seconds:,.0f} events/s; "
              f"whole {whole:.2f} s (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


@contextmanager
def _receiver():
    """A webhook receiver on 127.0.0.1: answers 204 at once; (its URL, the (action time, arrival) list)."""
    arrived: list[tuple[float, float]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5.0

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.perf_counter()
            from funnelspec.engine.values import parse_time

            arrived.append((parse_time(json.loads(body)["time"]), at))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", arrived
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _webhook_latency(folder: Path, deals: int, seconds: float, target: str | None, label: str) -> None:
    from funnelspec.run.webhook import WebhookSink

    with _receiver() as (url, arrived):
        sink = WebhookSink(url)
        latency(folder, deals, seconds, target=target, sink=sink, arrived=arrived, label=label)


def run(quick: bool) -> None:
    deals, stream, seconds = (300, 300, 2.0) if quick else (5_000, 2_000, 20.0)
    with tempfile.TemporaryDirectory() as folder:
        _webhook_latency(Path(folder), stream, seconds, None, ", SQLite store, webhook")
        with _server() as (new_database, why_not):
            if new_database is None:
                print(f"   PostgreSQL rows skipped: {why_not}")
                return
            throughput(Path(folder), new_database, deals)
            latency(Path(folder), stream, seconds, target=new_database(), label=", PostgreSQL store")
            _webhook_latency(Path(folder), stream, seconds, new_database(), ", PostgreSQL store, webhook")
