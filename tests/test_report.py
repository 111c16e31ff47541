"""The text, JSON and CSV reports of a hand-made replay result: snapshots of what users see, and their rules."""
from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import EXAMPLES
from funnelspec.api import load
from funnelspec.engine.outcome import ReplayResult
from funnelspec.engine.report import render, render_report
from funnelspec.engine.report.model import build_report
from funnelspec.engine.shape import FunnelShape, StageShape
from outcome_builders import deal, sample_result

SPEC_PATH = str(EXAMPLES / "security_b2b.funnel")


@pytest.fixture(scope="module")
def spec():
    model, diagnostics = load(SPEC_PATH)
    assert model is not None, [d.message for d in diagnostics]
    return model


def test_text_report(spec, snapshot):
    assert render_report(sample_result(), spec, "text", ("manager",)) == snapshot


def test_json_report(spec, snapshot):
    text = render_report(sample_result(), spec, "json", ("manager",))
    assert text == snapshot
    data = json.loads(text)
    assert (data["schema_version"], data["kind"], data["by"]) == (2, "funnel-report", ["manager"])
    metrics = data["funnels"][0]["metrics"]
    assert metrics["deals"] == {"total": 12, "open": 4, "won": 3, "lost": 5, "reopened": 0, "never_open": 0,
                                "lost_again": 0, "skipped": 0}
    assert metrics["win_rate"] == 3 / 8
    assert metrics["won"]["value_total"] == 570_000 and metrics["won"]["without_value"] == 1
    # D-03 went from new straight to proposal: it entered neither qualification nor meeting
    assert [s["reached"] for s in metrics["stages"]] == [12, 9, 7, 7, 5]
    assert [s["passed"] for s in metrics["stages"]] == [10, 7, 6, 5, 3]


@pytest.mark.parametrize("by", [(), ("manager",), ("manager", "source")])
def test_text_fits_80_columns(spec, by):
    text = render_report(sample_result(), spec, "text", by)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b[" not in text


def test_text_in_color_for_a_terminal(spec):
    text = render_report(sample_result(), spec, "text", color=True)
    assert "\x1b[1m" in text


def test_csv_long_format(spec):
    text = render_report(sample_result(), spec, "csv", ("manager",))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["funnel", "group", "section", "key", "metric", "value"]
    cells = {tuple(r[:5]): r[5] for r in rows[1:]}
    assert cells[("security", "", "summary", "", "win_rate")] == "0.375"
    assert cells[("security", "", "stage", "proposal", "reached")] == "7"
    assert cells[("security", "", "stage", "proposal", "time_in_stage_seconds.median")] == str(3 * 86400.0)
    assert cells[("security", "manager=Иванова", "summary", "", "deals.won")] == "2"
    assert cells[("security", "", "lost_by_reason", "нет ответа", "count")] == "2"
    assert cells[("security", "", "flow", "->new", "count")] == "12"
    assert all(len(r) == 6 for r in rows)


def test_every_format_of_an_empty_result(spec):
    empty = ReplayResult(spec=SPEC_PATH, until=None)
    assert "No deals: nothing to measure." in render_report(empty, spec, "text")
    data = json.loads(render_report(empty, spec, "json"))
    assert data["funnels"][0]["metrics"]["win_rate"] is None
    assert render_report(empty, spec, "csv").startswith("funnel,group,section,key,metric,value\n")
    assert "No deals" in render_report(empty, spec, "html")


def test_a_funnel_with_no_open_stage_still_reports():
    shape = FunnelShape("t", "Только итоги", None, None, (StageShape("won", "Успех", "won", None, None, 0),
                                                           StageShape("lost", "Отказ", "lost", None, None, 1)))
    report = build_report([deal("a", ("won", 0, None), funnel="t"), deal("b", ("lost", 0, None), funnel="t")],
                          [shape], None)
    assert "win rate 50.0 %" in render(report, "text")
    assert json.loads(render(report, "json"))["funnels"][0]["metrics"]["deals"]["never_open"] == 1
    assert "Только итоги" in render(report, "html") and render(report, "csv")


def test_output_is_byte_identical_run_to_run(spec):
    for fmt in ("text", "json", "csv", "html"):
        assert render_report(sample_result(), spec, fmt, ("source",)) == \
            render_report(sample_result(), spec, fmt, ("source",))


@pytest.mark.parametrize("fmt, by, message", [
    ("pdf", (), "unknown report format `pdf`; one of: text, json, csv, html"),
    ("text", ("region",), "funnel `security` has no field `region` to group by"),
])
def test_bad_arguments_are_named(spec, fmt, by, message):
    with pytest.raises(ValueError, match=message):
        render_report(sample_result(), spec, fmt, by)
