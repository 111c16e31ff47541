"""A saved result as input: odd values in it are named (graph --results) or drawn (report --by), never a traceback."""
from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES

SPEC = EXAMPLES / "security_b2b.funnel"


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    from click.testing import CliRunner

    from funnelspec.cli import main

    path = tmp_path_factory.mktemp("result") / "result.json"
    run = CliRunner().invoke(main, ["simulate", str(SPEC), "--events", str(SPEC.with_suffix(".events.jsonl")),
                                    "--format", "json", "-o", str(path)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("via, kind", [([1], "list"), ({"a": 1}, "dict"), (7, "int")])
def test_graph_names_a_path_step_whose_via_is_not_text(cli, result, tmp_path, via, kind):
    changed = json.loads(json.dumps(result))
    changed["outcomes"][0]["path"][1]["via"] = via
    path = tmp_path / "result.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    run = cli("graph", str(SPEC), "--results", str(path))
    assert run.exit_code == 2
    deal = changed["outcomes"][0]["deal"]
    assert run.stderr == (f"error: {path}: outcome 1 (deal {deal}): a path step's `via` is a {kind}, "
                          "not text such as `auto` or `manual`\n")


def test_the_html_report_draws_a_group_whose_value_is_blank_text(cli, result, tmp_path):
    changed = json.loads(json.dumps(result))
    changed["outcomes"][0]["fields"]["manager"] = " "
    path = tmp_path / "result.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    run = cli("report", str(path), "--by", "manager", "--report", "html", "-o", str(tmp_path / "report.html"))
    assert run.exit_code == 0, run.output
    assert ">(blank)</text>" in (tmp_path / "report.html").read_text(encoding="utf-8")
