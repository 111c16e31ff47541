"""Two `funnel run` processes share one PostgreSQL store and one stream: every event is applied once.

Both read the whole stream; the store's locks decide which one applies each
event. The end state must be exactly that of one process running alone (on
SQLite), which it can only be if no event was applied twice or skipped, and
no deal was changed by both at once (a lost update would change its state).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES
from funnelspec.run.store import open_store
from run_helpers import final_state, run_once

SPEC = str(EXAMPLES / "crm_opportunities.funnel")
EVENTS = str(EXAMPLES / "crm_opportunities.events.jsonl")


def _funnel(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "funnelspec", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_processes_share_a_stream_and_apply_each_event_once(postgres_server, tmp_path):
    alone = str(tmp_path / "alone.db")
    run_once(SPEC, EVENTS, alone)
    url = postgres_server.new_database()
    open_store(url).close()               # the tables exist before the two start (they would race for it)
    runs = [_funnel("run", SPEC, "--state", url, "--events", EVENTS, "--clock", "event", "--format", "json")
            for _ in range(2)]
    summaries = []
    for process in runs:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        summaries.append(json.loads(out))
    lines = sum(1 for line in open(EVENTS, encoding="utf-8") if line.strip())
    # every line was looked at by both; each event applied by exactly one of them, the other saw a duplicate
    assert sum(s["applied"] for s in summaries) == final_state_applied(url)
    assert sum(s["applied"] + s["duplicates"] + s["rejected"] for s in summaries) == 2 * lines
    shared, single = final_state(url), final_state(alone)
    assert shared["deals"] == single["deals"]
    assert shared["actions"] == single["actions"]


def final_state_applied(url: str) -> int:
    """How many distinct events the store remembers as applied."""
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM funnel_events").fetchone()[0]
