"""The HTML report is one self-contained page: its parts are there, nothing is fetched, user text is escaped."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from conftest import EXAMPLES
from funnelspec.api import load
from funnelspec.engine.report import render_report
from funnelspec.engine.report.model import build_report
from funnelspec.engine.report.html import render_html
from funnelspec.engine.shape import FunnelShape, StageShape
from outcome_builders import deal, sample_result, security_shape


@pytest.fixture(scope="module")
def page():
    spec, _ = load(str(EXAMPLES / "security_b2b.funnel"))
    return render_report(sample_result(), spec, "html", ("manager",))


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page):
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_nothing_is_fetched_when_the_page_is_viewed(page):
    tags = tags_of(page)
    assert not [t for t in tags if t[0] in ("link", "img", "iframe", "object", "embed")]
    assert not [t for t in tags if t[0] == "script" and "src" in t[1]]
    assert not [t for t in tags if any(k in ("href", "src") for k in t[1])]
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I)
    assert "@import" not in page and "url(" not in page.replace("url(#arrow)", "")


def test_the_charts_and_sections_are_there(page):
    tags = tags_of(page)
    svgs = [a["class"] for t, a in tags if t == "svg"]
    assert svgs == ["chart funnel-chart", "chart stage-graph", "chart time-chart", "chart group-chart"]
    bars = [a for t, a in tags if t == "rect" and "bar-stage" in a.get("class", "")]
    assert [b["data-stage"] for b in bars] == ["Новый лид", "Квалификация", "Встреча/Звонок",
                                                "Коммерческое предложение", "Согласование"]
    widths = [float(b["width"]) for b in bars]
    assert widths == sorted(widths, reverse=True)               # narrowing by reached count
    for heading in ("Diagnosis", "Funnel", "Stage graph", "Time in stage", "Won and lost",
                    "Open pipeline and forecast", "Stuck deals (2 over their stage's SLA)",
                    "By manager: each group against the whole"):
        assert f"<h3>{heading}</h3>" in page.replace("&#x27;", "'")
    assert "↓ 83.3 %" in page                                   # conversion between the first two bars
    assert "@media print" in page
    assert '<meta charset="utf-8">' in page


def test_the_stage_graph_draws_moves_made_and_declared_moves_never_taken(page):
    graph = re.search(r'<svg class="chart stage-graph".*?</svg>', page, re.S).group(0)
    assert graph.count('class="node ') == 7
    assert 'class="edge unused"' in graph                        # e.g. qualification -> lost, declared by `any`
    assert 'class="edge"' in graph
    assert graph.count('class="edge undeclared"') == 1          # D-03 skipped from new to proposal
    assert "reached 12" in graph and "3 entered" in graph


def test_moves_made_but_not_declared_are_marked():
    shape = security_shape()
    outcomes = [deal("jump", ("new", 0, 1), ("negotiation", 1, None))]
    report = build_report(outcomes, [shape], None)
    assert 'class="edge undeclared"' in render_html(report)


def test_user_text_is_escaped():
    shape = security_shape()
    stages = tuple(s if s.id != "new" else type(s)(s.id, "<b>Новый</b> & лид", s.kind, s.probability, s.sla, s.order)
                   for s in shape.stages)
    shape = type(shape)(shape.id, 'Funnel "<script>alert(1)</script>"', shape.currency, shape.value_field, stages,
                        shape.fields, shape.transitions)
    html = render_html(build_report([deal("D<1>", ("new", 0, None), fields={"manager": "<i>x</i>"})], [shape],
                                    None, ("manager",)))
    assert "<script>alert" not in html and "<b>Новый" not in html and "<i>x</i>" not in html
    assert "&lt;b&gt;Новый&lt;/b&gt; &amp; лид" in html


def test_long_funnels_are_drawn_as_a_column_and_short_ones_as_a_row():
    def graph_box(open_count):
        stages = tuple(StageShape(f"s{i}", f"Этап {i}", "open", None, None, i) for i in range(open_count))
        stages += (StageShape("won", "Успех", "won", None, None, open_count),
                   StageShape("lost", "Отказ", "lost", None, None, open_count + 1))
        shape = FunnelShape("long", "Длинная", None, None, stages)
        path = [(f"s{i}", i, i + 1) for i in range(open_count)] + [("won", open_count, None)]
        page = render_html(build_report([deal("D", *path, funnel="long")], [shape], None))
        box = re.search(r'<svg class="chart stage-graph" viewBox="0 0 ([\d.]+) ([\d.]+)"', page)
        return float(box.group(1)), float(box.group(2))

    width, height = graph_box(12)
    assert height > width
    width, height = graph_box(5)
    assert width > height
