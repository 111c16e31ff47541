"""The fitted behaviour of a history: per stage, where deals went next, with what share, and how long they stayed.

The history is replayed through the spec first (engine/simulate.py), so a stay
is a visit as the spec sees it. A stay that ended with a move by a person or a
transition's criterion is an observed exit; a stay still running at the end of
the history, or cut short by one of the spec's own rules (a timer's `move to`),
is censored: the person's move had not happened yet. The stay distribution is
the Kaplan–Meier estimate over both, so open deals count without biasing the
stays short. Shares count the observed exits only.

By group (`by`, a deal field): a group with fewer deals than `min_deals` in a
stage uses the whole history's figures for that stage, and a note says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..outcome import DealOutcome, iso
from .notes import FALLBACK

FORMAT = "funnelspec-fit/1"
MIN_DEALS = 30
BANDS, BAND_EXITS = 4, 50     # shares by stay: up to 4 bands of the exit times, each with 50 exits or more
BEHAVIOUR_EXIT = ("manual", "auto")       # how the next visit began, when the stay ended by behaviour


@dataclass(frozen=True)
class StageFit:
    """One stage's behaviour: exits by next stage, and the Kaplan–Meier curve of the stay (seconds)."""

    visits: int
    exits: int
    censored: int
    next: tuple[tuple[str, int], ...]            # (next stage, exits there), by stage order
    times: tuple[float, ...]                     # distinct exit times, ascending
    survival: tuple[float, ...]                  # S(t) just after each of `times`
    at_risk: tuple[int, ...]
    bands: tuple[tuple[float | None, tuple[tuple[str, int], ...]], ...] = ()   # (longest stay in it, exits by next)

    def shares(self) -> dict[str, float]:
        return {stage: count / self.exits for stage, count in self.next} if self.exits else {}

    def to_json(self) -> dict:
        return {"visits": self.visits, "exits": self.exits, "censored": self.censored,
                "next": [{"stage": s, "exits": n, "share": round(n / self.exits, 6)} for s, n in self.next],
                "stay": {"times": list(self.times), "survival": [round(x, 9) for x in self.survival],
                         "at_risk": list(self.at_risk)},
                "bands": [{"until": until, "next": [{"stage": st, "exits": n} for st, n in row]}
                          for until, row in self.bands]}

    @staticmethod
    def from_json(data: dict) -> "StageFit":
        stay = data["stay"]
        return StageFit(int(data["visits"]), int(data["exits"]), int(data["censored"]),
                        tuple((n["stage"], int(n["exits"])) for n in data["next"]),
                        tuple(float(t) for t in stay["times"]), tuple(float(s) for s in stay["survival"]),
                        tuple(int(n) for n in stay["at_risk"]),
                        tuple((None if b["until"] is None else float(b["until"]),
                               tuple((n["stage"], int(n["exits"])) for n in b["next"])) for b in data["bands"]))


@dataclass(frozen=True)
class Behaviour:
    """The fitted stages of one funnel, for all deals or one group; `fallback` lists stages taken from the whole."""

    deals: int
    stages: dict[str, StageFit]
    fallback: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"deals": self.deals, "fallback": list(self.fallback),
                "stages": {sid: fit.to_json() for sid, fit in self.stages.items()}}

    @staticmethod
    def from_json(data: dict) -> "Behaviour":
        return Behaviour(int(data["deals"]), {k: StageFit.from_json(v) for k, v in data["stages"].items()},
                         tuple(data.get("fallback", ())))


@dataclass(frozen=True)
class FunnelFit:
    funnel: str
    whole: Behaviour
    groups: dict[str, Behaviour]

    def behaviour(self, group: str | None) -> Behaviour:
        return self.groups.get(group, self.whole) if group is not None else self.whole


@dataclass(frozen=True)
class FittedModel:
    """What `funnel fit` writes: the behaviour of each funnel, the history's end, the grouping field."""

    spec: str
    end: float
    by: str | None
    min_deals: int
    funnels: dict[str, FunnelFit]
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        return {"format": FORMAT, "spec": self.spec, "history_end": iso(self.end), "history_end_epoch": self.end,
                "by": self.by, "min_deals": self.min_deals, "notes": list(self.notes),
                "funnels": {fid: {"whole": f.whole.to_json(),
                                  "groups": {g: b.to_json() for g, b in f.groups.items()}}
                            for fid, f in self.funnels.items()}}

    @staticmethod
    def from_json(data: dict) -> "FittedModel":
        """Raises ValueError (KeyError, TypeError as ValueError) for a file that is not a fitted model."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f'not a fitted model: "format" is not "{FORMAT}" (make one with `funnel fit`)')
        try:
            funnels = {fid: FunnelFit(fid, Behaviour.from_json(f["whole"]),
                                      {g: Behaviour.from_json(b) for g, b in f["groups"].items()})
                       for fid, f in data["funnels"].items()}
            return FittedModel(str(data["spec"]), float(data["history_end_epoch"]), data.get("by"),
                               int(data["min_deals"]), funnels, tuple(data.get("notes", ())))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"not a fitted model: {type(err).__name__} {err}") from None


def group_of(outcome: DealOutcome, by: str | None) -> str | None:
    if by is None:
        return None
    value = outcome.fields.get(by)
    return "" if value is None else str(value)


def fit_history(spec_path: str, funnels: dict[str, tuple[str, ...]], outcomes, end: float, *,
                by: str | None = None, min_deals: int = MIN_DEALS) -> FittedModel:
    """Fit each funnel's behaviour from replayed outcomes; `funnels` maps a funnel id to its stage ids in order."""
    notes: list[str] = []
    fits = {}
    for fid, stage_ids in funnels.items():
        deals = [o for o in outcomes if o.funnel == fid]
        whole = _behaviour(deals, stage_ids, end)
        groups: dict[str, Behaviour] = {}
        if by is not None:
            members: dict[str, list[DealOutcome]] = {}
            for o in deals:
                members.setdefault(group_of(o, by), []).append(o)
            for value in sorted(members):
                groups[value] = _with_fallback(_behaviour(members[value], stage_ids, end), whole, min_deals)
                if groups[value].fallback:
                    notes.append(FALLBACK.format(funnel=fid, field=by, value=value, count=min_deals,
                                                 stages=", ".join(f"`{s}`" for s in groups[value].fallback)))
        fits[fid] = FunnelFit(fid, whole, groups)
    return FittedModel(spec_path, end, by, min_deals, fits, tuple(notes))


