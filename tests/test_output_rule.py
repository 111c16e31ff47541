"""One rule for `-o` in every command: it writes exactly what the command would print.

With `simulate --report`, what it prints is the report (issue 23: `--report html
-o report.html` used to put the text summary in report.html and the HTML on
stdout); the result then goes to `--result`. The old `--report-output` still works.
"""
from __future__ import annotations

import json

import pytest

from conftest import CASES, EXAMPLES

SPEC = str(EXAMPLES / "b2b_basic.funnel")
EVENTS = str(EXAMPLES / "b2b_basic.events.jsonl")
DIFF = CASES / "diff" / "new_timer"

COMMANDS = {
    "lint": ("lint", SPEC),
    "lint-json": ("lint", SPEC, "--format", "json"),
    "graph": ("graph", SPEC),
    "simulate": ("simulate", SPEC, "--events", EVENTS),
    "simulate-json": ("simulate", SPEC, "--events", EVENTS, "--format", "json"),
    "simulate-report": ("simulate", SPEC, "--events", EVENTS, "--report", "text"),
    "simulate-report-html": ("simulate", SPEC, "--events", EVENTS, "--report", "html"),
    "diff": ("diff", str(DIFF / "old.funnel"), str(DIFF / "new.funnel"), "--events", str(DIFF / "events.jsonl")),
    "export": ("export", SPEC),
    "sample": ("sample", SPEC),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_o_writes_what_the_command_prints(cli, tmp_path, name):
    args = COMMANDS[name]
    printed = cli(*args)
    target = tmp_path / "out"
    written = cli(*args, "-o", str(target))
    assert written.exit_code == printed.exit_code, written.output
    assert target.read_text(encoding="utf-8") == printed.stdout
    assert written.stdout == ""


def test_report_with_o_is_the_report_and_result_goes_to_result(cli, tmp_path):
    report, result = tmp_path / "report.html", tmp_path / "result.json"
    run = cli("simulate", SPEC, "--events", EVENTS, "--report", "html", "-o", str(report),
              "--result", str(result), "--format", "json")
    assert run.exit_code == 0, run.output
    assert run.stdout == ""
    assert report.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert json.loads(result.read_text(encoding="utf-8"))["spec"].endswith("b2b_basic.funnel")
    again = cli("report", str(result), "--format", "json")     # the saved result reads back, --format as elsewhere
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["kind"] == "funnel-report"


def test_deprecated_report_output_keeps_its_meaning(cli, tmp_path):
    report, result = tmp_path / "report.json", tmp_path / "result.txt"
    run = cli("simulate", SPEC, "--events", EVENTS, "--report", "json", "--report-output", str(report),
              "-o", str(result))
    assert run.exit_code == 0, run.output
    assert json.loads(report.read_text(encoding="utf-8"))["kind"] == "funnel-report"
    assert result.read_text(encoding="utf-8").startswith("replayed ")


@pytest.mark.parametrize("args, message", [
    (("--report-output", "r.txt"), "--report-output needs --report"),
    (("-o", "a", "--result", "b"), "give -o or --result, not both"),
])
def test_output_flags_that_contradict_are_usage_errors(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    run = cli("simulate", SPEC, "--events", EVENTS, *args)
    assert run.exit_code == 2
    assert message in run.stderr


def test_report_help_names_format_and_the_old_report_flag(cli):
    text = cli("report", "--help").stdout
    assert "--format" in text and "--report" in text
    assert "Deprecated" in cli("simulate", "--help").stdout


@pytest.mark.parametrize("command", ["lint", "fmt", "simulate", "report", "diff", "explain", "test", "new", "export"])
def test_commands_the_readme_names_print_json(cli, command):
    """README: `--format json` in these commands; a `No such option` here would make it untrue."""
    text = cli(command, "--help").stdout
    assert "--format" in text and "json" in text.split("--format", 1)[1]
