"""The speed benchmark's workload: seeded, and the hand-written replays agree with the engine.

bench/plain.py ends every deal where the engine does; bench/plain_result.py
writes the same outcomes and actions as `funnel simulate --format json`. The
benchmark checks this before it shows a time; here it is checked on a
small stream so that a change of the engine's semantics (or of the workload)
is caught by the tests, not first by `make bench`.
"""
from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench.plain import replay as replay_by_hand  # noqa: E402
from bench.plain_result import replay_result  # noqa: E402
from bench.workload import generate, write_spec  # noqa: E402

from funnelspec.api import simulate  # noqa: E402


def test_the_same_seed_gives_the_same_stream(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert generate(first, 300) == generate(second, 300)
    assert first.read_bytes() == second.read_bytes()
    assert generate(tmp_path / "c.jsonl", 300, seed=8) and (tmp_path / "c.jsonl").read_bytes() != first.read_bytes()


def test_the_hand_written_replay_ends_every_deal_where_the_engine_does(tmp_path):
    spec = write_spec(tmp_path)
    events = tmp_path / "events.jsonl"
    count = generate(events, 2_000)
    result = simulate(str(spec), str(events))
    ours = {o.deal: o.stage for o in result.outcomes}
    theirs, replayed, _ = replay_by_hand(str(events))
    assert replayed == count == result.totals.applied
    assert theirs == ours
    assert {"won", "lost", "negotiation"} <= set(ours.values()), "the workload must reach the far stages"


def test_the_hand_written_job_writes_the_outcomes_and_actions_the_command_does(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path)
    count = generate(tmp_path / "events.jsonl", 2_000)
    done = cli("simulate", "pipeline.funnel", "--events", "events.jsonl", "--format", "json", "-o", "ours.json")
    assert done.exit_code == 0, done.output
    made = replay_result("events.jsonl", "theirs.json", "pipeline.funnel")
    ours = json.loads((tmp_path / "ours.json").read_text(encoding="utf-8"))
    assert made == (count, len(ours["actions"]))
    theirs = json.loads((tmp_path / "theirs.json").read_text(encoding="utf-8"))
    assert theirs["outcomes"] == ours["outcomes"]
    assert theirs["actions"] == ours["actions"]
    assert {a["kind"] for a in ours["actions"]} == {"set", "move", "task", "notify"}
