"""Applying events and timers to the stored deals: engine/replay.py's `Replayer` over a store.

One call, one transaction. `ingest` loads the deals a batch of events
touches (their rows locked), lets the replay apply each event exactly as
`funnel simulate` does, and saves the deals, their timers, the actions they
produced (the outbox) and the event ids together. `fire_due` does the same
for the deals whose timers came due. Nothing is kept between calls: the
store is the truth, so several processes may share a PostgreSQL store and a
rolled-back transaction leaves nothing behind in memory.

Action ids are `DEAL:N`, N counting the deal's actions from 1. A deal's
history is deterministic, so replaying the same events after a crash gives
the same ids, and the outbox keeps each id once.
"""
from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ..engine.compile import CompiledSpec
from ..engine.deal import DealState
from ..engine.events import BLANK, NotJson
from ..engine.outcome import ActionRecord, RuntimeProblem, Violation
from ..engine.replay import Replayer
from ..engine.simulate import raw_text
from ..engine.validate import Rejected, event_time, shape_problem
from .deal_codec import CodecError, decode_deal, encode_deal, next_due
from .store import DealBusy, OutboxAction, StageCount, Store, StoreConflict, StoredDeal, StoredReject

COUNT_KEYS = {"applied": "count:applied", "duplicate": "count:duplicate", "rejected": "count:rejected"}
CLOCK_KEY = "clock"              # meta: the latest event time applied (the event clock's position)
SPEC_KEY = "spec"                # meta: the hash of the spec that last ran
PROBLEMS_KEPT = 20               # a deal keeps its latest run-time problems and violations, for `funnel state`
DUE_BATCH = 500
CONFLICT_TRIES = 5              # a batch rolled back by a deadlock with another process is tried again


@dataclass(frozen=True)
class Ingested:
    """What became of one line: applied | duplicate (its id was applied before) | rejected | blank |
    deferred (another process held its deal: neither applied nor claimed; offer it again)."""

    line: int
    status: str
    event_id: str | None = None
    deal: str | None = None
    reason: str | None = None
    actions: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"line": self.line, "status": self.status, "id": self.event_id, "deal": self.deal,
                "reason": self.reason, "actions": list(self.actions)}


def spec_hash(texts: Iterable[tuple[str, str]]) -> str:
    """The content hash of a spec: its files' names (without folders) and texts, in a stable order."""
    digest = hashlib.sha256()
    for name, text in sorted(texts):
        digest.update(name.rsplit("/", 1)[-1].encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]


def unmapped_stages(spec: CompiledSpec, counts: Sequence[StageCount], migrate: dict[str, str]) -> list[StageCount]:
    """Stored deals standing in a stage (or funnel) the spec no longer has, and `migrate` does not map."""
    missing = []
    for count in counts:
        funnel = spec.funnel_by_id.get(count.funnel)
        if funnel is None or migrate.get(count.stage, count.stage) not in funnel.stage_index:
            missing.append(count)
    return missing


class _StopAt(Exception):
    def __init__(self, result: Ingested):
        super().__init__(result.reason)
        self.result = result


class _Batch:
    """The deals one transaction has loaded, and what their replay produced."""

    def __init__(self, defer_busy: bool = False):
        self.extras: dict[str, dict] = {}         # deal -> {"actions": n, "problems": [...]}
        self.dirty: set[str] = set()
        self.actions: list[OutboxAction] = []
        self.defer_busy = defer_busy
        self.deferred: set[str] = set()           # deals another process held: their events wait
        self.seen: set[str] = set()               # event ids of the batch claimed before it began


