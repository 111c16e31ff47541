"""`funnel lint --baseline`, `--format concise|junit` and GitHub annotations picked from the environment."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from conftest import CASES

pytestmark = pytest.mark.usefixtures("no_sla_is_a_warning")   # these tests need a warning: FNL404

NO_SLA = (CASES / "lint" / "FNL404" / "no_sla.funnel").read_text(encoding="utf-8")
TYPO = CASES / "lint" / "FNL102" / "typo_in_transition.funnel"
UNUSED = CASES / "lint" / "FNL008" / "nothing_there.funnel"


@pytest.fixture
def spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    path = tmp_path / "sales.funnel"
    path.write_text(NO_SLA, encoding="utf-8")
    return path


def test_first_run_records_and_passes_then_old_findings_stay_quiet(cli, spec):
    first = cli("lint", "--fail-on", "warning", "--baseline", "base.json", "sales.funnel")
    assert first.exit_code == 0
    recorded = json.loads((spec.parent / "base.json").read_text(encoding="utf-8"))
    assert recorded["findings"] == [{"code": "FNL404", "file": "sales.funnel",
                                     "message": "stage `qualified` has no sla",
                                     "line_text": 'stage qualified "Квалификация" { }'}]
    again = cli("lint", "--fail-on", "warning", "--baseline", "base.json", "sales.funnel")
    assert again.exit_code == 0
    assert again.output == "all clean: 1 file checked (1 in the baseline)\n"


def test_lines_added_above_keep_old_findings_matched_and_a_new_mistake_fails(cli, spec):
    cli("lint", "--baseline", "base.json", "sales.funnel")
    text = spec.read_text(encoding="utf-8")
    text = "# a comment\n# another\n" + text.replace("proposal -> won when paid", "proposl -> won when paid")
    spec.write_text(text, encoding="utf-8")
    result = cli("lint", "--format", "concise", "--baseline", "base.json", "sales.funnel")
    assert result.exit_code == 1
    assert result.output.splitlines() == ["sales.funnel:13:3: error[FNL102] unknown stage `proposl`",
                                          "1 error in 1 file checked"]


def test_a_second_copy_of_a_recorded_finding_is_new(cli, spec):
    cli("lint", "--baseline", "base.json", "sales.funnel")
    spec.write_text(spec.read_text(encoding="utf-8").replace("{ sla 7d }", "{ }"), encoding="utf-8")
    result = cli("lint", "--format", "json", "--baseline", "base.json", "sales.funnel")
    assert [f["message"] for f in json.loads(result.output)["findings"]] == ["stage `proposal` has no sla"]


def test_update_baseline_rewrites_it(cli, spec):
    cli("lint", "--baseline", "base.json", "sales.funnel")
    spec.write_text(spec.read_text(encoding="utf-8").replace("{ sla 7d }", "{ }"), encoding="utf-8")
    assert cli("lint", "--fail-on", "warning", "--baseline", "base.json", "sales.funnel").exit_code == 1
    cli("lint", "--baseline", "base.json", "--update-baseline", "sales.funnel")
    assert cli("lint", "--fail-on", "warning", "--baseline", "base.json", "sales.funnel").exit_code == 0


def test_update_without_a_baseline_and_a_broken_baseline_are_usage_errors(cli, spec):
    assert cli("lint", "--update-baseline", "sales.funnel").exit_code == 2
    (spec.parent / "base.json").write_text("{", encoding="utf-8")
    result = cli("lint", "--baseline", "base.json", "sales.funnel")
    assert result.exit_code == 2
    assert "base.json:1:2: not a baseline" in result.output


def test_unused_suppression_is_reported(cli):
    result = cli("lint", "--format", "concise", str(UNUSED))
    assert "warning[FNL008] nothing to suppress" in result.output


def test_junit_is_one_suite_per_file_with_failures_counted(cli, spec):
    result = cli("lint", "--format", "junit", "sales.funnel", str(TYPO))
    root = ET.fromstring(result.output.encode("utf-8"))
    assert root.tag == "testsuites" and root.get("failures") == "2"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["sales.funnel", str(TYPO)]
    failure = suites[1].find("testcase/failure")
    assert failure.get("message") == "unknown stage `proposl`" and failure.get("type") == "error"


def test_junit_shows_a_clean_file_as_a_passing_case(cli, spec):
    spec.write_text(NO_SLA.replace('{ }', '{ sla 3d }'), encoding="utf-8")
    root = ET.fromstring(cli("lint", "--format", "junit", "sales.funnel").output.encode("utf-8"))
    assert root.get("tests") == "1" and root.get("failures") == "0"
    assert root.find("testsuite/testcase").find("failure") is None


def test_github_actions_picks_annotations_unless_a_format_is_given(cli, spec, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli("lint", "sales.funnel").output.startswith("::warning file=sales.funnel,line=5,col=9,")
    assert cli("lint", "--format", "text", "sales.funnel").output.startswith("sales.funnel:5:9: warning[FNL404]")


def test_explain_code_still_works(cli):
    result = cli("explain", "FNL008")
    assert result.exit_code == 0
    assert result.output.startswith("FNL008 unused-suppression (warning by default)")
