"""A diff's replay by shares of the deals: all of them in this process, or one share per worker.

Deals are independent, so what the plan needs of a history splits by deal:
each share replays both specs over its deals' lines (engine/diff.py), keeps
the deals that changed (engine/diff_deals.py), its rejected lines and its
counts, and folds its outcomes into each side's metric aggregates, which
merge exactly (engine/aggregate.py). `merge_shares` puts shares together in
the order one process would give: changed deals by rank and id, rejected
lines by line, metrics from the merged aggregates. One process is one share,
so one path makes the plan either way and `funnel diff --workers N` prints
the same bytes as one worker.

Workers are forked as for `funnel simulate --workers` (engine/parallel.py:
the same split by deal id, the same end over all workers, the same first
bad line); each pickles its share to a file for the parent.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from functools import partial

from ..dsl.gcpause import gc_paused
from .compile import CompiledSpec
from .diff import replay_pair
from .diff_deals import DealChange, compare_deals
from .diff_metrics import MetricRow, rows_of
from .metrics import aggregate_outcomes, end_of_replay, finish_grouped
from .outcome import Totals
from .shape import FunnelShape
from .simulate import BadLine, event_lines

@dataclass
class DiffJob:
    """What every share replays, and how (inherited by forked workers, never pickled)."""

    old: CompiledSpec
    new: CompiledSpec
    renames: dict[str, dict[str, str]]
    funnel: str | None
    until: float | None
    moves: str
    old_shapes: list[FunnelShape] = field(init=False)
    new_shapes: list[FunnelShape] = field(init=False)

    def __post_init__(self) -> None:
        self.old_shapes = [FunnelShape.from_funnel(f) for f in self.old.spec.funnels]
        self.new_shapes = [FunnelShape.from_funnel(f) for f in self.new.spec.funnels]


@dataclass
class Share:
    """What one share of the deals tells the plan: its counts, changed deals, rejected lines, metric aggregates."""

    totals: Totals
    until: float | None
    deals: list[DealChange]
    rejected_old: list[tuple[int, str, str]]
    rejected_new: list[tuple[int, str, str]]
    old_aggregates: dict
    new_aggregates: dict


def replay_share(job: DiffJob, lines, lenient: bool, source: str, settle=None) -> Share:
    """Both replays over `lines`, reduced to what the plan needs; raises BadLine at a line that is no event."""
    # every record of both replays is kept until the comparison: hundreds of thousands of small acyclic
    # objects, over which the cyclic collector's generation scans would double the replay's time and
    # triple the metrics' (bench/diff.py)
    with gc_paused():
        run = replay_pair(job.old, job.new, lines, renames=job.renames, until=job.until, moves=job.moves,
                          lenient=lenient, source=source, settle=settle)
        deals = compare_deals(run, job.renames, job.funnel)
        run.old.steps.clear()           # compared: the records the plan needs are in `deals`
        run.new.steps.clear()
        old_aggregates = aggregate_outcomes(run.old_outcomes, job.old_shapes,
                                            end_of_replay(run.until, run.old_outcomes))
        new_aggregates = aggregate_outcomes(run.new_outcomes, job.new_shapes,
                                            end_of_replay(run.until, run.new_outcomes))
    old_rejected, new_rejected = run.old.rejected, run.new.rejected
    if job.funnel is not None:          # the counts speak of the funnel asked for
        keep = {o.deal for o in run.old_outcomes + run.new_outcomes if o.funnel == job.funnel}
        run.totals.deals = len(keep)
        old_rejected = [r for r in old_rejected if r[1] in keep]
        new_rejected = [r for r in new_rejected if r[1] in keep]
    return Share(run.totals, run.until, deals, old_rejected, new_rejected, old_aggregates, new_aggregates)


def merge_shares(job: DiffJob, shares: list[Share]):
    """(totals, until, changed deals, rejected by the old spec only, by the new only, metric rows)."""
    totals = Totals()
    for share in shares:
        totals.add(share.totals)
    deals = sorted((d for share in shares for d in share.deals), key=lambda c: (c.rank, c.deal))
    old_rejected = sorted((r for share in shares for r in share.rejected_old), key=_line)
    new_rejected = sorted((r for share in shares for r in share.rejected_new), key=_line)
    old_lines = {line for line, _, _ in old_rejected}
    new_lines = {line for line, _, _ in new_rejected}
    rows: list[MetricRow] = rows_of(_metrics(shares, "old_aggregates"), _metrics(shares, "new_aggregates"),
                                    job.old_shapes, job.new_shapes, job.renames, job.funnel)
    return (totals, shares[0].until, deals, [r for r in old_rejected if r[0] not in new_lines],
            [r for r in new_rejected if r[0] not in old_lines], rows)


def _line(rejected: tuple[int, str, str]) -> int:
    return rejected[0]


def _metrics(shares: list[Share], side: str) -> dict:
    """Each funnel's metrics (whole stream) from the shares' aggregates of one side, merged."""
    merged = {}
    for share in shares:
        for fid, aggregate in getattr(share, side).items():
            if fid in merged:
                merged[fid].merge(aggregate)
            else:
                merged[fid] = aggregate
    return {fid: finish_grouped(aggregate).whole for fid, aggregate in merged.items()}


# on workers ---------------------------------------------------------------------------

def replay_on_workers(job: DiffJob, events: str, csv_map, workers: int, source: str | None) -> list[Share]:
    """One share per worker, forked; raises BadLine for the first line over all workers that is no event."""
    from .parallel import forked_workers, receive, settle_end

    with tempfile.TemporaryDirectory(prefix="funnel-diff-workers-") as folder, \
            forked_workers(workers, _work, job, events, csv_map, folder) as pipes:
        end = settle_end([receive(pipe) for pipe in pipes], pipes, source)
        for pipe in pipes:
            pipe.send(("end", end))
        for pipe in pipes:
            receive(pipe)
        shares = []
        for me in range(workers):
            with open(os.path.join(folder, f"{me}.share"), "rb") as handle, gc_paused():
                shares.append(pickle.load(handle))
        return shares


def _work(me: int, workers: int, job: DiffJob, events: str, csv_map, folder: str, pipe) -> None:
    from .parallel import tell_failure

    try:
        share = own_share(job, events, csv_map, me, workers, pipe)
        if share is None:
            return
        with open(os.path.join(folder, f"{me}.share"), "wb") as handle, gc_paused():
            pickle.dump(share, handle, protocol=pickle.HIGHEST_PROTOCOL)
        pipe.send(("done",))
    except BaseException as err:
        tell_failure(pipe, err)
    finally:
        pipe.close()


def own_share(job: DiffJob, events: str, csv_map, me: int, workers: int, pipe, read=None) -> Share | None:
    """Share `me` of `workers` (deals split as engine/parallel.py splits them), its end settled over `pipe`
    (a forked worker's, or engine/cluster.py's); None when a bad line stopped it, its own or another's.

    `read`, when given, is (this share's numbered lines, source, lenient, stream to close), for a caller
    that reads only files of its own (engine/cluster.py with --partitioned-by-deal)."""
    from .parallel import Stopped, settle_by_parent, worker_of

    stream = None
    try:
        if read is None:
            lines, source, lenient, stream = event_lines(events, csv_map)
            own = (item for item in lines if worker_of(item[2], workers) == me)
        else:
            own, source, lenient, stream = read
        try:
            return replay_share(job, own, lenient, source, settle=partial(settle_by_parent, pipe))
        except BadLine as err:
            pipe.send(("bad", err.source, err.line, err.reason))
            return None
        except Stopped:
            return None
    finally:
        if stream is not None:
            stream.close()
