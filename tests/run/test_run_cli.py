"""`funnel run` and `funnel state` as a user types them: errors with messages and exit codes, and what
`funnel state` shows (snapshots)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
EVENTS = [
    {"id": "e1", "deal": "D1", "ts": "2026-03-02T10:00:00Z", "type": "created",
     "fields": {"budget": 1000, "manager": "Иванова"}},
    {"id": "e2", "deal": "D2", "ts": "2026-03-02T11:00:00Z", "type": "created", "fields": {"budget": 500}},
    {"id": "e3", "deal": "D1", "ts": "2026-03-03T10:00:00Z", "type": "moved", "to": "proposal"},
    {"id": "e4", "deal": "D1", "ts": "2026-03-12T10:00:00Z", "type": "event", "name": "payment",
     "data": {"amount": 400}},
    {"id": "e4", "deal": "D1", "ts": "2026-03-12T10:00:00Z", "type": "event", "name": "payment",
     "data": {"amount": 400}},
    {"id": "e5", "deal": "D2", "ts": "2026-03-20T09:00:00Z", "type": "moved", "to": "won"},
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copy(HERE / "timers.funnel", tmp_path / "timers.funnel")
    lines = [json.dumps(e, ensure_ascii=False) for e in EVENTS]
    lines.insert(3, "{not json")
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def ran(workdir, cli):
    result = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl",
                 "--actions", "actions.jsonl", "--format", "json")
    assert result.exit_code == 0, result.output
    return workdir


def test_run_summary_and_delivered_actions(ran, cli):
    result = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl", "--format", "json")
    summary = json.loads(result.output)
    assert summary["lines"] == 0 and summary["outbox"] == {"pending": 0, "delivered": 5, "dead": 0}
    delivered = [json.loads(line) for line in (ran / "actions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(a["id"], a["kind"]) for a in delivered] == [("D1:1", "task"), ("D2:1", "task"), ("D1:2", "notify"), ("D1:3", "set"),
                                                         ("D1:4", "notify")]


@pytest.mark.parametrize("view", [("deal", "D1"), ("deal", "D2"), ("outbox",), ("rejects",), ("summary",)],
                         ids=lambda v: "-".join(v))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_state_views(ran, cli, snapshot, view, fmt):
    result = cli("state", "state.db", *view, "--format", fmt)
    assert result.exit_code == 0, result.output
    output = result.output
    if view == ("rejects",) and fmt == "json":      # when a line was rejected is the wall clock's
        data = json.loads(output)
        for reject in data["rejects"]:
            reject["at"] = "<wall clock>"
        output = json.dumps(data, ensure_ascii=False, indent=2)
    assert output == snapshot


def test_state_summary_in_russian(ran, cli):
    result = cli("state", "state.db", "summary", "--lang", "ru")
    assert result.exit_code == 0, result.output
    assert "\nДиагностика\n" in result.output and "\nDiagnosis\n" not in result.output
    assert cli("state", "state.db", "summary", "--format", "json", "--lang", "ru").output == \
        cli("state", "state.db", "summary", "--format", "json").output
    deal = cli("state", "state.db", "deal", "D1", "--lang", "ru")
    assert deal.exit_code == 2 and "--lang is for `summary` only" in deal.output


def test_state_errors(ran, cli):
    missing = cli("state", "nope.db")
    assert missing.exit_code == 2 and "nope.db: no such store" in missing.output
    unknown = cli("state", "state.db", "deal", "D9")
    assert unknown.exit_code == 1 and 'no deal "D9"' in unknown.output
    bad = cli("state", "state.db", "deals")
    assert bad.exit_code == 2 and "expected one of deal ID, summary, outbox, rejects" in bad.output
    no_id = cli("state", "state.db", "deal")
    assert no_id.exit_code == 2 and "needs the deal's id" in no_id.output


def test_run_errors(workdir, cli):
    missing = cli("run", "nope.funnel", "--state", "state.db", "--events", "events.jsonl")
    assert missing.exit_code == 2 and "nope.funnel" in missing.output
    no_events = cli("run", "timers.funnel", "--state", "state.db", "--events", "nope.jsonl")
    assert no_events.exit_code == 2 and "nope.jsonl" in no_events.output
    bad_store = cli("run", "timers.funnel", "--state", "no/such/folder/state.db", "--events", "events.jsonl")
    assert bad_store.exit_code == 2 and "no/such/folder/state.db: cannot open the store" in bad_store.output
    (workdir / "notes.txt").write_text("not a database\n" * 200)
    not_store = cli("run", "timers.funnel", "--state", "notes.txt", "--events", "events.jsonl")
    assert not_store.exit_code == 2 and "notes.txt" in not_store.output
    bad_pair = cli("run", "timers.funnel", "--state", "state.db", "--migrate", "proposal")
    assert bad_pair.exit_code == 2 and "`proposal` is not OLD=NEW" in bad_pair.output


def test_a_spec_with_errors_is_refused(workdir, cli):
    text = (workdir / "timers.funnel").read_text(encoding="utf-8")
    (workdir / "broken.funnel").write_text(text.replace("new -> proposal", "new -> proposl"), encoding="utf-8")
    result = cli("run", "broken.funnel", "--state", "state.db", "--events", "events.jsonl")
    assert result.exit_code == 1
    assert "unknown stage `proposl`" in result.output and "runs only a spec that `funnel lint` passes" in result.output
    assert not (workdir / "state.db").exists()


def test_on_error_stop_names_the_line(workdir, cli):
    result = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl", "--on-error", "stop")
    assert result.exit_code == 2
    assert "events.jsonl:4: not JSON: Expecting property name enclosed in double quotes" in result.output


def test_a_spec_change_needs_the_removed_stages_mapped(ran, cli):
    text = (ran / "timers.funnel").read_text(encoding="utf-8")
    edited = text.replace("proposal", "offer").replace("# A small", "# A comment line that shifts every rule.\n# A small")
    (ran / "timers.funnel").write_text(edited, encoding="utf-8")
    refused = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl")
    assert refused.exit_code == 2
    assert "deals stand in stages this spec no longer has: `proposal` of funnel `timers` (1 deal)" in refused.output
    assert "--migrate OLD=NEW" in refused.output
    wrong = cli("run", "timers.funnel", "--state", "state.db", "--migrate", "proposal=offr")
    assert wrong.exit_code == 2 and "the spec has no stage `offr`" in wrong.output
    moved = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl",
                "--migrate", "proposal=offer")
    assert moved.exit_code == 0, moved.output
    deal = json.loads(cli("state", "state.db", "deal", "D1", "--format", "json").output)
    assert deal["stage"] == "offer" and [v["stage"] for v in deal["path"]] == ["new", "offer"]
    assert [t["rule"] for t in deal["timers"]] == [     # kept, under the names the renamed stage gives them
        'every 7d in offer while paid < budget: notify "Remind about the payment"', "after 30d in offer: move to lost"]
    again = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl")
    assert again.exit_code == 0, again.output            # migrated for good: no --migrate needed any more


def test_a_run_in_process_puts_back_the_signal_handlers(workdir, cli):
    """`funnel run` stops cleanly on SIGTERM while it runs; afterwards the process's handlers are its own
    again (a process forked later, such as a replay worker, must not inherit the loop's stop)."""
    import signal

    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result = cli("run", "timers.funnel", "--state", "state.db", "--events", "events.jsonl")
    assert result.exit_code == 0, result.output
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
