"""`funnel graph`: DOT and Mermaid snapshots of every example, traffic from results, SVG and PNG via Graphviz.

Snapshots are single files (`__snapshots__/test_graph/*.dot`, `*.mmd`): open
one with Graphviz or paste it in a ```mermaid block to see what users see.
"""
from __future__ import annotations

import json
import shutil

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import EXAMPLES
from system_packages import require
from funnelspec.api import analyse
from funnelspec.dsl.render.dot import render_dot
from funnelspec.dsl.render.mermaid import render_mermaid
from funnelspec.dsl.render.stage_picture import ResultsError, add_traffic, stage_picture


class DotSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "dot"


class MermaidSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "mmd"


def _example_funnels():
    for path in sorted(EXAMPLES.glob("**/*.funnel")):
        spec = analyse(str(path), lint=False).spec
        for funnel in spec.funnels if spec is not None else ():
            yield pytest.param(funnel, id=f"{path.stem}-{funnel.id}")


EXAMPLE_FUNNELS = list(_example_funnels())


@pytest.mark.parametrize("funnel", EXAMPLE_FUNNELS)
def test_dot_of_every_example(funnel, snapshot):
    assert render_dot(stage_picture(funnel)) == snapshot(extension_class=DotSnapshot)


@pytest.mark.parametrize("funnel", EXAMPLE_FUNNELS)
def test_mermaid_of_every_example(funnel, snapshot):
    assert render_mermaid(stage_picture(funnel)) == snapshot(extension_class=MermaidSnapshot)


def test_examples_exist():
    assert len(EXAMPLE_FUNNELS) >= 1


# What the picture holds -------------------------------------------------------------------------

SPEC = '''funnel sales "Продажи \\"B2B\\" <new>" {
  fields { budget: money  paid: money = 0  segment: text = "" }
  events { payment }
  block "Начало" {
    stage new "Новый лид" { start  sla 1d }
    stage qual "Квалификация" { probability 10% }
  }
  stage won "Успех" { won }
  stage lost "Отказ" { lost }
  new -> qual when segment == "target" and budget > 1_000
  qual -> won when paid >= budget
  qual -> new
  any -> lost because "отказ"
  after 30d in qual: move to lost because "нет ответа"
  on event payment: move to won
}
'''


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "sales.funnel"
    path.write_text(SPEC, encoding="utf-8")
    spec = analyse(str(path), lint=False).spec
    assert spec is not None
    return stage_picture(spec.funnels[0])


def _edges(picture):
    return {(e.source, e.target, e.kind): e for e in picture.edges}


def test_any_edges_are_drawn_once(picture):
    edges = _edges(picture)
    assert (None, "lost", "manual") in edges and edges[(None, "lost", "manual")].label == "«отказ»"
    assert (None, "won", "rule") in edges, "an unscoped rule's move is drawn from `any open stage`"
    assert not [e for e in picture.edges if e.source is not None and e.target == "lost" and e.kind == "manual"]
    assert edges[("qual", "lost", "rule")].label == "after 30d «нет ответа»"
    assert edges[("new", "qual", "automatic")].label == 'segment == "target" and budget > 1_000'
    assert edges[("qual", "new", "manual")].label == ""


def test_dot_escapes_and_marks(picture):
    dot = render_dot(picture)
    assert 'label=<<b>Продажи &quot;B2B&quot; &lt;new&gt;</b>>' in dot
    assert '"new" [fillcolor="#f8fafc", color="#1d4ed8", penwidth="2"' in dot, "start: blue border"
    assert '"__start" -> "new"' in dot
    assert '"won" [fillcolor="#dcfce7", color="#16a34a", peripheries="2"' in dot
    assert '"lost" [fillcolor="#fee2e2", color="#dc2626", peripheries="2"' in dot
    assert '"qual" -> "lost" [color="#b45309", fontcolor="#92400e", style="dashed"' in dot
    assert 'subgraph "cluster_0" {' in dot and 'label=<<i>Начало</i>>' in dot
    assert '{ rank=same; "won"; "lost"; }' in dot


def test_mermaid_escapes_and_marks(picture):
    text = render_mermaid(picture)
    assert 'title: "Продажи #quot;B2B#quot; #lt;new#gt;"' in text
    assert 'new ==>|"segment == #quot;target#quot; and budget #gt; 1_000"| qual' in text
    assert 'qual -.->|"after 30d «нет ответа»"| lost' in text
    assert 'any_stage -->|"«отказ»"| lost' in text
    assert 'won(["Успех<br/>won"]):::won' in text and 'new("Новый лид<br/>new · sla 1d"):::start' in text
    assert 'subgraph block1["Начало"]' in text
    assert text.count("linkStyle") == text.count("-->") + text.count("==>") + text.count("-.->")


def test_mermaid_ids_avoid_reserved_words_and_non_ascii(tmp_path):
    path = tmp_path / "f.funnel"
    path.write_text('funnel f { stage end { start } stage этап { won } stage s1 { lost } end -> этап  end -> s1 }',
                    encoding="utf-8")
    text = render_mermaid(stage_picture(analyse(str(path), lint=False).spec.funnels[0]))
    assert "s2 -->" in text and "--> s3" in text and "--> s1" in text, text
    assert "\n  end(" not in text


# Traffic from a replay's result -------------------------------------------------------------

def _deal(deal, *path, funnel="sales"):
    return {"deal": deal, "funnel": funnel,
            "path": [{"stage": s, "entered": "2026-01-01T00:00:00Z", "left": None, "via": v} for s, v in path]}


