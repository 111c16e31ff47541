"""Outputs never destroy inputs, are checked before any work, and are written through symlinks.

The reproducers of the fuzzing pass: `lint s.funnel -o s.funnel` replaced the
spec with the summary, `simulate --events h.jsonl -o h.jsonl` the history;
`--rejects X -o X` and `--report-output X -o X` lost one output; `-o link`
replaced the symlink; `-o /missing/dir/x` named the temporary file;
`--coverage-lcov /missing/x` printed the result, then exited 2.
"""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import EXAMPLES

SPEC, EVENTS = "s.funnel", "h.jsonl"


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    shutil.copy(EXAMPLES / "security_b2b.funnel", tmp_path / SPEC)
    shutil.copy(EXAMPLES / "security_b2b.events.jsonl", tmp_path / EVENTS)
    (tmp_path / "base.funnel").write_text(
        "funnel base { stage n { start } stage w { won } stage l { lost } n -> w any -> l }\n", encoding="utf-8")
    (tmp_path / "main.funnel").write_text('import "base.funnel"\nfunnel m extends base { }\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


SIM = ("simulate", SPEC, "--events", EVENTS)
CLOBBERING = {
    "lint_spec_onto_itself": (("lint", SPEC, "-o", SPEC), SPEC, "-o `s.funnel` is the same file as a spec being linted"),
    "lint_onto_an_imported_spec": (("lint", "main.funnel", "-o", "base.funnel"), "base.funnel",
                                   "-o `base.funnel` is the same file as a spec being linted"),
    "lint_baseline_onto_output": (("lint", SPEC, "--baseline", "b.json", "-o", "b.json"), None,
                                  "-o `b.json` is the same file as --baseline"),
    "simulate_onto_the_history": (SIM + ("-o", EVENTS), EVENTS, "-o `h.jsonl` is the same file as --events"),
    "simulate_onto_the_spec": (SIM + ("-o", SPEC), SPEC, "-o `s.funnel` is the same file as SPEC"),
    "rejects_and_result_one_file": (SIM + ("--on-error", "skip", "--rejects", "x", "-o", "x"), None,
                                    "--rejects `x` is the same file as -o"),
    "report_and_result_one_file": (SIM + ("--report", "text", "--report-output", "y", "-o", "y"), None,
                                   "--report-output `y` is the same file as -o"),
    "coverage_and_lcov_one_file": (SIM + ("--coverage", "--coverage-output", "c", "--coverage-lcov", "c"), None,
                                   "--coverage-lcov `c` is the same file as --coverage-output"),
    "export_onto_the_spec": (("export", SPEC, "-o", SPEC), SPEC, "-o `s.funnel` is the same file as SPEC"),
    "sample_onto_the_spec": (("sample", SPEC, "-o", SPEC), SPEC, "-o `s.funnel` is the same file as SPEC"),
    "graph_onto_the_spec": (("graph", SPEC, "-o", SPEC), SPEC, "-o `s.funnel` is the same file as SPEC"),
    "diff_onto_the_old_spec": (("diff", SPEC, SPEC, "-o", SPEC), SPEC, "-o `s.funnel` is the same file as OLD"),
    "explain_onto_the_events": (("explain", SPEC, "--events", EVENTS, "--deal", "D-1", "-o", EVENTS), EVENTS,
                                "-o `h.jsonl` is the same file as --events"),
}


@pytest.mark.parametrize("args, kept, message", CLOBBERING.values(), ids=CLOBBERING.keys())
def test_an_output_that_is_an_input_or_another_output_is_refused(cli, args, kept, message):
    before = open(kept, "rb").read() if kept else None
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert f"error: {message}" in result.output
    if kept:
        assert open(kept, "rb").read() == before
    assert not [n for n in os.listdir(".") if n.startswith(".funnel-")], "a temporary file was left behind"


def test_a_hard_link_to_an_input_is_the_same_file(cli):
    os.link(EVENTS, "copy.jsonl")
    result = cli(*SIM, "-o", "copy.jsonl")
    assert result.exit_code == 2
    assert "-o `copy.jsonl` is the same file as --events (`h.jsonl`)" in result.output


def test_report_and_graph_results_are_inputs_too(cli):
    assert cli(*SIM, "--format", "json", "-o", "r.json").exit_code == 0
    assert "-o `r.json` is the same file as RESULT" in cli("report", "r.json", "-o", "r.json").output
    assert "-o `r.json` is the same file as --results" in cli("graph", SPEC, "--results", "r.json", "-o",
                                                             "r.json").output


def test_an_output_through_a_symlink_replaces_its_target_and_keeps_the_link(cli):
    with open("target.txt", "w", encoding="utf-8") as handle:
        handle.write("old\n")
    os.chmod("target.txt", 0o640)
    os.symlink("target.txt", "link")
    result = cli(*SIM, "-o", "link")
    assert result.exit_code == 0, result.output
    assert os.path.islink("link") and os.readlink("link") == "target.txt"
    assert open("target.txt", encoding="utf-8").read().startswith("replayed h.jsonl against s.funnel")
    assert os.stat("target.txt").st_mode & 0o777 == 0o640


@pytest.mark.parametrize("args, message", [
    (("lint", SPEC, "-o", "missing/dir/x"), "-o `missing/dir/x`: no such folder `missing/dir`"),
    (SIM + ("-o", "missing/x"), "-o `missing/x`: no such folder `missing`"),
    (SIM + ("--coverage-lcov", "missing/x"), "--coverage-lcov `missing/x`: no such folder `missing`"),
], ids=["lint", "simulate", "coverage_lcov"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.output == f"error: {message}\n", "nothing is printed before the refusal"


def test_lint_reports_a_file_that_is_not_utf8_by_name_and_checks_the_others(cli):
    os.mkdir("specs")
    shutil.copy(SPEC, "specs/a.funnel")
    with open("specs/b.funnel", "wb") as handle:
        handle.write(b"funnel \xff\xfe {}\n")
    result = cli("lint", "specs")
    assert result.exit_code == 2
    assert "error: specs/b.funnel: not valid UTF-8 (invalid start byte at byte 7)" in result.output
    assert "1 file checked" in result.output


def test_a_spec_that_is_not_utf8_is_named(cli):
    with open("bad.funnel", "wb") as handle:
        handle.write(b"funnel \xff {}\n")
    result = cli("simulate", "bad.funnel", "--events", EVENTS)
    assert result.exit_code == 2
    assert result.output == "error: bad.funnel: not valid UTF-8 (invalid start byte at byte 7)\n"
