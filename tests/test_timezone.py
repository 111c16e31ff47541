"""Time zones: `timezone` in the spec, `--tz` on the reports; periods cut and times shown at local midnight.

The case folder tests/cases/figures/moscow_midnight has a deal created, and one won, just after midnight
in Moscow and so in April there but in March in UTC; its figures in Moscow time are in expected.json
(tests/test_figures_cases.py). Here the same replay is reported in UTC, cut by --since, and the setting is
parsed, formatted, exported and checked.
"""
from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import CASES
from funnelspec.api import analyse, load
from funnelspec.dsl.export import funnel_to_json
from funnelspec.dsl.format import format_text
from funnelspec.engine.cohorts import cohort_label
from funnelspec.engine.report import units

CASE = CASES / "figures" / "moscow_midnight"
SPEC = """funnel sales {{
  timezone {zone}
  stage new {{ start }}
  stage won {{ won }}
  stage lost {{ lost }}
  new -> won
  any -> lost
}}
"""


@pytest.fixture
def saved(tmp_path, monkeypatch, cli):
    shutil.copytree(CASE, tmp_path / "case")
    monkeypatch.chdir(tmp_path / "case")
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--format", "json", "-o", "result.json")
    assert result.exit_code == 0, result.output
    return tmp_path / "case" / "result.json"


