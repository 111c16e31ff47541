"""Hostile text in specs, streams and results cannot change the structure of any output.

The reproducers of the fuzzing pass: a funnel title with a newline and `---`
closed Mermaid's front matter and added statements; `%%{init:…}%%` passed
through; a stage name from `--results` broke out of a DOT `//` comment;
`\\x1b` reached the terminal raw; JUnit XML with control characters did not
parse. The case files in tests/cases/outputs/ carry all of these.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, strategies as st

from conftest import CASES
from funnelspec.dsl.render import safe_text

OUTPUTS = CASES / "outputs"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")     # all but tab and newline


@pytest.fixture(autouse=True)
def _in_cases(monkeypatch):
    monkeypatch.chdir(OUTPUTS)


def _no_control(text: str) -> None:
    found = CONTROL.findall(text)
    assert not found, f"control characters reached the output: {found!r}"


def test_mermaid_front_matter_and_directives_cannot_be_injected(cli):
    result = cli("graph", "hostile_clean.funnel", "--format", "mermaid", "--results", "hostile.results.json")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "---" and lines[1].startswith('title: "') and lines[2] == "---"
    assert lines[3].startswith("flowchart ")
    assert all(line.startswith("  ") for line in lines[4:]), "every statement is the renderer's own"
    assert "%%{" not in result.stdout and "click" not in " ".join(line.split("(")[0] for line in lines[4:])
    _no_control(result.stdout)


def test_dot_comments_and_labels_cannot_be_escaped(cli):
    result = cli("graph", "hostile_clean.funnel", "--format", "dot", "--results", "hostile.results.json")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("digraph ") and lines[-1] == "}"
    assert [line for line in lines if line.startswith("digraph")] == [lines[0]]
    notes = [line for line in lines if line.lstrip().startswith("//")]
    assert len(notes) == 1 and "ghost␊}␊digraph evil" in notes[0]
    _no_control(result.stdout)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_reads_the_hostile_dot_as_one_graph(cli):
    dot = cli("graph", "hostile_clean.funnel", "--format", "dot", "--results", "hostile.results.json").stdout
    done = subprocess.run(["dot", "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ET.fromstring(done.stdout)


def test_junit_with_control_characters_parses(cli):
    result = cli("lint", "hostile.funnel", "--format", "junit")
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.get("failures") == "1"
    _no_control(result.stdout)


@pytest.mark.parametrize("fmt", ["text", "concise", "github", "sarif"])
def test_lint_output_shows_control_characters_as_visible_stand_ins(cli, fmt):
    result = cli("lint", "hostile.funnel", "--format", fmt)
    assert result.exit_code == 1
    _no_control(result.stdout)
    if fmt == "text":
        assert "# ␛[2J a value that is not one" in result.stdout, "the snippet shows the escape, columns kept"
    if fmt == "sarif":              # JSON escapes control characters; a viewer shows the decoded text
        _no_control(json.loads(result.stdout)["runs"][0]["results"][0]["message"]["text"])
    if fmt == "github":
        assert len(result.stdout.splitlines()) == 1, "one workflow command, its message on the same line"


def test_replay_report_and_summary_are_safe_for_a_terminal(cli):
    result = cli("simulate", "hostile_clean.funnel", "--events", "hostile.events.jsonl", "--report", "text",
                 "--by", "manager")
    assert result.exit_code == 0
    _no_control(result.stdout)
    assert "[bold]Ann[/bol" in result.stdout, "a value is not read as rich markup"
    summary = cli("simulate", "hostile_clean.funnel", "--events", "hostile.events.jsonl")
    _no_control(summary.stdout)


def test_a_trace_is_safe_for_a_terminal(cli):
    result = cli("explain", "hostile_clean.funnel", "--events", "hostile.events.jsonl", "--deal", "D-1\x1b[31m")
    assert result.exit_code == 0, result.output
    _no_control(result.stdout)
    assert "D-1␛[31m" in result.stdout


def test_an_error_message_quoting_input_is_safe(cli):
    result = cli("simulate", "hostile_clean.funnel", "--events", "hostile.events.jsonl", "--until", "\x1b[2Jnow")
    assert result.exit_code == 2
    assert result.output == "error: --until: `␛[2Jnow` is not an ISO 8601 date or date and time\n"


def test_html_report_holds_no_control_character(cli, tmp_path):
    out = tmp_path / "r.html"
    result = cli("simulate", "hostile_clean.funnel", "--events", "hostile.events.jsonl", "--report", "html",
                 "--report-output", str(out), "--by", "manager", "-o", str(tmp_path / "r.txt"))
    assert result.exit_code == 0, result.output
    _no_control(out.read_text(encoding="utf-8"))


# The functions themselves ----------------------------------------------------------------------

def test_each_control_character_has_one_visible_stand_in():
    text = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)])
    assert len(safe_text.one_line(text)) == len(text)
    assert not CONTROL.search(safe_text.one_line(text)) and "\n" not in safe_text.one_line(text)
    assert safe_text.terminal("a\tb\nc\x1bd") == "a\tb\nc␛d"


def test_mermaid_keeps_a_single_percent_and_breaks_a_double_one():
    assert safe_text.mermaid("10%") == "10%"
    assert "%%" not in safe_text.mermaid("%%{init: {}}%%")
    assert safe_text.mermaid('a "b" #c\nd') == "a #quot;b#quot; #35;c␊d"


def test_xml_text_is_valid_xml():
    text = "".join(chr(c) for c in range(0x20)) + "\ud800\ufffe"
    element = ET.Element("x", value=safe_text.xml(text))
    element.text = safe_text.xml(text)
    ET.fromstring(ET.tostring(element, encoding="unicode"))


def test_json_outputs_keep_data_exact(cli):
    """Machine formats carry values as they are (JSON escapes them); only what people read is made visible."""
    result = cli("simulate", "hostile_clean.funnel", "--events", "hostile.events.jsonl", "--format", "json")
    deals = {o["deal"] for o in json.loads(result.stdout)["outcomes"]}
    assert "D-1\x1b[31m" in deals


@given(st.text())
def test_no_text_gets_a_control_character_or_a_line_break_into_a_label(text):
    for label in (safe_text.one_line(text), safe_text.mermaid(text), safe_text.dot_html(text)):
        assert not CONTROL.search(label) and "\n" not in label and "\t" not in label
    assert len(safe_text.one_line(text)) == len(text) == len(safe_text.terminal(text))
    assert "%%" not in safe_text.mermaid(text) and '"' not in safe_text.mermaid(text)
    assert "%%" not in safe_text.mermaid_comment(text)
    inner = safe_text.dot_string(text)[1:-1]
    assert '"' not in inner.replace('\\\\', "").replace('\\"', ""), "a quote always escaped"
