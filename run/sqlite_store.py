"""The SQLite store: the standard library's sqlite3, one file, WAL journal.

Crash safety: WAL with synchronous=FULL, so a transaction that returned from
COMMIT is on disk even if the machine loses power (NORMAL would only survive
a crash of the process). Group commit keeps that affordable: the run loop
applies many events per transaction. One writer at a time (BEGIN IMMEDIATE);
each thread gets its own connection, so the delivery thread reads and marks
the outbox while the run loop writes (WAL lets readers run beside a writer).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Iterable, Iterator

from .store import (OutboxAction, OutboxCounts, StageCount, StoredDeal, StoredReject, StoreError, actions_query,
                    check_schema)

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, deal TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deals (
    deal TEXT PRIMARY KEY, funnel TEXT NOT NULL, stage TEXT NOT NULL, spec_hash TEXT NOT NULL,
    next_due REAL, state TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deals_due ON deals (next_due) WHERE next_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, deal TEXT NOT NULL, ts REAL NOT NULL,
    kind TEXT NOT NULL, payload TEXT NOT NULL, rule TEXT NOT NULL, span TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, error TEXT, delivered_at REAL);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_deal ON outbox (deal, seq);
CREATE TABLE IF NOT EXISTS rejects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, line INTEGER NOT NULL, raw TEXT NOT NULL,
    reason TEXT NOT NULL, at REAL NOT NULL);
"""
ACTION_COLUMNS = "id, deal, ts, kind, payload, rule, span, status, attempts, next_try, error, seq"


try:
    import orjson

    def _dumps(value) -> str:
        return orjson.dumps(value).decode()

    _loads = orjson.loads
