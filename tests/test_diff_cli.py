"""`funnel diff` on the command line: formats, exit codes, errors; the structural diff and the threshold grammar."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import CASES
from funnelspec.api import load
from funnelspec.dsl.spec_diff import diff_funnels, stage_renames
from funnelspec.engine.diff_metrics import MetricRow, ThresholdError, evaluate, parse_threshold

CASE = CASES / "diff" / "tightened_criterion"


@pytest.fixture
def work(tmp_path, monkeypatch):
    for name in ("old.funnel", "new.funnel", "events.jsonl"):
        shutil.copy(CASE / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_markdown_plan_fits_a_pull_request_comment(work, cli, snapshot):
    result = cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl", "--format", "markdown")
    assert result.exit_code == 1
    assert "<details><summary>Deals (2 of 2)</summary>" in result.stdout
    assert result.stdout == snapshot


def test_without_events_only_the_structure_and_exit_0(work, cli):
    result = cli("diff", "old.funnel", "new.funnel", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["replay"] is None
    assert [c["what"] for c in data["changes"]["sales"]] == ["transition"]


def test_limit_keeps_the_counts(work, cli):
    data = json.loads(cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl", "--format", "json",
                          "--limit", "1").stdout)
    assert data["replay"]["counts"]["path_changes"] == 2
    assert [d["deal"] for d in data["replay"]["deals"]] == ["B"]


def test_events_from_stdin_and_plan_to_a_file(work, cli):
    text = (work / "events.jsonl").read_text(encoding="utf-8")
    result = cli("diff", "old.funnel", "new.funnel", "--events", "-", "-o", "plan.txt", input=text)
    assert result.exit_code == 1 and result.stdout == ""
    assert "outcomes change for 1 deal(s)" in (work / "plan.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["--fail-if", "win_rate"], "expected NAME OP VALUE"),
    (["--fail-if", "winrate < 2"], "did you mean `win_rate`?"),
    (["--fail-if", "won < 2pp"], "`pp` (percentage points) fits a rate"),
    (["--fail-if", "won < 2d"], "`d` is a time unit"),
    (["--funnel", "salse"], "no funnel `salse` in either spec"),
    (["--until", "yesterday"], "--until: `yesterday`"),
])
def test_bad_options_exit_2(work, cli, args, message):
    result = cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_fail_if_needs_events(work, cli):
    result = cli("diff", "old.funnel", "new.funnel", "--fail-if", "won < 0")
    assert result.exit_code == 2 and "--fail-if needs --events" in result.stderr


def test_a_line_that_is_no_event_exits_2_naming_it(work, cli):
    with open(work / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"deal": "Z"}\n')
    result = cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl")
    assert result.exit_code == 2
    assert "events.jsonl:7:" in result.stderr
    assert result.stdout == ""


def test_a_spec_with_errors_exits_2_not_1(work, cli):
    (work / "new.funnel").write_text("funnel sales { stage a { start } a -> nowhere }\n", encoding="utf-8")
    result = cli("diff", "old.funnel", "new.funnel")
    assert result.exit_code == 2
    assert "`new.funnel` has errors" in result.stderr


def test_a_threshold_that_does_not_trip_exits_0_though_outcomes_change(work, cli):
    result = cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl", "--fail-if", "win_rate < -2%")
    assert result.exit_code == 0
    assert "outcome changes              1" in result.stdout


# the structural diff ---------------------------------------------------------------

def _funnel(text: str, name: str = "x.funnel"):
    spec, diagnostics = load(name, text)
    assert spec is not None, diagnostics
    return spec.funnels[0]


BASE = 'funnel f {{ stage a {{ start }} stage {b} {{ probability 30% }} stage w {{ won }} a -> {b_ref} {b_ref} -> w }}'


def test_a_titled_stage_with_a_new_id_is_a_rename():
    old = _funnel('funnel f { stage a { start } stage b "Встреча" { } stage w { won } a -> b  b -> w }')
    new = _funnel('funnel f { stage a { start } stage meet "Встреча" { } stage w { won } a -> meet  meet -> w }')
    assert stage_renames(old, new) == {"b": "meet"}
    assert [c.describe() for c in diff_funnels(old, new)] == ["renamed stage `b -> meet`"]


def test_an_untitled_stage_renamed_in_its_place_is_a_rename_but_a_changed_one_is_not():
    old = _funnel(BASE.format(b="b", b_ref="b"))
    assert stage_renames(old, _funnel(BASE.format(b="c", b_ref="c"))) == {"b": "c"}
    changed = _funnel(BASE.format(b="c", b_ref="c").replace("30%", "40%"))
    assert stage_renames(old, changed) == {}
    assert {c.change for c in diff_funnels(old, changed) if c.what == "stage"} == {"added", "removed"}


def test_fields_declared_in_another_order_are_no_change():
    old = _funnel("funnel f { fields { a: int = 0  b: text? } stage s { start } }")
    new = _funnel("funnel f { fields { b: text?  a: int = 0 } stage s { start } }")
    assert diff_funnels(old, new) == []


# thresholds ------------------------------------------------------------------------

def _rows():
    return [MetricRow("f", "win_rate", "rate", 0.50, 0.47), MetricRow("f", "won", "count", 10, 9),
            MetricRow("f", "time.meeting", "time", 86400.0, 3 * 86400.0), MetricRow("f", "forecast", "money", 0, 5)]


@pytest.mark.parametrize("text, trips", [
    ("win_rate < -2%", True), ("win_rate < -2pp", True), ("win_rate < -3", False), ("win_rate <= -3%", True),
    ("won < 0", True), ("won < -10%", False), ("won <= -10%", True), ("won != -1", False),
    ("time.meeting > 1d", True), ("time.meeting > 48h", False), ("forecast > 100%", True),
    ("outcome_changes >= 3", True), ("outcome_changes > 3", False),
])
def test_threshold_grammar(text, trips):
    tripped = evaluate([parse_threshold(text)], _rows(), {"outcome_changes": 3})
    assert bool(tripped) is trips


def test_a_threshold_without_an_operator_is_refused():
    with pytest.raises(ThresholdError, match="expected NAME OP VALUE"):
        parse_threshold("win_rate -2%")


def test_funnel_narrows_changes_deals_and_counts(cli):
    from conftest import EXAMPLES

    spec, events = str(EXAMPLES / "routing.funnel"), str(EXAMPLES / "routing.events.jsonl")
    whole = json.loads(cli("diff", spec, spec, "--events", events, "--format", "json").stdout)
    cold = json.loads(cli("diff", spec, spec, "--events", events, "--format", "json", "--funnel", "cold").stdout)
    assert list(cold["changes"]) == ["cold"]
    assert {m["funnel"] for m in cold["replay"]["metrics"]} == {"cold"}
    assert 0 < cold["replay"]["counts"]["deals_replayed"] < whole["replay"]["counts"]["deals_replayed"]
    assert cold["exit"] == whole["exit"] == 0


def test_an_event_whose_data_changed_says_how():
    old = _funnel("funnel f { events { платёж { сумма: money  note: text? } } stage s { start } }")
    new = _funnel("funnel f { events { платёж { сумма: int  канал: text? } } stage s { start } }")
    assert [c.describe() for c in diff_funnels(old, new)] == [
        "changed event `платёж`: data `сумма` money -> int; data `канал: text?` added; data `note` removed"]


def test_a_csv_history_with_a_column_map(cli):
    folder = CASES / "replay" / "csv_input"
    spec = str(folder / "spec.funnel")
    result = cli("diff", spec, spec, "--events", str(folder / "events.csv"), "--format", "json",
                 "--csv-map", "deal=opportunity,ts=when,type=kind,to=stage_to,ignore=notes")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["replay"]["totals"]["applied"] == 4
    assert cli("diff", spec, spec, "--csv-map", "deal=x").exit_code == 2


def test_a_thousand_deals_on_workers_give_the_plan_of_one_process(tmp_path, monkeypatch, cli):
    """The benchmark's funnel with a tightened criterion over 1,000 deals: many deals change on every worker,
    the metrics merge from the workers' aggregates, and the plan is the same bytes (engine/diff_shares.py)."""
    from funnelspec.engine.parallel import can_fork
    from bench.workload import SPEC_TEXT, generate

    if not can_fork():
        pytest.skip("workers are forked processes")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.funnel").write_text(SPEC_TEXT, encoding="utf-8")
    tightened = SPEC_TEXT.replace("new -> qualified when score >= 30", "new -> qualified when score >= 40")
    assert tightened != SPEC_TEXT
    (tmp_path / "new.funnel").write_text(tightened, encoding="utf-8")
    generate(tmp_path / "events.jsonl", 1_000)
    args = ["diff", "old.funnel", "new.funnel", "--events", "events.jsonl", "--format", "json", "--limit", "1000"]
    one = cli(*args, "--workers", "1")
    assert one.exit_code == 1 and json.loads(one.stdout)["replay"]["counts"]["outcome_changes"] > 100
    two = cli(*args, "--workers", "2")
    assert (two.exit_code, two.stdout, two.stderr) == (one.exit_code, one.stdout, one.stderr)


