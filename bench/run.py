"""`funnel run` on SQLite: events per second from a file, and event-to-delivery latency at 500 events/s.

Throughput: a sample stream for examples/security_b2b.funnel goes through
`funnel run SPEC --state S.db --events FILE --clock event --actions OUT.jsonl`
in a fresh process, on SQLite with its crash safety as shipped (WAL,
synchronous=FULL, group commit). events/s counts the lines over the run's
own consume time (the summary's `seconds`: reading, applying, committing,
and delivering every action to the file, fsync'ed), and over the whole
process too (start-up, spec checks and all).

Latency: the same kind of stream, retimed so every event has its own time,
is written into a pipe at 500 events/s; the run loop reads the pipe, and an
in-process sink notes when each action arrives. Latency is from the write of
an event to the delivery of an action it produced (timer actions excluded).
Targets: >= 10,000 events/s; p99 < 100 ms at 500 events/s.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "security_b2b.funnel"
RATE = 500


def _sample(path: Path, deals: int) -> list[dict]:
    from funnelspec.api import load
    from funnelspec.engine.sample import sample_events

    spec, _ = load(str(SPEC))
    events = list(sample_events(spec, deals=deals, seed=1, steps=18, days=365))
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    return events


def throughput(folder: Path, deals: int) -> None:
    events = folder / "events.jsonl"
    count = len(_sample(events, deals))
    command = [sys.executable, "-m", "funnelspec", "run", str(SPEC), "--state", str(folder / "state.db"),
               "--events", str(events), "--clock", "event", "--actions", str(folder / "actions.jsonl"),
               "--format", "json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    whole = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"funnel run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    seconds = summary["seconds"]
    print(f"   throughput: {count:,} events, {deals:,} deals, {summary['outbox']['delivered']:,} actions delivered")
    print(f"   consume {seconds:.2f} s: {count / seconds:,.0f} events/s "
          f"({count / seconds / 10_000:.2f} of the 10,000 target); whole process {whole:.2f} s: "
          f"{count / whole:,.0f} events/s")
    print(f"   CPU time of the whole process {cpu:.2f} s: {count / cpu:,.0f} events per CPU second "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time is shared)")


class _TimingSink:
    name = "timing"

    def __init__(self):
        self.arrived: list[tuple[float, float]] = []      # (action's funnel time, wall time it arrived)

    def deliver(self, actions):
        now = time.perf_counter()
        self.arrived.extend((a.ts, now) for a in actions)
        return {}

    def close(self):
        pass


def latency(folder: Path, deals: int, seconds: float, *, target: str | None = None, sink=None,
            arrived: list | None = None, label: str = "") -> None:
    """Event written -> action delivered, at RATE events/s. target: the store (a SQLite file in `folder` by
    default); sink and arrived: where actions go and the (action time, perf_counter) of each arrival
    (by default an in-process _TimingSink and its list)."""
    from funnelspec.api import analyse
    from funnelspec.engine.values import parse_time
    from funnelspec.run.outbox import Delivery
    from funnelspec.run.session import RunSession

    events = sorted(_sample(folder / "stream.jsonl", deals), key=lambda e: parse_time(e["ts"]))
    count = min(len(events), int(RATE * seconds))
    base = 1.7e9
    lines = []
    for i, event in enumerate(events[:count]):       # each event its own second: an action's time names its event
        lines.append((json.dumps({**event, "ts": base + i}, ensure_ascii=False) + "\n").encode())
    session = RunSession.open(analyse(str(SPEC)), target or str(folder / "latency.db"))
    if sink is None:
        sink = _TimingSink()
        arrived = sink.arrived
    session.delivery = Delivery(session.store, sink)
    session.engine.on_commit = session.delivery.wake
    read_fd, write_fd = os.pipe()
    written: dict[float, float] = {}

    def feed():
        start = time.perf_counter()
        for i, line in enumerate(lines):
            delay = start + i / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            written[base + i] = time.perf_counter()
            os.write(write_fd, line)
        os.close(write_fd)

    feeder = threading.Thread(target=feed)
    feeder.start()
    session.consume(f"/dev/fd/{read_fd}", clock="event", install_signals=False)
    feeder.join()
    session.close()
    os.close(read_fd)
    waits = sorted((at - written[ts]) * 1000 for ts, at in arrived if ts in written)
    if not waits:
        raise SystemExit("no action arrived")
    p50, p99 = waits[len(waits) // 2], waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(f"   latency{label} at {RATE} events/s: {count:,} events over {count / RATE:.0f} s, "
          f"{len(waits):,} actions; "
          f"event written -> action delivered p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 100 ms), "
          f"max {waits[-1]:.1f} ms")


def run(quick: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        throughput(Path(folder), 500 if quick else 5_000)
        latency(Path(folder), 300 if quick else 2_000, 2.0 if quick else 20.0)
