"""Runs of the forecast in blocks (on workers when asked) and their figures: P10/P50/P90 by stage, group and month."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

import numpy as np

from .drift import Drift
from .notes import UNFITTED
from .pipeline import BLOCK_LANES, Pipeline, Won, fitted_tables, month_starts, resampled_tables, run_block
from ..outcome import iso

QUANTILES = (10, 50, 90)
MODEL_DRAWS = 50                 # blocks of runs at least (each draws its own behaviour and drift), runs permitting
_PIPE: dict = {}                 # the pipeline a forked worker reads (set before the pool starts)


@dataclass(frozen=True)
class Spread:
    """A figure over the runs: P10, P50, P90 and the mean."""

    p10: float
    p50: float
    p90: float
    mean: float

    @staticmethod
    def of(values: np.ndarray) -> "Spread":
        if values.size == 0:
            return Spread(0.0, 0.0, 0.0, 0.0)
        p10, p50, p90 = np.percentile(values, QUANTILES)
        return Spread(float(p10), float(p50), float(p90), float(values.mean()))

    def to_json(self, digits: int = 2) -> dict:
        return {"p10": round(self.p10, digits), "p50": round(self.p50, digits), "p90": round(self.p90, digits),
                "mean": round(self.mean, digits)}


@dataclass(frozen=True)
class Forecast:
    spec: str
    cut: float
    horizon: float
    runs: int
    seed: int
    open_deals: int
    open_value: float
    count: Spread
    value: Spread
    typed_count: float
    typed_value: float
    untyped_deals: int
    by_stage: tuple[dict, ...]
    by_group: tuple[dict, ...]
    by_month: tuple[dict, ...]
    notes: tuple[str, ...]
    samples: np.ndarray                   # won count per run, for backtests
    model_draws: int = 0                  # resampled behaviours (0: the fitted one throughout)
    drift: Drift | None = None
    deals: tuple[str, ...] = ()           # the open deals run, and their values (for backtests)
    deal_values: tuple[float, ...] = ()

    def to_json(self) -> dict:
        return {"spec": self.spec, "history_end": iso(self.cut), "horizon_days": round(self.horizon / 86400, 4),
                "runs": self.runs, "seed": self.seed, "open_deals": self.open_deals,
                "open_value": round(self.open_value, 2),
                "won": {"count": self.count.to_json(), "value": self.value.to_json()},
                "typed_probabilities": {"count": round(self.typed_count, 2), "value": round(self.typed_value, 2),
                                        "deals_without_probability": self.untyped_deals},
                "uncertainty": {"chance": True, "behaviour_draws": self.model_draws,
                                "drift": None if self.drift is None else self.drift.to_json()},
                "by_stage": list(self.by_stage), "by_group": list(self.by_group), "by_month": list(self.by_month),
                "notes": list(self.notes)}


def forecast_runs(pipe: Pipeline, *, spec: str, cut: float, horizon: float, runs: int, seed: int,
                  workers: int = 1, notes: tuple[str, ...] = (), bootstrap: bool = True,
                  drift: Drift | None = None) -> Forecast:
    """Draw `runs` runs of the pipeline over `horizon` seconds from `cut`; the same seed, the same figures.

    bootstrap: each block of runs draws its own behaviour around the fitted one (pipeline.resampled_tables);
    drift: each block multiplies its wins by its own draw of the drift factor (engine/forecast/drift.py)."""
    n = len(pipe.deals)
    per_block = max(1, BLOCK_LANES // max(n, 1))
    if bootstrap or drift is not None:                 # enough blocks for the behaviours and factors to vary
        per_block = max(1, min(per_block, -(-runs // MODEL_DRAWS)))
    sizes = [min(per_block, runs - start) for start in range(0, runs, per_block)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    edges = np.array(month_starts(cut, horizon)) - cut
    jobs = [(size, s, bootstrap, drift) for size, s in zip(sizes, seeds)]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        _PIPE.update(pipe=pipe, horizon=horizon, edges=edges)
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
                parts = pool.map(_job, jobs, chunksize=max(1, len(jobs) // (4 * workers)))
        finally:
            _PIPE.clear()
    else:
        parts = [_block(pipe, horizon, edges, job) for job in jobs]
    totals = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]} if parts else None
    result = _figures(pipe, totals, spec, cut, horizon, runs, seed, edges, notes)
    return replace(result, model_draws=len(jobs) if bootstrap else 0, drift=drift, deals=pipe.deals,
                   deal_values=tuple(float(v) for v in pipe.value))


def _job(job):
    return _block(_PIPE["pipe"], _PIPE["horizon"], _PIPE["edges"], job)


def _block(pipe: Pipeline, horizon: float, edges: np.ndarray, job) -> dict:
    size, seed, bootstrap, drift = job
    rng = np.random.default_rng(seed)
    tables = resampled_tables(pipe, rng) if bootstrap else fitted_tables(pipe)
    factor = math.exp(drift.shift + drift.spread * rng.standard_normal()) if drift is not None else 1.0
    return _tally(pipe, run_block(pipe, size, horizon, rng, edges, tables), size, len(edges), *_group_index(pipe),
                  factor)


def _tally(pipe: Pipeline, won: Won, runs: int, months: int, group_index: np.ndarray, groups: int,
           factor: float = 1.0) -> dict:
    """Per run: won count and value in all, by the deal's stage at the cut, by group, by month.

    Few lanes are won in a run: the sums are taken over those alone, in lane order."""
    rows, cols = won.run, won.deal
    value = pipe.value[cols]

    def by(category: np.ndarray, width: int):
        keep = category >= 0
        key = rows[keep] * width + category[keep]
        size = runs * width
        return (np.bincount(key, minlength=size).reshape(runs, width),
                np.bincount(key, weights=value[keep], minlength=size).reshape(runs, width))

    out = {"count": np.bincount(rows, minlength=runs), "value": np.bincount(rows, weights=value, minlength=runs)}
    for name, category, width in (("stage", pipe.current[cols], len(pipe.nodes)),
                                  ("group", group_index[cols], groups),
                                  ("month", won.month, months)):
        out[name + "_count"], out[name + "_value"] = by(category, width)
    if factor != 1.0:
        out = {key: figure * factor for key, figure in out.items()}
    return out


def _group_index(pipe: Pipeline) -> tuple[np.ndarray, int]:
    """Per deal: its group's place among the groups (sorted), -1 for none; and how many groups."""
    groups = {g: k for k, g in enumerate(sorted({g for g in pipe.group if g is not None}))}
    return np.array([groups.get(g, -1) if g is not None else -1 for g in pipe.group], dtype=np.int64), len(groups)


