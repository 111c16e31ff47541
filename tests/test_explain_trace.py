"""`funnel explain SPEC --events F --deal ID`: the traces of the replay case folders, and what they promise.

The snapshots trace every deal of each tests/cases/replay/<name>/ folder
(one per trigger kind, timer edge and rejected move), with the folder's
--moves and --until. Each trace must end where `funnel simulate` leaves the deal.
"""
from __future__ import annotations

import json
import shlex

import pytest

from conftest import CASES

REPLAY = CASES / "replay"
FOLDERS = sorted(p for p in REPLAY.iterdir() if (p / "events.jsonl").exists())
EXPLAIN = CASES / "explain"


def _options(folder) -> list[str]:
    """The folder's --moves and --until (other simulate options do not apply to a trace)."""
    args_file = folder / "args.txt"
    words = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.exists() else []
    kept = []
    for option in ("--moves", "--until"):
        if option in words:
            kept += [option, words[words.index(option) + 1]]
    return kept


def _deals(folder) -> list[str]:
    deals = []
    for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "created" and str(event.get("deal")) not in deals:
            deals.append(str(event["deal"]))
    return deals


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_trace_of_replay_case(folder, cli, monkeypatch, snapshot):
    monkeypatch.chdir(folder)
    parts = []
    for deal in _deals(folder):
        args = ["explain", "spec.funnel", "--events", "events.jsonl", "--deal", deal, *_options(folder)]
        result = cli(*args)
        parts += [f"$ funnel {shlex.join(args)}", f"exit {result.exit_code}", result.output]
    assert "\n".join(parts) == snapshot


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_trace_ends_where_simulate_leaves_the_deal(folder, cli, monkeypatch):
    monkeypatch.chdir(folder)
    options = _options(folder)
    simulated = json.loads(cli("simulate", "spec.funnel", "--events", "events.jsonl", "--on-error", "skip",
                               "--format", "json", *options).stdout)
    outcomes = {o["deal"]: o for o in simulated["outcomes"]}
    for deal in _deals(folder):
        if deal not in outcomes:
            continue            # created on a line that simulate rejects
        traced = json.loads(cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", deal,
                                "--format", "json", *options).stdout)
        assert traced["outcome"] == outcomes[deal], deal
        assert traced["until"] == simulated["until"]


def test_a_rule_that_did_not_fire_shows_its_first_failing_part_with_values(cli, monkeypatch):
    monkeypatch.chdir(EXPLAIN / "first_failing_part")
    result = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D1")
    assert result.exit_code == 0
    assert ("condition of `paid_in_full` does not hold: `paid >= budget`: 250000 >= 450000 is false"
            in result.output)
    assert "criterion of `proposal -> won` holds: `paid >= budget`: 450000 >= 450000 holds" in result.output


def test_trace_as_json_lists_steps_with_their_kinds(cli, monkeypatch):
    monkeypatch.chdir(EXPLAIN / "first_failing_part")
    trace = json.loads(cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D1",
                           "--format", "json").output)
    kinds = [s["kind"] for s in trace["steps"]]
    assert kinds[0] == "event" and "condition" in kinds and "moved" in kinds
    assert trace["outcome"]["stage"] == "won"


def test_unknown_deal_and_missing_options_are_usage_errors(cli, monkeypatch):
    monkeypatch.chdir(EXPLAIN / "first_failing_part")
    missing = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "nobody")
    assert missing.exit_code == 2 and 'no deal "nobody"' in missing.output
    near = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "d1")
    assert near.exit_code == 2 and 'the closest ids in the stream: "D1"' in near.stderr
    assert cli("explain", "spec.funnel", "--deal", "D1").exit_code == 2


def test_explain_code_is_unchanged(cli):
    result = cli("explain", "FNL102")
    assert result.exit_code == 0 and result.output.startswith("FNL102 unknown-stage")
    assert "FNL008" in cli("explain", "--list").output


def test_a_condition_is_said_once_per_step(cli):
    """A chain passing a stage twice evaluates a criterion twice; the trace says it once (issue 23)."""
    from funnelspec.engine.trace import Step, TracingReplayer

    replayer = TracingReplayer.__new__(TracingReplayer)
    replayer.steps = [Step(1.0, "event", "line 1: created", 0)]
    for _ in range(2):
        replayer._note(1.0, "condition", "criterion of `a -> b` does not hold: `x` is false")
    replayer._note(2.0, "event", "line 2: updated")
    replayer._note(2.0, "condition", "criterion of `a -> b` does not hold: `x` is false")
    assert [s.kind for s in replayer.steps] == ["event", "condition", "event", "condition"]
