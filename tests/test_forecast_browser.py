"""simulate's HTML report with the forecast section renders in a real browser (headless Chromium).

The helpers (finding Chromium, the error recorder, the DOM dump) are those of
tests/test_browser_report.py; without Chromium the tests skip and say why.
"""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from forecast_history import DAY, START, draw_paths, history
from test_browser_report import PACKAGES, _dom, _find_chromium, _with_recorder
from system_packages import require

pytestmark = pytest.mark.browser

SPEC = "tests/cases/forecast/known.funnel"


@pytest.fixture(scope="module")
def chromium() -> str:
    return require(_find_chromium, PACKAGES, "headless Chromium")


@pytest.fixture(scope="module")
def report_with_forecast(tmp_path_factory) -> str:
    from conftest import ROOT
    from funnelspec.cli import main

    folder = tmp_path_factory.mktemp("forecast-page")
    events, model = folder / "events.jsonl", folder / "model.json"
    events.write_text("".join(json.dumps(e) + "\n" for e in history(draw_paths(600, 200, seed=2), START + 200 * DAY)),
                      encoding="utf-8")
    spec = str(ROOT / SPEC)
    runner = CliRunner()
    assert runner.invoke(main, ["fit", spec, "--events", str(events), "--by", "region", "-o", str(model)]).exit_code == 0
    run = runner.invoke(main, ["simulate", spec, "--events", str(events), "--report", "html", "--forecast", str(model),
                               "--horizon", "45d", "--runs", "300"])
    assert run.exit_code == 0, run.output
    return run.stdout


def test_the_report_with_its_forecast_renders_without_errors(chromium, report_with_forecast, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(_with_recorder(report_with_forecast), encoding="utf-8")
    dom = _dom(chromium, page)
    assert 'data-report-ready="true"' in dom, "the report's script did not run to its end with the forecast added"
    errors = re.search(r'data-errors="([^"]*)"', dom)
    assert errors is None, f"errors in the page: {errors.group(1)}"
    section = re.search(r'<article class="funnel forecast" id="forecast">.*?</article>', dom, re.S)
    assert section is not None, "no forecast section in the rendered page"
    charts = re.findall(r'<svg class="chart"[^>]*aria-label="deals won by (month|stage|group)"', section.group(0))
    assert charts == ["month", "stage", "group"]
    assert section.group(0).count('class="bar"') == 3 + 2 + 2
