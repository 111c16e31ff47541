"""The PostgreSQL store: psycopg 3, tables prefixed `funnel_` in the URL's database.

Several `funnel run` processes may share one such store. What keeps them apart:

- A deal is changed by one process at a time: `load_deal` takes a
  transaction-level advisory lock on the deal's id (which works as well for
  a deal that has no row yet), waiting for it, or with `wait=False` raising
  DealBusy so that the run loop hands the deal's events to a later batch
  and gets on with other deals: that is how the load spreads.
- An event is applied once: `claim_event` inserts its id under the deal's
  lock; the other process finds it there after the commit (or, if the
  first rolled back, claims it itself).
- A due timer is fired by one process: `due_deals` returns only the due
  deals whose lock it could take, and holds them until the commit that
  moves their timers on.
- A meta value read in a transaction (a running count, the event clock)
  is locked like a deal, so two processes adding to it lose nothing.
- Delivery: only one process at a time delivers (a session advisory lock
  held on a connection of its own; another process takes over when that
  connection goes), so the processes do not race each other to a webhook.

Two transactions that wait for each other (two processes with batches that
touch the same deals in different orders) are broken by PostgreSQL's
deadlock detector; the loser's transaction rolls back whole and raises
`StoreConflict`, and the run loop applies that batch again.

Values are `json` (not `jsonb`): it keeps the keys in the order written, so
a delivered action reads the same from either store.
"""
from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from typing import Iterable, Iterator

import psycopg
from psycopg import errors

from .store import (DealBusy, OutboxAction, OutboxCounts, StageCount, StoreConflict, StoredDeal, StoredReject,
                    StoreError, actions_query, check_schema)

SCHEMA_VERSION = "1"
# Advisory-lock keys of our own (64-bit); a deal's key is hashtextextended(deal, 0), rarely either of these,
# and a collision only makes two things wait for each other, never lets both in.
SCHEMA_LOCK = 0x46554E4E454C01   # "FUNNEL" 1: creating the tables
DELIVERY_LOCK = 0x46554E4E454C02  # "FUNNEL" 2: the process that delivers the outbox
SCHEMA = """
CREATE TABLE IF NOT EXISTS funnel_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS funnel_events (id text PRIMARY KEY, deal text NOT NULL);
CREATE TABLE IF NOT EXISTS funnel_deals (
    deal text PRIMARY KEY, funnel text NOT NULL, stage text NOT NULL, spec_hash text NOT NULL,
    next_due double precision, state json NOT NULL);
CREATE INDEX IF NOT EXISTS funnel_deals_due ON funnel_deals (next_due) WHERE next_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS funnel_outbox (
    seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, deal text NOT NULL, ts double precision NOT NULL,
    kind text NOT NULL, payload json NOT NULL, rule text NOT NULL, span json NOT NULL,
    status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
    next_try double precision NOT NULL DEFAULT 0, error text, delivered_at double precision);
CREATE INDEX IF NOT EXISTS funnel_outbox_pending ON funnel_outbox (seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS funnel_outbox_deal ON funnel_outbox (deal, seq);
CREATE TABLE IF NOT EXISTS funnel_rejects (
    seq bigserial PRIMARY KEY, source text NOT NULL, line integer NOT NULL, raw text NOT NULL,
    reason text NOT NULL, at double precision NOT NULL);
"""
DEAL_COLUMNS = "deal, funnel, stage, spec_hash, next_due, state"
ACTION_COLUMNS = "id, deal, ts, kind, payload, rule, span, status, attempts, next_try, error, seq"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


