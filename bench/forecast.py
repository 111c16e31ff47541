"""funnel forecast: 10,000 runs over 2,000 open deals, 90 days ahead (target under 10 s).

The pipeline is the known-behaviour history of bench/forecast_history.py,
sized so that about 2,000 deals are open at its end, replayed through
tests/cases/forecast/known.funnel; then the bundled CRM sample (2,089 open
deals). Each line times the steps of `funnel fit` and `funnel forecast`: the
fit (replay included), the pipeline (replay and the spec's policy asked of the
replay), the drift (forecasts at six earlier cut dates of the history) and the
runs (each block of runs on its own resampled behaviour and drift factor);
then `forecast s` times the whole of `funnel forecast` as a user runs it (the
history read and replayed, policy, drift, runs: api.forecast), in wall-clock
and CPU seconds. The target is for the runs and, since drift came, for the
whole command too.

    python -m bench forecast [--quick]
"""
from __future__ import annotations

import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "tests" / "cases" / "forecast" / "known.funnel"
CRM = (ROOT / "examples" / "crm_opportunities.funnel", ROOT / "examples" / "crm_opportunities.events.jsonl")
TARGET = 10.0


def _time(spec, events, runs: int, horizon: float, workers: int) -> tuple:
    from funnelspec import api
    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.forecast.drift import estimate_drift
    from funnelspec.engine.forecast.fit import fit_history
    from funnelspec.engine.forecast.pipeline import build_pipeline
    from funnelspec.engine.forecast.policy import PolicyProbe
    from funnelspec.engine.forecast.runs import forecast_runs

    checked = api._checked(spec)
    started = time.perf_counter()
    model = api.fit(checked, events)
    fitted = time.perf_counter()
    replay = api.simulate(checked, events)
    compiled = compile_spec(checked)
    probe = PolicyProbe(compiled)
    pipe = build_pipeline(compiled, model, replay.outcomes, replay.until, horizon, probe)
    built = time.perf_counter()
    stage_ids = {f.id: tuple(s.id for s in f.stages) for f in compiled.funnels}
    drift = estimate_drift(compiled, lambda then, at: fit_history(str(spec), stage_ids, then, at), replay.outcomes,
                           replay.until, horizon, seed=1, probe=probe)
    drifted, cpu = time.perf_counter(), time.process_time()
    result = forecast_runs(pipe, spec=str(spec), cut=replay.until, horizon=horizon, runs=runs, seed=1,
                           workers=workers, drift=drift)
    done, runs_cpu = time.perf_counter(), time.process_time() - cpu
    cpu = time.process_time()
    api.forecast(checked, model, events, horizon=horizon, runs=runs, seed=1, workers=workers)
    command, command_cpu = time.perf_counter() - done, time.process_time() - cpu
    return (len(pipe.deals), fitted - started, built - fitted, drifted - built, done - drifted, runs_cpu, result,
            command, command_cpu)


def run(quick: bool = False) -> None:
    from bench.forecast_history import DAY, START, draw_paths, history

    runs = 1_000 if quick else 10_000
    deals = 3_000 if quick else 30_000
    days = 365
    events = history(draw_paths(deals, days, seed=42), START + days * DAY)
    print(f"   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall-clock seconds grow with it; "
          "`runs cpu` is this process's CPU time for the runs")
    print(f"   {'workload':<34}{'open':>7}{'runs':>8}{'workers':>8}{'fit s':>8}{'policy s':>10}{'drift s':>9}"
          f"{'runs s':>9}{'runs cpu':>10}{'total':>8}{'forecast s':>12}{'cpu':>7}")
    for name, spec, stream, workers in (("known behaviour (generated)", SPEC, events, 1),
                                        ("known behaviour (generated)", SPEC, events, 2),
                                        ("CRM sample (examples/)", CRM[0], str(CRM[1]), 1)):
        open_deals, fit_s, policy_s, drift_s, runs_s, cpu_s, result, command_s, command_cpu = _time(
            str(spec), stream, runs, 90 * DAY, workers)
        total = fit_s + policy_s + drift_s + runs_s
        print(f"   {name:<34}{open_deals:>7,}{runs:>8,}{workers:>8}{fit_s:>8.2f}{policy_s:>10.2f}{drift_s:>9.2f}"
              f"{runs_s:>9.2f}{cpu_s:>10.2f}{total:>8.2f}{command_s:>12.2f}{command_cpu:>7.2f}"
              f"   won P10/P50/P90 {result.count.p10:,.0f}/{result.count.p50:,.0f}/{result.count.p90:,.0f}")
        if not quick:
            print(f"   {'':<34}runs alone {runs_s:.2f} s = {runs_s / TARGET:.0%} of the {TARGET:g} s target "
                  f"({cpu_s / TARGET:.0%} in CPU time of this process); all steps {total / TARGET:.0%}; "
                  f"funnel forecast {command_s / TARGET:.0%} ({command_cpu / TARGET:.0%} in CPU time)")
