"""`funnel lint` from the command line: paths, formats, exit codes, settings, suppressions, output files."""
from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import CASES, ROOT

pytestmark = pytest.mark.usefixtures("no_sla_is_a_warning")   # these tests need a warning: FNL404

LINT = CASES / "lint"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
GOOD = LINT / "FNL402" / "near_miss_five_stages.funnel"          # clean
WARNS = LINT / "FNL404" / "no_sla.funnel"                         # one warning
FAILS = LINT / "FNL102" / "typo_in_transition.funnel"             # one error
CONFLICT = LINT / "FNL304" / "overlapping_ranges.funnel"          # a warning with a related span


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def rel(path) -> str:
    return str(path.relative_to(ROOT))


def test_clean_file_exits_0(cli):
    result = cli("lint", rel(GOOD))
    assert result.exit_code == 0
    assert result.output == "all clean: 1 file checked\n"


def test_error_exits_1_and_renders_like_a_compiler(cli):
    result = cli("lint", rel(FAILS))
    assert result.exit_code == 1
    assert f"{rel(FAILS)}:10:16: error[FNL102] unknown stage `proposl`" in result.output
    assert "= help: did you mean `proposal`?" in result.output
    assert result.output.endswith("1 error in 1 file checked\n")


def test_warnings_fail_only_with_fail_on_warning(cli):
    assert cli("lint", rel(WARNS)).exit_code == 0
    assert cli("lint", "--fail-on", "warning", rel(WARNS)).exit_code == 1


