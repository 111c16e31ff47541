"""The open pipeline run forward: each open deal's stays and moves drawn from the fitted behaviour, many times.

One run takes every open deal from where the history left it: the rest of its
current stay is drawn from that stage's Kaplan–Meier curve given how long it
has already stayed, the next stage from the stage's shares among the moves
the spec allows, and a timer of the spec's that fires first moves it instead
(engine/forecast/policy.py asks the replay what the spec does). It goes on
until the deal is won or lost or the horizon is reached. Runs are drawn in
blocks of lanes (run × deal) with numpy; each block has its own random stream
spawned from the seed, so a seed gives the same figures whatever the workers.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from .fit import BANDS, FittedModel, group_of
from .notes import NO_EXITS
from .policy import PolicyProbe
from ..outcome import DealOutcome

BLOCK_LANES = 1 << 19          # lanes per block of runs on one behaviour, at most
CHUNK_LANES = 1 << 15          # lanes drawn at once within a block: a chunk's arrays stay in the cache (runs with
                               # chunks of 1 << 19 lanes took twice as long)
# The stay for a drawn survival level is looked up in a table of this many levels per curve rather than
# searched in the curve (a binary search over thousands of exit times cost a third of the runs): a level is
# rounded up by less than 1/LEVELS, so a stay is at most one table step late, never earlier than the curve says.
LEVELS = 1 << 14
NEVER = np.inf


@dataclass(frozen=True)
class Pipeline:
    """The open deals as arrays, with the spec's policy and the fitted curves they use."""

    deals: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]          # (funnel, stage) of every stage index
    kinds: np.ndarray                           # per node: 0 open, 1 won, 2 lost
    current: np.ndarray                         # per deal: node index
    age: np.ndarray                             # per deal: seconds in the current stage at the cut
    value: np.ndarray
    group: tuple[str | None, ...]
    curve: np.ndarray                           # [deal, node] -> curve index or -1
    timer_delay: np.ndarray                     # [deal, node] seconds from entry, inf: none
    timer_target: np.ndarray                    # [deal, node] node
    cumulative: np.ndarray                      # [deal, node, band, k] cumulative share of the k-th allowed move
    band_until: np.ndarray                      # [deal, node, band] the longest stay in each band but the last
    landing: np.ndarray                         # [deal, node, k] node the k-th move lands in
    curve_keys: np.ndarray                      # flat: curve * 1e10 + time
    inverse: np.ndarray                         # flat: curve * (LEVELS + 1) + level -> stay (inverse transform)
    curve_times: np.ndarray
    curve_survival: np.ndarray
    curve_end: np.ndarray                       # per curve: one past its last flat index
    curve_exits: np.ndarray                     # flat: exits at each time (the hazard's numerator)
    curve_at_risk: np.ndarray                   # flat: deals at risk at each time
    source: np.ndarray                          # [deal, node] -> the fitted stage its shares come from, -1: none
    move_column: np.ndarray                     # [deal, node, k] -> the k-th allowed move's column in its source
    source_counts: np.ndarray                   # [source, band, column] exits (bands past a source's last: 0)
    source_band: np.ndarray                     # [source, band] -> the source's band used for that band index
    probability: np.ndarray                     # per deal: the spec's typed probability of its stage, nan: none
    skipped: tuple[str, ...]


