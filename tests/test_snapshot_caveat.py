"""A stream rebuilt from a snapshot says so (`# snapshot: NOTE` first line, or `simulate --snapshot`), and every
report of it carries the caveat: text, JSON, CSV and HTML, from a fresh replay and from a saved result."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from conftest import CASES
from funnelspec.api import simulate
from funnelspec.engine.events import SNAPSHOT_NOTE, snapshot_note
from funnelspec.engine.parallel import can_fork

CASE = CASES / "figures" / "moscow_midnight"
NOTE = "rebuilt from the stages of 1 April"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    work = tmp_path / "case"
    shutil.copytree(CASE, work)
    events = (work / "events.jsonl").read_text(encoding="utf-8")
    (work / "snap.jsonl").write_text(f"# snapshot: {NOTE}\n" + events, encoding="utf-8")
    (work / "late.jsonl").write_text(events + f"# snapshot: {NOTE}\n", encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def run_report(cli, events: str, fmt: str, *extra: str) -> str:
    result = cli("simulate", "spec.funnel", "--events", events, "--report", fmt, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_report_format_carries_the_streams_caveat(folder, cli):
    caveat = f"Built from a snapshot: {NOTE}."
    assert json.loads(run_report(cli, "snap.jsonl", "json"))["snapshot"] == NOTE
    assert caveat in run_report(cli, "snap.jsonl", "text")
    assert f'<p class="caveat">{caveat}</p>' in run_report(cli, "snap.jsonl", "html")
    rows = list(csv.DictReader(io.StringIO(run_report(cli, "snap.jsonl", "csv"))))
    assert [r["value"] for r in rows if r["section"] == "caveat"] == [NOTE]


def test_a_stream_that_does_not_say_so_has_no_caveat(folder, cli):
    for events in ("events.jsonl", "late.jsonl"):       # only the first line can say it
        assert json.loads(run_report(cli, events, "json"))["snapshot"] is None
        assert "snapshot" not in run_report(cli, events, "text")
        assert 'class="caveat"' not in run_report(cli, events, "html")


def test_the_flag_says_it_for_any_stream(folder, cli):
    assert json.loads(run_report(cli, "events.jsonl", "json", "--snapshot"))["snapshot"] == SNAPSHOT_NOTE


def test_a_saved_result_keeps_the_caveat_for_funnel_report(folder, cli):
    for fmt in ("json", "jsonl"):
        result = cli("simulate", "spec.funnel", "--events", "snap.jsonl", "--format", fmt, "-o", f"result.{fmt}")
        assert result.exit_code == 0, result.output
        report = cli("report", f"result.{fmt}", "--report", "json")
        assert report.exit_code == 0, report.output
        assert json.loads(report.stdout)["snapshot"] == NOTE
    saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert saved["snapshot"] == NOTE
    saved["snapshot"] = 7
    (folder / "bad.json").write_text(json.dumps(saved), encoding="utf-8")
    bad = cli("report", "bad.json")
    assert bad.exit_code == 2
    assert "`snapshot` must be the caveat's text" in bad.output


def test_the_python_api_reads_the_first_line(folder):
    assert simulate("spec.funnel", "snap.jsonl").snapshot == NOTE
    assert simulate("spec.funnel", "events.jsonl").snapshot is None


@pytest.mark.skipif(not can_fork(), reason="workers are forked processes")
def test_workers_read_the_first_line_too(folder, cli):
    assert run_report(cli, "snap.jsonl", "json", "--workers", "2") == run_report(cli, "snap.jsonl", "json")
    stdin = (folder / "snap.jsonl").read_text(encoding="utf-8")
    result = cli("simulate", "spec.funnel", "--events", "-", "--report", "json", "--workers", "2", input=stdin)
    assert json.loads(result.stdout)["snapshot"] == NOTE


@pytest.mark.parametrize("line, note", [
    ("# snapshot: as of 2017-12-31", "as of 2017-12-31"),
    ("#snapshot", SNAPSHOT_NOTE),
    (b"# snapshot\n", SNAPSHOT_NOTE),
    ("# snapshots are nice", None),
    ("# a comment", None),
    ('{"id": 1}', None),
])
def test_the_snapshot_line(line, note):
    assert snapshot_note(line) == note


def test_events_given_as_dicts_are_no_snapshot(folder):
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert simulate("spec.funnel", events).snapshot is None
