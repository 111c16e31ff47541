"""JSON nested deeper than docs/limits.md allows: a clear error naming the input, never RecursionError.

The event stream's own reader (engine/events.py) limits a line's size and
depth; these cover what reaches validation as Python values (the API), and
the other JSON inputs: results files (`funnel report`, `graph --results`),
journeys (`funnel test`) and baselines.
"""
from __future__ import annotations

import pytest

from conftest import CASES
from funnelspec.api import analyse
from funnelspec.dsl.limits import MAX_NESTING, nesting_exceeds
from funnelspec.engine.simulate import replay_events

SPEC = CASES / "replay" / "timer_every" / "spec.funnel"
DEEP = "[" * 100_000 + "]" * 100_000


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_nesting_is_measured_without_recursion():
    assert not nesting_exceeds(nested(MAX_NESTING - 1))
    assert nesting_exceeds(nested(MAX_NESTING + 1))
    assert nesting_exceeds(nested(100_000))
    assert not nesting_exceeds([[1]] * 10_000)


@pytest.mark.parametrize("event, reason", [
    ({"id": 1, "deal": nested(1000), "ts": "2026-01-01", "type": "created", "fields": {"budget": 1}},
     "an event with lists or objects nested more than 64 levels deep"),
    ({"id": 1, "deal": "D1", "ts": "2026-01-01", "type": "created", "fields": {"budget": nested(100_000)}},
     'field "budget" must be money, got a value nested more than 64 levels deep'),
    ({"id": 1, "deal": "D1", "ts": nested(100_000), "type": "created", "fields": {"budget": 1}},
     "an event with lists or objects nested more than 64 levels deep"),
])
def test_a_deeply_nested_event_is_a_rejected_line(event, reason):
    spec = analyse(str(SPEC), lint=False).spec
    good = {"id": 2, "deal": "D2", "ts": "2026-01-01", "type": "created", "fields": {"budget": 1}}
    result = replay_events(spec, [event, good], on_error="skip")
    assert [r.reason for r in result.rejects] == [reason]
    assert [o.deal for o in result.outcomes] == ["D2"]


def test_a_deeply_nested_line_is_rejected_with_on_error_skip(cli, tmp_path):
    events = tmp_path / "deep.jsonl"
    deal = '{"a": ' * 200 + "1" + "}" * 200
    events.write_text(f'{{"id": 1, "deal": {deal}, "ts": "2026-01-01", "type": "created", "fields": {{"budget": 1}}}}\n'
                      '{"id": 2, "deal": "D2", "ts": "2026-01-01", "type": "created", "fields": {"budget": 1}}\n',
                      encoding="utf-8")
    run = cli("simulate", str(SPEC), "--events", str(events), "--on-error", "skip")
    assert run.exit_code == 0 and "1 applied + 1 rejected" in run.stdout
    assert "deep.jsonl:1: rejected: JSON nested more than 64 levels deep" in run.stderr   # the reader's refusal


@pytest.mark.parametrize("text", [DEEP, '{"outcomes": [' + DEEP + "]}",
                                  '{"schema_version": 1, "outcomes": [{"deal": ' + "[" * 500 + "]" * 500 + "}]}"])
@pytest.mark.parametrize("command", [("report", "FILE"), ("graph", str(SPEC), "--results", "FILE")])
def test_a_deeply_nested_results_file_is_an_error_naming_it(cli, tmp_path, text, command):
    results = tmp_path / "results.json"
    results.write_text(text, encoding="utf-8")
    run = cli(*[str(results) if c == "FILE" else c for c in command])
    assert run.exit_code == 2
    assert f"{results}" in run.stderr and "nested more than 64 levels deep" in run.stderr


def test_a_deeply_nested_results_line_names_its_line(cli, tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text('{"record": "summary", "schema_version": 1}\n{"record": "outcome", "deal": ' + DEEP + "}\n",
                       encoding="utf-8")
    run = cli("report", str(results))
    assert run.exit_code == 2 and f"{results}:2: lists or objects nested more than 64 levels deep" in run.stderr


@pytest.mark.parametrize("line", [
    '  {"ts": "2026-03-02T09:00:00Z", "type": "created", "fields": {"budget": ' + DEEP + "}}",
    '  {"ts": "2026-03-02T09:00:00Z", "type": "created", "fields": {"budget": ' + "[" * 300 + "]" * 300 + "}}",
    "  expect action notify " + '{"a": ' * 500 + "1" + "}" * 500,
])
def test_a_deeply_nested_journey_is_an_error_naming_its_line(cli, tmp_path, line):
    (tmp_path / "spec.funnel").write_text(SPEC.read_text(encoding="utf-8"), encoding="utf-8")
    journeys = tmp_path / "deep.funnel-test"
    journeys.write_text('spec spec.funnel\n\njourney "deep"\n'
                        '  {"ts": "2026-03-01T09:00:00Z", "type": "created", "fields": {"budget": 1}}\n'
                        f"{line}\n", encoding="utf-8")
    run = cli("test", str(journeys))
    assert run.exit_code == 2
    assert "deep.funnel-test:5: " in run.stdout + run.stderr
    assert "nested more than 64 levels deep" in run.stdout + run.stderr


def test_a_deeply_nested_baseline_is_an_error_naming_it(tmp_path):
    from funnelspec.dsl.baseline import BaselineError, read_baseline

    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"findings": ' + DEEP + "}", encoding="utf-8")
    with pytest.raises(BaselineError, match="baseline.json: not a baseline: lists or objects nested more than 64"):
        read_baseline(str(baseline))
