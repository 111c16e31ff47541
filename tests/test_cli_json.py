"""`--format json` on the commands whose text output is for people: fmt and test."""
from __future__ import annotations

import json

from conftest import CASES, EXAMPLES


def test_fmt_check_reports_each_file_as_json(cli, tmp_path):
    tidy = tmp_path / "tidy.funnel"
    messy = tmp_path / "messy.funnel"
    broken = tmp_path / "broken.funnel"
    source = "funnel f {\n  stage a { start }\n  stage w { won }\n  stage l { lost }\n  a -> w\n  any -> l\n}\n"
    tidy.write_text(source, encoding="utf-8")
    messy.write_text(source.replace("  a -> w", "a   ->    w"), encoding="utf-8")
    broken.write_text("funnel f {", encoding="utf-8")
    result = cli("fmt", "--check", "--format", "json", str(tidy), str(messy), str(broken))
    report = json.loads(result.stdout)
    assert {f["path"].rsplit("/", 1)[-1]: f["status"] for f in report["files"]} == {
        "tidy.funnel": "unchanged", "messy.funnel": "would change", "broken.funnel": "error"}
    assert report["counts"] == {"unchanged": 1, "changed": 1, "errors": 1}
    assert result.exit_code == 2
    assert messy.read_text(encoding="utf-8") != source, "--check must not write"


def test_fmt_json_refuses_stdin(cli):
    result = cli("fmt", "--format", "json", "-", input="funnel f {}")
    assert result.exit_code == 2
    assert "cannot be combined" in result.stderr


def test_funnel_test_as_json_counts_every_journey(cli):
    result = cli("test", "--format", "json", str(CASES / "journeys" / "failing"))
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["counts"]["failed"] >= 1
    failed = [j for j in report["journeys"] if j["status"] == "failed"]
    assert failed and all(j["problems"] for j in failed)
    passing = cli("test", "--format", "json", str(EXAMPLES / "b2b_basic.funnel-test"))
    assert passing.exit_code == 0
    assert json.loads(passing.stdout)["counts"]["failed"] == 0
