"""The store `funnel run` keeps its state in: one small interface, an implementation per database.

Everything that must survive a crash lives here, and changes only inside a
transaction: which events were applied (their ids), each deal's state with
its pending timers, the actions the rules produced (the outbox), the lines
that were rejected, and a few meta values (the spec's hash, the event clock).
`open_store("state.db")` is SQLite (run/sqlite_store.py);
`open_store("postgresql://...")` is PostgreSQL (run/postgres_store.py,
psycopg 3, imported only then).

The guarantees each implementation gives, and that tests/run/store_contract.py
checks against every one of them:

- A transaction commits everything it did or nothing. Nothing the caller
  acknowledges may be acknowledged before `transaction()`'s block has left
  without an exception (the commit is then durable: SQLite in WAL mode with
  synchronous=FULL, PostgreSQL with its default synchronous_commit).
- `claim_event` is the one place that decides whether an event is applied:
  it returns True once per event id over the store's whole life, however
  many processes share it; a claim in a transaction that rolls back is undone.
- `load_deal` locks the deal until the transaction ends (PostgreSQL: an
  advisory lock on its id; SQLite has one writer at a time anyway), so two
  processes never change one deal at the same time; `wait=False` raises
  DealBusy rather than waiting for another process's transaction.
- `add_actions` ignores an action whose id is already in the outbox: replaying
  the same event after a crash cannot queue its actions twice.
- The outbox side (`pending_actions`, `mark_delivered`, `record_failure`) runs
  in its own short transactions, so delivering never holds up applying events.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol, Sequence


class StoreError(Exception):
    """The store cannot be opened or used (bad target, missing driver, not a funnel store)."""


class DealBusy(Exception):
    """`load_deal(..., wait=False)`: another process's transaction holds this deal right now."""


class StoreConflict(StoreError):
    """Two processes' transactions waited for each other and the database rolled this one back whole
    (PostgreSQL's deadlock detector): nothing of it was kept, and doing it again is safe."""


@dataclass(frozen=True)
class StoredDeal:
    """One deal as the store keeps it.

    state: the deal's JSON-ready state (run/deal_codec.py writes and reads it;
    the store does not look inside). next_due: the earliest pending timer
    (epoch seconds), None when there is none; it makes due deals queryable.
    funnel, stage: where the deal stands, for the spec-change check and counts.
    spec_hash: the content hash of the spec that last changed the deal.
    """

    deal: str
    funnel: str
    stage: str
    spec_hash: str
    next_due: float | None
    state: dict


@dataclass(frozen=True)
class OutboxAction:
    """An action waiting for (or past) delivery.

    id: stable across restarts (the same event replayed gives the same id); it is the
    `Idempotency-Key` a receiver uses to drop a duplicate. ts: the action's time in the
    funnel's clock. status: pending | delivered | dead. attempts: failed deliveries so far;
    next_try: when a pending action may be tried again (epoch seconds, wall clock);
    error: the last failure's message. seq: the order actions were added in.
    """

    id: str
    deal: str
    ts: float
    kind: str
    payload: dict
    rule: str
    span: dict
    status: str = "pending"
    attempts: int = 0
    next_try: float = 0.0
    error: str | None = None
    seq: int = 0

    def to_json(self) -> dict:
        """What a sink delivers: the action as `funnel simulate` writes it, with its id."""
        from ..engine.outcome import iso

        return {"id": self.id, "deal": self.deal, "time": iso(self.ts), "kind": self.kind,
                "payload": self.payload, "rule": self.rule, "span": self.span}


@dataclass(frozen=True)
class StoredReject:
    """A line that was not applied: where it came from, the line itself and why."""

    source: str
    line: int
    raw: str
    reason: str
    at: float = 0.0          # wall-clock time it was rejected
    seq: int = 0


@dataclass(frozen=True)
class StageCount:
    funnel: str
    stage: str
    spec_hash: str
    deals: int


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0
    delivered: int = 0
    dead: int = 0