def _figures(pipe, totals, spec, cut, horizon, runs, seed, edges, notes) -> Forecast:
    empty = np.zeros(0)
    count = totals["count"] if totals else empty
    typed = ~np.isnan(pipe.probability)
    by_stage = []
    for j, (funnel, stage) in enumerate(pipe.nodes):
        here = pipe.current == j
        if not here.any():
            continue
        p = pipe.probability[here][0]
        by_stage.append({"funnel": funnel, "stage": stage, "open_deals": int(here.sum()),
                         "open_value": round(float(pipe.value[here].sum()), 2),
                         "won_count": Spread.of(totals["stage_count"][:, j]).to_json(),
                         "won_value": Spread.of(totals["stage_value"][:, j]).to_json(),
                         "typed_probability": None if np.isnan(p) else round(float(p), 6)})
    groups = sorted({g for g in pipe.group if g is not None})
    by_group = [{"group": g, "open_deals": sum(1 for x in pipe.group if x == g),
                 "won_count": Spread.of(totals["group_count"][:, k]).to_json(),
                 "won_value": Spread.of(totals["group_value"][:, k]).to_json()} for k, g in enumerate(groups)]
    by_month = []
    for m, start in enumerate(edges):
        label = dt.datetime.fromtimestamp(cut + start, dt.timezone.utc).strftime("%Y-%m")
        by_month.append({"month": label, "won_count": Spread.of(totals["month_count"][:, m]).to_json(),
                         "won_value": Spread.of(totals["month_value"][:, m]).to_json()})
    skipped = (UNFITTED.format(count=len(pipe.skipped)),) \
        if pipe.skipped else ()
    return Forecast(spec, cut, horizon, runs, seed, len(pipe.deals), float(pipe.value.sum()),
                    Spread.of(count), Spread.of(totals["value"] if totals else empty),
                    float(pipe.probability[typed].sum()), float((pipe.probability[typed] * pipe.value[typed]).sum()),
                    int((~typed).sum()), tuple(by_stage), tuple(by_group), tuple(by_month),
                    tuple(notes) + skipped, count)