def test_folder_is_searched_recursively_and_sorted(cli, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.funnel").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "one.funnel").write_text(WARNS.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.funnel").write_text("not a funnel", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    result = cli("lint", "--format", "json", str(tmp_path))
    report = json.loads(result.output)
    assert report["summary"]["files"] == 2
    assert [f["code"] for f in report["findings"]] == ["FNL404"]


def test_missing_path_is_a_usage_error(cli):
    result = cli("lint", "no/such/file.funnel")
    assert result.exit_code == 2
    assert "no/such/file.funnel: no such file or folder" in result.output


def test_folder_without_funnels_is_a_usage_error(cli, tmp_path):
    result = cli("lint", str(tmp_path))
    assert result.exit_code == 2
    assert "no .funnel files" in result.output


def test_unreadable_file_is_an_io_error(cli, tmp_path):
    bad = tmp_path / "latin1.funnel"
    bad.write_bytes("funnel продажи {}".encode("cp1251"))
    result = cli("lint", str(bad))
    assert result.exit_code == 2
    assert "not valid UTF-8" in result.output


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_code_on_the_command_line_is_a_usage_error(cli, option):
    result = cli("lint", option, "FNL404,FNL99x", rel(WARNS))
    assert result.exit_code == 2
    assert f"{option}: unknown code `FNL99x`" in result.output


@pytest.mark.parametrize("codes", ["FNL404", "no-sla", "FNL4", "fnl40"])
def test_ignore_by_code_name_or_prefix(cli, codes):
    result = cli("lint", "--fail-on", "warning", "--ignore", codes, rel(WARNS))
    assert result.exit_code == 0, result.output


def test_select_runs_only_those_checks_but_never_hides_broken_files(cli):
    assert cli("lint", "--fail-on", "warning", "--select", "FNL2", rel(WARNS)).exit_code == 0
    broken = cli("lint", "--select", "FNL404", rel(FAILS))
    assert broken.exit_code == 1 and "FNL102" in broken.output


def test_json_states_columns_and_summary(cli):
    report = json.loads(cli("lint", "--format", "json", rel(CONFLICT)).output)
    assert "code points" in report["columns"]
    finding, = report["findings"]
    assert finding["code"] == "FNL304" and finding["severity"] == "warning"
    assert finding["span"] == {"file": rel(CONFLICT), "line": 11, "column": 3, "end_line": 11, "end_column": 40}
    assert finding["related"][0]["span"]["line"] == 10
    assert report["summary"] == {"files": 1, "errors": 0, "warnings": 1, "infos": 0, "suppressed": 0,
                                 "failed": False}


def test_sarif_is_valid_against_the_official_schema(cli, tmp_path):
    paths = [rel(p) for p in (CONFLICT, FAILS, WARNS, LINT / "FNL403" / "near_miss_suppressed.funnel")]
    result = cli("lint", "--format", "sarif", *paths)
    sarif = json.loads(result.output)
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(sarif)
    run, = sarif["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    rules = run["tool"]["driver"]["rules"]
    assert all("helpUri" not in r and r["fullDescription"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["FNL102"]["level"] == "error"
    assert rules[by_rule["FNL102"]["ruleIndex"]]["id"] == "FNL102"
    assert by_rule["FNL304"]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 10
    assert by_rule["FNL403"]["suppressions"] == [{"kind": "inSource", "justification": "the director signs by hand"}]
    region = by_rule["FNL102"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 10, "startColumn": 16, "endLine": 10, "endColumn": 23}


def test_sarif_of_a_clean_run_is_valid(cli):
    sarif = json.loads(cli("lint", "--format", "sarif", rel(GOOD)).output)
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(sarif)
    assert sarif["runs"][0]["results"] == []


def test_github_annotations(cli):
    result = cli("lint", "--format", "github", rel(FAILS), rel(WARNS))
    lines = result.output.splitlines()
    assert lines[0] == (f"::error file={rel(FAILS)},line=10,col=16,endLine=10,endColumn=22,"
                        f"title=FNL102 unknown-stage::unknown stage `proposl`%0Ahelp: did you mean `proposal`?")
    assert lines[1].startswith(f"::warning file={rel(WARNS)},line=5,col=9,")
    assert result.exit_code == 1


def test_output_file_is_written_whole(cli, tmp_path):
    target = tmp_path / "report.sarif"
    result = cli("lint", "--format", "sarif", "-o", str(target), rel(FAILS))
    assert result.exit_code == 1 and result.output == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_pyproject_settings_are_found_walking_up(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.funnel]\nfail-on = "warning"\n', encoding="utf-8")
    (tmp_path / "funnels" / "deep").mkdir(parents=True)
    spec = tmp_path / "funnels" / "deep" / "sales.funnel"
    spec.write_text(WARNS.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("lint", str(spec)).exit_code == 1
    assert cli("lint", "--fail-on", "error", str(spec)).exit_code == 0, "the command line wins"


def test_pyproject_without_the_table_is_passed_over(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.funnel]\nignore = ["no-sla"]\nfail-on = "warning"\n',
                                             encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    spec = tmp_path / "sub" / "sales.funnel"
    spec.write_text(WARNS.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("lint", str(spec)).exit_code == 0


def test_severity_can_be_changed_in_settings(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.funnel.severity]\nFNL404 = "error"\n', encoding="utf-8")
    spec = tmp_path / "sales.funnel"
    spec.write_text(WARNS.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("lint", str(spec))
    assert result.exit_code == 1 and "error[FNL404]" in result.output


def test_broken_pyproject_is_reported_not_a_crash(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.funnel\nfail-on = "warning"\n', encoding="utf-8")
    spec = tmp_path / "sales.funnel"
    spec.write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("lint", str(spec))
    assert result.exit_code == 1
    assert "error[FNL009] pyproject.toml is not valid TOML" in result.output


def test_stage_suppression_covers_the_whole_stage(cli):
    result = cli("lint", "--fail-on", "warning", rel(LINT / "FNL404" / "near_miss_stage_suppressed.funnel"))
    assert result.exit_code == 0
    assert result.output == "all clean: 1 file checked (2 suppressed)\n"


def test_a_finding_in_a_shared_import_is_reported_once(cli, tmp_path):
    (tmp_path / "base.funnel").write_text(
        'funnel base "База" {\n  fields { budget: money }\n  stage new "Новый лид" { start }\n'
        '  stage won "Успех" { won }\n  stage lost "Отклонено" { lost }\n  new -> won when budget > 0\n'
        '  any -> lost\n}\n', encoding="utf-8")
    for name in ("a", "b"):
        (tmp_path / f"{name}.funnel").write_text(f'import "base.funnel"\nfunnel {name} extends base {{\n}}\n',
                                                 encoding="utf-8")
    report = json.loads(cli("lint", "--format", "json", "--select", "FNL404", str(tmp_path)).output)
    assert [(f["code"], f["span"]["line"]) for f in report["findings"]] == [("FNL404", 3)]
    assert report["summary"]["files"] == 3