def build_pipeline(compiled, model: FittedModel, outcomes: list[DealOutcome], cut: float, horizon: float,
                   probe: PolicyProbe | None = None) -> Pipeline:
    """The open deals at `cut` from the replayed history, with the policy and the behaviour each one uses."""
    nodes, kinds = [], []
    for funnel in compiled.funnels:
        for stage in funnel.stages:
            nodes.append((funnel.id, stage.id))
            kinds.append({"open": 0, "won": 1, "lost": 2}[stage.kind])
    node_index = {n: i for i, n in enumerate(nodes)}
    open_deals = sorted((o for o in outcomes if o.status == "open"), key=lambda o: o.deal)
    probe = probe or PolicyProbe(compiled)
    curves: dict[tuple[int, str], int] = {}
    curve_data: list = []
    rows, skipped = [], []
    for deal in open_deals:
        fit = model.funnels.get(deal.funnel)
        if fit is None:
            skipped.append(deal.deal)
            continue
        behaviour = fit.behaviour(group_of(deal, model.by))
        rows.append((deal, behaviour))
    n, m = len(rows), len(nodes)
    width = max(1, max((len(f.stages) for f in compiled.funnels), default=1))
    curve = np.full((n, m), -1, dtype=np.int64)
    timer_delay = np.full((n, m), NEVER)
    timer_target = np.zeros((n, m), dtype=np.int64)
    cumulative = np.zeros((n, m, BANDS, width))
    band_until = np.full((n, m, BANDS - 1), NEVER)
    landing = np.zeros((n, m, width), dtype=np.int64)
    source = np.full((n, m), -1, dtype=np.int64)
    move_column = np.full((n, m, width), -1, dtype=np.int64)
    sources: dict[tuple[int, str], int] = {}
    source_data: list = []
    share_rows: dict[tuple, tuple] = {}
    current, age, value, probability = (np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n), np.full(n, np.nan))
    funnels = {f.id: f for f in compiled.funnels}
    for i, (deal, behaviour) in enumerate(rows):
        funnel = funnels[deal.funnel]
        here = deal.path[-1]
        current[i] = node_index[(deal.funnel, deal.stage)]
        age[i] = max(0.0, cut - here.entered)
        value[i] = _number(deal.fields.get(funnel.model.value_field)) if funnel.model.value_field else 0.0
        typed = funnel.stages[funnel.stage_index[deal.stage]].model.probability
        if typed is not None:
            probability[i] = typed
        for stage in funnel.stages:
            fit = behaviour.stages.get(stage.id)
            if stage.terminal or fit is None:
                continue
            j = node_index[(deal.funnel, stage.id)]
            key = (id(behaviour), stage.id)
            if fit.exits:
                if key not in curves:
                    curves[key] = len(curve_data)
                    curve_data.append(fit)
                curve[i, j] = curves[key]
            targets = tuple(s for s, _ in fit.next)
            entered = here.entered if stage.id == deal.stage else cut
            policy = probe.stage_policy(deal.funnel, deal.fields, stage.id, entered, cut + horizon, targets)
            if policy is None:
                continue
            if policy.timer_delay is not None:
                timer_delay[i, j] = policy.timer_delay
                timer_target[i, j] = node_index[(deal.funnel, policy.timer_target)]
            allowed = [(s, node_index[(deal.funnel, policy.landing[s])]) for s, _ in fit.next
                       if policy.landing.get(s) is not None]
            if not allowed:
                curve[i, j] = -1                              # nowhere the spec lets it go: it stays
                continue
            if key not in sources:
                sources[key] = len(source_data)
                source_data.append(fit)
            source[i, j] = sources[key]
            rows_key = (key, tuple(allowed))
            if rows_key not in share_rows:                    # deals of a group share a stage's rows
                share_rows[rows_key] = _share_rows(fit, allowed, width)
            cumulative[i, j], band_until[i, j], landing[i, j], move_column[i, j] = share_rows[rows_key]
    keys, times, survival, exits, at_risk = [], [], [], [], []
    for k, fit in enumerate(curve_data):
        at = np.array(fit.times, dtype=float)
        keys.append(k * 1e10 + at)
        times.append(at)
        survival.append(np.array(fit.survival, dtype=float))
        risk = np.array(fit.at_risk, dtype=float)
        exits.append(_exits(survival[-1], risk))
        at_risk.append(risk)
    ends = np.cumsum([a.size for a in times], dtype=np.int64)
    keys, times, survival, exits, at_risk = (np.concatenate(a) if a else np.zeros(0)
                                             for a in (keys, times, survival, exits, at_risk))
    columns = max((len(fit.next) for fit in source_data), default=1)
    source_counts = np.zeros((len(source_data), BANDS, columns))
    source_band = np.zeros((len(source_data), BANDS), dtype=np.int64)
    for k, fit in enumerate(source_data):
        order = {target: c for c, (target, _) in enumerate(fit.next)}
        bands = fit.bands or ((None, fit.next),)
        for b, (_, row) in enumerate(bands[:BANDS]):
            for target, count in row:
                source_counts[k, b, order[target]] = count
        source_band[k] = np.minimum(np.arange(BANDS), len(bands[:BANDS]) - 1)
    return Pipeline(tuple(d.deal for d, _ in rows), tuple(nodes), np.array(kinds, dtype=np.int64), current, age,
                    value, tuple(group_of(d, model.by) for d, _ in rows), curve, timer_delay, timer_target,
                    cumulative, band_until, landing, keys, inverse_table(times, survival, ends), times, survival,
                    ends, exits, at_risk, source, move_column, source_counts, source_band, probability, tuple(skipped))


