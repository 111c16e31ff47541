"""Replay throughput and peak memory: the same deals with 5x the events must not need more memory.

Generates two sample streams for examples/security_b2b.funnel with the same
number of deals, one with about five times the events of the other, then
replays each in a fresh process (`funnel simulate --format jsonl --workers 1 -o FILE`,
the streaming path) and reports events per second and the peak resident set
size of that process (Linux: /proc/self/status VmHWM). Memory grows with deals and timers in flight; it must
stay flat as the number of events grows.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "security_b2b.funnel"


def _generate(path: Path, deals: int, steps: int) -> int:
    from funnelspec.api import load
    from funnelspec.engine.sample import write_sample

    spec, diagnostics = load(str(SPEC))
    if spec is None:
        raise SystemExit(f"{SPEC} does not load: {diagnostics[:1]}")
    with open(path, "w", encoding="utf-8") as out:
        return write_sample(out, spec, deals=deals, seed=1, steps=steps, days=365)


CHILD = """
import runpy, sys
sys.argv = ["funnel"] + sys.argv[1:]
code = 0
try:
    runpy.run_module("funnelspec", run_name="__main__")
except SystemExit as stop:
    code = stop.code or 0
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(peak, code)
"""


def replay_in_child(events: Path, output: Path, spec: Path = SPEC, extra: tuple[str, ...] = (),
                    fmt: str = "jsonl") -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one `funnel simulate` in a fresh process (bench/speed.py too).

    The peak is the child's own VmHWM, which exec starts anew (ru_maxrss would
    carry the generating parent's size over the fork).
    """
    command = [sys.executable, "-c", CHILD, "simulate", str(spec), "--events", str(events),
               "--format", fmt, "-o", str(output), *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "CI": "true"}, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not done.stdout.strip():
        return seconds, 0, done.returncode or 1
    peak, code = done.stdout.split()
    return seconds, int(peak), int(code)


def run(quick: bool) -> None:
    deals = 2_000 if quick else 20_000
    sizes = ((18, "small"), (98, "large")) if quick else ((98, "small"), (498, "large"))
    print(f"   spec {SPEC.relative_to(ROOT)}, {deals:,} deals; each stream replayed in its own process")
    print(f"   {'stream':<8}{'events':>12}{'MB':>9}{'gen s':>8}{'replay s':>10}{'events/s':>11}{'peak RSS MB':>13}")
    with tempfile.TemporaryDirectory() as folder:
        for steps, label in sizes:
            events = Path(folder) / f"{label}.jsonl"
            started = time.perf_counter()
            count = _generate(events, deals, steps)
            generated = time.perf_counter() - started
            seconds, peak, code = replay_in_child(events, Path(folder) / f"{label}.out.jsonl",
                                                  extra=("--workers", "1"))     # one process: its memory is all
            if code != 0:
                raise SystemExit(f"the replay of the {label} stream failed with exit code {code}")
            size = events.stat().st_size / 1e6
            print(f"   {label:<8}{count:>12,}{size:>9.0f}{generated:>8.1f}{seconds:>10.1f}"
                  f"{count / seconds:>11,.0f}{peak / 1024:>13.1f}")
            events.unlink()
