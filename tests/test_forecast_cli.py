"""`funnel fit`, `funnel forecast`, `funnel backtest` at the command line: outputs, seeds, errors."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from forecast_history import DAY, START, draw_paths, history

CASES = Path(__file__).parent / "cases" / "forecast"
SPEC = str(CASES / "known.funnel")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    events = folder / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in history(draw_paths(600, 200, seed=2), START + 200 * DAY)),
                      encoding="utf-8")
    return folder, str(events)


@pytest.fixture(scope="module")
def model(files):
    from click.testing import CliRunner

    from funnelspec.cli import main

    folder, events = files
    path = folder / "model.json"
    run = CliRunner().invoke(main, ["fit", SPEC, "--events", events, "--by", "region", "-o", str(path)])
    assert run.exit_code == 0, run.output
    return str(path)


def test_the_model_follows_its_schema(model):
    schema = json.loads((ROOT / "schemas" / "fit.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(Path(model).read_text(encoding="utf-8")), schema)


def test_fit_text_summary(cli, files, snapshot):
    run = cli("fit", SPEC, "--events", files[1], "--format", "text")
    assert run.exit_code == 0
    assert run.stdout == snapshot


def test_forecast_text_is_what_users_see(cli, files, model, snapshot):
    run = cli("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "30d", "--runs", "500",
              "--seed", "4")
    assert run.exit_code == 0, run.output
    assert run.stdout == snapshot


def test_a_seed_gives_byte_identical_output(cli, files, model):
    args = ("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "45d", "--runs", "800",
            "--format", "json")
    first = cli(*args, "--seed", "7").stdout
    assert cli(*args, "--seed", "7").stdout == first
    assert cli(*args, "--seed", "7", "--workers", "2").stdout == first
    assert cli(*args, "--seed", "8").stdout != first
    data = json.loads(first)
    assert data["won"]["count"]["p10"] <= data["won"]["count"]["p50"] <= data["won"]["count"]["p90"]
    assert [row["group"] for row in data["by_group"]] == ["north", "south"]


def test_forecast_a_changed_spec_on_the_same_behaviour(cli, files, model):
    args = ("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "45d", "--runs", "300",
            "--format", "json")
    plain = json.loads(cli(*args).stdout)
    timed = json.loads(cli(*args, "--spec", str(CASES / "timeout.funnel")).stdout)
    assert timed["won"]["count"]["p50"] < plain["won"]["count"]["p50"]
    assert timed["spec"].endswith("timeout.funnel")


def test_backtest_reports_calibration(cli, files):
    run = cli("backtest", SPEC, "--events", files[1], "--at", "2025-05-01", "--at", "2025-06-01", "--horizon", "30d",
              "--runs", "300", "--format", "json")
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert [c["at"] for c in data["cuts"]] == ["2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z"]
    assert 0 <= data["calibration"]["count"] <= 1
    assert all(c["actual"]["count"] > 0 for c in data["cuts"])


@pytest.mark.parametrize("args,message", [
    (["forecast", SPEC, "--model", "MODEL", "--events", "EVENTS", "--horizon", "soon"],
     "--horizon: `soon` is not a duration such as 90d"),
    (["forecast", SPEC, "--model", "MODEL", "--events", "EVENTS", "--horizon", "0d"],
     "--horizon: `0d` is not between 1 minute and 10 years"),
    (["forecast", SPEC, "--model", "EVENTS", "--events", "EVENTS"], "--model `EVENTS`: not JSON"),
    (["forecast", SPEC, "--model", "SPEC", "--events", "EVENTS"], "not JSON"),
    (["forecast", SPEC, "--model", "NOTAMODEL", "--events", "EVENTS"], 'not a fitted model: "format"'),
    (["forecast", SPEC, "--model", "MISSING", "--events", "EVENTS"], "No such file"),
    (["fit", SPEC, "--events", "EVENTS", "--by", "colour"], "no funnel has a field `colour`"),
    (["backtest", SPEC, "--events", "-"], "give a file, not `-`"),
    (["backtest", SPEC, "--events", "EVENTS", "--at", "someday"], "--at: `someday` is not an ISO 8601 date"),
    (["backtest", SPEC, "--events", "EVENTS", "--horizon", "3000d"], "history is too short"),
    (["fit", SPEC, "--events", "BAD"], "BAD:2: "),
    (["simulate", SPEC, "--events", "EVENTS", "--forecast", "MODEL"], "use it with --report html, text or json"),
    (["simulate", SPEC, "--events", "EVENTS", "--report", "csv", "--forecast", "MODEL"],
     "a csv report cannot carry the forecast"),
    (["simulate", SPEC, "--events", "EVENTS", "--report", "html", "--horizon", "30d"],
     "--horizon shape the forecast: use them with --forecast MODEL"),
    (["simulate", SPEC, "--events", "EVENTS", "--report", "html", "--forecast", "NOTAMODEL"],
     'not a fitted model: "format"'),
    (["simulate", SPEC, "--events", "EVENTS", "--report", "html", "--forecast", "MODEL", "-o", "MODEL"],
     "-o"),
])
def test_errors_are_named_with_exit_2(cli, files, model, tmp_path, args, message):
    folder, events = files
    bad = tmp_path / "bad.jsonl"
    bad.write_text(Path(events).read_text(encoding="utf-8").splitlines()[0] + "\n{oops\n", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}', encoding="utf-8")
    swap = {"MODEL": model, "EVENTS": events, "NOTAMODEL": str(other), "MISSING": str(tmp_path / "none.json"),
            "BAD": str(bad), "SPEC": SPEC}
    run = cli(*[swap.get(a, a) for a in args])
    assert run.exit_code == 2, run.output
    assert message.replace("EVENTS", events).replace("BAD", str(bad)) in run.stderr
    assert "Traceback" not in run.output


def test_a_spec_with_errors_is_exit_1(cli, files, tmp_path):
    spec = tmp_path / "broken.funnel"
    spec.write_text("funnel x { stage a { start } a -> b }\n", encoding="utf-8")
    run = cli("fit", str(spec), "--events", files[1])
    assert run.exit_code == 1 and "error[" in run.stderr


def test_forecast_html_page_has_the_charts(cli, files, model):
    run = cli("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "45d", "--runs", "200",
              "--format", "html")
    assert run.exit_code == 0
    page = run.stdout
    assert page.startswith("<!doctype html>")
    for label in ("deals won by month", "deals won by stage", "deals won by group"):
        assert f'aria-label="{label}"' in page
    assert page.count('class="bar"') == 3 + 2 + 2          # July to September, two stages, two groups


def _report(cli, files, model, fmt: str, *extra: str):
    run = cli("simulate", SPEC, "--events", files[1], "--report", fmt, "--forecast", model, "--horizon", "45d",
              "--runs", "200", "--seed", "3", *extra)
    assert run.exit_code == 0, run.output
    return run.stdout


def test_simulate_html_report_carries_the_forecast_section(cli, files, model, snapshot):
    """The forecast is a section of simulate's own page: after the funnel, with its charts; the page is whole."""
    page = _report(cli, files, model, "html")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    section = re.search(r'<article class="funnel forecast" id="forecast">.*?</article>', page, re.S)
    assert section is not None and page.index('class="funnel"') < section.start() < page.index("</main>")
    for label in ("deals won by month", "deals won by stage", "deals won by group"):
        assert f'aria-label="{label}"' in section.group(0)
    assert section.group(0) == snapshot


