"""Times outside the supported years (1900-2200, docs/limits.md) are usage errors or rejected lines.

The replay cases time_range and until_out_of_range cover the event stream and
`simulate --until`; these cover the other commands that take a time.
"""
from __future__ import annotations

import pytest

from conftest import CASES

SPEC = CASES / "replay" / "timer_every" / "spec.funnel"
EVENTS = CASES / "replay" / "timer_every" / "events.jsonl"


@pytest.mark.parametrize("args, message", [
    (("--days", "100000000"), "--days: 100000000 days from 2026-01-05T09:00:00Z"),
    (("--start", "garbage"), "--start: `garbage` is not an ISO 8601 date and time"),
    (("--start", "1899-12-31T23:00:00Z"), "--start: `1899-12-31T23:00:00Z` is outside the supported time range"),
    (("--start", "2200-12-30T00:00:00Z"), "go past 2200-12-31, the end of the supported time range"),
])
def test_sample_refuses_a_window_outside_the_range(cli, args, message):
    run = cli("sample", str(SPEC), *args)
    assert run.exit_code == 2 and run.stdout == ""
    assert message in run.stderr and "Traceback" not in run.stderr


def test_sample_near_the_end_of_the_range_replays(cli, tmp_path):
    stream = cli("sample", str(SPEC), "--deals", "5", "--start", "2200-06-01T00:00:00Z", "--days", "30").stdout
    events = tmp_path / "late.jsonl"
    events.write_text(stream, encoding="utf-8")
    run = cli("simulate", str(SPEC), "--events", str(events))
    assert run.exit_code == 0 and "0 rejected" in run.stdout


@pytest.mark.parametrize("until, message", [
    ("0001-01-01T00:00+05:00", "is outside the supported time range 1900-01-01 to 2200-12-31 (UTC)"),
    ("9999-01-01", "is outside the supported time range"),
    ("garbage", "is not an ISO 8601 date or date and time"),
])
@pytest.mark.parametrize("command", [("simulate",), ("diff", str(SPEC)), ("explain", "--deal", "D1")])
def test_until_outside_the_range_is_a_usage_error(cli, command, until, message):
    name, *rest = command
    run = cli(name, str(SPEC), *rest, "--events", str(EVENTS), "--until", until)
    assert run.exit_code == 2 and f"--until: `{until}` {message}" in run.stderr


def test_the_api_refuses_an_until_outside_the_range():
    from funnelspec.engine.simulate import until_time
    from funnelspec.engine.values import OutOfRange

    for until in (1e20, "9999-12-31T23:59:59-10:00", -9223372036854775809):
        with pytest.raises(OutOfRange):
            until_time(until)
    assert until_time("2200-12-31T23:59:59Z") == 7289654399.0


def test_a_journey_out_of_the_range_is_an_error_naming_its_line(cli, tmp_path):
    (tmp_path / "spec.funnel").write_text(SPEC.read_text(encoding="utf-8"), encoding="utf-8")
    journeys = tmp_path / "far.funnel-test"
    journeys.write_text('spec spec.funnel\n\njourney "far until"\n'
                        '  {"ts": "2026-03-02T09:00:00Z", "type": "created", "fields": {"budget": 1}}\n'
                        "  until 9999-01-01\n  expect status open\n\n"
                        'journey "far event"\n  {"ts": 1e20, "type": "created", "fields": {"budget": 1}}\n'
                        "  expect status open\n", encoding="utf-8")
    run = cli("test", str(journeys))
    shown = run.stdout + run.stderr
    assert run.exit_code != 0 and "Traceback" not in shown
    assert "`until 9999-01-01` is outside the supported time range 1900-01-01 to 2200-12-31 (UTC)" in shown
    assert 'far.funnel-test:9: "ts" 1e+20 is outside the supported time range' in shown


def test_a_results_file_out_of_the_range_is_an_error_naming_it(cli, tmp_path):
    import json

    saved = tmp_path / "result.json"
    saved.write_text(cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "json").stdout, encoding="utf-8")
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["outcomes"][0]["created"] = 1e300
    saved.write_text(json.dumps(data), encoding="utf-8")
    run = cli("report", str(saved))
    assert run.exit_code == 2
    assert "outcomes[0] (deal `D1`): `created`: 1e+300 is outside the supported time range" in run.stderr


@pytest.mark.parametrize("ts", [-9223372036854775809, 10 ** 30, 1e15, "0001-01-01T00:00+05:00"])
def test_an_event_time_from_any_decoder_outside_the_range_is_rejected(ts):
    from funnelspec.api import analyse
    from funnelspec.engine.simulate import replay_events

    spec = analyse(str(SPEC), lint=False).spec
    events = [{"id": 1, "deal": "D1", "ts": ts, "type": "created", "fields": {"budget": 1}}]
    result = replay_events(spec, events, on_error="skip")
    assert [r.reason.split(" is ", 1)[1] for r in result.rejects] == [
        "outside the supported time range 1900-01-01 to 2200-12-31 (UTC)"]
