"""The plan of `funnel diff`: what changed in the specs and, given a history, what that changes for deals.

`plan_diff` pairs funnels by id, diffs each structurally (dsl/spec_diff.py),
and, with events, replays them once through both specs (engine/diff.py),
compares the deals (engine/diff_deals.py) and the metrics (engine/diff_metrics.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..dsl.gcpause import gc_paused
from ..dsl.model import Spec
from ..dsl.spec_diff import Change, diff_funnels, stage_renames
from .diff_deals import DealChange, compare_deals
from .diff_metrics import MetricRow, Tripped, metric_rows
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
              moves: str = "enforce", csv_map: dict[str, str] | None = None) -> Plan:
    """The whole plan; raises engine.simulate.BadLine when a history line is not an event at all."""
    from .compile import compile_spec
    from .diff import replay_pair
    from .shape import FunnelShape
    from .simulate import event_lines

    changes, renames = structural(old, new, funnel)
    plan = Plan(old.path, new.path, changes, renames)
    if events is None:
        return plan
    lines, source, lenient, stream = event_lines(events, csv_map)
    # every record of both replays is kept until the comparison: hundreds of thousands of small acyclic
    # objects, over which the cyclic collector's generation scans would double the replay's time and
    # triple the metrics' (bench/diff.py)
    with gc_paused():
        try:
            run = replay_pair(compile_spec(old), compile_spec(new), lines, renames=renames, until=until,
                              moves=moves, lenient=lenient, source=source)
        finally:
            if stream is not None:
                stream.close()
        deals = compare_deals(run, renames, funnel)
        run.old.steps.clear()           # compared: the records the plan needs are in `deals`
        run.new.steps.clear()
        rows = metric_rows(run.old_outcomes, run.new_outcomes, [FunnelShape.from_funnel(f) for f in old.funnels],
                           [FunnelShape.from_funnel(f) for f in new.funnels], run.until, renames, funnel)
    if funnel is not None:          # the counts speak of the funnel asked for
        run.totals.deals = len({o.deal for o in run.old_outcomes if o.funnel == funnel}
                               | {o.deal for o in run.new_outcomes if o.funnel == funnel})
        keep = {o.deal for o in run.old_outcomes + run.new_outcomes if o.funnel == funnel}
        run.old.rejected = [r for r in run.old.rejected if r[1] in keep]
        run.new.rejected = [r for r in run.new.rejected if r[1] in keep]
    old_lines = {line for line, _, _ in run.old.rejected}
    new_lines = {line for line, _, _ in run.new.rejected}
    plan.replayed = Replayed(run.totals, run.until, deals,
                             [r for r in run.old.rejected if r[0] not in new_lines],
                             [r for r in run.new.rejected if r[0] not in old_lines], rows)
    return plan
