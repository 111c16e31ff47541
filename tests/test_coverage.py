"""`funnel simulate --coverage`: counts that agree with the replay's own records, and dead automation listed."""
from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from conftest import CASES, EXAMPLES

DEAD = CASES / "explain" / "coverage_dead"
SAMPLES = sorted(p for p in EXAMPLES.glob("*.funnel") if p.with_suffix(".events.jsonl").exists())


def _simulate_with_coverage(cli, spec, events) -> tuple[dict, dict]:
    result = cli("simulate", str(spec), "--events", str(events), "--format", "json", "--coverage", "json",
                 "--coverage-output", "-", "-o", "-")
    assert result.exit_code == 0, result.output
    decoder = json.JSONDecoder()
    replay, end = decoder.raw_decode(result.stdout)
    coverage, _ = decoder.raw_decode(result.stdout[end:].lstrip())
    return replay, coverage


@pytest.mark.parametrize("spec", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_counts_agree_with_paths_and_action_log(spec, cli):
    replay, coverage = _simulate_with_coverage(cli, spec, spec.with_suffix(".events.jsonl"))
    items = coverage["items"]
    visits = Counter((o["funnel"], v["stage"]) for o in replay["outcomes"] for v in o["path"])
    for item in (i for i in items if i["kind"] == "stage"):
        assert item["count"] == visits[item["funnel"], item["name"]], item
    funnel_of = {o["deal"]: o["funnel"] for o in replay["outcomes"]}
    by_label = Counter((funnel_of[a["deal"]], a["rule"]) for a in replay["actions"])
    moves_by_label = Counter((funnel_of[a["deal"]], a["rule"]) for a in replay["actions"] if a["kind"] == "move")
    labels = Counter((i["funnel"], i["name"]) for i in items if i["kind"] == "transition")
    for item in (i for i in items if i["kind"] == "transition" and labels[i["funnel"], i["name"]] == 1):
        assert item["auto"] == moves_by_label[item["funnel"], item["name"]], item
    manual = sum(1 for o in replay["outcomes"] for v in o["path"] if v["via"] == "manual")
    made_anyway = sum(1 for v in replay["violations"] if v["applied"])      # --moves record: no transition
    assert sum(i["manual"] for i in items if i["kind"] == "transition") == manual - made_anyway
    problems = {rule for p in replay["problems"] for rule in p.get("rules", ())}
    spec_rules = _rules_without_moves(spec)
    for item in (i for i in items if i["kind"] in ("rule", "timer")):
        actions = spec_rules.get(item["label"])
        if actions is None or item["label"] in problems:
            continue
            assert item["count"] * actions == by_label[item["funnel"], item["label"]], item


def _rules_without_moves(spec) -> dict[str, int]:
    """Rule label -> number of actions, for rules whose every run records each of its actions."""
    from funnelspec.api import load

    model = load(str(spec))[0]
    return {r.label: len(r.actions) for f in model.funnels for r in f.rules
            if all(a.kind in ("set", "task", "notify") for a in r.actions)}


def test_never_reached_lists_the_rule_the_stream_cannot_fire(cli):
    _, coverage = _simulate_with_coverage(cli, DEAD / "spec.funnel", DEAD / "events.jsonl")
    assert [(n["kind"], n["name"], n["line"]) for n in coverage["never"]] == [
        ("rule", "on event refund", 16), ("timer", "after 2d in proposal when paid > budget", 17)]
    timer = next(i for i in coverage["items"] if i["kind"] == "timer")
    assert timer["due"] == 1 and timer["count"] == 0


def test_text_and_lcov(cli, monkeypatch, tmp_path, snapshot):
    monkeypatch.chdir(DEAD)
    lcov = tmp_path / "spec.lcov"
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--coverage", "--coverage-lcov", str(lcov))
    assert result.exit_code == 0
    text = result.stdout[result.stdout.index("coverage on"):]
    assert text + "--- lcov\n" + lcov.read_text(encoding="utf-8") == snapshot


def test_coverage_cannot_share_stdout_with_a_json_result_nor_read_stdin_twice(cli, monkeypatch):
    monkeypatch.chdir(DEAD)
    mixed = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--format", "json", "--coverage")
    assert mixed.exit_code == 2 and "--coverage-output" in mixed.output
    piped = cli("simulate", "spec.funnel", "--events", "-", "--coverage", input="")
    assert piped.exit_code == 2 and "not stdin" in piped.output


def test_lcov_of_a_funnel_made_by_new_shades_the_template(cli, monkeypatch, tmp_path):
    """A funnel from `funnel new` is all template: its tracefile was empty (issue 23)."""
    monkeypatch.chdir(tmp_path)
    assert cli("new", "sales", "--template", "b2b_classic").exit_code == 0
    monkeypatch.chdir(tmp_path / "sales")
    run = cli("simulate", "sales.funnel", "--events", "sales.events.jsonl", "--coverage-lcov", "cov.lcov")
    assert run.exit_code == 0, run.output
    lcov = (tmp_path / "sales" / "cov.lcov").read_text(encoding="utf-8")
    files = [line[3:] for line in lcov.splitlines() if line.startswith("SF:")]
    assert files and all(os.path.isfile(f) and f.endswith("b2b_classic.funnel") for f in files)
    hit = [line for line in lcov.splitlines() if line.startswith("DA:") and not line.endswith(",0")]
    assert hit
