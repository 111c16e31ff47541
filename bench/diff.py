"""What `funnel diff --events` costs against one replay of the same history, and against two separate replays.

Generates a sample history for examples/security_b2b.funnel, and a NEW spec
with one criterion changed. Times, in this process, best of three:
one replay (`api.simulate`, every record kept), the same with its metrics
(what `funnel simulate --report` computes), two separate replays (the
history read and decoded twice), and the whole diff plan (`plan_diff`: the
history read once and fed to both specs, the deals compared, both metrics),
then the same plan on two worker processes (deals split by id).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "security_b2b.funnel"


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _changed_text(text: str) -> str:
    """The spec with its first numeric comparison in a criterion moved: a change that reaches outcomes."""
    for old, new in ((">= ", ">= 2 * "), ("> ", "> 2 * ")):
        at = text.find(old, text.find(" -> "))
        if at > 0:
            return text[:at] + new + text[at + len(old):]
    raise SystemExit(f"{SPEC} has no comparison to change")


def _with_metrics(result, spec):
    from funnelspec.engine.metrics import compute_metrics
    from funnelspec.engine.shape import FunnelShape

    return compute_metrics(result.outcomes, [FunnelShape.from_funnel(f) for f in spec.funnels], result.until)


def run(quick: bool) -> None:
    from funnelspec.api import load, simulate
    from funnelspec.engine.diff_plan import plan_diff
    from funnelspec.engine.sample import write_sample

    old, diagnostics = load(str(SPEC))
    if old is None:
        raise SystemExit(f"{SPEC} does not load: {diagnostics[:1]}")
    new, diagnostics = load("new.funnel", _changed_text(SPEC.read_text(encoding="utf-8")))
    if new is None:
        raise SystemExit(f"the changed spec does not load: {diagnostics[:1]}")
    deals = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as folder:
        events = Path(folder) / "events.jsonl"
        with open(events, "w", encoding="utf-8") as out:
            lines = write_sample(out, old, deals=deals, seed=1, steps=8, days=365)
        one = _best(lambda: simulate(old, str(events)))
        reported = _best(lambda: _with_metrics(simulate(old, str(events)), old))
        two = _best(lambda: (simulate(old, str(events)), simulate(new, str(events))))
        plan = plan_diff(old, new, str(events))
        diff = _best(lambda: plan_diff(old, new, str(events)))
        on_two = _best(lambda: plan_diff(old, new, str(events), workers=2))
    counts = plan.replayed.counts
    print(f"history: {lines:,} lines, {deals:,} deals; the change moves {counts['outcome_changes']:,} outcomes")
    print(f"{'one replay':<34}{one:>8.2f} s   1.00x")
    print(f"{'one replay and its metrics':<34}{reported:>8.2f} s   {reported / one:.2f}x")
    print(f"{'two separate replays':<34}{two:>8.2f} s   {two / one:.2f}x")
    print(f"{'diff (read once, compare, metrics)':<34}{diff:>8.2f} s   {diff / one:.2f}x")
    print(f"{'  … on two workers (--workers 2)':<34}{on_two:>8.2f} s   {on_two / one:.2f}x")