def _with_fallback(group: Behaviour, whole: Behaviour, min_deals: int) -> Behaviour:
    stages, fallback = {}, []
    for sid, fit in group.stages.items():
        if fit.visits < min_deals and whole.stages[sid].visits:
            stages[sid] = whole.stages[sid]
            fallback.append(sid)
        else:
            stages[sid] = fit
    return Behaviour(group.deals, stages, tuple(fallback))


def _behaviour(deals: list[DealOutcome], stage_ids: tuple[str, ...], end: float) -> Behaviour:
    stays: dict[str, list[tuple[float, bool]]] = {}
    nexts: dict[str, dict[str, int]] = {}
    by_stay: dict[str, list[tuple[float, str]]] = {}
    for deal in deals:
        path = deal.path
        for i, visit in enumerate(path):
            if i + 1 < len(path):
                following = path[i + 1]
                exited = following.via in BEHAVIOUR_EXIT
                stays.setdefault(visit.stage, []).append((following.entered - visit.entered, exited))
                if exited:
                    row = nexts.setdefault(visit.stage, {})
                    row[following.stage] = row.get(following.stage, 0) + 1
                    by_stay.setdefault(visit.stage, []).append((following.entered - visit.entered, following.stage))
            elif deal.status == "open":
                stays.setdefault(visit.stage, []).append((max(0.0, end - visit.entered), False))
    order = {s: i for i, s in enumerate(stage_ids)}
    stages = {}
    for sid in stage_ids:
        observed = stays.get(sid, [])
        row = nexts.get(sid, {})
        times, survival, at_risk = kaplan_meier(observed)
        exits = sum(row.values())
        stages[sid] = StageFit(len(observed), exits, len(observed) - exits,
                               tuple(sorted(row.items(), key=lambda kv: order.get(kv[0], len(order)))),
                               times, survival, at_risk, _bands(by_stay.get(sid, []), order))
    return Behaviour(len(deals), stages)


def _bands(exits: list[tuple[float, str]], order: dict[str, int]):
    """Where deals went by how long they had stayed: a deal that waits long in a stage often ends otherwise.

    The exits sorted by stay are cut into up to BANDS runs of at least BAND_EXITS each (ties kept together);
    each band counts its exits by next stage; the last band is open-ended (None)."""
    exits = sorted(exits)
    count = min(BANDS, len(exits) // BAND_EXITS)
    if count < 2:
        return ()
    bands, start = [], 0
    for b in range(1, count + 1):
        stop = len(exits) if b == count else (len(exits) * b) // count
        while 0 < stop < len(exits) and exits[stop][0] == exits[stop - 1][0]:
            stop += 1
        if stop <= start:
            continue
        row: dict[str, int] = {}
        for _, target in exits[start:stop]:
            row[target] = row.get(target, 0) + 1
        until = None if stop >= len(exits) else exits[stop - 1][0]
        bands.append((until, tuple(sorted(row.items(), key=lambda kv: order.get(kv[0], len(order))))))
        start = stop
        if until is None:
            break
    return tuple(bands)


def kaplan_meier(stays: list[tuple[float, bool]]) -> tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...]]:
    """Distinct exit times, the survival just after each, and the number at risk there.

    A censored stay at the same time as an exit counts as at risk at that exit (the usual convention).
    With numpy: the survival is the running product of 1 - exits / at risk, taken in time order as a loop would."""
    if not stays:
        return (), (), ()
    times = np.fromiter((s[0] for s in stays), dtype=float, count=len(stays))
    exited = np.fromiter((bool(s[1]) for s in stays), dtype=bool, count=len(stays))
    order = np.lexsort((~exited, times))
    times, exited = times[order], exited[order]
    distinct, start = np.unique(times, return_index=True)
    exits = np.add.reduceat(exited.astype(np.int64), start)
    at_risk = len(stays) - start
    some = exits > 0
    survival = np.cumprod(1.0 - exits[some] / at_risk[some])
    return tuple(distinct[some].tolist()), tuple(survival.tolist()), tuple(at_risk[some].tolist())