def report_json(cli, *args: str) -> dict:
    result = cli("report", "result.json", "--report", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def trend_points(data: dict) -> dict:
    return {p["period"]: (p["won"], p["lost"]) for p in data["funnels"][0]["metrics"]["trend"]["points"]}


def cohort_sizes(data: dict) -> dict:
    return {g["key"]["cohort:month"]: g["metrics"]["deals"]["total"] for g in data["funnels"][0]["groups"]}


def test_the_spec_zone_cuts_months_at_moscow_midnight_and_tz_overrides_it(saved, cli):
    moscow = report_json(cli, "--trend", "month", "--cohort", "month")
    assert moscow["timezone"] == "Europe/Moscow"
    assert trend_points(moscow) == {"2026-03": (1, 0), "2026-04": (1, 1)}
    assert cohort_sizes(moscow) == {"2026-03": 2, "2026-04": 1}
    utc = report_json(cli, "--trend", "month", "--cohort", "month", "--tz", "UTC")
    assert utc["timezone"] == "UTC"
    assert trend_points(utc) == {"2026-03": (2, 0), "2026-04": (0, 1)}
    assert cohort_sizes(utc) == {"2026-03": 3}


def test_since_a_date_is_local_midnight(saved, cli):
    assert report_json(cli, "--since", "2026-04-01")["funnels"][0]["metrics"]["deals"]["total"] == 1
    assert report_json(cli, "--since", "2026-04-01", "--tz", "UTC")["funnels"][0]["metrics"]["deals"]["total"] == 0
    # an offset written in the value is honoured whatever the zone
    assert report_json(cli, "--since", "2026-03-31T21:30:00Z")["funnels"][0]["metrics"]["deals"]["total"] == 1


def test_the_text_report_shows_local_times(saved, cli):
    result = cli("report", "result.json")
    assert "as of 2026-04-02 10:00 Europe/Moscow" in result.stdout
    result = cli("report", "result.json", "--tz", "Asia/Yekaterinburg")
    assert "as of 2026-04-02 12:00 Asia/Yekaterinburg" in result.stdout


def test_simulate_takes_tz_with_its_report(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(CASE)
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--report", "json", "--trend", "month",
                 "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert trend_points(json.loads(result.stdout)) == {"2026-03": (2, 0), "2026-04": (0, 1)}
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--tz", "UTC")
    assert result.exit_code == 2
    assert "use them with --report" in result.output


@pytest.mark.parametrize("command", ["report", "simulate"])
def test_an_unknown_tz_is_a_usage_error_with_a_did_you_mean(saved, cli, command):
    args = (["report", "result.json"] if command == "report"
            else ["simulate", "spec.funnel", "--events", "events.jsonl", "--report", "text"])
    result = cli(*args, "--tz", "Europe/Mosow")
    assert result.exit_code == 2
    assert "unknown time zone `Europe/Mosow`" in result.output
    assert "did you mean `Europe/Moscow`?" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_zone_in_the_spec_is_fnl113_at_the_name(tmp_path):
    path = tmp_path / "sales.funnel"
    path.write_text(SPEC.format(zone="Europe/Mosow"), encoding="utf-8")
    analysis = analyse(str(path))
    [problem] = [d for d in analysis.diagnostics if d.code == "FNL113"]
    assert (problem.span.line, problem.span.column) == (2, 12)
    assert problem.message == "unknown time zone `Europe/Mosow`"
    assert problem.hint == "did you mean `Europe/Moscow`?"
    assert analysis.spec is None


@pytest.mark.parametrize("written, name", [
    ("Europe/Moscow", "Europe/Moscow"),
    ('"America/Port-au-Prince"', "America/Port-au-Prince"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("Etc/GMT-3", "Etc/GMT-3"),
    ("UTC", "UTC"),
])
def test_a_zone_is_read_formatted_and_exported(tmp_path, written, name):
    path = tmp_path / "sales.funnel"
    path.write_text(SPEC.format(zone=written), encoding="utf-8")
    spec, diagnostics = load(str(path))
    assert spec is not None, diagnostics
    assert spec.funnels[0].timezone == name
    assert funnel_to_json(spec.funnels[0])["timezone"] == name
    formatted, problems = format_text(path.read_text(encoding="utf-8"))
    assert not problems
    assert f"  timezone {name}\n" in formatted


def test_a_funnel_without_a_zone_is_utc(tmp_path):
    path = tmp_path / "sales.funnel"
    path.write_text(SPEC.format(zone="UTC").replace("  timezone UTC\n", ""), encoding="utf-8")
    spec, _ = load(str(path))
    assert spec.funnels[0].timezone is None
    assert funnel_to_json(spec.funnels[0])["timezone"] is None


def test_periods_and_dates_in_a_zone():
    late = 1774992600.0           # 2026-03-31T21:30:00Z, 00:30 on 1 April in Moscow
    assert cohort_label(late, "month") == "2026-03"
    assert cohort_label(late, "month", "Europe/Moscow") == "2026-04"
    assert cohort_label(late, "quarter", "Europe/Moscow") == "2026-Q2"
    assert units.date(late) == "2026-03-31 21:30 UTC"
    assert units.date(late, "Europe/Moscow") == "2026-04-01 00:30 Europe/Moscow"
    assert units.date(late - 30 * 60, "Europe/Moscow") == "2026-04-01"


def test_a_trace_shows_its_times_in_the_funnels_zone(cli, tmp_path, monkeypatch):
    shutil.copytree(CASE, tmp_path / "case")
    monkeypatch.chdir(tmp_path / "case")
    spec = (tmp_path / "case" / "spec.funnel")
    spec.write_text(spec.read_text(encoding="utf-8").replace('{ start }', '{ start  after 2h: task "позвонить" }'),
                    encoding="utf-8")
    moscow = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D2")
    assert moscow.exit_code == 0, moscow.output
    assert "2026-04-01T00:30:00+03:00  line 4: created" in moscow.stdout
    assert 'timer `after 2h in new: task "позвонить"` starts, due 2026-04-01T02:30:00+03:00' in moscow.stdout
    assert not re.search(r"\dZ", moscow.stdout)        # no time left in UTC
    utc = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D2", "--tz", "UTC")
    assert "2026-03-31T21:30:00+00:00  line 4: created" in utc.stdout
    as_json = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D2", "--format", "json")
    assert json.loads(as_json.stdout)["steps"][0]["time"] == "2026-03-31T21:30:00Z"
    bad = cli("explain", "spec.funnel", "--events", "events.jsonl", "--deal", "D2", "--tz", "Europe/Mosow")
    assert bad.exit_code == 2 and "did you mean `Europe/Moscow`?" in bad.output
