"""Parsing and checking a large spec: 1,000 stages and 5,000 rules (target: under a second).

The spec is generated: one funnel with typed fields and events, a chain of
stages with criteria, and rules of every trigger kind (event, enter, change,
after, every) with conditions and actions, about 550 KB of text. The run is
pinned to one core where the OS allows it; each figure is the best of
several runs of a warm process (the parse tables already loaded), and the
first load of the tables is shown apart. Checking is what `funnel lint`
does after resolving: every lint check. `funnel lint` on the same file, a
fresh process each time (start-up and imports included), is shown last:
with the package byte-compiled, as an installed package is (the target's
figure), then as this environment runs it (where PYTHONDONTWRITEBYTECODE=1
and a checkout without bytecode, every start compiles every module).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES, RULES, REPEATS = 1000, 5000, 5
QUICK_STAGES, QUICK_RULES, QUICK_REPEATS = 100, 500, 2


def generate_spec(stages: int, rules: int) -> str:
    """A funnel with `stages` open stages in a chain (plus won and lost) and `rules` rules."""
    out = ['funnel big "Большая воронка" {', "  currency RUB", "  value budget", "  fields {",
           "    budget: money", "    paid: money = 0", "    manager: text?", "    touches: int = 0",
           '    segment: "unknown" | "target" | "spam" = "unknown"', "    meeting_at: datetime?", "  }",
           "  events {", "    payment { amount: money }", "    call { reached: bool }", "  }"]
    for i in range(stages):
        flags = "start  " if i == 0 else ""
        out.append(f'  stage s{i} "Этап {i}" {{ {flags}probability {min(99, i % 100)}%  sla {1 + i % 14}d }}')
    out += ['  stage won "Успех" { won }', '  stage lost "Отклонено" { lost }']
    for i in range(stages - 1):
        out.append(f"  s{i} -> s{i + 1} when paid >= budget * 0.{i % 9 + 1} and manager is set")
    out += [f"  s{stages - 1} -> won when paid >= budget", "  any -> lost"]
    for r in range(rules):
        stage = f"s{r % stages}"
        kind = r % 5
        if kind == 0:
            out.append(f"  on event payment when event.amount > {r}: set paid = paid + event.amount")
        elif kind == 1:
            out.append(f'  every 7d in {stage} while paid < budget: notify manager "Напомнить об оплате {r}"')
        elif kind == 2:
            out.append(f'  after 30d in {stage} when segment != "target": move to lost because "нет ответа"')
        elif kind == 3:
            out.append(f'  on enter {stage}: task "Позвонить клиенту {r}" due meeting_at - 1d for manager')
        else:
            out.append(f"  on change paid when paid > {r} and touches < 3: set touches = touches + 1")
    out.append("}")
    return "\n".join(out) + "\n"


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        try:
            core = min(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {core})
            return f"pinned to core {core}"
        except OSError:
            pass
    return "not pinned (the OS does not allow it)"


def _best(repeats: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None                   # free the previous run's objects outside the timing
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _best_fresh(repeats: int, make, fn) -> tuple[float, object]:
    """`_best` of `fn(make())`, `make` outside the timing: each run on a fresh object (checks remember what
    they derive from a funnel)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None
        argument = make()
        started = time.perf_counter()
        result = fn(argument)
        best = min(best, time.perf_counter() - started)
    return best, result


def run(quick: bool) -> None:
    from funnelspec.api import analyse
    from funnelspec.dsl.diagnostics import Severity, has_errors
    from funnelspec.dsl.lint import lint_spec
    from funnelspec.dsl.loader import load_files
    from funnelspec.dsl.parser import parse_text
    from funnelspec.dsl.resolve import resolve_files

    stages, rules, repeats = (QUICK_STAGES, QUICK_RULES, QUICK_REPEATS) if quick else (STAGES, RULES, REPEATS)
    pinned = _pin_to_one_core()
    text = generate_spec(stages, rules)

    started = time.perf_counter()
    parse_text('funnel f { stage s { start } }')
    first_load = time.perf_counter() - started

    parse_time, (tree, problems) = _best(repeats, lambda: parse_text(text, "big.funnel"))
    assert tree is not None and not problems, problems[:1]
    tree = None
    fileset = load_files("big.funnel", text)
    resolve_time, (spec, problems) = _best(repeats, lambda: resolve_files(fileset))
    assert spec is not None and not has_errors(problems), problems[:1]
    spec = fileset = None
    check_time, findings = _best_fresh(repeats, lambda: resolve_files(load_files("big.funnel", text))[0], lint_spec)
    assert not any(d.severity is Severity.ERROR for d in findings), findings[:1]
    findings = None
    total_time, analysis = _best(repeats, lambda: analyse("big.funnel", text))
    assert analysis.spec is not None, analysis.diagnostics[:1]
    funnel = analysis.spec.funnels[0]
    command_time = _command_time_compiled(text, repeats)
    command_time_as_run = _command_time(text, repeats)

    print(f"   spec: {len(funnel.stages):,} stages, {len(funnel.transitions):,} transitions, "
          f"{len(funnel.rules):,} rules; {len(text.encode()):,} bytes, {text.count(chr(10)):,} lines")
    print(f"   python {sys.version.split()[0]}, {pinned}, best of {repeats}")
    print(f"   parse tables, first load:  {first_load * 1000:7.1f} ms")
    print(f"   parse (text -> AST):       {parse_time * 1000:7.1f} ms")
    print(f"   resolve (AST -> model):    {resolve_time * 1000:7.1f} ms")
    print(f"   check (every lint check):  {check_time * 1000:7.1f} ms")
    print(f"   parse + resolve + check:   {total_time * 1000:7.1f} ms   (target: under 1000 ms)")
    print(f"   funnel lint, end to end:   {command_time * 1000:7.1f} ms   (a fresh process: start-up and imports too; "
          f"target: under 1300 ms)")
    compiles = "PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode as found"
    print(f"   the same, this environment: {command_time_as_run * 1000:6.1f} ms   ({compiles}: a module without "
          f"bytecode is compiled at each start)")


def _command_time(text: str, repeats: int, env: dict[str, str] | None = None) -> float:
    """The best wall time of `funnel lint` on the spec, each run a fresh process on the same core.

    `env`: the processes' environment (default: this one's)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "big.funnel")
        path.write_text(text, encoding="utf-8")
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "funnelspec", "lint", str(path)], capture_output=True,
                                  env=env)
            best = min(best, time.perf_counter() - started)
            if done.returncode not in (0, 1):
                raise SystemExit(f"funnel lint failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return best


def _command_time_compiled(text: str, repeats: int) -> float:
    """`_command_time` with every module byte-compiled beforehand, as pip leaves an installed package
    (into a private PYTHONPYCACHEPREFIX, one run before the timed ones)."""
    with tempfile.TemporaryDirectory() as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        _command_time(text, 1, env)
        return _command_time(text, repeats, env)
