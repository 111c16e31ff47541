"""Every command that runs a spec refuses one that `funnel lint` reports errors for, printing them:
a funnel with no stages, or no start stage, is never replayed (it crashed simulate and sample)."""
from __future__ import annotations

import json

import pytest

import funnelspec
from funnelspec.api import SpecError, load
from funnelspec.engine.simulate import replay_events

NO_STAGES = "funnel f {\n}\n"
NO_START = """funnel f {
  stage a { sla 1d }
  stage won { won }
  stage lost { lost }
  a -> won
  any -> lost
}
"""
CLEAN = NO_START.replace("stage a { sla 1d }", "stage a { start  sla 1d }")
EVENT = '{"id": "e1", "deal": "D", "ts": "2026-01-01T00:00:00Z", "type": "created"}\n'
SPECS = {"no_stages": (NO_STAGES, "FNL201"), "no_start": (NO_START, "FNL201")}

# each command that runs the spec, and the exit code it refuses with (diff's 1 means "outcomes change")
COMMANDS = {
    "simulate": (["simulate", "spec.funnel", "--events", "events.jsonl"], 1),
    "simulate --report": (["simulate", "spec.funnel", "--events", "events.jsonl", "--report", "text"], 1),
    "simulate --coverage": (["simulate", "spec.funnel", "--events", "events.jsonl", "--coverage"], 1),
    "sample": (["sample", "spec.funnel", "--deals", "2"], 1),
    "diff": (["diff", "spec.funnel", "spec.funnel", "--events", "events.jsonl"], 2),
    "explain": (["explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D"], 1),
    "graph --results": (["graph", "spec.funnel", "--results", "result.json"], 1),
    "test": (["test", "spec.funnel-test"], 2),
}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events.jsonl").write_text(EVENT, encoding="utf-8")
    (tmp_path / "result.json").write_text(json.dumps({"outcomes": []}), encoding="utf-8")
    (tmp_path / "spec.funnel-test").write_text(f'journey "created"\n  {EVENT}  expect stage a\n', encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("spec", SPECS, ids=list(SPECS))
@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_a_spec_lint_reports_errors_for_is_not_run(folder, cli, spec, command):
    text, code = SPECS[spec]
    (folder / "spec.funnel").write_text(text, encoding="utf-8")
    args, exit_code = COMMANDS[command]
    result = cli(*args)
    assert result.exit_code == exit_code, result.output
    assert f"error[{code}]" in (result.stderr if command != "test" else result.stdout)
    assert "Traceback" not in result.output
    if command != "test":
        assert result.stdout == ""


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_the_same_commands_run_the_spec_once_it_is_clean(folder, cli, command):
    (folder / "spec.funnel").write_text(CLEAN, encoding="utf-8")
    args, _ = COMMANDS[command]
    result = cli(*args)
    assert result.exit_code in (0, 1) and "error[" not in result.output, result.output


def test_a_picture_without_results_is_still_drawn_for_a_spec_with_lint_errors(folder, cli):
    (folder / "spec.funnel").write_text(NO_START, encoding="utf-8")
    result = cli("graph", "spec.funnel", "--format", "mermaid")
    assert result.exit_code == 0 and "flowchart" in result.stdout


def test_a_suppressed_error_does_not_stop_the_run(folder, cli):
    suppressed = NO_START.replace("stage a { sla 1d }",
                                  "stage a { sla 1d }  # funnel: ignore[FNL201] created events name their stage")
    (folder / "spec.funnel").write_text(suppressed, encoding="utf-8")
    (folder / "events.jsonl").write_text(EVENT.replace('"created"', '"created", "stage": "a"'), encoding="utf-8")
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl")
    assert result.exit_code == 0, result.output


def test_a_warning_raised_to_an_error_in_pyproject_stops_the_run_as_it_fails_lint(folder, cli):
    (folder / "pyproject.toml").write_text('[tool.funnel]\nseverity = { FNL404 = "error" }\n', encoding="utf-8")
    (folder / "spec.funnel").write_text(CLEAN.replace("  sla 1d", ""), encoding="utf-8")
    assert cli("lint", "spec.funnel").exit_code == 1
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl")
    assert result.exit_code == 1 and "error[FNL404]" in result.stderr and result.stdout == ""


def test_the_api_refuses_such_a_spec_by_path(folder):
    (folder / "spec.funnel").write_text(NO_STAGES, encoding="utf-8")
    with pytest.raises(SpecError, match=r"`spec.funnel` has 3 error\(s\): spec.funnel:1:8: funnel `f` has no start"):
        funnelspec.simulate("spec.funnel", "events.jsonl")


def test_a_model_with_no_stages_given_to_the_engine_rejects_the_line_instead_of_crashing():
    spec, _ = load("spec.funnel", NO_STAGES)
    result = replay_events(spec, [EVENT], on_error="skip")
    assert [(r.line, r.reason) for r in result.rejects] == [(1, 'funnel "f" has no stages to create a deal in')]