def test_simulate_text_and_json_reports_carry_the_forecast(cli, files, model):
    text = _report(cli, files, model, "text")
    assert "\nforecast from 2025-07-19T" in text and "won by the horizon" in text
    data = json.loads(_report(cli, files, model, "json"))
    assert data["forecast"]["horizon_days"] == 45 and data["forecast"]["runs"] == 200
    assert data["forecast"]["uncertainty"]["behaviour_draws"] == 50
    alone = json.loads(cli("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "45d", "--runs",
                           "200", "--seed", "3", "--format", "json").stdout)
    assert data["forecast"] == alone                     # the report's forecast is `funnel forecast`'s


def test_the_interval_sources_can_be_turned_off(cli, files, model):
    args = ("forecast", SPEC, "--model", model, "--events", files[1], "--horizon", "45d", "--runs", "2000",
            "--format", "json")
    full = json.loads(cli(*args).stdout)
    chance = json.loads(cli(*args, "--no-bootstrap", "--no-drift").stdout)
    assert chance["uncertainty"] == {"chance": True, "behaviour_draws": 0, "drift": None}
    assert full["uncertainty"]["behaviour_draws"] == 50 and full["uncertainty"]["drift"]["earlier_cuts_used"]
    width = {name: d["won"]["count"]["p90"] - d["won"]["count"]["p10"] for name, d in
             (("full", full), ("chance", chance))}
    assert width["full"] > width["chance"]
    page = cli(*args[:-2], "--format", "html", "--no-bootstrap", "--no-drift").stdout
    assert "P10–P90 interval carries the runs&#x27; chance alone" in page
