"""The forecast checked against what happened: fit on what was known at a cut date, forecast, compare.

At each cut the history is replayed up to the cut (later events not read), the
behaviour fitted on that alone, the deals open at the cut run forward over the
horizon, and the forecast compared with the same deals in the whole history:
how many were won by cut + horizon, and their value (the value they had at the
cut, the figure the forecast summed). Over the cuts: how often the P10–P90
interval held (calibration; 80 % if the interval is honest) and the error of
the median, beside the typed probabilities' figure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile import compile_spec
from .fit import fit_history
from .forward import forecast_open
from ..outcome import iso
from ..simulate import replay_events


@dataclass(frozen=True)
class Cut:
    at: float
    open_deals: int
    forecast: dict              # the forecast's won count and value (P10/P50/P90/mean)
    typed: dict                 # the typed probabilities' count and value
    actual_count: int
    actual_value: float
    drift: dict | None = None   # the drift the cut's forecast estimated from before it

    def held(self, what: str) -> bool:
        figure = self.forecast[what]
        actual = self.actual_count if what == "count" else self.actual_value
        return figure["p10"] <= actual <= figure["p90"]

    def to_json(self) -> dict:
        return {"at": iso(self.at), "open_deals": self.open_deals, "forecast": self.forecast,
                "typed_probabilities": self.typed,
                "actual": {"count": self.actual_count, "value": round(self.actual_value, 2)},
                "held": {"count": self.held("count"), "value": self.held("value")}, "drift": self.drift}


@dataclass(frozen=True)
class Backtest:
    spec: str
    horizon: float
    runs: int
    seed: int
    by: str | None
    cuts: tuple[Cut, ...]
    bootstrap: bool = True
    drift: bool = True

    def calibration(self, what: str) -> float | None:
        return sum(c.held(what) for c in self.cuts) / len(self.cuts) if self.cuts else None

    def median_error(self, what: str, source: str = "forecast") -> float | None:
        """Mean absolute error of the median (or the typed figure) relative to what happened, over the cuts."""
        errors = []
        for cut in self.cuts:
            actual = cut.actual_count if what == "count" else cut.actual_value
            guess = cut.forecast[what]["p50"] if source == "forecast" else cut.typed[what]
            if actual:
                errors.append(abs(guess - actual) / actual)
        return float(np.mean(errors)) if errors else None

    def to_json(self) -> dict:
        def pct(x):
            return None if x is None else round(x, 4)
        return {"spec": self.spec, "horizon_days": round(self.horizon / 86400, 4), "runs": self.runs,
                "seed": self.seed, "by": self.by,
                "uncertainty": {"chance": True, "behaviour": self.bootstrap, "drift": self.drift},
                "cuts": [c.to_json() for c in self.cuts],
                "calibration": {"count": pct(self.calibration("count")), "value": pct(self.calibration("value"))},
                "median_error": {"count": pct(self.median_error("count")), "value": pct(self.median_error("value"))},
                "typed_error": {"count": pct(self.median_error("count", "typed")),
                                "value": pct(self.median_error("value", "typed"))}}


def default_cuts(first: float, last: float, horizon: float, count: int) -> list[float]:
    """`count` cut dates, whole days, spread over the history after its first third and a horizon before its end."""
    start, stop = first + (last - first) / 3, last - horizon
    if count < 1 or stop <= start:
        return []
    step = (stop - start) / max(count - 1, 1)
    return sorted({float(int((start + i * step) // 86400) * 86400) for i in range(count)})


def run_backtest(spec, events: str, cuts: list[float], horizon: float, *, runs: int, seed: int,
                 by: str | None = None, min_deals: int = 30, csv_map=None, workers: int = 1, bootstrap: bool = True,
                 drift: bool = True) -> Backtest:
    """Fit, forecast and compare at every cut; `events` is read once in full and once up to each cut."""
    compiled = compile_spec(spec)
    stage_ids = {f.id: tuple(s.id for s in f.stages) for f in spec.funnels}
    final = {o.deal: o for o in replay_events(spec, events, csv_map=csv_map).outcomes}
    results = []
    for index, at in enumerate(sorted(cuts)):
        known = replay_events(spec, events, until=at, csv_map=csv_map)
        model = fit_history(spec.path, stage_ids, known.outcomes, at, by=by, min_deals=min_deals)
        result = forecast_open(compiled, model, known.outcomes, at, horizon, spec=spec.path, runs=runs,
                               seed=seed + index, workers=workers, bootstrap=bootstrap, drift=drift)
        count, value = 0, 0.0
        for deal, worth in zip(result.deals, result.deal_values):
            outcome = final.get(deal)
            if outcome is not None and outcome.status == "won" and outcome.closed is not None \
                    and outcome.closed <= at + horizon:
                count += 1
                value += float(worth)
        results.append(Cut(at, result.open_deals, {"count": result.count.to_json(), "value": result.value.to_json()},
                           {"count": round(result.typed_count, 2), "value": round(result.typed_value, 2)},
                           count, value, None if result.drift is None else result.drift.to_json()))
    return Backtest(spec.path, horizon, runs, seed, by, tuple(results), bootstrap, drift)