def _share_rows(fit, allowed: list[tuple[str, int]], width: int):
    """One stage's rows for the moves the spec allows: the cumulative shares by band, the bands' longest stays,
    each move's landing node and its column among the stage's exits."""
    cumulative = np.full((BANDS, width), 2.0)                # 2: never drawn
    band_until = np.full(BANDS - 1, NEVER)
    landing = np.zeros(width, dtype=np.int64)
    move_column = np.full(width, -1, dtype=np.int64)
    columns = {target: c for c, (target, _) in enumerate(fit.next)}
    for k, (target, land) in enumerate(allowed):
        landing[k] = land
        move_column[k] = columns[target]
    overall = dict(fit.next)
    bands = fit.bands or ((None, fit.next),)
    for b in range(BANDS):
        until, row = bands[min(b, len(bands) - 1)]
        if b < BANDS - 1:
            band_until[b] = NEVER if until is None or b >= len(bands) - 1 else until
        counts = dict(row)
        if not sum(counts.get(t, 0) for t, _ in allowed):
            counts = overall                                  # none of this band's exits is allowed: the whole's
        total = sum(counts.get(t, 0) for t, _ in allowed)
        running = 0
        for k, (target, _) in enumerate(allowed):
            running += counts.get(target, 0)
            cumulative[b, k] = running / total
    return cumulative, band_until, landing, move_column


