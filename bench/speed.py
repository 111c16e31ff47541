"""Speed against the plain-Python limit and the general-purpose alternatives, one workload, one run.

The workload is bench/workload.py (200,000 deals, about 1.2 million events;
--quick: 10,000 deals). Measured, in this order:

- `funnel simulate` end to end (a fresh process: CLI, JSON Lines in, the
  whole result as JSON out), on one worker (--workers 1) and on two
  (--workers 2; on two CPUs, what the default gives a stream of 16 MB or
  more); peak memory is that process's VmHWM (the workers' own is not in it);
- bench/plain_result.py, the same job by hand (a fresh process, timed as the
  command is): the same funnel replayed, every action recorded, the result
  written as JSON; its outcomes and actions checked equal to ours. The
  practical CPython limit for what the command does: the baseline of the
  end-to-end target;
- the Python API, `funnelspec.api.simulate` (a fresh process; it keeps every
  record in memory);
- the engine alone (run_replay with the records dropped: what the rules cost
  without writing the action log);
- bench/plain.py, the same funnel by hand making the moves and only counting
  the actions: the limit for the rules alone (against the engine with its
  records dropped, and the shared loop below);
- bench/alternatives.py, the same funnel on each library in bench/requirements.txt
  around one shared event loop (a library not installed is named and skipped),
  and our own compiled criteria in that same loop, deciding the moves as the
  libraries do (the like-for-like comparison of the rules' evaluation); each
  in a fresh process; then ours and the fastest library again on events
  decoded before the clock starts, the loop and the rules without reading;

Every implementation reads with the same JSON parser (orjson when installed)
and its final stage per deal is checked equal to ours before its time is
shown. The rows the targets compare (the command on one and two workers
against the same job by hand; our criteria against the fastest library in
the shared loop) are measured in ROUNDS rounds, taken in turn, and shown as
each one's median with the ratio of every round: this host's speed drifts by
a quarter within an hour, and a ratio of runs taken side by side drifts
less than one of runs minutes apart. Then a memory run: the same deals with
about 5 million events.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from .plain import loads_function
from .replay import replay_in_child
from .workload import DEALS, generate, write_spec

QUICK_DEALS = 10_000
ROUNDS = 3
MEMORY_EVENTS = 5_000_000

API_CHILD = """
import json, sys, time
from funnelspec.api import simulate
started = time.perf_counter()
result = simulate(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - started
with open(sys.argv[3], "w") as out:
    json.dump({o.deal: o.stage for o in result.outcomes}, out)
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(seconds, peak, result.totals.applied)
"""


COUNTING_CHILD = """
import json, sys
from bench.plain import replay
stages, applied, actions = replay(sys.argv[1])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(stages, out)
print(sum(actions.values()))
"""


BY_HAND_CHILD = """
import sys
from bench.plain_result import replay_result
replay_result(sys.argv[1], sys.argv[2], sys.argv[3])
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


SHARED_LOOP_CHILD = """
import json, sys, time
from bench.alternatives import LIBRARIES, CompiledCriteria, replay, replay_events
from bench.plain import loads_function
library = {library.__name__: library for library in (CompiledCriteria,) + LIBRARIES}[sys.argv[1]]
try:
    implementation = library()
except ImportError as err:
    print("not-installed", err.name)
    raise SystemExit(0)
if sys.argv[4] == "decoded":             # every event decoded before the clock starts: reading left out
    with open(sys.argv[2], "rb") as lines:
        events = list(map(loads_function(), lines))
    started = time.perf_counter()
    stages, _ = replay_events(implementation, events)
else:
    started = time.perf_counter()
    stages, _ = replay(implementation, sys.argv[2])
seconds = time.perf_counter() - started
with open(sys.argv[3], "w", encoding="utf-8") as out:
    json.dump(stages, out)
print(seconds)
"""


class Table:
    def __init__(self, events: int):
        self.events = events
        self.rows: list[tuple[str, float, int | None]] = []
        print(f"   {'implementation':<34}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}{'CLI ÷ it':>10}")

    def add(self, name: str, seconds: float, peak_kib: int | None = None, against: float | None = None) -> float:
        rate = self.events / seconds
        self.rows.append((name, rate, peak_kib))
        memory = f"{peak_kib / 1024:>13.0f}" if peak_kib else f"{'':>13}"
        ratio = f"{against / rate:>9.2f}×" if against else f"{'':>10}"
        print(f"   {name:<34}{seconds:>9.1f}{rate:>11,.0f}{memory}{ratio}", flush=True)
        return rate


def _final_stages(result_json: Path) -> dict[str, str]:
    with open(result_json, encoding="utf-8") as handle:
        return {o["deal"]: o["stage"] for o in json.load(handle)["outcomes"]}


def _check(name: str, theirs: dict[str, str], ours: dict[str, str]) -> None:
    if theirs != ours:
        wrong = sorted(d for d in ours if theirs.get(d) != ours[d])[:3]
        raise SystemExit(f"{name}: final stages differ from ours ({len(wrong)}+ deals, e.g. "
                         + ", ".join(f"{d}: {theirs.get(d)} not {ours[d]}" for d in wrong) + ")")


def _engine_only(spec_path: Path, events: Path) -> tuple[float, dict[str, str]]:
    from funnelspec.api import load
    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.simulate import Sink, event_lines, run_replay

    spec, _ = load(str(spec_path))
    compiled = compile_spec(spec)
    lines, _, _, stream = event_lines(str(events))
    try:
        started = time.perf_counter()
        run = run_replay(compiled, lines, Sink())
        seconds = time.perf_counter() - started
    finally:
        stream.close()
    return seconds, {o.deal: o.stage for o in run.outcomes}


def _command(spec: Path, events: Path, output: Path, workers: int, fmt: str = "json") -> tuple[float, int]:
    """(seconds, peak RSS KiB) of `funnel simulate --workers N --format FMT` in a fresh process."""
    seconds, peak, code = replay_in_child(events, output, spec, ("--workers", str(workers)), fmt=fmt)
    if code != 0:
        raise SystemExit(f"funnel simulate --workers {workers} failed with exit code {code}")
    return seconds, peak


def _rounds(text: str, ratios: list[float], form: str = ".0%") -> str:
    return f"{text}; rounds: " + ", ".join(format(r, form) + ("×" if form.endswith("f") else "") for r in ratios)


def run(quick: bool) -> None:
    from .plain import replay as replay_by_hand

    deals = QUICK_DEALS if quick else DEALS
    reader = "orjson" if _has("orjson") else "json (standard library)"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        spec = write_spec(folder)
        events = folder / "events.jsonl"
        started = time.perf_counter()
        count = generate(events, deals)
        print(f"   workload: {deals:,} deals, {count:,} events, {events.stat().st_size / 1e6:.0f} MB "
              f"(generated in {time.perf_counter() - started:.1f} s); reader: {reader}; "
              f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
        table = Table(count)
        result, result_2 = folder / "result.json", folder / "result.2.json"
        summary = folder / "summary.txt"
        one, two, hand, text, counting, peaks = [], [], [], [], [], [0, 0, 0, 0]
        for round_ in range(ROUNDS):        # in turn, so that the host's drift falls on all of them alike
            seconds, peaks[0] = _command(spec, events, result, 1)
            one.append(seconds)
            if round_ == 0:
                ours = _final_stages(result)
            seconds, peaks[1] = _command(spec, events, result_2, 2)
            two.append(seconds)
            if round_ == 0:
                _check("--workers 2", _final_stages(result_2), ours)
            result_2.unlink()
            seconds, peaks[2] = _by_hand_same_result(spec, events, result, folder / "by-hand.json",
                                                     check=round_ == 0)
            hand.append(seconds)
            seconds, peaks[3] = _command(spec, events, summary, 1, fmt="text")
            text.append(seconds)
            if round_ == 0:
                _check_summary(summary.read_text(encoding="utf-8"), ours)
            counting.append(_by_hand_counting(events, folder / "counted.json", ours if round_ == 0 else None))
        cli = table.add("funnel simulate (CLI, end to end)", median(one), peaks[0])
        two_rate = table.add("  … --workers 2", median(two), peaks[1])
        same = table.add("plain Python by hand, same result", median(hand), peaks[2], cli)
        text_rate = table.add("funnel simulate, text summary", median(text), peaks[3], cli)
        counted = table.add("plain Python by hand, counting", median(counting), None, cli)
        result.unlink()
        seconds, peak, stages = _api(spec, events, folder)
        _check("the Python API", stages, ours)
        table.add("Python API (records kept)", seconds, peak, cli)
        seconds, stages = _engine_only(spec, events)
        _check("the engine", stages, ours)
        engine = table.add("engine alone (records dropped)", seconds, None, cli)
        started = time.perf_counter()
        stages, _, _ = replay_by_hand(str(events))
        seconds = time.perf_counter() - started
        _check("plain Python", stages, ours)
        plain = table.add("plain Python by hand, moves only", seconds, None, cli)
        criteria, fastest, shared_ratios, on_decoded = _in_shared_loop(table, events, ours, cli)
        print(f"   (the first five rows: the median of {ROUNDS} rounds taken in turn; so are our criteria and the "
              "fastest library in the shared loop)")
        print("   " + _rounds(f"end to end ÷ plain Python by hand, same result: {cli / same:.0%} (target ≥ 75 %)",
                             [h / o for h, o in zip(hand, one)]))
        print("   " + _rounds(f"text summary ÷ plain Python by hand, counting: {text_rate / counted:.0%} "
                             "(target ≥ 50 %)", [c / t for c, t in zip(counting, text)]))
        print("   " + _rounds(f"on two workers: {two_rate / same:.0%}", [h / t for h, t in zip(hand, two)])
              + f"; --workers 2 ÷ one: {two_rate / cli:.2f}×")
        print(f"   moves only: engine alone ÷ plain Python by hand: {engine / plain:.0%}; "
              f"end to end ÷ it: {cli / plain:.0%}")
        if fastest is not None:
            print(f"   end to end ÷ fastest alternative ({fastest[0]}): {cli / fastest[1]:.2f}×; "
                  f"engine alone ÷ it: {engine / fastest[1]:.2f}×")
            print("   " + _rounds(f"our compiled criteria in the same loop ÷ it: {criteria / fastest[1]:.2f}× "
                                 "(target ≥ 5×)", shared_ratios, ".2f"))
            print("   " + _rounds(f"the same, on events decoded beforehand (reading left out of both): "
                                 f"{on_decoded[0]:.2f}×", on_decoded[1], ".2f"))
        _memory_run(spec, folder, deals, count, quick)


def _in_shared_loop(table: Table, events: Path, ours: dict[str, str], cli: float):
    """Our compiled criteria, then each library, in bench/alternatives.py's shared loop; then more
    rounds of ours and the fastest library, in turn.

    Each runs in a fresh process, as the command and the hand-written replays do: in this
    process, the heap the earlier measurements left (a result loaded twice, the stages of
    200,000 deals) slowed whichever loop came after it. (criteria's events/s, (name,
    events/s) of the fastest library or None, the ratio of the two in every round).
    """
    from .alternatives import LIBRARIES, CompiledCriteria

    stages_file = events.with_name("stages.json")
    seconds: dict[type, list[float]] = {}
    for library in (CompiledCriteria,) + LIBRARIES:
        try:
            seconds[library] = [_shared_loop_once(library, events, stages_file, ours)]
        except NotInstalled as missing:
            print(f"   {library.name:<34}not installed ({missing}): pip install -r bench/requirements.txt")
    libraries = [library for library in LIBRARIES if library in seconds]
    fastest = min(libraries, key=lambda library: seconds[library][0], default=None)
    decoded: dict[type, list[float]] = {CompiledCriteria: [], fastest: []}
    if fastest is not None:
        for _ in range(ROUNDS - 1):
            for library in (CompiledCriteria, fastest):
                seconds[library].append(_shared_loop_once(library, events, stages_file))
        for round_ in range(ROUNDS):
            for library in (CompiledCriteria, fastest):
                decoded[library].append(_shared_loop_once(library, events, stages_file,
                                                          ours if round_ == 0 else None, decoded=True))
    stages_file.unlink(missing_ok=True)
    criteria = table.add("funnelspec criteria (shared loop)", median(seconds[CompiledCriteria]), None, cli)
    for library in libraries:
        rate = table.add(library.name, median(seconds[library]), None, cli)
        if library is fastest:
            best = (library.name, rate)
    if fastest is None:
        return criteria, None, [], None
    table.add("funnelspec criteria, decoded events", median(decoded[CompiledCriteria]), None, cli)
    table.add(f"{fastest.name}, decoded events", median(decoded[fastest]), None, cli)
    ratios = [theirs / mine for mine, theirs in zip(seconds[CompiledCriteria], seconds[fastest])]
    decoded_ratios = [theirs / mine for mine, theirs in zip(decoded[CompiledCriteria], decoded[fastest])]
    return criteria, best, ratios, (median(decoded[fastest]) / median(decoded[CompiledCriteria]), decoded_ratios)


class NotInstalled(Exception):
    """A library of bench/requirements.txt is not installed (its module's name)."""


def _shared_loop_once(library, events: Path, stages_file: Path, ours: dict[str, str] | None = None,
                      decoded: bool = False) -> float:
    """Seconds of one run of `library` in the shared loop, in a fresh process (its final stages checked against
    `ours` when given); `decoded`: on events decoded before the clock starts. Raises NotInstalled."""
    done = subprocess.run([sys.executable, "-c", SHARED_LOOP_CHILD, library.__name__, str(events),
                           str(stages_file), "decoded" if decoded else "read"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"{library.name} in the shared loop failed:\n{done.stderr}")
    answer = done.stdout.split()
    if answer[0] == "not-installed":
        raise NotInstalled(answer[1])
    if ours is not None:
        with open(stages_file, encoding="utf-8") as handle:
            _check(library.name, json.load(handle), ours)
    return float(answer[0])


def _check_summary(text: str, ours: dict[str, str]) -> None:
    """The text summary's deals by stage are those of the JSON result."""
    from collections import Counter

    shown = {}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) == 3 and parts[1].isdigit():
            shown[parts[0]] = int(parts[1])
    expected = Counter(ours.values())
    if any(shown.get(stage, 0) != n for stage, n in expected.items()):
        raise SystemExit(f"the text summary's stages {shown} differ from the result's {dict(expected)}")


def _by_hand_counting(events: Path, output: Path, ours: dict[str, str] | None) -> float:
    """Seconds of bench/plain.py (the moves, actions only counted) in a fresh process, timed as the command is;
    its final stages checked against `ours` when given."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COUNTING_CHILD, str(events), str(output)], capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the plain-Python replay (counting) failed:\n{done.stderr}")
    if ours is not None:
        with open(output, encoding="utf-8") as handle:
            _check("plain Python by hand, counting", json.load(handle), ours)
    output.unlink()
    return seconds


def _by_hand_same_result(spec: Path, events: Path, ours: Path, output: Path, check: bool = True) -> tuple[float, int]:
    """bench/plain_result.py in a fresh process, timed as the command is, its result checked equal to ours
    (when `check`: the same program on the same stream gives the same result in every round).

    (seconds, peak RSS KiB)."""
    from funnelspec.engine.simulate import display_name

    source = display_name(str(spec))            # as the command names the spec in its spans
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BY_HAND_CHILD, str(events), str(output), source],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the plain-Python replay (same result) failed:\n{done.stderr}")
    peak = done.stdout.strip()
    if not check:
        output.unlink()
        return seconds, int(peak)
    loads = loads_function()
    with open(ours, "rb") as handle:
        mine = loads(handle.read())
    with open(output, "rb") as handle:
        theirs = loads(handle.read())
    output.unlink()
    for section in ("outcomes", "actions"):
        if mine[section] != theirs[section]:
            wrong = next(i for i, (a, b) in enumerate(zip(mine[section], theirs[section])) if a != b) \
                if len(mine[section]) == len(theirs[section]) else "count"
            raise SystemExit(f"plain Python by hand: its {section} differ from ours (first at {wrong})")
    if mine["violations"] or mine["problems"]:
        raise SystemExit("the workload made violations or problems, which the hand-written replay does not make")
    return seconds, int(peak)


def _api(spec: Path, events: Path, folder: Path) -> tuple[float, int, dict[str, str]]:
    output = folder / "api.json"
    done = subprocess.run([sys.executable, "-c", API_CHILD, str(spec), str(events), str(output)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the Python API run failed:\n{done.stderr}")
    seconds, peak, _ = done.stdout.split()
    with open(output, encoding="utf-8") as handle:
        stages = json.load(handle)
    return float(seconds), int(peak), stages


def _memory_run(spec: Path, folder: Path, deals: int, count: int, quick: bool) -> None:
    """The same deals with about four times the events: peak memory must stay where it was; and the memory a live
    deal takes, against a run of one deal (the interpreter and the package's own)."""
    target = MEMORY_EVENTS // 10 if quick else MEMORY_EVENTS
    extra = max(1, round((target - count) / deals))
    print(f"   memory: the same {deals:,} deals, more events each (`funnel simulate --format jsonl --workers 1`, "
          "streaming, one process)")
    print(f"   {'deals':>9}{'events':>12}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}")
    peaks = []
    for count_of_deals, more in ((1, 0), (deals, 0), (deals, extra)):
        events = folder / f"memory.{count_of_deals}.{more}.jsonl"
        total = generate(events, count_of_deals, extra=more)
        seconds, peak, code = replay_in_child(events, folder / "memory.out.jsonl", spec, ("--workers", "1"))
        if code != 0:
            raise SystemExit(f"the memory run failed with exit code {code}")
        peaks.append(peak)
        print(f"   {count_of_deals:>9,}{total:>12,}{seconds:>9.1f}{total / seconds:>11,.0f}{peak / 1024:>13.0f}",
              flush=True)
        events.unlink()
    per_deal = (max(peaks[1:]) - peaks[0]) / deals
    print(f"   per live deal: {per_deal:.2f} KiB (the peak over the one-deal run's, ÷ {deals:,} deals; "
          "target ≤ 1.2 KiB at 200,000)")


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True