class RunEngine:
    """Applies events and timers to the deals in `store`, one transaction per call; one writer at a time.

    spec: the compiled spec; hash: its content hash (recorded on each deal it
    changes); migrate: stage ids the spec no longer has -> their new ids.
    on_commit: called after each commit that queued actions (the delivery wakes up).
    """

    def __init__(self, spec: CompiledSpec, store: Store, *, hash: str, moves: str = "enforce",
                 migrate: dict[str, str] | None = None, on_commit: Callable[[], None] | None = None):
        self.spec, self.store, self.hash = spec, store, hash
        self.migrate = dict(migrate or {})
        self.on_commit = on_commit
        self._lock = threading.Lock()
        self._records: list = []
        self._replayer = Replayer(spec, moves=moves, on_action=self._records.append,
                                  on_violation=self._records.append, on_problem=self._records.append)

    # applying --------------------------------------------------------------------

    def ingest(self, events: Sequence[dict], source: str = "api") -> list[Ingested]:
        """Apply decoded events in one transaction; each comes back applied, duplicate or rejected.

        Nothing is applied unless the whole call returns: on an exception the
        transaction rolls back, and sending the same events again is safe."""
        return self.ingest_lines([(n, e, e) for n, e in enumerate(events, 1)], source)

    def ingest_lines(self, lines: Sequence[tuple[int, object, object]], source: str, *,
                     position: tuple[str, str] | Callable[[list[Ingested]], tuple[str, str] | None] | None = None,
                     stop_at_reject: bool = False, defer_busy: bool = False) -> list[Ingested]:
        """Apply (line number, raw line, decoded value) triples, as engine/events.py reads them.

        source: names the input in rejects. position: (input, where) stored with the batch under
        `position:INPUT`, so a restart reads on from there.
        stop_at_reject: at the first rejected line the whole transaction rolls back and the result is
        that line's rejection alone (nothing recorded); the caller applies the lines before it again
        and stops, as `simulate --on-error stop` does.
        defer_busy: an event whose deal another process's transaction holds (a shared PostgreSQL store)
        comes back `deferred`, not applied nor claimed, and so do the deal's later events in the batch;
        the caller offers them again later. position may then be a function of the results, so that a
        restart reads again from the first deferred line."""
        try:
            return self._again_on_conflict(lambda: self._ingest(lines, source, position, stop_at_reject,
                                                                 defer_busy))
        except _StopAt as stop:
            return [stop.result]

    def _again_on_conflict(self, call):
        """`call()`, again when another process's transaction made the database roll ours back (StoreConflict:
        PostgreSQL broke a deadlock): nothing of the first try was kept, so the second applies it afresh."""
        for attempt in range(CONFLICT_TRIES):
            try:
                return call()
            except StoreConflict:
                self._records.clear()
                if attempt == CONFLICT_TRIES - 1:
                    raise
                time.sleep(random.uniform(0.0, 0.05 * (attempt + 1)))   # let the other one finish first

    def _ingest(self, lines, source: str, position, stop_at_reject: bool, defer_busy: bool) -> list[Ingested]:
        with self._lock, self.store.transaction() as tx:
            batch = _Batch(defer_busy)
            batch.seen = tx.applied_events([str(v["id"]) for _, _, v in lines if type(v) is dict and "id" in v])
            results, latest = [], None
            try:
                for number, raw, value in lines:
                    result, ts = self._one(tx, batch, number, raw, value)
                    results.append(result)
                    if result.status == "rejected":
                        if stop_at_reject:
                            raise _StopAt(result)
                        tx.add_reject(StoredReject(source, number, raw_text(raw), result.reason))
                    elif ts is not None and (latest is None or ts > latest):
                        latest = ts
                self._save(tx, batch)
                _count(tx, results)
                if latest is not None:
                    clock = tx.get_meta(CLOCK_KEY)
                    if clock is None or latest > float(clock):
                        tx.set_meta(CLOCK_KEY, repr(latest))
                if callable(position):
                    position = position(results)
                if position is not None:
                    tx.set_meta(f"position:{position[0]}", position[1])
            finally:
                self._replayer.deals.clear()
        self._committed(batch)
        return results

    def _one(self, tx, batch: _Batch, number: int, raw, value) -> tuple[Ingested, float | None]:
        if value is BLANK:
            return Ingested(number, "blank"), None
        if type(value) is NotJson:
            return Ingested(number, "rejected", reason=value.message), None
        reason = shape_problem(value)
        if reason is not None:
            return Ingested(number, "rejected", reason=reason), None
        event_id, key = str(value["id"]), str(value["deal"])
        try:
            ts = event_time(value)
            if event_id in batch.seen:     # applied before: no need to hold its deal
                return Ingested(number, "duplicate", event_id, key), None
            if key in batch.deferred:
                return Ingested(number, "deferred", event_id, key), None
            if key not in self._replayer.deals:
                try:
                    self._load(tx, batch, key, wait=not batch.defer_busy)
                except DealBusy:
                    batch.deferred.add(key)
                    return Ingested(number, "deferred", event_id, key), None
            if not tx.claim_event(event_id, key):
                return Ingested(number, "duplicate", event_id, key), None
            self._replayer.apply(value, ts, number)
        except (Rejected, CodecError) as err:
            self._records.clear()
            return Ingested(number, "rejected", event_id, key, str(err)), None
        return Ingested(number, "applied", event_id, key, actions=self._collect(batch, key)), ts

    def fire_due(self, now: float) -> int:
        """Fire every timer due at or before `now`, deal by deal, each deal's in due order; the number of
        deals whose timers fired. One transaction per DUE_BATCH deals."""
        fired = 0
        while True:
            keys = self._again_on_conflict(lambda: self._fire_batch(now))
            fired += len(keys)
            if len(keys) < DUE_BATCH:
                return fired

    def _fire_batch(self, now: float) -> list[str]:
        with self._lock, self.store.transaction() as tx:
            batch = _Batch()
            try:
                keys = tx.due_deals(now, DUE_BATCH)
                for key in keys:
                    try:
                        self._load(tx, batch, key)
                    except CodecError as err:
                        self._stuck(tx, key, str(err))
                        continue
                    self._replayer.advance(key, now)
                    self._collect(batch, key)
                self._save(tx, batch)
            finally:
                self._replayer.deals.clear()
        self._committed(batch)
        return keys

    def apply_migration(self) -> int:
        """Move every stored deal standing in a stage `migrate` maps to the new stage (path included), now,
        so that the next start finds no unmapped stage; how many deals moved."""
        moved = 0
        if not self.migrate:
            return 0
        keys = [d.deal for d in self.store.deals() if d.stage in self.migrate]
        for start in range(0, len(keys), DUE_BATCH):
            with self._lock, self.store.transaction() as tx:
                batch = _Batch()
                try:
                    for key in keys[start:start + DUE_BATCH]:
                        self._load(tx, batch, key)
                        batch.dirty.add(key)
                    self._save(tx, batch)
                finally:
                    self._replayer.deals.clear()
            moved += len(batch.dirty)
        return moved

    def clock(self) -> float | None:
        """The event clock's position: the latest event time applied, None before any."""
        value = self.store.meta(CLOCK_KEY)
        return None if value is None else float(value)

    # deals in and out ------------------------------------------------------------

    def _load(self, tx, batch: _Batch, key: str, wait: bool = True) -> None:
        stored = tx.load_deal(key, wait)
        extras = {"actions": 0, "problems": []}
        if stored is not None:
            self._replayer.deals[key] = decode_deal(key, stored.state, self.spec, self.migrate)
            extras = stored.state.get("run", extras)
        batch.extras[key] = extras

    def _collect(self, batch: _Batch, key: str) -> tuple[str, ...]:
        """Turn what the replay just reported into outbox actions and kept problems; their ids."""
        records = self._records
        batch.dirty.add(key)
        if not records:
            return ()
        extras = batch.extras[key]
        ids = []
        for record in records:
            if type(record) is ActionRecord:
                extras["actions"] += 1
                action_id = f"{record.deal}:{extras['actions']}"
                ids.append(action_id)
                batch.actions.append(OutboxAction(action_id, record.deal, record.time, record.kind, record.payload,
                                                  record.rule, record.span))
            elif isinstance(record, (RuntimeProblem, Violation)):
                problem = record.to_json()
                problem["type"] = "violation" if type(record) is Violation else "problem"
                extras["problems"] = (extras["problems"] + [problem])[-PROBLEMS_KEPT:]
        records.clear()
        return tuple(ids)

    def _save(self, tx, batch: _Batch) -> None:
        deals = self._replayer.deals
        for key in batch.dirty:
            deal = deals.get(key)
            if deal is not None:
                tx.save_deal(self._stored(deal, batch.extras[key]))
        if batch.actions:
            tx.add_actions(batch.actions)

    def _stored(self, deal: DealState, extras: dict) -> StoredDeal:
        state = encode_deal(deal)
        state["run"] = extras
        funnel = deal.funnel
        return StoredDeal(deal.id, funnel.id, funnel.stages[deal.stage].id, self.hash, next_due(deal), state)

    def _stuck(self, tx, key: str, reason: str) -> None:
        """A due deal this spec cannot load: its timers wait (next_due cleared so it is not asked again)."""
        stored = tx.load_deal(key)
        tx.save_deal(StoredDeal(stored.deal, stored.funnel, stored.stage, stored.spec_hash, None, stored.state))
        tx.add_reject(StoredReject("timers", 0, key, reason))

    def _committed(self, batch: _Batch) -> None:
        if batch.actions and self.on_commit is not None:
            self.on_commit()


def _count(tx, results: list[Ingested]) -> None:
    """Keep the running totals of lines applied, duplicate and rejected in the meta table."""
    for status, key in COUNT_KEYS.items():
        n = sum(1 for r in results if r.status == status)
        if n:
            tx.add_meta(key, n)