RESULTS = {"outcomes": [
    _deal("D1", ("new", "created"), ("qual", "auto"), ("won", "auto")),
    _deal("D2", ("new", "created"), ("qual", "auto"), ("lost", "rule")),
    _deal("D3", ("new", "created"), ("lost", "manual")),
    _deal("D4", ("new", "created"), ("won", "manual")),          # a move the spec has no edge for
    _deal("D5", ("new", "created"), ("qual", "manual"), ("new", "manual"), ("qual", "auto")),
    _deal("X1", ("a", "created"), funnel="other"),
]}


def test_traffic_counts_deals_and_moves(picture):
    add_traffic(picture, RESULTS)
    assert picture.deals == 5
    assert {n.id: n.deals for n in picture.nodes} == {"new": 5, "qual": 3, "won": 2, "lost": 2}
    edges = _edges(picture)
    assert edges[("new", "qual", "automatic")].moves == 4        # three automatic, one by hand along it
    assert edges[("new", "qual", "automatic")].share == pytest.approx(4 / 6)   # `new` was entered 6 times
    assert edges[("qual", "won", "automatic")].traffic == "1 · 25%"
    assert edges[("qual", "lost", "rule")].moves == 1
    assert edges[(None, "lost", "manual")].traffic == "1"
    assert edges[("new", "won", "unexpected")].moves == 1
    assert edges[("qual", "new", "manual")].moves == 1


def test_traffic_is_drawn(picture):
    add_traffic(picture, RESULTS)
    dot = render_dot(picture)
    assert "Продажи" in dot and "— 5 deals" in dot
    assert '"new" -> "won" [color="#dc2626", fontcolor="#dc2626", style="dotted"' in dot
    assert "<b>1 · 25%</b>" in dot
    mermaid = render_mermaid(picture)
    assert 'new -.->|"not in the spec<br/>1 · 17%"| won' in mermaid


@pytest.mark.parametrize("bad, message", [
    ([], "no `outcomes` list"),
    ({"outcomes": [{"deal": "D1"}]}, "outcome 1 has no `path` list"),
    ({"outcomes": [{"deal": "D1", "path": [{"via": "auto"}]}]}, "outcome 1 (deal D1): a path step has no `stage`"),
])
def test_bad_results_are_named(picture, bad, message):
    with pytest.raises(ResultsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_traffic(picture, bad)


# The command ------------------------------------------------------------------------------------

@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "sales.funnel"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_cli_dot_and_mermaid_to_stdout_and_file(cli, spec_file, tmp_path):
    result = cli("graph", str(spec_file))
    assert result.exit_code == 0 and result.stdout.startswith('digraph "sales" {')
    out = tmp_path / "g.mmd"
    result = cli("graph", str(spec_file), "--format", "mermaid", "-o", str(out))
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("---\ntitle:")


def test_cli_with_results(cli, spec_file, tmp_path):
    results = tmp_path / "result.json"
    results.write_text(json.dumps(RESULTS), encoding="utf-8")
    result = cli("graph", str(spec_file), "--results", str(results))
    assert result.exit_code == 0 and "5 deals" in result.stdout


def test_cli_results_errors(cli, spec_file, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    result = cli("graph", str(spec_file), "--results", str(broken))
    assert result.exit_code == 2 and f"{broken}:1:2: not JSON" in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text('{"outcomes": []}', encoding="utf-8")
    result = cli("graph", str(spec_file), "--results", str(empty))
    assert result.exit_code == 0 and "has no deal of funnel `sales`" in result.stderr


def test_cli_several_funnels(cli, tmp_path):
    path = tmp_path / "two.funnel"
    path.write_text(SPEC + SPEC.replace("funnel sales", "funnel other"), encoding="utf-8")
    result = cli("graph", str(path))
    assert result.exit_code == 2 and "has 2 funnels (`sales`, `other`): choose one with --funnel ID" in result.stderr
    assert cli("graph", str(path), "--funnel", "other").stdout.startswith('digraph "other"')
    result = cli("graph", str(path), "--funnel", "nope")
    assert result.exit_code == 2 and "has no funnel `nope`" in result.stderr


def test_cli_spec_with_errors(cli, tmp_path):
    path = tmp_path / "bad.funnel"
    path.write_text("funnel f { stage a { start } a -> b }", encoding="utf-8")
    result = cli("graph", str(path))
    assert result.exit_code == 1 and "unknown stage `b`" in result.stderr and result.stdout == ""


def test_cli_says_how_to_install_graphviz(cli, spec_file, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "g.svg"
    result = cli("graph", str(spec_file), "--format", "svg", "-o", str(out))
    assert result.exit_code == 2
    assert "apt-get install graphviz" in result.stderr and "--format mermaid" in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def graphviz() -> str:
    """Graphviz's `dot`, installed by the set-up where allowed (root or CI), as headless Chromium is."""
    return require(lambda: shutil.which("dot"), ["graphviz"], "Graphviz's `dot`")


def test_svg_through_graphviz(cli, spec_file, tmp_path, graphviz):
    out = tmp_path / "g.svg"
    result = cli("graph", str(spec_file), "--format", "svg", "-o", str(out))
    assert result.exit_code == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Новый лид" in svg and "Квалификация" in svg and "any open stage" in svg


def test_png_through_graphviz(cli, spec_file, tmp_path, graphviz):
    out = tmp_path / "g.png"
    assert cli("graph", str(spec_file), "--format", "png", "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