class Transaction(Protocol):
    """What one transaction can do; every change is kept or dropped with the others."""

    def claim_event(self, event_id: str, deal: str) -> bool:
        """Remember the event id; True when it was new (apply the event), False when seen before (skip it)."""

    def applied_events(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids were claimed before (committed, or earlier in this transaction): one
        look for a whole batch, so a line seen before is skipped without touching its deal."""

    def load_deal(self, deal: str, wait: bool = True) -> StoredDeal | None:
        """The deal's stored state, the deal locked until the transaction ends; None when unknown.

        wait=False: raise DealBusy at once when another process's transaction holds the deal, instead of
        waiting for it (the run loop hands that deal's events to a later batch)."""

    def save_deal(self, deal: StoredDeal) -> None:
        """Insert or replace the deal's row."""

    def add_actions(self, actions: Iterable[OutboxAction]) -> None:
        """Queue actions for delivery (status pending); an id already queued is ignored."""

    def add_reject(self, reject: StoredReject) -> None:
        """Keep a rejected line with its reason."""

    def due_deals(self, until: float, limit: int = 1000) -> list[str]:
        """Deals whose next timer is due at or before `until`, earliest first (PostgreSQL: skipping rows
        another process holds)."""

    def get_meta(self, key: str) -> str | None:
        """A meta value (spec hash, event clock position); None when unset."""

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value."""

    def add_meta(self, key: str, n: int) -> None:
        """Add `n` to a whole-number meta value (unset counts as 0) without reading it first: one statement,
        and two processes adding side by side lose neither's part."""


class Store(Protocol):
    """A funnel store: transactions for applying events, short calls for reading and for delivery."""

    target: str

    def transaction(self) -> AbstractContextManager[Transaction]:
        """`with store.transaction() as tx:` commits when the block ends, rolls back on an exception."""

    def close(self) -> None:
        """Release the connection(s)."""

    # reading (no lock; a consistent snapshot per call) ----------------------------

    def deal(self, deal: str) -> StoredDeal | None:
        """One deal, or None."""

    def deals(self) -> Iterator[StoredDeal]:
        """Every deal, sorted by id."""

    def stage_counts(self) -> list[StageCount]:
        """How many deals stand in each (funnel, stage, spec hash), sorted."""

    def actions(self, deal: str | None = None, status: str | None = None, limit: int | None = None
                ) -> list[OutboxAction]:
        """Outbox actions in the order they were added, optionally of one deal and/or one status."""

    def outbox_counts(self) -> OutboxCounts:
        """How many actions are pending, delivered, dead."""

    def rejects(self, limit: int | None = None) -> list[StoredReject]:
        """Rejected lines in the order they came."""

    def meta(self, key: str) -> str | None:
        """A meta value outside any transaction."""

    # delivery --------------------------------------------------------------------

    def pending_actions(self, now: float, limit: int = 100) -> list[OutboxAction]:
        """Pending actions whose next try is at or before `now`, in the order they were added."""

    def mark_delivered(self, ids: Iterable[str], at: float) -> None:
        """These actions arrived: they leave the pending list (delivered is kept, for `funnel state`)."""

    def record_failure(self, action_id: str, error: str, next_try: float, dead_after: int) -> bool:
        """One more failed attempt; the action waits until `next_try`, or becomes dead after `dead_after`
        attempts. True when it is now dead."""


def check_schema(store: Store, name: str, version: str) -> None:
    """Record `version` in a new store; raise StoreError when the store was made by another version."""
    with store.transaction() as tx:
        found = tx.get_meta("schema")
        if found is None:
            tx.set_meta("schema", version)
        elif found != version:
            raise StoreError(f"{name}: store schema version {found}, this funnel reads {version}")


def actions_query(table: str, columns: str, mark: str, deal: str | None, status: str | None,
                  limit: int | None) -> tuple[str, list]:
    """The SQL (and its arguments) of `Store.actions` for either database: `mark` is its placeholder."""
    where, args = [], []
    if deal is not None:
        where.append(f"deal = {mark}")
        args.append(deal)
    if status is not None:
        where.append(f"status = {mark}")
        args.append(status)
    query = f"SELECT {columns} FROM {table}"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY seq"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return query, args


def open_store(target: str) -> Store:
    """The store at `target`: a `postgresql://` (or `postgres://`) URL, else a SQLite file path.

    Raises StoreError with a message for the user when it cannot be opened.
    """
    if target.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres_store import PostgresStore
        except ImportError as err:
            raise StoreError(f"PostgreSQL stores need the `postgres` extra "
                             f"(pip install 'funnelspec[postgres]'): {err}") from None
        return PostgresStore(target)
    from .sqlite_store import SqliteStore

    return SqliteStore(target)
