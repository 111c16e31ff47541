"""`funnel report RESULT`: a saved simulate result (JSON or JSON Lines) gives the report of the replay itself."""
from __future__ import annotations

import io
import json

import pytest

from conftest import CASES, EXAMPLES
from funnelspec.api import load
from funnelspec.engine.report import render_report
from funnelspec.engine.serialize import funnels_json, write_json, write_jsonl
from outcome_builders import sample_result


@pytest.fixture(scope="module")
def spec():
    model, _ = load(str(EXAMPLES / "security_b2b.funnel"))
    return model


@pytest.fixture
def saved(tmp_path, spec):
    """The sample result saved as `funnel simulate --format json` and `--format jsonl` save it."""
    result = sample_result()
    result.funnels = funnels_json(spec)
    paths = {}
    for fmt, write in (("json", write_json), ("jsonl", write_jsonl)):
        out = io.StringIO()
        write(result, out)
        paths[fmt] = tmp_path / f"result.{fmt}"
        paths[fmt].write_text(out.getvalue(), encoding="utf-8")
    return paths


def test_text_report_of_a_saved_result(cli, saved, spec):
    run = cli("report", str(saved["json"]), "--by", "manager")
    assert run.exit_code == 0, run.output
    assert run.output == render_report(sample_result(), spec, "text", ("manager",))


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_saved_result_reports_as_the_replay_did(cli, saved, spec, fmt):
    run = cli("report", str(saved[fmt]), "--report", "json", "--by", "source,manager")
    assert run.exit_code == 0, run.output
    assert run.output == render_report(sample_result(), spec, "json", ("source", "manager"))


@pytest.mark.parametrize("fmt, start", [("html", "<!doctype html>"), ("csv", "funnel,group,section"),
                                        ("json", "{"), ("text", "Replay: 61 input lines")])
def test_every_format_to_a_file(cli, saved, tmp_path, fmt, start):
    target = tmp_path / f"report.{fmt}"
    run = cli("report", str(saved["json"]), "--report", fmt, "-o", str(target))
    assert run.exit_code == 0 and run.output == ""
    assert target.read_text(encoding="utf-8").startswith(start)


def test_thresholds_from_pyproject_and_the_command_line(cli, saved, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.funnel.diagnosis]\nmin-deals = 3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = cli("report", str(saved["json"]), "--report", "json", "--threshold", "late-stages=3")
    thresholds = json.loads(run.output)["thresholds"]
    assert (thresholds["min_deals"], thresholds["late_stages"]) == (3, 3)


@pytest.mark.parametrize("content, message", [
    ("{\n  \"funnels\": [,\n", "result.json:2:15: not valid JSON"),
    ("[]", "result.json: expected a JSON object"),
    ('{"outcomes": []}', "result.json: no `funnels` with their stages"),
    ('{"funnels": [{"id": "f", "stages": [{"id": "a", "kind": "opened"}]}], "outcomes": []}',
     "funnel `f`, stage `a`: `kind` must be one of open, won, lost, not 'opened'"),
    ('{"funnels": [{"id": "f", "stages": [{"id": "a", "kind": "open"}]}], "outcomes": [{"deal": "D", '
     '"status": "open", "path": [{"stage": "a", "entered": "yesterday"}]}]}',
     "outcomes[0] (deal `D`), path[0]: `entered`: `yesterday` is not an ISO 8601 time"),
    ('{"funnels": [{"id": "f", "stages": [{"id": "a", "kind": "open"}]}], "outcomes": [{"deal": "D", '
     '"status": "open", "path": [{"stage": "b", "entered": "2026-01-01"}]}]}',
     "deal `D`: stage `b` is not a stage of funnel `f`"),
])
def test_a_bad_result_file_is_named_and_nothing_is_written(cli, tmp_path, content, message):
    bad = tmp_path / "result.json"
    bad.write_text(content, encoding="utf-8")
    target = tmp_path / "report.html"
    run = cli("report", str(bad), "--report", "html", "-o", str(target))
    assert run.exit_code == 2
    assert message in run.output
    assert not target.exists()


@pytest.mark.parametrize("args, message", [
    (["--by", "region"], "funnel `security` has no field `region` to group by; its fields: `budget`"),
    (["--threshold", "slow=2"], "unknown diagnosis threshold `slow`"),
    (["--threshold", "min-deals=many"], "`min-deals` must be a number, not 'many'"),
])
def test_bad_options_are_named(cli, saved, args, message):
    run = cli("report", str(saved["json"]), *args)
    assert run.exit_code == 2
    assert message in run.output


def test_a_missing_result_file(cli, tmp_path):
    run = cli("report", str(tmp_path / "nope.json"))
    assert run.exit_code == 2
    assert "does not exist" in run.output


def test_a_window_measures_the_deals_created_in_it(cli, tmp_path):
    """D3, D4 and D5 of the rework case are created on 2 and 3 March; their whole history still counts."""
    case = CASES / "figures" / "rework_loop"
    result = tmp_path / "result.json"
    assert cli("simulate", str(case / "spec.funnel"), "--events", str(case / "events.jsonl"), "--format", "json",
               "-o", str(result)).exit_code == 0
    run = cli("report", str(result), "--report", "json", "--since", "2026-03-02", "--until", "2026-03-03T23:59:59Z")
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["window"] == {"since": "2026-03-02T00:00:00Z", "until": "2026-03-03T23:59:59Z"}
    deals = data["funnels"][0]["metrics"]["deals"]
    assert (deals["total"], deals["won"], deals["lost"], deals["open"], deals["lost_again"]) == (3, 1, 1, 1, 1)
    run = cli("simulate", str(case / "spec.funnel"), "--events", str(case / "events.jsonl"), "--report", "json",
              "--since", "2026-03-04")
    assert json.loads(run.stdout)["funnels"][0]["metrics"]["deals"]["total"] == 1          # D6


@pytest.mark.parametrize("args, message", [
    (["--since", "2026-03-05", "--until", "2026-03-01"], "the window ends (--until) before it starts (--since)"),
    (["--since", "marchy"], "--since: `marchy` is not an ISO 8601 date or date and time"),
    (["--until", "9999-12-31"], "--until: `9999-12-31` is outside the supported time range 1900-01-01 to 2200-12-31"),
    (["--since", "0001-01-01T00:00:00+05:00"], "--since: `0001-01-01T00:00:00+05:00` is outside the supported time range"),
])
def test_a_bad_window_is_named(cli, saved, args, message):
    run = cli("report", str(saved["json"]), *args)
    assert run.exit_code == 2
    assert message in run.stderr and "Traceback" not in run.output


def test_since_on_simulate_needs_a_report(cli):
    run = cli("simulate", str(EXAMPLES / "security_b2b.funnel"), "--events",
              str(EXAMPLES / "security_b2b.events.jsonl"), "--since", "2026-03-01")
    assert run.exit_code == 2 and "use them with --report" in run.stderr
