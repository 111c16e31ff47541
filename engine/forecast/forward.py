"""The open pipeline at a cut forecast with the uncertainty asked for: the runs' chance, the behaviour's, drift.

`funnel forecast` and every cut of `funnel backtest` go through here, so the
backtest checks the forecast a user gets.
"""
from __future__ import annotations

from .drift import Drift, estimate_drift
from .fit import FittedModel, fit_history
from .pipeline import build_pipeline
from .policy import PolicyProbe
from .runs import Forecast, forecast_runs


def forecast_open(compiled, model: FittedModel, outcomes, cut: float, horizon: float, *, spec: str, runs: int,
                  seed: int, workers: int = 1, bootstrap: bool = True, drift: bool = True,
                  notes: tuple[str, ...] = ()) -> Forecast:
    """Forecast the deals open at `cut` in `outcomes` (replayed up to it) over `horizon` seconds."""
    probe = PolicyProbe(compiled)
    pipe = build_pipeline(compiled, model, outcomes, cut, horizon, probe)
    estimate = None
    if drift:
        stage_ids = {f.id: tuple(s.id for s in f.stages) for f in compiled.funnels}

        def model_of(then, at):
            return fit_history(spec, stage_ids, then, at, by=model.by, min_deals=model.min_deals)
        estimate = estimate_drift(compiled, model_of, outcomes, cut, horizon, seed=seed, probe=probe)
    extra = (estimate.note,) if isinstance(estimate, Drift) and estimate.note else ()
    return forecast_runs(pipe, spec=spec, cut=cut, horizon=horizon, runs=runs, seed=seed, workers=workers,
                         notes=tuple(notes) + extra, bootstrap=bootstrap, drift=estimate)
