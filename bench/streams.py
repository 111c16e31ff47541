"""Reading a deal stream: the engine's reader (lines within limits, nesting measured) against a plain loop.

The reader (engine/lines.py, engine/events.py) reads each line with a
length limit and counts a line's brackets before it is decoded, so that no
line is held whole past 16 MiB and no decoder recurses past 64 levels
(docs/limits.md, "Streams and exports"). This shows what that costs against
`for line in file: loads(line)` with the same decoder, on the speed
benchmark's stream (bench/workload.py), best of a few rounds taken in turn.

    python -m bench streams [--quick]
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .plain import loads_function
from .workload import DEALS, QUICK_DEALS, generate

ROUNDS, QUICK_ROUNDS = 5, 3


def _plain(path: Path) -> int:
    loads = loads_function()
    count = 0
    with open(path, "rb") as lines:
        for line in lines:
            loads(line)
            count += 1
    return count


def _reader(path: Path) -> int:
    from funnelspec.engine.events import json_lines
    from funnelspec.engine.lines import lines_of

    count = 0
    with open(path, "rb") as binary:
        for _ in json_lines(lines_of(binary)):
            count += 1
    return count


def run(quick: bool) -> None:
    deals, rounds = (QUICK_DEALS, QUICK_ROUNDS) if quick else (DEALS, ROUNDS)
    with tempfile.TemporaryDirectory(prefix="funnel-bench-") as folder:
        path = Path(folder) / "events.jsonl"
        events = generate(path, deals)
        size = path.stat().st_size
        best = {"plain loop": float("inf"), "engine reader": float("inf")}
        for _ in range(rounds):                        # in turn: a slow spell of the host hits both alike
            for name, read in (("plain loop", _plain), ("engine reader", _reader)):
                started = time.perf_counter()
                assert read(path) == events
                best[name] = min(best[name], time.perf_counter() - started)
    print(f"   {events:,} lines, {size:,} bytes; best of {rounds} rounds")
    for name, seconds in best.items():
        print(f"   {name:<14} {seconds:6.3f} s  {seconds / events * 1e9:6.0f} ns a line")
    print(f"   reader / plain {best['engine reader'] / best['plain loop']:.2f}×")
