"""`funnel serve` over loopback: events/s and latency for single events, batches of 100, and a steady 200 req/s.

Starts `funnel serve examples/security_b2b.funnel` on a free 127.0.0.1 port
with a fresh SQLite store (WAL, synchronous=FULL: every 202 is on disk), then
drives it from this process with a small keep-alive HTTP/1.1 client on
asyncio:

- single: CONNECTIONS clients, each posting one `created` event per request,
  back to back (the server's writer commits what has queued up together);
- batched: fewer clients posting arrays of 100 events;
- steady: one event per request at a fixed 200 requests/s (open loop: a late
  answer does not delay the next request), for the latency target.

Every phase is bounded in requests and in seconds. Besides events/s, each
phase prints the server's CPU microseconds per event: on a machine shared
with other work, events/s falls with the load, CPU per event much less. Targets on a 2-core
machine: >= 2,000 events/s single, >= 20,000 events/s batched, p99 < 50 ms
at 200 requests/s. The client shares the machine with the server, so the
figures are what one box does serving and loading itself.

    python -m bench serve [--quick]
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "security_b2b.funnel"
TOKEN = "bench-token"
TARGETS = {"single": 2000, "batched": 20000}
PHASE_SECONDS = 60            # no phase runs longer than this, whatever its request count


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(state: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "FUNNEL_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "funnelspec", "serve", str(SPEC), "--state", state,
                                "--port", str(port), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"funnel serve exited: {process.stderr.read().decode()}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/health",
                                             headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("funnel serve did not answer within 30 s")


class Counter:
    def __init__(self):
        self.next = 0

    def events(self, n: int) -> list[dict]:
        out = []
        for _ in range(n):
            self.next += 1
            out.append({"id": f"b-{self.next}", "deal": f"B-{self.next}", "ts": 1_767_225_600 + self.next,
                        "type": "created", "fields": {"budget": 1000 + self.next % 5000, "source": "ads"}})
        return out


async def _post(reader, writer, port: int, body: bytes) -> int:
    writer.write(b"POST /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                 % (port, TOKEN.encode(), len(body)) + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _closed_loop(port: int, counter: Counter, clients: int, requests: int, size: int) -> dict:
    """`clients` connections posting `size` events per request back to back, `requests` in all."""
    latencies, statuses = [], {}
    left = [requests]
    deadline = time.monotonic() + PHASE_SECONDS

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0 and time.monotonic() < deadline:
                left[0] -= 1
                body = json.dumps(counter.events(size)).encode()
                started = time.perf_counter()
                status = await _post(reader, writer, port, body)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return _figures(latencies, statuses, time.perf_counter() - started, size)


async def _open_loop(port: int, counter: Counter, rate: float, seconds: float) -> dict:
    """One event per request at `rate` requests/s for `seconds`, on a pool of connections."""
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies, statuses, tasks = [], {}, []

    async def one(body: bytes, due: float):
        reader, writer = await pool.get()
        try:
            status = await _post(reader, writer, port, body)
        finally:
            pool.put_nowait((reader, writer))
        latencies.append(time.perf_counter() - due)            # from when it was due: waiting counts
        statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(json.dumps(counter.events(1)).encode(), due)))
    await asyncio.wait_for(asyncio.gather(*tasks), PHASE_SECONDS)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return _figures(latencies, statuses, elapsed, 1)


def _event_loop_run(phase):
    """Run the client on uvloop when it is there (the serve extra): the client's own overhead is load on the
    same machine the server runs on."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(phase)
    return uvloop.run(phase)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measured(server, phase, events_per_request: int) -> dict:
    """Run a phase; add the server's CPU microseconds per event, which other load on the machine does not
    change much (unlike events/s)."""
    before = _cpu_seconds(server.pid)
    figures = _event_loop_run(phase)
    after = _cpu_seconds(server.pid)
    events = figures["requests"] * events_per_request
    figures["cpu_us"] = (after - before) / events * 1e6 if before is not None and events else float("nan")
    return figures


def _figures(latencies: list[float], statuses: dict, elapsed: float, size: int) -> dict:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")

    return {"requests": len(latencies), "events_per_s": len(latencies) * size / elapsed,
            "requests_per_s": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "statuses": statuses, "seconds": elapsed}


def _engine_alone(folder: str, counter: Counter, batches: int) -> float:
    """Events/s of `RunEngine.ingest` itself, in this process, batches of 100: the ceiling under the server."""
    from funnelspec.api import analyse
    from funnelspec.run.session import RunSession

    session = RunSession.open(analyse(str(SPEC), lint=False), os.path.join(folder, "alone.db"), moves="record")
    try:
        work = [counter.events(100) for _ in range(batches)]
        started = time.perf_counter()
        for events in work:
            session.engine.ingest(events)
        return batches * 100 / (time.perf_counter() - started)
    finally:
        session.close()


def run(quick: bool = False) -> None:
    scale = 0.1 if quick else 1.0
    with tempfile.TemporaryDirectory() as folder:
        alone = _engine_alone(folder, Counter(), max(5, int(100 * scale)))
        port = _free_port()
        server = _start(os.path.join(folder, "state.db"), port)
        counter = Counter()
        try:
            single = _measured(server, _closed_loop(port, counter, clients=32, requests=int(6000 * scale), size=1), 1)
            batched = _measured(server, _closed_loop(port, counter, clients=4, requests=int(400 * scale), size=100),
                                100)
            steady = _measured(server, _open_loop(port, counter, rate=200, seconds=max(2.0, 10 * scale)), 1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"   {'phase':<22}{'requests':>9}{'events/s':>11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'cpu us/ev':>10}  target")
    rows = (("single, 32 clients", single, f">= {TARGETS['single']:,} events/s", single["events_per_s"] /
             TARGETS["single"]),
            ("batches of 100, 4 cl.", batched, f">= {TARGETS['batched']:,} events/s", batched["events_per_s"] /
             TARGETS["batched"]),
            ("steady 200 req/s", steady, "p99 < 50 ms", 50 / steady["p99_ms"] if steady["p99_ms"] else 0))
    for name, figures, target, ratio in rows:
        print(f"   {name:<22}{figures['requests']:>9}{figures['events_per_s']:>11,.0f}"
              f"{figures['requests_per_s']:>9,.0f}"
              f"{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}{figures['cpu_us']:>10.0f}  {target} (x{ratio:.2f})")
        if set(figures["statuses"]) != {202}:
            print(f"   !! {name}: answers {figures['statuses']}")
    print(f"   {'engine alone, ingest(100)':<31}{alone:>11,.0f}   RunEngine.ingest in this process, no HTTP "
          f"(served batches / alone: x{batched['events_per_s'] / alone:.2f})")
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; cpu us/ev: the server process's CPU "
          "time per event (1e6 / it = events/s one free core could serve)")
