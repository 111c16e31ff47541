"""Hostile inputs that were super-linear: each case at full size and at a tenth, and the ratio of their times.

A linear case takes about 10 times as long at ten times the size (n log n a
little more); before the fixes these took 121 s (a 5,000-item `in` list), 24 s
(a misspelled 4,000-character stage name), 42 s (an `extends` chain of 500
funnels) and 16 s (fmt on 4,000 small funnels), and a far-future event made an
`every 2d` timer fire for millennia (now the time range ends in 2200: the
worst a deal can do is fire from 1900 to 2200). Each size is timed in this
process, best of a few runs, in CPU seconds; the figures are what the step
costs after start-up.
"""
from __future__ import annotations

import time

REPEATS, QUICK_REPEATS = 3, 1
SCALE, QUICK_SCALE = 1.0, 0.2

BASE = """funnel sales {{
  value budget
  fields {{
    budget: money
    paid: money = 0
  }}
  events {{ payment {{ amount: money }} }}
  stage negotiation {{ start }}
  {extra_stage}
  stage won {{ won }}
  stage lost {{ lost }}
  negotiation -> won when {criterion}
  {extra_transition}
  any -> lost
  on event payment: set paid = paid + event.amount
  every 2d in negotiation while paid < budget: notify "manager" "Remind about the payment"
}}
"""


def list_membership(n: int) -> str:
    items = ", ".join(str(i) for i in range(n))
    return BASE.format(criterion=f"paid in [{items}]", extra_stage="", extra_transition="")


def misspelled_name(n: int) -> str:
    name = "s" + "a" * (n - 1)
    return BASE.format(criterion="paid >= budget", extra_stage=f"stage {name} {{ }}",
                       extra_transition=f"negotiation -> {name[:-1]}b")


def extends_chain(n: int) -> str:
    first = BASE.format(criterion="paid >= budget", extra_stage="", extra_transition="").replace(
        "funnel sales", "funnel f0")
    return first + "".join(f"\nfunnel f{i} extends f{i - 1} {{\n}}\n" for i in range(1, n))


def many_funnels(n: int) -> str:
    return "\n".join(f"funnel f{i} {{\n  stage new {{ start }}\n  stage won {{ won }}\n  stage lost {{ lost }}\n"
                     f"  new -> won\n  any -> lost\n}}\n" for i in range(n))


def _lint(text: str):
    from funnelspec.api import analyse

    analysis = analyse("case.funnel", text)
    assert analysis.spec is not None or analysis.diagnostics, "nothing came of the case"
    return analysis


def _fmt(text: str):
    from funnelspec.dsl.format import format_text

    result, problems = format_text(text, "case.funnel")
    assert result is not None, problems[:1]
    return result


def _timer_to_the_end(years: int):
    """One deal created `years` before the end of the range, its `every 2d` timer firing until then."""
    from funnelspec.api import analyse
    from funnelspec.engine.simulate import replay_events

    spec = analyse("case.funnel", BASE.format(criterion="paid >= budget", extra_stage="", extra_transition="")).spec
    start = f"{2200 - years}-12-31T00:00:00Z"
    events = [{"id": 1, "deal": "D1", "ts": start, "type": "created", "fields": {"budget": 100}}]
    return replay_events(spec, events, until="2200-12-31T00:00:00Z")


CASES = (     # name, what n counts, full n, the step, how a case of size n is made (None: the step takes n)
    ("lint: `paid in [0, …, n-1]`", "items", 5000, _lint, list_membership),
    ("lint: misspelled stage name", "characters", 4000, _lint, misspelled_name),
    ("lint: `extends` chain", "funnels", 500, _lint, extends_chain),
    ("fmt: many small funnels", "funnels", 4000, _fmt, many_funnels),
    ("replay: `every 2d` until 2200", "years", 300, _timer_to_the_end, None),
)


def _best(repeats: int, fn) -> float:
    """The least CPU time of `repeats` runs: this process's own, which other load on a shared machine
    changes less than the wall clock."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def run(quick: bool) -> None:
    repeats, scale = (QUICK_REPEATS, QUICK_SCALE) if quick else (REPEATS, SCALE)
    _lint(many_funnels(2))           # parse tables and imports loaded outside the timings
    print(f"   {'case':34} {'n':>6} {'time':>9} {'n/10':>6} {'time':>9} {'ratio':>6}   (CPU time; linear: about 10)")
    for name, unit, full, step, make in CASES:
        n = max(10, int(full * scale))
        small = n // 10
        inputs = [make(size) if make is not None else size for size in (n, small)]
        step(inputs[1])          # what the step imports or builds on first use stays outside the timings
        big_time = _best(repeats, lambda: step(inputs[0]))
        small_time = _best(repeats, lambda: step(inputs[1]))
        ratio = big_time / small_time if small_time else float("inf")
        print(f"   {name:34} {n:>6} {big_time * 1000:7.0f} ms {small:>6} {small_time * 1000:7.1f} ms "
              f"{ratio:6.1f}   ({unit})")
