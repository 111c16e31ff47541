"""Start-up: `funnel simulate` of a one-event stream, `funnel --help`, `funnel lint` (target: simulate under 0.2 s).

Each figure is the wall time of a fresh process, the median of ROUNDS rounds
taken in turn (every command once per round, so a slow spell of this shared
host weighs on all of them alike), with its CPU time (user + system) beside
it. The baselines, measured in the same rounds: `python -c pass` (the
interpreter alone) and `python -c "import click"` (the least a click command
line can cost). The spec is examples/b2b_basic.funnel, the stream its first
event.

The runs use a cache folder of their own (XDG_CACHE_HOME): the parser's tables
are made once before the rounds; the simulate row "spec cached" is the usual
run (the checked spec read back from the cache, dsl/user_cache.py), and
"spec not cached" removes the entry before each run, so it parses and checks
the spec (and writes the entry) as the first run after an edit does. The
package is byte-compiled once into a private folder (PYTHONPYCACHEPREFIX),
as pip leaves an installed package: without bytecode every start compiles
every module the command imports.
"""
from __future__ import annotations

import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS, QUICK_ROUNDS = 11, 3
TARGET = 0.2
SPEC = Path(__file__).resolve().parent.parent / "examples" / "b2b_basic.funnel"


def _command() -> list[str]:
    """How a user starts `funnel`: the console script beside this interpreter, else `python -m funnelspec`."""
    script = Path(sys.executable).with_name("funnel")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "funnelspec"]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `argv` in a fresh process; it must exit 0 or 1."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def run(quick: bool) -> None:
    rounds = QUICK_ROUNDS if quick else ROUNDS
    funnel = _command()
    with tempfile.TemporaryDirectory() as folder:
        cache, pycache = os.path.join(folder, "cache"), os.path.join(folder, "pycache")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "FUNNELSPEC_NO_CACHE")}
        env.update(XDG_CACHE_HOME=cache, PYTHONPYCACHEPREFIX=pycache)
        events = os.path.join(folder, "one.jsonl")
        with open(SPEC.with_name("b2b_basic.events.jsonl"), encoding="utf-8") as stream:
            Path(events).write_text(stream.readline(), encoding="utf-8")
        simulate = funnel + ["simulate", str(SPEC), "--events", events]

        def uncached() -> None:
            for entry in glob.glob(os.path.join(cache, "funnelspec", "analysis-*")):
                os.remove(entry)

        rows = [("python -c pass", [sys.executable, "-c", "pass"], None),
                ('python -c "import click"', [sys.executable, "-c", "import click"], None),
                ("funnel --help", funnel + ["--help"], None),
                ("funnel lint SPEC", funnel + ["lint", str(SPEC)], None),
                ("funnel simulate, spec cached", simulate, None),
                ("funnel simulate, spec not cached", simulate, uncached)]
        for _, argv, _ in rows:         # byte-compile, make the parser's tables and the spec's entry
            _timed(argv, env)
        walls: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        cpus: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        for _ in range(rounds):
            for name, argv, before in rows:
                if before is not None:
                    before()
                wall, cpu = _timed(argv, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
        shutil.rmtree(pycache, ignore_errors=True)

    click_median = statistics.median(walls['python -c "import click"'])
    print(f"   python {sys.version.split()[0]}; {SPEC.name}, one event; median of {rounds} interleaved rounds "
          f"(wall, CPU = user + system of the process)")
    print(f"   {'':34} {'wall':>8} {'CPU':>8} {'wall - click':>13}  every round (ms)")
    for name, _, _ in rows:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"   {name:34} {wall * 1000:6.0f} ms {cpu * 1000:5.0f} ms {(wall - click_median) * 1000:10.0f} ms  "
              + " ".join(f"{w * 1000:.0f}" for w in walls[name]))
    cached = statistics.median(walls["funnel simulate, spec cached"])
    print(f"   funnel simulate of one event: {cached * 1000:.0f} ms  (target: under {TARGET * 1000:.0f} ms)"
          + ("" if cached < TARGET else "  -- over the target"))
