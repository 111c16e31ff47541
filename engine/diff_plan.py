"""The plan of `funnel diff`: what changed in the specs and, given a history, what that changes for deals.

`plan_diff` pairs funnels by id, diffs each structurally (dsl/spec_diff.py),
and, with events, replays them once through both specs (engine/diff.py),
compares the deals (engine/diff_deals.py) and the metrics (engine/diff_metrics.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..dsl.gcpause import gc_paused
from ..dsl.model import Spec
from ..dsl.spec_diff import Change, diff_funnels, stage_renames
from .diff_deals import DealChange
from .diff_metrics import MetricRow, Tripped
from .outcome import Totals


@dataclass
class Replayed:
    """What the history says: counts, the changed deals, rejected lines per side, metric rows."""

    totals: Totals
    until: float | None
    deals: list[DealChange]
    rejected_old: list[tuple[int, str, str]]      # (line, deal, reason) only the old spec rejected
    rejected_new: list[tuple[int, str, str]]
    rows: list[MetricRow]

    @property
    def counts(self) -> dict[str, int]:
        return {"deals_replayed": self.totals.deals,
                "outcome_changes": sum(d.outcome_changed for d in self.deals),
                "path_changes": sum(d.path_changed for d in self.deals),
                "action_changes": sum(bool(d.actions_added or d.actions_removed) for d in self.deals),
                "violations_appeared": sum(len(d.violations_appeared) for d in self.deals),
                "violations_vanished": sum(len(d.violations_vanished) for d in self.deals),
                "rejected_old": len(self.rejected_old), "rejected_new": len(self.rejected_new)}


@dataclass
class Plan:
    old_path: str
    new_path: str
    changes: dict[str, list[Change]]             # funnel id -> its structural changes (added/removed funnels too)
    renames: dict[str, dict[str, str]]
    replayed: Replayed | None = None
    tripped: list[Tripped] = field(default_factory=list)
    thresholds: list = field(default_factory=list)

    @property
    def structural_count(self) -> int:
        return sum(len(c) for c in self.changes.values())

    @property
    def outcomes_changed(self) -> bool:
        return self.replayed is not None and self.replayed.counts["outcome_changes"] > 0

    def exit_code(self) -> int:
        """1 when outcomes change (or, given thresholds, when one trips); else 0."""
        if self.thresholds:
            return 1 if self.tripped else 0
        return 1 if self.outcomes_changed else 0


def structural(old: Spec, new: Spec, funnel: str | None = None) -> tuple[dict[str, list[Change]],
                                                                          dict[str, dict[str, str]]]:
    """Per funnel id, the changes; and the stage renames of funnels in both specs."""
    olds, news = old.funnel_by_id, new.funnel_by_id
    changes: dict[str, list[Change]] = {}
    renames: dict[str, dict[str, str]] = {}
    for fid in list(dict.fromkeys([f.id for f in old.funnels] + [f.id for f in new.funnels])):
        a, b = olds.get(fid), news.get(fid)
        if a is not None and b is not None:
            renames[fid] = stage_renames(a, b)          # every funnel's: the replay needs them all
        if funnel is not None and fid != funnel:
            continue
        if a is None:
            changes[fid] = [Change("added", "funnel", fid, (b.title,), None, b.span)]
        elif b is None:
            changes[fid] = [Change("removed", "funnel", fid, (a.title,), a.span, None)]
        else:
            changes[fid] = diff_funnels(a, b)
    return changes, renames


def plan_diff(old: Spec, new: Spec, events=None, *, funnel: str | None = None, until: float | None = None,
              moves: str = "enforce", csv_map: dict[str, str] | None = None, workers: int = 1,
              client=None, partitioned: bool = False) -> Plan:
    """The whole plan; raises engine.simulate.BadLine when a history line is not an event at all.

    With `workers` above 1 and `events` a path, the history is replayed on
    that many processes, deals split by id (engine/diff_shares.py): the same plan.
    With a Dask `client`, the shares are replayed on its cluster (engine/cluster.py), each reading only its
    own files of a stream `partitioned` by deal.
    """
    from .compile import compile_spec
    from .diff_shares import DiffJob, merge_shares, replay_on_workers, replay_share
    from .parallel import can_fork
    from .simulate import event_lines

    changes, renames = structural(old, new, funnel)
    plan = Plan(old.path, new.path, changes, renames)
    if events is None:
        return plan
    job = DiffJob(compile_spec(old), compile_spec(new), renames, funnel, until, moves)
    lines, source, lenient, stream = event_lines(events, csv_map)
    try:
        if client is not None:
            from .cluster import diff_on_cluster

            path = os.fspath(events)
            shares = diff_on_cluster(old, new, renames, path, client=client, funnel=funnel, until=until,
                                     moves=moves, csv_map=csv_map, source=source, partitioned=partitioned)
        elif workers > 1 and can_fork() and isinstance(events, (str, os.PathLike)) and os.fspath(events) != "-":
            shares = replay_on_workers(job, os.fspath(events), csv_map, workers, source)
        else:
            shares = [replay_share(job, lines, lenient, source)]
    finally:
        if stream is not None:
            stream.close()
    with gc_paused():                   # finishing the metrics makes many small objects (see replay_share)
        plan.replayed = Replayed(*merge_shares(job, shares))
    return plan
