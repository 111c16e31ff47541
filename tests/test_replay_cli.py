"""`funnel simulate`, `funnel sample` and `funnel convert` at the command line: options, errors, outputs."""
from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES

SPEC = EXAMPLES / "security_b2b.funnel"
EVENTS = EXAMPLES / "security_b2b.events.jsonl"


def test_json_and_jsonl_hold_the_same_records(cli):
    whole = json.loads(cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "json").stdout)
    lines = [json.loads(line) for line in
             cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "jsonl").stdout.splitlines()]
    by_kind = {}
    for record in lines:
        by_kind.setdefault(record.pop("record"), []).append(record)
    assert by_kind["outcome"] == whole["outcomes"]
    assert by_kind["action"] == whole["actions"]
    assert by_kind["funnel"] == whole["funnels"]
    assert by_kind["summary"][0]["totals"] == whole["totals"]
    assert whole["funnels"][0]["stages"][0] == {"id": "new", "title": "Новый лид", "kind": "open",
                                                "probability": None, "sla_seconds": 86400, "order": 0,
                                                "side": False}


def test_output_to_a_file_is_the_same_as_stdout(cli, tmp_path):
    target = tmp_path / "result.json"
    printed = cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "json").stdout
    assert cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "json", "-o", str(target)).stdout == ""
    assert target.read_text(encoding="utf-8") == printed


def test_a_report_alongside_the_result(cli, tmp_path):
    result_file, report_file = tmp_path / "result.json", tmp_path / "report.json"
    run = cli("simulate", str(SPEC), "--events", str(EVENTS), "--format", "json", "-o", str(result_file),
              "--report", "json", "--by", "source", "--report-output", str(report_file))
    assert run.exit_code == 0, run.output
    assert json.loads(result_file.read_text(encoding="utf-8"))["totals"]["lines"] == 833
    assert json.loads(report_file.read_text(encoding="utf-8"))


def test_the_report_alone_goes_to_stdout(cli):
    run = cli("simulate", str(SPEC), "--events", str(EVENTS), "--report", "text")
    assert run.exit_code == 0 and not run.stdout.startswith("replayed ")


@pytest.mark.parametrize("args,message", [
    (["--on-error", "stop", "--rejects", "r.txt"], "--rejects needs --on-error skip"),
    (["--until", "soon"], "--until: `soon` is not an ISO 8601 date or date and time"),
    (["--csv-map", "deal"], "--csv-map: `deal` is not KEY=COLUMN"),
])
def test_bad_options_are_named(cli, args, message):
    run = cli("simulate", str(SPEC), "--events", str(EVENTS), *args)
    assert run.exit_code == 2 and message in run.stderr


def test_a_missing_events_file_is_an_io_error(cli, tmp_path):
    run = cli("simulate", str(SPEC), "--events", str(tmp_path / "nope.jsonl"))
    assert run.exit_code == 2 and "nope.jsonl" in run.stderr


def test_a_spec_with_errors_is_not_replayed(cli, tmp_path):
    spec = tmp_path / "bad.funnel"
    spec.write_text("funnel f {\n  stage a { start }\n  a -> nowhere\n}\n", encoding="utf-8")
    run = cli("simulate", str(spec), "--events", str(EVENTS))
    assert run.exit_code == 1 and "nowhere" in run.stderr and run.stdout == ""


def test_sample_is_seeded(cli, tmp_path):
    first = cli("sample", str(SPEC), "--deals", "5", "--seed", "3").stdout
    assert first == cli("sample", str(SPEC), "--deals", "5", "--seed", "3").stdout
    assert first != cli("sample", str(SPEC), "--deals", "5", "--seed", "4").stdout
    events = tmp_path / "s.jsonl"
    events.write_text(first, encoding="utf-8")
    whole = json.loads(cli("simulate", str(SPEC), "--events", str(events), "--format", "json").stdout)
    assert whole["totals"]["deals"] == 5 and whole["totals"]["rejected"] == 0


def test_sample_stays_in_the_range_simulate_reads(cli, tmp_path):
    """Literals at the number limit and far-off dates in a spec: the sample must not write values simulate rejects."""
    spec = tmp_path / "big.funnel"
    spec.write_text("funnel f {\n  fields { n: int = 0  budget: money  due: datetime? }\n"
                    "  stage a { start } stage w { won } stage l { lost }\n"
                    f"  a -> w when n > {'9' * 15} and budget < -{'9' * 15} and due > 2200-12-31\n"
                    "  any -> l\n}\n", encoding="utf-8")
    events = tmp_path / "s.jsonl"
    assert cli("sample", str(spec), "--deals", "60", "-o", str(events)).exit_code == 0
    values = [v for line in events.read_text(encoding="utf-8").splitlines()
              for v in json.loads(line).get("fields", {}).values()]
    assert any(abs(v) == 10 ** 15 - 1 for v in values if isinstance(v, (int, float))), "the literals were picked"
    whole = json.loads(cli("simulate", str(spec), "--events", str(events), "--format", "json").stdout)
    assert whole["totals"]["rejected"] == 0


def test_convert_names_a_missing_column(cli, tmp_path):
    bad = tmp_path / "sales_pipeline.csv"
    bad.write_text("opportunity_id,deal_stage\nX,Won\n", encoding="utf-8")
    run = cli("convert", "crm-opportunities", str(bad))
    assert run.exit_code == 2 and "no column" in run.stderr
