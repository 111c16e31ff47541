"""Funnel figures computed by hand, as data: tests/cases/figures/<name>/ holds spec.funnel, events.jsonl,
expected.json (the figures, worked out by hand from the events) and an optional args.txt (for `funnel report`).

Each case is replayed (`funnel simulate … --format json -o result.json`) and reported from the saved
result (`funnel report result.json`): every figure in expected.json is looked up in the JSON report by
its dotted path (list items by their id, `from->to` or stage), the stage graph's counts are read from
`funnel graph --results`, and the text and HTML reports are snapshots of what users see.
"""
from __future__ import annotations

import json
import shlex
import shutil

import pytest

from conftest import CASES
from funnelspec.api import load
from funnelspec.dsl.render.stage_picture import add_traffic, stage_picture
from funnelspec.engine.parallel import can_fork

CASE_DIRS = sorted(p for p in (CASES / "figures").iterdir() if p.is_dir())
IDS = [p.name for p in CASE_DIRS]


def report_args(folder) -> list[str]:
    args_file = folder / "args.txt"
    return shlex.split(args_file.read_text(encoding="utf-8")) if args_file.exists() else []


@pytest.fixture
def replayed(tmp_path, monkeypatch, cli, request):
    """The case copied to a temporary folder and replayed into result.json there; returns the folder."""
    folder = request.param
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    monkeypatch.chdir(work)
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--format", "json", "-o", "result.json")
    assert result.exit_code == 0, result.output
    return work


def expected(folder) -> dict:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def _item(items: list, key: str):
    for item in items:
        names = {item.get("id"), item.get("stage"), item.get("period"), f"{item.get('from')}->{item.get('to')}"}
        if key in names:
            return item
    raise KeyError(key)


def lookup(data, path: str):
    """A figure by its dotted path; `->` keys name moves, and a list item is found by id, stage or period."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(data, list):
            item = _item(data, part)
            data = item if i < len(parts) - 1 or "count" not in item else item["count"]
        else:
            data = data[part]
    return data


@pytest.mark.parametrize("replayed", CASE_DIRS, ids=IDS, indirect=True)
def test_figures_are_those_computed_by_hand(replayed, cli):
    want = expected(replayed)
    result = cli("report", "result.json", "--report", "json", *report_args(replayed))
    assert result.exit_code == 0, result.output
    funnel = next(f for f in json.loads(result.stdout)["funnels"] if f["id"] == want["funnel"])
    got = {path: lookup(funnel["metrics"], path) for path in want["figures"]}
    assert got == want["figures"]


@pytest.mark.parametrize("replayed", CASE_DIRS, ids=IDS, indirect=True)
def test_the_stage_graph_counts_deals_on_stages_and_moves_on_edges(replayed):
    want = expected(replayed)["graph"]
    spec, diagnostics = load(str(replayed / "spec.funnel"))
    assert spec is not None, diagnostics
    picture = add_traffic(stage_picture(spec.funnels[0]), json.loads((replayed / "result.json").read_text()))
    assert {n.id: n.deals for n in picture.nodes} == want["nodes"]
    edges = {f"{e.source or 'any'}->{e.target}": e.moves for e in picture.edges if e.moves}
    assert edges == want["edges"]


@pytest.mark.parametrize("fmt", ["text", "html"])
@pytest.mark.parametrize("replayed", CASE_DIRS, ids=IDS, indirect=True)
def test_report_snapshot(replayed, fmt, cli, snapshot):
    result = cli("report", "result.json", "--report", fmt, *report_args(replayed))
    assert result.exit_code == 0, result.output
    assert result.stdout == snapshot


@pytest.mark.skipif(not can_fork(), reason="workers are forked processes")
@pytest.mark.parametrize("replayed", CASE_DIRS, ids=IDS, indirect=True)
def test_two_workers_give_the_same_figures(replayed, cli):
    runs = [cli("simulate", "spec.funnel", "--events", "events.jsonl", "--report", "json", "--workers", workers)
            for workers in ("1", "2")]
    assert runs[0].exit_code == 0, runs[0].output
    assert runs[0].stdout == runs[1].stdout