def test_a_line_that_is_no_event_is_reported_alike_on_workers(work, cli):
    with open("events.jsonl", "a", encoding="utf-8") as events:
        events.write('{"id": "x", "deal": "D-9", "ts": "2025-13-40", "type": "updated", "fields": {}}\n{broken\n')
    args = ["diff", "old.funnel", "new.funnel", "--events", "events.jsonl"]
    one = cli(*args, "--workers", "1")
    assert one.exit_code == 2 and "events.jsonl:" in one.stderr
    assert cli(*args, "--workers", "2").stderr == one.stderr


def test_a_time_change_is_the_difference_of_the_figures_shown():
    """`time.prepayment 5.0 d → 9.0 d, +3.9 d` did not add up (issue 23): old, new and change share one unit."""
    from funnelspec.engine.diff_metrics import TIME, MetricRow
    from funnelspec.engine.diff_render import change, figure

    day = 86400
    row = MetricRow("sales", "time.prepayment", TIME, 5.04 * day, 8.96 * day)
    assert (figure(row, row.old), figure(row, row.new), change(row)) == ("5.0 d", "9.0 d", "+4.0 d")
    hours = MetricRow("sales", "time.new", TIME, 1.5 * 3600, 31 * 3600)
    assert (figure(hours, hours.old), figure(hours, hours.new), change(hours)) == ("0.1 d", "1.3 d", "+1.2 d")
    same = MetricRow("sales", "time.new", TIME, 5.01 * day, 5.04 * day)
    assert change(same) == "0"


def test_an_sla_change_reads_as_the_spec_writes_it_and_shows_its_effect(cli, monkeypatch):
    from conftest import CASES

    monkeypatch.chdir(CASES / "diff" / "sla_change")
    text = cli("diff", "old.funnel", "new.funnel", "--events", "events.jsonl").stdout
    assert "probability 50% -> 60%; sla 2d -> 12h" in text
    assert [line.split() for line in text.splitlines() if line.strip().startswith(("over_sla.", "stuck."))] == [
        ["over_sla.proposal", "0", "1", "+1"], ["stuck.proposal", "0", "1", "+1"]]
