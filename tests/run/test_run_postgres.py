"""Two `funnel run` processes share one PostgreSQL store and one stream: every event is applied once.

Both read the stream (one that starts after the other committed a batch reads on from the
position the store keeps, as a restart does). An event already applied is skipped without
touching its deal; a deal the other process holds is left to it (its lines
offered again in a later batch), so each takes the deals the other is not
working on and the load spreads. The end state must be exactly that of one process running alone (on
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
    events = tmp_path / "events.jsonl"           # the first 8,000 lines (a `# snapshot:` comment, then events)
    with open(EVENTS, encoding="utf-8") as source:
        events.write_text("".join(line for _, line in zip(range(8000), source)), encoding="utf-8")
    alone = str(tmp_path / "alone.db")
    single_totals = run_once(SPEC, str(events), alone)
    url = postgres_server.new_database()
    open_store(url).close()               # the tables exist before the two start (they would race for it)
    runs = [_funnel("run", SPEC, "--state", url, "--events", str(events), "--clock", "event", "--format", "json")
            for _ in range(2)]
    summaries = []
    for process in runs:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        summaries.append(json.loads(out))
    lines = sum(1 for line in events.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    # each event applied by exactly one of them; the other saw it as a duplicate, or had not read it because
    # it started after the first batches were stored (it reads on from the stored position, as a restart does)
    assert sum(s["applied"] for s in summaries) == final_state_applied(url) == single_totals.applied
    for summary in summaries:
        assert summary["applied"] + summary["duplicates"] + summary["rejected"] <= lines
    shared, single = final_state(url), final_state(alone)
    assert shared["deals"] == single["deals"]
    assert shared["actions"] == single["actions"]


def final_state_applied(url: str) -> int:
    """How many distinct events the store remembers as applied."""
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM funnel_events").fetchone()[0]


def test_a_deal_another_process_holds_is_deferred_and_the_rest_applied(postgres_server):
    """The load spreads: a process does not wait for a deal another one is working on, it takes other deals."""
    from funnelspec.api import analyse
    from funnelspec.engine.compile import compile_spec
    from funnelspec.run.engine import RunEngine
    from funnelspec.run.store import DealBusy

    url = postgres_server.new_database()
    spec = compile_spec(analyse(str(EXAMPLES / "crm_opportunities.funnel")).spec)
    events = [json.loads(line) for line in open(EVENTS, encoding="utf-8") if not line.startswith("#")][:200]
    busy = events[0]["deal"]
    holder, engine = open_store(url), RunEngine(spec, open_store(url), hash="h")
    with holder.transaction() as tx:
        tx.load_deal(busy)                                  # another process is working on this deal
        with pytest.raises(DealBusy):
            with engine.store.transaction() as other:
                other.load_deal(busy, wait=False)
        results = engine.ingest_lines([(n, e, e) for n, e in enumerate(events, 1)], "s", defer_busy=True)
    deferred = [r for r in results if r.status == "deferred"]
    assert deferred and {r.deal for r in deferred} == {busy}
    assert all(r.status == "applied" for r in results if r.deal != busy)
    assert engine.store.deal(busy) is None                  # nothing of it was applied, nor claimed
    again = engine.ingest_lines([(r.line, events[r.line - 1], events[r.line - 1]) for r in deferred], "s")
    assert [r.status for r in again] == ["applied"] * len(deferred)
    holder.close(), engine.store.close()
