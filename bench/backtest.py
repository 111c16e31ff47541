"""funnel backtest on the two real data sets: how often P10-P90 held, the error of the median, vs typed probabilities.

The figures docs/forecast.md shows: the bundled CRM sample (Maven Analytics,
fictitious company, examples/) at a 90-day horizon, and the BPI Challenge
2012 loan applications (4TU, CC BY 4.0, examples/data/bpic2012/) at 14 and
30 days (the log spans five and a half months; most applications are decided
within weeks). Six cut dates each, spread over the history after its first
third and a horizon before its end; 2,000 runs a cut, seed 0. Each data set
is backtested as `funnel backtest` does by default (the runs' chance, the
fitted behaviour's uncertainty and drift), then with the runs' chance alone and
with the behaviour's uncertainty added, to show what each part of the interval
contributes.

    python -m bench backtest [--quick]
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRM = (ROOT / "examples" / "crm_opportunities.funnel", ROOT / "examples" / "crm_opportunities.events.jsonl")
DAY = 86400.0


def _one(name: str, spec, events, horizon_days: int, runs: int, cuts: int) -> None:
    from funnelspec import api
    from funnelspec.engine.forecast.backtest import default_cuts
    from funnelspec.engine.forecast.render import render_backtest_text

    started = time.perf_counter()
    first, last = api.history_span(spec, events)
    dates = default_cuts(first, last, horizon_days * DAY, cuts)
    result = api.backtest(spec, events, cuts=dates, horizon=horizon_days * DAY, runs=runs, seed=0)
    print(f"   {name}, horizon {horizon_days}d ({time.perf_counter() - started:.1f} s)")
    for line in render_backtest_text(result.to_json()).splitlines():
        print(f"   {line}")
    for label, bootstrap in (("the runs' chance alone", False), ("chance and the behaviour's uncertainty", True)):
        started = time.perf_counter()
        part = api.backtest(spec, events, cuts=dates, horizon=horizon_days * DAY, runs=runs, seed=0,
                            bootstrap=bootstrap, drift=False)
        held = sum(c.held("count") for c in part.cuts)
        width = sum(c.forecast["count"]["p90"] - c.forecast["count"]["p10"] for c in part.cuts) / len(part.cuts)
        print(f"   {label}, no drift: P10-P90 held {held} of {len(part.cuts)} cuts (deals), mean width "
              f"{width:,.0f} deals, error of the median {part.median_error('count'):.0%} "
              f"({time.perf_counter() - started:.1f} s)")
    print()


def run(quick: bool = False) -> None:
    from bench import bpic2012

    runs, cuts = (200, 2) if quick else (2_000, 6)
    _one("CRM sample (Maven Analytics)", str(CRM[0]), str(CRM[1]), 90, runs, cuts)
    with tempfile.TemporaryDirectory() as folder:
        spec = bpic2012.write_spec(Path(folder))
        stream = bpic2012.events()
        for horizon in (14, 30):
            _one("BPI Challenge 2012 loan applications", str(spec), stream, horizon, runs, cuts)
