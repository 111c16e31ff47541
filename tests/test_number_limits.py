"""Numbers past the limits of docs/limits.md: a diagnostic in the spec, a rejected line in the events.

The lint case FNL005/number_too_large and the replay case numbers_out_of_range
show what users see; these cover every command and the decoders that accept
NaN and infinity (the standard library's, and Python values given to the API).
"""
from __future__ import annotations

import json
import math

import pytest

from conftest import CASES
from funnelspec.api import analyse
from funnelspec.engine.simulate import replay_events

SPEC = CASES / "replay" / "numbers_out_of_range" / "spec.funnel"


@pytest.mark.parametrize("command, code", [(("lint",), 1), (("fmt", "--check"), 2), (("export",), 1), (("graph",), 1),
                                           (("simulate", "--events", "EVENTS"), 1)])
@pytest.mark.parametrize("digits", [310, 4400])
def test_a_huge_literal_is_a_diagnostic_in_every_command(cli, tmp_path, command, code, digits):
    """fmt exits 2 on a file it cannot parse, as for any syntax error."""
    spec = tmp_path / "huge.funnel"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("paid >= budget", "paid >= " + "9" * digits),
                    encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"id": 1, "deal": "D1", "ts": "2026-01-01", "type": "created", "fields": {"budget": 1}}\n',
                      encoding="utf-8")
    run = cli(*[c if c != "EVENTS" else str(events) for c in command[:1]], str(spec),
              *[c if c != "EVENTS" else str(events) for c in command[1:]])
    assert run.exit_code == code
    assert "error[FNL005]" in run.stderr + run.stdout and "is too large" in run.stderr + run.stdout


@pytest.mark.parametrize("value, reason", [
    (math.nan, 'field "budget" must be a finite number, got NaN'),
    (math.inf, 'field "budget" must be a finite number, got Infinity'),
    (-math.inf, 'field "budget" must be a finite number, got -Infinity'),
    (1e308, 'field "budget" is 1e+308, too large: a number has at most 15 digits in its whole part'),
    (10 ** 15, 'field "budget" is 1000000000000000, too large'),
    (-(10 ** 30), 'field "budget" is -1000000000000000000000000000000, too large'),
])
def test_nan_infinity_and_huge_numbers_are_rejected_lines(value, reason):
    spec = analyse(str(SPEC), lint=False).spec
    events = [{"id": 1, "deal": "D1", "ts": "2026-01-01", "type": "created", "fields": {"budget": value}},
              {"id": 2, "deal": "D2", "ts": "2026-01-01", "type": "created", "fields": {"budget": 999_999_999_999_999}}]
    result = replay_events(spec, events, on_error="skip")
    assert [r.reason[:len(reason)] for r in result.rejects] == [reason]
    assert [o.deal for o in result.outcomes] == ["D2"]


def test_an_overflowing_set_is_a_problem_and_the_result_stays_json(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(SPEC.parent)
    run = cli("simulate", "spec.funnel", "--events", "events.csv", "--on-error", "skip", "--format", "json")
    result = json.loads(run.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the result"))
    assert [p["message"].split("`: ", 1)[1] for p in result["problems"]] == [   # after "rule `NAME`: "
        "set failed: the result is too large: a number has at most 15 digits in its whole part",
        "set failed: the result is not a finite number"]


def test_the_standard_library_decoder_path_rejects_nan_infinity_and_1e400(cli, tmp_path, monkeypatch):
    """Without orjson (the `fast` extra), json.loads reads NaN, Infinity and 1e400 as floats."""
    import json as stdlib_json

    from funnelspec.engine import events as reader

    monkeypatch.setattr(reader, "_loads", stdlib_json.loads)
    stream = tmp_path / "e.jsonl"
    stream.write_text("".join(
        f'{{"id": {i}, "deal": "D{i}", "ts": "2026-01-01", "type": "created", "fields": {{"budget": {value}}}}}\n'
        for i, value in enumerate(["NaN", "Infinity", "-Infinity", "1e400", "100"])), encoding="utf-8")
    run = cli("simulate", str(SPEC), "--events", str(stream), "--on-error", "skip")
    assert run.exit_code == 0 and "1 applied + 4 rejected" in run.stdout
    assert 'e.jsonl:1: rejected: field "budget" must be a finite number, got NaN' in run.stderr
    assert 'e.jsonl:4: rejected: field "budget" must be a finite number, got Infinity' in run.stderr