except ImportError:       # orjson is optional (the `fast` extra): the standard library writes the same JSON
    def _dumps(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    _loads = json.loads


class SqliteTransaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def claim_event(self, event_id: str, deal: str) -> bool:
        cursor = self.db.execute("INSERT OR IGNORE INTO events (id, deal) VALUES (?, ?)", (event_id, deal))
        return cursor.rowcount == 1

    def applied_events(self, event_ids) -> set[str]:
        found: set[str] = set()
        ids = list(event_ids)
        for start in range(0, len(ids), 500):          # under SQLite's limit on bound values
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            found.update(row[0] for row in self.db.execute(f"SELECT id FROM events WHERE id IN ({marks})", part))
        return found

    def load_deal(self, deal: str, wait: bool = True) -> StoredDeal | None:
        # BEGIN IMMEDIATE made this the one writer: no other transaction can hold the deal
        row = self.db.execute("SELECT deal, funnel, stage, spec_hash, next_due, state FROM deals WHERE deal = ?",
                              (deal,)).fetchone()
        return None if row is None else _deal(row)

    def save_deal(self, deal: StoredDeal) -> None:
        self.db.execute("INSERT OR REPLACE INTO deals (deal, funnel, stage, spec_hash, next_due, state) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (deal.deal, deal.funnel, deal.stage, deal.spec_hash, deal.next_due, _dumps(deal.state)))

    def add_actions(self, actions: Iterable[OutboxAction]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO outbox (id, deal, ts, kind, payload, rule, span, next_try) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            [(a.id, a.deal, a.ts, a.kind, _dumps(a.payload), a.rule, _dumps(a.span)) for a in actions])

    def add_reject(self, reject: StoredReject) -> None:
        self.db.execute("INSERT INTO rejects (source, line, raw, reason, at) VALUES (?, ?, ?, ?, ?)",
                        (reject.source, reject.line, reject.raw, reject.reason, reject.at or time.time()))

    def due_deals(self, until: float, limit: int = 1000) -> list[str]:
        rows = self.db.execute("SELECT deal FROM deals WHERE next_due IS NOT NULL AND next_due <= ? "
                               "ORDER BY next_due, deal LIMIT ?", (until, limit))
        return [row[0] for row in rows]

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def add_meta(self, key: str, n: int) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                        "SET value = CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
                        (key, str(n)))


class SqliteStore:
    """A store in one SQLite file; `target` is its path (created with its folder's permission)."""

    def __init__(self, target: str):
        self.target = target
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        if os.path.isdir(target):
            raise StoreError(f"{target}: is a folder, not a store file")
        db = self._db()
        try:
            db.executescript(SCHEMA)        # autocommit: each CREATE ... IF NOT EXISTS is idempotent
        except sqlite3.DatabaseError as err:
            self.close()
            raise StoreError(f"{target}: not a funnel store ({err})") from None
        check_schema(self, target, SCHEMA_VERSION)

    # connections -----------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            except sqlite3.DatabaseError as err:
                raise StoreError(f"{self.target}: cannot open the store: {err}") from None
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    @contextmanager
    def transaction(self):
        db = self._db()
        with self._writing:      # this process's threads take turns here, not in SQLite's sleeping busy handler
            db.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()

    # reading ---------------------------------------------------------------------

    def deal(self, deal: str) -> StoredDeal | None:
        row = self._db().execute("SELECT deal, funnel, stage, spec_hash, next_due, state FROM deals WHERE deal = ?",
                                 (deal,)).fetchone()
        return None if row is None else _deal(row)

    def deals(self) -> Iterator[StoredDeal]:
        rows = self._db().execute("SELECT deal, funnel, stage, spec_hash, next_due, state FROM deals ORDER BY deal")
        for row in rows.fetchall():
            yield _deal(row)

    def stage_counts(self) -> list[StageCount]:
        rows = self._db().execute("SELECT funnel, stage, spec_hash, count(*) FROM deals "
                                  "GROUP BY funnel, stage, spec_hash ORDER BY funnel, stage, spec_hash")
        return [StageCount(*row) for row in rows]

    def actions(self, deal: str | None = None, status: str | None = None, limit: int | None = None
                ) -> list[OutboxAction]:
        query, args = actions_query("outbox", ACTION_COLUMNS, "?", deal, status, limit)
        return [_action(row) for row in self._db().execute(query, args)]

    def outbox_counts(self) -> OutboxCounts:
        counts = dict(self._db().execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        return OutboxCounts(counts.get("pending", 0), counts.get("delivered", 0), counts.get("dead", 0))

    def rejects(self, limit: int | None = None) -> list[StoredReject]:
        sql = "SELECT source, line, raw, reason, at, seq FROM rejects ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [StoredReject(*row) for row in self._db().execute(sql)]

    def meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # delivery --------------------------------------------------------------------

    def pending_actions(self, now: float, limit: int = 100) -> list[OutboxAction]:
        rows = self._db().execute(f"SELECT {ACTION_COLUMNS} FROM outbox WHERE status = 'pending' AND next_try <= ? "
                                  "ORDER BY seq LIMIT ?", (now, limit))
        return [_action(row) for row in rows]

    def mark_delivered(self, ids: Iterable[str], at: float) -> None:
        with self.transaction() as tx:
            tx.db.executemany("UPDATE outbox SET status = 'delivered', delivered_at = ?, error = NULL WHERE id = ?",
                              [(at, i) for i in ids])

    def record_failure(self, action_id: str, error: str, next_try: float, dead_after: int) -> bool:
        with self.transaction() as tx:
            tx.db.execute("UPDATE outbox SET attempts = attempts + 1, error = ?, next_try = ?, "
                          "status = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE status END WHERE id = ?",
                          (error, next_try, dead_after, action_id))
            row = tx.db.execute("SELECT status FROM outbox WHERE id = ?", (action_id,)).fetchone()
        return row is not None and row[0] == "dead"


def _deal(row) -> StoredDeal:
    return StoredDeal(row[0], row[1], row[2], row[3], row[4], _loads(row[5]))


def _action(row) -> OutboxAction:
    return OutboxAction(row[0], row[1], row[2], row[3], _loads(row[4]), row[5], _loads(row[6]),
                        row[7], row[8], row[9], row[10], row[11])
