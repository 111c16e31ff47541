"""Drift: how far the same forecast missed at earlier cut dates of the history, as a factor on its figures.

The fitted behaviour is the past's; a pipeline whose behaviour changes (a sales
push, a season, deals left to go stale) is forecast as it was. What the history
already shows of that: at a few earlier cut dates whose horizon ended by the
forecast's cut, the history as it stood then is fitted and forecast exactly as
the forecast itself is (without drift), and compared with what happened to the
same deals. The log of actual / forecast at each such point is one miss. The
latest miss is the shift (a forecast that ran high lately keeps running high),
and how much misses a horizon apart differed, beyond what the runs' own chance
explains, is the spread. Each block of runs draws one factor
exp(shift + spread * z).

Only what was known at the forecast's cut is read: the earlier points are cut
from the outcomes replayed up to it, and their horizons end by it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..outcome import DealOutcome, iso
from .notes import NO_WINS, SHORT_HISTORY

POINTS = 6                       # earlier cut dates at most
RUNS = 100                       # runs of each earlier forecast: only their mean (to 0.2 % at 1,000 wins) and
                                 # their chance spread (a small term beside the misses) are used
STEP = 1 / 3                     # earlier cuts are a third of a horizon apart (their horizons overlap)
WARM_UP = 1.0                    # the first earlier cut is a horizon after the first deal at least: a fit on less
                                 # history is warm-up (every stay longer than the history is censored)


@dataclass(frozen=True)
class Miss:
    at: float
    open_deals: int
    forecast: float              # mean won deals over the runs
    actual: int
    chance: float                # variance of log(won) the runs' own chance gives


@dataclass(frozen=True)
class Drift:
    """The factor each block of runs multiplies its won deals and value by: exp(shift + spread * z)."""

    misses: tuple[Miss, ...]
    shift: float
    spread: float
    note: str | None = None

    @property
    def used(self) -> int:
        """The earlier cuts the figures come from: those with a forecast and wins (a fit in the history's warm-up
        can forecast none)."""
        return sum(1 for m in self.misses if m.forecast > 0 and m.actual > 0)

    @staticmethod
    def none(note: str | None = None) -> "Drift":
        return Drift((), 0.0, 0.0, note)

    def to_json(self) -> dict:
        return {"shift": round(self.shift, 6), "factor": round(math.exp(self.shift), 6),
                "spread": round(self.spread, 6), "earlier_cuts_used": self.used,
                "earlier_cuts": [{"at": iso(m.at), "open_deals": m.open_deals, "forecast": round(m.forecast, 2),
                                  "actual": m.actual} for m in self.misses]}


def from_misses(misses: list[Miss], horizon: float, note: str | None = None) -> Drift:
    """Shift and spread from the earlier misses, latest first.

    The miss is taken to wander (a random walk: what changed the pipeline lately tends to last): the next one is
    the latest, give or take how much misses a horizon apart differed. With misses x = d + e (d the drift, e the
    runs' chance, variance v): E(x_i - x_j)^2 = s2 * gap / horizon + 2 v, so the drift's variance over a horizon
    s2 is estimated from the pairs a horizon or more apart (or the farthest pairs there are), and the next
    forecast's factor has spread^2 = s2 + v (the latest miss's own chance; the runs carry the target's). With one
    miss, its size is the drift's: it might as well go as far again."""
    usable = [m for m in misses if m.forecast > 0 and m.actual > 0]
    if not usable:
        return Drift(tuple(misses), 0.0, 0.0, note or NO_WINS)
    logs = [math.log(m.actual / m.forecast) for m in usable]
    chance = float(np.mean([m.chance for m in usable]))
    shift = logs[0]
    pairs = [(logs[i] - logs[j], usable[i].at - usable[j].at) for i in range(len(usable))
             for j in range(i + 1, len(usable))]
    if pairs:
        far = [p for p in pairs if p[1] >= horizon * 0.999] or \
            [p for p in pairs if p[1] >= max(gap for _, gap in pairs) * 0.999]
        drift = float(np.mean([(diff * diff - 2 * chance) * horizon / gap for diff, gap in far]))
    else:
        drift = shift * shift - chance
    return Drift(tuple(misses), shift, math.sqrt(max(0.0, drift) + chance), note)


def as_of(outcome: DealOutcome, at: float, kinds: dict[tuple[str, str], str]) -> DealOutcome | None:
    """The deal as the history stood at `at` (None: not created yet); its fields are those of the end."""
    if outcome.created > at:
        return None
    if outcome.path and outcome.path[-1].entered <= at and (outcome.path[-1].left is None
                                                             or outcome.path[-1].left <= at):
        return outcome                                   # all of it happened by then: as it is
    path = tuple(v for v in outcome.path if v.entered <= at)
    if not path:
        return None
    last = path[-1]
    if last.left is not None and last.left > at:
        path = path[:-1] + (replace(last, left=None),)
    kind = kinds.get((outcome.funnel, last.stage), "open")
    return replace(outcome, stage=last.stage, status=kind, path=path,
                   closed=last.entered if kind != "open" else None,
                   lost_reason=outcome.lost_reason if kind == "lost" else None)


def earlier_cuts(first: float, cut: float, horizon: float) -> list[float]:
    """Up to POINTS cut dates whose horizon ends by `cut`, a third of a horizon apart, latest first, each with a
    horizon of history before it."""
    out = []
    at = cut - horizon
    while len(out) < POINTS and at >= first + WARM_UP * horizon:
        out.append(at)
        at -= STEP * horizon
    return out


def estimate_drift(compiled, model_of, outcomes: list[DealOutcome], cut: float, horizon: float, *,
                   seed: int, probe=None) -> Drift:
    """Forecast at earlier cuts from the outcomes known at `cut`; `model_of(outcomes, at)` fits as the forecast's own.

    The earlier forecasts are plain (fitted behaviour, no drift): the misses are those of the forecast itself."""
    from .pipeline import build_pipeline
    from .runs import forecast_runs

    kinds = {(f.id, s.id): s.kind for f in compiled.funnels for s in f.stages}
    first = min((o.created for o in outcomes), default=cut)
    final = {o.deal: o for o in outcomes}
    misses = []
    for index, at in enumerate(earlier_cuts(first, cut, horizon)):
        then = [d for d in (as_of(o, at, kinds) for o in outcomes) if d is not None]
        pipe = build_pipeline(compiled, model_of(then, at), then, at, horizon, probe)
        if not pipe.deals:
            continue
        result = forecast_runs(pipe, spec="", cut=at, horizon=horizon, runs=RUNS, seed=seed * 1000 + index,
                               bootstrap=False)
        actual = sum(1 for deal in pipe.deals if final[deal].status == "won" and final[deal].closed is not None
                     and final[deal].closed <= at + horizon)
        won = result.samples
        mean = float(won.mean())
        chance = float(np.log(np.maximum(won, 0.5)).var()) if won.size > 1 else 0.0
        misses.append(Miss(at, len(pipe.deals), mean, actual, chance))
    if not misses:
        return Drift.none(SHORT_HISTORY)
    return from_misses(misses, horizon)