class PostgresTransaction:
    def __init__(self, db: psycopg.Connection):
        self.db = db

    def claim_event(self, event_id: str, deal: str) -> bool:
        cursor = self.db.execute("INSERT INTO funnel_events (id, deal) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                 (event_id, deal))
        return cursor.rowcount == 1

    def applied_events(self, event_ids) -> set[str]:
        rows = self.db.execute("SELECT id FROM funnel_events WHERE id = ANY(%s)", (list(event_ids),))
        return {row[0] for row in rows}

    def load_deal(self, deal: str, wait: bool = True) -> StoredDeal | None:
        # The lock first, then the read in a statement of its own: under READ COMMITTED each statement reads
        # a new snapshot, so the read sees the commit of whoever held the deal before us.
        if wait:
            self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (deal,))
        elif not self.db.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
                                 (deal,)).fetchone()[0]:
            raise DealBusy(deal)
        row = self.db.execute(f"SELECT {DEAL_COLUMNS} FROM funnel_deals WHERE deal = %s", (deal,)).fetchone()
        return None if row is None else _deal(row)

    def save_deal(self, deal: StoredDeal) -> None:
        self.db.execute(
            f"INSERT INTO funnel_deals ({DEAL_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (deal) DO UPDATE SET funnel = excluded.funnel, stage = excluded.stage, "
            "spec_hash = excluded.spec_hash, next_due = excluded.next_due, state = excluded.state",
            (deal.deal, deal.funnel, deal.stage, deal.spec_hash, deal.next_due, _dumps(deal.state)))

    def add_actions(self, actions: Iterable[OutboxAction]) -> None:
        rows = [(a.id, a.deal, a.ts, a.kind, _dumps(a.payload), a.rule, _dumps(a.span)) for a in actions]
        if rows:
            with self.db.cursor() as cursor:
                cursor.executemany("INSERT INTO funnel_outbox (id, deal, ts, kind, payload, rule, span) "
                                   "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING", rows)

    def add_reject(self, reject: StoredReject) -> None:
        self.db.execute("INSERT INTO funnel_rejects (source, line, raw, reason, at) VALUES (%s, %s, %s, %s, %s)",
                        (reject.source, reject.line, reject.raw, reject.reason, reject.at or time.time()))

    def due_deals(self, until: float, limit: int = 1000) -> list[str]:
        # The earliest due deals, less those another process holds (their timers wait for the next look).
        rows = self.db.execute(
            "SELECT deal FROM (SELECT deal, next_due FROM funnel_deals WHERE next_due IS NOT NULL "
            'AND next_due <= %s ORDER BY next_due, deal COLLATE "C" LIMIT %s) due '
            "WHERE pg_try_advisory_xact_lock(hashtextextended(deal, 0))", (until, limit))
        return [row[0] for row in rows]

    def get_meta(self, key: str) -> str | None:
        """Locks the value until the commit: callers read it to write it back changed (running counts, the
        event clock), and two processes doing that side by side must not lose one's change."""
        query = "SELECT value FROM funnel_meta WHERE key = %s FOR UPDATE"
        row = self.db.execute(query, (key,)).fetchone()
        if row is None:
            self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended('meta:' || %s, 0))", (key,))
            row = self.db.execute(query, (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO funnel_meta (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def add_meta(self, key: str, n: int) -> None:
        self.db.execute("INSERT INTO funnel_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                        "SET value = (funnel_meta.value::bigint + excluded.value::bigint)::text", (key, str(n)))


class PostgresStore:
    """A store in a PostgreSQL database; `target` is its `postgresql://` URL."""

    def __init__(self, target: str):
        self.target = target
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._delivery: psycopg.Connection | None = None      # holds the delivery lock when _leads
        self._leads = False
        db = self._db()
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))  # two processes starting at once
                db.execute(SCHEMA)
        except psycopg.Error as err:
            self.close()
            raise StoreError(f"{_safe(target)}: cannot create the store's tables: {err}") from None
        check_schema(self, _safe(target), SCHEMA_VERSION)

    # connections -----------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        try:
            db = psycopg.connect(self.target, autocommit=True, connect_timeout=10,
                                 application_name="funnel run")
        except psycopg.Error as err:
            raise StoreError(f"{_safe(self.target)}: cannot connect: {_first_line(err)}") from None
        with self._lock:
            self._all.append(db)
        return db

    def _db(self) -> psycopg.Connection:
        """This thread's connection: the run loop and the delivery thread never share a transaction."""
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = self._local.db = self._connect()
        return db

    @contextmanager
    def transaction(self):
        db = self._db()
        try:
            with db.transaction():
                yield PostgresTransaction(db)
        except (errors.DeadlockDetected, errors.SerializationFailure) as err:
            raise StoreConflict(f"{_safe(self.target)}: {_first_line(err)}") from None
        except psycopg.OperationalError as err:   # the server went away, or the connection broke
            raise StoreError(f"{_safe(self.target)}: {_first_line(err)}") from None

    def close(self) -> None:
        with self._lock:
            if self._leads and self._delivery is not None and not self._delivery.closed:
                # Let go now: the server would release it only once it noticed the connection was gone.
                try:
                    self._delivery.execute("SELECT pg_advisory_unlock(%s)", (DELIVERY_LOCK,))
                except psycopg.Error:
                    pass
            for db in self._all:
                db.close()
            self._all.clear()
            self._delivery = None
            self._leads = False
        self._local = threading.local()

    # reading ---------------------------------------------------------------------

    def _rows(self, query: str, args: tuple | list = ()) -> list[tuple]:
        return self._db().execute(query, args).fetchall()

    def deal(self, deal: str) -> StoredDeal | None:
        query = f"SELECT {DEAL_COLUMNS} FROM funnel_deals WHERE deal = %s"
        rows = self._rows(query, (deal,))
        return _deal(rows[0]) if rows else None

    def deals(self) -> Iterator[StoredDeal]:
        for row in self._rows(f"SELECT {DEAL_COLUMNS} FROM funnel_deals ORDER BY deal COLLATE \"C\""):
            yield _deal(row)

    def stage_counts(self) -> list[StageCount]:
        rows = self._rows('SELECT funnel, stage, spec_hash, count(*) FROM funnel_deals '
                          'GROUP BY funnel, stage, spec_hash '
                          'ORDER BY funnel COLLATE "C", stage COLLATE "C", spec_hash COLLATE "C"')
        return [StageCount(*row) for row in rows]

    def actions(self, deal: str | None = None, status: str | None = None, limit: int | None = None
                ) -> list[OutboxAction]:
        query, args = actions_query("funnel_outbox", ACTION_COLUMNS, "%s", deal, status, limit)
        return [_action(row) for row in self._rows(query, args)]

    def outbox_counts(self) -> OutboxCounts:
        counts = dict(self._rows("SELECT status, count(*) FROM funnel_outbox GROUP BY status"))
        return OutboxCounts(counts.get("pending", 0), counts.get("delivered", 0), counts.get("dead", 0))

    def rejects(self, limit: int | None = None) -> list[StoredReject]:
        query = "SELECT source, line, raw, reason, at, seq FROM funnel_rejects ORDER BY seq"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [StoredReject(*row) for row in self._rows(query)]

    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM funnel_meta WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    # delivery --------------------------------------------------------------------

    def _delivers(self) -> bool:
        """Whether this process is the one that delivers: it holds the delivery lock, or takes it now.

        The lock lives on a connection of its own, kept open: asking again costs one round trip, and a
        process that dies or loses that connection lets another take over."""
        with self._lock:
            db = self._delivery
            if self._leads and db is not None and not db.closed:
                return True
        if db is None or db.closed:
            db = self._connect()
            with self._lock:
                self._delivery = db
        self._leads = bool(db.execute("SELECT pg_try_advisory_lock(%s)", (DELIVERY_LOCK,)).fetchone()[0])
        return self._leads

    def pending_actions(self, now: float, limit: int = 100) -> list[OutboxAction]:
        if not self._delivers():
            return []       # another process delivers; this one takes over if that one's connection goes
        rows = self._rows(f"SELECT {ACTION_COLUMNS} FROM funnel_outbox WHERE status = 'pending' "
                          "AND next_try <= %s ORDER BY seq LIMIT %s", (now, limit))
        return [_action(row) for row in rows]

    def mark_delivered(self, ids: Iterable[str], at: float) -> None:
        ids = list(ids)
        if ids:
            self._db().execute("UPDATE funnel_outbox SET status = 'delivered', delivered_at = %s, error = NULL "
                               "WHERE id = ANY(%s)", (at, ids))

    def record_failure(self, action_id: str, error: str, next_try: float, dead_after: int) -> bool:
        row = self._db().execute(
            "UPDATE funnel_outbox SET attempts = attempts + 1, error = %s, next_try = %s, "
            "status = CASE WHEN attempts + 1 >= %s THEN 'dead' ELSE status END WHERE id = %s RETURNING status",
            (error, next_try, dead_after, action_id)).fetchone()
        return row is not None and row[0] == "dead"


def _deal(row) -> StoredDeal:
    return StoredDeal(row[0], row[1], row[2], row[3], row[4], row[5])


def _action(row) -> OutboxAction:
    return OutboxAction(*row)