def _exits(survival: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """The exits at each time of a Kaplan–Meier curve, from its survival and the deals at risk."""
    before = np.concatenate(([1.0], survival[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.maximum(1.0, np.round(at_risk * (1.0 - survival / before)))
    return np.where(before > 0, drop, at_risk)


def inverse_table(times: np.ndarray, survival: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per curve, the stay for each of LEVELS + 1 survival levels (inverse transform), flat: curve * (LEVELS + 1)."""
    levels = np.arange(LEVELS + 1) / LEVELS
    out, begin = [], 0
    for end in ends:
        drop = 1.0 - survival[begin:end]
        pos = np.searchsorted(drop, levels - 1e-12, side="left")
        out.append(np.where(pos < drop.size, np.append(times[begin:end], NEVER)[np.minimum(pos, drop.size)], NEVER))
        begin = end
    return np.concatenate(out) if out else np.zeros(0)


@dataclass(frozen=True)
class Tables:
    """The behaviour one block of runs draws from: the shares (cumulative) and the stays (curve and its inverse)."""

    cumulative: np.ndarray
    inverse: np.ndarray
    survival: np.ndarray


def fitted_tables(pipe: Pipeline) -> Tables:
    return Tables(pipe.cumulative, pipe.inverse, pipe.curve_survival)


def resampled_tables(pipe: Pipeline, rng: np.random.Generator) -> Tables:
    """A behaviour as another draw of the same history might have given it (Bayesian bootstrap over the exits).

    Shares: each band's exits by next stage weighted by Gamma(count) draws (a Dirichlet draw of the shares; the
    whole stage's are the bands' sums, as with the fitted counts). Stays: each exit time's hazard drawn from
    Beta(exits, at risk - exits) (the beta-process posterior of a Kaplan–Meier curve), the curve their product.
    One draw is shared by every deal of a block, as the fitted behaviour is: its error moves all deals at once."""
    counts = pipe.source_counts
    drawn = np.zeros_like(counts)
    some = counts > 0
    drawn[some] = rng.gamma(counts[some])
    cumulative = pipe.cumulative
    if counts.size and (pipe.source >= 0).any():
        overall = drawn.sum(axis=1)                                        # [source, column]
        sources = np.arange(counts.shape[0])[:, None]
        expanded = drawn[sources, pipe.source_band]                        # [source, band, column]
        src = np.maximum(pipe.source, 0)[:, :, None, None]
        col = np.maximum(pipe.move_column, 0)[:, :, None, :]
        used = (pipe.move_column >= 0)[:, :, None, :]
        weight = np.where(used, expanded[src, np.arange(BANDS)[None, None, :, None], col], 0.0)
        total = weight.sum(axis=-1, keepdims=True)
        whole = np.where(used, overall[src, col], 0.0)
        weight = np.where(total > 0, weight, np.broadcast_to(whole, weight.shape))
        total = weight.sum(axis=-1, keepdims=True)
        share = np.cumsum(weight, axis=-1) / np.where(total > 0, total, 1.0)
        share = np.where(used, share, 2.0)
        cumulative = np.where((pipe.source >= 0)[:, :, None, None], share, pipe.cumulative)
    survival = pipe.curve_survival
    if pipe.curve_exits.size:
        rest = pipe.curve_at_risk - pipe.curve_exits
        hazard = np.ones(pipe.curve_exits.size)
        open_ = rest > 0
        hazard[open_] = rng.beta(pipe.curve_exits[open_], rest[open_])
        survival = np.empty_like(hazard)
        begin = 0
        for end in pipe.curve_end:
            survival[begin:end] = np.cumprod(1.0 - hazard[begin:end])
            begin = end
    return Tables(cumulative, inverse_table(pipe.curve_times, survival, pipe.curve_end), survival)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def month_starts(cut: float, horizon: float) -> list[float]:
    """The calendar months (UTC) the horizon spans, as their start times; the first starts at the cut."""
    day = dt.datetime.fromtimestamp(cut, dt.timezone.utc)
    starts = [cut]
    year, month = day.year, day.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        start = calendar.timegm((year, month, 1, 0, 0, 0))
        if start >= cut + horizon:
            return starts
        starts.append(float(start))


def run_block(pipe: Pipeline, runs: int, horizon: float, rng: np.random.Generator, month_edges: np.ndarray,
              tables: Tables) -> "Won":
    """One block of runs on one behaviour: the lanes (run * deals + deal) won by the horizon, and in which month.

    The runs are drawn a chunk of CHUNK_LANES lanes at a time (a block's runs share one behaviour; a chunk's
    arrays stay in the cache). Only the lanes still moving are carried from step to step, each as (lane, deal,
    stage, entry): a lane that stays past the horizon or ends is dropped, and a win is kept as its lane and time."""
    n = len(pipe.deals)
    rows, here = np.arange(n), pipe.current
    curve, delay = pipe.curve[rows, here], pipe.timer_delay[rows, here]
    delay = np.where(delay < pipe.age, NEVER, delay)            # fired before the cut: it did not move the deal
    lasted = _survival_at(pipe, tables, curve, pipe.age)         # S(age): the deal is still there at the cut
    by_end = _survival_at(pipe, tables, curve, pipe.age + horizon)   # S(age + horizon)
    moves = np.nonzero((pipe.kinds[here] == 0) & ((curve >= 0) | (delay - pipe.age <= horizon)))[0]
    # a deal that can never leave its stage is not drawn; the figures of the others' current stays, per deal
    first = _FirstStay(moves, curve[moves], lasted[moves], by_end[moves], delay[moves],
                       (delay - pipe.age <= horizon)[moves], here[moves], -pipe.age[moves])
    # the step's lookups read one column at a time: columns made contiguous once per block
    columns = (np.ascontiguousarray(pipe.band_until.reshape(-1, BANDS - 1).T),
               np.ascontiguousarray(tables.cumulative.reshape(-1, pipe.landing.shape[2]).T))
    won_lanes: list = []
    won_at: list = []
    chunk = max(1, CHUNK_LANES // max(n, 1))
    for start in range(0, runs, chunk):
        _run_chunk(pipe, tables, columns, first, start, min(chunk, runs - start), horizon, rng, won_lanes, won_at)
    return _won(pipe, won_lanes, won_at, month_edges)


@dataclass(frozen=True)
class _FirstStay:
    """Per deal that can move: its current stay's curve, S(age), S(age + horizon), timer, stage and entry."""

    deal: np.ndarray
    curve: np.ndarray
    lasted: np.ndarray
    by_end: np.ndarray
    delay: np.ndarray
    timed: np.ndarray
    stage: np.ndarray
    entry: np.ndarray


def _run_chunk(pipe, tables, columns, first: _FirstStay, start: int, runs: int, horizon, rng, won_lanes, won_at):
    """Runs start .. start + runs - 1 of a block, their wins appended to won_lanes and won_at."""
    n, m = len(pipe.deals), len(pipe.nodes)
    # Lanes are drawn as a (run, deal) table, so the per-deal figures broadcast. The first stay is the rest of
    # the current one: it ends by the horizon when S(age + horizon) <= u * S(age) (inverse transform); only
    # those lanes, and those a timer moves, go on to the step below.
    target = rng.random((runs, first.deal.size)) * first.lasted
    early = (first.curve >= 0) & (first.by_end <= target)
    flat = np.flatnonzero(early | first.timed)           # the others stay past the horizon: not moved at all
    run, column = np.divmod(flat, max(first.deal.size, 1))
    d = first.deal.take(column)
    lane = (run + start) * n + d
    early, target = early.ravel().take(flat), target.ravel().take(flat)
    stay = np.full(lane.size, NEVER)
    stay[early] = _stay_for(tables, first.curve.take(column[early]), target[early])
    state = (lane, d, first.stage.take(column), first.entry.take(column))
    state = _step(pipe, columns, state, stay, first.delay.take(column), horizon, rng, won_lanes, won_at)
    flat_curve, flat_delay = pipe.curve.ravel(), pipe.timer_delay.ravel()
    for _ in range(4 * m + 4):
        lane, d, stage, _entry = state
        if lane.size == 0:
            break
        at = d * m + stage
        c = flat_curve.take(at)
        stay = np.full(lane.size, NEVER)
        known = c >= 0
        stay[known] = _stay_for(tables, c[known], rng.random(int(known.sum())))
        state = _step(pipe, columns, state, stay, flat_delay.take(at), horizon, rng, won_lanes, won_at)


def _step(pipe, columns, state, stay, delay, horizon, rng, won_lanes, won_at):
    """Move the lanes whose stay (or timer) ends by the horizon; returns the lanes still open after the move."""
    lane, d, stage, entry = state
    m = len(pipe.nodes)
    ends = np.minimum(stay, delay)
    leave = np.maximum(entry + ends, 0.0)
    moving = np.nonzero(leave <= horizon)[0]
    lane, d, leave, stayed = lane.take(moving), d.take(moving), leave.take(moving), stay.take(moving)
    by_timer = delay.take(moving) < stayed
    at = d * m + stage.take(moving)                      # (deal, stage) as one flat index
    u = rng.random(lane.size)
    width = pipe.landing.shape[2]
    band_until, cumulative = columns
    band = np.zeros(lane.size, dtype=np.int64)
    for column in band_until:                            # the band of the stay: shares depend on how long it was
        band += column.take(at) < stayed
    row = at * BANDS + band
    k = np.zeros(lane.size, dtype=np.int64)
    for column in cumulative[:width - 1]:                # the first column whose cumulative share passes u
        k += column.take(row) < u
    drawn = pipe.landing.ravel().take(at * width + k)
    stage = np.where(by_timer, pipe.timer_target.ravel().take(at), drawn)
    kind = pipe.kinds.take(stage)
    won = kind == 1
    if won.any():
        won_lanes.append(lane[won])
        won_at.append(leave[won])
    going = np.nonzero(kind == 0)[0]
    return lane.take(going), d.take(going), stage.take(going), leave.take(going)


@dataclass(frozen=True)
class Won:
    """The won lanes of a block in lane order: run, deal and the month (from the cut) each was won in."""

    run: np.ndarray
    deal: np.ndarray
    month: np.ndarray


def _won(pipe: Pipeline, lanes: list, times: list, month_edges: np.ndarray) -> Won:
    n = len(pipe.deals)
    if not lanes:
        empty = np.zeros(0, dtype=np.int64)
        return Won(empty, empty, empty)
    lane, at = np.concatenate(lanes), np.concatenate(times)
    order = np.argsort(lane, kind="stable")
    lane, at = lane[order], at[order]
    return Won(lane // n, lane % n, np.searchsorted(month_edges, at, side="right") - 1)


def _bounds(pipe: Pipeline, curve: np.ndarray):
    begin = np.where(curve > 0, pipe.curve_end[np.maximum(curve - 1, 0)], 0)
    return begin, pipe.curve_end[np.maximum(curve, 0)]


def _survival_at(pipe: Pipeline, tables: Tables, curve: np.ndarray, t: np.ndarray) -> np.ndarray:
    """S(t) of each lane's curve (1 before its first exit time; 1 for a lane without a curve)."""
    out = np.ones(curve.size)
    if not pipe.curve_keys.size:
        return out
    begin, _ = _bounds(pipe, curve)
    pos = np.searchsorted(pipe.curve_keys, curve * 1e10 + t, side="right") - 1
    seen = (curve >= 0) & (pos >= begin)
    out[seen] = tables.survival[pos[seen]]
    return out


def _stay_for(tables: Tables, curve: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The first exit time where the curve drops to `target` or below (inverse transform); inf: it never does."""
    level = np.minimum(np.ceil((1.0 - target) * LEVELS).astype(np.int64), LEVELS)
    return tables.inverse[curve * (LEVELS + 1) + level]


def unfitted_notes(compiled, model: FittedModel) -> tuple[str, ...]:
    """A note for each open stage of the spec the model has no observed exit from: its deals stay put."""
    notes = []
    for funnel in compiled.funnels:
        fit = model.funnels.get(funnel.id)
        for stage in funnel.stages:
            if stage.terminal:
                continue
            found = fit.whole.stages.get(stage.id) if fit is not None else None
            if found is None or not found.exits:
                notes.append(NO_EXITS.format(stage=stage.id, funnel=funnel.id))
    return tuple(notes)
